//! The queue each process keeps in front of a group's lock files: threads of one process hand
//! the group to each other directly, yet another process contending for it is not starved, and
//! waits for a holder in another process leave at most one waiting thread per lock behind.

mod support;

use std::fs::File;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use isolate::Spec;
use rustix::fs::{flock, FlockOperation};
use rustix::io::Errno;
use support::Log;

/// Threads per contending process, and entries per thread.
const THREADS: usize = 4;
const ENTRIES: usize = 15;

#[test]
#[ignore = "child process of two_processes_with_several_threads_both_make_progress"]
fn contending_process() {
    static SPEC: Spec = Spec::new("lock_queue::contending").serial(&["fair"]);
    let log = Log::from_env();
    // Start together, so that both processes contend from the first entry on.
    log.append(&format!("ready {}", std::process::id()));
    log.wait_for("ready", 2, Duration::from_secs(60));
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let log = log.clone();
            thread::spawn(move || {
                for entry in 0..ENTRIES {
                    let _guard = isolate::enter(&SPEC);
                    let waits = u8::from(another_process_waits());
                    let who = format!("{}-{thread}-{entry}-{waits}", std::process::id());
                    support::stay(&log, &who, "serial", 1, || support::work(300));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("member thread");
    }
}

/// Whether another process waits in the kernel for the group `fair`: its agent announces the
/// wait on the `.waiting` file beside the lock file it waits on (the gate or the main file),
/// which is what a process checks before it hands the group to its own threads again. Asked
/// by a member inside, so no agent of its own process waits for either file.
fn another_process_waits() -> bool {
    let root = PathBuf::from(std::env::var_os(isolate::env::DIR).expect("ISOLATE_DIR is set"));
    ["gate", "lock"].iter().any(|file| {
        File::open(root.join(format!("locks/group-fair.{file}.waiting"))).is_ok_and(|waiting| {
            flock(&waiting, FlockOperation::NonBlockingLockExclusive) == Err(Errno::WOULDBLOCK)
        })
    })
}

/// The longest run of consecutive entries by one process, each made while the other process
/// was seen waiting in the kernel, and how many entries saw it so. A process that kept the
/// group for its own threads would run all its entries at once while the other waits.
///
/// Only entries that saw the other process waiting count: on a loaded machine a process's
/// agent may not run for tens of milliseconds before it announces its wait (after stepping
/// aside, say), and no process can give way to one that is not yet seen waiting.
fn longest_run_while_the_other_waits(intervals: &[support::Interval]) -> (usize, usize) {
    let (mut longest, mut run, mut seen) = (0, 0, 0);
    let mut previous = "";
    for interval in intervals {
        let mut fields = interval.who.split('-');
        let pid = fields.next().unwrap();
        let waits = fields.nth(2) == Some("1");
        run = match (waits, pid == previous) {
            (false, _) => 0,
            (true, true) => run + 1,
            (true, false) => 1,
        };
        seen += usize::from(waits);
        longest = longest.max(run);
        previous = pid;
    }
    (longest, seen)
}

#[test]
fn two_processes_with_several_threads_both_make_progress() {
    // On a loaded machine one process may make all its entries before the other's threads
    // run at all: then nothing was contended, and the run is made again (a bound only so
    // that a failure ends).
    for _ in 0..10 {
        let root = support::private_root();
        let log = Log::new(root.path());
        run_children(&root, &log, "contending_process", &["contend", "contend"]);
        let intervals = support::intervals(&log);
        assert_eq!(intervals.len(), 2 * THREADS * ENTRIES);
        support::assert_exclusive_alone(&intervals);
        // Each process gives way after at most 8 hand-offs between its own threads (or 20
        // ms of them) once the other waits; allow a few entries more for the way back.
        // Without the bound, one process runs all its 60 entries while the other waits.
        let (longest, seen) = longest_run_while_the_other_waits(&intervals);
        assert!(
            longest <= 3 * 8,
            "one process ran {longest} entries in a row while the other waited"
        );
        if seen > 0 {
            return;
        }
    }
    panic!("in 10 runs, no entry saw the other process waiting");
}

/// Logs `done` on every way out of the waiter, a failed check's panic included: the holder
/// leaves at once, and the waiter's own failure is what the test reports, not the holder's
/// wait for it.
#[cfg(target_os = "linux")]
struct Done(Log);

#[cfg(target_os = "linux")]
impl Drop for Done {
    fn drop(&mut self) {
        self.0.append("done");
    }
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "child process of waits_for_another_process_leave_one_thread_per_lock"]
fn holder_or_waiter() {
    static HOLD: Spec = Spec::new("lock_queue::holder").serial(&["stuck-elsewhere"]);
    static WAIT: Spec = Spec::new("lock_queue::waiter")
        .serial(&["stuck-elsewhere"])
        .timeout(Duration::from_millis(10));
    let log = Log::from_env();
    if support::role().as_deref() == Some("hold") {
        let _held = isolate::try_enter(&HOLD).unwrap();
        log.append("held");
        log.wait_for("done", 1, Duration::from_secs(120));
        return;
    }
    log.wait_for("held", 1, Duration::from_secs(60));
    let _done = Done(log.clone());
    let count = |dir: &str| std::fs::read_dir(dir).unwrap().count();
    let (threads, fds) = (count("/proc/self/task"), count("/proc/self/fd"));
    let wait = || assert!(isolate::try_enter(&WAIT).unwrap_err().is_timeout());
    // The first wait starts this process's agent for the group's lock file, which stays in
    // the kernel's queue with the file and its announcement open until the holder leaves. A
    // wait asks it and may time out before it gets there (on a loaded machine it runs late),
    // so the bound is checked after every wait: one agent, its two files, nothing per wait.
    for waits in 1..=51 {
        wait();
        let (now_threads, now_fds) = (count("/proc/self/task"), count("/proc/self/fd"));
        assert!(
            now_threads <= threads + 1,
            "threads left behind: {threads} -> {now_threads} after {waits} waits"
        );
        assert!(
            now_fds <= fds + 2,
            "descriptors left behind: {fds} -> {now_fds} after {waits} waits"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn waits_for_another_process_leave_one_thread_per_lock() {
    let root = support::private_root();
    let log = Log::new(root.path());
    run_children(&root, &log, "holder_or_waiter", &["hold", "wait"]);
}

/// Runs `test` once per role, all at once, in the isolate directory `root`, logging to `log`.
fn run_children(root: &tempfile::TempDir, log: &Log, test: &str, roles: &[&str]) {
    let commands = roles
        .iter()
        .map(|role| {
            let command = support::child_in(test, role, root.path(), log);
            command
        })
        .collect();
    support::run_all(commands, true);
}
