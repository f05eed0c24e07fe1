//! Fresh per-test directories: removed when the test passes, kept (path printed) on failure.

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crate::env::{self, KeepPolicy};
use crate::error::IoContext;
use crate::wait::{self, Mode};
use crate::{lockdir, sys, Error};

/// A fresh directory, `<root>/tmp/<test>-<name>-<random>` (`<test>-<random>` for the binding
/// `tmpdir`), owned by one test. The names are cut to 24 bytes in all, so that a Unix socket
/// fits inside: under the default root, `/tmp/isolate-<uid>`, a path in it may have a last
/// component of 24 bytes within the 107 of `sun_path` (where the temp dir is long, as macOS's
/// `$TMPDIR`, set `ISOLATE_DIR` to a short path for that).
///
/// It is removed when the last handle drops, unless the test failed (a panic, or an `Err`
/// seen by the guard) or `ISOLATE_KEEP_TMPDIR` says otherwise (`on-failure`, the default;
/// `always`; `never`). A kept directory's path is printed to stderr, so it shows in the failed
/// test's output. Kept directories older than `ISOLATE_KEEP_DAYS` (default 7) are pruned when
/// a process first creates a temp dir, at most once an hour on the machine (so a kept directory
/// may outlive that age by an hour); [`prune_kept_dirs`] does it on demand. A directory whose
/// test is still running is never pruned, whatever its timestamps: its handle holds a lock on
/// it that pruning respects.
///
/// # Removal
///
/// Removal never follows a symlink inside the directory: what one points at is left as it is.
/// Directories the test made read-only (or unlistable) are made writable again to be removed.
/// What still cannot be removed (an immutable file, a mount point) is named on stderr with the
/// directory's path, which stays; the test's outcome is unchanged. A test that removed or
/// renamed its own directory leaves nothing to say.
///
/// # Clones
///
/// Cloning gives another handle to the same directory, with one fate: [`keep`](TmpDir::keep)
/// on any handle keeps the directory for all of them (the guard's handle included), and
/// [`close`](TmpDir::close) on any handle removes it at once for all of them.
///
/// # Resource leaking
///
/// Like tempfile's `TempDir`, removal happens in `Drop`, which never runs when the process is
/// killed (SIGKILL, a runner's timeout, `std::process::exit`, an abort). Such a directory stays
/// until it is older than `ISOLATE_KEEP_DAYS` and a later run prunes it (or
/// [`prune_kept_dirs`] does). Its lock dies with the process, so nothing else stays held.
///
/// # Examples
///
/// ```
/// let dir = isolate_runtime::TmpDir::new()?;
/// std::fs::write(dir.join("config.toml"), "port = 0").unwrap();
/// assert!(dir.path().join("config.toml").is_file());
/// let path = dir.path().to_owned();
/// drop(dir);
/// assert!(!path.exists());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TmpDir {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    test: String,
    /// Set when the outcome is known; until then a panic in flight counts as a failure.
    outcome: OnceLock<bool>,
    keep: AtomicBool,
    /// Removed already, by [`TmpDir::close`].
    closed: AtomicBool,
    policy: KeepPolicy,
    /// The directory itself, share-locked while the test lives: pruning skips what it cannot
    /// lock exclusively.
    _lock: File,
}

impl TmpDir {
    /// A fresh directory for use without the attribute, named after the current thread (the
    /// test's name under `cargo test`).
    ///
    /// # Errors
    ///
    /// Fails when the isolate directory is refused or the directory cannot be created.
    pub fn new() -> Result<Self, Error> {
        let thread = std::thread::current();
        Self::for_test(thread.name().unwrap_or("tmpdir"), "tmpdir")
    }

