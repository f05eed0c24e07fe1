#![allow(unused_variables)]
use isolate::{isolated, Fixture, InitError, Setup};

fn start(_: &mut Setup) -> Result<u32, InitError> {
    Ok(1)
}

static DB: Fixture<u32> = Fixture::new("db", start);

#[isolated(fixture(db = "DB"))]
fn not_a_path() {}

#[isolated(fixture(db = DB, other = DB))]
fn same_fixture_twice() {}

#[isolated(fixture(port = DB), port)]
fn binding_clash() {}

#[isolated(fixture(DB))]
fn no_name() {}

#[isolated(fixture(db = DB))]
fn parameter_clash(db: u8) {}

fn main() {}
