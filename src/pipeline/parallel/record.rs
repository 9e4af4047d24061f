//! What the decoding side hands the stages for each frame of a batch: a `Record`, and beside
//! it a `Cold` record of what the stages seldom read.
//!
//! The decoding side writes them and the stages read them back, on two threads on the other
//! core, so what the stages read for every packet — its route, its flow's key and counters —
//! is kept to one cache line: 64 bytes, the addresses already in the form flow keys are made
//! from. (A record 64 bytes longer cost each thread about 4 ms of a run on the bench input.)
//! The MACs, the VLAN, the TCP acknowledgment number and the frame's length are apart, read
//! for a packet that starts a flow, is read for its name, or goes to the name stage. The
//! payload is a place in the batch rather than a reference (a batch cannot hold references
//! into itself).

use super::super::route::{route_of, NameWork, Route};
use crate::decode::{PacketMeta, Plain, Transport};
use crate::flow::{addr_bits, addr_from_bits, FlowKey, Seen};

/// Where a packet's payload is: in the batch's buffer, or (for a datagram reassembled from
/// fragments) in the side buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) len: u32,
    pub(super) side: bool,
}

/// `Record::bits`: what the record is (an IP packet, an ARP frame, or neither: nothing for
/// the stages, or a frame the fast path left to the general decoder until it is finished)...
const IP: u8 = 1;
const ARP: u8 = 1 << 1;
/// ... and which of its optional parts it has.
const V6: u8 = 1 << 2;
const SRC_MAC: u8 = 1 << 3;
const DST_MAC: u8 = 1 << 4;
const VLAN: u8 = 1 << 5;
const TRUNCATED: u8 = 1 << 6;
const SIDE: u8 = 1 << 7;

/// `Record::transport`.
const TCP: u8 = 0;
const UDP: u8 = 1;
const ICMP: u8 = 2;
const OTHER: u8 = 3;

/// One frame of a batch, decoded: what the stages read for every packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Record {
    /// Addresses as `addr_bits` gives them (IPv4 ones IPv4-mapped; `V6` tells them apart).
    src_ip: u128,
    dst_ip: u128,
    pub(super) ts_nanos: u64,
    ip_len: u32,
    seq: u32,
    payload_start: u32,
    payload_len: u32,
    src_port: u16,
    dst_port: u16,
    tcp_flags: u8,
    /// `TCP`, `UDP`, `ICMP` or `OTHER` (the protocol number in `other`).
    transport: u8,
    other: u8,
    bits: u8,
}

/// The rest of a frame's record: what the stages read only now and then.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cold {
    ack: u32,
    wire_len: u32,
    vlan: u16,
    /// An IP packet's MACs; an ARP frame's sender in `src_mac`.
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
}

const _: () = assert!(std::mem::size_of::<Record>() == 64);

/// The fields a record takes from a decoded packet, whether the decoder's meta or the fast
/// path's `Plain` (the addresses and MACs, which the two hold differently, are passed apart).
trait IpFields {
    fn transport(&self) -> Transport;
    fn ts_nanos(&self) -> u64;
    fn ip_len(&self) -> u32;
    fn ports(&self) -> (u16, u16);
    fn v6(&self) -> bool;
    fn vlan(&self) -> Option<u16>;
    fn truncated(&self) -> bool;
    fn wire_len(&self) -> u32;
}

/// `IpFields` for the two forms, whose fields have the same names.
macro_rules! ip_fields {
    ($form:ty, $v6:expr) => {
        impl IpFields for $form {
            fn transport(&self) -> Transport {
                self.transport
            }
            fn ts_nanos(&self) -> u64 {
                self.ts_nanos
            }
            fn ip_len(&self) -> u32 {
                self.ip_len
            }
            fn ports(&self) -> (u16, u16) {
                (self.src_port, self.dst_port)
            }
            fn v6(&self) -> bool {
                $v6(self)
            }
            fn vlan(&self) -> Option<u16> {
                self.vlan
            }
            fn truncated(&self) -> bool {
                self.payload_truncated
            }
            fn wire_len(&self) -> u32 {
                self.wire_len
            }
        }
    };
}

ip_fields!(PacketMeta<'_>, |meta: &PacketMeta<'_>| meta
    .src_ip
    .is_ipv6());
ip_fields!(Plain<'_>, |plain: &Plain<'_>| plain.v6);

