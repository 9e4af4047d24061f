//! Test fixtures shared by the capture tests: hand-built pcap and pcapng files (every block
//! kind, both byte orders, several sections and link types) and helpers that read a whole
//! source into owned packets. Test-only; nothing here ships.

use std::io::{self, Write};

use super::file::{CaptureError, FileSource};

/// Packets as owned values, so a whole file can be compared at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owned {
    pub(crate) ts_nanos: u64,
    pub(crate) link_type: u32,
    pub(crate) orig_len: u32,
    pub(crate) data: Vec<u8>,
}

pub(crate) fn source(bytes: &[u8]) -> Result<FileSource, CaptureError> {
    FileSource::from_reader(
        "test.bin".to_string(),
        Box::new(io::Cursor::new(bytes.to_vec())),
    )
}

/// Every packet up to the end or the first error.
pub(crate) fn read_all(source: &mut FileSource) -> (Vec<Owned>, Option<CaptureError>) {
    let mut packets = Vec::new();
    loop {
        match source.next_packet() {
            Ok(Some(p)) => packets.push(Owned {
                ts_nanos: p.ts_nanos,
                link_type: p.link_type,
                orig_len: p.orig_len,
                data: p.data.to_vec(),
            }),
            Ok(None) => return (packets, None),
            Err(err) => return (packets, Some(err)),
        }
    }
}

pub(crate) fn read_bytes(bytes: &[u8]) -> Result<(Vec<Owned>, Option<CaptureError>), CaptureError> {
    let mut source = source(bytes)?;
    Ok(read_all(&mut source))
}

pub(crate) const FRAME_A: &[u8] = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00hello";
pub(crate) const FRAME_B: &[u8] = b"\x45\x00\x00\x14abc";

/// Cuts `bytes` at every length and checks what comes back: whole packets before the
/// cut, then `Ok(None)` on a block boundary or `Truncated` naming the next frame number.
pub(crate) fn check_every_prefix(
    bytes: &[u8],
    header_end: usize,
    block_ends: &[usize],
    packet_ends: &[usize],
    frame_ends: &[usize],
) {
    for len in 0..=bytes.len() {
        let prefix = &bytes[..len];
        let whole_packets = packet_ends.iter().filter(|&&end| end <= len).count();
        let whole_frames = frame_ends.iter().filter(|&&end| end <= len).count() as u64;
        match source(prefix) {
            Ok(mut source) => {
                let (packets, err) = read_all(&mut source);
                assert_eq!(packets.len(), whole_packets, "prefix {len}");
                assert_eq!(source.packets_read(), whole_frames, "prefix {len}");
                if len == header_end || block_ends.contains(&len) {
                    assert!(err.is_none(), "prefix {len}: {err:?}");
                } else {
                    assert!(
                        matches!(err, Some(CaptureError::Truncated { packet, .. }) if packet == whole_frames + 1),
                        "prefix {len}: {err:?}"
                    );
                }
            }
            Err(CaptureError::Empty { .. }) => assert_eq!(len, 0),
            Err(CaptureError::NotACapture { .. }) => assert!(len < 4, "prefix {len}"),
            Err(CaptureError::Truncated { packet: 1, .. }) => assert!(len < header_end),
            Err(other) => panic!("prefix {len}: {other}"),
        }
    }
}

