//! The per-user directory that holds lock files, reservations and temp dirs.
//!
//! It is created owner-only (0700) and refused when it is a symlink, owned by someone else,
//! or open to others: anyone who could write into it could plant a symlink or hold our locks.

use std::collections::hash_map::RandomState;
use std::ffi::OsStr;
use std::fs;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use crate::error::IoContext;
use crate::{env, sys, Error};

/// The root once validated, or why not: the error, remembered as its kind (configuration or
/// not) and its message.
static ROOT: OnceLock<Result<PathBuf, (bool, String)>> = OnceLock::new();

/// The validated root, `$ISOLATE_DIR` or `<temp dir>/isolate-<uid>`, created on first use.
pub(crate) fn root() -> Result<&'static Path, Error> {
    let remember = |e: Error| (e.is_config(), e.to_string());
    ROOT.get_or_init(|| {
        let path = match env::dir().map_err(remember)? {
            Some(path) => path,
            None => {
                default_root(std::env::var_os("TMPDIR").as_deref(), sys::uid()).map_err(remember)?
            }
        };
        open_private_dir(&path).map(|()| path).map_err(remember)
    })
    .as_deref()
    .map_err(|(config, message)| {
        if *config {
            Error::config(message.clone())
        } else {
            Error::refused(message.clone())
        }
    })
}

/// `<temp dir>/isolate-<uid>`, the temp dir being `tmpdir` (`$TMPDIR`), or `/tmp` where that
/// is unset or empty, as `mktemp` has it (std's `temp_dir` takes an empty one for the working
/// directory). A relative one is refused, as a relative `ISOLATE_DIR` is: processes in
/// different working directories (a workspace's crates under nextest) would each have their
/// own root, and their groups would not exclude each other.
fn default_root(tmpdir: Option<&OsStr>, uid: u32) -> Result<PathBuf, Error> {
    let name = format!("isolate-{uid}");
    let Some(tmpdir) = tmpdir.filter(|dir| !dir.is_empty()) else {
        return Ok(Path::new("/tmp").join(name));
    };
    let tmpdir = Path::new(tmpdir);
    if tmpdir.is_relative() {
        return Err(Error::config(format!(
            "cannot put the isolate directory in `TMPDIR={:?}`: it is relative, so processes \
             with different working directories would not share it; set `TMPDIR` to an \
             absolute path, or `{}` to one",
            tmpdir.display().to_string(),
            env::DIR
        )));
    }
    Ok(tmpdir.join(name))
}

/// 32 lowercase hex digits, different for every call in every process: the random part of
/// temp dir and record names.
pub(crate) fn unique_name() -> String {
    let pid = std::process::id();
    format!("{:016x}{:016x}", random_in(pid), random_in(pid))
}

/// A random number, different for every call in every process.
///
/// Uniqueness is all that is needed (names are created exclusively, and nothing is secret), so
/// std's randomly keyed `RandomState` seeds it once per process: no `uuid` or `getrandom`
/// dependency, whose MSRV is above ours.
pub(crate) fn random() -> u64 {
    random_in(std::process::id())
}

