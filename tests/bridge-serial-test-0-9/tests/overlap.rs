//! Issue 15 items 14 and 15: with isolate's `serial_test` feature, a suite on serial_test 0.9
//! gets a bridge to *its own* serial_test: `#[serial(k)]` tests and `#[isolated(serial = "k")]`
//! tests in one binary never overlap under `cargo test`, and `serial = "default"` excludes bare
//! `#[serial]`. (Under nextest every test has its own process, so nothing overlaps in one.)
#![allow(missing_docs)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use isolate::isolated;
use serial_test::serial;

static KEYED: AtomicBool = AtomicBool::new(false);
static UNNAMED: AtomicBool = AtomicBool::new(false);

/// Fails when another member of the same key is inside; stays long enough that unbridged
/// members, started together by the test threads, would meet.
fn alone(inside: &AtomicBool) {
    assert!(
        !inside.swap(true, Ordering::SeqCst),
        "a serial_test 0.9 test and an isolated test overlapped"
    );
    std::thread::sleep(Duration::from_millis(50));
    inside.store(false, Ordering::SeqCst);
}

#[test]
#[serial(bridged)]
fn unmigrated_a() {
    alone(&KEYED);
}

#[test]
#[serial(bridged)]
fn unmigrated_b() {
    alone(&KEYED);
}

#[test]
#[isolated(serial = "bridged")]
fn migrated_a() {
    alone(&KEYED);
}

#[test]
#[isolated(serial = "bridged")]
fn migrated_b() {
    alone(&KEYED);
}

#[test]
#[serial]
fn unmigrated_unnamed() {
    alone(&UNNAMED);
}

#[test]
#[isolated(serial = "default")]
fn migrated_unnamed_a() {
    alone(&UNNAMED);
}

#[test]
#[isolated(serial = "default")]
fn migrated_unnamed_b() {
    alone(&UNNAMED);
}

/// Starts every member of both keys at once, three times over, so that unbridged members
/// would certainly meet, whatever order and thread count the runner picks.
#[test]
fn members_started_together_never_overlap() {
    let bodies: [fn(); 7] = [
        unmigrated_a,
        unmigrated_b,
        migrated_a,
        migrated_b,
        unmigrated_unnamed,
        migrated_unnamed_a,
        migrated_unnamed_b,
    ];
    let threads: Vec<_> = (0..3)
        .flat_map(|_| bodies)
        .map(std::thread::spawn)
        .collect();
    for thread in threads {
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }
}
