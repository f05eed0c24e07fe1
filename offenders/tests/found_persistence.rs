//! As found: the store's journal in one fixed directory under the temp dir.

use isolate_offenders::Node;
use std::path::PathBuf;

fn store_dir() -> PathBuf {
    std::env::temp_dir().join("isolate-offenders-store")
}

fn journal_round_trip(prefix: &str) {
    let dir = store_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let node = Node::with_storage(prefix, &dir).unwrap();
    for i in 0..30 {
        node.put(&format!("{prefix}{i:02}"), "v").unwrap();
    }
    let reopened = Node::with_storage(prefix, &dir).unwrap();
    let expected: Vec<String> = (0..30).map(|i| format!("{prefix}{i:02}")).collect();
    assert_eq!(
        reopened.keys(),
        expected,
        "the journal holds another test's entries"
    );
}

#[test]
fn persistence_filesystem_orders() {
    journal_round_trip("order");
}

#[test]
fn persistence_filesystem_users() {
    journal_round_trip("user");
}
