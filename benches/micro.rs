//! The per-test price: enter plus exit of each `#[isolated(...)]` shape beside the raw
//! operation it wraps, measured in the same run, as a table of medians and ratios.
//!
//! `cargo bench --bench micro`. Each figure is the median of 11 rounds, each round the mean of
//! 1,000 iterations; the rounds alternate between the raw operation and the isolated one, so
//! noise on a shared machine hits both alike.

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use isolate::{Resource, Spec};

const ITERATIONS: u32 = 1_000;
const ROUNDS: usize = 11;

fn mean_of(mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..ITERATIONS {
        op();
    }
    start.elapsed() / ITERATIONS
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Medians of `raw` and `isolated`, measured in alternating rounds.
fn compare(mut raw: impl FnMut(), mut isolated: impl FnMut()) -> (Duration, Duration) {
    let (mut raws, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        raws.push(mean_of(&mut raw));
        ours.push(mean_of(&mut isolated));
    }
    (median(raws), median(ours))
}

/// Whether a row runs: `cargo bench --bench micro -- serial` runs the rows whose attribute
/// contains `serial` (cargo's own `--bench` flag is ignored).
fn selected(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .all(|filter| name.contains(&filter))
}

fn row(name: &str, raw_name: &str, raw: impl FnMut(), spec: &'static Spec) {
    if !selected(name) {
        return;
    }
    let (raw, ours) = compare(raw, || enter_exit(spec));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| `{name}` | {raw_name} | {:.2} | {:.2} | {:+.2} | {:.2} |",
        us(raw),
        us(ours),
        us(ours) - us(raw),
        us(ours) / us(raw)
    );
}

fn enter_exit(spec: &'static Spec) {
    drop(isolate::enter(spec));
}

fn main() {
    static PORT: Spec = Spec::new("bench::port").bind(Resource::Port, &["port"]);
    static TMPDIR: Spec = Spec::new("bench::tmpdir").bind(Resource::TmpDir, &["tmpdir"]);
    static SERIAL: Spec = Spec::new("bench::serial").serial(&["bench-serial"]);
    static SHARED: Spec = Spec::new("bench::shared").shared(&["bench-shared"]);
    static BUDGET: Spec = Spec::new("bench::budget").max_sockets(8);
    static ALL: Spec = Spec::new("bench::all")
        .bind(Resource::Port, &["port"])
        .bind(Resource::TmpDir, &["tmpdir"])
        .serial(&["bench-all-serial"])
        .shared(&["bench-all-shared"])
        .max_sockets(8);
    let scratch = tempfile::tempdir().expect("temp dir");
    let lock_path = scratch.path().join("raw.lock");
    // The raw baseline is std's own flock; benches run on the measuring toolchain, not the MSRV.
    #[allow(clippy::incompatible_msrv)]
    let lock = || {
        let file: File = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .expect("open");
        file.lock().expect("lock");
        file.unlock().expect("unlock");
    };
    let bind = || drop(TcpListener::bind("127.0.0.1:0").expect("bind"));
    let tempdir = || drop(tempfile::TempDir::new().expect("temp dir"));
    enter_exit(&ALL); // first use creates the isolate directory

    println!("| attribute | raw operation | raw (µs) | isolated (µs) | added (µs) | ratio |");
    println!("|---|---|---:|---:|---:|---:|");
    row("port", "bind 127.0.0.1:0", bind, &PORT);
    row("tmpdir", "`tempfile::TempDir::new()`", tempdir, &TMPDIR);
    row(
        "serial = \"g\"",
        "open + `File::lock` + unlock",
        lock,
        &SERIAL,
    );
    row(
        "shared = \"g\"",
        "open + `File::lock` + unlock",
        lock,
        &SHARED,
    );
    row(
        "max_sockets = 8",
        "open + `File::lock` + unlock",
        lock,
        &BUDGET,
    );
    row(
        "all together",
        "bind + `TempDir` + 3 x lock",
        || {
            bind();
            tempdir();
            lock();
            lock();
            lock();
        },
        &ALL,
    );
}