    /// A fresh directory for binding `name` of test `test`.
    ///
    /// # Errors
    ///
    /// Fails when the isolate directory is refused, `ISOLATE_KEEP_TMPDIR` or
    /// `ISOLATE_KEEP_DAYS` is malformed, or the directory cannot be created.
    pub fn for_test(test: &str, name: &str) -> Result<Self, Error> {
        let policy = env::keep_policy()?;
        let keep_days = env::keep_days()?;
        let parent = lockdir::subdir("tmp")?;
        prune_once(&parent, keep_days);
        let (path, lock) = create_locked(&parent, &label(test, name))?;
        Ok(TmpDir {
            inner: Arc::new(Inner {
                path,
                test: test.to_owned(),
                outcome: OnceLock::new(),
                keep: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                policy,
                _lock: lock,
            }),
        })
    }

    /// The directory's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// `self.path().join(relative)`.
    #[must_use]
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.inner.path.join(relative)
    }

    /// Keeps the directory whatever the outcome, and returns its path. Every handle to it
    /// shares this: the directory outlives them all.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = isolate_runtime::TmpDir::new()?;
    /// let kept = dir.clone().keep();
    /// drop(dir); // the last handle: the directory stays
    /// assert!(kept.is_dir());
    /// # std::fs::remove_dir(kept).unwrap();
    /// # Ok::<(), isolate_runtime::Error>(())
    /// ```
    #[must_use = "the directory is kept; the path is the only way to find it"]
    pub fn keep(self) -> PathBuf {
        self.inner.keep.store(true, Ordering::Relaxed);
        self.inner.path.clone()
    }

    /// Removes the directory now, whatever the outcome and the keep policy, and reports what
    /// `Drop` would swallow. Every handle to it shares this: none of them removes or keeps it
    /// afterwards.
    ///
    /// # Errors
    ///
    /// Fails when the directory or something inside it cannot be removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = isolate_runtime::TmpDir::new()?;
    /// let path = dir.path().to_owned();
    /// dir.close().unwrap();
    /// assert!(!path.exists());
    /// # Ok::<(), isolate_runtime::Error>(())
    /// ```
    pub fn close(self) -> io::Result<()> {
        self.inner.closed.store(true, Ordering::Relaxed);
        remove_all(&self.inner.path)
    }

    /// Marks the owning test as failed: the directory is then kept under the default policy.
    pub fn mark_failed(&self) {
        self.set_outcome(true);
    }

    /// Records the test's outcome once; the first record wins (an `Err` seen by `finish`
    /// before the guard drops).
    pub(crate) fn set_outcome(&self, failed: bool) {
        let _ = self.inner.outcome.set(failed);
    }
}

impl AsRef<Path> for TmpDir {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

/// The path, as [`Path::display`] shows it.
impl fmt::Display for TmpDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.path().display().fmt(f)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let failed = self
            .outcome
            .get()
            .copied()
            .unwrap_or_else(std::thread::panicking);
        let keep = self.keep.load(Ordering::Relaxed)
            || match self.policy {
                KeepPolicy::OnFailure => failed,
                KeepPolicy::Always => true,
                KeepPolicy::Never => false,
            };
        if !keep {
            match remove_all(&self.path) {
                // Gone already: the test removed or renamed it itself.
                Err(e) if e.kind() != io::ErrorKind::NotFound => eprintln!(
                    "isolate: cannot remove the temp dir of test `{}`: {}: {e}; what is left \
                     there stays until you remove it",
                    self.test,
                    self.path.display()
                ),
                _ => {}
            }
        } else if failed {
            eprintln!(
                "isolate: kept the temp dir of failed test `{}`: {}",
                self.test,
                self.path.display()
            );
        }
    }
}

/// A new directory `<parent>/<label>-<random>`, share-locked for as long as its test lives.
/// Made again, under a new name, when it or its parent is removed before it is locked (a temp
/// cleaner, `rm -rf` of the isolate directory while tests run): a race, not an error.
fn create_locked(parent: &Path, label: &str) -> Result<(PathBuf, File), Error> {
    let mut tries = 0;
    loop {
        let path = parent.join(format!("{label}-{}", lockdir::unique_name()));
        match create_once(parent, &path) {
            Err(e) if tries < lockdir::RECREATE_TRIES && lockdir::is_not_found(&e) => tries += 1,
            created => return created.map(|lock| (path, lock)),
        }
    }
}

