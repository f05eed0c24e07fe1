//! As found: the backup job's tests, written by copying `found_admin.rs`: the same fixed port,
//! the same snapshot file, and a static mutex of their own. Each binary passes alone under
//! `cargo test`; under nextest or two runs at once they take each other's port and file.

use isolate_offenders::snapshot_round_trip;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Mutex;

const ADMIN_PORT: u16 = 18_070;

static BACKUP: Mutex<()> = Mutex::new(());

fn snapshot_file() -> PathBuf {
    std::env::temp_dir().join("isolate-offenders-snapshot")
}

#[test]
fn backup_snapshot_nightly() {
    let _backup = BACKUP.lock().unwrap();
    let listener = TcpListener::bind(("127.0.0.1", ADMIN_PORT)).unwrap();
    snapshot_round_trip("backup-nightly", listener, &snapshot_file());
}

#[test]
fn backup_snapshot_weekly() {
    let _backup = BACKUP.lock().unwrap();
    let listener = TcpListener::bind(("127.0.0.1", ADMIN_PORT)).unwrap();
    snapshot_round_trip("backup-weekly", listener, &snapshot_file());
}