impl Record {
    /// Nothing for the stages (or a hole until `finish_decode`).
    pub(super) const SKIP: Record = Record {
        src_ip: 0,
        dst_ip: 0,
        ts_nanos: 0,
        ip_len: 0,
        seq: 0,
        payload_start: 0,
        payload_len: 0,
        src_port: 0,
        dst_port: 0,
        tcp_flags: 0,
        transport: 0,
        other: 0,
        bits: 0,
    };

    /// An IP packet, its payload at `payload` (`meta.payload` is not looked at).
    #[inline(always)]
    pub(super) fn ip(meta: &PacketMeta<'_>, payload: Span) -> (Record, Cold) {
        let macs = (meta.src_mac, meta.dst_mac);
        Record::of(
            meta,
            (addr_bits(meta.src_ip), addr_bits(meta.dst_ip)),
            macs,
            payload,
        )
    }

    /// A plain frame as the fast path read it (`Decoder::decode_plain_parts`), its payload at
    /// `payload`: the same record as `Record::ip` makes of its meta, without making the meta
    /// (its addresses are already as flow keys take them, its MACs always there).
    #[inline(always)]
    pub(super) fn plain(plain: &Plain<'_>, payload: Span) -> (Record, Cold) {
        let macs = (Some(plain.src_mac()), Some(plain.dst_mac()));
        Record::of(plain, (plain.src_ip, plain.dst_ip), macs, payload)
    }

    /// The record of a packet read through `fields`, its addresses as `addr_bits` gives them.
    #[inline(always)]
    fn of(
        fields: &impl IpFields,
        (src_ip, dst_ip): (u128, u128),
        (src_mac, dst_mac): (Option<[u8; 6]>, Option<[u8; 6]>),
        payload: Span,
    ) -> (Record, Cold) {
        let (transport, other, seq, ack, tcp_flags) = match fields.transport() {
            Transport::Tcp { seq, ack, flags } => (TCP, 0, seq, ack, flags),
            Transport::Udp => (UDP, 0, 0, 0, 0),
            Transport::Icmp => (ICMP, 0, 0, 0, 0),
            Transport::Other(protocol) => (OTHER, protocol, 0, 0, 0),
        };
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        let vlan = fields.vlan();
        let record = Record {
            src_ip,
            dst_ip,
            ts_nanos: fields.ts_nanos(),
            ip_len: fields.ip_len(),
            seq,
            payload_start: payload.start,
            payload_len: payload.len,
            src_port: fields.ports().0,
            dst_port: fields.ports().1,
            tcp_flags,
            transport,
            other,
            bits: IP
                | flag(fields.v6(), V6)
                | flag(src_mac.is_some(), SRC_MAC)
                | flag(dst_mac.is_some(), DST_MAC)
                | flag(vlan.is_some(), VLAN)
                | flag(fields.truncated(), TRUNCATED)
                | flag(payload.side, SIDE),
        };
        let cold = Cold {
            ack,
            wire_len: fields.wire_len(),
            vlan: vlan.unwrap_or(0),
            src_mac: src_mac.unwrap_or_default(),
            dst_mac: dst_mac.unwrap_or_default(),
        };
        (record, cold)
    }

    /// An ARP frame: its sender's MAC, and the ARP message at `payload`.
    pub(super) fn arp(src_mac: Option<[u8; 6]>, payload: Span) -> (Record, Cold) {
        let record = Record {
            payload_start: payload.start,
            payload_len: payload.len,
            bits: ARP
                | if src_mac.is_some() { SRC_MAC } else { 0 }
                | if payload.side { SIDE } else { 0 },
            ..Record::SKIP
        };
        let cold = Cold {
            src_mac: src_mac.unwrap_or_default(),
            ..Cold::default()
        };
        (record, cold)
    }

    /// Whether the name stage reads this record, and what it does with it: an ARP frame
    /// always; an IP packet (of route `route`) when its route has work for it.
    pub(super) fn named(&self, route: &Route) -> Option<NameWork> {
        if self.is_arp() {
            Some(NameWork::Nothing)
        } else {
            (self.is_ip() && route.names != NameWork::Nothing).then_some(route.names)
        }
    }

    pub(super) fn is_ip(&self) -> bool {
        self.bits & IP != 0
    }

    pub(super) fn is_arp(&self) -> bool {
        self.bits & ARP != 0
    }

    pub(super) fn payload(&self) -> Span {
        Span {
            start: self.payload_start,
            len: self.payload_len,
            side: self.bits & SIDE != 0,
        }
    }

    fn v6(&self) -> bool {
        self.bits & V6 != 0
    }

