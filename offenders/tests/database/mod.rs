//! Shared by the database family: three test binaries (`*_database_users.rs`, `_orders.rs`,
//! `_reports.rs`) that need one "database" with its migrations applied: the offender server
//! (`initialising-server`), whose initialisation takes a few hundred milliseconds idle and
//! longer under load.
//!
//! Every start of a server appends a line to the file named by `ISOLATE_OFFENDER_STARTS` (set
//! by `flake-report` per round), so the report can show how many instances a run started.
#![allow(dead_code, unreachable_pub)]

#[path = "../readiness/mod.rs"]
mod readiness;

pub use readiness::{SERVER, get};

/// Counts one start of a database instance.
pub fn count_start() {
    use std::io::Write;
    let Some(path) = std::env::var_os("ISOLATE_OFFENDER_STARTS") else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{}", std::process::id());
    }
}

/// Asks the database what a test checks: its items, migrated.
pub fn assert_migrated(port: u16) {
    let (status, body) = get(port, "/api/items").unwrap();
    assert_eq!(status, 200, "GET /api/items answered {status} {body}");
    assert!(body.contains("apple"), "GET /api/items answered {body}");
}
