//! As found: tests that each hold hundreds of connections at once, beside each other.

use isolate_offenders::Node;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

fn many_connections() {
    let node = Node::new("heavy");
    let server = node
        .serve_tcp(TcpListener::bind("127.0.0.1:0").unwrap())
        .unwrap();
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
fn heavy_connections_a() {
    many_connections();
}

#[test]
fn heavy_connections_b() {
    many_connections();
}

#[test]
fn heavy_connections_c() {
    many_connections();
}

#[test]
fn heavy_connections_d() {
    many_connections();
}
