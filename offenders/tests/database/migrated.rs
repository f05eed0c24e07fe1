#![allow(unreachable_pub)]
//! Migrated: one `isolate::Fixture`. The first test of the run starts the database and waits
//! for its migrations with `ready::http` (bounded by a real limit, not a guess); every other
//! test of the run, in any thread, process or binary, waits for that one init and gets its
//! port. The run's watcher stops the server when the run ends.

use std::process::Command;

use isolate::{Fixture, InitError, Setup, ready};
use serde::{Deserialize, Serialize};

use crate::database::{SERVER, count_start};

#[derive(Debug, Serialize, Deserialize)]
pub struct Database {
    pub port: u16,
}

fn start_database(setup: &mut Setup) -> Result<Database, InitError> {
    let port = setup.reserved_port()?;
    count_start();
    let server = setup.spawn(Command::new(SERVER).args(["--port", &port.to_string()]))?;
    server.wait_ready(ready::http(format!("http://127.0.0.1:{port}/health")).within("1m"))?;
    Ok(Database { port })
}

pub static DATABASE: Fixture<Database> = Fixture::new("offender-database", start_database);
