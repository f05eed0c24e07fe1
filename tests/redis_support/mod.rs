//! A real database from Debian's packages as a run-wide fixture: one `redis-server` per run,
//! shared by the tests of `redis_users.rs` and `redis_sessions.rs` (two binaries) under both
//! runners. `.ci/run` installs `redis-server` when it is missing; elsewhere a missing binary
//! fails every test that uses the fixture with the install command.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;

use isolate::{ready, Fixture, InitError, Setup};
use serde::{Deserialize, Serialize};

/// What every test of the run gets: where the server listens, and who started it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Redis {
    pub port: u16,
    pub pid: u32,
}

/// How to install the server, for the error when it is missing.
pub const INSTALL: &str = "`sudo apt-get install -y redis-server` (Debian, Ubuntu) or \
                           `brew install redis` (macOS)";

/// `program` as a throwaway redis on `port`: no persistence, loopback only, its files in
/// `dir`.
pub fn throwaway(program: &str, port: u16, dir: &std::path::Path) -> Command {
    let mut command = Command::new(program);
    command
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--dir"])
        .arg(dir);
    command
}

/// Starts `program` as a [`throwaway`] redis in a directory of the run; then applies the
/// "migration" every test expects.
pub fn start_with(program: &str, setup: &mut Setup) -> Result<Redis, InitError> {
    let port = setup.reserved_port()?;
    let dir = setup.dir()?;
    let started = setup.spawn(&mut throwaway(program, port, &dir));
    let server = match started {
        Ok(server) => server,
        Err(error) if not_found(&error) => {
            return Err(format!("`{program}` is not installed: install it with {INSTALL}").into())
        }
        Err(error) => return Err(error.into()),
    };
    server.wait_ready(ready::tcp(("127.0.0.1", port)).within("30s"))?;
    let redis = Redis {
        port,
        pid: server.pid(),
    };
    redis.command(&["SET", "schema_version", "7"])?;
    Ok(redis)
}

fn not_found(error: &isolate::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
}

fn start_redis(setup: &mut Setup) -> Result<Redis, InitError> {
    start_with("redis-server", setup)
}

pub static REDIS: Fixture<Redis> = Fixture::new("redis", start_redis);

impl Redis {
    /// Sends one command and returns its reply's first line, like `redis-cli` would print it
    /// (`+OK` as `OK`, `:3` as `3`, `$1\r\n7` as `7`).
    pub fn command(&self, args: &[&str]) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        let request = args
            .iter()
            .fold(format!("*{}\r\n", args.len()), |request, arg| {
                request + "$" + &arg.len().to_string() + "\r\n" + arg + "\r\n"
            });
        stream.write_all(request.as_bytes())?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.starts_with('$') && !line.starts_with("$-1") {
            line.clear();
            reader.read_line(&mut line)?;
            return Ok(line.trim_end().to_owned());
        }
        if let Some(error) = line.strip_prefix('-') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Other,
                error.trim_end().to_owned(),
            ));
        }
        Ok(line.get(1..).unwrap_or_default().trim_end().to_owned())
    }
}
