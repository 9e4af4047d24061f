//! Single Ethernet frames: optional 802.1Q tag, IPv4 or IPv6, TCP or UDP, with correct
//! lengths and checksums (serialised by `etherparse`'s `PacketBuilder`). ARP is in
//! [`super::arp`].
//!
//! Frames shorter than Ethernet's 60-byte minimum are zero-padded by default, as a switch's
//! mirror port delivers them; decoders must take the payload length from the IP header, not
//! the frame. This file builds one frame at a time and keeps no state; sequence numbers and
//! timing belong to [`super::tcp`] and [`super::udp`]. It refuses to mix address families in
//! one packet.

use std::io;
use std::net::IpAddr;

use etherparse::{
    IpHeaders, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder, PacketBuilderStep,
    TcpHeader, VlanId,
};

use super::invalid;

/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// Smallest Ethernet frame without its FCS.
pub const MIN_FRAME_LEN: usize = 60;

/// SYN options of a Windows client: MSS 1460, NOP, window scale 8, NOP, NOP, SACK permitted.
pub const SYN_OPTIONS_CLIENT: [u8; 12] = [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2];
/// SYN-ACK options of a typical server: MSS 1460, NOP, NOP, SACK permitted, NOP, window scale 13.
pub const SYN_OPTIONS_SERVER: [u8; 12] = [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 13];

/// One side of a conversation as the capture sees it. For a host beyond the router, `mac` is
/// the router's MAC (frames to the internet are addressed to the gateway) and `ttl` is what
/// is left of the TTL when its packets reach the capture point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub mac: [u8; 6],
    pub ip: IpAddr,
    pub port: u16,
    /// IPv4 TTL or IPv6 hop limit of packets sent by this endpoint.
    pub ttl: u8,
}

impl Endpoint {
    /// An endpoint with TTL 64 (Linux, macOS, iOS, most servers).
    pub fn new(mac: [u8; 6], ip: impl Into<IpAddr>, port: u16) -> Self {
        Endpoint {
            mac,
            ip: ip.into(),
            port,
            ttl: 64,
        }
    }

    pub fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// Link-layer choices shared by every frame of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2Options {
    /// 802.1Q VLAN id (0..=4095) to tag frames with.
    pub vlan: Option<u16>,
    /// Zero-pad frames to [`MIN_FRAME_LEN`], as on the wire.
    pub pad_short_frames: bool,
}

impl Default for L2Options {
    fn default() -> Self {
        L2Options {
            vlan: None,
            pad_short_frames: true,
        }
    }
}

/// TCP flags this generator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

impl TcpFlags {
    pub const SYN: TcpFlags = TcpFlags::with(true, false, false, false, false);
    pub const SYN_ACK: TcpFlags = TcpFlags::with(true, true, false, false, false);
    pub const ACK: TcpFlags = TcpFlags::with(false, true, false, false, false);
    pub const PSH_ACK: TcpFlags = TcpFlags::with(false, true, false, false, true);
    pub const FIN_ACK: TcpFlags = TcpFlags::with(false, true, true, false, false);
    pub const RST_ACK: TcpFlags = TcpFlags::with(false, true, false, true, false);

    const fn with(syn: bool, ack: bool, fin: bool, rst: bool, psh: bool) -> Self {
        TcpFlags {
            syn,
            ack,
            fin,
            rst,
            psh,
        }
    }
}

/// The TCP header fields a caller chooses; ports come from the endpoints, lengths and the
/// checksum are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFields<'a> {
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Raw option bytes, at most 40; zero-padded (end of options) to a multiple of 4.
    pub options: &'a [u8],
}

/// Per-packet IP identity: the IPv4 identification and DF bit, or the IPv6 flow label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IpIdent {
    pub id: u16,
    pub dont_fragment: bool,
    /// Only the low 20 bits are used.
    pub flow_label: u32,
}

/// A TCP segment from `src` to `dst` in one Ethernet frame.
pub fn tcp_frame(
    src: &Endpoint,
    dst: &Endpoint,
    l2: L2Options,
    ident: IpIdent,
    tcp: &TcpFields<'_>,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    let mut header = TcpHeader::new(src.port, dst.port, tcp.seq, tcp.window);
    header.acknowledgment_number = tcp.ack;
    header.syn = tcp.flags.syn;
    header.ack = tcp.flags.ack;
    header.fin = tcp.flags.fin;
    header.rst = tcp.flags.rst;
    header.psh = tcp.flags.psh;
    header
        .set_options_raw(tcp.options)
        .map_err(|_| invalid("TCP options over 40 bytes"))?;
    let builder = ip_step(src, dst, l2, ident)?.tcp_header(header);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut frame, payload)
        .map_err(|_| invalid("TCP payload too big for one IP packet"))?;
    Ok(pad(frame, l2))
}

/// A UDP datagram from `src` to `dst` in one Ethernet frame.
pub fn udp_frame(
    src: &Endpoint,
    dst: &Endpoint,
    l2: L2Options,
    ident: IpIdent,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    let builder = ip_step(src, dst, l2, ident)?.udp(src.port, dst.port);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut frame, payload)
        .map_err(|_| invalid("UDP payload too big for one IP packet"))?;
    Ok(pad(frame, l2))
}

