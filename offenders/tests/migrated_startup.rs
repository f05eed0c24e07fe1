//! Migrated from `found_startup.rs`: the listener is bound before the server thread starts, so
//! the client can connect at once (the connection waits in the backlog): no sleep, no race.

use isolate::isolated;
use isolate_offenders::{Node, request};

fn start_and_ask(id: &str, port: isolate::Port) {
    let node = Node::new(id);
    let addr = port.addr();
    let server = node.serve_tcp(port.into_listener()).unwrap();
    assert_eq!(
        request(addr, "ID").unwrap(),
        id,
        "talked to another test's server"
    );
    drop(server);
}

#[test]
#[isolated(port)]
fn startup_race_primary() {
    start_and_ask("startup-primary", port);
}

#[test]
#[isolated(port)]
fn startup_race_replica() {
    start_and_ask("startup-replica", port);
}
