//! The offender suite's slow starter: binds its port at once, then "initialises" for a random
//! few hundred milliseconds (longer under load: part of it is CPU work), answering `/health`
//! with 503 and every other path with 404 meanwhile, as a real server whose routes are not
//! registered yet. Then `/health` answers 200 `ok` and `/api/items` 200 with the items.
//!
//! usage: initialising-server --port N
//!
//! It never stops by itself before ten minutes, so a test that forgets it leaves an orphan
//! holding the port (the safety net only keeps a manual run from leaking it for ever).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LIFETIME: Duration = Duration::from_mins(10);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = match args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
    {
        Some(port) => port
            .parse::<u16>()
            .unwrap_or_else(|_| fail(&format!("bad port `{port}`"))),
        None => fail("usage: initialising-server --port N"),
    };
    let listener = TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| fail(&format!("cannot bind 127.0.0.1:{port}: {e}")));
    println!("bound 127.0.0.1:{port}, initialising");
    let ready = Arc::new(AtomicBool::new(false));
    let initialised = Arc::clone(&ready);
    std::thread::spawn(move || {
        initialise();
        initialised.store(true, Ordering::SeqCst);
        println!("ready");
    });
    std::thread::spawn(|| {
        std::thread::sleep(LIFETIME);
        std::process::exit(0);
    });
    for stream in listener.incoming().flatten() {
        let ready = Arc::clone(&ready);
        std::thread::spawn(move || answer(stream, ready.load(Ordering::SeqCst)));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("initialising-server: {message}");
    std::process::exit(2);
}

/// 100 to 350 ms asleep (loading, say), then CPU work that takes ~30 ms on an idle core and
/// much longer on a loaded one.
fn initialise() {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id();
    std::thread::sleep(Duration::from_millis(100 + u64::from(seed % 250)));
    let mut x = u64::from(seed);
    for _ in 0..10_000_000u64 {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

fn answer(mut stream: TcpStream, ready: bool) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split(' ').nth(1).unwrap_or("/");
    let (status, body) = match (ready, path) {
        (false, "/health") => ("503 Service Unavailable", "initialising"),
        (true, "/health") => ("200 OK", "ok"),
        (true, "/api/items") => ("200 OK", "items: apple, pear"),
        // Routes are registered only once initialised.
        _ => ("404 Not Found", "no such route"),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
