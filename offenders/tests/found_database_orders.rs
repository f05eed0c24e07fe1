//! As found: see `database/found.rs`. One of three binaries that each start their own.

#[path = "database/mod.rs"]
mod database;
#[path = "database/found.rs"]
mod found;

#[test]
fn database_orders_a() {
    database::assert_migrated(found::database());
}

#[test]
fn database_orders_b() {
    database::assert_migrated(found::database());
}
