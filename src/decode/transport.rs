//! The layer after the IP headers: TCP and UDP ports and payload, ICMP, IPv4's AH, and the
//! tunnels (IP in IP, GRE, tunnels over UDP) whose inner packet the decoder goes on with.
//!
//! A TCP header whose options the snaplen cut is still reported (ports, flags and sequence
//! numbers are in the fixed 20 bytes), with an empty, truncated payload. Less than the fixed
//! header is an error. Nothing here looks at payload bytes except to open a tunnel.

use super::link::Net;
use super::tunnel::{self, Inner};
use super::{array, be16, DecodeError, Transport};

const ICMP: u8 = 1;
const IPV4_IN_IP: u8 = 4;
pub(super) const TCP: u8 = 6;
pub(super) const UDP: u8 = 17;
const IPV6_IN_IP: u8 = 41;
const GRE: u8 = 47;
const AUTH_HEADER: u8 = 51;
const ICMPV6: u8 = 58;

/// AH headers stacked in front of one IPv4 payload; more is not a real packet.
const MAX_AUTH_HEADERS: usize = 4;

/// The innermost layer of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct L4<'a> {
    pub transport: Transport,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
    pub truncated: bool,
}

/// What follows the IP headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer4<'a> {
    Done(L4<'a>),
    /// A tunnel: go on with `inner`; report `outer` if the inner packet turns out not to be IP.
    Tunnel {
        inner: Inner<'a>,
        outer: L4<'a>,
    },
}

/// Decodes the upper layer `protocol` from `data` (captured bytes, already cut to the IP
/// header's length), whose length per the IP header is `claimed`.
pub(crate) fn decode(
    mut protocol: u8,
    mut data: &[u8],
    mut claimed: usize,
) -> Result<Layer4<'_>, DecodeError> {
    // In IPv6 the extension header walk already stepped over AH; in IPv4 it is a protocol.
    for _ in 0..MAX_AUTH_HEADERS {
        if protocol != AUTH_HEADER {
            break;
        }
        let len = data
            .get(1)
            .map(|&units| (usize::from(units) + 2) * 4)
            .ok_or(DecodeError::Malformed("ah header truncated"))?;
        if len > claimed {
            return Err(DecodeError::Malformed("bad ah header length"));
        }
        protocol = *data
            .first()
            .ok_or(DecodeError::Malformed("ah header truncated"))?;
        data = data
            .get(len..)
            .ok_or(DecodeError::Malformed("ah header truncated"))?;
        claimed -= len;
    }
    let truncated = data.len() < claimed;
    let whole = |transport| L4 {
        transport,
        src_port: 0,
        dst_port: 0,
        payload: data,
        truncated,
    };
    Ok(match protocol {
        TCP => Layer4::Done(tcp(data, claimed)?),
        UDP => udp(data, claimed)?,
        ICMP | ICMPV6 => Layer4::Done(whole(Transport::Icmp)),
        IPV4_IN_IP => Layer4::Tunnel {
            inner: Inner::Net(Net::Ipv4(data)),
            outer: whole(Transport::Other(protocol)),
        },
        IPV6_IN_IP => Layer4::Tunnel {
            inner: Inner::Net(Net::Ipv6(data)),
            outer: whole(Transport::Other(protocol)),
        },
        GRE => match tunnel::gre(data) {
            Some(inner) => Layer4::Tunnel {
                inner,
                outer: whole(Transport::Other(GRE)),
            },
            None => Layer4::Done(whole(Transport::Other(GRE))),
        },
        other => Layer4::Done(whole(Transport::Other(other))),
    })
}

#[inline]
pub(super) fn tcp(data: &[u8], claimed: usize) -> Result<L4<'_>, DecodeError> {
    let fixed: [u8; 20] = array(data, 0).ok_or(DecodeError::Malformed("tcp header truncated"))?;
    let header_len = usize::from(fixed[12] >> 4) * 4;
    if header_len < 20 || header_len > claimed {
        return Err(DecodeError::Malformed("bad tcp header length"));
    }
    Ok(L4 {
        transport: Transport::Tcp {
            seq: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ack: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            flags: fixed[13],
        },
        src_port: u16::from_be_bytes([fixed[0], fixed[1]]),
        dst_port: u16::from_be_bytes([fixed[2], fixed[3]]),
        payload: data.get(header_len..).unwrap_or(&[]),
        truncated: data.len() < claimed,
    })
}

