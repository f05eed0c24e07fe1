//! The hand-off: how long an exclusive group stays empty between one holder's release and the
//! next holder's entry, with 2 to 16 holders contending, in threads and in processes, beside
//! `serial_test`'s `#[serial]` (threads) and `#[file_serial]` (processes).
//!
//! `cargo bench --bench handoff` (`-- 2 8` runs only those holder counts;
//! `ISOLATE_HANDOFF_WHERE=threads` or `=processes` only those rows). Each holder keeps
//! the group 2 ms per entry and pauses 0.5 ms after leaving, so whenever one leaves the others
//! are already queued: the gap between a release and the next entry is the lock's hand-off
//! alone. Entries and exits are wall-clock
//! timestamps, comparable across processes; every run also checks that no two holders ever
//! overlapped, and fails loudly if they did.

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::time::Duration;

use isolate::Spec;

#[path = "common/handoff.rs"]
mod common;
use common::{handoffs, holder_counts, now_ns, percentile};

/// Entries per configuration, split evenly over its holders.
const ENTRIES: usize = 240;
const HOLD: Duration = Duration::from_millis(2);
const PAUSE: Duration = Duration::from_micros(500);
/// Set in a child process: which mechanism to use and how many entries to make.
const CHILD: &str = "ISOLATE_HANDOFF_CHILD";

static SPEC: Spec = Spec::new("bench::handoff").serial(&["handoff"]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    /// `#[isolated(serial = "handoff")]`.
    Isolate,
    /// `serial_test`'s `#[serial(handoff)]`: an in-process lock.
    Serial,
    /// `serial_test`'s `#[file_serial(handoff)]`: a file lock.
    FileSerial,
}

impl Mechanism {
    fn name(self) -> &'static str {
        match self {
            Mechanism::Isolate => "isolate",
            Mechanism::Serial => "serial",
            Mechanism::FileSerial => "file_serial",
        }
    }

    fn parse(name: &str) -> Mechanism {
        [Mechanism::Isolate, Mechanism::Serial, Mechanism::FileSerial]
            .into_iter()
            .find(|m| m.name() == name)
            .expect("a mechanism name")
    }
}

thread_local! {
    /// The entry and exit of serial_test's last body on this thread (its bodies are `fn()`).
    static LAST: Cell<(u128, u128)> = const { Cell::new((0, 0)) };
}

fn body() {
    let entered = now_ns();
    std::thread::sleep(HOLD);
    LAST.with(|last| last.set((entered, now_ns())));
}

/// One entry: the holder's entry and exit timestamps, taken inside the lock.
fn hold_once(mechanism: Mechanism, lock_file: &str) -> (u128, u128) {
    match mechanism {
        Mechanism::Isolate => {
            let guard = isolate::enter(&SPEC);
            body();
            drop(guard);
        }
        Mechanism::Serial => serial_test::local_serial_core(vec!["handoff"], None, body),
        Mechanism::FileSerial => {
            serial_test::fs_serial_core(vec!["handoff"], Some(lock_file), body);
        }
    }
    LAST.with(Cell::get)
}

fn hold_many(mechanism: Mechanism, lock_file: &str, entries: usize) -> Vec<(u128, u128)> {
    (0..entries)
        .map(|_| {
            let interval = hold_once(mechanism, lock_file);
            std::thread::sleep(PAUSE);
            interval
        })
        .collect()
}

fn in_threads(mechanism: Mechanism, holders: usize, lock_file: &str) -> Vec<(u128, u128)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..holders)
            .map(|_| scope.spawn(|| hold_many(mechanism, lock_file, ENTRIES / holders)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("holder thread"))
            .collect()
    })
}

fn in_processes(mechanism: Mechanism, holders: usize, lock_file: &str) -> Vec<(u128, u128)> {
    let exe = std::env::current_exe().expect("the bench binary");
    let children: Vec<_> = (0..holders)
        .map(|_| {
            Command::new(&exe)
                .env(CHILD, format!("{} {}", mechanism.name(), ENTRIES / holders))
                .env("ISOLATE_HANDOFF_LOCK", lock_file)
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn a holder process")
        })
        .collect();
    children
        .into_iter()
        .flat_map(|child| {
            let output = child.wait_with_output().expect("holder process");
            assert!(output.status.success(), "a holder process failed");
            String::from_utf8(output.stdout)
                .expect("utf-8")
                .lines()
                .map(|line| {
                    let (entered, left) = line.split_once(' ').expect("two timestamps");
                    (entered.parse().expect("ns"), left.parse().expect("ns"))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (mechanism, entries) = spec.split_once(' ').expect("mechanism and count");
        let lock_file = std::env::var("ISOLATE_HANDOFF_LOCK").expect("lock file");
        for (entered, left) in hold_many(
            Mechanism::parse(mechanism),
            &lock_file,
            entries.parse().expect("count"),
        ) {
            println!("{entered} {left}");
        }
        return;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let lock_file = scratch.path().join("file_serial.lock");
    let lock_file = lock_file.to_str().expect("utf-8 temp path");

    println!(
        "| holders | where | mechanism | median (µs) | p90 (µs) | p99 (µs) | max (µs) | entries |"
    );
    println!("|---:|---|---|---:|---:|---:|---:|---:|");
    let only = std::env::var("ISOLATE_HANDOFF_WHERE").ok();
    for holders in holder_counts() {
        let configurations = [
            ("threads", Mechanism::Isolate),
            ("threads", Mechanism::Serial),
            ("processes", Mechanism::Isolate),
            ("processes", Mechanism::FileSerial),
        ];
        let chosen = configurations
            .into_iter()
            .filter(|(place, _)| only.is_none() || only.as_deref() == Some(*place));
        for (place, mechanism) in chosen {
            let intervals = if place == "threads" {
                in_threads(mechanism, holders, lock_file)
            } else {
                in_processes(mechanism, holders, lock_file)
            };
            let entries = intervals.len();
            let gaps = handoffs(intervals);
            println!(
                "| {holders} | {place} | `{}` | {:.0} | {:.0} | {:.0} | {:.0} | {entries} |",
                mechanism.name(),
                percentile(&gaps, 0.5),
                percentile(&gaps, 0.9),
                percentile(&gaps, 0.99),
                gaps[gaps.len() - 1],
            );
        }
    }
}