fn create_once(parent: &Path, path: &Path) -> Result<File, Error> {
    // A fresh name in a validated directory: one `mkdir`, nothing to check afterwards.
    let created = match sys::create_private_dir(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // The parent was removed since we validated it (a temp cleaner): recreate it
            // owner-only. Asked only then, not before every test.
            lockdir::open_private_dir(parent)?;
            sys::create_private_dir(path)
        }
        created => created,
    };
    created.context_in_dir(|| format!("cannot create the temp dir `{}`", path.display()))?;
    lock_fresh(path).map_err(|e| {
        // Nobody else knows its name: left, it would stay until pruned, days later.
        let _ = fs::remove_dir(path);
        e
    })
}

/// Share-locks the brand-new directory `path`.
fn lock_fresh(path: &Path) -> Result<File, Error> {
    let what = || format!("cannot lock the temp dir `{}`", path.display());
    let lock = sys::open_dir(path).context_in_dir(what)?;
    // Only a prune that found this brand-new directory old could hold it: never, in practice.
    if !wait::try_lock(&lock, Mode::Shared).context(what)? {
        return Err(Error::refused(format!("{}: a prune holds it", what())));
    }
    Ok(lock)
}

/// Removes `path` and everything in it, as [`fs::remove_dir_all`] does (which never follows a
/// symlink inside), also when the test left directories it cannot write into or list (a test
/// of permission errors): those are made owner-only writable and the removal is tried again.
fn remove_all(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            make_writable(path);
            fs::remove_dir_all(path)
        }
        done => done,
    }
}

/// Gives `path` and every directory below it mode 0700, never through a symlink: each is
/// `lstat`ed as a directory before its `chmod`, and only the test's own leftovers (its threads
/// or children, in its owner-only directory) could swap one for a symlink in between.
fn make_writable(path: &Path) {
    let mut dirs = vec![path.to_owned()];
    while let Some(dir) = dirs.pop() {
        let is_dir = fs::symlink_metadata(&dir).is_ok_and(|meta| meta.is_dir());
        if !is_dir || fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).is_err() {
            continue;
        }
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        dirs.extend(
            entries
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.path()),
        );
    }
}

/// The longest label a directory's name starts with. A Unix socket's path has at most 107
/// bytes (`sun_path`), and `tmpdir` is where a test puts one: with the 33 bytes of the random
/// suffix and the default `/tmp/isolate-<uid>/tmp/`, this leaves at least 25 bytes for the
/// socket's own name.
const LABEL_MAX: usize = 24;

/// The longest part of the label a binding's name (`tmpdir(data)`) takes.
const BINDING_MAX: usize = 8;

/// What a temp dir's name starts with: the start of the test's name, then the binding's, if
/// not the default one, in at most [`LABEL_MAX`] bytes.
fn label(test: &str, name: &str) -> String {
    // `sanitize` leaves ASCII only, so any cut is on a character boundary.
    let mut test = sanitize(test);
    if name == "tmpdir" {
        test.truncate(LABEL_MAX);
        return test;
    }
    let mut name = sanitize(name);
    name.truncate(BINDING_MAX);
    test.truncate(LABEL_MAX - 1 - name.len());
    format!("{test}-{name}")
}

/// `crate::tests::name` -> `crate.tests.name`; anything outside `[A-Za-z0-9_.-]` becomes `_`
/// (one per character); at most 120 bytes, without leading dots.
///
/// One pass over the bytes: it runs for every temp dir, in the unoptimised build tests use,
/// where a chain of `replace`, `chars().map().collect()` and `trim_start_matches` cost a few
/// microseconds per test.
fn sanitize(text: &str) -> String {
    const MAX: usize = 120;
    let bytes = text.as_bytes();
    let mut clean = String::with_capacity(bytes.len().min(MAX));
    let mut leading_dots = 0;
    let mut i = 0;
    while i < bytes.len() && clean.len() < MAX {
        let byte = bytes[i];
        i += 1;
        let c = if byte == b':' && bytes.get(i) == Some(&b':') {
            i += 1;
            '.'
        } else if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-') {
            char::from(byte)
        } else if byte & 0xC0 == 0x80 {
            continue; // inside a multi-byte character, already replaced at its first byte
        } else {
            '_'
        };
        if c == '.' && leading_dots == clean.len() {
            leading_dots += 1;
        }
        clean.push(c);
    }
    // Leading dots (a hidden name) go, after they counted towards the 120 bytes.
    clean.drain(..leading_dots);
    clean
}

