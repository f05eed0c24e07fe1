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
    let node = Node::with_fixtures("tcp-fixed-a", 5_000);
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", TCP_PORT)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_fixed_port_id() {
    let node = Node::with_fixtures("tcp-fixed-b", 5_000);
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", TCP_PORT)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_port_picker() {
    let port = pick_port();
    let node = Node::with_fixtures("tcp-picked", 5_000);
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", port)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_port_scan_primary() {
    let port = first_free_port();
    let node = Node::with_fixtures("tcp-scan-primary", 5_000);
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", port)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}

#[test]
fn tcp_port_scan_replica() {
    let port = first_free_port();
    let node = Node::with_fixtures("tcp-scan-replica", 5_000);
    let server = node
        .serve_tcp(TcpListener::bind(("127.0.0.1", port)).unwrap())
        .unwrap();
    put_and_get(&node, server.addr());
}
