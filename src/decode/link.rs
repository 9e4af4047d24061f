//! Link layers: from a frame and its LINKTYPE_* value to the network-layer bytes, plus the
//! outermost MAC addresses and VLAN id.
//!
//! Dispatch is on the link type the capture file declares, never on the bytes: the only place a
//! version nibble decides is LINKTYPE_RAW (12/14/101), which by definition holds IPv4 or IPv6.
//! Link types not listed in `decode` are refused with `UnsupportedLinkType` rather than guessed.
//! PPP framings live in `ppp.rs`, NFLOG in `nflog.rs`, 802.11 (bare, radiotap, PPI) in `wlan.rs`.
//! Apple's PKTAP names the link type of the frame it carries, which is then read the same way.

use super::{array, be16, le32, nflog, ppp, wlan, DecodeError};

/// The IP or non-IP content a link layer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net<'a> {
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    /// Not IP: the EtherType (or equivalent) naming the format of `payload`.
    Other {
        ethertype: u16,
        payload: &'a [u8],
    },
}

/// A frame with its link layer removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkFrame<'a> {
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    pub vlan: Option<u16>,
    pub net: Net<'a>,
}

pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(super) const ETHERTYPE_IPV6: u16 = 0x86dd;
pub(super) const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// Cisco MetaData (security group tag): an 8-byte tag ending in the next EtherType.
const ETHERTYPE_CISCO_METADATA: u16 = 0x8909;
const ETHERTYPE_MPLS_UNICAST: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// More labels than this on one packet is not a real network.
const MAX_MPLS_LABELS: usize = 8;

/// Ethernet type/length values up to this are 802.3 lengths, not EtherTypes.
const MAX_8023_LENGTH: u16 = 1500;

/// More tags than this in front of one payload is not a real network.
const MAX_TAGS: usize = 8;

/// Strips the link layer named by `link_type`.
pub(crate) fn decode(link_type: u32, data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let no_macs = |net| LinkFrame {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        net,
    };
    match link_type {
        1 => ethernet(data),
        113 => sll(data),
        276 => sll2(data),
        12 | 14 | 101 => raw_ip(data).map(no_macs),
        228 => Ok(no_macs(Net::Ipv4(data))),
        229 => Ok(no_macs(Net::Ipv6(data))),
        0 => bsd_loopback(data, true).map(no_macs),
        108 => bsd_loopback(data, false).map(no_macs),
        9 => ppp::frame(data).map(no_macs),
        50 => ppp::serial(data).map(no_macs),
        51 => ppp::pppoe_session(data).map(no_macs),
        239 => nflog::decode(data).map(no_macs),
        105 => wlan::ieee80211(data),
        127 => wlan::radiotap(data),
        192 => wlan::ppi(data),
        LINKTYPE_PKTAP => pktap(data),
        other => Err(DecodeError::UnsupportedLinkType(other)),
    }
}

/// An MPLS label stack (RFC 3032), four bytes a label, the last with its bottom-of-stack bit;
/// what follows has no type field, and is IPv4 or IPv6 by its version nibble, as tshark reads
/// it. Anything else (a pseudowire's control word and Ethernet) is non-IP.
fn mpls(ethertype: u16, payload: &[u8]) -> Result<Net<'_>, DecodeError> {
    let truncated = DecodeError::Malformed("mpls label truncated");
    let mut at = 0;
    for _ in 0..MAX_MPLS_LABELS {
        let label: [u8; 4] = array(payload, at).ok_or(truncated)?;
        at += 4;
        if label[2] & 0x01 != 0 {
            let inner = payload.get(at..).unwrap_or_default();
            return Ok(match inner.first().map(|b| b >> 4) {
                Some(4) => Net::Ipv4(inner),
                Some(6) => Net::Ipv6(inner),
                _ => Net::Other {
                    ethertype,
                    payload: inner,
                },
            });
        }
    }
    Err(DecodeError::Malformed("too many mpls labels"))
}