/// [`random`] for process `pid` (asked of the system once for several numbers: each ask is a
/// system call).
///
/// The seed is made once per process, not per call: a `RandomState` made on a new thread asks
/// the kernel for its keys, and under `cargo test` every test runs on a new thread. Each call
/// then takes the next count through a bijection of 64-bit numbers (splitmix64's), so no two
/// calls of one process repeat; the pid is mixed into every call, so a process forked without
/// `exec` (same seed, same count) still draws its own numbers.
fn random_in(pid: u32) -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        RandomState::new().hash_one(now)
    });
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut z = (seed ^ u64::from(pid).rotate_left(32))
        .wrapping_add(count.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A subdirectory of the root (`locks`, `tmp`, ...), created owner-only and validated on the
/// process's first use; later calls cost no syscall. Should it vanish while we run (a temp
/// cleaner, `rm -rf` of the root), [`lock_file`] creates it again, and the root with it, both
/// owner-only as on first use.
pub(crate) fn subdir(name: &'static str) -> Result<PathBuf, Error> {
    static VALIDATED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let path = root()?.join(name);
    let mut validated = VALIDATED.lock().unwrap_or_else(PoisonError::into_inner);
    if !validated.contains(&name) {
        open_private_dir(&path)?;
        validated.push(name);
    }
    Ok(path)
}

/// Creates `path` owner-only if missing, or else checks it is a real directory, ours, and closed
/// to others.
///
/// # Errors
///
/// Says which check failed and how to fix it.
///
/// # Examples
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
///
/// let parent = tempfile::tempdir().unwrap();
/// let open = parent.path().join("open");
/// std::fs::create_dir(&open).unwrap();
/// std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
/// let error = isolate_runtime::open_private_dir(&open).unwrap_err();
/// assert!(error.to_string().contains("its mode is 755, open to other users"));
/// assert!(isolate_runtime::open_private_dir(&parent.path().join("fresh")).is_ok());
/// ```
pub fn open_private_dir(path: &Path) -> Result<(), Error> {
    // Removed again between our `mkdir` and our check (a temp cleaner, `rm -rf` while tests
    // run): made again, as lock files are.
    let mut tries = 0;
    loop {
        match make_private_dir(path) {
            Err(e) if tries < RECREATE_TRIES && is_not_found(&e) => tries += 1,
            made => return made,
        }
    }
}

fn make_private_dir(path: &Path) -> Result<(), Error> {
    // The parent is made only when `mkdir` says it is missing: it nearly always exists, and
    // every test process opens two of these directories first (two system calls each saved).
    let mut created = sys::create_private_dir(path);
    if let (Err(e), Some(parent)) = (&created, path.parent()) {
        if e.kind() == std::io::ErrorKind::NotFound {
            // The root itself removed while we run (`rm -rf`, a temp cleaner): made and
            // checked again, as on first use.
            let is_root = matches!(ROOT.get(), Some(Ok(root)) if root == parent);
            if is_root {
                open_private_dir(parent)?;
            } else {
                // Owner-only too, whatever the umask: anyone who can write in a parent can
                // move our directory away and put a symlink in its place once we checked it.
                sys::create_private_dirs(parent)
                    .context_in_dir(|| format!("cannot create `{}`", parent.display()))?;
            }
            created = sys::create_private_dir(path);
        }
    }
    match created {
        // Made by us just now, owner-only: nothing to check, and no path to look at again,
        // which a removal (`rm -rf` in a loop) could take away in between every time.
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::io_in_dir(
                format!("cannot create the isolate directory `{}`", path.display()),
                e,
            ));
        }
    }
    check_private_dir(path)
}

fn check_private_dir(path: &Path) -> Result<(), Error> {
    let shown = path.display();
    let fix = format!(
        "remove it, or point `{}` at a directory you own with mode 0700",
        env::DIR
    );
    let meta = fs::symlink_metadata(path).context(|| format!("cannot inspect `{shown}`"))?;
    if meta.file_type().is_symlink() {
        return Err(Error::refused(format!(
            "refusing `{shown}`: it is a symlink, which someone may have planted; {fix}"
        )));
    }
    if !meta.is_dir() {
        return Err(Error::refused(format!(
            "refusing `{shown}`: it is not a directory; {fix}"
        )));
    }
    let uid = sys::uid();
    let (owner, mode) = sys::owner_and_mode(&meta);
    if owner != uid {
        return Err(Error::refused(format!(
            "refusing `{shown}`: it is owned by uid {owner}, not by you (uid {uid}); {fix}"
        )));
    }
    if mode & 0o077 != 0 {
        return Err(Error::refused(format!(
            "refusing `{shown}`: its mode is {mode:o}, open to other users; run `chmod 700 {shown}`, or {fix}"
        )));
    }
    Ok(())
}

/// Opens (creating owner-only) a lock file under the root, recreating its directory if it was
/// removed since we validated it, and renewing its modification time if it is old, so that an
/// age-based temp cleaner does not remove it while it is held ([`sys::keep_fresh`]).
pub(crate) fn lock_file(path: &Path) -> Result<fs::File, Error> {
    let file = open_recreating(path, sys::open_lock_file)?;
    sys::keep_fresh(&file);
    Ok(file)
}

/// Like [`lock_file`], for a holder record, which is overwritten in place rather than appended.
pub(crate) fn record_file(path: &Path) -> Result<fs::File, Error> {
    open_recreating(path, sys::open_record_file)
}

fn open_recreating(
    path: &Path,
    open_file: fn(&Path) -> std::io::Result<fs::File>,
) -> Result<fs::File, Error> {
    let what = || format!("cannot open the lock file `{}`", path.display());
    let mut tries = 0;
    loop {
        let opened = match open_file(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match path.parent() {
                Some(dir) => {
                    open_private_dir(dir).and_then(|()| open_file(path).context_in_dir(what))
                }
                None => Err(e).context_in_dir(what),
            },
            opened => opened.context_in_dir(what),
        };
        // A directory removed again between our `mkdir` and our `open` (a temp cleaner, `rm
        // -rf` while tests run) is made again: that is a race, not an error.
        match opened {
            Err(e) if tries < RECREATE_TRIES && is_not_found(&e) => tries += 1,
            opened => return opened,
        }
    }
}

/// How often a directory removed while we make a file in it is made again before we give up:
/// far more than a temp cleaner ever races us, so that only a loop built to win gets an error.
pub(crate) const RECREATE_TRIES: u32 = 100;

