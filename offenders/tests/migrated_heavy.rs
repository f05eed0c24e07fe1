//! Migrated from `found_heavy.rs`: each test takes 300 permits of the socket budget (its server
//! side and client side of 150 connections), so heavy tests run with reduced concurrency.

use isolate::isolated;
use isolate_offenders::Node;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

fn many_connections(port: isolate::Port) {
    let node = Node::new("heavy");
    let server = node.serve_tcp(port.into_listener()).unwrap();
    let clients: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    for mut client in clients {
        writeln!(client, "ID").unwrap();
        let mut reply = String::new();
        BufReader::new(client).read_line(&mut reply).unwrap();
        assert_eq!(reply.trim(), "heavy");
    }
}

#[test]
#[isolated(port, max_sockets = 300)]
fn heavy_connections_a() {
    many_connections(port);
}

#[test]
#[isolated(port, max_sockets = 300)]
fn heavy_connections_b() {
    many_connections(port);
}

#[test]
#[isolated(port, max_sockets = 300)]
fn heavy_connections_c() {
    many_connections(port);
}

#[test]
#[isolated(port, max_sockets = 300)]
fn heavy_connections_d() {
    many_connections(port);
}
