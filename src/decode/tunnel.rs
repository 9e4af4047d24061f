//! Tunnel headers opened so that the inner packet is the one reported: GRE (RFC 2784/2890, and
//! PPTP's enhanced GRE carrying PPP), ERSPAN over GRE (types I, II and III), and over UDP: VXLAN
//! (4789), GENEVE (6081), GTP-U (2152), Teredo (3544) and CAPWAP's data channel (5247).
//!
//! Each function answers `None` when the bytes are not a tunnel it can open (wrong flags, an
//! unknown inner protocol, a control message, nothing inside): the packet is then reported as the
//! outer GRE or UDP packet it is, which is what tshark shows too. GTP-U and Teredo carry IP
//! with no type field, so their inner version is read from the nibble, as the protocols define.
//! ERSPAN is not an overlay but a switch's remote mirror: the frame inside is the audited
//! network's own traffic, so its MAC addresses and VLAN are the devices' (`Inner::Mirrored`).
//! So is the frame inside CAPWAP (RFC 5415), which a Wi-Fi access point sends its stations'
//! traffic in to a controller: a station's own Ethernet frame (`Inner::Mirrored`) or 802.11
//! frame (`Inner::Relayed`). Encrypted (DTLS) data channels, keep-alives and fragments are not
//! opened.
//! Not opened: GRE with source routing (RFC 1701), VXLAN-GPE, L2TP. (MPLS over Ethernet is read
//! by the link layer, `link::by_ethertype`.)

use super::link::Net;
use super::{be16, ppp};

