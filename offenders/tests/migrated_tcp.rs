//! Migrated from `found_tcp.rs`: the test gets its listener from `#[isolated(port)]`.

use isolate::isolated;
use isolate_offenders::{Node, request};

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
#[isolated(port)]
fn tcp_fixed_port_put_get() {
    let node = Node::with_fixtures("tcp-fixed-a", 5_000);
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_fixed_port_id() {
    let node = Node::with_fixtures("tcp-fixed-b", 5_000);
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_port_picker() {
    let node = Node::with_fixtures("tcp-picked", 5_000);
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_port_scan_primary() {
    let node = Node::with_fixtures("tcp-scan-primary", 5_000);
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_port_scan_replica() {
    let node = Node::with_fixtures("tcp-scan-replica", 5_000);
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}
