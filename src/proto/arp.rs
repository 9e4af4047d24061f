//! Address bindings a LAN gives away for free: ARP (RFC 826) packets, which pair a sender's
//! hardware and protocol addresses (Ethernet + IPv4 is the case that matters), and IPv6 Neighbor
//! Discovery (RFC 4861) solicitations and advertisements, whose link-layer address options pair
//! a MAC with an IPv6 address. Both feed the device table (MAC <-> IP).
//!
//! The ARP value is rendered as the corpus ground truth writes it (`<sender-ip> <sender-mac>`,
//! from tshark's `arp.src.proto_ipv4` and `arp.src.hw_mac`).
//!
//! It refuses to: parse ATM ARP (tshark hands that hardware type to another dissector), validate the ICMPv6 checksum (the caller's IPv6 layer may), decide which binding
//! to trust (a gratuitous ARP may be a spoof; that is for the device table), or panic.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{ProtoError, ProtoResult};

/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// Fixed part of an ARP packet before the addresses.
pub const HEADER_LEN: usize = 8;

/// ARP opcodes.
pub mod op {
    pub const REQUEST: u16 = 1;
    pub const REPLY: u16 = 2;
    pub const RARP_REQUEST: u16 = 3;
    pub const RARP_REPLY: u16 = 4;
}

const HARDWARE_ETHERNET: u16 = 1;
const HARDWARE_IEEE802: u16 = 6;
const HARDWARE_ATM2225: u16 = 19;
const PROTOCOL_IPV4: u16 = 0x0800;
/// AX.25's protocol number for IP, which tshark also reads as IPv4.
const PROTOCOL_AX25_IP: u16 = 0xcc;

/// One ARP packet, addresses borrowed from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp<'a> {
    pub hardware_type: u16,
    pub protocol_type: u16,
    pub op: u16,
    pub sender_hardware: &'a [u8],
    pub sender_protocol: &'a [u8],
    pub target_hardware: &'a [u8],
    pub target_protocol: &'a [u8],
}

/// Parses the ARP payload of a frame (after the EtherType; trailing padding is ignored). All
/// four addresses must be present, as tshark needs them for requests and replies.
pub fn parse(arp_payload: &[u8]) -> ProtoResult<Arp<'_>> {
    let field = |at: usize| -> ProtoResult<u16> {
        match arp_payload.get(at..at + 2) {
            Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
            _ => Err(ProtoError::Incomplete),
        }
    };
    let hardware_type = field(0)?;
    let protocol_type = field(2)?;
    let hlen = usize::from(*arp_payload.get(4).ok_or(ProtoError::Incomplete)?);
    let plen = usize::from(*arp_payload.get(5).ok_or(ProtoError::Incomplete)?);
    let op = field(6)?;
    if hardware_type == HARDWARE_ATM2225 {
        return Err(ProtoError::Invalid("ARP hardware type with its own format"));
    }
    let mut offset = HEADER_LEN;
    let mut take = |len: usize| -> ProtoResult<&[u8]> {
        let bytes = arp_payload
            .get(offset..offset + len)
            .ok_or(ProtoError::Incomplete)?;
        offset += len;
        Ok(bytes)
    };
    Ok(Arp {
        hardware_type,
        protocol_type,
        op,
        sender_hardware: take(hlen)?,
        sender_protocol: take(plen)?,
        target_hardware: take(hlen)?,
        target_protocol: take(plen)?,
    })
}

