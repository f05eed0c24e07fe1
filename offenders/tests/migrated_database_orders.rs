//! Migrated from `found_database_orders.rs`: one fixture for the whole run (see
//! `database/migrated.rs`).

#[path = "database/mod.rs"]
mod database;
#[path = "database/migrated.rs"]
mod migrated;

use isolate::isolated;
use migrated::DATABASE;

#[test]
#[isolated(fixture(db = DATABASE))]
fn database_orders_a() {
    database::assert_migrated(db.port);
}

#[test]
#[isolated(fixture(db = DATABASE))]
fn database_orders_b() {
    database::assert_migrated(db.port);
}
