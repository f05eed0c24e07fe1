//! Readiness: the time from the moment a server is ready to the moment the wait for it
//! returns, for `ready::http(..).wait()` beside a sleep-based wait ("sleep a second and hope")
//! and a fixed 10 ms poll.
//!
//! `cargo bench --bench ready`. Each iteration starts a server thread on `127.0.0.1:0` that
//! answers 503 until a random instant, then 200; the waiter starts with the server. The lag is
//! measured from that instant to the wait's return. Two start-up ranges: a server ready in
//! 20-80 ms (an in-process or small server) and in 300-500 ms (a heavier one). A sleep-based
//! wait must be sized for the slowest start, so it sleeps a fixed second. Iterations:
//! `ISOLATE_BENCH_ITERATIONS` (default 10).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A server that answers 503 until `ready_at`, then 200. Returns its address.
fn server(ready_at: Instant) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let status = if Instant::now() >= ready_at {
                "200 OK"
            } else {
                "503 Starting"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    addr
}

/// One GET's status.
fn status(addr: SocketAddr) -> u16 {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = write!(
        stream,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[derive(Clone, Copy)]
enum Waiter {
    Isolate,
    Sleep,
    Poll10ms,
}

impl Waiter {
    fn name(self) -> &'static str {
        match self {
            Waiter::Isolate => "isolate ready::http",
            Waiter::Sleep => "sleep 1s, then ask",
            Waiter::Poll10ms => "fixed 10 ms poll",
        }
    }

    fn wait(self, addr: SocketAddr) {
        match self {
            Waiter::Isolate => isolate::ready::http(format!("http://{addr}/"))
                .within("10s")
                .wait()
                .expect("ready"),
            Waiter::Sleep => {
                std::thread::sleep(Duration::from_secs(1));
                assert_eq!(status(addr), 200, "slept too little");
            }
            Waiter::Poll10ms => {
                while status(addr) != 200 {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
}

/// A cheap pseudo-random number in `0..n`.
fn random(n: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    nanos.wrapping_mul(6_364_136_223_846_793_005) % n
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

fn main() {
    let iterations: usize = std::env::var("ISOLATE_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(10);
    println!("| server ready after | wait | median lag after ready | p90 lag | iterations |");
    println!("|---|---|---:|---:|---:|");
    for (low, high) in [(20u64, 80u64), (300, 500)] {
        for waiter in [Waiter::Isolate, Waiter::Poll10ms, Waiter::Sleep] {
            let mut lags: Vec<Duration> = (0..iterations)
                .map(|_| {
                    let start = Instant::now();
                    let ready_at = start + Duration::from_millis(low + random(high - low));
                    let addr = server(ready_at);
                    waiter.wait(addr);
                    Instant::now().saturating_duration_since(ready_at)
                })
                .collect();
            lags.sort();
            println!(
                "| {low}-{high} ms | {} | {:.2} ms | {:.2} ms | {iterations} |",
                waiter.name(),
                percentile(&lags, 50).as_secs_f64() * 1e3,
                percentile(&lags, 90).as_secs_f64() * 1e3,
            );
        }
    }
}
