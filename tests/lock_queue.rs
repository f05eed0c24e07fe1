//! The queue each process keeps in front of a group's lock files: threads of one process hand
//! the group to each other directly, yet another process contending for it is not starved, and
//! waits for a holder in another process leave at most one waiting thread per lock behind.

mod support;

use std::thread;
use std::time::Duration;

use isolate::Spec;
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
                    let who = format!("{}-{thread}-{entry}", std::process::id());
                    support::stay(&log, &who, "serial", 1, || support::work(300));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("member thread");
    }
}

/// The longest run of consecutive entries by one process while both still had entries to
/// make: a process that kept the group for its own threads would run all its entries at once.
fn longest_run_while_both_wait(intervals: &[support::Interval]) -> (usize, usize) {
    let pid = |interval: &support::Interval| interval.who.split('-').next().unwrap().to_owned();
    let pids: Vec<String> = intervals.iter().map(pid).collect();
    let last = |p: &str| pids.iter().rposition(|q| q == p).unwrap();
    let both_until = last(&pids[0]).min(last(pids.iter().find(|p| **p != pids[0]).unwrap()));
    let (mut longest, mut run, mut switches) = (0, 0, 0);
    for i in 0..=both_until {
        if i > 0 && pids[i] == pids[i - 1] {
            run += 1;
        } else {
            switches += usize::from(i > 0);
            run = 1;
        }
        longest = longest.max(run);
    }
    (longest, switches)
}

#[test]
fn two_processes_with_several_threads_both_make_progress() {
    let root = support::private_root();
    let log = Log::new(root.path());
    run_children(&root, &log, "contending_process", &["contend", "contend"]);
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 2 * THREADS * ENTRIES);
    support::assert_exclusive_alone(&intervals);
    // Each process gives way after at most 8 hand-offs between its own threads (or 20 ms of
    // them); allow a few entries more for the way back. Without the bound, one process runs
    // all its 60 entries before the other gets in.
    let (longest, switches) = longest_run_while_both_wait(&intervals);
    assert!(
        longest <= 3 * 8,
        "one process ran {longest} entries in a row while the other waited ({switches} switches)"
    );
    assert!(switches >= 2, "the group changed process {switches} times");
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