/// How often, machine-wide, kept temp dirs are looked at. A look lists and stats every kept
/// directory, and under a process per test (nextest) every test's process would pay it; a
/// kept directory outlives its `ISOLATE_KEEP_DAYS` by this much at most.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Remembers, by its modification time, when a process last pruned `tmp/`.
const PRUNED_MARKER: &str = ".pruned";

/// Prunes at most once per process, on the first temp dir, and only when no process did in the
/// last [`PRUNE_EVERY`].
fn prune_once(parent: &Path, older_than: Option<Duration>) {
    static PRUNED: AtomicBool = AtomicBool::new(false);
    if let Some(older_than) = older_than {
        if !PRUNED.swap(true, Ordering::Relaxed) && claim_prune(parent) {
            let _ = prune_in(parent, older_than);
        }
    }
}

/// Whether a prune of `parent` is due; if so, marks it done now, so that the processes starting
/// meanwhile skip it. Two that both find it due both prune, which is safe.
fn claim_prune(parent: &Path) -> bool {
    let marker = parent.join(PRUNED_MARKER);
    // Only a file of ours claims: a symlink in its place is neither read nor written through.
    // A time in the future (a clock set back) claims nothing either.
    let recent = fs::symlink_metadata(&marker).is_ok_and(|meta| {
        meta.is_file()
            && meta
                .modified()
                .is_ok_and(|modified| modified.elapsed().is_ok_and(|since| since < PRUNE_EVERY))
    });
    if recent {
        return false;
    }
    // A write renews the modification time; failing only means the next process prunes too.
    if let Ok(file) = sys::open_record_file(&marker) {
        let _ = file.write_all_at(b"the last prune of kept temp dirs\n", 0);
    }
    true
}

/// Removes kept temp dirs older than `older_than` from the isolate directory, and returns how
/// many were removed. Only directories named the way [`TmpDir`] names them are touched.
///
/// # Errors
///
/// Fails when the isolate directory is refused or cannot be listed.
///
/// # Examples
///
/// ```
/// // Clear out everything kept more than a day ago.
/// let removed = isolate_runtime::prune_kept_dirs(std::time::Duration::from_secs(86_400))?;
/// println!("removed {removed} old temp dirs");
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn prune_kept_dirs(older_than: Duration) -> Result<usize, Error> {
    prune_in(&lockdir::subdir("tmp")?, older_than)
}