    /// An IP packet's route (`route::route` of its meta), its flow key made from the
    /// addresses as they are stored; nothing for any other record. A route depends on
    /// transport and ports only, not on the payload.
    #[inline(always)]
    pub(super) fn route(&self) -> Route {
        if !self.is_ip() {
            return Route::NONE;
        }
        let transport = match self.transport {
            // Only the kind counts for a route.
            TCP => Transport::Tcp {
                seq: 0,
                ack: 0,
                flags: 0,
            },
            UDP => Transport::Udp,
            ICMP => Transport::Icmp,
            _ => Transport::Other(self.other),
        };
        route_of(transport, self.src_port, self.dst_port, |protocol| {
            FlowKey::from_bits(
                protocol,
                self.v6(),
                (self.src_ip, self.src_port),
                (self.dst_ip, self.dst_port),
            )
        })
    }

    /// `route` (this record's `route()`) as `route::route` makes it of the packet's meta: a
    /// DHCP packet's flow told apart by its MACs (`Route::unaddressed`). The stages ask for
    /// the packets the name stage reads only; no other route changes.
    pub(super) fn unaddressed(&self, route: &mut Route, cold: Option<&Cold>) {
        route.unaddressed(|| {
            let mac = |mac: [u8; 6], bit: u8| (self.bits & bit != 0).then_some(mac);
            cold.map_or((None, None), |cold| {
                (mac(cold.src_mac, SRC_MAC), mac(cold.dst_mac, DST_MAC))
            })
        });
    }

    /// The record with its cold part, as the flow table reads a packet.
    pub(super) fn with<'r>(&'r self, cold: &'r Cold) -> Packet<'r> {
        Packet { hot: self, cold }
    }
}

/// A record and its cold part.
#[derive(Clone, Copy)]
pub(super) struct Packet<'r> {
    hot: &'r Record,
    cold: &'r Cold,
}

impl Packet<'_> {
    /// An IP packet's meta again, with its payload.
    pub(super) fn meta_with<'a>(&self, payload: &'a [u8]) -> PacketMeta<'a> {
        let (hot, cold) = (self.hot, self.cold);
        let mac = |mac: [u8; 6], bit: u8| (hot.bits & bit != 0).then_some(mac);
        PacketMeta {
            ts_nanos: hot.ts_nanos,
            src_mac: mac(cold.src_mac, SRC_MAC),
            dst_mac: mac(cold.dst_mac, DST_MAC),
            vlan: (hot.bits & VLAN != 0).then_some(cold.vlan),
            src_ip: addr_from_bits(hot.src_ip, hot.v6()),
            dst_ip: addr_from_bits(hot.dst_ip, hot.v6()),
            transport: match hot.transport {
                TCP => Transport::Tcp {
                    seq: hot.seq,
                    ack: cold.ack,
                    flags: hot.tcp_flags,
                },
                UDP => Transport::Udp,
                ICMP => Transport::Icmp,
                _ => Transport::Other(hot.other),
            },
            src_port: hot.src_port,
            dst_port: hot.dst_port,
            payload,
            payload_truncated: hot.bits & TRUNCATED != 0,
            ip_len: hot.ip_len,
            wire_len: cold.wire_len,
        }
    }
}

