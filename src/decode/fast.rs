//! The fast path: the frames nearly every office capture is made of, decoded in one straight
//! pass. Ethernet with at most one 802.1Q tag, then IPv4 (not a fragment, a total length set)
//! or IPv6 (no extension headers, a payload length set), then TCP or UDP that is not a
//! tunnel's port. Anything else — another link type, QinQ, PPPoE, options it would have to
//! judge, a header that does not add up, a fragment, a tunnel — returns `None`, and the
//! general decoder (`Decoder::decode`) takes the frame, with its error reasons and its state.
//!
//! It must give exactly what the general decoder gives for the frames it takes: a test checks
//! it on every frame of the corpus and on mutated frames.

use crate::flow::addr_from_bits;

use super::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN};
use super::transport::{self, Layer4, TCP, UDP};
use super::{array, be16, PacketMeta, Transport};
use crate::capture::RawPacket;

const LINKTYPE_ETHERNET: u32 = 1;

/// An IPv4 address as a 128-bit number: IPv4-mapped (`::ffff:a.b.c.d`), as `flow::addr_bits`
/// gives it.
const IPV4_MAPPED: u128 = 0xffff_0000_0000;

/// A plain frame as the fast path reads it, before it is put in any other form: the
/// addresses as 128-bit numbers (an IPv4 one IPv4-mapped, `v6` telling them apart, as flow
/// keys take them), the Ethernet header whole. `meta` makes the decoder's `PacketMeta` of it;
/// a batch run makes its per-packet record straight from it.
#[derive(Debug, Clone, Copy)]
pub struct Plain<'a> {
    pub ts_nanos: u64,
    /// The Ethernet header: destination MAC, source MAC, EtherType.
    pub ethernet: [u8; 14],
    pub vlan: Option<u16>,
    pub v6: bool,
    pub src_ip: u128,
    pub dst_ip: u128,
    pub transport: Transport,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
    pub payload_truncated: bool,
    pub ip_len: u32,
    pub wire_len: u32,
}

impl<'a> Plain<'a> {
    pub fn src_mac(&self) -> [u8; 6] {
        array(&self.ethernet, 6).unwrap_or_default()
    }

    pub fn dst_mac(&self) -> [u8; 6] {
        array(&self.ethernet, 0).unwrap_or_default()
    }

    /// The decoder's meta of the frame.
    #[inline(always)]
    pub fn meta(&self) -> PacketMeta<'a> {
        PacketMeta {
            ts_nanos: self.ts_nanos,
            src_mac: Some(self.src_mac()),
            dst_mac: Some(self.dst_mac()),
            vlan: self.vlan,
            src_ip: addr_from_bits(self.src_ip, self.v6),
            dst_ip: addr_from_bits(self.dst_ip, self.v6),
            transport: self.transport,
            src_port: self.src_port,
            dst_port: self.dst_port,
            payload: self.payload,
            payload_truncated: self.payload_truncated,
            ip_len: self.ip_len,
            wire_len: self.wire_len,
        }
    }
}

/// Decodes a plain Ethernet/IP/TCP-or-UDP frame, or says it is not one.
#[inline(always)]
pub(super) fn plain<'a>(pkt: &RawPacket<'a>) -> Option<PacketMeta<'a>> {
    plain_parts(pkt).map(|plain| plain.meta())
}

/// `plain`, its fields as read.
#[inline(always)]
pub(super) fn plain_parts<'a>(pkt: &RawPacket<'a>) -> Option<Plain<'a>> {
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
    let (v6, src_ip, dst_ip, protocol, body, claimed, ip_len) = match ethertype {
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
            let v4 = |at: usize| {
                IPV4_MAPPED
                    | u128::from(u32::from_be_bytes([
                        fixed[at],
                        fixed[at + 1],
                        fixed[at + 2],
                        fixed[at + 3],
                    ]))
            };
            (
                false,
                v4(12),
                v4(16),
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
                true,
                u128::from_be_bytes(src),
                u128::from_be_bytes(dst),
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
    Some(Plain {
        ts_nanos: pkt.ts_nanos,
        ethernet: header,
        vlan,
        v6,
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
