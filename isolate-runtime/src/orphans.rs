//! Records of live children, so that children of a test process killed with SIGKILL (or any
//! death that skips `Drop`) are stopped no later than the next use of isolate on the machine.
//!
//! Each live [`Child`](crate::Child) has a record file `children/<pid>.<unique>.child` in the
//! isolate directory (unique: a pid reused before a stopped child's record is gone must not
//! name the new child's record, which the old one's removal would take with it), holding the child's pid and start time and locked (flock) by the owning process
//! while it lives. The kernel drops that lock when the owner dies, however it dies. The next
//! `enter` or `Child::spawn` in any process looks for records whose lock is free and stops the
//! process group they name. On Linux the parent-death signal has usually killed the child
//! itself already, and the watchdog (`sys/watchdog.rs`) its own children (a shell's server,
//! say); the record is the fallback, for a watchdog that is gone and for the Unixes without
//! either.
//!
//! Never signal a process we did not start: the group is signalled only if its leader still has
//! the recorded start time, or if no process has the leader's pid any more. In the second case
//! any process still in the group is ours: the kernel does not hand out a pid while a process
//! group with that id exists.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::IoContext;
use crate::sys::process::{self as sys_process, Stop};
use crate::sys::watchdog;
use crate::wait::{self, Mode};
use crate::{lockdir, sys, Error};

const DIR: &str = "children";
const SUFFIX: &str = ".child";

/// A live child's record, and the watchdog's; removing them (on a clean stop) is `Drop`.
#[derive(Debug)]
pub(crate) struct Record {
    pid: u32,
    start: String,
    path: PathBuf,
    _lock: File,
}

impl Record {
    /// Writes and locks the record of the child `pid` (which started at `start`): locked under
    /// a temporary name first, so that a sweeper never sees a record before it is locked. Then
    /// tells the watchdog, which stops the child's group at once if this process dies.
    pub(crate) fn create(pid: u32, start: &str, command: &str) -> Result<Record, Error> {
        let dir = lockdir::subdir(DIR)?;
        let text = format!("{pid} {start}\n{command}\n");
        // Made again, under a new name, when the directory is removed before the draft is
        // renamed (a temp cleaner, `rm -rf` while tests run): a race, not an error.
        let mut tries = 0;
        let (path, lock) = loop {
            let unique = lockdir::unique_name();
            let path = dir.join(format!("{pid}.{unique}{SUFFIX}"));
            let draft = dir.join(format!("{pid}.{unique}.draft"));
            let lock = lockdir::lock_file(&draft)?;
            match fill(&lock, &draft, &path, &text) {
                Ok(()) => break (path, lock),
                Err(e) => {
                    // A full disk, say: the draft, which only we know the name of, goes too.
                    let _ = fs::remove_file(&draft);
                    if tries >= lockdir::RECREATE_TRIES || !lockdir::is_not_found(&e) {
                        return Err(e);
                    }
                    tries += 1;
                }
            }
        };
        watchdog::watch(pid, start);
        Ok(Record {
            pid,
            start: start.to_owned(),
            path,
            _lock: lock,
        })
    }
}

/// Locks the fresh `draft`, renames it to `path`, its record's name, and writes `text` into it.
fn fill(lock: &File, draft: &Path, path: &Path, text: &str) -> Result<(), Error> {
    // Nobody else knows the draft's unique name, so the lock is free.
    match wait::try_lock(lock, Mode::Exclusive) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Error::refused(format!(
                "cannot lock the fresh child record `{}`",
                draft.display()
            )))
        }
        Err(e) => return Err(Error::io(format!("cannot lock `{}`", draft.display()), e)),
    }
    let what = || format!("cannot write the child record `{}`", path.display());
    // Named before it is written: the draft need outlive only a lock and a rename, the
    // shortest window a loop of `rm -rf` can remove it in (with the write in that window too,
    // such a loop won every try in a row often enough to fail the hostile test in most runs
    // on a loaded machine). Locked, the record is read by no sweeper while we live; if we
    // die before the write, a sweeper finds no pid in it and only removes it.
    fs::rename(draft, path).context_in_dir(what)?;
    let mut writer = lock;
    writer
        .write_all(text.as_bytes())
        .map_err(|e| {
            // A full disk, say: the record, which only we know the name of, goes too.
            let _ = fs::remove_file(path);
            e
        })
        .context_in_dir(what)
}

impl Drop for Record {
    fn drop(&mut self) {
        watchdog::forget(self.pid, &self.start);
        let _ = fs::remove_file(&self.path);
    }
}

/// [`sweep`] at this process's first call, then at most once a second.
pub(crate) fn sweep_now_and_then() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    // A fresh process's parent sweeps for it (`fresh::fork`), not the child of every test.
    if LAST.swap(now, Ordering::Relaxed) != now && !crate::fresh::in_child() {
        sweep();
    }
}

/// Stops the children recorded by processes that are gone. Cheap when there are none: one
/// directory read. Errors are ignored: a sweep must never fail the test that triggered it.
pub(crate) fn sweep() {
    let Ok(root) = lockdir::root() else { return };
    let Ok(entries) = fs::read_dir(root.join(DIR)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match path.extension() {
            Some(e) if e == "child" => stop_orphan(&path),
            Some(e) if e == "draft" => remove_dead_draft(&path),
            _ => {}
        }
    }
}

