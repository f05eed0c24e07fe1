//! As found: two gossiping nodes on the suite's fixed UDP ports.

use isolate_offenders::Node;
use std::net::UdpSocket;
use std::time::Duration;

const GOSSIP_A: u16 = 18_090;
const GOSSIP_B: u16 = 18_091;

fn gossip_round(key: &str) {
    let (a, b) = (
        Node::new(&format!("udp-a-{key}")),
        Node::new(&format!("udp-b-{key}")),
    );
    let socket_a = UdpSocket::bind(("127.0.0.1", GOSSIP_A)).unwrap();
    let socket_b = UdpSocket::bind(("127.0.0.1", GOSSIP_B)).unwrap();
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
fn udp_gossip_members() {
    gossip_round("members");
}

#[test]
fn udp_gossip_leader() {
    gossip_round("leader");
}
