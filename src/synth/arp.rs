//! ARP frames (Ethernet/IPv4): the broadcast request, the unicast reply, and the gratuitous
//! announcement, as a device joining the LAN sends them.
//!
//! Only Ethernet hardware and IPv4 protocol addresses; no RARP, no IPv6 neighbour discovery.

use std::io;
use std::net::Ipv4Addr;

use etherparse::{ArpEthIpv4Packet, ArpOperation, PacketBuilder};

use super::frame::{pad, vlan_id, L2Options, BROADCAST_MAC};
use super::invalid;

/// A broadcast ARP request "who has `target_ip`? tell `sender_ip`". With
/// `sender_ip == target_ip` it is a gratuitous ARP announcement.
pub fn arp_request(
    l2: L2Options,
    sender_mac: [u8; 6],
    sender_ip: Ipv4Addr,
    target_ip: Ipv4Addr,
) -> io::Result<Vec<u8>> {
    arp_frame(
        l2,
        BROADCAST_MAC,
        ArpEthIpv4Packet {
            operation: ArpOperation::REQUEST,
            sender_mac,
            sender_ipv4: sender_ip.octets(),
            target_mac: [0; 6],
            target_ipv4: target_ip.octets(),
        },
    )
}

/// A unicast ARP reply "`sender_ip` is at `sender_mac`".
pub fn arp_reply(
    l2: L2Options,
    sender_mac: [u8; 6],
    sender_ip: Ipv4Addr,
    target_mac: [u8; 6],
    target_ip: Ipv4Addr,
) -> io::Result<Vec<u8>> {
    arp_frame(
        l2,
        target_mac,
        ArpEthIpv4Packet {
            operation: ArpOperation::REPLY,
            sender_mac,
            sender_ipv4: sender_ip.octets(),
            target_mac,
            target_ipv4: target_ip.octets(),
        },
    )
}

fn arp_frame(l2: L2Options, eth_dst: [u8; 6], arp: ArpEthIpv4Packet) -> io::Result<Vec<u8>> {
    let eth = PacketBuilder::ethernet2(arp.sender_mac, eth_dst);
    let builder = match l2.vlan {
        Some(id) => eth.single_vlan(vlan_id(id)?).arp(arp.to_arp_packet()),
        None => eth.arp(arp.to_arp_packet()),
    };
    let mut frame = Vec::with_capacity(builder.size());
    builder
        .write(&mut frame)
        .map_err(|_| invalid("ARP frame could not be written"))?;
    Ok(pad(frame, l2))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const CLIENT_MAC: [u8; 6] = [0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01];
    const ROUTER_MAC: [u8; 6] = [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01];

    #[test]
    fn arp_request_and_reply() {
        let client_ip = Ipv4Addr::new(192, 168, 1, 21);
        let router_ip = Ipv4Addr::new(192, 168, 1, 1);
        let request = arp_request(L2Options::default(), CLIENT_MAC, client_ip, router_ip).unwrap();
        assert_eq!(request.len(), 60);
        assert_eq!(&request[..6], &BROADCAST_MAC);
        assert_eq!(&request[12..14], &[0x08, 0x06]);
        // htype 1, ptype 0x0800, hlen 6, plen 4, op 1
        assert_eq!(&request[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&request[22..28], &CLIENT_MAC);
        assert_eq!(&request[28..32], &client_ip.octets());
        assert_eq!(&request[32..38], &[0; 6]);
        assert_eq!(&request[38..42], &router_ip.octets());
        let reply = arp_reply(
            L2Options::default(),
            ROUTER_MAC,
            router_ip,
            CLIENT_MAC,
            client_ip,
        )
        .unwrap();
        assert_eq!(&reply[..6], &CLIENT_MAC);
        assert_eq!(&reply[6..12], &ROUTER_MAC);
        assert_eq!(&reply[20..22], &[0, 2]);
    }

    #[test]
    fn vlan_tagged_gratuitous_arp() {
        let ip = Ipv4Addr::new(192, 168, 1, 40);
        let l2 = L2Options {
            vlan: Some(7),
            pad_short_frames: false,
        };
        let frame = arp_request(l2, CLIENT_MAC, ip, ip).unwrap();
        assert_eq!(frame.len(), 14 + 4 + 28, "no padding asked for");
        assert_eq!(&frame[12..18], &[0x81, 0x00, 0x00, 7, 0x08, 0x06]);
        assert_eq!(&frame[32..36], &frame[42..46], "sender IP is the target IP");
    }
}