/// What a tunnel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inner<'a> {
    Net(Net<'a>),
    Ethernet(&'a [u8]),
    /// A mirrored Ethernet frame (ERSPAN): the traffic itself, whose addresses and VLAN replace
    /// the tunnel's.
    Mirrored(&'a [u8]),
    /// A station's 802.11 frame relayed by its access point (CAPWAP): likewise the traffic
    /// itself (`wlan::relayed` reads it).
    Relayed(&'a [u8]),
}

const GRE_CHECKSUM: u16 = 0x8000;
const GRE_ROUTING: u16 = 0x4000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQUENCE: u16 = 0x1000;
/// Enhanced GRE (version 1) only: an acknowledgement number follows.
const GRE_ACK: u16 = 0x0080;
const GRE_VERSION: u16 = 0x0007;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_TRANSPARENT_ETHERNET: u16 = 0x6558;
const ETHERTYPE_PPP: u16 = 0x880b;
/// ERSPAN type II, or type I when the GRE header has no sequence number.
const ETHERTYPE_ERSPAN_II: u16 = 0x88be;
const ETHERTYPE_ERSPAN_III: u16 = 0x22eb;

pub(crate) const VXLAN_PORT: u16 = 4789;
pub(crate) const GENEVE_PORT: u16 = 6081;
pub(crate) const GTP_U_PORT: u16 = 2152;
/// CAPWAP's data channel (RFC 5415 §3.1); 5246, its control channel, carries no stations'
/// traffic.
pub(crate) const CAPWAP_DATA_PORT: u16 = 5247;
/// CAPWAP's wireless binding of IEEE 802.11 (RFC 5416).
const CAPWAP_WBID_IEEE80211: u32 = 1;
pub(crate) const TEREDO_PORT: u16 = 3544;

const _: () = assert!(
    GTP_U_PORT < TEREDO_PORT
        && TEREDO_PORT < VXLAN_PORT
        && VXLAN_PORT < CAPWAP_DATA_PORT
        && CAPWAP_DATA_PORT < GENEVE_PORT
);

/// Smallest Ethernet frame worth opening (a header).
const ETHERNET_HEADER_LEN: usize = 14;
/// GTP-U extension headers chained in one packet; real ones carry one or two.
const MAX_GTP_EXTENSIONS: usize = 8;

/// The payload of a GRE packet.
pub(crate) fn gre(data: &[u8]) -> Option<Inner<'_>> {
    let flags = be16(data, 0)?;
    let protocol = be16(data, 2)?;
    match flags & GRE_VERSION {
        0 => {
            if flags & GRE_ROUTING != 0 {
                return None;
            }
            let optional = [GRE_CHECKSUM, GRE_KEY, GRE_SEQUENCE]
                .iter()
                .filter(|&&bit| flags & bit != 0)
                .count();
            let inner = data.get(4 + 4 * optional..)?;
            match protocol {
                ETHERTYPE_ERSPAN_II => erspan_ii(inner, flags & GRE_SEQUENCE != 0),
                ETHERTYPE_ERSPAN_III => erspan_iii(inner),
                _ => by_ethertype(protocol, inner),
            }
        }
        1 => {
            // PPTP: the key (payload length + call id) is mandatory, PPP is the only payload.
            if protocol != ETHERTYPE_PPP || flags & GRE_KEY == 0 {
                return None;
            }
            let optional = [GRE_SEQUENCE, GRE_ACK]
                .iter()
                .filter(|&&bit| flags & bit != 0)
                .count();
            let inner = data.get(8 + 4 * optional..)?;
            match ppp::frame(inner).ok()? {
                Net::Other { .. } => None,
                ip => Some(Inner::Net(ip)),
            }
        }
        _ => None,
    }
}

/// The tunnel a UDP payload carries, judged by either port. Inline, so that a datagram of no
/// tunnel's port (nearly all) costs its port checks only.
#[inline(always)]
pub(crate) fn over_udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Inner<'_>> {
    // Every tunnel's port lies in GTP-U's to GENEVE's: most datagrams (DNS, QUIC, ephemeral
    // ports) fail that range at once.
    let tunnel = |port| {
        (GTP_U_PORT..=GENEVE_PORT).contains(&port)
            && matches!(
                port,
                VXLAN_PORT | GENEVE_PORT | GTP_U_PORT | TEREDO_PORT | CAPWAP_DATA_PORT
            )
    };
    if !tunnel(src_port) && !tunnel(dst_port) {
        return None;
    }
    tunnel_over_udp(src_port, dst_port, payload)
}

/// `over_udp` for a datagram with a tunnel's port.
fn tunnel_over_udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Inner<'_>> {
    let either = |port| src_port == port || dst_port == port;
    if either(VXLAN_PORT) {
        vxlan(payload)
    } else if either(GENEVE_PORT) {
        geneve(payload)
    } else if either(GTP_U_PORT) {
        gtp_u(payload)
    } else if either(TEREDO_PORT) {
        teredo(payload)
    } else if either(CAPWAP_DATA_PORT) {
        capwap_data(payload)
    } else {
        None
    }
}

fn by_ethertype(ethertype: u16, inner: &[u8]) -> Option<Inner<'_>> {
    match ethertype {
        ETHERTYPE_IPV4 => Some(Inner::Net(Net::Ipv4(inner))),
        ETHERTYPE_IPV6 => Some(Inner::Net(Net::Ipv6(inner))),
        ETHERTYPE_TRANSPARENT_ETHERNET if inner.len() >= ETHERNET_HEADER_LEN => {
            Some(Inner::Ethernet(inner))
        }
        _ => None,
    }
}

/// ERSPAN types I and II (draft-foschiano-erspan): type I (GRE without a sequence number) is
/// the mirrored frame alone; type II puts an 8-byte header (version 1) before it.
fn erspan_ii(inner: &[u8], sequenced: bool) -> Option<Inner<'_>> {
    let frame = if sequenced {
        if inner.first()? >> 4 != 1 {
            return None;
        }
        inner.get(8..)?
    } else {
        inner
    };
    (frame.len() >= ETHERNET_HEADER_LEN).then_some(Inner::Mirrored(frame))
}

