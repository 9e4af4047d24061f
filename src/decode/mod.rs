//! Decode: from a raw frame and its link type to MAC addresses, IP addresses, ports and the
//! transport payload, reassembling IP fragments on the way.
//!
//! The link layer is chosen by the capture's link type, never guessed from the bytes (the one
//! exception is LINKTYPE_RAW, which by definition holds IPv4 or IPv6 told apart by the version
//! nibble, and tunnels such as GTP-U and Teredo whose payload has no type field). Tunnels (IP in IP,
//! GRE, VXLAN, GENEVE, GTP-U, Teredo) are opened so that the addresses and ports reported are the
//! innermost ones, as tshark shows them; MAC addresses and the VLAN id stay the outermost ones,
//! because they identify the device on the audited network. The exception is a switch's
//! remote mirror (ERSPAN): the frame inside is the audited network's own, and its MACs and VLAN
//! are the ones reported. A tunnel whose content is not IP
//! (ARP in VXLAN, LCP in PPTP) is reported as the outer packet. An ICMP error is reported as the
//! ICMP packet it is, not as the packet it quotes (where tshark's "innermost" view differs).
//!
//! Fragments are reassembled (`frag.rs`) and the datagram is returned with the frame that
//! completes it; all fragments of a datagram must therefore pass through the same `Decoder`.
//!
//! What it refuses to do: verify checksums, follow TCP streams (the flow stage does that), decode
//! link types it does not know (they are reported as `UnsupportedLinkType`, not guessed), or
//! allocate on the path of an unfragmented packet. The only state it keeps is the bounded table of
//! IP fragments awaiting reassembly.

mod fast;
mod frag;
mod ip;
mod link;
mod nflog;
mod ppp;
mod transport;
mod tunnel;
mod wlan;

use std::net::IpAddr;

use crate::capture::RawPacket;

pub use fast::Plain;
use frag::{FragKey, FragTable, Fragment, Reassembled};
use ip::{FragInfo, IpHeader};
use transport::Layer4;
use tunnel::Inner;

/// How many IP headers one frame may stack (outer + tunnels) before it is refused: a frame that
/// nests deeper is far more likely hostile than real, and the limit bounds the work per frame.
const MAX_IP_LAYERS: usize = 5;

/// How many reassemblies one frame may need: the outer datagram and one tunnelled inside it.
const MAX_REASSEMBLIES: usize = 2;

/// Decodes frames; holds the IP fragment reassembly table (the only state between frames).
#[derive(Debug, Default)]
pub struct Decoder {
    frags: FragTable,
    /// Completed datagrams are moved here, so a `PacketMeta` can borrow them until the next call.
    reassembled: [Vec<u8>; MAX_REASSEMBLIES],
    stats: DecodeStats,
}

/// What one frame decoded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    Ip(PacketMeta<'a>),
    /// A frame that carries no IP (ARP, LLDP, STP...): the outer MACs, ethertype and its payload
    /// (later parsed for ARP). `ethertype` names the format of `payload`: the EtherType after any
    /// VLAN tags (the 802.3 length for LLC frames, values up to 1500; a Linux cooked capture's
    /// protocol number, such as 4 for 802.2 LLC, is kept as it is); 0x880b for a non-IP PPP
    /// frame (payload starts at the PPP protocol field); 0x8864 for a non-IP PPPoE session frame
    /// (payload starts at the PPPoE header); 0 when the link layer has no EtherType (an unknown
    /// BSD loopback family or NFLOG family, an 802.11 frame that is not readable data).
    NonIp {
        src_mac: Option<[u8; 6]>,
        dst_mac: Option<[u8; 6]>,
        ethertype: u16,
        payload: &'a [u8],
    },
    /// An IP fragment stored for reassembly; nothing to process yet.
    FragmentHeld,
}

/// The innermost transport protocol of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp {
        seq: u32,
        ack: u32,
        flags: u8,
    },
    Udp,
    /// ICMP or ICMPv6; `payload` is the whole ICMP message.
    Icmp,
    /// Any other IP protocol number (ESP, SCTP, an unknown GRE payload...); `payload` is what
    /// follows the IP headers.
    Other(u8),
}

