//! As found: the admin endpoint's tests, on the suite's fixed admin port and snapshot file. A
//! static mutex keeps them apart inside this binary, so the binary passes alone under
//! `cargo test`. `found_backup.rs` copied the same port and file: under nextest (a process per
//! test) or two runs at once, every process has its own mutex and nothing keeps them apart.

use isolate_offenders::snapshot_round_trip;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Mutex;

const ADMIN_PORT: u16 = 18_070;

static ADMIN: Mutex<()> = Mutex::new(());

fn snapshot_file() -> PathBuf {
    std::env::temp_dir().join("isolate-offenders-snapshot")
}

#[test]
fn admin_snapshot_users() {
    let _admin = ADMIN.lock().unwrap();
    let listener = TcpListener::bind(("127.0.0.1", ADMIN_PORT)).unwrap();
    snapshot_round_trip("admin-users", listener, &snapshot_file());
}

#[test]
fn admin_snapshot_orders() {
    let _admin = ADMIN.lock().unwrap();
    let listener = TcpListener::bind(("127.0.0.1", ADMIN_PORT)).unwrap();
    snapshot_round_trip("admin-orders", listener, &snapshot_file());
}
