//! LINKTYPE_NFLOG (239): Linux netfilter log messages, a 4-byte header (address family,
//! version, resource id) followed by type-length-value attributes; the packet is in the
//! NFULA_PAYLOAD attribute, starting at its network header.
//!
//! The attributes' length and type are in the byte order of the host that captured, which the
//! file does not record: the first attribute decides (the order in which its length fits the
//! message and its type is a small number), and the rest follow it. MAC addresses (the
//! NFULA_HWADDR attribute) are not reported, as for other non-Ethernet link types.

use super::link::Net;
use super::{be16, DecodeError};

const AF_INET: u8 = 2;
/// Linux's AF_INET6.
const AF_INET6: u8 = 10;
const NFULA_PACKET_HDR: u16 = 1;
const NFULA_PAYLOAD: u16 = 9;
/// Masks the netlink "nested" and "byte order" flags off an attribute type.
const NLA_TYPE_MASK: u16 = 0x3fff;
/// Attribute types defined so far are below this; used only to tell the byte order.
const PLAUSIBLE_TYPE_LIMIT: u16 = 64;
/// A message holds a few attributes; this bounds the walk over a hostile one.
const MAX_ATTRIBUTES: usize = 64;

/// Finds the logged packet in an NFLOG message.
pub(crate) fn decode(data: &[u8]) -> Result<Net<'_>, DecodeError> {
    let family = *data
        .first()
        .ok_or(DecodeError::Malformed("nflog header truncated"))?;
    let mut rest = data
        .get(4..)
        .ok_or(DecodeError::Malformed("nflog header truncated"))?;
    let little_endian = first_attribute_is_little_endian(rest);
    let mut hw_protocol = None;
    for _ in 0..MAX_ATTRIBUTES {
        if rest.is_empty() {
            break;
        }
        let (length, kind) = attribute_header(rest, little_endian)
            .ok_or(DecodeError::Malformed("nflog attribute truncated"))?;
        let length = usize::from(length);
        if length < 4 {
            return Err(DecodeError::Malformed("bad nflog attribute length"));
        }
        // A snaplen cut shortens the last attribute, the payload: keep what was captured and
        // let the IP layer see that it is short.
        let value = rest.get(4..length.min(rest.len())).unwrap_or(&[]);
        match kind & NLA_TYPE_MASK {
            NFULA_PACKET_HDR => hw_protocol = be16(value, 0),
            NFULA_PAYLOAD => return Ok(payload(family, hw_protocol, value)),
            _ => {}
        }
        // Attributes are padded to 4 bytes.
        let padded = length.saturating_add(3) & !3;
        rest = rest.get(padded..).unwrap_or(&[]);
    }
    Err(DecodeError::Malformed("nflog payload missing"))
}

/// The logged packet, by the message's address family (or, for the bridge family, the hardware
/// protocol the packet header attribute names).
fn payload(family: u8, hw_protocol: Option<u16>, value: &[u8]) -> Net<'_> {
    match (family, hw_protocol) {
        (AF_INET, _) | (_, Some(0x0800)) => Net::Ipv4(value),
        (AF_INET6, _) | (_, Some(0x86dd)) => Net::Ipv6(value),
        (_, ethertype) => Net::Other {
            ethertype: ethertype.unwrap_or(0),
            payload: value,
        },
    }
}

fn attribute_header(bytes: &[u8], little_endian: bool) -> Option<(u16, u16)> {
    let header: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(if little_endian {
        (
            u16::from_le_bytes([header[0], header[1]]),
            u16::from_le_bytes([header[2], header[3]]),
        )
    } else {
        (
            u16::from_be_bytes([header[0], header[1]]),
            u16::from_be_bytes([header[2], header[3]]),
        )
    })
}

/// Little-endian unless only the big-endian reading of the first attribute makes sense.
fn first_attribute_is_little_endian(bytes: &[u8]) -> bool {
    let plausible = |little| {
        attribute_header(bytes, little).is_some_and(|(length, kind)| {
            length >= 4
                && usize::from(length) <= bytes.len()
                && kind & NLA_TYPE_MASK < PLAUSIBLE_TYPE_LIMIT
        })
    };
    plausible(true) || !plausible(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    /// zeek/nflog-http.pcap frame 1, cut 8 bytes into the payload attribute's IPv4 header.
    const NFLOG_V4: &str = "02 00 00 2a 08 00 01 00 00 00 03 00 05 00 0a 00
        00 00 00 00 08 00 05 00 00 00 00 02 08 00 0b 00
        00 00 00 00 08 00 0e 00 00 00 00 00 40 00 09 00
        45 00 00 3c e8 ef 40 00";

    #[test]
    fn payload_found_past_padded_attributes() {
        let mut data = hex(NFLOG_V4);
        // the real attribute is 64 bytes long; give it its full length
        data.resize(4 + 8 + 8 + 8 + 8 + 8 + 64, 0);
        match decode(&data).unwrap() {
            Net::Ipv4(bytes) => {
                assert_eq!(bytes.len(), 60);
                assert_eq!(bytes[..4], [0x45, 0x00, 0x00, 0x3c]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn big_endian_attributes() {
        let data = hex("0a 00 00 01  00 08 00 01 86 dd 03 00  00 06 00 09 60 00 00 00");
        match decode(&data).unwrap() {
            Net::Ipv6(bytes) => assert_eq!(bytes, &[0x60, 0x00]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bridge_family_uses_hw_protocol() {
        let data = hex("07 00 00 01  08 00 01 00 08 06 03 00  08 00 09 00 00 01 08 00");
        match decode(&data).unwrap() {
            Net::Other { ethertype, payload } => {
                assert_eq!(ethertype, 0x0806);
                assert_eq!(payload.len(), 4);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncations_and_bad_lengths() {
        let data = hex(NFLOG_V4);
        // the payload attribute claims 64 bytes but the snaplen left 8
        match decode(&data).unwrap() {
            Net::Ipv4(bytes) => assert_eq!(bytes.len(), 8),
            other => panic!("{other:?}"),
        }
        for cut in 0..data.len() {
            let _ = decode(&data[..cut]);
        }
        assert_eq!(
            decode(&data[..28]).unwrap_err(),
            DecodeError::Malformed("nflog payload missing")
        );
        assert_eq!(
            decode(&data[..2]).unwrap_err(),
            DecodeError::Malformed("nflog header truncated")
        );
        assert_eq!(
            decode(&hex("02 00 00 00 02 00 09 00")).unwrap_err(),
            DecodeError::Malformed("bad nflog attribute length")
        );
        assert_eq!(
            decode(&hex("02 00 00 00 08 00")).unwrap_err(),
            DecodeError::Malformed("nflog attribute truncated")
        );
    }
}