/// Addresses, ports and payload of one IP packet (or one reassembled datagram).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketMeta<'a> {
    pub ts_nanos: u64,
    /// OUTERMOST Ethernet source (or Linux SLL/SLL2 source address when 6 bytes, or an 802.11
    /// frame's source station), None for raw IP/null/PPP/NFLOG.
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// Outermost VLAN id if any.
    pub vlan: Option<u16>,
    /// INNERMOST IP header (tunnels decapsulated).
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub transport: Transport,
    /// 0 when not TCP/UDP.
    pub src_port: u16,
    pub dst_port: u16,
    /// Transport payload as captured, cut to the IP header's length (Ethernet padding / FCS
    /// removed).
    pub payload: &'a [u8],
    /// The snaplen cut part of it (or the headers claimed more than the frame holds).
    pub payload_truncated: bool,
    /// Innermost IP packet length per its header (header + payload): the "bytes" the report
    /// counts. For a reassembled datagram: the first fragment's headers + all fragment data.
    pub ip_len: u32,
    /// orig_len of the frame (of the completing fragment's frame for a reassembled datagram).
    pub wire_len: u32,
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    UnsupportedLinkType(u32),
    /// The static text is a counter key shown in stats: short, lowercase, stable.
    Malformed(&'static str),
}

/// Counters of the fragment reassembly table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Fragments accepted into the table (including the ones that completed a datagram).
    pub fragments: u64,
    /// Fragments stored and answered with `Decoded::FragmentHeld`.
    pub fragments_held: u64,
    /// Fragments whose bytes were already held, wholly or partly (duplicates, overlaps): the
    /// bytes received first are kept.
    pub fragments_overlapping: u64,
    /// Datagrams completed and returned.
    pub reassembled: u64,
    /// Datagrams dropped because their first fragment was older than the timeout.
    pub expired: u64,
    /// Datagrams dropped to make room when the table was full.
    pub evicted: u64,
    /// Datagrams dropped because their fragments disagreed on the total length.
    pub inconsistent: u64,
    /// Datagrams in progress right now.
    pub in_progress: u64,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters of the fragment table.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Decodes one frame. The result may borrow from `pkt` or, for a reassembled datagram, from
    /// the decoder itself (until the next call).
    #[inline(always)]
    pub fn decode<'a>(&'a mut self, pkt: &RawPacket<'a>) -> Result<Decoded<'a>, DecodeError> {
        // Plain Ethernet/IP/TCP-or-UDP frames, most of any capture, in one straight pass.
        if let Some(meta) = fast::plain(pkt) {
            return Ok(Decoded::Ip(meta));
        }
        self.decode_general(pkt)
    }

    /// The fast path alone: a plain Ethernet/IP/TCP-or-UDP frame decoded, or `None` for a frame
    /// only `decode` can take. Equal to what `decode` gives for the frames it takes.
    #[inline(always)]
    pub fn decode_plain<'a>(pkt: &RawPacket<'a>) -> Option<PacketMeta<'a>> {
        fast::plain(pkt)
    }

    /// `decode_plain`, the frame's fields as read (`Plain::meta` makes the meta of them).
    #[inline(always)]
    pub fn decode_plain_parts<'a>(pkt: &RawPacket<'a>) -> Option<Plain<'a>> {
        fast::plain_parts(pkt)
    }

    /// Every frame the fast path does not take (out of line, so `decode` stays small enough to
    /// inline into the callers of the fast path).
    #[inline(never)]
    fn decode_general<'a>(&'a mut self, pkt: &RawPacket<'a>) -> Result<Decoded<'a>, DecodeError> {
        let Decoder {
            frags,
            reassembled,
            stats,
        } = self;
        // Buffers not yet used by this frame; each reassembly takes the first one.
        let mut spare_buffers: &'a mut [Vec<u8>] = reassembled.as_mut_slice();

        let frame = link::decode(pkt.link_type, pkt.data)?;
        let (mut src_mac, mut dst_mac) = (frame.src_mac, frame.dst_mac);
        let mut vlan = frame.vlan;
        let mut next = frame.net;

        for _ in 0..MAX_IP_LAYERS {
            let header = match next {
                link::Net::Ipv4(bytes) => ip::parse_v4(bytes)?,
                link::Net::Ipv6(bytes) => ip::parse_v6(bytes)?,
                link::Net::Other { ethertype, payload } => {
                    return Ok(Decoded::NonIp {
                        src_mac,
                        dst_mac,
                        ethertype,
                        payload,
                    })
                }
            };
            let IpHeader {
                src,
                dst,
                mut protocol,
                mut payload,
                mut claimed_payload_len,
                mut ip_len,
                fragment,
                ..
            } = header;

            let cut = payload.len() < claimed_payload_len;
            if let Some(FragInfo { offset: 0, .. }) = fragment.filter(|_| cut) {
                // A first fragment cut by the snap length leaves a hole that no later fragment
                // fills: its datagram is never whole. Its own headers and the bytes captured
                // are read as any packet the snap length cut is read (as tshark reads them):
                // its flow is counted and named from what is there. Its datagram's later
                // fragments wait in the table, and expire.
                if header.is_v6 {
                    (protocol, payload, claimed_payload_len) =
                        ip::skip_v6_extensions_of_cut(protocol, payload, claimed_payload_len)?;
                }
            } else if let Some(fragment) = fragment {
                let (buffer, rest) = std::mem::take(&mut spare_buffers)
                    .split_first_mut()
                    .ok_or(DecodeError::Malformed("nested fragments too deep"))?;
                spare_buffers = rest;
                let done = insert_fragment(frags, stats, pkt.ts_nanos, &header, fragment, buffer)?;
                let Some(done) = done else {
                    return Ok(Decoded::FragmentHeld);
                };
                let datagram: &'a [u8] = buffer.as_slice();
                ip_len = done
                    .header_len
                    .saturating_add(u32::try_from(datagram.len()).unwrap_or(u32::MAX));
                // The fragmentable part of an IPv6 datagram may start with more extension
                // headers (destination options, AH) before the transport header.
                let (upper, rest) = if header.is_v6 {
                    ip::skip_v6_extensions(done.protocol, datagram)?
                } else {
                    (done.protocol, datagram)
                };
                protocol = upper;
                payload = rest;
                claimed_payload_len = rest.len();
            }

            let meta = |l4: transport::L4<'a>, vlan| PacketMeta {
                ts_nanos: pkt.ts_nanos,
                src_mac,
                dst_mac,
                vlan,
                src_ip: src,
                dst_ip: dst,
                transport: l4.transport,
                src_port: l4.src_port,
                dst_port: l4.dst_port,
                payload: l4.payload,
                payload_truncated: l4.truncated,
                ip_len,
                wire_len: pkt.orig_len,
            };
            let (inner, outer) = match transport::decode(protocol, payload, claimed_payload_len)? {
                Layer4::Done(l4) => return Ok(Decoded::Ip(meta(l4, vlan))),
                Layer4::Tunnel { inner, outer } => (inner, outer),
            };
            let mut inner_vlan = None;
            let inner_net = match inner {
                Inner::Net(net) => net,
                Inner::Ethernet(bytes) => {
                    let inner_frame = link::ethernet(bytes)?;
                    inner_vlan = inner_frame.vlan;
                    inner_frame.net
                }
                Inner::Mirrored(bytes) => {
                    // A remote mirror's frame is the audited network's own: its addresses
                    // and VLAN are the devices', the tunnel's only the mirror's. ARP in it is
                    // the network's ARP.
                    let mirrored = link::ethernet(bytes)?;
                    (src_mac, dst_mac, vlan) = (mirrored.src_mac, mirrored.dst_mac, mirrored.vlan);
                    next = mirrored.net;
                    continue;
                }
                Inner::Relayed(bytes) => {
                    // A station's frame that its access point relays to the controller is the
                    // station's own traffic, as a mirrored frame is.
                    let relayed = wlan::relayed(bytes)?;
                    (src_mac, dst_mac, vlan) = (relayed.src_mac, relayed.dst_mac, relayed.vlan);
                    next = relayed.net;
                    continue;
                }
            };
            if let link::Net::Other { .. } = inner_net {
                // ARP or LLDP inside an overlay: the packet seen on this network is the tunnel's.
                return Ok(Decoded::Ip(meta(outer, vlan)));
            }
            vlan = vlan.or(inner_vlan);
            next = inner_net;
        }
        Err(DecodeError::Malformed("tunnel nesting too deep"))
    }
}

