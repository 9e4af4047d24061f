//! Legacy libpcap files: a 24-byte file header, then records of a 16-byte header and the bytes.
//!
//! Handles microsecond (`a1b2c3d4`) and nanosecond (`a1b23c4d`) magics in both byte orders,
//! and Alexey Kuznetzov's "modified" format (`a1b2cd34`), whose 24-byte record headers carry
//! interface index, protocol and packet type (read past, not used). The link type is the low
//! 16 bits of the header's field: the upper bits hold the FCS length, which is not a link type.
//! Used by [`super::file::FileSource`]; it refuses records longer than 256 KiB as corrupt.

use std::io::Read;

use super::file::{read_exact, read_up_to, u32_in, Endian, PacketInfo, ReadError, MAX_CAPLEN};

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

const FILE_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
const MODIFIED_RECORD_HEADER_LEN: usize = 24;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// What the magic number says about the rest of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PcapKind {
    endian: Endian,
    /// The fraction field counts nanoseconds instead of microseconds.
    nanos: bool,
    /// Kuznetzov's format: 8 more bytes in each record header.
    modified: bool,
}

/// Reader state for one pcap file.
#[derive(Debug)]
pub(super) struct PcapReader {
    kind: PcapKind,
    link_type: u32,
    /// Files before version 2.3 stored captured and original length the other way round (2.3
    /// files came both ways); as libpcap does, the pair is swapped when the captured length
    /// is the larger.
    lengths_swapped: bool,
}

impl PcapReader {
    /// Recognises the first four bytes of a pcap file.
    pub(super) fn detect(magic: [u8; 4]) -> Option<PcapKind> {
        let kind = |endian, number| match number {
            MAGIC_MICROS => Some(PcapKind {
                endian,
                nanos: false,
                modified: false,
            }),
            MAGIC_NANOS => Some(PcapKind {
                endian,
                nanos: true,
                modified: false,
            }),
            MAGIC_MODIFIED => Some(PcapKind {
                endian,
                nanos: false,
                modified: true,
            }),
            _ => None,
        };
        kind(Endian::Little, u32::from_le_bytes(magic))
            .or_else(|| kind(Endian::Big, u32::from_be_bytes(magic)))
    }

    /// Reads the rest of the file header (the magic was already consumed).
    pub(super) fn open(kind: PcapKind, input: &mut impl Read) -> Result<Self, ReadError> {
        let mut header = [0u8; FILE_HEADER_LEN - 4];
        read_exact(input, &mut header)?;
        let field = |at| kind.endian.u32(&header, at).ok_or(ReadError::Truncated);
        let version_major = kind.endian.u16(&header, 0).ok_or(ReadError::Truncated)?;
        let version_minor = kind.endian.u16(&header, 2).ok_or(ReadError::Truncated)?;
        // Offsets after the magic: thiszone 4, sigfigs 8, snaplen 12, link type 16.
        let link_type = field(16)? & 0xffff;
        Ok(PcapReader {
            kind,
            link_type,
            lengths_swapped: version_major == 2 && version_minor <= 3,
        })
    }

    /// Bytes of each record header: 16, or 24 in Kuznetzov's format.
    pub(super) fn header_len(&self) -> usize {
        if self.kind.modified {
            MODIFIED_RECORD_HEADER_LEN
        } else {
            RECORD_HEADER_LEN
        }
    }

    /// Reads one record header (`header_len()` bytes): the packet it announces, whose bytes
    /// follow it. A captured length over 256 KiB is corrupt.
    pub(super) fn record(&self, header: &[u8]) -> Result<PacketInfo, ReadError> {
        match self.kind.endian {
            Endian::Little => self.record_in::<false>(header),
            Endian::Big => self.record_in::<true>(header),
        }
    }

    /// Whether the file is big-endian (`record_in`'s `BIG`).
    pub(super) fn big_endian(&self) -> bool {
        self.kind.endian == Endian::Big
    }

