//! As found: subscribers connect to one shared notifier, started once on the suite's fixed port.

use isolate_offenders::ws;
use std::net::{SocketAddr, TcpListener};
use std::sync::OnceLock;

const WS_PORT: u16 = 18_085;

fn notifier() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        // Another binary may have started it already: then use that one.
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", WS_PORT)) {
            ws::start_notifier(listener).unwrap();
        }
        SocketAddr::from(([127, 0, 0, 1], WS_PORT))
    })
}

fn subscribe_a_few_times(name: &str) {
    for _ in 0..10 {
        assert_eq!(
            ws::subscribe(notifier(), name).unwrap(),
            format!("hello {name}")
        );
    }
}

#[test]
fn websocket_subscribe_alice() {
    subscribe_a_few_times("alice");
}

#[test]
fn websocket_subscribe_bob() {
    subscribe_a_few_times("bob");
}

#[test]
fn websocket_subscribe_carol() {
    subscribe_a_few_times("carol");
}