/// Stores one fragment; on completion the datagram's fragmentable part is left in `buffer`.
fn insert_fragment(
    frags: &mut FragTable,
    stats: &mut DecodeStats,
    ts_nanos: u64,
    header: &IpHeader<'_>,
    fragment: FragInfo,
    buffer: &mut Vec<u8>,
) -> Result<Option<Reassembled>, DecodeError> {
    if header.payload.len() < header.claimed_payload_len {
        // A fragment cut by the snaplen leaves a hole that no later fragment fills.
        return Err(DecodeError::Malformed("ip fragment truncated"));
    }
    let key = FragKey::new(
        header.src,
        header.dst,
        fragment.id,
        if header.is_v6 { 0 } else { header.protocol },
    );
    let piece = Fragment {
        offset: fragment.offset,
        more: fragment.more,
        data: header.payload,
        protocol: header.protocol,
        header_len: header.header_len,
    };
    frags.insert(key, piece, ts_nanos, stats, buffer)
}

/// Reads a big-endian u16 at `at`, if the bytes are there.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(pair))
}

/// Reads a big-endian u32 at `at`, if the bytes are there.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let quad: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(quad))
}

/// Reads a little-endian u32 at `at`, if the bytes are there (radiotap, PKTAP).
fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    array(bytes, at).map(u32::from_le_bytes)
}

/// Copies `N` bytes at `at`, if they are there.
fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
