//! The fast path: the frames nearly every office capture is made of, decoded in one straight
//! pass. Ethernet with at most one 802.1Q tag, then IPv4 (not a fragment, a total length set)
//! or IPv6 (no extension headers, a payload length set), then TCP or UDP that is not a
//! tunnel's port. Anything else — another link type, QinQ, PPPoE, options it would have to
//! judge, a header that does not add up, a fragment, a tunnel — returns `None`, and the
//! general decoder (`Decoder::decode`) takes the frame, with its error reasons and its state.
//!
//! It must give exactly what the general decoder gives for the frames it takes: a test checks
//! it on every frame of the corpus and on mutated frames.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN};
use super::transport::{self, Layer4, TCP, UDP};
use super::{array, be16, PacketMeta};
use crate::capture::RawPacket;

const LINKTYPE_ETHERNET: u32 = 1;

/// Decodes a plain Ethernet/IP/TCP-or-UDP frame, or says it is not one.
#[inline(always)]
pub(super) fn plain<'a>(pkt: &RawPacket<'a>) -> Option<PacketMeta<'a>> {
    if pkt.link_type != LINKTYPE_ETHERNET {
        return None;
    }
    let data = pkt.data;
    let header: [u8; 14] = array(data, 0)?;
    let mut ethertype = u16::from_be_bytes([header[12], header[13]]);
    let mut net = data.get(14..)?;
    let mut vlan = None;
    if ethertype == ETHERTYPE_VLAN {
        let tci = be16(net, 0)?;
        ethertype = be16(net, 2)?;
        vlan = Some(tci & 0x0fff);
        net = net.get(4..)?;
    }
    let (src_ip, dst_ip, protocol, body, claimed, ip_len) = match ethertype {
        ETHERTYPE_IPV4 => {
            let fixed: [u8; 20] = array(net, 0)?;
            if fixed[0] >> 4 != 4 {
                return None;
            }
            let header_len = usize::from(fixed[0] & 0x0f) * 4;
            let total_len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
            let fragment = u16::from_be_bytes([fixed[6], fixed[7]]) & 0x3fff != 0;
            if header_len < 20 || net.len() < header_len || total_len < header_len || fragment {
                return None;
            }
            let body = net.get(header_len..total_len.min(net.len()))?;
            (
                IpAddr::V4(Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15])),
                IpAddr::V4(Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19])),
                fixed[9],
                body,
                total_len - header_len,
                total_len,
            )
        }
        ETHERTYPE_IPV6 => {
            let fixed: [u8; 40] = array(net, 0)?;
            if fixed[0] >> 4 != 6 {
                return None;
            }
            let claimed = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
            if claimed == 0 {
                return None;
            }
            let after = net.get(40..)?;
            let body = after.get(..claimed).unwrap_or(after);
            let src: [u8; 16] = array(&fixed, 8)?;
            let dst: [u8; 16] = array(&fixed, 24)?;
            (
                IpAddr::V6(Ipv6Addr::from(src)),
                IpAddr::V6(Ipv6Addr::from(dst)),
                fixed[6],
                body,
                claimed,
                claimed + 40,
            )
        }
        _ => return None,
    };
    // The general decoder's own TCP and UDP readers; a UDP tunnel is left to it.
    let layer = match protocol {
        TCP => transport::tcp(body, claimed).ok()?,
        UDP => match transport::udp(body, claimed).ok()? {
            Layer4::Done(layer) => layer,
            Layer4::Tunnel { .. } => return None,
        },
        _ => return None,
    };
    Some(PacketMeta {
        ts_nanos: pkt.ts_nanos,
        src_mac: array(&header, 6),
        dst_mac: array(&header, 0),
        vlan,
        src_ip,
        dst_ip,
        transport: layer.transport,
        src_port: layer.src_port,
        dst_port: layer.dst_port,
        payload: layer.payload,
        payload_truncated: layer.truncated,
        ip_len: u32::try_from(ip_len).ok()?,
        wire_len: pkt.orig_len,
    })
}
