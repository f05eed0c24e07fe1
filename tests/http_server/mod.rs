//! A tiny HTTP server for the readiness tests: answers each request as `answer(n)` says, `n`
//! counting requests from 0, and counts them.
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Serves on `127.0.0.1:0` from a detached thread; returns the address and the request count.
pub fn serve(
    answer: impl Fn(u64) -> (u16, &'static str) + Send + 'static,
) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("its address");
    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || serve_on(&listener, &answer, &counted));
    (addr, count)
}

/// The accept loop, also used by a child process playing the server.
pub fn serve_on(
    listener: &TcpListener,
    answer: &dyn Fn(u64) -> (u16, &'static str),
    count: &AtomicU64,
) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let request = read_request(&mut stream);
        if request.is_empty() {
            continue; // a TCP probe
        }
        let (status, body) = answer(count.fetch_add(1, Ordering::SeqCst));
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}

/// A request's head, as far as the client sent it (empty for a TCP probe).
pub fn read_request(stream: &mut impl Read) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    request
}
