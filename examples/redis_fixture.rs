//! One real `redis-server` per run as a [`Fixture`]: started by the first test that asks,
//! shared by every test and test process of the run, stopped when the run ends.
//! `cargo run --example redis_fixture` uses it once; `cargo test --example redis_fixture` runs
//! its tests. Needs `redis-server` (`sudo apt-get install -y redis-server`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;

use isolate::{ready, Fixture, InitError, Setup};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Redis {
    port: u16,
}

fn start_redis(setup: &mut Setup) -> Result<Redis, InitError> {
    let port = setup.reserved_port()?; // a number reserved against every isolated test
    let dir = setup.dir()?; // removed when the run ends
    let server = setup
        .spawn(Command::new("redis-server").args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            &dir.to_string_lossy(),
        ]))
        .map_err(|e| format!("{e}; install it with `sudo apt-get install -y redis-server`"))?;
    server.wait_ready(ready::tcp(("127.0.0.1", port)).within("30s"))?;
    Ok(Redis { port })
}

static REDIS: Fixture<Redis> = Fixture::new("example-redis", start_redis);

/// One command, its reply's first line.
fn ping(redis: &Redis) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", redis.port))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    Ok(reply.trim_end().to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let redis = REDIS.get()?;
    println!("redis on port {} says {}", redis.port, ping(redis)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use isolate::isolated;

    #[test]
    #[isolated(fixture(redis = REDIS))]
    fn answers() {
        assert_eq!(ping(redis).unwrap(), "+PONG");
    }
}
