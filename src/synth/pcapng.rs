//! Writer for pcapng files: one Section Header Block, any number of Interface Description
//! Blocks (each with its own link type, snaplen and timestamp resolution) and Enhanced Packet
//! Blocks, in either byte order.
//!
//! It writes a single section of unknown length (section length -1, as streaming writers such
//! as dumpcap do) and no statistics, name-resolution or custom blocks. It does not reorder
//! packets by time.

use std::io::{self, Write};

use super::{invalid, Endian, Packet, TsResolution};

const BLOCK_SHB: u32 = 0x0A0D_0D0A;
const BLOCK_IDB: u32 = 0x0000_0001;
const BLOCK_EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;

/// What an Interface Description Block says about one capture interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDesc {
    /// LINKTYPE_* of every frame on this interface.
    pub link_type: u16,
    /// Largest number of bytes stored per packet; 0 means no limit (pcapng's convention).
    pub snaplen: u32,
    /// `if_name` option, omitted when `None`.
    pub name: Option<String>,
    /// Micro is pcapng's default and writes no `if_tsresol` option; Nano writes `if_tsresol = 9`.
    pub resolution: TsResolution,
}

impl InterfaceDesc {
    /// An interface with the given link type, no snaplen limit, microsecond timestamps.
    pub fn new(link_type: u16) -> Self {
        InterfaceDesc {
            link_type,
            snaplen: 0,
            name: None,
            resolution: TsResolution::Micro,
        }
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    pub fn nanos(mut self) -> Self {
        self.resolution = TsResolution::Nano;
        self
    }

    pub fn snaplen(mut self, snaplen: u32) -> Self {
        self.snaplen = snaplen;
        self
    }
}

/// Streams a pcapng section to any writer.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    endian: Endian,
    interfaces: Vec<InterfaceDesc>,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block (with `shb_userappl = "shadowai synth"`).
    pub fn new(out: W, endian: Endian) -> io::Result<Self> {
        let mut writer = PcapngWriter {
            out,
            endian,
            interfaces: Vec::new(),
        };
        let e = endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(BYTE_ORDER_MAGIC));
        body.extend_from_slice(&e.u16(1)); // version 1.0
        body.extend_from_slice(&e.u16(0));
        body.extend_from_slice(&e.u64(u64::MAX)); // section length -1: not known in advance
        writer.put_option(&mut body, OPT_SHB_USERAPPL, b"shadowai synth");
        writer.put_option(&mut body, OPT_END, &[]);
        writer.put_block(BLOCK_SHB, &body)?;
        Ok(writer)
    }

    /// Writes an Interface Description Block and returns the interface's id (0, 1, ...).
    pub fn add_interface(&mut self, interface: &InterfaceDesc) -> io::Result<u32> {
        let id =
            u32::try_from(self.interfaces.len()).map_err(|_| invalid("too many interfaces"))?;
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u16(interface.link_type));
        body.extend_from_slice(&e.u16(0)); // reserved
        body.extend_from_slice(&e.u32(interface.snaplen));
        if let Some(name) = &interface.name {
            self.put_option(&mut body, OPT_IF_NAME, name.as_bytes());
        }
        if interface.resolution == TsResolution::Nano {
            self.put_option(&mut body, OPT_IF_TSRESOL, &[9]);
        }
        if interface.name.is_some() || interface.resolution == TsResolution::Nano {
            self.put_option(&mut body, OPT_END, &[]);
        }
        self.put_block(BLOCK_IDB, &body)?;
        self.interfaces.push(interface.clone());
        Ok(id)
    }

    /// Writes an Enhanced Packet Block on `interface`; the frame is cut to that interface's
    /// snaplen and its original length kept.
    pub fn write_packet(&mut self, interface: u32, ts_nanos: u64, data: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(data.len()).map_err(|_| invalid("frame over 4 GiB"))?;
        self.write_packet_with_orig_len(interface, ts_nanos, orig_len, data)
    }

    /// Like [`write_packet`](Self::write_packet) with an explicit original length, written as
    /// given (reader tests may want it smaller than the stored bytes).
    pub fn write_packet_with_orig_len(
        &mut self,
        interface: u32,
        ts_nanos: u64,
        orig_len: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let desc = self
            .interfaces
            .get(interface as usize)
            .ok_or_else(|| invalid("packet on an interface with no IDB"))?;
        let stored_len = match desc.snaplen {
            0 => data.len(),
            limit => data.len().min(limit as usize),
        };
        let stored = data.get(..stored_len).unwrap_or(data);
        let units = desc.resolution.units(ts_nanos);
        let e = self.endian;
        let mut body = Vec::with_capacity(20 + stored.len() + 3);
        body.extend_from_slice(&e.u32(interface));
        body.extend_from_slice(&e.u32((units >> 32) as u32));
        body.extend_from_slice(&e.u32(units as u32)); // low half; truncation intended
        let captured = u32::try_from(stored.len()).map_err(|_| invalid("frame over 4 GiB"))?;
        body.extend_from_slice(&e.u32(captured));
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(stored);
        pad32(&mut body);
        self.put_block(BLOCK_EPB, &body)
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn put_option(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
        // Option values here are short constants or interface names; a name over 64 KiB is
        // cut rather than written with a wrong length.
        let value = value.get(..usize::from(u16::MAX)).unwrap_or(value);
        body.extend_from_slice(&self.endian.u16(code));
        body.extend_from_slice(&self.endian.u16(value.len() as u16));
        body.extend_from_slice(value);
        pad32(body);
    }

    fn put_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let total = body
            .len()
            .checked_add(12)
            .and_then(|len| u32::try_from(len).ok())
            .ok_or_else(|| invalid("pcapng block over 4 GiB"))?;
        let e = self.endian;
        self.out.write_all(&e.u32(block_type))?;
        self.out.write_all(&e.u32(total))?;
        self.out.write_all(body)?;
        self.out.write_all(&e.u32(total))
    }
}

