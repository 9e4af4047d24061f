//! Frames as macOS captures them on its `pktap` pseudo-interface (`tcpdump -i pktap` or
//! `-i any` on a Mac; LINKTYPE_PKTAP in a file): Apple's little-endian PKTAP header, naming the
//! interface, the link type of the frame after it and the process that sent or received it,
//! then the frame as that interface gives it.

use std::io;

use super::invalid;

/// LINKTYPE_PKTAP.
pub const LINKTYPE_PKTAP: u16 = 258;

/// The header's length as macOS writes it (and the shortest Wireshark reads).
const HEADER_LEN: usize = 108;
/// Record type: a packet follows the header.
const PKT_REC_PACKET: u32 = 1;
/// Direction flags (`pth_flags`).
const PTH_FLAG_DIR_IN: u32 = 0x1;
const PTH_FLAG_DIR_OUT: u32 = 0x2;

/// Who a PKTAP record says handled its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process<'a> {
    /// The interface (at most 23 bytes: `en0`, `utun3`).
    pub interface: &'a str,
    pub pid: u32,
    /// The command (at most 16 bytes: `Google Chrome H`).
    pub command: &'a str,
    /// Whether the frame left this host.
    pub outgoing: bool,
}

/// `frame`, whose link type is `link_type` (as its interface gives it: 1 for Ethernet and
/// Wi-Fi, 0 for loopback, 12 for a tunnel's raw IP), behind a PKTAP header.
pub fn pktap(frame: &[u8], link_type: u32, process: Process<'_>) -> io::Result<Vec<u8>> {
    let fixed = |text: &str, len: usize| {
        (text.len() < len).then(|| {
            let mut field = text.as_bytes().to_vec();
            field.resize(len, 0);
            field
        })
    };
    let (Some(interface), Some(command)) =
        (fixed(process.interface, 24), fixed(process.command, 20))
    else {
        return Err(invalid("a PKTAP interface or command name is too long"));
    };
    let mut out = Vec::with_capacity(HEADER_LEN + frame.len());
    out.extend((HEADER_LEN as u32).to_le_bytes());
    out.extend(PKT_REC_PACKET.to_le_bytes());
    out.extend(link_type.to_le_bytes());
    out.extend(interface);
    let direction = if process.outgoing {
        PTH_FLAG_DIR_OUT
    } else {
        PTH_FLAG_DIR_IN
    };
    out.extend(direction.to_le_bytes());
    out.extend(0u32.to_le_bytes()); // protocol family: not set
    out.extend(0u32.to_le_bytes()); // link-layer header length
    out.extend(0u32.to_le_bytes()); // link-layer trailer length
    out.extend(process.pid.to_le_bytes());
    out.extend(&command);
    out.extend(0u32.to_le_bytes()); // service class
    out.extend(0u16.to_le_bytes()); // interface type
    out.extend(0u16.to_le_bytes()); // interface unit
    out.extend(process.pid.to_le_bytes()); // effective process
    out.extend(command);
    debug_assert_eq!(out.len(), HEADER_LEN);
    out.extend_from_slice(frame);
    Ok(out)
}
