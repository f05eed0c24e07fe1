#![allow(dead_code, unreachable_pub)]
//! As found (the post-mortem's pattern): a static "ready" flag and an init with a short
//! timeout. Each test process and binary starts its own database; tests that ask before the
//! flag is set start another one each; under load the init outlives its timeout, the flag is
//! never set, the test fails with a timeout that names neither cause, and the next test starts
//! yet another instance while the first is still migrating. Nothing ever stops them.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::{Duration, Instant};

use crate::database::{SERVER, count_start, get};

static READY: AtomicBool = AtomicBool::new(false);
static PORT: AtomicU16 = AtomicU16::new(0);

/// The database's port, starting one if this process has no ready one.
pub fn database() -> u16 {
    if READY.load(Ordering::SeqCst) {
        return PORT.load(Ordering::SeqCst);
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    count_start();
    // Never stopped, never waited for: the post-mortem's leftover instances.
    #[allow(clippy::zombie_processes)]
    Command::new(SERVER)
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_millis(600);
    while Instant::now() < deadline {
        if get(port, "/health").is_ok_and(|(status, _)| status == 200) {
            PORT.store(port, Ordering::SeqCst);
            READY.store(true, Ordering::SeqCst);
            return port;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for the database");
}