impl<'a> Arp<'a> {
    fn is_ethernet(&self) -> bool {
        matches!(self.hardware_type, HARDWARE_ETHERNET | HARDWARE_IEEE802)
            && self.sender_hardware.len() == 6
    }
    fn is_ipv4(&self) -> bool {
        matches!(self.protocol_type, PROTOCOL_IPV4 | PROTOCOL_AX25_IP)
            && self.sender_protocol.len() == 4
    }
    pub fn is_request(&self) -> bool {
        self.op == op::REQUEST
    }
    pub fn is_reply(&self) -> bool {
        self.op == op::REPLY
    }
    /// Sender MAC, for Ethernet/IEEE 802 hardware with 6-byte addresses.
    pub fn sender_mac(&self) -> Option<[u8; 6]> {
        self.is_ethernet()
            .then(|| self.sender_hardware.try_into().ok())
            .flatten()
    }
    pub fn target_mac(&self) -> Option<[u8; 6]> {
        self.is_ethernet()
            .then(|| self.target_hardware.try_into().ok())
            .flatten()
    }
    /// Sender IPv4 address (protocol 0x0800, or AX.25's 0xcc, with 4-byte addresses).
    pub fn sender_ipv4(&self) -> Option<Ipv4Addr> {
        let bytes: [u8; 4] = self
            .is_ipv4()
            .then_some(self.sender_protocol)?
            .try_into()
            .ok()?;
        Some(Ipv4Addr::from(bytes))
    }
    pub fn target_ipv4(&self) -> Option<Ipv4Addr> {
        let bytes: [u8; 4] = self
            .is_ipv4()
            .then_some(self.target_protocol)?
            .try_into()
            .ok()?;
        Some(Ipv4Addr::from(bytes))
    }
    /// Request or reply whose sender and target protocol addresses are equal: an announcement
    /// of the sender's own binding (or a conflict check).
    pub fn is_gratuitous(&self) -> bool {
        (self.is_request() || self.is_reply()) && self.sender_protocol == self.target_protocol
    }
    /// Request from 0.0.0.0 for an address (RFC 5227 duplicate address probe): the MAC is real,
    /// the sender address is not.
    pub fn is_probe(&self) -> bool {
        self.is_request()
            && !self.is_gratuitous()
            && self.target_hardware.iter().all(|&b| b == 0)
            && self.sender_ipv4() == Some(Ipv4Addr::UNSPECIFIED)
    }
    /// The binding this packet asserts for its sender, usable for a device table: a unicast,
    /// non-zero MAC with a non-zero IPv4 address (the rule tshark uses to learn names).
    pub fn sender_binding(&self) -> Option<([u8; 6], Ipv4Addr)> {
        let mac = self.sender_mac()?;
        let ip = self.sender_ipv4()?;
        let usable = mac[0] & 1 == 0 && mac != [0; 6] && !ip.is_unspecified();
        usable.then_some((mac, ip))
    }
    /// Appends the ground truth's `arp` value, `<sender-ip> <sender-mac>`; false (nothing
    /// written) without an IPv4 sender. The MAC part is empty for non-Ethernet hardware, as
    /// tshark then has no `arp.src.hw_mac`.
    pub fn write_value(&self, out: &mut String) -> bool {
        let Some(ip) = self.sender_ipv4() else {
            return false;
        };
        let _ = write!(out, "{ip} ");
        if let Some(mac) = self.sender_mac() {
            write_mac(&mac, out);
        }
        true
    }
}

/// Appends a MAC as tshark prints it: lower-case hex pairs joined by colons.
pub fn write_mac(mac: &[u8], out: &mut String) {
    for (index, byte) in mac.iter().enumerate() {
        if index > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02x}");
    }
}

/// ICMPv6 types of Neighbor Discovery this module reads.
pub mod icmpv6_type {
    pub const ROUTER_SOLICITATION: u8 = 133;
    pub const ROUTER_ADVERTISEMENT: u8 = 134;
    pub const NEIGHBOR_SOLICITATION: u8 = 135;
    pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
}

/// A neighbor solicitation or advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ndp<'a> {
    pub icmp_type: u8,
    /// Router, solicited and override flags of an advertisement (top three bits); 0 for a
    /// solicitation.
    pub flags: u8,
    /// The address being resolved (solicitation) or announced (advertisement).
    pub target: Ipv6Addr,
    options: &'a [u8],
}

/// Parses an ICMPv6 message (from its type byte on). `Ok(None)` for ICMPv6 types other than
/// neighbor solicitation (135) and advertisement (136), and for code != 0 (RFC 4861 says drop).
pub fn parse_ndp(icmpv6: &[u8]) -> ProtoResult<Option<Ndp<'_>>> {
    let icmp_type = *icmpv6.first().ok_or(ProtoError::Incomplete)?;
    let code = *icmpv6.get(1).ok_or(ProtoError::Incomplete)?;
    if !matches!(
        icmp_type,
        icmpv6_type::NEIGHBOR_SOLICITATION | icmpv6_type::NEIGHBOR_ADVERTISEMENT
    ) || code != 0
    {
        return Ok(None);
    }
    let target: [u8; 16] = icmpv6
        .get(8..24)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ProtoError::Incomplete)?;
    let flags = if icmp_type == icmpv6_type::NEIGHBOR_ADVERTISEMENT {
        icmpv6.get(4).copied().unwrap_or_default() & 0xe0
    } else {
        0
    };
    Ok(Some(Ndp {
        icmp_type,
        flags,
        target: Ipv6Addr::from(target),
        options: icmpv6.get(24..).unwrap_or_default(),
    }))
}