/// ERSPAN type III: a 12-byte header (version 2), then, when its last bit (O) is set, an
/// 8-byte platform-specific subheader, then the mirrored frame.
fn erspan_iii(inner: &[u8]) -> Option<Inner<'_>> {
    if inner.first()? >> 4 != 2 {
        return None;
    }
    let subheader = inner.get(11)? & 0x01 != 0;
    let frame = inner.get(if subheader { 20 } else { 12 }..)?;
    (frame.len() >= ETHERNET_HEADER_LEN).then_some(Inner::Mirrored(frame))
}

/// VXLAN (RFC 7348): 8 bytes, the I flag says the VNI is valid; an Ethernet frame follows.
fn vxlan(payload: &[u8]) -> Option<Inner<'_>> {
    let flags = *payload.first()?;
    let inner = payload.get(8..)?;
    (flags & 0x08 != 0 && inner.len() >= ETHERNET_HEADER_LEN).then_some(Inner::Ethernet(inner))
}

/// GENEVE (RFC 8926): 8 bytes plus options, then what the protocol type names.
fn geneve(payload: &[u8]) -> Option<Inner<'_>> {
    let first = *payload.first()?;
    if first >> 6 != 0 {
        return None;
    }
    let options_len = usize::from(first & 0x3f) * 4;
    let protocol = be16(payload, 2)?;
    by_ethertype(protocol, payload.get(8 + options_len..)?)
}

/// GTP-U version 1 (3GPP TS 29.281): only G-PDUs (message type 255) carry user packets.
fn gtp_u(payload: &[u8]) -> Option<Inner<'_>> {
    let flags = *payload.first()?;
    let is_v1_gtp = flags >> 5 == 1 && flags & 0x10 != 0;
    if !is_v1_gtp || payload.get(1) != Some(&0xff) {
        return None;
    }
    // The length counts the bytes after the 8-byte mandatory header.
    let end = 8 + usize::from(be16(payload, 2)?);
    let message = payload.get(..end).unwrap_or(payload);
    let mut offset = 8;
    if flags & 0x07 != 0 {
        // Sequence number, N-PDU number and next extension type are present together.
        let mut next_extension = *message.get(11)?;
        offset = 12;
        for _ in 0..MAX_GTP_EXTENSIONS {
            if next_extension == 0 {
                break;
            }
            let len = usize::from(*message.get(offset)?) * 4;
            if len == 0 {
                return None;
            }
            next_extension = *message.get(offset + len - 1)?;
            offset += len;
        }
        if next_extension != 0 {
            return None;
        }
    }
    ip_by_version(message.get(offset..)?)
}

/// Teredo (RFC 4380): optional authentication and origin indications, then IPv6.
fn teredo(payload: &[u8]) -> Option<Inner<'_>> {
    let mut rest = payload;
    if rest.starts_with(&[0x00, 0x01]) {
        let id_len = usize::from(*rest.get(2)?);
        let auth_len = usize::from(*rest.get(3)?);
        // header, client id, authentication value, nonce (8), confirmation (1)
        rest = rest.get(4 + id_len + auth_len + 8 + 1..)?;
    }
    if rest.starts_with(&[0x00, 0x00]) {
        rest = rest.get(8..)?;
    }
    // Like tshark's heuristic: a whole IPv6 header whose payload length fits the datagram.
    let payload_len = usize::from(be16(rest, 4)?);
    let is_ipv6 = rest.first().is_some_and(|first| first >> 4 == 6);
    (is_ipv6 && rest.len() >= 40 && 40 + payload_len <= rest.len())
        .then_some(Inner::Net(Net::Ipv6(rest)))
}