fn pad32(body: &mut Vec<u8>) {
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
}

/// Convenience: a whole pcapng file in memory. `interfaces[i]` describes interface `i`; each
/// packet names its interface.
pub fn pcapng_bytes<'a>(
    endian: Endian,
    interfaces: &[InterfaceDesc],
    packets: impl IntoIterator<Item = &'a Packet>,
) -> io::Result<Vec<u8>> {
    let mut writer = PcapngWriter::new(Vec::new(), endian)?;
    for interface in interfaces {
        writer.add_interface(interface)?;
    }
    for packet in packets {
        writer.write_packet(packet.interface, packet.ts_nanos, &packet.data)?;
    }
    writer.into_inner()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TS: u64 = 1_795_510_500_123_456_789;

    fn packet(interface: u32, data: &[u8]) -> Packet {
        Packet {
            ts_nanos: TS,
            interface,
            data: data.to_vec(),
        }
    }

    #[test]
    fn little_endian_blocks_byte_for_byte() {
        let ifaces = [InterfaceDesc::new(1)];
        let bytes = pcapng_bytes(Endian::Little, &ifaces, &[packet(0, &[0xEE; 5])]).unwrap();
        // SHB: 12 framing + 16 fixed + userappl option (4 + 16) + end option (4) = 52.
        let mut shb = vec![
            0x0A, 0x0D, 0x0D, 0x0A, 52, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0,
        ];
        shb.extend_from_slice(&[0xFF; 8]);
        shb.extend_from_slice(&[4, 0, 14, 0]);
        shb.extend_from_slice(b"shadowai synth\0\0");
        shb.extend_from_slice(&[0, 0, 0, 0, 52, 0, 0, 0]);
        assert_eq!(&bytes[..52], &shb[..]);
        // IDB without options: 20 bytes.
        assert_eq!(
            &bytes[52..72],
            &[1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0]
        );
        // EPB: 12 + 20 + 8 (5 bytes padded) = 40.
        let epb = &bytes[72..];
        assert_eq!(epb.len(), 40);
        assert_eq!(&epb[0..8], &[6, 0, 0, 0, 40, 0, 0, 0]);
        let micros = TS / 1_000;
        assert_eq!(&epb[8..12], &0u32.to_le_bytes(), "interface id");
        assert_eq!(&epb[12..16], &((micros >> 32) as u32).to_le_bytes());
        assert_eq!(&epb[16..20], &(micros as u32).to_le_bytes());
        assert_eq!(&epb[20..24], &5u32.to_le_bytes());
        assert_eq!(&epb[24..28], &5u32.to_le_bytes());
        assert_eq!(&epb[28..36], &[0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0, 0, 0]);
        assert_eq!(&epb[36..40], &40u32.to_le_bytes());
    }

    #[test]
    fn big_endian_two_interfaces_with_options() {
        let ifaces = [
            InterfaceDesc::new(1).named("eth0"),
            InterfaceDesc::new(101).nanos().snaplen(3),
        ];
        let packets = [packet(1, &[1, 2, 3, 4, 5]), packet(0, &[7])];
        let bytes = pcapng_bytes(Endian::Big, &ifaces, &packets).unwrap();
        assert_eq!(&bytes[8..12], &[0x1A, 0x2B, 0x3C, 0x4D]);
        // IDB 0: link type 1, if_name "eth0", end: 12 + 8 + 8 + 4 = 32 bytes.
        let idb0 = &bytes[52..84];
        assert_eq!(&idb0[..8], &[0, 0, 0, 1, 0, 0, 0, 32]);
        assert_eq!(&idb0[8..12], &[0, 1, 0, 0]);
        assert_eq!(
            &idb0[16..28],
            &[0, 2, 0, 4, b'e', b't', b'h', b'0', 0, 0, 0, 0]
        );
        // IDB 1: link type 101, snaplen 3, if_tsresol 9, end: 12 + 8 + 8 + 4 = 32 bytes.
        let idb1 = &bytes[84..116];
        assert_eq!(&idb1[8..16], &[0, 101, 0, 0, 0, 0, 0, 3]);
        assert_eq!(&idb1[16..24], &[0, 9, 0, 1, 9, 0, 0, 0]);
        // First EPB: interface 1, nanosecond units, cut to 3 of 5 bytes.
        let epb = &bytes[116..];
        assert_eq!(&epb[8..12], &[0, 0, 0, 1]);
        assert_eq!(&epb[12..16], &((TS >> 32) as u32).to_be_bytes());
        assert_eq!(&epb[16..20], &(TS as u32).to_be_bytes());
        assert_eq!(&epb[20..24], &3u32.to_be_bytes());
        assert_eq!(&epb[24..28], &5u32.to_be_bytes());
    }

    #[test]
    fn unknown_interface_is_an_error() {
        let mut writer = PcapngWriter::new(Vec::new(), Endian::Little).unwrap();
        assert!(writer.write_packet(0, TS, &[1]).is_err());
    }
}