/// Whether `error` is, at bottom, a file or directory not found: one removed under us.
pub(crate) fn is_not_found(error: &Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    #[test]
    fn missing_parents_are_made_owner_only_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("a/b/isolate");
        super::open_private_dir(&path).unwrap();
        for made in ["a", "a/b", "a/b/isolate"] {
            let mode = std::fs::metadata(scratch.path().join(made))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700, "{made}");
        }
        // Again, now that it exists: accepted as it is.
        super::open_private_dir(&path).unwrap();
    }

    /// A lock file is never written, so without renewal its modification time is its creation
    /// time, and a cleaner that removes files unmodified for days would remove it while held.
    #[test]
    fn an_old_lock_file_is_renewed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.lock");
        let file = super::lock_file(&path).unwrap();
        crate::sys::set_modified(
            &file,
            SystemTime::now() - Duration::from_secs(2 * crate::sys::FRESH_FOR),
        );
        drop(file);
        let age = |path: &std::path::Path| {
            let modified = std::fs::metadata(path).unwrap().modified().unwrap();
            SystemTime::now()
                .duration_since(modified)
                .unwrap_or(Duration::ZERO)
        };
        assert!(age(&path) > Duration::from_secs(crate::sys::FRESH_FOR));
        let _again = super::lock_file(&path).unwrap();
        assert!(age(&path) < Duration::from_secs(600), "{:?}", age(&path));
    }

    /// An empty `TMPDIR` is unset, as for `mktemp`: std's `temp_dir` would make it the
    /// working directory, and every crate of a workspace would get its own root there.
    #[test]
    fn an_empty_or_unset_tmpdir_is_tmp_and_a_relative_one_is_refused() {
        use std::ffi::OsStr;
        use std::path::Path;
        for unset in [None, Some(OsStr::new(""))] {
            assert_eq!(
                super::default_root(unset, 7).unwrap(),
                Path::new("/tmp/isolate-7")
            );
        }
        assert_eq!(
            super::default_root(Some(OsStr::new("/var/tmp dir")), 7).unwrap(),
            Path::new("/var/tmp dir/isolate-7")
        );
        for relative in [".tmp", "tmp/ci", "./x"] {
            let error = super::default_root(Some(OsStr::new(relative)), 7).unwrap_err();
            assert!(error.is_config(), "{error}");
            assert!(
                error.to_string().contains("it is relative")
                    && error.to_string().contains("ISOLATE_DIR"),
                "{error}"
            );
        }
    }

    /// What a machine's setup causes (`TMPDIR` naming a file, a path too long for the file
    /// system) says what to do, after what failed and where.
    #[test]
    fn what_the_machine_causes_says_what_to_do() {
        let scratch = tempfile::tempdir().unwrap();
        let file = scratch.path().join("file");
        std::fs::write(&file, "").unwrap();
        let error = super::open_private_dir(&file.join("isolate-0")).unwrap_err();
        assert!(
            error.to_string().starts_with("cannot create the isolate directory")
                && error.to_string().ends_with(
                    "; a part of the path is a file: point `TMPDIR`, or `ISOLATE_DIR`, at a directory"
                ),
            "{error}"
        );
        let long = scratch.path().join("x".repeat(300)).join("group-a.lock");
        let error = super::lock_file(&long).unwrap_err();
        assert!(
            error.to_string().starts_with("cannot open the lock file")
                && error
                    .to_string()
                    .ends_with("; point `ISOLATE_DIR` at a shorter path"),
            "{error}"
        );
    }

    /// A directory removed between our `mkdir` and our check of it (a temp cleaner, `rm -rf`
    /// while tests run; a removal storm hit it once in a loaded CI round) is made again.
    #[test]
    fn a_directory_removed_while_it_is_made_is_made_again() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("storm");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let storm = std::thread::spawn({
            let (path, stop) = (path.clone(), std::sync::Arc::clone(&stop));
            move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::remove_dir(&path);
                }
            }
        });
        let failed = (0..20_000).find_map(|_| super::open_private_dir(&path).err());
        stop.store(true, Ordering::Relaxed);
        storm.join().unwrap();
        assert!(failed.is_none(), "{}", failed.unwrap());
    }

    #[test]
    fn a_process_never_draws_the_same_number_twice() {
        let drawn: std::collections::HashSet<u64> = (0..100_000).map(|_| super::random()).collect();
        assert_eq!(drawn.len(), 100_000);
    }

    #[test]
    fn unique_names_differ_and_look_alike() {
        let (a, b) = (super::unique_name(), super::unique_name());
        assert_ne!(a, b);
        for name in [a, b] {
            assert_eq!(name.len(), 32);
            assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
}
