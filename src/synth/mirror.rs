//! A switch's remote mirror (ERSPAN over GRE): a captured Ethernet frame as the collector
//! receives it, in an Ethernet/IPv4/GRE packet from the switch, with the ERSPAN header of
//! type I (none, GRE without a sequence number), II (8 bytes, version 1) or III (12 bytes,
//! version 2, without the platform-specific subheader).

use std::io;

use etherparse::{IpNumber, Ipv4Header};

use super::invalid;

/// Which ERSPAN header the mirrored frame gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erspan {
    TypeI,
    TypeII,
    TypeIII,
}

/// The switch's and the collector's MAC and IPv4 addresses.
pub const SWITCH: ([u8; 6], [u8; 4]) = ([0x00, 0x1c, 0x73, 0x00, 0x00, 0x01], [10, 9, 0, 1]);
pub const COLLECTOR: ([u8; 6], [u8; 4]) = ([0x00, 0x1c, 0x73, 0x00, 0x00, 0x99], [10, 9, 0, 99]);

/// `frame` mirrored by the switch to the collector as ERSPAN session `session`, the `seq`th
/// mirrored frame.
pub fn erspan(frame: &[u8], kind: Erspan, session: u16, seq: u32) -> io::Result<Vec<u8>> {
    let mut gre = Vec::new();
    let (flags, protocol): (u16, u16) = match kind {
        Erspan::TypeI => (0x0000, 0x88be),
        Erspan::TypeII => (0x1000, 0x88be),
        Erspan::TypeIII => (0x1000, 0x22eb),
    };
    gre.extend(flags.to_be_bytes());
    gre.extend(protocol.to_be_bytes());
    if flags & 0x1000 != 0 {
        gre.extend(seq.to_be_bytes());
    }
    let session = session & 0x03ff;
    match kind {
        Erspan::TypeI => {}
        Erspan::TypeII => {
            // Version 1, VLAN 0 | COS 0, En 3 (the original frame's tags kept), T 0, session |
            // reserved, index 0.
            gre.extend((0x1000u16).to_be_bytes());
            gre.extend((0x1800 | session).to_be_bytes());
            gre.extend([0, 0, 0, 0]);
        }
        Erspan::TypeIII => {
            // Version 2, VLAN 0 | COS 0, BSO 0, T 0, session | timestamp | SGT, flags (O = 0).
            gre.extend((0x2000u16).to_be_bytes());
            gre.extend(session.to_be_bytes());
            gre.extend(seq.wrapping_mul(1_000).to_be_bytes());
            gre.extend([0, 0, 0, 0]);
        }
    }
    gre.extend_from_slice(frame);
    let length = u16::try_from(gre.len()).map_err(|_| invalid("mirrored frame too big"))?;
    let mut ip = Ipv4Header::new(length, 64, IpNumber::GRE, SWITCH.1, COLLECTOR.1)
        .map_err(|_| invalid("mirrored frame too big"))?;
    ip.header_checksum = ip.calc_header_checksum();
    let mut packet = COLLECTOR.0.to_vec();
    packet.extend(SWITCH.0);
    packet.extend([0x08, 0x00]);
    ip.write(&mut packet)
        .map_err(|_| invalid("IPv4 header not written"))?;
    packet.extend(gre);
    Ok(packet)
}