    /// `record` in one byte order (`BIG`: big-endian), for loops that choose it once.
    #[inline(always)]
    pub(super) fn record_in<const BIG: bool>(
        &self,
        header: &[u8],
    ) -> Result<PacketInfo, ReadError> {
        let field = |at| u32_in::<BIG>(header, at).ok_or(ReadError::Truncated);
        let (seconds, fraction) = (field(0)?, field(4)?);
        let (mut caplen, mut orig_len) = (field(8)?, field(12)?);
        if self.lengths_swapped && caplen > orig_len {
            std::mem::swap(&mut caplen, &mut orig_len);
        }
        let caplen = usize::try_from(caplen).unwrap_or(usize::MAX);
        if caplen > MAX_CAPLEN {
            return Err(ReadError::Corrupt(format!(
                "record claims {caplen} captured bytes, more than the {MAX_CAPLEN}-byte limit"
            )));
        }
        let fraction_nanos = if self.kind.nanos {
            u64::from(fraction)
        } else {
            u64::from(fraction).saturating_mul(1_000)
        };
        Ok(PacketInfo {
            ts_nanos: u64::from(seconds)
                .saturating_mul(NANOS_PER_SEC)
                .saturating_add(fraction_nanos),
            link_type: self.link_type,
            orig_len,
            caplen,
        })
    }

