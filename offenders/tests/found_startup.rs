//! As found: a server thread binds the suite's fixed port itself, and the test sleeps a second
//! and hopes it is up. When the bind fails, only that thread panics, silently, and the client
//! talks to whatever else holds the port (another test's node, in another binary too).

use isolate_offenders::{Node, request};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

const TCP_PORT: u16 = 18_080;

fn start_and_ask(id: &str) {
    let node = Node::new(id);
    let server_node = node.clone();
    std::thread::spawn(move || {
        let server = server_node
            .serve_tcp(TcpListener::bind(("127.0.0.1", TCP_PORT)).unwrap())
            .unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(server);
    });
    std::thread::sleep(Duration::from_secs(1));
    let addr = SocketAddr::from(([127, 0, 0, 1], TCP_PORT));
    assert_eq!(
        request(addr, "ID").unwrap(),
        id,
        "talked to another test's server"
    );
}

#[test]
fn startup_race_primary() {
    start_and_ask("startup-primary");
}

#[test]
fn startup_race_replica() {
    start_and_ask("startup-replica");
}
