//! An echo server on a port nobody else can take.
//!
//! `cargo run --example echo_server` serves one round trip on a held listener;
//! `cargo test --example echo_server` runs its tests, each with its own listener.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

/// Serves one connection: echoes each line back until the client hangs up.
fn serve_one(listener: &TcpListener) -> std::io::Result<()> {
    let (stream, _) = listener.accept()?;
    let mut writer = stream.try_clone()?;
    for line in BufReader::new(stream).lines() {
        writeln!(writer, "{}", line?)?;
    }
    Ok(())
}

/// Sends `message` and reads the echoed line.
fn round_trip(addr: std::net::SocketAddr, message: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    writeln!(stream, "{message}")?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    Ok(reply.trim_end().to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without the attribute: the runtime API the attribute uses.
    let port = isolate::Port::bind()?;
    let addr = port.addr();
    let server = thread::spawn(move || serve_one(port.listener()));
    let reply = round_trip(addr, "hello")?;
    server.join().expect("server thread panicked")?;
    println!("echo server on {addr} answered {reply:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use isolate::isolated;

    #[test]
    #[isolated(port)]
    fn echoes_a_line() {
        let addr = port.addr();
        let server = thread::spawn(move || serve_one(port.listener()));
        assert_eq!(round_trip(addr, "ping").unwrap(), "ping");
        server.join().unwrap().unwrap();
    }

    // Two servers at once: each test owns its listener, so both pass in parallel.
    #[test]
    #[isolated(port(primary, replica))]
    fn two_servers_never_share_a_port() {
        assert_ne!(primary.port(), replica.port());
        let (a, b) = (primary.addr(), replica.addr());
        let servers = [
            thread::spawn(move || serve_one(primary.listener())),
            thread::spawn(move || serve_one(replica.listener())),
        ];
        assert_eq!(round_trip(a, "to primary").unwrap(), "to primary");
        assert_eq!(round_trip(b, "to replica").unwrap(), "to replica");
        for server in servers {
            server.join().unwrap().unwrap();
        }
    }
}
