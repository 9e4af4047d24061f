//! IPv4 and IPv6 headers: addresses, the upper-layer protocol, the payload cut to the length the
//! header claims (which drops Ethernet padding and FCS), and fragment information.
//!
//! IPv6 extension headers (hop-by-hop, routing, destination options, AH, fragment) are walked up
//! to the transport header; ESP and "no next header" stop the walk, since nothing after them is
//! readable. Checksums are not verified: a passive auditor counts what was sent, and offloaded
//! captures carry wrong checksums anyway. A total length of 0 (segmentation offload) is read as
//! "the whole captured frame".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{array, be16, be32, DecodeError};

/// IP protocol numbers of the IPv6 extension headers this walker steps over.
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH_HEADER: u8 = 51;
const DEST_OPTIONS: u8 = 60;

/// More extension headers than this in one packet is an attack on parsers, not a real packet.
const MAX_EXTENSION_HEADERS: usize = 16;

/// One parsed IP header (with its IPv6 extension headers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpHeader<'a> {
    pub is_v6: bool,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol; for a fragment, the protocol of the datagram it belongs to.
    pub protocol: u8,
    /// Captured bytes after the headers, cut to the length the header claims.
    pub payload: &'a [u8],
    /// Length of the payload per the header (more than `payload.len()` when the snaplen cut it).
    pub claimed_payload_len: usize,
    /// Bytes of headers before `payload` (IPv4: IHL; IPv6: 40 + extension headers, not counting
    /// a fragment header).
    pub header_len: u32,
    /// Whole packet length per the header.
    pub ip_len: u32,
    pub fragment: Option<FragInfo>,
}

/// Where a fragment goes in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FragInfo {
    /// Byte offset of this fragment's data in the datagram's fragmentable part.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
}

/// Parses an IPv4 header at the start of `bytes`.
pub(crate) fn parse_v4(bytes: &[u8]) -> Result<IpHeader<'_>, DecodeError> {
    let fixed: [u8; 20] = array(bytes, 0).ok_or(DecodeError::Malformed("ipv4 header truncated"))?;
    if fixed[0] >> 4 != 4 {
        return Err(DecodeError::Malformed("ipv4 bad version"));
    }
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    if header_len < 20 {
        return Err(DecodeError::Malformed("bad ipv4 header length"));
    }
    if bytes.len() < header_len {
        return Err(DecodeError::Malformed("ipv4 header truncated"));
    }
    let mut total_len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
    if total_len == 0 {
        // Segmentation offload: the kernel had not filled the length in when it captured.
        total_len = bytes.len().min(usize::from(u16::MAX));
    }
    if total_len < header_len {
        return Err(DecodeError::Malformed("bad ipv4 total length"));
    }
    let flags_offset = u16::from_be_bytes([fixed[6], fixed[7]]);
    let more = flags_offset & 0x2000 != 0;
    let offset = u32::from(flags_offset & 0x1fff) * 8;
    let fragment = (more || offset != 0).then_some(FragInfo {
        offset,
        more,
        id: u32::from(u16::from_be_bytes([fixed[4], fixed[5]])),
    });
    let captured_end = total_len.min(bytes.len());
    Ok(IpHeader {
        is_v6: false,
        src: IpAddr::V4(Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15])),
        dst: IpAddr::V4(Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19])),
        protocol: fixed[9],
        payload: bytes.get(header_len..captured_end).unwrap_or(&[]),
        claimed_payload_len: total_len - header_len,
        header_len: u32::try_from(header_len).unwrap_or(u32::MAX),
        ip_len: u32::try_from(total_len).unwrap_or(u32::MAX),
        fragment,
    })
}

/// Parses an IPv6 header and its extension headers at the start of `bytes`.
pub(crate) fn parse_v6(bytes: &[u8]) -> Result<IpHeader<'_>, DecodeError> {
    let fixed: [u8; 40] = array(bytes, 0).ok_or(DecodeError::Malformed("ipv6 header truncated"))?;
    if fixed[0] >> 4 != 6 {
        return Err(DecodeError::Malformed("ipv6 bad version"));
    }
    let after_fixed = bytes.get(40..).unwrap_or(&[]);
    let mut claimed = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
    if claimed == 0 {
        // A jumbogram or a segmentation-offload capture: the frame is all there is to go by.
        claimed = after_fixed.len();
    }
    let body = after_fixed.get(..claimed).unwrap_or(after_fixed);
    let walk = walk_extensions(fixed[6], body, claimed)?;
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&fixed[8..24]);
    dst.copy_from_slice(&fixed[24..40]);
    let ext_len = u32::try_from(walk.headers_len).unwrap_or(u32::MAX);
    Ok(IpHeader {
        is_v6: true,
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        protocol: walk.protocol,
        payload: walk.payload,
        claimed_payload_len: walk.claimed_payload_len,
        header_len: ext_len.saturating_add(40),
        ip_len: u32::try_from(claimed)
            .unwrap_or(u32::MAX)
            .saturating_add(40),
        fragment: walk.fragment,
    })
}

