//! What a run-wide fixture saves: a real `redis-server` (the fixture of `tests/redis_*.rs`)
//! started once per run, beside starting it in every test process.
//!
//! `cargo bench --bench fixture [-- --rounds N]` (5 by default). Needs `redis-server`. Runs are
//! made as `tests/fixture.rs` makes them: a stand-in runner (`sleep`) whose pid is
//! `ISOLATE_RUN`, killed after the run, and a private `ISOLATE_DIR`. Test processes are this
//! binary re-run as children.
//!
//! - **Using a started fixture from a new process**: with the server up, 31 fresh child
//!   processes each time their first `REDIS.get()` (find the run, take the lock, read and
//!   deserialise the value); median, min and max.
//! - **A 3-binary suite**: 3 processes one after another (the shape of `cargo test`) and 12 (3
//!   binaries of 4 tests, one process per test as `cargo nextest run` makes them, one at a
//!   time), each using the server once; wall time with the fixture beside each process
//!   starting its own server (the same init, with the process as its run). Median (min-max) of
//!   the rounds, the variants alternating.

#[path = "../tests/redis_support/mod.rs"]
mod redis_support;

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis_support::REDIS;

/// Tells a child what to do: `get` (time the first get), `use` (a test using the fixture),
/// `own` (a test starting its own server).
const ROLE: &str = "FIXTURE_BENCH_ROLE";

/// A run: a stand-in runner and a private isolate directory, both gone on drop (the watcher
/// then stops the run's server).
struct Run {
    runner: Child,
    dir: tempfile::TempDir,
}

impl Run {
    fn start() -> Run {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let runner = Command::new("sleep").arg("600").spawn().expect("sleep");
        Run { runner, dir }
    }

    /// Runs one test process of this run playing `role`; returns its stdout.
    fn process(&self, role: &str) -> String {
        let output = Command::new(std::env::current_exe().unwrap())
            .env(ROLE, role)
            .env("ISOLATE_RUN", self.runner.id().to_string())
            .env("ISOLATE_DIR", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("start a test process");
        assert!(
            output.status.success(),
            "test process failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.runner.kill();
        let _ = self.runner.wait();
    }
}

/// A child's part.
fn child(role: &str) {
    if role == "own" {
        // This process is its own run: it starts its own server, as a suite without a fixture
        // does in every process.
        std::env::set_var("ISOLATE_RUN", std::process::id().to_string());
    }
    let start = Instant::now();
    let redis = REDIS.get().expect("the fixture");
    let took = start.elapsed();
    assert_eq!(redis.command(&["GET", "schema_version"]).unwrap(), "7");
    if role == "get" {
        println!("{}", took.as_nanos());
    }
}

fn sorted(mut samples: Vec<Duration>) -> Vec<Duration> {
    samples.sort();
    samples
}

/// `median (min-max)` in the given unit.
fn cell(samples: &[Duration], unit: f64, suffix: &str) -> String {
    let at = |d: Duration| d.as_secs_f64() * unit;
    format!(
        "{:.2}{suffix} ({:.2}-{:.2})",
        at(samples[samples.len() / 2]),
        at(samples[0]),
        at(samples[samples.len() - 1])
    )
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        return child(&role);
    }
    let mut rounds = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            rounds = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .expect("`--rounds` takes a positive number");
        }
    }

    let run = Run::start();
    run.process("use");
    let gets = sorted(
        (0..31)
            .map(|_| Duration::from_nanos(run.process("get").trim().parse().unwrap()))
            .collect(),
    );
    drop(run);
    println!("| first `REDIS.get()` in a new process, server up | median (min-max) |");
    println!("|---|---:|");
    println!("| 31 processes | {} |", cell(&gets, 1e3, " ms"));
    println!();

    println!("| suite | with the fixture | a server per process | saved |");
    println!("|---|---:|---:|---:|");
    for (shape, processes) in [
        ("3 processes (cargo test)", 3),
        ("12 processes (nextest)", 12),
    ] {
        let mut fixture = Vec::new();
        let mut own = Vec::new();
        for round in 0..rounds {
            for variant in [round % 2, 1 - round % 2] {
                let run = Run::start();
                let start = Instant::now();
                for _ in 0..processes {
                    run.process(if variant == 0 { "use" } else { "own" });
                }
                let took = start.elapsed();
                if variant == 0 { &mut fixture } else { &mut own }.push(took);
            }
        }
        let (fixture, own) = (sorted(fixture), sorted(own));
        let saved = own[own.len() / 2].saturating_sub(fixture[fixture.len() / 2]);
        println!(
            "| {shape} | {} | {} | {:.0} ms |",
            cell(&fixture, 1e3, " ms"),
            cell(&own, 1e3, " ms"),
            saved.as_secs_f64() * 1e3
        );
    }
}
