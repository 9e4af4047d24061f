//! Writer for classic libpcap files: microsecond or nanosecond magic, either byte order, one
//! link type per file, optional snaplen truncation.
//!
//! It writes exactly what it is given; it does not reorder packets by time or check that the
//! frames match the link type (tests of the reader need files that are odd on purpose).

use std::io::{self, Write};

use super::{invalid, Endian, TsResolution};

/// Magic number of a microsecond-resolution pcap file (as a value, before byte order).
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic number of a nanosecond-resolution pcap file.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// How a pcap file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcapFormat {
    pub link_type: u32,
    pub resolution: TsResolution,
    pub endian: Endian,
    /// Largest number of bytes stored per packet; longer frames are cut and keep their
    /// original length in the record header.
    pub snaplen: u32,
}

impl Default for PcapFormat {
    fn default() -> Self {
        PcapFormat {
            link_type: u32::from(super::LINKTYPE_ETHERNET),
            resolution: TsResolution::Micro,
            endian: Endian::Little,
            snaplen: 262_144,
        }
    }
}

/// Streams a pcap file to any writer.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    format: PcapFormat,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte global header.
    pub fn new(mut out: W, format: PcapFormat) -> io::Result<Self> {
        let e = format.endian;
        let magic = match format.resolution {
            TsResolution::Micro => MAGIC_MICROS,
            TsResolution::Nano => MAGIC_NANOS,
        };
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&e.u32(magic));
        header.extend_from_slice(&e.u16(2)); // version 2.4, the only one readers expect
        header.extend_from_slice(&e.u16(4));
        header.extend_from_slice(&e.u32(0)); // thiszone: timestamps are UTC
        header.extend_from_slice(&e.u32(0)); // sigfigs
        header.extend_from_slice(&e.u32(format.snaplen));
        header.extend_from_slice(&e.u32(format.link_type));
        out.write_all(&header)?;
        Ok(PcapWriter { out, format })
    }

    /// Writes one record; the frame is cut to the snaplen and its original length kept.
    pub fn write_packet(&mut self, ts_nanos: u64, data: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(data.len()).map_err(|_| invalid("frame over 4 GiB"))?;
        self.write_packet_with_orig_len(ts_nanos, orig_len, data)
    }

    /// Writes one record claiming `orig_len` bytes on the wire. It may exceed `data.len()`, as
    /// when the capturing host used a small snaplen; it is written as given even when smaller,
    /// so reader tests can build that inconsistency on purpose.
    pub fn write_packet_with_orig_len(
        &mut self,
        ts_nanos: u64,
        orig_len: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let e = self.format.endian;
        let per_second = self.format.resolution.per_second();
        let units = self.format.resolution.units(ts_nanos);
        let seconds = u32::try_from(units / per_second)
            .map_err(|_| invalid("timestamp past 2106 does not fit a pcap record"))?;
        // The fraction is below 10^9, so it always fits a u32.
        let fraction = u32::try_from(units % per_second).unwrap_or(u32::MAX);
        let stored_len = data.len().min(self.format.snaplen as usize);
        let stored = data.get(..stored_len).unwrap_or(data);
        let incl_len = u32::try_from(stored.len()).map_err(|_| invalid("frame over 4 GiB"))?;
        let mut record = Vec::with_capacity(16);
        record.extend_from_slice(&e.u32(seconds));
        record.extend_from_slice(&e.u32(fraction));
        record.extend_from_slice(&e.u32(incl_len));
        record.extend_from_slice(&e.u32(orig_len));
        self.out.write_all(&record)?;
        self.out.write_all(stored)
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Convenience: a whole pcap file in memory from `(ts_nanos, frame)` pairs.
pub fn pcap_bytes<'a>(
    format: PcapFormat,
    packets: impl IntoIterator<Item = (u64, &'a [u8])>,
) -> io::Result<Vec<u8>> {
    let mut writer = PcapWriter::new(Vec::new(), format)?;
    for (ts_nanos, data) in packets {
        writer.write_packet(ts_nanos, data)?;
    }
    writer.into_inner()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TS: u64 = 1_795_510_500_123_456_789; // 2026-11-24T08:55:00.123456789Z

    #[test]
    fn little_endian_micros_header_and_record() {
        let bytes = pcap_bytes(PcapFormat::default(), [(TS, &[0xAAu8; 3][..])]).unwrap();
        assert_eq!(
            &bytes[..24],
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]
        );
        let record = &bytes[24..];
        assert_eq!(&record[0..4], &1_795_510_500u32.to_le_bytes());
        assert_eq!(&record[4..8], &123_456u32.to_le_bytes());
        assert_eq!(&record[8..12], &3u32.to_le_bytes());
        assert_eq!(&record[12..16], &3u32.to_le_bytes());
        assert_eq!(&record[16..], &[0xAA; 3]);
    }

    #[test]
    fn big_endian_nanos_header_and_record() {
        let format = PcapFormat {
            resolution: TsResolution::Nano,
            endian: Endian::Big,
            link_type: 101,
            ..PcapFormat::default()
        };
        let bytes = pcap_bytes(format, [(TS, &[1u8, 2][..])]).unwrap();
        assert_eq!(&bytes[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&bytes[4..8], &[0, 2, 0, 4]);
        assert_eq!(&bytes[20..24], &[0, 0, 0, 101]);
        assert_eq!(&bytes[24..28], &1_795_510_500u32.to_be_bytes());
        assert_eq!(&bytes[28..32], &123_456_789u32.to_be_bytes());
        assert_eq!(bytes.len(), 24 + 16 + 2);
    }

    #[test]
    fn snaplen_cuts_and_keeps_orig_len() {
        let format = PcapFormat {
            snaplen: 4,
            ..PcapFormat::default()
        };
        let bytes = pcap_bytes(format, [(TS, &[9u8; 10][..])]).unwrap();
        assert_eq!(&bytes[16..20], &4u32.to_le_bytes(), "snaplen in header");
        assert_eq!(&bytes[32..36], &4u32.to_le_bytes(), "incl_len");
        assert_eq!(&bytes[36..40], &10u32.to_le_bytes(), "orig_len");
        assert_eq!(bytes.len(), 24 + 16 + 4);
    }

    #[test]
    fn timestamp_past_2106_is_an_error_not_a_wrap() {
        let mut writer = PcapWriter::new(Vec::new(), PcapFormat::default()).unwrap();
        assert!(writer.write_packet(u64::MAX, &[0]).is_err());
    }
}