    /// Reads the next record into `packet`; `Ok(None)` when the file ends between records.
    pub(super) fn next(
        &mut self,
        input: &mut impl Read,
        packet: &mut [u8],
    ) -> Result<Option<PacketInfo>, ReadError> {
        let mut header = [0u8; MODIFIED_RECORD_HEADER_LEN];
        let header_len = self.header_len();
        let header = header.get_mut(..header_len).unwrap_or_default();
        match read_up_to(input, header)? {
            0 => return Ok(None),
            n if n < header_len => return Err(ReadError::Truncated),
            _ => {}
        }
        let info = self.record(header)?;
        let data = packet.get_mut(..info.caplen).ok_or(ReadError::Truncated)?;
        read_exact(input, data)?;
        Ok(Some(info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file::CaptureError;
    use crate::capture::test_fixtures::{
        check_every_prefix, pcap, read_all, read_bytes, sample_pcap, source, FRAME_A, FRAME_B,
    };

    #[test]
    fn pcap_every_magic_and_byte_order() {
        for big in [false, true] {
            for (magic, frac_nanos) in
                [(0xa1b2_c3d4, 1_000), (0xa1b2_3c4d, 1), (0xa1b2_cd34, 1_000)]
            {
                // FCS bits in the upper half of the link-type field must not leak.
                let bytes = pcap(
                    big,
                    magic,
                    0x1000_0071,
                    &[(10, 20, 99, FRAME_A), (11, 0, 7, FRAME_B)],
                );
                let mut source = source(&bytes).expect("pcap");
                assert_eq!(source.format(), "pcap");
                let (packets, err) = read_all(&mut source);
                assert!(err.is_none(), "{err:?}");
                assert_eq!(packets.len(), 2);
                assert_eq!(packets[0].ts_nanos, 10_000_000_000 + 20 * frac_nanos);
                assert_eq!(packets[0].link_type, 113);
                assert_eq!(
                    (packets[0].orig_len, packets[0].data.as_slice()),
                    (99, FRAME_A)
                );
                assert_eq!(packets[1].data, FRAME_B);
                assert_eq!(source.packets_read(), 2);
            }
        }
    }

    #[test]
    fn oversized_pcap_record_is_corrupt_at_its_number() {
        let mut bytes = sample_pcap();
        let big = vec![0u8; MAX_CAPLEN + 1];
        bytes.extend(
            pcap(false, 0xa1b2_c3d4, 1, &[(5, 0, 1, &big)])
                .get(24..)
                .expect("record"),
        );
        let (packets, err) = read_bytes(&bytes).expect("pcap");
        assert_eq!(packets.len(), 3);
        let err = err.expect("corrupt");
        assert!(
            matches!(err, CaptureError::Corrupt { packet: 4, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("test.bin: corrupt at packet 4: "),
            "{err}"
        );
    }

    #[test]
    fn every_prefix_of_a_pcap() {
        let bytes = sample_pcap();
        let ends = [
            24 + 16 + FRAME_A.len(),
            24 + 32 + FRAME_A.len() + FRAME_B.len(),
            bytes.len(),
        ];
        check_every_prefix(&bytes, 24, &ends, &ends, &ends);
    }

    #[test]
    fn detects_every_magic_in_both_orders() {
        let cases = [
            ([0xd4, 0xc3, 0xb2, 0xa1], Endian::Little, false, false),
            ([0xa1, 0xb2, 0xc3, 0xd4], Endian::Big, false, false),
            ([0x4d, 0x3c, 0xb2, 0xa1], Endian::Little, true, false),
            ([0xa1, 0xb2, 0x3c, 0x4d], Endian::Big, true, false),
            ([0x34, 0xcd, 0xb2, 0xa1], Endian::Little, false, true),
            ([0xa1, 0xb2, 0xcd, 0x34], Endian::Big, false, true),
        ];
        for (magic, endian, nanos, modified) in cases {
            assert_eq!(
                PcapReader::detect(magic),
                Some(PcapKind {
                    endian,
                    nanos,
                    modified
                }),
                "{magic:02x?}"
            );
        }
        assert_eq!(PcapReader::detect([0x0a, 0x0d, 0x0d, 0x0a]), None);
        assert_eq!(PcapReader::detect(*b"<htm"), None);
    }

    /// Header of zeek/get.pcap after its magic (version 2.4, snaplen 65535, Ethernet), with
    /// FCS bits (0x1000_0000: "4 bytes of FCS") set in the link type field.
    #[test]
    fn link_type_ignores_fcs_bits() {
        let mut header = vec![0x02, 0x00, 0x04, 0x00];
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&[0xff, 0xff, 0x00, 0x00]);
        header.extend_from_slice(&[0x01, 0x00, 0x00, 0x10]);
        let kind = PcapReader::detect([0xd4, 0xc3, 0xb2, 0xa1]).expect("pcap magic");
        let reader = PcapReader::open(kind, &mut header.as_slice()).expect("header");
        assert_eq!(reader.link_type, 1);
        assert!(!reader.lengths_swapped);
    }

    #[test]
    fn pre_2_3_files_have_lengths_swapped() {
        let kind = PcapReader::detect([0xa1, 0xb2, 0xc3, 0xd4]).expect("pcap magic");
        let mut file = vec![0x00, 0x02, 0x00, 0x02];
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&[0, 0, 0xff, 0xff, 0, 0, 0, 1]);
        let mut reader = PcapReader::open(kind, &mut file.as_slice()).expect("header");
        assert!(reader.lengths_swapped);
        // Record: ts 1 s + 2 µs, "caplen" field 60 (the wire length), "len" field 4.
        let record = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 60, 0, 0, 0, 4, 9, 9, 9, 9];
        let mut packet = vec![0; MAX_CAPLEN];
        let info = reader
            .next(&mut record.as_slice(), &mut packet)
            .expect("record")
            .expect("a packet");
        assert_eq!((info.caplen, info.orig_len), (4, 60));
        assert_eq!(info.ts_nanos, 1_000_002_000);
    }

    #[test]
    fn refuses_records_over_256_kib() {
        let kind = PcapReader::detect([0xd4, 0xc3, 0xb2, 0xa1]).expect("pcap magic");
        let mut reader = PcapReader {
            kind,
            link_type: 1,
            lengths_swapped: false,
        };
        let mut record = vec![0u8; 8];
        record.extend_from_slice(&(MAX_CAPLEN as u32 + 1).to_le_bytes());
        record.extend_from_slice(&(MAX_CAPLEN as u32 + 1).to_le_bytes());
        let mut packet = vec![0; MAX_CAPLEN];
        let err = reader.next(&mut record.as_slice(), &mut packet);
        assert!(
            matches!(err, Err(ReadError::Corrupt(ref r)) if r.contains("262145")),
            "{err:?}"
        );
    }
}