/// How old a draft must be before a sweeper takes it for a dead process's: a record is a draft
/// for microseconds, but not locked yet for the first of them, when its lock is free.
const DRAFT_AGE: Duration = Duration::from_secs(60);

/// Removes a draft left by a process killed between making it and naming it: nothing else
/// ever would.
fn remove_dead_draft(path: &Path) {
    let Ok(file) = File::open(path) else { return };
    let old = file
        .metadata()
        .and_then(|meta| meta.modified())
        .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > DRAFT_AGE));
    if old && wait::try_lock(&file, Mode::Exclusive).unwrap_or(false) && sys::is_linked(&file) {
        let _ = fs::remove_file(path);
    }
}

fn stop_orphan(path: &Path) {
    if let Ok(file) = lockdir::lock_file(path) {
        stop_opened(file, path);
    }
}

/// [`stop_orphan`], with the record at `path` as it was when opened.
fn stop_opened(mut file: File, path: &Path) {
    // A held lock means the owner lives (and will stop its child itself).
    if !wait::try_lock(&file, Mode::Exclusive).unwrap_or(false) {
        return;
    }
    // Removed since we opened it: its owner let it go (having stopped its child), or another
    // sweeper stopped it. The path may name a live owner's new record by now, not ours to
    // remove: removed while locked, it would hide that child from every later sweep.
    if !sys::is_linked(&file) {
        return;
    }
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let mut fields = text.lines().next().unwrap_or_default().split(' ');
    let pid = fields.next().and_then(|pid| pid.parse::<u32>().ok());
    let recorded = fields.next().unwrap_or_default();
    if let Some(pid) = pid {
        kill_group_if_ours(pid, Some(recorded));
    }
    let _ = fs::remove_file(path);
}

/// SIGKILLs the process group we started with leader `pid`, unless that pid now belongs to a
/// process we did not start. `leader_start` is the leader's recorded start time, or `None`
/// when we reaped the leader ourselves (then any process with that pid is someone else's).
/// With no process holding the pid, whatever is left in the group is ours: the kernel hands
/// out no pid while a process group of that id exists.
pub(crate) fn kill_group_if_ours(pid: u32, leader_start: Option<&str>) {
    let ours = match (sys_process::start_time(pid), leader_start) {
        (None, _) => true,
        (Some(now), Some(recorded)) => now == recorded,
        (Some(_), None) => false,
    };
    if ours {
        let _ = sys_process::signal_group(pid, Stop::Kill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process killed between making its draft and naming it leaves the draft unlocked; a
    /// sweep removes it once it is old, and leaves a fresh one to the process making it.
    #[test]
    fn a_sweep_removes_a_dead_processs_old_draft_only() {
        let dir = lockdir::subdir(DIR).unwrap();
        let draft = |age: Duration| {
            let path = dir.join(format!("1.{}.draft", lockdir::unique_name()));
            let file = lockdir::lock_file(&path).unwrap();
            sys::set_modified(&file, std::time::SystemTime::now() - age);
            path
        };
        let dead = draft(DRAFT_AGE * 10);
        let fresh = draft(Duration::ZERO);
        sweep();
        let (dead_left, fresh_left) = (dead.exists(), fresh.exists());
        let _ = fs::remove_file(&fresh);
        assert!(!dead_left, "the dead process's draft stays");
        assert!(fresh_left, "a fresh draft was removed");
    }

    #[test]
    fn a_sweeper_does_not_remove_the_record_that_replaced_the_one_it_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("1{SUFFIX}"));
        let opened = lockdir::lock_file(&path).unwrap();
        // Its owner lets it go, and a new owner's record takes the name.
        fs::remove_file(&path).unwrap();
        let new = lockdir::lock_file(&path).unwrap();
        assert!(wait::try_lock(&new, Mode::Exclusive).unwrap());
        stop_opened(opened, &path);
        assert!(path.exists(), "the live record was removed");
    }

    /// A child's pid reused by a new child of ours before the old child's record was dropped
    /// (a child reaped and its record kept until `stop`): dropping the old record leaves the new
    /// one, on disk and with the watchdog.
    #[test]
    fn dropping_a_record_leaves_the_record_of_a_new_child_with_the_same_pid() {
        let mut sleeper = std::process::Command::new("sleep");
        sleeper.arg("300");
        std::os::unix::process::CommandExt::process_group(&mut sleeper, 0);
        let mut sleeper = sleeper.spawn().unwrap();
        let pid = sleeper.id();
        let start = sys_process::start_time(pid).unwrap();
        // The old child's start time: any other.
        let old = Record::create(pid, "1", "old").unwrap();
        let new = Record::create(pid, &start, "new").unwrap();
        drop(old);
        let on_disk = new.path.exists();
        let watched = watchdog::watches(pid, &start);
        drop(new);
        let _ = sleeper.kill();
        sleeper.wait().unwrap();
        assert!(on_disk, "the new child's record was removed");
        assert!(
            watched || !cfg!(target_os = "linux"),
            "the watchdog forgot the new child"
        );
    }
}