/// Ethernet (and VLAN) plus the IP header, ready for a transport header.
fn ip_step(
    src: &Endpoint,
    dst: &Endpoint,
    l2: L2Options,
    ident: IpIdent,
) -> io::Result<PacketBuilderStep<IpHeaders>> {
    let ip = ip_headers(src, dst, ident)?;
    let eth = PacketBuilder::ethernet2(src.mac, dst.mac);
    Ok(match l2.vlan {
        Some(id) => eth.single_vlan(vlan_id(id)?).ip(ip),
        None => eth.ip(ip),
    })
}

fn ip_headers(src: &Endpoint, dst: &Endpoint, ident: IpIdent) -> io::Result<IpHeaders> {
    match (src.ip, dst.ip) {
        (IpAddr::V4(source), IpAddr::V4(destination)) => {
            // Protocol and lengths are filled in by the builder when it writes.
            let mut header = Ipv4Header::new(
                0,
                src.ttl,
                IpNumber::TCP,
                source.octets(),
                destination.octets(),
            )
            .map_err(|_| invalid("IPv4 header"))?;
            header.identification = ident.id;
            header.dont_fragment = ident.dont_fragment;
            Ok(IpHeaders::Ipv4(header, Default::default()))
        }
        (IpAddr::V6(source), IpAddr::V6(destination)) => {
            let flow_label = Ipv6FlowLabel::try_new(ident.flow_label & 0x000F_FFFF)
                .map_err(|_| invalid("IPv6 flow label"))?;
            let header = Ipv6Header {
                flow_label,
                hop_limit: src.ttl,
                source: source.octets(),
                destination: destination.octets(),
                ..Default::default()
            };
            Ok(IpHeaders::Ipv6(header, Default::default()))
        }
        _ => Err(invalid("source and destination address families differ")),
    }
}

pub(super) fn vlan_id(id: u16) -> io::Result<VlanId> {
    VlanId::try_new(id).map_err(|_| invalid("VLAN id over 4095"))
}

