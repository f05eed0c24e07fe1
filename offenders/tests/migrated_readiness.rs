//! Migrated from `found_readiness.rs`: the port is a `reserved_port` (no other isolated test
//! gets it), the server is an `isolate::Child` (stopped on drop, on pass and on panic, never
//! orphaned), and the test waits for `/health` with `ready::http` instead of sleeping.

mod readiness;

use isolate::{Child, isolated, ready};
use readiness::{SERVER, get};
use std::process::Command;

fn start_and_get(port: &isolate::ReservedPort, path: &str, expected: &str) {
    let port = port.port();
    let server = Child::spawn(Command::new(SERVER).args(["--port", &port.to_string()])).unwrap();
    server
        .wait_ready(ready::http(format!("http://127.0.0.1:{port}/health")).within("1m"))
        .unwrap();
    let (status, body) = get(port, path).unwrap();
    assert_eq!(status, 200, "GET {path} answered {status} {body}");
    assert!(body.contains(expected), "GET {path} answered {body}");
}

#[test]
#[isolated(reserved_port)]
fn readiness_lists_items() {
    start_and_get(&reserved_port, "/api/items", "apple");
}

#[test]
#[isolated(reserved_port)]
fn readiness_reports_health() {
    start_and_get(&reserved_port, "/health", "ok");
}

#[test]
#[isolated(reserved_port)]
fn readiness_lists_items_again() {
    start_and_get(&reserved_port, "/api/items", "pear");
}