fn prune_in(parent: &Path, older_than: Duration) -> Result<usize, Error> {
    let cutoff = SystemTime::now()
        .checked_sub(older_than)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for entry in fs::read_dir(parent)
        .context(|| format!("cannot list `{}`", parent.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.len() >= 33
            && name.as_bytes()[name.len() - 33] == b'-'
            && name[name.len() - 32..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit());
        if !ours {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let old = meta.modified().is_ok_and(|modified| modified < cutoff);
        if !(meta.is_dir() && old) {
            continue;
        }
        // A live test share-locks its directory: skip what we cannot lock, and hold the lock
        // while removing, so no test can start using it meanwhile.
        let Ok(lock) = sys::open_dir(&entry.path()) else {
            continue;
        };
        if wait::try_lock(&lock, Mode::Exclusive).unwrap_or(false)
            && remove_all(&entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept directory of `parent` whose modification time is `age` ago.
    fn kept_dir(parent: &Path, age: Duration) -> PathBuf {
        let path = parent.join(format!("old_test-{}", lockdir::unique_name()));
        fs::create_dir(&path).unwrap();
        sys::set_modified(&File::open(&path).unwrap(), SystemTime::now() - age);
        path
    }

    #[test]
    fn a_prune_is_claimed_once_per_interval_machine_wide() {
        let parent = tempfile::tempdir().unwrap();
        let week = Duration::from_secs(7 * 86_400);
        let first = kept_dir(parent.path(), week * 2);
        assert!(claim_prune(parent.path()), "no prune yet: one is due");
        assert!(!claim_prune(parent.path()), "just claimed: not due again");

        // Another process's fresh claim: this one neither prunes nor even looks.
        let marker = parent.path().join(PRUNED_MARKER);
        assert!(marker.is_file());
        assert!(!claim_prune(parent.path()));
        assert!(first.is_dir());

        // A claim older than the interval: due again, and the old directory goes.
        sys::set_modified(
            &File::open(&marker).unwrap(),
            SystemTime::now() - PRUNE_EVERY - Duration::from_secs(60),
        );
        assert!(claim_prune(parent.path()));
        assert_eq!(prune_in(parent.path(), week).unwrap(), 1);
        assert!(!first.exists());
        assert!(marker.is_file(), "the marker is not a kept dir");
    }

    /// A symlink in the marker's place (planted, or left by a tool) is not written through:
    /// the file it points to is untouched, and pruning is due (nothing of ours claims it).
    #[test]
    fn a_prune_claim_never_writes_through_a_symlink() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("precious");
        fs::write(&target, "precious").unwrap();
        std::os::unix::fs::symlink(&target, parent.path().join(PRUNED_MARKER)).unwrap();
        assert!(claim_prune(parent.path()));
        assert!(claim_prune(parent.path()), "a symlink claims nothing");
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
    }

    /// A claim stamped in the future (a clock set back since) does not hold pruning off until
    /// then: it is due, and renewed to now.
    #[test]
    fn a_prune_claim_from_the_future_is_renewed() {
        let parent = tempfile::tempdir().unwrap();
        assert!(claim_prune(parent.path()));
        let marker = File::open(parent.path().join(PRUNED_MARKER)).unwrap();
        sys::set_modified(&marker, SystemTime::now() + Duration::from_secs(86_400));
        assert!(claim_prune(parent.path()));
        assert!(!claim_prune(parent.path()));
    }

    /// A test whose name sanitizes to nothing (all dots, or a nameless helper thread's `""`)
    /// gets `-<random>`: still one of ours, pruned when old.
    #[test]
    fn a_dir_with_an_empty_label_is_pruned() {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join(format!("-{}", lockdir::unique_name()));
        fs::create_dir(&path).unwrap();
        let week = Duration::from_secs(7 * 86_400);
        sys::set_modified(&File::open(&path).unwrap(), SystemTime::now() - week * 2);
        assert_eq!(prune_in(parent.path(), week).unwrap(), 1);
        assert!(!path.exists());
    }

    #[test]
    fn sanitizes_test_names() {
        assert_eq!(
            sanitize("my_crate::tests::reconnects"),
            "my_crate.tests.reconnects"
        );
        assert_eq!(sanitize("../etc/passwd"), "_etc_passwd");
        assert_eq!(sanitize("a b/c"), "a_b_c");
    }

    /// The one-pass `sanitize` against its definition, written the obvious way: `::` to `.`,
    /// one `_` per other character outside the set, 120 bytes, no leading dots.
    #[test]
    fn sanitize_matches_its_definition() {
        fn defined(text: &str) -> String {
            let mut clean: String = text
                .replace("::", ".")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            clean.truncate(120);
            clean.trim_start_matches('.').to_owned()
        }
        let long = "x".repeat(130);
        let dots = format!("{}tail", ".".repeat(118));
        let names = [
            "",
            "t005",
            "::a::b",
            ":::",
            "a:b::c:",
            "....hidden",
            "é::ü test/ok",
            "日本::語",
            "emoji 🦀 crab",
            long.as_str(),
            dots.as_str(),
            "::::::",
            "a-b_c.d",
        ];
        for name in names {
            assert_eq!(sanitize(name), defined(name), "{name:?}");
        }
    }
}
