//! The library's main job in one run: the races behind flaky tests, measured as found and with
//! `isolate`, side by side.
//!
//! `cargo run --release --example demo`
//!
//! - ports: parallel tests start their servers on the suite's one fixed port; how often is the
//!   address in use? With `isolate` each test gets its own listener, already bound.
//! - groups: tests that share a service do a read-modify-write on its state from several threads;
//!   how many updates are lost? With `isolate` they join one serial group.
//! - temp dirs: tests write a journal into one fixed directory and read it back; how often do
//!   they read someone else's? With `isolate` each gets its own directory.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

const THREADS: usize = 8;

/// Runs of a test server that could not bind its port, out of `THREADS * 50`: as found, every
/// test uses the suite's one "fixed" port; with `isolate`, each holds its own listener.
fn port_bind_failures(own_ports: bool) -> usize {
    // The suite's fixed number, reserved for this demo so it collides with nothing else.
    let fixed = isolate::ReservedPort::reserve()
        .expect("reserve a port number")
        .port();
    let start = Arc::new(Barrier::new(THREADS));
    let tests: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..50)
                    .filter(|_| {
                        let server = if own_ports {
                            isolate::Port::bind()
                                .map(isolate::Port::into_listener)
                                .map_err(|_| ())
                        } else {
                            TcpListener::bind(("127.0.0.1", fixed)).map_err(|_| ())
                        };
                        // Serve briefly, then shut down: the next test may reuse the port.
                        (0..20).for_each(|_| thread::yield_now());
                        server.is_err()
                    })
                    .count()
            })
        })
        .collect();
    tests
        .into_iter()
        .map(|test| test.join().expect("test thread"))
        .sum()
}

/// Updates lost when `THREADS` tests bump one shared counter 1,000 times each.
fn lost_updates(grouped: bool) -> u64 {
    static SPEC: isolate::Spec = isolate::Spec::new("demo::bump").serial(&["isolate-demo-service"]);
    let counter = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(THREADS));
    let tests: Vec<_> = (0..THREADS)
        .map(|_| {
            let (counter, start) = (Arc::clone(&counter), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let _member = grouped.then(|| isolate::enter(&SPEC));
                for _ in 0..1_000 {
                    let value = counter.load(Ordering::SeqCst);
                    thread::yield_now();
                    counter.store(value + 1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for test in tests {
        test.join().expect("test thread");
    }
    (THREADS as u64) * 1_000 - counter.load(Ordering::SeqCst)
}

/// Tests that read back a journal someone else wrote, out of `THREADS * 50` runs.
fn wrong_journal_reads(own_dirs: bool, shared_dir: &Path) -> usize {
    let start = Arc::new(Barrier::new(THREADS));
    let tests: Vec<_> = (0..THREADS)
        .map(|i| {
            let (start, shared_dir) = (Arc::clone(&start), shared_dir.to_owned());
            thread::spawn(move || {
                start.wait();
                (0..50)
                    .filter(|run| {
                        let own = own_dirs.then(|| isolate::TmpDir::new().expect("temp dir"));
                        let dir = own
                            .as_ref()
                            .map_or(shared_dir.as_path(), isolate::TmpDir::path);
                        let entry = format!("test {i} run {run}");
                        std::fs::write(dir.join("journal"), &entry).expect("write the journal");
                        thread::yield_now();
                        std::fs::read_to_string(dir.join("journal")).ok().as_deref()
                            != Some(entry.as_str())
                    })
                    .count()
            })
        })
        .collect();
    tests
        .into_iter()
        .map(|test| test.join().expect("test thread"))
        .sum()
}

fn main() {
    let shared = isolate::TmpDir::new().expect("temp dir");
    println!("| race | as found | with isolate |");
    println!("|---|---:|---:|");
    println!(
        "| server could not bind its port: address in use (of {}) | {} | {} |",
        THREADS * 50,
        port_bind_failures(false),
        port_bind_failures(true)
    );
    println!(
        "| updates lost to overlapping tests (of {}) | {} | {} |",
        THREADS * 1_000,
        lost_updates(false),
        lost_updates(true)
    );
    println!(
        "| journal read back with another test's data (of {}) | {} | {} |",
        THREADS * 50,
        wrong_journal_reads(false, shared.path()),
        wrong_journal_reads(true, shared.path())
    );
}