/// Steps over the extension headers at the start of a reassembled IPv6 datagram's fragmentable
/// part, returning the upper-layer protocol and its bytes.
pub(crate) fn skip_v6_extensions(
    next_header: u8,
    bytes: &[u8],
) -> Result<(u8, &[u8]), DecodeError> {
    skip_v6_extensions_of_cut(next_header, bytes, bytes.len())
        .map(|(protocol, rest, _)| (protocol, rest))
}

/// `skip_v6_extensions` for a fragmentable part of `claimed` bytes of which only `bytes` were
/// captured; also gives the claimed length left after the extension headers.
pub(crate) fn skip_v6_extensions_of_cut(
    next_header: u8,
    bytes: &[u8],
    claimed: usize,
) -> Result<(u8, &[u8], usize), DecodeError> {
    let walk = walk_extensions(next_header, bytes, claimed)?;
    if walk.fragment.is_some() {
        return Err(DecodeError::Malformed("ipv6 fragment header repeated"));
    }
    Ok((walk.protocol, walk.payload, walk.claimed_payload_len))
}

/// The result of walking an IPv6 extension header chain.
struct Walk<'a> {
    protocol: u8,
    payload: &'a [u8],
    claimed_payload_len: usize,
    /// Extension header bytes before `payload`, not counting a fragment header.
    headers_len: usize,
    fragment: Option<FragInfo>,
}

