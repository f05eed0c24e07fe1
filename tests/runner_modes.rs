//! What the runners' ways of running a suite leave behind: a process per test (`cargo nextest
//! run`, `fresh_process`), run after run on one machine.

mod support;

use std::fs;

use isolate::isolated;

/// A test of its own process that joins a group, as nextest runs every test; a child of
/// [`a_process_per_test_leaves_no_holder_record_behind`] only.
#[test]
#[ignore = "a child of a_process_per_test_leaves_no_holder_record_behind"]
#[isolated(serial = "runner-modes-records")]
fn member_in_a_process_of_its_own() {
    assert!(
        support::role().is_some(),
        "a child of a_process_per_test_leaves_no_holder_record_behind only"
    );
}

/// Every group member publishes a record of itself in `holders/`. Under nextest each test is
/// a process of its own, which ends with its (emptied) record still there: the records of a
/// long-lived CI machine must not grow by one per test process, run after run.
#[test]
fn a_process_per_test_leaves_no_holder_record_behind() {
    let root = support::private_root();
    let log = support::Log {
        path: root.path().join("log"),
    };
    for _ in 0..6 {
        support::run(
            &mut support::child_in(
                "member_in_a_process_of_its_own",
                "member",
                root.path(),
                &log,
            ),
            true,
        );
    }
    let records: Vec<_> = fs::read_dir(root.path().join("holders"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    // The last process's own record may stay: it ends without removing it. Dead ones go.
    assert!(records.len() <= 1, "records left behind: {records:?}");
}
