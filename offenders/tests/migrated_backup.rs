//! Migrated from `found_backup.rs`: the same change as `migrated_admin.rs`, a port and a snapshot
//! directory of each test's own instead of the copied constants and the mutex.

use isolate::isolated;
use isolate_offenders::snapshot_round_trip;

#[test]
#[isolated(port, tmpdir)]
fn backup_snapshot_nightly() {
    snapshot_round_trip(
        "backup-nightly",
        port.into_listener(),
        &tmpdir.path().join("snapshot"),
    );
}

#[test]
#[isolated(port, tmpdir)]
fn backup_snapshot_weekly() {
    snapshot_round_trip(
        "backup-weekly",
        port.into_listener(),
        &tmpdir.path().join("snapshot"),
    );
}