/// A CAPWAP data packet (RFC 5415 §4.3): the preamble (version 0, type 0: a plain header; 1
/// is DTLS), then HLEN (the header's length in 4-byte words), RID, WBID and the flags T (the
/// payload is the binding's native frame, else Ethernet), F (a fragment) and K (a keep-alive).
/// The header's optional parts (radio MAC, wireless information) are inside HLEN.
fn capwap_data(payload: &[u8]) -> Option<Inner<'_>> {
    let word = u32::from_be_bytes(payload.get(..4)?.try_into().ok()?);
    let (preamble, hlen, wbid) = (word >> 24, (word >> 19) & 0x1f, (word >> 9) & 0x1f);
    let (native, fragment, keep_alive) = (word & 0x100 != 0, word & 0x80 != 0, word & 0x08 != 0);
    if preamble != 0 || hlen < 2 || fragment || keep_alive {
        return None;
    }
    let frame = payload.get(usize::try_from(hlen * 4).ok()?..)?;
    match (native, wbid) {
        (false, _) => (frame.len() >= ETHERNET_HEADER_LEN).then_some(Inner::Mirrored(frame)),
        (true, CAPWAP_WBID_IEEE80211) => (!frame.is_empty()).then_some(Inner::Relayed(frame)),
        (true, _) => None,
    }
}

