//! PPP framings: bare PPP and PPP in HDLC-like framing (LINKTYPE_PPP 9, LINKTYPE_PPP_HDLC 50,
//! and PPP inside PPTP's enhanced GRE), Cisco HDLC (also LINKTYPE 50), and PPPoE sessions
//! (EtherType 0x8864 and LINKTYPE_PPP_ETHER 51).
//!
//! Only the IPv4 (0x0021) and IPv6 (0x0057) PPP protocols lead further; LCP, IPCP,
//! authentication, compressed datagrams and the rest are handed back as non-IP data.

use super::link::{by_ethertype, Net};
use super::{be16, DecodeError};

const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// The EtherType of PPP, used to label a non-IP PPP frame.
const ETHERTYPE_PPP: u16 = 0x880b;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

/// LINKTYPE_PPP_HDLC (50, also called PPP_SERIAL): PPP in HDLC-like framing, or Cisco HDLC.
pub(crate) fn serial(data: &[u8]) -> Result<Net<'_>, DecodeError> {
    match data {
        // Cisco HDLC: unicast or multicast address, control 0, then an EtherType.
        [0x0f | 0x8f, 0x00, ..] => {
            let ethertype = be16(data, 2).ok_or(DecodeError::Malformed("hdlc header truncated"))?;
            by_ethertype(ethertype, data.get(4..).unwrap_or(&[]), &mut None)
        }
        _ => frame(data),
    }
}

/// A PPP frame, with or without the HDLC address/control bytes `ff 03` (LINKTYPE_PPP 9, PPTP).
pub(crate) fn frame(data: &[u8]) -> Result<Net<'_>, DecodeError> {
    match data {
        [0xff, 0x03, rest @ ..] => protocol(rest),
        _ => protocol(data),
    }
}

/// A PPP frame starting at its protocol field, which may be compressed to one byte (RFC 1661
/// section 6.5: a protocol number's low byte is odd, its high byte even).
pub(crate) fn protocol(data: &[u8]) -> Result<Net<'_>, DecodeError> {
    let (number, rest) = match data {
        [low, rest @ ..] if low & 1 == 1 => (u16::from(*low), rest),
        [high, low, rest @ ..] => (u16::from_be_bytes([*high, *low]), rest),
        _ => return Err(DecodeError::Malformed("ppp header truncated")),
    };
    Ok(match number {
        PPP_IPV4 => Net::Ipv4(rest),
        PPP_IPV6 => Net::Ipv6(rest),
        _ => Net::Other {
            ethertype: ETHERTYPE_PPP,
            payload: data,
        },
    })
}

/// A PPPoE session frame (RFC 2516): version/type 0x11, code 0, session id, length, then PPP.
pub(crate) fn pppoe_session(data: &[u8]) -> Result<Net<'_>, DecodeError> {
    let length = be16(data, 4).ok_or(DecodeError::Malformed("pppoe header truncated"))?;
    if data.first() != Some(&0x11) {
        return Err(DecodeError::Malformed("pppoe bad version"));
    }
    let after = data.get(6..).unwrap_or(&[]);
    // The length field drops Ethernet padding; a snaplen cut leaves less than it says.
    let ppp = after.get(..usize::from(length)).unwrap_or(after);
    match protocol(ppp)? {
        Net::Other { .. } => Ok(Net::Other {
            ethertype: ETHERTYPE_PPPOE_SESSION,
            payload: data,
        }),
        ip => Ok(ip),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn inner(net: Net<'_>) -> (u8, usize) {
        match net {
            Net::Ipv4(bytes) => (4, bytes.len()),
            Net::Ipv6(bytes) => (6, bytes.len()),
            Net::Other { payload, .. } => (0, payload.len()),
        }
    }

    /// zeek/pppoe-over-qinq.pcap frame 1 from the PPPoE header on (after two VLAN tags),
    /// cut inside the IPv4 header: session 0x0f07, length 0x42, PPP IPv4.
    const PPPOE_IPV4: &str = "11 00 0f 07 00 42 00 21 45 00 00 40 00 00 40 00";

    #[test]
    fn pppoe_session_ipv4() {
        let data = hex(PPPOE_IPV4);
        assert_eq!(inner(pppoe_session(&data).unwrap()), (4, 8));
    }

    #[test]
    fn pppoe_length_cuts_padding() {
        let mut data = hex("11 00 00 01 00 06 00 21 45 00 00 04");
        data.extend_from_slice(&[0; 10]);
        assert_eq!(inner(pppoe_session(&data).unwrap()), (4, 4));
    }

    #[test]
    fn pppoe_lcp_is_non_ip() {
        // zeek/pppoe.pcap frame 5 after Ethernet, first 12 bytes: LCP Configuration Request.
        let data = hex("11 00 00 11 00 0c c0 21 01 01 00 0a");
        match pppoe_session(&data).unwrap() {
            Net::Other { ethertype, payload } => {
                assert_eq!(ethertype, 0x8864);
                assert_eq!(payload.len(), data.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ppp_framings() {
        // mercury/quic_ppp.pcap frame 1 starts with the bare protocol 0x0057.
        assert_eq!(inner(frame(&hex("00 57 60 00 00 01")).unwrap()), (6, 4));
        assert_eq!(inner(frame(&hex("ff 03 00 21 45 00")).unwrap()), (4, 2));
        // protocol field compression
        assert_eq!(inner(frame(&hex("ff 03 21 45 00")).unwrap()), (4, 2));
        assert_eq!(inner(frame(&hex("57 60")).unwrap()), (6, 1));
        // Cisco HDLC carries an EtherType (link type 50 only)
        assert_eq!(inner(serial(&hex("0f 00 08 00 45 00")).unwrap()), (4, 2));
        assert_eq!(inner(serial(&hex("8f 00 86 dd 60")).unwrap()), (6, 1));
        assert_eq!(inner(serial(&hex("ff 03 00 57 60")).unwrap()), (6, 1));
        match frame(&hex("ff 03 c0 21 01")).unwrap() {
            Net::Other { ethertype, payload } => {
                assert_eq!(ethertype, 0x880b);
                assert_eq!(payload, &[0xc0, 0x21, 0x01]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_framings_are_errors_not_panics() {
        for text in [PPPOE_IPV4, "ff 03 00 21", "0f 00 08 00"] {
            let data = hex(text);
            for cut in 0..data.len() {
                let _ = frame(&data[..cut]);
                let _ = serial(&data[..cut]);
                let _ = pppoe_session(&data[..cut]);
            }
        }
        assert!(frame(&[]).is_err());
        assert!(frame(&[0xff, 0x03]).is_err());
        assert!(pppoe_session(&[0x11, 0, 0, 1]).is_err());
        assert_eq!(
            pppoe_session(&hex("22 00 00 01 00 02 00 21")).unwrap_err(),
            DecodeError::Malformed("pppoe bad version")
        );
    }
}