impl<'a> Ndp<'a> {
    pub const FLAG_ROUTER: u8 = 0x80;
    pub const FLAG_SOLICITED: u8 = 0x40;
    pub const FLAG_OVERRIDE: u8 = 0x20;

    pub fn is_solicitation(&self) -> bool {
        self.icmp_type == icmpv6_type::NEIGHBOR_SOLICITATION
    }
    /// The options as (type, value without the type and length bytes); stops at a zero length
    /// or an option running past the message (RFC 4861 says drop those).
    pub fn options(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut rest = self.options;
        std::iter::from_fn(move || {
            let (&option_type, after) = rest.split_first()?;
            let units = usize::from(*after.first()?);
            let value = rest.get(2..units.checked_mul(8)?)?;
            rest = rest.get(units * 8..)?;
            Some((option_type, value))
        })
    }
    /// Source link-layer address option (1): the sender's MAC (absent in DAD probes).
    pub fn source_mac(&self) -> Option<[u8; 6]> {
        self.link_layer_option(1)
    }
    /// Target link-layer address option (2): the MAC of `target` in an advertisement.
    pub fn target_mac(&self) -> Option<[u8; 6]> {
        self.link_layer_option(2)
    }
    fn link_layer_option(&self, wanted: u8) -> Option<[u8; 6]> {
        let (_, value) = self.options().find(|(kind, _)| *kind == wanted)?;
        value.get(..6)?.try_into().ok()
    }
    /// The MAC <-> IPv6 binding this message asserts, given the packet's IPv6 source: an
    /// advertisement binds `target` to its target link-layer address; a solicitation binds
    /// its (non-unspecified) source address to its source link-layer address.
    pub fn binding(&self, ipv6_source: Ipv6Addr) -> Option<([u8; 6], Ipv6Addr)> {
        if self.is_solicitation() {
            if ipv6_source.is_unspecified() {
                return None;
            }
            Some((self.source_mac()?, ipv6_source))
        } else {
            Some((self.target_mac()?, self.target))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    /// zeek/arp-who-has.pcap frames 1 (request) and 2 (reply), ARP part.
    const ZEEK_REQUEST: &str = "00010800060400017831c1c63fc20a0000020000000000000a000001";
    const ZEEK_REPLY: &str = "0001080006040002f8eda5c0a4f10a0000017831c1c63fc20a000002";
    /// mercury/emix.pcap frame 2341: a neighbor solicitation with a source link-layer option.
    const EMIX_NS: &str = "870043e20000000020010470b30400000217f2fffef3d21b0101e091f5738cc2";
    /// ndpi/alexa-app.pcapng frame 3: a duplicate address detection probe (source ::).
    const ALEXA_DAD: &str = "8700870200000000fe800000000000007af882fffed3fbc2";

    fn value(arp: &Arp<'_>) -> String {
        let mut out = String::new();
        arp.write_value(&mut out);
        out
    }

    #[test]
    fn zeek_who_has() {
        let request = hex(ZEEK_REQUEST);
        let arp = parse(&request).unwrap();
        assert!(arp.is_request());
        assert_eq!(value(&arp), "10.0.0.2 78:31:c1:c6:3f:c2");
        assert_eq!(arp.target_ipv4(), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(arp.target_mac(), Some([0; 6]));
        assert!(!arp.is_gratuitous() && !arp.is_probe());
        let reply = hex(ZEEK_REPLY);
        let arp = parse(&reply).unwrap();
        assert!(arp.is_reply());
        assert_eq!(value(&arp), "10.0.0.1 f8:ed:a5:c0:a4:f1");
        assert_eq!(
            arp.sender_binding(),
            Some((
                [0xf8, 0xed, 0xa5, 0xc0, 0xa4, 0xf1],
                Ipv4Addr::new(10, 0, 0, 1)
            ))
        );
        // Ethernet padding after the packet is ignored.
        let mut padded = reply.clone();
        padded.extend([0u8; 18]);
        assert_eq!(parse(&padded).unwrap(), arp);
    }

    #[test]
    fn probes_and_odd_hardware() {
        // An RFC 5227 probe: sender 0.0.0.0, no usable binding, but still a truth row.
        let probe = hex("0001080006040001 020000000001 00000000 000000000000 0a000005");
        let arp = parse(&probe).unwrap();
        assert!(arp.is_probe());
        assert_eq!(arp.sender_binding(), None);
        assert_eq!(value(&arp), "0.0.0.0 02:00:00:00:00:01");
        // Non-Ethernet hardware: the IP with an empty MAC part, like the ground truth.
        let token_ring = hex("0004080006040001 020000000001 0a000001 000000000000 0a000002");
        assert_eq!(value(&parse(&token_ring).unwrap()), "10.0.0.1 ");
        // Not IPv4: no value.
        let other = hex("0001 86dd 06 04 0001 020000000001 0a000001 000000000000 0a000002");
        assert!(!parse(&other).unwrap().write_value(&mut String::new()));
        assert!(parse(&hex("0013080006040001")).is_err());
        // AX.25 (hardware type 3): tshark still shows the IPv4 sender, with no MAC.
        let ax25 = hex("0003 0800 07 04 0001 00000000000000 0a000002 00000000000000 0a000001");
        assert_eq!(value(&parse(&ax25).unwrap()), "10.0.0.2 ");
    }

    #[test]
    fn neighbor_discovery() {
        let ns = hex(EMIX_NS);
        let ndp = parse_ndp(&ns).unwrap().unwrap();
        assert!(ndp.is_solicitation());
        assert_eq!(
            ndp.target,
            "2001:470:b304:0:217:f2ff:fef3:d21b"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        assert_eq!(ndp.source_mac(), Some([0xe0, 0x91, 0xf5, 0x73, 0x8c, 0xc2]));
        let source: Ipv6Addr = "fe80::e291:f5ff:fe73:8cc2".parse().unwrap();
        assert_eq!(
            ndp.binding(source),
            Some(([0xe0, 0x91, 0xf5, 0x73, 0x8c, 0xc2], source))
        );
        let dad = hex(ALEXA_DAD);
        let ndp = parse_ndp(&dad).unwrap().unwrap();
        assert_eq!(ndp.source_mac(), None);
        assert_eq!(ndp.binding(Ipv6Addr::UNSPECIFIED), None);
        // A solicited advertisement with a target link-layer option.
        let na = hex("8800 0000 60000000 fe800000000000000000000000000001 0201 020000000001");
        let ndp = parse_ndp(&na).unwrap().unwrap();
        assert_eq!(ndp.flags, Ndp::FLAG_SOLICITED | Ndp::FLAG_OVERRIDE);
        assert_eq!(
            ndp.binding(Ipv6Addr::UNSPECIFIED),
            Some(([2, 0, 0, 0, 0, 1], "fe80::1".parse().unwrap()))
        );
        assert_eq!(parse_ndp(&hex("8000 0000")).unwrap(), None);
    }

    #[test]
    fn every_prefix_and_mutation_is_safe() {
        let inputs = [
            hex(ZEEK_REQUEST),
            hex(ZEEK_REPLY),
            hex(EMIX_NS),
            hex(ALEXA_DAD),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for input in inputs {
            for len in 0..=input.len() {
                if let Ok(arp) = parse(&input[..len]) {
                    let _ = (value(&arp), arp.sender_binding(), arp.is_probe());
                }
                if let Ok(Some(ndp)) = parse_ndp(&input[..len]) {
                    let _ = ndp.binding(Ipv6Addr::LOCALHOST);
                }
            }
            crate::testkit::mutations(&input, 2000, 3, &mut seed, |mutated| {
                if let Ok(arp) = parse(mutated) {
                    let _ = (value(&arp), arp.sender_binding(), arp.target_mac());
                }
                if let Ok(Some(ndp)) = parse_ndp(mutated) {
                    let _ = (ndp.binding(Ipv6Addr::LOCALHOST), ndp.options().count());
                }
            });
        }
    }
}
