//! As found: TCP tests on the suite's fixed port, and two pick-then-release port pickers.
//! `found_startup.rs` uses the same fixed port from another binary.

use isolate_offenders::{Node, request};
use std::net::TcpListener;

const TCP_PORT: u16 = 18_080;

fn pick_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The other picker found in the wild: the first port from a base that binds, released for the
/// caller to bind again. Two tests that scan at the same time both find the same number free.
fn first_free_port() -> u16 {
    (18_100..18_200)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .unwrap()
}

/// The node as the suite builds it: its fixture entries are loaded before it listens, so a port
/// picked beforehand stays unbound for that long.
fn loaded_node(id: &str) -> Node {
    let node = Node::new(id);
    for i in 0..5_000 {
        node.put(&format!("fixture{i:04}"), "v").unwrap();
    }
    node
}

fn put_and_get(node: &Node, addr: std::net::SocketAddr) {
    assert_eq!(
        request(addr, "ID").unwrap(),
        node.id(),
        "talked to another test's node"
    );
    for i in 0..20 {
        assert_eq!(request(addr, &format!("PUT k{i} v{i}")).unwrap(), "ok");
    }
    assert_eq!(request(addr, "GET k7").unwrap(), "v7");
}

#[test]
fn tcp_fixed_port_put_get() {
    let node = loaded_node("tcp-fixed-a");
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", TCP_PORT)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_fixed_port_id() {
    let node = loaded_node("tcp-fixed-b");
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", TCP_PORT)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_port_picker() {
    let port = pick_port();
    let node = loaded_node("tcp-picked");
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", port)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_port_scan_primary() {
    let port = first_free_port();
    let node = loaded_node("tcp-scan-primary");
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", port)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_port_scan_replica() {
    let port = first_free_port();
    let node = loaded_node("tcp-scan-replica");
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", port)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}