#[inline(always)]
pub(super) fn udp(data: &[u8], claimed: usize) -> Result<Layer4<'_>, DecodeError> {
    let fixed: [u8; 8] = array(data, 0).ok_or(DecodeError::Malformed("udp header truncated"))?;
    let src_port = u16::from_be_bytes([fixed[0], fixed[1]]);
    let dst_port = u16::from_be_bytes([fixed[2], fixed[3]]);
    // The UDP length is trusted only when it fits the IP payload; 0 is used by jumbograms.
    let udp_len = usize::from(be16(&fixed, 4).unwrap_or(0));
    let end = if (8..=claimed).contains(&udp_len) {
        udp_len
    } else {
        claimed
    };
    let outer = L4 {
        transport: Transport::Udp,
        src_port,
        dst_port,
        payload: data.get(8..end.min(data.len())).unwrap_or(&[]),
        truncated: data.len() < end,
    };
    Ok(match tunnel::over_udp(src_port, dst_port, outer.payload) {
        Some(inner) => Layer4::Tunnel { inner, outer },
        None => Layer4::Done(outer),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn done(layer: Layer4<'_>) -> L4<'_> {
        match layer {
            Layer4::Done(l4) => l4,
            other => panic!("{other:?}"),
        }
    }

    /// mercury/geneve.pcap frame 42, the inner TCP SYN (header with 12 bytes of options).
    const TCP_SYN: &str = "f9 93 01 bb 2a 23 f7 74 00 00 00 00 80 c2 f5 07
        2d b4 00 00 02 04 20 b5 01 03 03 08 01 01 04 02";

    #[test]
    fn tcp_fields() {
        let data = hex(TCP_SYN);
        let l4 = done(decode(6, &data, data.len()).unwrap());
        assert_eq!(
            l4.transport,
            Transport::Tcp {
                seq: 0x2a23_f774,
                ack: 0,
                flags: 0xc2
            }
        );
        assert_eq!((l4.src_port, l4.dst_port), (63891, 443));
        assert!(l4.payload.is_empty());
        assert!(!l4.truncated);
    }

    #[test]
    fn tcp_options_cut_by_snaplen() {
        let data = hex(TCP_SYN);
        let l4 = done(decode(6, &data[..24], data.len()).unwrap());
        assert_eq!((l4.src_port, l4.dst_port), (63891, 443));
        assert!(l4.payload.is_empty());
        assert!(l4.truncated);
        assert_eq!(
            decode(6, &data[..19], data.len()).unwrap_err(),
            DecodeError::Malformed("tcp header truncated")
        );
        // the IP header says the segment is shorter than its own TCP header
        assert_eq!(
            decode(6, &data[..24], 24).unwrap_err(),
            DecodeError::Malformed("bad tcp header length")
        );
        let mut short_offset = data.clone();
        short_offset[12] = 0x40;
        assert_eq!(
            decode(6, &short_offset, short_offset.len()).unwrap_err(),
            DecodeError::Malformed("bad tcp header length")
        );
    }

    #[test]
    fn udp_length_cuts_and_is_checked() {
        // DNS query header fragment: 53 -> 53, UDP length 12 (4 bytes of payload)
        let data = hex("00 35 00 35 00 0c 00 00 de ad be ef 00 00");
        let l4 = done(decode(17, &data, data.len()).unwrap());
        assert_eq!(l4.transport, Transport::Udp);
        assert_eq!(l4.payload, &[0xde, 0xad, 0xbe, 0xef]);
        assert!(!l4.truncated);
        // a UDP length larger than the IP payload falls back to the IP payload
        let mut long = data.clone();
        long[5] = 0xff;
        assert_eq!(
            done(decode(17, &long, long.len()).unwrap()).payload.len(),
            6
        );
        // snaplen cut
        let l4 = done(decode(17, &data[..10], data.len()).unwrap());
        assert_eq!(l4.payload.len(), 2);
        assert!(l4.truncated);
        assert_eq!(
            decode(17, &data[..7], data.len()).unwrap_err(),
            DecodeError::Malformed("udp header truncated")
        );
    }

    #[test]
    fn icmp_and_others_keep_the_whole_payload() {
        let data = [8u8, 0, 0, 0, 1, 2];
        let l4 = done(decode(1, &data, 6).unwrap());
        assert_eq!(l4.transport, Transport::Icmp);
        assert_eq!((l4.src_port, l4.dst_port, l4.payload.len()), (0, 0, 6));
        assert_eq!(
            done(decode(58, &data, 6).unwrap()).transport,
            Transport::Icmp
        );
        let l4 = done(decode(132, &data, 10).unwrap());
        assert_eq!(l4.transport, Transport::Other(132));
        assert!(l4.truncated);
        // GRE that is not opened
        assert_eq!(
            done(decode(47, &hex("0000 88be 00"), 5).unwrap()).transport,
            Transport::Other(47)
        );
    }

    #[test]
    fn ipv4_ah_is_stepped_over() {
        // AH: next header UDP, length 4 (=> 24 bytes), then a UDP header
        let mut data = hex("11 04 00 00 00 00 01 00 00 00 00 01");
        data.extend_from_slice(&[0; 12]);
        data.extend_from_slice(&hex("04 00 00 35 00 08 00 00"));
        let l4 = done(decode(51, &data, data.len()).unwrap());
        assert_eq!((l4.transport, l4.dst_port), (Transport::Udp, 53));
        assert_eq!(
            decode(51, &data[..20], 20).unwrap_err(),
            DecodeError::Malformed("bad ah header length")
        );
    }

    #[test]
    fn tunnels_are_reported_with_their_outer_layer() {
        match decode(4, &[0x45, 0], 2).unwrap() {
            Layer4::Tunnel { inner, outer } => {
                assert_eq!(inner, Inner::Net(Net::Ipv4(&[0x45, 0])));
                assert_eq!(outer.transport, Transport::Other(4));
            }
            other => panic!("{other:?}"),
        }
        let mut vxlan = hex("c0 00 12 b5 00 24 00 00 08 00 00 00 00 00 01 00");
        vxlan.extend_from_slice(&[0x22; 20]);
        match decode(17, &vxlan, vxlan.len()).unwrap() {
            Layer4::Tunnel { inner, outer } => {
                assert_eq!(inner, Inner::Ethernet(&[0x22; 20]));
                assert_eq!((outer.src_port, outer.dst_port), (49152, 4789));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prefixes_never_panic() {
        let data = hex(TCP_SYN);
        for protocol in [1u8, 4, 6, 17, 41, 47, 51, 58, 0, 255] {
            for cut in 0..=data.len() {
                let _ = decode(protocol, &data[..cut], data.len());
                let _ = decode(protocol, &data[..cut], cut);
            }
        }
    }
}