/// Ethernet II (or 802.3) with any stack of VLAN tags.
pub(crate) fn ethernet(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let header: [u8; 14] =
        array(data, 0).ok_or(DecodeError::Malformed("ethernet header truncated"))?;
    let mut dst = [0u8; 6];
    let mut src = [0u8; 6];
    dst.copy_from_slice(&header[0..6]);
    src.copy_from_slice(&header[6..12]);
    let ethertype = u16::from_be_bytes([header[12], header[13]]);
    let payload = data.get(14..).unwrap_or(&[]);
    let mut vlan = None;
    let net = if ethertype <= MAX_8023_LENGTH {
        // 802.3: the field is the payload length (LLC follows); cut the padding.
        Net::Other {
            ethertype,
            payload: payload.get(..usize::from(ethertype)).unwrap_or(payload),
        }
    } else {
        by_ethertype(ethertype, payload, &mut vlan)?
    };
    Ok(LinkFrame {
        src_mac: Some(src),
        dst_mac: Some(dst),
        vlan,
        net,
    })
}

/// Follows an EtherType through VLAN tags and PPPoE to the network layer. `vlan` receives the
/// outermost VLAN id. Values that are not EtherTypes (802.3 lengths, Linux cooked captures'
/// special protocols such as 0x0004 for 802.2 LLC) come back as non-IP data, uncut.
pub(crate) fn by_ethertype<'a>(
    mut ethertype: u16,
    mut payload: &'a [u8],
    vlan: &mut Option<u16>,
) -> Result<Net<'a>, DecodeError> {
    for _ in 0..=MAX_TAGS {
        match ethertype {
            ETHERTYPE_IPV4 => return Ok(Net::Ipv4(payload)),
            ETHERTYPE_IPV6 => return Ok(Net::Ipv6(payload)),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                let tci = be16(payload, 0).ok_or(DecodeError::Malformed("vlan tag truncated"))?;
                let inner = be16(payload, 2).ok_or(DecodeError::Malformed("vlan tag truncated"))?;
                if vlan.is_none() {
                    *vlan = Some(tci & 0x0fff);
                }
                ethertype = inner;
                payload = payload.get(4..).unwrap_or(&[]);
            }
            ETHERTYPE_CISCO_METADATA => {
                ethertype = be16(payload, 6)
                    .ok_or(DecodeError::Malformed("cisco metadata tag truncated"))?;
                payload = payload.get(8..).unwrap_or(&[]);
            }
            ETHERTYPE_PPPOE_SESSION => return ppp::pppoe_session(payload),
            ETHERTYPE_MPLS_UNICAST | ETHERTYPE_MPLS_MULTICAST => return mpls(ethertype, payload),
            _ => {
                return Ok(Net::Other { ethertype, payload });
            }
        }
    }
    Err(DecodeError::Malformed("too many vlan tags"))
}

/// Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL, 113): a 16-byte pseudo-header.
fn sll(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let header: [u8; 16] = array(data, 0).ok_or(DecodeError::Malformed("sll header truncated"))?;
    let address_len = u16::from_be_bytes([header[4], header[5]]);
    let protocol = u16::from_be_bytes([header[14], header[15]]);
    cooked(&header[6..14], address_len, protocol, data.get(16..))
}

/// Linux "cooked" capture v2 (LINKTYPE_LINUX_SLL2, 276): a 20-byte pseudo-header.
fn sll2(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let header: [u8; 20] = array(data, 0).ok_or(DecodeError::Malformed("sll2 header truncated"))?;
    let protocol = u16::from_be_bytes([header[0], header[1]]);
    cooked(
        &header[12..20],
        u16::from(header[11]),
        protocol,
        data.get(20..),
    )
}

