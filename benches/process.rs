//! The per-test price of process-wide state: `env`, `env(read)` and `cwd` (enter plus exit,
//! restore included) beside a plain test that asks for nothing, and a `fresh_process` test
//! (one re-run of this binary) beside a plain test.
//!
//! `cargo bench --bench process`. Medians of 11 rounds; the in-process rows are the mean of
//! 1,000 iterations a round, the fresh-process row of 10 child processes a round.

use std::time::{Duration, Instant};

use isolate::{Access, Spec};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn per_run(iterations: u32, mut op: impl FnMut()) -> Duration {
    let rounds = (0..11).map(|_| {
        let start = Instant::now();
        for _ in 0..iterations {
            op();
        }
        start.elapsed() / iterations
    });
    median(rounds.collect())
}

fn enter_exit(spec: &'static Spec) {
    drop(isolate::enter(spec));
}

static PLAIN: Spec = Spec::new("bench::plain");
static ENV: Spec = Spec::new("bench::env").env(Access::Write);
static ENV_READ: Spec = Spec::new("bench::env_read").env(Access::Read);
static CWD: Spec = Spec::new("bench::cwd").cwd(Access::Write);

fn main() {
    // Run by the fresh-process row: this binary re-run as a child, which returns at once.
    if std::env::args().any(|arg| arg == "--exact") {
        return;
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let plain = per_run(1_000, || enter_exit(&PLAIN));
    println!("| attribute | µs per test | beside a plain test |");
    println!("|---|---|---|");
    println!("| (nothing) | {:.2} | |", us(plain));
    for (name, spec) in [("env", &ENV), ("env(read)", &ENV_READ), ("cwd", &CWD)] {
        let ours = per_run(1_000, || enter_exit(spec));
        println!(
            "| `{name}` | {:.2} | {:+.2} |",
            us(ours),
            us(ours) - us(plain)
        );
    }
    let exe = std::env::current_exe().unwrap();
    let fresh = per_run(10, || {
        let status = std::process::Command::new(&exe)
            .args(["--exact", "bench", "--nocapture", "--test-threads", "1"])
            .status()
            .unwrap();
        assert!(status.success());
    });
    println!(
        "| `fresh_process` (spawn and wait for this binary) | {:.0} | {:+.0} |",
        us(fresh),
        us(fresh) - us(plain)
    );
    println!(
        "({} variables in the environment)",
        std::env::vars_os().count()
    );
}