pub(super) fn pad(mut frame: Vec<u8>, l2: L2Options) -> Vec<u8> {
    if l2.pad_short_frames && frame.len() < MIN_FRAME_LEN {
        frame.resize(MIN_FRAME_LEN, 0);
    }
    frame
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const CLIENT_MAC: [u8; 6] = [0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01];
    const ROUTER_MAC: [u8; 6] = [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01];

    fn v4_pair() -> (Endpoint, Endpoint) {
        (
            Endpoint::new(CLIENT_MAC, Ipv4Addr::new(192, 168, 1, 21), 50000).with_ttl(128),
            Endpoint::new(ROUTER_MAC, Ipv4Addr::new(104, 18, 32, 47), 443),
        )
    }

    /// Recomputes every checksum of a frame and returns (ip total/payload length, transport
    /// payload).
    fn check(frame: &[u8]) -> (usize, Vec<u8>) {
        let sliced = SlicedPacket::from_ethernet(frame).unwrap();
        let payload = match &sliced.transport {
            Some(TransportSlice::Tcp(tcp)) => tcp.payload().to_vec(),
            Some(TransportSlice::Udp(udp)) => udp.payload().to_vec(),
            _ => panic!("no transport"),
        };
        match (&sliced.net, &sliced.transport) {
            (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) => {
                let header = ip.header().to_header();
                assert_eq!(header.header_checksum, header.calc_header_checksum());
                let want = tcp
                    .to_header()
                    .calc_checksum_ipv4(&header, tcp.payload())
                    .unwrap();
                assert_eq!(tcp.checksum(), want);
                (usize::from(header.total_len), payload)
            }
            (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(udp))) => {
                let header = ip.header().to_header();
                assert_eq!(header.header_checksum, header.calc_header_checksum());
                let want = udp
                    .to_header()
                    .calc_checksum_ipv4(&header, udp.payload())
                    .unwrap();
                assert_eq!(udp.checksum(), want);
                assert_eq!(usize::from(udp.length()), 8 + udp.payload().len());
                (usize::from(header.total_len), payload)
            }
            (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Tcp(tcp))) => {
                let header = ip.header().to_header();
                let want = tcp
                    .to_header()
                    .calc_checksum_ipv6(&header, tcp.payload())
                    .unwrap();
                assert_eq!(tcp.checksum(), want);
                (usize::from(header.payload_length), payload)
            }
            (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Udp(udp))) => {
                let header = ip.header().to_header();
                let want = udp
                    .to_header()
                    .calc_checksum_ipv6(&header, udp.payload())
                    .unwrap();
                assert_eq!(udp.checksum(), want);
                (usize::from(header.payload_length), payload)
            }
            other => panic!("unexpected layers {other:?}"),
        }
    }

    #[test]
    fn short_tcp_ack_is_padded_but_ip_length_is_exact() {
        let (client, server) = v4_pair();
        let fields = TcpFields {
            seq: 1,
            ack: 2,
            flags: TcpFlags::ACK,
            window: 1024,
            options: &[],
        };
        let ident = IpIdent {
            id: 0x1234,
            dont_fragment: true,
            flow_label: 0,
        };
        let frame = tcp_frame(&client, &server, L2Options::default(), ident, &fields, &[]).unwrap();
        assert_eq!(frame.len(), 60);
        assert_eq!(&frame[..6], &ROUTER_MAC);
        assert_eq!(&frame[6..12], &CLIENT_MAC);
        assert_eq!(&frame[12..14], &[0x08, 0x00]);
        assert_eq!(&frame[18..20], &[0x12, 0x34], "identification");
        assert_eq!(frame[20] & 0x40, 0x40, "DF");
        assert_eq!(frame[22], 128, "TTL");
        assert_eq!(&frame[54..], &[0; 6], "padding");
        let (total_len, payload) = check(&frame);
        assert_eq!(total_len, 40);
        assert!(payload.is_empty());
    }

    #[test]
    fn vlan_tagged_tcp_with_payload_and_options() {
        let (client, server) = v4_pair();
        let l2 = L2Options {
            vlan: Some(100),
            pad_short_frames: true,
        };
        let fields = TcpFields {
            seq: 1000,
            ack: 0,
            flags: TcpFlags::SYN,
            window: 64240,
            options: &SYN_OPTIONS_CLIENT,
        };
        let frame = tcp_frame(&client, &server, l2, IpIdent::default(), &fields, b"hello").unwrap();
        assert_eq!(&frame[12..16], &[0x81, 0x00, 0x00, 100]);
        assert_eq!(&frame[16..18], &[0x08, 0x00]);
        assert_eq!(frame.len(), 18 + 20 + 32 + 5);
        assert_eq!(frame[18 + 20 + 12] >> 4, 8, "data offset 32 bytes");
        let sliced = SlicedPacket::from_ethernet(&frame).unwrap();
        assert!(sliced.vlan().is_some());
        let (total_len, payload) = check(&frame);
        assert_eq!(total_len, 20 + 32 + 5);
        assert_eq!(payload, b"hello");
    }

    #[test]
    fn ipv6_tcp_and_udp() {
        let client = Endpoint::new(
            CLIENT_MAC,
            "2001:db8:1::23".parse::<Ipv6Addr>().unwrap(),
            50001,
        );
        let server = Endpoint::new(
            ROUTER_MAC,
            "2a00:1450:4001:80e::200e".parse::<Ipv6Addr>().unwrap(),
            443,
        );
        let ident = IpIdent {
            flow_label: 0xABCDE,
            ..IpIdent::default()
        };
        let fields = TcpFields {
            seq: 7,
            ack: 9,
            flags: TcpFlags::PSH_ACK,
            window: 2048,
            options: &[],
        };
        let data = vec![0x17; 1400];
        let frame = tcp_frame(
            &client,
            &server,
            L2Options::default(),
            ident,
            &fields,
            &data,
        )
        .unwrap();
        assert_eq!(&frame[12..14], &[0x86, 0xdd]);
        assert_eq!(frame.len(), 14 + 40 + 20 + 1400);
        assert_eq!(check(&frame), (20 + 1400, data));
        let frame = udp_frame(
            &client,
            &server.with_port(53),
            L2Options::default(),
            ident,
            b"q",
        )
        .unwrap();
        assert_eq!(check(&frame), (9, b"q".to_vec()));
        assert_eq!(
            frame.len(),
            14 + 40 + 8 + 1,
            "IPv6 frames here are never short"
        );
    }

    #[test]
    fn udp_ipv4_lengths_and_checksum() {
        let (client, server) = v4_pair();
        let frame = udp_frame(
            &client,
            &server.with_port(53),
            L2Options::default(),
            IpIdent::default(),
            &[0xAB; 33],
        )
        .unwrap();
        assert_eq!(frame.len(), 14 + 20 + 8 + 33);
        assert_eq!(check(&frame), (20 + 8 + 33, vec![0xAB; 33]));
    }

    #[test]
    fn mixed_families_and_bad_options_are_errors() {
        let (client, _) = v4_pair();
        let v6 = Endpoint::new(ROUTER_MAC, Ipv6Addr::LOCALHOST, 1);
        assert!(udp_frame(&client, &v6, L2Options::default(), IpIdent::default(), &[]).is_err());
        let fields = TcpFields {
            seq: 0,
            ack: 0,
            flags: TcpFlags::SYN,
            window: 1,
            options: &[1; 41],
        };
        let (a, b) = v4_pair();
        assert!(tcp_frame(
            &a,
            &b,
            L2Options::default(),
            IpIdent::default(),
            &fields,
            &[]
        )
        .is_err());
        let vlan = L2Options {
            vlan: Some(5000),
            pad_short_frames: false,
        };
        assert!(udp_frame(&a, &b, vlan, IpIdent::default(), &[]).is_err());
        assert!(udp_frame(
            &a,
            &b,
            L2Options::default(),
            IpIdent::default(),
            &vec![0; 70_000]
        )
        .is_err());
    }
}