fn ip_by_version(inner: &[u8]) -> Option<Inner<'_>> {
    match inner.first()? >> 4 {
        4 => Some(Inner::Net(Net::Ipv4(inner))),
        6 => Some(Inner::Net(Net::Ipv6(inner))),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn first_inner_byte(inner: Option<Inner<'_>>) -> Option<(char, u8)> {
        match inner? {
            Inner::Net(Net::Ipv4(bytes)) => Some(('4', *bytes.first()?)),
            Inner::Net(Net::Ipv6(bytes)) => Some(('6', *bytes.first()?)),
            Inner::Net(Net::Other { .. }) => None,
            Inner::Ethernet(bytes) => Some(('e', *bytes.first()?)),
            Inner::Mirrored(bytes) => Some(('m', *bytes.first()?)),
            Inner::Relayed(bytes) => Some(('w', *bytes.first()?)),
        }
    }

    #[test]
    fn erspan_headers_are_skipped_to_the_mirrored_frame() {
        let frame = [0xaa; 14];
        let gre_header = |flags: u16, protocol: u16| {
            let mut header = flags.to_be_bytes().to_vec();
            header.extend(protocol.to_be_bytes());
            if flags & GRE_SEQUENCE != 0 {
                header.extend([0, 0, 0, 9]);
            }
            header
        };
        // Type I: no sequence number, no ERSPAN header.
        let mut data = gre_header(0, ETHERTYPE_ERSPAN_II);
        data.extend(frame);
        assert_eq!(first_inner_byte(gre(&data)), Some(('m', 0xaa)));
        // Type II: version 1 in an 8-byte header.
        let mut data = gre_header(GRE_SEQUENCE, ETHERTYPE_ERSPAN_II);
        data.extend([0x10, 0, 0x18, 0x05, 0, 0, 0, 0]);
        data.extend(frame);
        assert_eq!(first_inner_byte(gre(&data)), Some(('m', 0xaa)));
        // Type III: 12 bytes, then 8 more when the O flag (the last bit) is set.
        for (o_flag, subheader) in [(0u8, &[][..]), (1, &[0xbb; 8][..])] {
            let mut data = gre_header(GRE_SEQUENCE, ETHERTYPE_ERSPAN_III);
            data.extend([0x20, 0, 0, 0x05, 0, 0, 0, 1, 0, 0, 0, o_flag]);
            data.extend(subheader);
            data.extend(frame);
            assert_eq!(
                first_inner_byte(gre(&data)),
                Some(('m', 0xaa)),
                "O={o_flag}"
            );
        }
        // Wrong versions, or too short a frame, are not opened.
        let mut data = gre_header(GRE_SEQUENCE, ETHERTYPE_ERSPAN_III);
        data.extend([0x10, 0, 0, 0x05, 0, 0, 0, 1, 0, 0, 0, 0]);
        data.extend(frame);
        assert_eq!(gre(&data), None);
        let mut data = gre_header(0, ETHERTYPE_ERSPAN_II);
        data.extend([0xaa; 13]);
        assert_eq!(gre(&data), None);
    }

    /// mercury/capture2.pcap frame 3379, GRE header on (PPTP: key, sequence, PPP ff 03 0021).
    const PPTP_IP: &str = "30 01 88 0b 00 58 00 18 00 00 00 07 ff 03 00 21 45 00 00 54";
    /// mercury/capture2.pcap frame 3378: PPTP acknowledgement, nothing inside.
    const PPTP_ACK_ONLY: &str = "20 81 88 0b 00 00 00 18 00 00 00 06";

    #[test]
    fn pptp_gre() {
        assert_eq!(first_inner_byte(gre(&hex(PPTP_IP))), Some(('4', 0x45)));
        assert_eq!(gre(&hex(PPTP_ACK_ONLY)), None);
        // LCP inside PPTP stays the outer GRE packet
        assert_eq!(
            gre(&hex("30 01 88 0b 00 04 00 18 00 00 00 01 ff 03 c0 21")),
            None
        );
    }

    #[test]
    fn plain_gre_optional_fields() {
        assert_eq!(
            first_inner_byte(gre(&hex("0000 0800 45"))),
            Some(('4', 0x45))
        );
        // checksum + key + sequence
        let bytes = hex("b000 86dd 00000000 00000001 00000002 60");
        assert_eq!(first_inner_byte(gre(&bytes)), Some(('6', 0x60)));
        let mut ether = hex("2000 6558 00000007");
        ether.extend_from_slice(&[0xaa; 14]);
        assert_eq!(first_inner_byte(gre(&ether)), Some(('e', 0xaa)));
        // source routing, unknown protocol, version 2: not opened
        assert_eq!(gre(&hex("4000 0800 00000000 45")), None);
        assert_eq!(gre(&hex("0000 88be 45")), None);
        assert_eq!(gre(&hex("0002 0800 45")), None);
    }

    /// mercury/geneve.pcap frame 42, UDP payload on: 32 bytes of options, then IPv4.
    const GENEVE_IPV4: &str = "08 00 08 00 00 00 00 00 01 08 01 02 35 1a 88 b4
        ac b3 5a 32 01 08 02 02 00 00 00 00 00 00 00 00
        01 08 03 01 16 53 aa 8a 45 02 00 34 70 a1";
    /// mercury/geneve.pcap frame 1, UDP payload on: 8 bytes of options, an Ethernet frame.
    const GENEVE_ETHERNET: &str = "02 40 65 58 00 00 0a 00 00 00 80 01 00 00 00 0c
        fe 71 d8 83 72 4f b6 9e d2 49 51 48 08 00 45 00";

    #[test]
    fn geneve_options_and_ethernet() {
        let v4 = hex(GENEVE_IPV4);
        assert_eq!(
            first_inner_byte(over_udp(61596, 6081, &v4)),
            Some(('4', 0x45))
        );
        let ether = hex(GENEVE_ETHERNET);
        assert_eq!(
            first_inner_byte(over_udp(12618, 6081, &ether)),
            Some(('e', 0xfe))
        );
        assert_eq!(over_udp(12618, 6082, &ether), None);
    }

    #[test]
    fn vxlan_needs_the_i_flag() {
        let mut bytes = hex("08 00 00 00 00 00 7b 00");
        bytes.extend_from_slice(&[0x11; 14]);
        assert_eq!(
            first_inner_byte(over_udp(50000, 4789, &bytes)),
            Some(('e', 0x11))
        );
        bytes[0] = 0;
        assert_eq!(over_udp(50000, 4789, &bytes), None);
        assert_eq!(over_udp(4789, 50000, &bytes[..10]), None);
    }

    /// ndpi/zoom.pcap frame 701, UDP payload on: a G-PDU carrying IPv4.
    const GTP_U: &str = "30 ff 00 6d 04 98 66 5c 45 00 00 6d f5 eb";

    #[test]
    fn gtp_u_g_pdu() {
        assert_eq!(
            first_inner_byte(over_udp(2152, 2152, &hex(GTP_U))),
            Some(('4', 0x45))
        );
        // with sequence number and one extension header (PDU session container)
        let bytes = hex("34 ff 00 0a 00 00 00 01  00 00 00 85  01 10 01 00  60 00");
        assert_eq!(first_inner_byte(gtp_u(&bytes)), Some(('6', 0x60)));
        // echo request, not user data
        assert_eq!(gtp_u(&hex("32 01 00 04 00 00 00 00 00 01 00 00")), None);
        // an extension with length 0 would never end
        assert_eq!(
            gtp_u(&hex("34 ff 00 08 00 00 00 01 00 00 00 85 00 00 00 00")),
            None
        );
    }

    /// mercury/capture2.pcap frame 3524, UDP payload on: authentication indication, IPv6.
    const TEREDO: &str = "00 01 00 00 12 e3 1d f1 88 42 08 f2 00 60 00 00
        00 00 08 3a ff fe 80 00 00 00 00 00 00 00 00 ff
        ff ff ff ff fe ff 02 00 00 00 00 00 00 00 00 00
        00 00 00 00 02 85 00 7d 38 00 00 00 00";

    #[test]
    fn teredo_with_authentication() {
        let bytes = hex(TEREDO);
        assert_eq!(
            first_inner_byte(over_udp(59656, 3544, &bytes)),
            Some(('6', 0x60))
        );
        // a payload length that does not fit is not Teredo
        assert_eq!(teredo(&bytes[..bytes.len() - 1]), None);
    }

    /// ndpi/capwap.pcap frame 280: a Cisco access point's data channel header (HLEN 4, RID 1,
    /// WBID 1, T and W set, one byte of wireless information) and the start of the station's
    /// 802.11 frame, its frame control swapped (`01 08`).
    const CAPWAP_CISCO: &str = "00204320 00000000 0104ed4d 00000000 0108 2c00 580a20690e20";

    #[test]
    fn capwap_data_channel() {
        let cisco = hex(CAPWAP_CISCO);
        assert_eq!(
            first_inner_byte(over_udp(12380, CAPWAP_DATA_PORT, &cisco)),
            Some(('w', 0x01))
        );
        assert_eq!(
            first_inner_byte(over_udp(CAPWAP_DATA_PORT, 12380, &cisco)),
            Some(('w', 0x01))
        );
        // T clear: an Ethernet frame after a header of two words.
        let mut ethernet = hex("00100000 00000000");
        ethernet.extend([0x3c; 14]);
        assert_eq!(
            first_inner_byte(over_udp(40000, CAPWAP_DATA_PORT, &ethernet)),
            Some(('m', 0x3c))
        );
        assert_eq!(over_udp(40000, CAPWAP_DATA_PORT, &ethernet[..21]), None);
        // Not opened: DTLS (preamble type 1), a fragment (F), a keep-alive (K), a binding other
        // than 802.11, a header shorter than its fixed part or longer than the packet, the
        // control channel.
        let changed = |at: usize, value: u8| {
            let mut bytes = cisco.clone();
            bytes[at] = value;
            over_udp(12380, CAPWAP_DATA_PORT, &bytes).is_some()
        };
        assert!(changed(3, 0x20)); // as it was
        assert!(!changed(0, 0x01));
        assert!(!changed(3, 0xa0));
        assert!(!changed(3, 0x28));
        assert!(!changed(2, 0x45));
        assert!(!changed(1, 0x08));
        assert!(!changed(1, 0x48));
        assert_eq!(over_udp(12380, 5246, &cisco), None);
    }

    #[test]
    fn prefixes_never_panic() {
        for text in [
            PPTP_IP,
            PPTP_ACK_ONLY,
            GENEVE_IPV4,
            GENEVE_ETHERNET,
            GTP_U,
            TEREDO,
            CAPWAP_CISCO,
        ] {
            let bytes = hex(text);
            for cut in 0..=bytes.len() {
                let prefix = &bytes[..cut];
                let _ = gre(prefix);
                for port in [
                    VXLAN_PORT,
                    GENEVE_PORT,
                    GTP_U_PORT,
                    TEREDO_PORT,
                    CAPWAP_DATA_PORT,
                ] {
                    let _ = over_udp(port, 1, prefix);
                }
            }
        }
    }
}
