//! A switch's remote mirror (ERSPAN over GRE): a captured Ethernet frame as the collector
//! receives it, in an Ethernet/IPv4/GRE packet from the switch, with the ERSPAN header of
//! type I (none, GRE without a sequence number), II (8 bytes, version 1) or III (12 bytes,
//! version 2, without the platform-specific subheader). And a Wi-Fi access point's CAPWAP
//! data channel to its controller, which carries its stations' frames.

use std::io;
use std::net::Ipv4Addr;

use etherparse::{IpNumber, Ipv4Header};

use super::frame::{udp_frame, Endpoint, IpIdent, L2Options};
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

/// The access point's and the controller's MAC and IPv4 addresses.
pub const ACCESS_POINT: ([u8; 6], [u8; 4]) = ([0x58, 0x0a, 0x20, 0x00, 0x00, 0x01], [10, 9, 1, 10]);
pub const CONTROLLER: ([u8; 6], [u8; 4]) = ([0x58, 0x0a, 0x20, 0x00, 0x00, 0x99], [10, 9, 1, 9]);

/// What a CAPWAP data packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capwap {
    /// An Ethernet frame (T = 0).
    Ethernet,
    /// An 802.11 frame, the binding's native format (T = 1, WBID 1), as written.
    Native,
    /// An 802.11 frame with its frame control's two bytes swapped, as Cisco's access points
    /// send it.
    NativeSwapped,
}

/// `frame` sent by the access point to the controller on CAPWAP's data channel (UDP 5247), in
/// a header of 16 bytes (HLEN 4) with one byte of wireless information (RFC 5415 §4.3).
pub fn capwap(frame: &[u8], kind: Capwap) -> io::Result<Vec<u8>> {
    // Version 0, type 0 | HLEN 4, RID 1, WBID 1, T | W; fragment ID and offset 0; wireless
    // length 1, RSSI, padding.
    let native = kind != Capwap::Ethernet;
    if native && frame.len() < 2 {
        return Err(invalid(
            "an 802.11 frame starts with two bytes of frame control",
        ));
    }
    let word: u32 = (4 << 19) | (1 << 14) | (1 << 9) | (u32::from(native) << 8) | (1 << 5);
    let mut udp_payload = word.to_be_bytes().to_vec();
    udp_payload.extend([0, 0, 0, 0, 1, 0xc4, 0, 0, 0, 0, 0, 0]);
    let start = udp_payload.len();
    udp_payload.extend_from_slice(frame);
    if kind == Capwap::NativeSwapped {
        udp_payload.swap(start, start + 1);
    }
    let access_point = Endpoint::new(ACCESS_POINT.0, Ipv4Addr::from(ACCESS_POINT.1), 12380);
    let controller = Endpoint::new(CONTROLLER.0, Ipv4Addr::from(CONTROLLER.1), 5247);
    udp_frame(
        &access_point,
        &controller,
        L2Options::default(),
        IpIdent::default(),
        &udp_payload,
    )
}
