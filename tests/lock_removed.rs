//! Lock files removed or replaced while in use (a temp cleaner, `rm -rf` of the isolate
//! directory): a member that waited on the old file must not run beside a member that locked
//! the new one. Each scene runs in child processes re-running this binary, in a private
//! isolate directory:
//!
//! 1. `first` enters the group and stays;
//! 2. `second` waits for it in the kernel, on the lock file as it is now;
//! 3. the file is removed, replaced by a rename, or its whole directory removed;
//! 4. `first` leaves, and `second` enters;
//! 5. `third`, a new process that opens the path afresh, tries to enter with a short wait:
//!    it must time out naming `second` (the file `second` waited on is gone, so a `second`
//!    that kept its lock on it would have `third` beside it on the new one);
//! 6. `second` leaves. Every stay is logged, and no exclusive stay may overlap another.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use isolate::isolated;
use support::{KillOnDrop, Log};

/// How long a scene waits for a child to reach a step, at most.
const STEP: Duration = Duration::from_secs(60);

fn member(mode: &str) {
    let log = Log::from_env();
    let role = support::role().expect("a child role");
    support::stay(&log, &format!("{role}-{}", support::me()), mode, 1, || {
        log.append(&format!("in-{role} {}", std::process::id()));
        if role != "third" {
            log.wait_for(&format!("go-{role}"), 1, STEP);
        }
    });
}

#[test]
#[ignore = "child process of the scenes below"]
#[isolated(serial = "removed")]
fn serial_member() {
    member("serial");
}

#[test]
#[ignore = "child process of the scenes below"]
#[isolated(shared = "removed")]
fn shared_member() {
    member("shared");
}

/// What happens to the group's lock file while `second` waits on it.
#[derive(Clone, Copy)]
enum Tamper {
    Remove,
    /// A new file renamed over it, as an editor or a careless script would.
    Replace,
    /// The whole lock directory.
    RemoveDir,
    /// The whole isolate directory, as `rm -rf /tmp/isolate-*` would.
    RemoveRoot,
}

fn tamper(root: &Path, how: Tamper) {
    let locks = root.join("locks");
    let main = locks.join("group-removed.lock");
    match how {
        Tamper::Remove => fs::remove_file(&main).expect("remove the lock file"),
        Tamper::Replace => {
            let new = locks.join("new");
            fs::write(&new, "").expect("a new file");
            fs::set_permissions(&new, fs::Permissions::from_mode(0o600)).expect("chmod");
            fs::rename(&new, &main).expect("rename it over the lock file");
        }
        Tamper::RemoveDir => fs::remove_dir_all(&locks).expect("remove the lock directory"),
        Tamper::RemoveRoot => fs::remove_dir_all(root).expect("remove the isolate directory"),
    }
}

/// Runs the scene with members of the given modes (`serial_member` or `shared_member`).
fn scene(second: &str, third: &str, how: Tamper) {
    let root = support::private_root();
    let logs = tempfile::tempdir().expect("a temp dir");
    let log = Log::new(logs.path());
    let spawn = |test: &str, role: &str| {
        let mut command = support::child_in(test, role, root.path(), &log);
        KillOnDrop(command.stdout(Stdio::null()).spawn().expect("spawn"))
    };
    let first = spawn("serial_member", "first");
    log.wait_for("in-first", 1, STEP);
    let second_child = spawn(second, "second");
    // Its agent announces the wait right before it blocks on the file it opened.
    let waiting = root.path().join("locks/group-removed.lock.waiting");
    assert!(
        support::within(STEP, || waiting.exists()),
        "second never waited"
    );
    tamper(root.path(), how);
    log.append("go-first");
    log.wait_for("in-second", 1, STEP);
    let second_pid = second_child.0.id();

    let mut newcomer = support::child_in(third, "third", root.path(), &log);
    newcomer.env(isolate::env::TIMEOUT, "300ms");
    let output = newcomer.output().expect("run the third member");
    let text = support::text(&output);
    log.append("go-second");
    for mut child in [first, second_child] {
        assert!(child.0.wait().expect("wait").success());
    }
    support::assert_exclusive_alone(&support::intervals(&log));
    assert!(
        !output.status.success(),
        "third entered beside second:\n{text}"
    );
    assert!(text.contains("timed out after 0.3s waiting for"), "{text}");
    assert!(
        text.contains(&format!("held by `{second}` (pid {second_pid}, for ")),
        "the timeout names the member inside:\n{text}"
    );
    // Made again as it was made first: owner-only.
    let mode = fs::metadata(root.path())
        .expect("the isolate directory")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
}

#[test]
fn a_waiter_on_a_removed_lock_file_does_not_run_beside_a_newcomer() {
    scene("serial_member", "serial_member", Tamper::Remove);
}

#[test]
fn a_waiter_on_a_replaced_lock_file_does_not_run_beside_a_newcomer() {
    scene("serial_member", "serial_member", Tamper::Replace);
}

#[test]
fn a_waiter_whose_lock_directory_was_removed_does_not_run_beside_a_newcomer() {
    scene("serial_member", "serial_member", Tamper::RemoveDir);
}

#[test]
fn a_waiter_whose_isolate_directory_was_removed_does_not_run_beside_a_newcomer() {
    scene("serial_member", "serial_member", Tamper::RemoveRoot);
}

#[test]
fn a_shared_waiter_on_a_removed_lock_file_keeps_an_exclusive_newcomer_out() {
    scene("shared_member", "serial_member", Tamper::Remove);
}

#[test]
fn an_exclusive_waiter_whose_lock_directory_was_removed_keeps_a_shared_newcomer_out() {
    // The directory: with only the main file replaced, the gate this waiter keeps while
    // inside would hold the newcomer back anyway.
    scene("serial_member", "shared_member", Tamper::RemoveDir);
}
