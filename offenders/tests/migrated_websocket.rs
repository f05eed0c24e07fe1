//! Migrated from `found_websocket.rs`: the shared notifier gets a held port instead of the fixed
//! one, and its subscribers join one serial group, so they never overlap.

use isolate::isolated;
use isolate_offenders::ws;
use std::net::SocketAddr;
use std::sync::OnceLock;

fn notifier() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR
        .get_or_init(|| ws::start_notifier(isolate::Port::bind().unwrap().into_listener()).unwrap())
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
#[isolated(serial = "offenders-notifier")]
fn websocket_subscribe_alice() {
    subscribe_a_few_times("alice");
}

#[test]
#[isolated(serial = "offenders-notifier")]
fn websocket_subscribe_bob() {
    subscribe_a_few_times("bob");
}

#[test]
#[isolated(serial = "offenders-notifier")]
fn websocket_subscribe_carol() {
    subscribe_a_few_times("carol");
}
