//! Tests that must not overlap, in one process or across processes.
//!
//! `cargo run --example serial_groups` shows four threads taking turns in one group;
//! `cargo test --example serial_groups` runs tests that would lose updates to a shared counter
//! if they overlapped (the counter stands in for a shared database or service).

use std::sync::atomic::{AtomicU64, Ordering};

/// A read-modify-write that is correct only when callers do not overlap, like a service that
/// cannot take two clients at once.
fn bump(counter: &AtomicU64) -> u64 {
    let value = counter.load(Ordering::SeqCst);
    std::thread::yield_now(); // widen the race window so an overlap would lose an update
    counter.store(value + 1, Ordering::SeqCst);
    value + 1
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn main() {
    // Without the attribute: the same group, joined through the runtime API.
    static SPEC: isolate::Spec =
        isolate::Spec::new("serial_groups::main").serial(&["isolate-example-counter"]);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let _member = isolate::enter(&SPEC);
                for _ in 0..1000 {
                    bump(&COUNTER);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker panicked");
    }
    println!(
        "4 workers x 1000 bumps, taking turns in one group: counter = {}",
        COUNTER.load(Ordering::SeqCst)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use isolate::isolated;

    // The module-level attribute applies to every test inside: they take turns.
    #[isolated(serial = "isolate-example-counter")]
    mod counter {
        use super::*;

        fn bumps_in_a_row() {
            let before = COUNTER.load(Ordering::SeqCst);
            for i in 1..=1000 {
                assert_eq!(
                    bump(&COUNTER),
                    before + i,
                    "another test bumped the counter meanwhile"
                );
            }
        }

        #[test]
        fn no_update_lost_a() {
            bumps_in_a_row();
        }

        #[test]
        fn no_update_lost_b() {
            bumps_in_a_row();
        }

        #[test]
        fn no_update_lost_c() {
            bumps_in_a_row();
        }
    }
}
