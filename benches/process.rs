//! The per-test price of process-wide state: `env`, `env(read)` and `cwd` (enter plus exit,
//! restore included) beside a plain test that asks for nothing, with the floor of an `env`
//! writer (it copies the environment at entry and at exit: `std::env::vars_os` twice); and a
//! test in a fresh process per test: `#[isolated(fresh_process)]` beside `rusty_fork_test!`
//! (same empty body), and the bare re-run of this binary both pay.
//!
//! And a test's children: a process that starts `true` with `isolate::Child` (its first child,
//! which also starts the watchdog that kills the children's groups if the test process dies)
//! beside one that starts it with `std::process::Command`, each in a fresh process of this
//! binary per round; and, in one process, a later `Child` beside a later `Command`.
//!
//! `cargo bench --bench process [-- FILTER]` (only the rows whose name contains FILTER, beside
//! the plain one; `-- fresh` runs the three fresh-process rows). The in-process rows: medians of 11 rounds of 1,000 iterations; the
//! fresh-process rows: medians of 501 rounds of one child process each. Rows are taken in turn
//! round by round, so a burst of load hits each alike (one child per round: on a loaded machine
//! the medians of rounds of 10 swung by 10%, of single children by 2%). The children are this binary (no libtest
//! harness), so neither side pays a harness's start-up.

use std::hint::black_box;
use std::time::{Duration, Instant};

use isolate::{isolated, Access, Spec};
use rusty_fork::rusty_fork_test;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn per_round(iterations: u32, op: impl Fn()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        op();
    }
    start.elapsed() / iterations
}

/// The median of `rounds` rounds of each row, the rows taken in turn round by round, so a burst
/// of load on the machine hits every row alike.
fn medians(rows: &[(&str, fn())], rounds: usize, iterations: u32) -> Vec<Duration> {
    let mut samples = vec![Vec::new(); rows.len()];
    for _ in 0..rounds {
        for ((_, op), samples) in rows.iter().zip(&mut samples) {
            samples.push(per_round(iterations, op));
        }
    }
    samples.into_iter().map(median).collect()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The floor of both fresh-process rows: the child returns at once.
fn bare_spawn() {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "bench", "--nocapture", "--test-threads", "1"])
        .status()
        .unwrap();
    assert!(status.success());
}

fn enter_exit(spec: &'static Spec) {
    drop(isolate::enter(spec));
}

static PLAIN: Spec = Spec::new("bench::plain");
static ENV: Spec = Spec::new("bench::env").env(Access::Write);
static ENV_READ: Spec = Spec::new("bench::env_read").env(Access::Read);
static CWD: Spec = Spec::new("bench::cwd").cwd(Access::Write);

/// `true`, started and waited for with std.
fn std_true() {
    let status = std::process::Command::new("true").status().unwrap();
    assert!(status.success());
}

/// `true`, started as a test's child and stopped (reaped at once if it has exited).
fn isolate_true() {
    let child = isolate::Child::spawn(&mut std::process::Command::new("true")).unwrap();
    child.stop().unwrap();
}

/// This binary, which runs `name` (a child's part below) and exits.
fn this_binary_running(name: &str) {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .status()
        .unwrap();
    assert!(status.success());
}

// Without `#[test]` (a bench has no harness): `main` calls them, in the parent and in the child.
#[isolated(fresh_process)]
fn isolate_fresh() {}

rusty_fork_test! {
    fn rusty_forked() {}
}