/// Deterministic xorshift; no dependency needed for a fuzz smoke test.
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// `sample` with one to four bytes changed (to 0, to 0xff or at random) and, one time in
/// eight, cut short at random: the damage the mutation tests read.
pub(crate) fn damaged(sample: &[u8], state: &mut u64) -> Vec<u8> {
    let mut bytes = sample.to_vec();
    for _ in 0..1 + xorshift(state) % 4 {
        let at = (xorshift(state) % bytes.len() as u64) as usize;
        bytes[at] = match xorshift(state) % 4 {
            0 => 0,
            1 => 0xff,
            _ => xorshift(state) as u8,
        };
    }
    if xorshift(state).is_multiple_of(8) {
        bytes.truncate((xorshift(state) % bytes.len() as u64) as usize);
    }
    bytes
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A pcap file; `magic` as a number, written in the given byte order.
pub(crate) fn pcap(
    big: bool,
    magic: u32,
    network: u32,
    records: &[(u32, u32, u32, &[u8])],
) -> Vec<u8> {
    let w32 = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    out.extend(w32(magic));
    out.extend(w16(2));
    out.extend(w16(4));
    out.extend([0; 8]);
    out.extend(w32(65_535));
    out.extend(w32(network));
    for &(secs, frac, orig, data) in records {
        out.extend(w32(secs));
        out.extend(w32(frac));
        out.extend(w32(data.len() as u32));
        out.extend(w32(orig));
        if magic == 0xa1b2_cd34 {
            out.extend([0, 0, 0, 3, 0, 8, 4, 0]); // ifindex 3, protocol 8, type 4, pad
        }
        out.extend(data);
    }
    out
}

pub(crate) fn sample_pcap() -> Vec<u8> {
    pcap(
        false,
        0xa1b2_c3d4,
        1,
        &[
            (1, 2, 60, FRAME_A),
            (3, 999_999, 7, FRAME_B),
            (4, 0, 0, b""),
        ],
    )
}

/// A pcapng file built block by block, recording where each block, each packet block and
/// each block that tshark numbers as a frame ends, for the truncation tests.
pub(crate) struct Ng {
    pub(crate) bytes: Vec<u8>,
    pub(crate) big: bool,
    pub(crate) block_ends: Vec<usize>,
    pub(crate) packet_ends: Vec<usize>,
    pub(crate) frame_ends: Vec<usize>,
}

impl Ng {
    pub(crate) fn new(big: bool) -> Ng {
        let mut ng = Ng {
            bytes: Vec::new(),
            big,
            block_ends: Vec::new(),
            packet_ends: Vec::new(),
            frame_ends: Vec::new(),
        };
        ng.section(big);
        ng
    }

    pub(crate) fn w32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    pub(crate) fn w16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    pub(crate) fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Ng {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = body.len() as u32 + 12;
        let (t, l) = (self.w32(block_type), self.w32(len));
        self.bytes.extend(t);
        self.bytes.extend(l);
        self.bytes.extend(body);
        self.bytes.extend(l);
        self.block_ends.push(self.bytes.len());
        if matches!(block_type, 2 | 3 | 6) {
            self.packet_ends.push(self.bytes.len());
        }
        // tshark 4.0 also numbers journal, Sysdig and custom blocks as frames.
        if matches!(
            block_type,
            2 | 3 | 6 | 9 | 0x204 | 0x208 | 0xbad | 0x4000_0bad
        ) {
            self.frame_ends.push(self.bytes.len());
        }
        self
    }

    /// A new section in the given byte order, with a comment option.
    pub(crate) fn section(&mut self, big: bool) -> &mut Ng {
        self.big = big;
        let mut body = self.w32(0x1a2b_3c4d).to_vec();
        body.extend(self.w16(1));
        body.extend(self.w16(0));
        body.extend([0xff; 8]);
        body.extend(self.w16(1));
        body.extend(self.w16(5));
        body.extend(b"hello\0\0\0");
        body.extend([0; 4]);
        self.block(0x0a0d_0d0a, &body)
    }

    pub(crate) fn idb(
        &mut self,
        link_type: u16,
        snaplen: u32,
        options: &[(u16, &[u8])],
    ) -> &mut Ng {
        let mut body = self.w16(link_type).to_vec();
        body.extend([0, 0]);
        body.extend(self.w32(snaplen));
        for (code, value) in options {
            body.extend(self.w16(*code));
            body.extend(self.w16(value.len() as u16));
            body.extend(*value);
            while !body.len().is_multiple_of(4) {
                body.push(0);
            }
        }
        if !options.is_empty() {
            body.extend([0; 4]);
        }
        self.block(1, &body)
    }

    pub(crate) fn epb(&mut self, interface: u32, units: u64, orig: u32, data: &[u8]) -> &mut Ng {
        let mut body = self.w32(interface).to_vec();
        body.extend(self.w32((units >> 32) as u32));
        body.extend(self.w32(units as u32));
        body.extend(self.w32(data.len() as u32));
        body.extend(self.w32(orig));
        body.extend(data);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        // An epb_flags option, to be skipped.
        body.extend(self.w16(2));
        body.extend(self.w16(4));
        body.extend(self.w32(1));
        body.extend([0; 4]);
        self.block(6, &body)
    }

    pub(crate) fn old_packet(
        &mut self,
        interface: u16,
        units: u64,
        orig: u32,
        data: &[u8],
    ) -> &mut Ng {
        let mut body = self.w16(interface).to_vec();
        body.extend(self.w16(7)); // drops count
        body.extend(self.w32((units >> 32) as u32));
        body.extend(self.w32(units as u32));
        body.extend(self.w32(data.len() as u32));
        body.extend(self.w32(orig));
        body.extend(data);
        self.block(2, &body)
    }

    pub(crate) fn spb(&mut self, orig: u32, data: &[u8]) -> &mut Ng {
        let mut body = self.w32(orig).to_vec();
        body.extend(data);
        self.block(3, &body)
    }
}

/// Two sections (little then big endian), interfaces with different link types and
/// clocks, every packet block kind, and blocks that must be skipped.
pub(crate) fn sample_pcapng() -> Ng {
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[(9, &[9])]) // Ethernet, ns
        .idb(113, 16, &[(14, &100i64.to_le_bytes())]) // SLL, µs, +100 s, snaplen 16
        .epb(0, 1_700_000_000_123_456_789, 60, FRAME_A)
        .block(4, &[0, 0, 0, 0]) // name resolution block, empty
        .epb(1, 5_000_001, 200, FRAME_B)
        .block(0x0000_0bad, b"custom data")
        .spb(19, FRAME_A)
        .old_packet(1, 7, 7, FRAME_B)
        .block(5, &[0; 16]) // interface statistics
        .section(true)
        .idb(101, 0, &[(9, &[0x80 | 10])]) // raw IP, 2^-10 s
        .epb(0, 3 * 1024 + 512, 7, FRAME_B);
    ng
}

pub(crate) fn expected_sample_pcapng() -> Vec<Owned> {
    let owned = |ts_nanos, link_type, orig_len, data: &[u8]| Owned {
        ts_nanos,
        link_type,
        orig_len,
        data: data.to_vec(),
    };
    vec![
        owned(1_700_000_000_123_456_789, 1, 60, FRAME_A),
        owned(105_000_001_000, 113, 200, FRAME_B),
        owned(0, 1, 19, FRAME_A),
        owned(100_000_007_000, 113, 7, FRAME_B),
        owned(3_500_000_000, 101, 7, FRAME_B),
    ]
}
