//! With the `serial_test` feature, `#[isolated(serial = "g")]` and `serial_test`'s `#[serial(g)]`
//! exclude each other under `cargo test`. Under nextest each test runs alone in its process, so
//! nothing can overlap in one process; `serial_test`'s lock cannot hold *across* processes, which
//! is why migrated tests should use `#[isolated]`.
#![cfg(feature = "serial_test")]

use std::sync::atomic::{AtomicBool, Ordering};

use isolate::isolated;
use serial_test::serial;

static INSIDE: AtomicBool = AtomicBool::new(false);

fn alone() {
    assert!(
        !INSIDE.swap(true, Ordering::SeqCst),
        "a #[serial] and an #[isolated] test overlapped"
    );
    for _ in 0..5_000 {
        std::thread::yield_now();
    }
    INSIDE.store(false, Ordering::SeqCst);
}

#[test]
#[serial(interop)]
fn unmigrated_a() {
    alone();
}

#[test]
#[serial(interop)]
fn unmigrated_b() {
    alone();
}

#[test]
#[isolated(serial = "interop")]
fn migrated_a() {
    alone();
}

#[test]
#[isolated(serial = "interop")]
fn migrated_b() {
    alone();
}

/// A helper with parameters gets no `serial_test` attribute (`serial_test`'s cannot wrap it):
/// it holds `interop` as isolate's group only. Called from a `#[serial(interop)]` test, whose
/// `serial_test` lock the caller holds, it overlaps nothing; and it cannot deadlock with a
/// migrated test, which takes the two locks in the same order (`serial_test`'s outside).
#[isolated(serial = "interop")]
fn migrated_helper(rounds: u32) {
    for _ in 0..rounds {
        alone();
    }
}

#[test]
#[serial(interop)]
fn unmigrated_calls_a_migrated_helper() {
    migrated_helper(2);
}