impl Seen for Packet<'_> {
    fn ts_nanos(&self) -> u64 {
        self.hot.ts_nanos
    }
    fn ip_len(&self) -> u32 {
        self.hot.ip_len
    }
    fn tcp(&self) -> Option<(u32, u8)> {
        (self.hot.transport == TCP).then_some((self.hot.seq, self.hot.tcp_flags))
    }
    fn tcp_ack(&self) -> u32 {
        if self.hot.transport == TCP {
            self.cold.ack
        } else {
            0
        }
    }
    fn src_mac(&self) -> Option<[u8; 6]> {
        (self.hot.bits & SRC_MAC != 0).then_some(self.cold.src_mac)
    }
    fn meta(&self) -> PacketMeta<'static> {
        self.meta_with(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::route::route;

    /// Every kind of meta comes back as it went in, with the same route, and the flow table
    /// reads the same of it.
    #[test]
    fn a_meta_comes_back_whole() {
        let payload = [1u8, 2, 3];
        let base = PacketMeta {
            ts_nanos: 1_700_000_000_123_456_789,
            src_mac: Some([1, 2, 3, 4, 5, 6]),
            dst_mac: None,
            vlan: Some(0),
            src_ip: "192.168.1.20".parse().unwrap(),
            dst_ip: "104.18.32.47".parse().unwrap(),
            transport: Transport::Tcp {
                seq: u32::MAX,
                ack: 7,
                flags: 0x12,
            },
            src_port: 51_000,
            dst_port: 443,
            payload: &payload,
            payload_truncated: true,
            ip_len: 1500,
            wire_len: 1514,
        };
        let v6 = PacketMeta {
            src_mac: None,
            dst_mac: Some([0xff; 6]),
            vlan: None,
            src_ip: "fe80::1".parse().unwrap(),
            dst_ip: "::ffff:10.0.0.1".parse().unwrap(),
            transport: Transport::Udp,
            src_port: 5353,
            dst_port: 53,
            payload_truncated: false,
            ..base
        };
        let icmp = PacketMeta {
            transport: Transport::Icmp,
            src_ip: "10.0.0.1".parse().unwrap(),
            dst_ip: "0.0.0.0".parse().unwrap(),
            ..base
        };
        let other = PacketMeta {
            transport: Transport::Other(50),
            ..v6
        };
        // A DHCP client without an address: its flow takes its MAC.
        let dhcp = PacketMeta {
            src_ip: "0.0.0.0".parse().unwrap(),
            dst_ip: "255.255.255.255".parse().unwrap(),
            transport: Transport::Udp,
            src_port: 68,
            dst_port: 67,
            dst_mac: Some([0xff; 6]),
            ..base
        };
        let span = Span {
            start: 9,
            len: 3,
            side: true,
        };
        for meta in [base, v6, icmp, other, dhcp] {
            let (record, cold) = Record::ip(&meta, span);
            let packet = record.with(&cold);
            assert!(record.is_ip() && !record.is_arp());
            assert_eq!(record.payload(), span);
            assert_eq!(packet.meta_with(&payload), meta);
            let mut got = record.route();
            record.unaddressed(&mut got, Some(&cold));
            let want = route(&meta);
            assert_eq!(got.names, want.names);
            assert_eq!(got.name_flow, want.name_flow);
            assert_eq!(got.flow, want.flow);
            if meta.src_port == 68 {
                assert_ne!(got.flow, record.route().flow, "the MAC is in the key");
            }
            assert_eq!(
                got.flow.map(|k| k.shard(16)),
                want.flow.map(|k| k.shard(16))
            );
            assert_eq!(got.flow.map(|k| k.sender()), want.flow.map(|k| k.sender()));
            assert_eq!(packet.ts_nanos(), Seen::ts_nanos(&meta));
            assert_eq!(packet.ip_len(), Seen::ip_len(&meta));
            assert_eq!(packet.tcp(), Seen::tcp(&meta));
            assert_eq!(packet.tcp_ack(), Seen::tcp_ack(&meta));
            assert_eq!(packet.src_mac(), Seen::src_mac(&meta));
            assert_eq!(packet.meta(), Seen::meta(&meta));
        }
        let (arp, cold) = Record::arp(Some([9; 6]), span);
        assert!(arp.is_arp() && !arp.is_ip());
        assert_eq!(arp.with(&cold).src_mac(), Some([9; 6]));
        let (arp, cold) = Record::arp(None, span);
        assert_eq!(arp.with(&cold).src_mac(), None);
        assert!(!Record::SKIP.is_ip() && !Record::SKIP.is_arp());
    }

    /// The record made straight from the fast path's fields (`Record::plain`) is the one
    /// `Record::ip` makes of the meta, on every frame the fast path takes in the bundled
    /// sample and in the public corpus (when present), with the payload in the batch and aside.
    #[test]
    fn a_plain_frames_record_is_its_metas() {
        use crate::decode::Decoder;

        let check = |bytes: Vec<u8>| -> usize {
            let mut taken = 0;
            crate::testkit::each_packet(bytes, |packet| {
                let Some(plain) = Decoder::decode_plain_parts(packet) else {
                    return;
                };
                for side in [false, true] {
                    let span = Span {
                        start: 17,
                        len: plain.payload.len() as u32,
                        side,
                    };
                    let (record, cold) = Record::plain(&plain, span);
                    assert_eq!((record, cold), Record::ip(&plain.meta(), span));
                    assert_eq!(
                        record.with(&cold).meta_with(plain.payload),
                        plain.meta(),
                        "{:02x?}",
                        packet.data
                    );
                }
                taken += 1;
            });
            taken
        };
        let sample = check(crate::synth::sample::office_lan_sample());
        assert!(sample > 100, "{sample}");
        let Some(files) = crate::testkit::corpus_files() else {
            eprintln!("SKIPPED (corpus part): no corpus beside the project");
            return;
        };
        let corpus: usize = files
            .into_iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(check)
            .sum();
        assert!(corpus > 100_000, "{corpus} corpus frames");
    }
}
