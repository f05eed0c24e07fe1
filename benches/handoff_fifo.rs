//! Prototype (issue 20): a bounded, cancellable wait on a file lock between processes that
//! wakes once per hand-off, without signals or `unsafe`, measured beside a plain blocking
//! `flock` (the floor), `serial_test`'s `#[file_serial]` and `isolate`'s own exclusive group.
//!
//! `cargo bench --bench handoff_fifo` (`-- 2 8` runs only those holder counts). Same method as
//! `benches/handoff.rs`: holder processes keep the group 2 ms per entry and pause 0.5 ms after
//! leaving, entries and exits are wall-clock timestamps, and every run checks that no two
//! holders ever overlapped. Before the table, a self-check proves the FIFO wait's guarantees:
//! the kernel behaviour it relies on, a waiter whose deadline passes returns in time, and a
//! holder killed by SIGKILL frees the waiter at once. `ISOLATE_HANDOFF_FIFO_DUMP=1` prints
//! every entry (mechanism, holder, entry ns, exit ns, wake-ups) to stderr.
//!
//! The p99 column with 8 and 16 holders is sensitive to how the run ends: a holder that is
//! left alone enters every `PAUSE`, so a less fair mechanism (whose holders finish at more
//! different times) shows gaps of about 0.5 ms there.
//!
//! # The design
//!
//! The lock file *is* a FIFO (`mkfifo`), and the lock is a `flock` on it. Every descriptor
//! that may hold the lock is opened `O_RDWR`, which on Linux counts as a writer of the FIFO;
//! nobody ever writes data. A waiter keeps one `O_RDONLY | O_NONBLOCK` descriptor and `poll`s
//! it with its remaining time: Linux reports `POLLHUP` to a reader when the FIFO has no writer
//! left (and a writer existed since the reader opened). So:
//!
//! - holding implies being a writer (the descriptor holding the flock is one), hence `POLLHUP`
//!   (no writer) implies nobody holds the lock: no spurious wake-up but losing a race;
//! - release and death are one event: closing the holder's descriptor (by `drop` or by the
//!   kernel at SIGKILL) runs `__fput`, which removes the flock (`locks_remove_file`) *before*
//!   the pipe's release drops the writer count and wakes the readers, so a woken waiter's
//!   `flock` attempt finds the lock already free;
//! - the wait is bounded and cancellable (`poll` has a timeout), and leaves nothing behind.
//!
//! Races and how [`fifo::take`] handles them are on that function.

use std::cell::Cell;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use isolate::Spec;

#[path = "common/handoff.rs"]
mod common;
use common::{handoffs, holder_counts, now_ns, percentile};

/// Entries per configuration, split evenly over its holders.
const ENTRIES: usize = 240;
const HOLD: Duration = Duration::from_millis(2);
const PAUSE: Duration = Duration::from_micros(500);
/// How long a bench holder may wait: far beyond any hand-off, so it never runs out.
const PATIENCE: Duration = Duration::from_secs(60);
/// Set in a child process: which mechanism to use and how many entries to make.
const CHILD: &str = "ISOLATE_HANDOFF_FIFO_CHILD";
/// The scratch directory of the run, in a child process.
const SCRATCH: &str = "ISOLATE_HANDOFF_FIFO_SCRATCH";

static SPEC: Spec = Spec::new("bench::handoff_fifo").serial(&["handoff_fifo"]);

/// The FIFO-notified lock: see the crate doc.
mod fifo {
    use std::io;
    use std::os::fd::OwnedFd;
    use std::path::Path;
    use std::time::Instant;

    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    use rustix::fs::{flock, mkfifoat, open, FlockOperation, Mode, OFlags, CWD};
    use rustix::io::Errno;

