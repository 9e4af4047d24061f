//! Test helpers shared by the TCP tests: endpoints and a decoder that reads frames back
//! with `etherparse`.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::net::Ipv4Addr;

use super::TcpCapture;
use crate::synth::frame::Endpoint;

/// One decoded segment: (time, from client, seq, ack, SYN, FIN, RST, PSH, payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seen {
    pub ts: u64,
    pub from_client: bool,
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    pub payload: Vec<u8>,
}

pub(super) fn client() -> Endpoint {
    Endpoint::new([2; 6], Ipv4Addr::new(192, 168, 1, 21), 50_000).with_ttl(128)
}

pub(super) fn server() -> Endpoint {
    Endpoint::new([4; 6], Ipv4Addr::new(104, 18, 32, 47), 443)
}

pub(super) fn decode(capture: &TcpCapture) -> Vec<Seen> {
    capture
        .packets
        .iter()
        .map(|packet| {
            let sliced = SlicedPacket::from_ethernet(&packet.data).unwrap();
            let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
                panic!("not TCP")
            };
            let from_client = match &sliced.net {
                Some(NetSlice::Ipv4(ip)) => {
                    ip.header().source_addr() == Ipv4Addr::new(192, 168, 1, 21)
                }
                Some(NetSlice::Ipv6(ip)) => ip.header().source_addr().segments()[7] == 0x23,
                _ => panic!("not IP"),
            };
            Seen {
                ts: packet.ts_nanos,
                from_client,
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                syn: tcp.syn(),
                fin: tcp.fin(),
                rst: tcp.rst(),
                psh: tcp.psh(),
                payload: tcp.payload().to_vec(),
            }
        })
        .collect()
}
