//! Migrated from `found_tcp.rs`: the test gets its listener from `#[isolated(port)]`.

use isolate::isolated;
use isolate_offenders::{Node, request};

/// The node as the suite builds it: its fixture entries are loaded before it listens.
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
#[isolated(port)]
fn tcp_fixed_port_put_get() {
    let node = loaded_node("tcp-fixed-a");
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_fixed_port_id() {
    let node = loaded_node("tcp-fixed-b");
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_port_picker() {
    let node = loaded_node("tcp-picked");
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_port_scan_primary() {
    let node = loaded_node("tcp-scan-primary");
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}

#[test]
#[isolated(port)]
fn tcp_port_scan_replica() {
    let node = loaded_node("tcp-scan-replica");
    let server = node.serve_tcp(port.into_listener()).unwrap();
    put_and_get(&node, server.addr());
}