    /// The lock, held exclusively until dropped (closing the descriptor releases it).
    #[derive(Debug)]
    pub(crate) struct Held(#[allow(dead_code)] OwnedFd);

    /// Creates the FIFO at `path` unless it exists.
    pub(crate) fn create(path: &Path) -> io::Result<()> {
        match mkfifoat(CWD, path, Mode::RUSR | Mode::WUSR) {
            Ok(()) | Err(Errno::EXIST) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// One attempt: a fresh writer descriptor, locked without blocking, else closed again.
    fn try_take(path: &Path) -> io::Result<Option<Held>> {
        let writer = open(path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())?;
        match flock(&writer, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(Held(writer))),
            Err(Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes the lock; `None` when `deadline` passed first. Also returns how many times the
    /// wait woke up (0 when the lock was free at once).
    ///
    /// Races, and why none loses a wake-up:
    ///
    /// - Linux reports `POLLHUP` to a reader only if a writer opened since the reader did (or
    ///   one was open then). Every attempt below opens a writer *after* the reader is open, so
    ///   at every `poll` the reader is armed: it reports `POLLHUP` whenever no writer is open.
    /// - The holder releases between a failed attempt and the reader's `open`: the attempt
    ///   right after the `open` finds the lock free (a reader opened when no writer exists
    ///   would otherwise sleep until a writer comes and goes).
    /// - The holder releases between the last attempt and `poll`: no writer is left (ours was
    ///   closed on failure), so `poll` returns at once.
    /// - A new holder takes the lock between the wake-up and our attempt: its descriptor is a
    ///   writer from before it locked until after it unlocks, so the next `poll` blocks until
    ///   it is gone. Every waiter wakes on a release (so does every blocked `flock`), the
    ///   losers go back to `poll`: no spinning, because "no writer" means "not held".
    /// - Other waiters' attempts are writers for a moment: they delay a `POLLHUP` by one
    ///   `open` + `flock` + `close`, never cause one while the lock is held.
    /// - A holder (or a waiter mid-attempt) killed by SIGKILL: the kernel closes its
    ///   descriptors, which is a release: flock removed first, then readers woken.
    pub(crate) fn take(path: &Path, deadline: Instant) -> io::Result<Option<(Held, u32)>> {
        if let Some(held) = try_take(path)? {
            return Ok(Some((held, 0)));
        }
        let reader = open(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut wake_ups = 0;
        loop {
            if let Some(held) = try_take(path)? {
                return Ok(Some((held, wake_ups)));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(None);
            }
            let timeout = Timespec::try_from(remaining).expect("a representable timeout");
            match poll(&mut [PollFd::new(&reader, PollFlags::IN)], Some(&timeout)) {
                Ok(0) | Err(Errno::INTR) => {}
                Ok(_) => wake_ups += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether `reader` reports `POLLHUP` within `timeout_ms` (the self-check's probe of the
    /// kernel's behaviour).
    pub(crate) fn hangs_up(reader: &OwnedFd, timeout_ms: i64) -> bool {
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: timeout_ms * 1_000_000,
        };
        let mut fds = [PollFd::new(reader, PollFlags::IN)];
        poll(&mut fds, Some(&timeout)).expect("poll") == 1
            && fds[0].revents().contains(PollFlags::HUP)
    }

    pub(crate) fn open_reader(path: &Path) -> OwnedFd {
        open(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("open the FIFO to read")
    }

    pub(crate) fn open_writer(path: &Path) -> OwnedFd {
        open(path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty()).expect("open the FIFO")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    /// A blocking `flock` on a regular file opened per entry: one wake-up, not cancellable.
    Flock,
    /// [`fifo::take`] with a deadline.
    Fifo,
    /// `#[isolated(serial = "handoff_fifo")]`.
    Isolate,
    /// `serial_test`'s `#[file_serial(handoff)]`.
    FileSerial,
}

const MECHANISMS: [Mechanism; 4] = [
    Mechanism::Flock,
    Mechanism::Fifo,
    Mechanism::Isolate,
    Mechanism::FileSerial,
];

impl Mechanism {
    fn name(self) -> &'static str {
        match self {
            Mechanism::Flock => "flock",
            Mechanism::Fifo => "fifo",
            Mechanism::Isolate => "isolate",
            Mechanism::FileSerial => "file_serial",
        }
    }

    fn parse(name: &str) -> Mechanism {
        MECHANISMS
            .into_iter()
            .find(|m| m.name() == name)
            .expect("a mechanism name")
    }
}

/// One entry, inside the lock: entry and exit timestamps and the wait's wake-ups (FIFO only).
struct Entry {
    entered: u128,
    left: u128,
    wake_ups: u32,
}

fn body() -> (u128, u128) {
    let entered = now_ns();
    std::thread::sleep(HOLD);
    (entered, now_ns())
}

fn hold_once(mechanism: Mechanism, scratch: &Path) -> Entry {
    let mut wake_ups = 0;
    let (entered, left) = match mechanism {
        Mechanism::Flock => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(scratch.join("flock.lock"))
                .expect("open the lock file");
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).expect("flock");
            body()
        }
        Mechanism::Fifo => {
            let (held, woke) = fifo::take(&scratch.join("lock.fifo"), Instant::now() + PATIENCE)
                .expect("fifo wait")
                .expect("the lock within the patience");
            wake_ups = woke;
            let times = body();
            drop(held);
            times
        }
        Mechanism::Isolate => {
            let guard = isolate::enter(&SPEC);
            let times = body();
            drop(guard);
            times
        }
        Mechanism::FileSerial => {
            let lock = scratch.join("file_serial.lock");
            // serial_test's bodies are `fn()`: the timestamps leave through a thread-local.
            thread_local! {
                static LAST: Cell<(u128, u128)> = const { Cell::new((0, 0)) };
            }
            serial_test::fs_serial_core(
                vec!["handoff"],
                Some(lock.to_str().expect("utf-8 path")),
                || LAST.with(|last| last.set(body())),
            );
            LAST.with(Cell::get)
        }
    };
    Entry {
        entered,
        left,
        wake_ups,
    }
}

fn child(spec: &str) {
    let (mechanism, entries) = spec.split_once(' ').expect("mechanism and count");
    let scratch = PathBuf::from(std::env::var(SCRATCH).expect("scratch dir"));
    let mechanism = Mechanism::parse(mechanism);
    if mechanism == Mechanism::Fifo && entries == "hold" {
        // The crash check's holder: take the lock, say so, and wait to be killed.
        let held = fifo::take(&scratch.join("lock.fifo"), Instant::now() + PATIENCE);
        assert!(matches!(held, Ok(Some(_))), "the crash check's holder");
        println!("held");
        std::io::stdout().flush().expect("stdout");
        std::thread::sleep(Duration::from_secs(3600));
        return;
    }
    let entries: usize = entries.parse().expect("count");
    let mut out = String::new();
    for _ in 0..entries {
        let entry = hold_once(mechanism, &scratch);
        std::thread::sleep(PAUSE);
        writeln!(out, "{} {} {}", entry.entered, entry.left, entry.wake_ups).expect("a String");
    }
    print!("{out}");
}

fn spawn_child(scratch: &Path, spec: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("the bench binary"))
        .env(CHILD, spec)
        .env(SCRATCH, scratch)
        // isolate's locks in this run's scratch: other runs on the machine do not contend.
        .env("ISOLATE_DIR", scratch.join("isolate"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn a holder process")
}

fn in_processes(mechanism: Mechanism, holders: usize, scratch: &Path) -> Vec<Entry> {
    let spec = format!("{} {}", mechanism.name(), ENTRIES / holders);
    let children: Vec<_> = (0..holders).map(|_| spawn_child(scratch, &spec)).collect();
    children
        .into_iter()
        .enumerate()
        .flat_map(|(index, child)| {
            let output = child.wait_with_output().expect("holder process");
            if std::env::var_os("ISOLATE_HANDOFF_FIFO_DUMP").is_some() {
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    eprintln!("{} {index} {line}", mechanism.name());
                }
            }
            assert!(output.status.success(), "a holder process failed");
            String::from_utf8(output.stdout)
                .expect("utf-8")
                .lines()
                .map(|line| {
                    let mut fields = line.split(' ');
                    let mut next = || fields.next().expect("three fields");
                    Entry {
                        entered: next().parse().expect("ns"),
                        left: next().parse().expect("ns"),
                        wake_ups: next().parse().expect("count"),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Proves what the FIFO wait relies on and guarantees; panics loudly otherwise.
fn self_check(scratch: &Path) {
    let path = scratch.join("lock.fifo");
    fifo::create(&path).expect("mkfifo");

    // The kernel: a reader opened with no writer is not told of a hang-up until a writer has
    // come and gone (hence the attempt after opening the reader) ...
    let reader = fifo::open_reader(&path);
    assert!(!fifo::hangs_up(&reader, 20), "POLLHUP before any writer");
    drop(fifo::open_writer(&path));
    assert!(
        fifo::hangs_up(&reader, 20),
        "no POLLHUP after a writer left"
    );
    drop(reader);
    // ... and one opened while a writer is open is told when the last writer leaves.
    let writer = fifo::open_writer(&path);
    let reader = fifo::open_reader(&path);
    assert!(
        !fifo::hangs_up(&reader, 20),
        "POLLHUP while a writer is open"
    );
    drop(writer);
    assert!(
        fifo::hangs_up(&reader, 20),
        "no POLLHUP when the writer left"
    );
    drop(reader);

    // Mutual exclusion between descriptors, and a deadline that passes returns in time.
    let held = fifo::take(&path, Instant::now())
        .expect("take")
        .expect("free");
    let wait = Duration::from_millis(50);
    let start = Instant::now();
    let timed_out = fifo::take(&path, start + wait).expect("take");
    let elapsed = start.elapsed();
    assert!(timed_out.is_none(), "the lock was taken twice");
    assert!(
        elapsed >= wait && elapsed < wait + Duration::from_secs(1),
        "a 50 ms wait returned after {elapsed:?}"
    );
    drop(held);
    println!(
        "self-check: a 50 ms bounded wait on a held lock returned after {:.2} ms",
        elapsed.as_secs_f64() * 1e3
    );

    // A holder killed by SIGKILL frees the waiter at once (long before its 30 s deadline).
    let mut holder = spawn_child(scratch, "fifo hold");
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().expect("piped"))
        .read_line(&mut line)
        .expect("the holder's line");
    assert_eq!(line.trim(), "held", "the holder did not take the lock");
    let waiter = std::thread::spawn(move || {
        let taken = fifo::take(&path, Instant::now() + Duration::from_secs(30)).expect("take");
        (Instant::now(), taken)
    });
    // Let the waiter reach its poll (harmless if it is slower: it then finds the lock free).
    std::thread::sleep(Duration::from_millis(100));
    let killed = Instant::now();
    holder.kill().expect("SIGKILL the holder");
    let (acquired, taken) = waiter.join().expect("waiter thread");
    holder.wait().expect("reap the holder");
    let (_held, wake_ups) = taken.expect("the waiter got the lock after the holder's death");
    let latency = acquired.saturating_duration_since(killed);
    assert!(
        latency < Duration::from_secs(5),
        "the waiter got a dead holder's lock only after {latency:?}"
    );
    println!(
        "self-check: SIGKILL of the holder -> waiter holds the lock {:.0} µs later, after {wake_ups} wake-up(s)",
        latency.as_secs_f64() * 1e6
    );
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    self_check(scratch.path());

    println!(
        "| holders | mechanism | median (µs) | p90 (µs) | p99 (µs) | max (µs) | wake-ups/entry | entries |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for (round, holders) in holder_counts().into_iter().enumerate() {
        // Each holder count starts with another mechanism, so none always runs first.
        let mut order = MECHANISMS;
        order.rotate_left(round % MECHANISMS.len());
        let mut rows: Vec<(Mechanism, String)> = order
            .into_iter()
            .map(|mechanism| {
                let entries = in_processes(mechanism, holders, scratch.path());
                let gaps = handoffs(entries.iter().map(|e| (e.entered, e.left)).collect());
                let wake_ups = if mechanism == Mechanism::Fifo {
                    let total: u32 = entries.iter().map(|e| e.wake_ups).sum();
                    #[allow(clippy::cast_precision_loss)]
                    let per_entry = f64::from(total) / entries.len() as f64;
                    format!("{per_entry:.2}")
                } else {
                    "-".to_owned()
                };
                let row = format!(
                    "| {holders} | `{}` | {:.0} | {:.0} | {:.0} | {:.0} | {wake_ups} | {} |",
                    mechanism.name(),
                    percentile(&gaps, 0.5),
                    percentile(&gaps, 0.9),
                    percentile(&gaps, 0.99),
                    gaps[gaps.len() - 1],
                    entries.len(),
                );
                (mechanism, row)
            })
            .collect();
        rows.sort_by_key(|(mechanism, _)| MECHANISMS.iter().position(|m| m == mechanism));
        for (_, row) in rows {
            println!("{row}");
        }
    }
}
