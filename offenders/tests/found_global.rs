//! As found: tests of the service's settings, which it reads from the environment once per
//! process, at first use (`isolate_offenders::settings()`, a `OnceLock`: the way dotenvy loads
//! `.env` once and a logger reads `RUST_LOG` once). Each writer sets its variable behind
//! `#[serial]` and expects the settings to show it; the reader, unguarded, expects the defaults.
//! Alone, or under nextest (a process per test), every test passes. Under `cargo test` (threads
//! of one process) the first test to ask for the settings fixes them for all the others: only
//! that one passes, whichever it was, whatever lock the others hold. It is the order the tests
//! start in that decides, not timing: no sleep makes it pass.
#![allow(unsafe_code)]

mod global;

use global::expect;
use serial_test::serial;

#[test]
#[serial]
fn global_log_debug() {
    // SAFETY: `#[serial]` is supposed to keep the other tests from reading meanwhile.
    unsafe { std::env::set_var("OFFENDERS_LOG", "debug") };
    expect("debug", "local");
    unsafe { std::env::remove_var("OFFENDERS_LOG") };
}

#[test]
#[serial]
fn global_log_trace() {
    unsafe { std::env::set_var("OFFENDERS_LOG", "trace") };
    expect("trace", "local");
    unsafe { std::env::remove_var("OFFENDERS_LOG") };
}

#[test]
#[serial]
fn global_region_eu() {
    unsafe { std::env::set_var("OFFENDERS_REGION", "eu-west") };
    expect("info", "eu-west");
    unsafe { std::env::remove_var("OFFENDERS_REGION") };
}

/// Sets nothing, so takes no lock: "it only reads".
#[test]
fn global_defaults() {
    expect("info", "local");
}
