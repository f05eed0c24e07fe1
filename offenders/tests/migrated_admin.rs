//! Migrated from `found_admin.rs`: each test holds its own port and snapshot directory, so the
//! mutex that kept this binary's tests apart is gone, and the backup tests cannot collide with them.

use isolate::isolated;
use isolate_offenders::snapshot_round_trip;

#[test]
#[isolated(port, tmpdir)]
fn admin_snapshot_users() {
    snapshot_round_trip(
        "admin-users",
        port.into_listener(),
        &tmpdir.path().join("snapshot"),
    );
}

#[test]
#[isolated(port, tmpdir)]
fn admin_snapshot_orders() {
    snapshot_round_trip(
        "admin-orders",
        port.into_listener(),
        &tmpdir.path().join("snapshot"),
    );
}
