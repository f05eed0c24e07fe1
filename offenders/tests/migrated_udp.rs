//! Migrated from `found_udp.rs`: each test binds its own gossip sockets with `#[isolated(udp(..))]`.

use isolate::{UdpPort, isolated};
use isolate_offenders::Node;
use std::time::Duration;

fn gossip_round(key: &str, port_a: UdpPort, port_b: UdpPort) {
    let (a, b) = (
        Node::new(&format!("udp-a-{key}")),
        Node::new(&format!("udp-b-{key}")),
    );
    let socket_a = port_a.into_socket();
    let socket_b = port_b.into_socket();
    for i in 0..500 {
        a.gossip(
            &socket_a,
            socket_b.local_addr().unwrap(),
            key,
            &i.to_string(),
        )
        .unwrap();
        let (from, got_key, value) = b.receive_gossip(&socket_b, Duration::from_secs(2)).unwrap();
        assert_eq!(
            (from.as_str(), got_key.as_str(), value),
            (a.id(), key, i.to_string()),
            "gossip from another test"
        );
    }
}

#[test]
#[isolated(udp(gossip_a, gossip_b))]
fn udp_gossip_members() {
    gossip_round("members", gossip_a, gossip_b);
}

#[test]
#[isolated(udp(gossip_a, gossip_b))]
fn udp_gossip_leader() {
    gossip_round("leader", gossip_a, gossip_b);
}
