//! A removal storm: a thread removes the group's lock files, their directory and the whole
//! isolate directory in a loop while three processes of eight threads each contend for the
//! group, serial and shared. Nothing is promised about members inside while their file goes
//! (see `wait.rs`), but every wait must end, in the group or with a timeout (never an I/O
//! error from a race with the removals, never a hang), and once the storm is over the group
//! excludes again: no two members that started waiting after the last removal overlap.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use isolate::Spec;
use support::Log;

/// Processes and threads per process.
const PROCESSES: usize = 3;
const THREADS: usize = 8;
/// Entries each thread makes once the storm is over.
const CALM_ENTRIES: usize = 10;
/// Entries logged, across processes, before the storm ends.
const STORM_ENTRIES: usize = 1000;

/// The file whose existence tells children the storm is over.
fn calm_file(log: &Log) -> PathBuf {
    log.path.with_file_name("calm")
}

#[test]
#[ignore = "child process of a_removal_storm_ends_in_exclusion_without_errors"]
fn storm_contender() {
    static SERIAL: Spec = Spec::new("lock_storm::serial")
        .serial(&["storm"])
        .timeout(Duration::from_secs(60));
    static SHARED: Spec = Spec::new("lock_storm::shared")
        .shared(&["storm"])
        .timeout(Duration::from_secs(60));
    let log = Log::from_env();
    let calm = calm_file(&log);
    let pid = std::process::id();
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (log, calm) = (log.clone(), calm.clone());
            thread::spawn(move || {
                let (spec, mode) = if thread < 2 {
                    (&SHARED, "shared")
                } else {
                    (&SERIAL, "serial")
                };
                let (mut entry, mut calm_entries) = (0, 0);
                while calm_entries < CALM_ENTRIES {
                    // Seen before the wait starts: the wait is wholly after the last removal.
                    let after = calm.exists();
                    let when = if after { "calm" } else { "storm" };
                    let who = format!("{pid}-{thread}-{entry}-{when}");
                    match isolate::try_enter(spec) {
                        Ok(_guard) => support::stay(&log, &who, mode, 1, || support::work(100)),
                        Err(e) if e.is_timeout() => log.append(&format!("timeout {who} {e}")),
                        Err(e) => log.append(&format!("error {who} {e}")),
                    }
                    entry += 1;
                    calm_entries += usize::from(after);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("contender thread");
    }
}

/// One removal, of a kind that depends on `round`.
fn remove(root: &Path, round: usize) {
    let locks = root.join("locks");
    let main = locks.join("group-storm.lock");
    let _ = match round % 5 {
        0 => fs::remove_file(&main),
        1 => fs::remove_file(locks.join("group-storm.gate")),
        2 => fs::write(locks.join("new"), "").and_then(|()| fs::rename(locks.join("new"), &main)),
        3 => fs::remove_dir_all(&locks),
        _ => fs::remove_dir_all(root),
    };
}

#[test]
fn a_removal_storm_ends_in_exclusion_without_errors() {
    let root = support::private_root();
    let logs = tempfile::tempdir().expect("a temp dir");
    let log = Log::new(logs.path());
    let output = |i: usize| logs.path().join(format!("child-{i}"));
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let mut command = support::child_in("storm_contender", "contend", root.path(), &log);
            let out = fs::File::create(output(i)).expect("an output file");
            command.stdout(out.try_clone().expect("dup")).stderr(out);
            support::KillOnDrop(command.spawn().expect("spawn a contender"))
        })
        .collect();
    let entries = || {
        log.lines()
            .iter()
            .filter(|line| line.starts_with("exit "))
            .count()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let storm = thread::spawn({
        let (root, stop) = (root.path().to_owned(), Arc::clone(&stop));
        move || {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                remove(&root, round);
                round += 1;
                thread::yield_now();
            }
            round
        }
    });
    // A bound on the storm only so that a hang fails instead of running forever.
    let stormy = support::within(Duration::from_secs(300), || entries() >= STORM_ENTRIES);
    stop.store(true, Ordering::Relaxed);
    let round = storm.join().expect("the storm");
    fs::write(calm_file(&log), "").expect("calm");
    for (i, mut child) in children.into_iter().enumerate() {
        let status = child.0.wait().expect("wait for a contender");
        let text = fs::read_to_string(output(i)).unwrap_or_default();
        assert!(status.success(), "{text}");
    }
    assert!(stormy, "only {} entries during the storm", entries());
    let lines = log.lines();
    let failures: Vec<&String> = lines
        .iter()
        .filter(|line| line.starts_with("error ") || line.starts_with("timeout "))
        .collect();
    assert!(failures.is_empty(), "{round} removals: {failures:#?}");
    let calm: Vec<support::Interval> = support::intervals(&log)
        .into_iter()
        .filter(|interval| interval.who.ends_with("-calm"))
        .collect();
    assert_eq!(calm.len(), PROCESSES * THREADS * CALM_ENTRIES);
    support::assert_exclusive_alone(&calm);
}