/// Walks extension headers until the upper layer or a (non-atomic) fragment header.
fn walk_extensions(
    mut next_header: u8,
    mut body: &[u8],
    mut claimed: usize,
) -> Result<Walk<'_>, DecodeError> {
    let mut headers_len = 0usize;
    for _ in 0..MAX_EXTENSION_HEADERS {
        let len = match next_header {
            HOP_BY_HOP | ROUTING | DEST_OPTIONS => {
                body.get(1).map(|&units| (usize::from(units) + 1) * 8)
            }
            AUTH_HEADER => body.get(1).map(|&units| (usize::from(units) + 2) * 4),
            FRAGMENT => Some(8),
            _ => {
                return Ok(Walk {
                    protocol: next_header,
                    payload: body,
                    claimed_payload_len: claimed,
                    headers_len,
                    fragment: None,
                })
            }
        };
        let len = len.ok_or(if claimed < 2 {
            DecodeError::Malformed("bad ipv6 extension header length")
        } else {
            DecodeError::Malformed("ipv6 extension header truncated")
        })?;
        if len > claimed {
            return Err(DecodeError::Malformed("bad ipv6 extension header length"));
        }
        let header = body
            .get(..len)
            .ok_or(DecodeError::Malformed("ipv6 extension header truncated"))?;
        let following = header.first().copied().unwrap_or(0);
        let rest = body.get(len..).unwrap_or(&[]);
        claimed -= len;
        if next_header == FRAGMENT {
            let offset_flags = be16(header, 2).unwrap_or(0);
            let offset = u32::from(offset_flags >> 3) * 8;
            let more = offset_flags & 1 != 0;
            // An "atomic" fragment (offset 0, no more) is a whole datagram (RFC 6946).
            if offset != 0 || more {
                return Ok(Walk {
                    protocol: following,
                    payload: rest,
                    claimed_payload_len: claimed,
                    headers_len,
                    fragment: Some(FragInfo {
                        offset,
                        more,
                        id: be32(header, 4).unwrap_or(0),
                    }),
                });
            }
        } else {
            headers_len += len;
        }
        next_header = following;
        body = rest;
    }
    Err(DecodeError::Malformed("too many ipv6 extension headers"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    /// zeek/fragmented-1.pcap frame 1 without its Ethernet header: first fragment (38 bytes of
    /// IP) of a UDP datagram, followed by Ethernet padding.
    const V4_FIRST_FRAGMENT: &str = "45 00 00 26 00 f2 20 00 40 11 1a f2 a4 01 7b a3
        a4 01 7b 3d 00 7b 00 89 00 12 bf e2 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00";

    #[test]
    fn v4_fragment_fields() {
        let bytes = hex(V4_FIRST_FRAGMENT);
        let header = parse_v4(&bytes).unwrap();
        assert_eq!(header.src.to_string(), "164.1.123.163");
        assert_eq!(header.dst.to_string(), "164.1.123.61");
        assert_eq!(header.protocol, 17);
        assert_eq!(header.header_len, 20);
        assert_eq!(header.ip_len, 38);
        assert_eq!(header.claimed_payload_len, 18);
        assert_eq!(header.payload.len(), 18);
        assert_eq!(
            header.fragment,
            Some(FragInfo {
                offset: 0,
                more: true,
                id: 0x00f2
            })
        );
    }

    #[test]
    fn v4_padding_is_cut_and_zero_length_means_captured() {
        let mut bytes = hex("45 00 00 1c 00 01 00 00 40 11 00 00 01 02 03 04 05 06 07 08
            00 35 00 35 00 08 00 00");
        bytes.extend_from_slice(&[0xee; 6]); // Ethernet padding
        let header = parse_v4(&bytes).unwrap();
        assert_eq!(header.payload.len(), 8);
        assert_eq!(header.fragment, None);
        bytes[2] = 0;
        bytes[3] = 0;
        let header = parse_v4(&bytes).unwrap();
        assert_eq!(header.ip_len, 34);
        assert_eq!(header.payload.len(), 14);
    }

    #[test]
    fn v4_errors() {
        let good = hex("45 00 00 14 00 01 00 00 40 06 00 00 01 02 03 04 05 06 07 08");
        assert!(parse_v4(&good).is_ok());
        let mut bad = good.clone();
        bad[0] = 0x44;
        assert_eq!(
            parse_v4(&bad).unwrap_err(),
            DecodeError::Malformed("bad ipv4 header length")
        );
        bad[0] = 0x46;
        assert_eq!(
            parse_v4(&bad).unwrap_err(),
            DecodeError::Malformed("ipv4 header truncated")
        );
        bad[0] = 0x65;
        assert_eq!(
            parse_v4(&bad).unwrap_err(),
            DecodeError::Malformed("ipv4 bad version")
        );
        let mut short_total = good.clone();
        short_total[3] = 0x10;
        assert_eq!(
            parse_v4(&short_total).unwrap_err(),
            DecodeError::Malformed("bad ipv4 total length")
        );
        for cut in 0..good.len() {
            assert!(parse_v4(&good[..cut]).is_err());
        }
    }

    /// zeek/ipv6-fragmented-dns.pcap frame 6 without Ethernet, cut after the UDP header: a
    /// fragment header (offset 0, more) in front of UDP.
    const V6_FIRST_FRAGMENT: &str = "60 00 00 00 05 a0 2c 35 26 07 f7 40 00 0b 00 00
        00 00 00 00 00 00 0f 93 20 01 04 70 1f 11 08 1f
        d1 38 5f 55 06 d4 1f e2 11 00 00 01 00 00 00 02
        00 35 ca 8b 0c a6 68 8f";

    #[test]
    fn v6_fragment_header_is_found() {
        let bytes = hex(V6_FIRST_FRAGMENT);
        let header = parse_v6(&bytes).unwrap();
        assert_eq!(header.src.to_string(), "2607:f740:b::f93");
        assert_eq!(
            header.dst.to_string(),
            "2001:470:1f11:81f:d138:5f55:6d4:1fe2"
        );
        assert_eq!(header.protocol, 17);
        assert_eq!(header.header_len, 40);
        assert_eq!(header.ip_len, 40 + 0x5a0);
        assert_eq!(header.claimed_payload_len, 0x5a0 - 8);
        assert_eq!(header.payload.len(), 8);
        assert_eq!(
            header.fragment,
            Some(FragInfo {
                offset: 0,
                more: true,
                id: 2
            })
        );
    }

    #[test]
    fn v6_extension_chain_and_atomic_fragment() {
        // hop-by-hop (8 bytes) -> destination options (16 bytes) -> atomic fragment -> TCP
        let mut bytes = hex("60 00 00 00 00 30 00 40");
        bytes.extend_from_slice(&[0x11; 16]);
        bytes.extend_from_slice(&[0x22; 16]);
        bytes.extend_from_slice(&hex("3c 00 01 04 00 00 00 00")); // hop-by-hop, PadN
        bytes.extend_from_slice(&hex("2c 01 01 0c 00 00 00 00 00 00 00 00 00 00 00 00"));
        bytes.extend_from_slice(&hex("06 00 00 00 00 00 00 07")); // atomic fragment
        bytes.extend_from_slice(&[0u8; 16]);
        let header = parse_v6(&bytes).unwrap();
        assert_eq!(header.protocol, 6);
        assert_eq!(header.fragment, None);
        assert_eq!(header.header_len, 40 + 24);
        assert_eq!(header.payload.len(), 16);
        for cut in 0..bytes.len() {
            let _ = parse_v6(&bytes[..cut]);
        }
        // a length byte pointing past the claimed payload
        let mut bad = bytes.clone();
        bad[41] = 0xff;
        assert_eq!(
            parse_v6(&bad).unwrap_err(),
            DecodeError::Malformed("bad ipv6 extension header length")
        );
    }

    #[test]
    fn v6_esp_and_no_next_stop_the_walk() {
        let mut bytes = hex("60 00 00 00 00 04 32 40");
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let header = parse_v6(&bytes).unwrap();
        assert_eq!(header.protocol, 50);
        assert_eq!(header.payload, &[1, 2, 3, 4]);
        assert_eq!(skip_v6_extensions(59, &[]).unwrap(), (59, &[][..]));
        assert_eq!(
            skip_v6_extensions(44, &[17, 0, 0, 9, 0, 0, 0, 1]).unwrap_err(),
            DecodeError::Malformed("ipv6 fragment header repeated")
        );
    }

    #[test]
    fn v6_extension_loop_is_bounded() {
        let mut bytes = hex("60 00 00 00 01 00 00 40");
        bytes.extend_from_slice(&[0; 32]);
        for _ in 0..32 {
            bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        }
        assert_eq!(
            parse_v6(&bytes).unwrap_err(),
            DecodeError::Malformed("too many ipv6 extension headers")
        );
    }
}