/// The part SLL and SLL2 share: the source link address and an EtherType-like protocol.
fn cooked<'a>(
    address: &[u8],
    address_len: u16,
    protocol: u16,
    payload: Option<&'a [u8]>,
) -> Result<LinkFrame<'a>, DecodeError> {
    // The address is the sender's link-layer address; only a 6-byte one is a MAC.
    let src_mac = (address_len == 6).then(|| array(address, 0)).flatten();
    let mut vlan = None;
    let net = by_ethertype(protocol, payload.unwrap_or(&[]), &mut vlan)?;
    Ok(LinkFrame {
        src_mac,
        dst_mac: None,
        vlan,
        net,
    })
}

/// LINKTYPE_RAW: IPv4 or IPv6 with no link header, told apart by the version.
fn raw_ip(data: &[u8]) -> Result<Net<'_>, DecodeError> {
    match data.first().map(|first| first >> 4) {
        Some(4) => Ok(Net::Ipv4(data)),
        Some(6) => Ok(Net::Ipv6(data)),
        Some(_) => Err(DecodeError::Malformed("raw ip bad version")),
        None => Err(DecodeError::Malformed("raw ip empty")),
    }
}

/// LINKTYPE_PKTAP.
const LINKTYPE_PKTAP: u32 = 258;
/// What the PKTAP header's link type is on macOS itself (DLT_USER2), and one nested one would be.
const DLT_PKTAP_DARWIN: u32 = 149;
/// The shortest PKTAP header Wireshark reads (macOS writes this one).
const PKTAP_MIN_HEADER: u32 = 108;
/// A PKTAP record type: a frame follows the header (any other: nothing does).
const PKTAP_RECORD_PACKET: u32 = 1;

/// Apple's PKTAP (LINKTYPE_PKTAP; macOS's `pktap` pseudo-interface, which `tcpdump -i any`
/// also uses there): a little-endian header that gives its own length (108 bytes or more, as
/// Wireshark requires), a record type (1: a frame follows; else nothing does) and the link type
/// of the frame after it, which is then read as a capture of that type is (1 for Ethernet and
/// Wi-Fi, 0 for loopback, 12 for a tunnel's raw IP), never PKTAP again. The rest of the header
/// (interface, process id and name, direction) is not read.
fn pktap(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let truncated = DecodeError::Malformed("pktap header truncated");
    let (Some(length), Some(record), Some(inner)) = (le32(data, 0), le32(data, 4), le32(data, 8))
    else {
        return Err(truncated);
    };
    if length < PKTAP_MIN_HEADER {
        return Err(DecodeError::Malformed("pktap header too short"));
    }
    let frame = usize::try_from(length)
        .ok()
        .and_then(|length| data.get(length..))
        .ok_or(truncated)?;
    if record != PKTAP_RECORD_PACKET {
        return Ok(LinkFrame {
            src_mac: None,
            dst_mac: None,
            vlan: None,
            net: Net::Other {
                ethertype: 0,
                payload: &[],
            },
        });
    }
    match inner {
        LINKTYPE_PKTAP | DLT_PKTAP_DARWIN => Err(DecodeError::UnsupportedLinkType(inner)),
        _ => decode(inner, frame),
    }
}