fn main() {
    // A child of a fresh-process row: both crates pass the test's name after `--exact`.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--exact") {
        match args[at + 1..].iter().find(|arg| !arg.starts_with('-')) {
            Some(name) if name == "isolate_fresh" => isolate_fresh(),
            Some(name) if name == "rusty_forked" => rusty_forked(),
            Some(name) if name == "std_true" => std_true(),
            Some(name) if name == "isolate_true" => isolate_true(),
            _ => {}
        }
        return;
    }
    // `cargo bench --bench process -- env`: only the rows whose name contains `env`.
    let filter = args.iter().skip(1).find(|arg| !arg.starts_with('-'));
    // The `vars_os` rows are the floor of a writer, which copies the environment at entry and
    // at exit (`std::env::vars_os` copies every variable, two allocations each), and takes
    // both copies pair by pair (to keep the first, to compare the second with it).
    let in_process: [(&str, fn()); 7] = [
        ("(nothing)", || enter_exit(&PLAIN)),
        ("`env`", || enter_exit(&ENV)),
        ("`env(read)`", || enter_exit(&ENV_READ)),
        ("`cwd`", || enter_exit(&CWD)),
        ("(one `std::env::vars_os()` read, no lock)", || {
            drop(black_box(std::env::vars_os()));
        }),
        ("(two `vars_os()` reads: the floor of `env`)", || {
            drop(black_box(std::env::vars_os()));
            drop(black_box(std::env::vars_os()));
        }),
        ("(the same, taken pair by pair as `env` must)", || {
            for _ in 0..2 {
                std::env::vars_os().for_each(|pair| drop(black_box(pair)));
            }
        }),
    ];
    let fresh: [(&str, fn()); 3] = [
        ("(spawn and wait for this binary)", bare_spawn),
        ("`#[isolated(fresh_process)]`", isolate_fresh),
        ("`rusty_fork_test!`", rusty_forked),
    ];
    let chosen = |rows: &[(&'static str, fn())]| -> Vec<(&'static str, fn())> {
        let keep = |name: &str| filter.map_or(true, |f| name.contains(f.as_str()));
        rows.iter()
            .copied()
            .filter(|(name, _)| keep(name))
            .collect()
    };
    let mut in_process = chosen(&in_process);
    // Every other row is compared with this one.
    if in_process.first().map(|row| row.0) != Some("(nothing)") {
        in_process.insert(0, ("(nothing)", || enter_exit(&PLAIN)));
    }
    let times = medians(&in_process, 11, 1_000);
    let plain = times[0];
    println!("| attribute | µs per test | beside a plain test |");
    println!("|---|---|---|");
    println!("| (nothing) | {:.2} | |", us(plain));
    for ((name, _), ours) in in_process.iter().zip(&times).skip(1) {
        println!(
            "| {name} | {:.2} | {:+.2} |",
            us(*ours),
            us(*ours) - us(plain)
        );
    }
    // `-- fresh` runs the three rows: each is read beside the others.
    let fresh = if filter.is_some_and(|f| f == "fresh") {
        fresh.to_vec()
    } else {
        chosen(&fresh)
    };
    let times = medians(&fresh, 501, 1);
    for ((name, _), ours) in fresh.iter().zip(&times) {
        println!(
            "| {name} | {:.0} | {:+.0} |",
            us(*ours),
            us(*ours) - us(plain)
        );
    }
    if let [_, ours, rusty] = times[..] {
        println!(
            "(`fresh_process` / rusty-fork: {:.3})",
            ours.as_secs_f64() / rusty.as_secs_f64()
        );
    }
    if filter.map_or(true, |f| "child".contains(f.as_str())) {
        children();
    }
    println!(
        "({} variables in the environment)",
        std::env::vars_os().count()
    );
}

/// The child rows: a process's first child (in a fresh process per round), then later ones.
fn children() {
    let first: [(&str, fn()); 3] = [
        ("(spawn and wait for this binary)", bare_spawn),
        ("this binary, starting `true` with `Command`", || {
            this_binary_running("std_true");
        }),
        ("this binary, starting `true` with `isolate::Child`", || {
            this_binary_running("isolate_true");
        }),
    ];
    let times = medians(&first, 301, 1);
    println!("| a process's first child | µs | beside `Command` |");
    println!("|---|---|---|");
    for ((name, _), ours) in first.iter().zip(&times) {
        println!(
            "| {name} | {:.0} | {:+.0} |",
            us(*ours),
            us(*ours) - us(times[1])
        );
    }
    // The process's first child (and its watchdog) is behind us: later ones, in this process.
    isolate_true();
    let later: [(&str, fn()); 2] = [
        ("`Command`: start `true`, wait", std_true),
        ("`isolate::Child`: start `true`, stop", isolate_true),
    ];
    let times = medians(&later, 31, 20);
    println!("| a later child | µs | ratio |");
    println!("|---|---|---|");
    for ((name, _), ours) in later.iter().zip(&times) {
        println!(
            "| {name} | {:.0} | {:.2}x |",
            us(*ours),
            ours.as_secs_f64() / times[0].as_secs_f64()
        );
    }
}
