//! Migrated from `found_persistence.rs`: the journal goes into the test's own `tmpdir`.

use isolate::isolated;
use isolate_offenders::Node;
use std::path::Path;

fn journal_round_trip(prefix: &str, dir: &Path) {
    let node = Node::with_storage(prefix, dir).unwrap();
    for i in 0..30 {
        node.put(&format!("{prefix}{i:02}"), "v").unwrap();
    }
    let reopened = Node::with_storage(prefix, dir).unwrap();
    let expected: Vec<String> = (0..30).map(|i| format!("{prefix}{i:02}")).collect();
    assert_eq!(
        reopened.keys(),
        expected,
        "the journal holds another test's entries"
    );
}

#[test]
#[isolated(tmpdir)]
fn persistence_filesystem_orders() {
    journal_round_trip("order", tmpdir.path());
}

#[test]
#[isolated(tmpdir)]
fn persistence_filesystem_users() {
    journal_round_trip("user", tmpdir.path());
}