/// BSD loopback: a 4-byte address family, in the capturing host's byte order for DLT_NULL
/// (`any_order`), in network order for OpenBSD's DLT_LOOP. AF_INET6 differs between BSDs.
/// Like tshark, a DLT_NULL header that is no known family but whose last two bytes are an
/// EtherType (Cisco HDLC style, `0f 00 08 00`) or that starts with PPP's `ff 03` is read so.
fn bsd_loopback(data: &[u8], any_order: bool) -> Result<Net<'_>, DecodeError> {
    let header: [u8; 4] =
        array(data, 0).ok_or(DecodeError::Malformed("loopback header truncated"))?;
    let payload = data.get(4..).unwrap_or(&[]);
    let big = u32::from_be_bytes(header);
    // Read in the other order too: a family fits in the low byte, so the orders cannot clash.
    let family = if any_order && big > 0xffff {
        u32::from_le_bytes(header)
    } else {
        big
    };
    match family {
        2 => Ok(Net::Ipv4(payload)),
        24 | 28 | 30 => Ok(Net::Ipv6(payload)),
        _ if any_order && header[..2] == [0xff, 0x03] => ppp::frame(data),
        _ => {
            let ethertype = u16::from_be_bytes([header[2], header[3]]);
            if any_order && ethertype > 1500 {
                by_ethertype(ethertype, payload, &mut None)
            } else {
                Ok(Net::Other {
                    ethertype: 0,
                    payload,
                })
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn ip_offset(frame: &LinkFrame<'_>, data: &[u8]) -> usize {
        let inner = match frame.net {
            Net::Ipv4(bytes) | Net::Ipv6(bytes) => bytes,
            Net::Other { payload, .. } => payload,
        };
        inner.as_ptr() as usize - data.as_ptr() as usize
    }

    /// zeek/vlan-qinqinq.pcap frame 1, first 34 bytes: three 0x8100 tags (30, 20, 10).
    const QINQINQ: &str = "00 10 db 88 d2 ef c8 bc c8 96 d2 a0 81 00 00 1e
        81 00 00 14 81 00 00 0a 08 00 45 00 00 40 df 8e 40 00";

    #[test]
    fn three_vlan_tags_outermost_id_kept() {
        let data = hex(QINQINQ);
        let frame = decode(1, &data).unwrap();
        assert_eq!(frame.vlan, Some(30));
        assert_eq!(frame.src_mac, Some([0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0]));
        assert_eq!(frame.dst_mac, Some([0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef]));
        assert!(matches!(frame.net, Net::Ipv4(_)));
        assert_eq!(ip_offset(&frame, &data), 26);
    }

    #[test]
    fn tag_flood_is_refused() {
        let mut data = hex("ffffffffffff 000000000001 8100");
        for _ in 0..20 {
            data.extend_from_slice(&hex("0001 8100"));
        }
        assert_eq!(
            decode(1, &data).unwrap_err(),
            DecodeError::Malformed("too many vlan tags")
        );
    }

    #[test]
    fn llc_frame_is_non_ip_cut_to_its_length() {
        // STP BPDU header: 802.3 length 0x0026, LLC 42 42 03, padded to 60 bytes.
        let mut data = hex("0180c2000000 001122334455 0026 424203");
        data.resize(60, 0);
        let frame = decode(1, &data).unwrap();
        match frame.net {
            Net::Other { ethertype, payload } => {
                assert_eq!(ethertype, 0x26);
                assert_eq!(payload.len(), 0x26);
            }
            other => panic!("{other:?}"),
        }
    }

    /// suricata-verify/decode-sll2-01_input.pcap frame 1, first 24 bytes.
    const SLL2: &str = "08 00 00 00 00 00 00 02 00 01 04 06 aa 76 30 71
        b0 e7 00 00 45 00 00 3c";

    #[test]
    fn sll2_source_address() {
        let data = hex(SLL2);
        let frame = decode(276, &data).unwrap();
        assert_eq!(frame.src_mac, Some([0xaa, 0x76, 0x30, 0x71, 0xb0, 0xe7]));
        assert_eq!(frame.dst_mac, None);
        assert_eq!(ip_offset(&frame, &data), 20);
    }

    /// zeek/linuxsll-arp.pcap frame 1, first 20 bytes: SLL v1 carrying ARP.
    const SLL_ARP: &str = "00 01 00 01 00 06 cc 2d e0 26 19 99 00 00 08 06
        00 01 08 00";

    #[test]
    fn sll_arp_is_non_ip() {
        let data = hex(SLL_ARP);
        let frame = decode(113, &data).unwrap();
        assert_eq!(frame.src_mac, Some([0xcc, 0x2d, 0xe0, 0x26, 0x19, 0x99]));
        assert!(matches!(
            frame.net,
            Net::Other {
                ethertype: 0x0806,
                ..
            }
        ));
    }

    #[test]
    fn cooked_special_protocols_are_not_lengths() {
        // SLL, outgoing, ARPHRD_ETHER, protocol 0x0004 (802.2 LLC frame follows): hand-built
        let mut data = hex("0004 0001 0006 0a0b0c0d0e0f 0000 0004");
        data.extend_from_slice(&[0x42; 10]);
        let frame = decode(113, &data).unwrap();
        assert_eq!(
            frame.net,
            Net::Other {
                ethertype: 4,
                payload: &[0x42; 10]
            }
        );
    }

    #[test]
    fn loopback_families_in_both_orders() {
        let v4 = [2u8, 0, 0, 0, 0x45];
        assert!(matches!(bsd_loopback(&v4, true).unwrap(), Net::Ipv4(_)));
        let v4_be = [0u8, 0, 0, 2, 0x45];
        assert!(matches!(bsd_loopback(&v4_be, true).unwrap(), Net::Ipv4(_)));
        for family in [24u8, 28, 30] {
            let le = [family, 0, 0, 0, 0x60];
            assert!(matches!(bsd_loopback(&le, true).unwrap(), Net::Ipv6(_)));
            let be = [0, 0, 0, family, 0x60];
            assert!(matches!(bsd_loopback(&be, false).unwrap(), Net::Ipv6(_)));
        }
        // OpenBSD loop is network order only
        assert!(matches!(
            bsd_loopback(&v4, false).unwrap(),
            Net::Other { ethertype: 0, .. }
        ));
        // pcapplusplus/null_loopback.pcap frame 3: "0f 00 08 00", an EtherType in the last two
        let hdlc_style = [0x0f, 0x00, 0x08, 0x00, 0x45];
        assert_eq!(bsd_loopback(&hdlc_style, true).unwrap(), Net::Ipv4(&[0x45]));
        assert_eq!(
            bsd_loopback(&[0xff, 0x03, 0x00, 0x57, 0x60], true).unwrap(),
            Net::Ipv6(&[0x60])
        );
        // an unknown family is kept as data
        assert!(matches!(
            bsd_loopback(&[7, 0, 0, 0, 1], true).unwrap(),
            Net::Other { ethertype: 0, .. }
        ));
    }

    #[test]
    fn raw_ip_by_version_only() {
        assert!(matches!(decode(101, &[0x45]).unwrap().net, Net::Ipv4(_)));
        assert!(matches!(decode(12, &[0x60]).unwrap().net, Net::Ipv6(_)));
        assert!(matches!(decode(14, &[0x60]).unwrap().net, Net::Ipv6(_)));
        assert!(decode(101, &[0x55]).is_err());
        assert!(decode(101, &[]).is_err());
        // 228/229 do not look at the version: the IP parser will complain.
        assert!(matches!(decode(228, &[0x60]).unwrap().net, Net::Ipv4(_)));
    }

    #[test]
    fn unknown_link_types_are_refused() {
        for link_type in [2u32, 119, 163, 204, 0xffff_ffff] {
            assert_eq!(
                decode(link_type, &[0; 64]).unwrap_err(),
                DecodeError::UnsupportedLinkType(link_type)
            );
        }
    }

    #[test]
    fn every_prefix_is_safe() {
        for (link_type, text) in [(1, QINQINQ), (276, SLL2), (113, SLL_ARP)] {
            let data = hex(text);
            for cut in 0..data.len() {
                let _ = decode(link_type, &data[..cut]);
            }
        }
        for link_type in [0u32, 108, 9, 50, 51, 239, 101, 228, 229] {
            for len in 0..8 {
                let _ = decode(link_type, &vec![0x45; len]);
            }
        }
    }
}
