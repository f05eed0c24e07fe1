//! As found: each test starts the server on its own fixed port, sleeps and hopes it has
//! initialised, asks, and kills it at the end. Under load the server is still initialising
//! (404 for the route, 503 for /health), the assertion panics, the kill never runs, and the
//! server lives on as an orphan holding the port for the next run.

mod readiness;

use readiness::{SERVER, get};
use std::process::{Command, Stdio};
use std::time::Duration;

fn start_and_get(port: u16, path: &str, expected: &str) {
    let mut server = Command::new(SERVER)
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (status, body) = get(port, path).unwrap();
    assert_eq!(status, 200, "GET {path} answered {status} {body}");
    assert!(body.contains(expected), "GET {path} answered {body}");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn readiness_lists_items() {
    start_and_get(18_090, "/api/items", "apple");
}

#[test]
fn readiness_reports_health() {
    start_and_get(18_091, "/health", "ok");
}

#[test]
fn readiness_lists_items_again() {
    start_and_get(18_092, "/api/items", "pear");
}
