//! Conformance of [`FileSource`] with tshark 4.0.17 on the public corpus in
//! `../shared/corpus` (captures written by other projects, never by this one). Each test
//! skips, loudly, where the corpus is not checked out; CI has it.
//!
//! Expected values come from `capinfos -c` and `tshark -r F -T fields -e frame.number
//! -e frame.time_epoch -e frame.len -e frame.cap_len`; link types from the file header or IDB.

use std::path::Path;

use super::file::{CaptureError, FileSource};
use super::test_fixtures::{gzip, read_all, read_bytes};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

/// The corpus file, or `None` with a loud note where the corpus is not checked out.
fn corpus(relative: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(CORPUS).join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: corpus file {} is absent; conformance NOT checked",
            path.display()
        );
        None
    }
}

/// A capture and what tshark says about it (`capinfos -c`; `tshark -T fields -e
/// frame.number -e frame.time_epoch -e frame.len -e frame.cap_len`; link type from the
/// file header or IDB).
struct Expected {
    file: &'static str,
    format: &'static str,
    packets: usize,
    link_type: u32,
    /// (frame number, time in ns since the epoch, frame.len, frame.cap_len)
    frames: &'static [(usize, u64, u32, usize)],
}

const EXPECTED: &[Expected] = &[
    Expected {
        file: "zeek/empty.pcap",
        format: "pcap",
        packets: 0,
        link_type: 1,
        frames: &[],
    },
    Expected {
        file: "tcpdump/empty.pcapng",
        format: "pcapng",
        packets: 0,
        link_type: 1,
        frames: &[],
    },
    // Big-endian section, all timestamps zero.
    Expected {
        file: "pcap-parser/test001-be.pcapng",
        format: "pcapng",
        packets: 4,
        link_type: 1,
        frames: &[(1, 0, 314, 314), (2, 0, 342, 342), (4, 0, 342, 342)],
    },
    // Simple Packet Blocks (frames 1 and 3, no time) between EPBs, and a name resolution block.
    Expected {
        file: "pcap-parser/test016-le.pcapng",
        format: "pcapng",
        packets: 4,
        link_type: 1,
        frames: &[
            (1, 0, 314, 314),
            (2, 1_340_954_905_298_858_000, 342, 342),
            (3, 0, 314, 314),
            (4, 1_340_954_905_300_858_000, 342, 342),
        ],
    },
    Expected {
        file: "pcap-parser/err-buffertoosmall.pcapng",
        format: "pcapng",
        packets: 27,
        link_type: 1,
        frames: &[
            (1, 1_681_769_419_966_695_000, 66, 66),
            (27, 1_681_769_420_559_625_000, 54, 54),
        ],
    },
    // if_tsresol 9: nanosecond timestamps.
    Expected {
        file: "pcap-parser/wireshark_samples-test.pcapng",
        format: "pcapng",
        packets: 5898,
        link_type: 1,
        frames: &[
            (1, 1_506_883_716_995_391_962, 54, 54),
            (2, 1_506_883_717_012_076_746, 60, 60),
            (5898, 1_506_885_398_126_674_489, 60, 60),
        ],
    },
    Expected {
        file: "pcap-parser/modified-format.pcap",
        format: "pcap",
        packets: 1,
        link_type: 1,
        frames: &[(1, 1_712_763_541_734_807_000, 98, 98)],
    },
    // Interface 0 in nanoseconds, interface 1 in microseconds.
    Expected {
        file: "zeek/pcapng-multi-interface.pcapng",
        format: "pcapng",
        packets: 6,
        link_type: 1,
        frames: &[
            (1, 1_767_663_089_500_330_493, 96, 96),
            (2, 1_767_663_089_514_291_940, 214, 214),
            (3, 1_767_663_437_111_897_000, 70, 70),
            (4, 1_767_663_437_126_460_000, 166, 166),
            (5, 1_767_663_437_128_303_000, 70, 70),
            (6, 1_767_663_437_140_942_000, 182, 182),
        ],
    },
    // Three interfaces; frame 1 is on interface 2 with a zero timestamp.
    Expected {
        file: "pcapplusplus/dns_over_tcp.pcapng",
        format: "pcapng",
        packets: 4,
        link_type: 1,
        frames: &[
            (1, 0, 130, 130),
            (2, 1_608_102_334_010_346_000, 110, 110),
            (3, 1_608_102_334_010_349_000, 1201, 1201),
            (4, 1_614_156_838_745_364_000, 120, 120),
        ],
    },
    Expected {
        file: "zeek/tls-fragmented-handshake.pcap.gz",
        format: "pcap (gzip)",
        packets: 416,
        link_type: 1,
        frames: &[
            (1, 1_426_117_218_064_063_000, 78, 78),
            (2, 1_426_117_218_073_022_000, 74, 74),
            (416, 1_426_117_218_286_833_000, 66, 66),
        ],
    },
    // Names lie: a pcap called .pcapng and a pcapng called .pcap.
    Expected {
        file: "ja4/ipv6.pcapng",
        format: "pcap",
        packets: 9,
        link_type: 0,
        frames: &[
            (1, 1_593_980_608_621_087_000, 88, 88),
            (9, 1_593_980_608_696_428_000, 182, 182),
        ],
    },
    Expected {
        file: "ndpi/zoom.pcap",
        format: "pcapng",
        packets: 781,
        link_type: 1,
        frames: &[
            (1, 1_569_520_466_080_774_000, 265, 265),
            (781, 1_673_445_056_996_306_000, 167, 167),
        ],
    },
    Expected {
        file: "pcapplusplus/sll.pcap",
        format: "pcap",
        packets: 518,
        link_type: 113,
        frames: &[
            (1, 1_465_939_067_790_511_000, 108, 108),
            (518, 1_465_939_118_808_423_000, 94, 94),
        ],
    },
    Expected {
        file: "zeek/linux_dlt_sll2.pcap",
        format: "pcap",
        packets: 6,
        link_type: 276,
        frames: &[
            (1, 1_660_534_249_872_259_000, 104, 104),
            (6, 1_660_535_793_578_961_000, 48, 48),
        ],
    },
    Expected {
        file: "pcapplusplus/raw_ip.pcap",
        format: "pcap",
        packets: 100,
        link_type: 101,
        frames: &[
            (1, 1_147_551_795_526_632_000, 80, 80),
            (100, 1_488_848_077_767_141_000, 40, 40),
        ],
    },
];

#[test]
fn corpus_matches_tshark() {
    for expected in EXPECTED {
        let Some(path) = corpus(expected.file) else {
            continue;
        };
        let mut source = FileSource::open(&path).expect(expected.file);
        assert_eq!(source.format(), expected.format, "{}", expected.file);
        assert_eq!(source.name(), path.display().to_string());
        let (packets, err) = read_all(&mut source);
        assert!(err.is_none(), "{}: {err:?}", expected.file);
        assert_eq!(packets.len(), expected.packets, "{}", expected.file);
        assert_eq!(source.packets_read(), expected.packets as u64);
        for packet in &packets {
            assert_eq!(packet.link_type, expected.link_type, "{}", expected.file);
        }
        for &(frame, ts_nanos, len, caplen) in expected.frames {
            let packet = &packets[frame - 1];
            assert_eq!(
                (packet.ts_nanos, packet.orig_len, packet.data.len()),
                (ts_nanos, len, caplen),
                "{} frame {frame}",
                expected.file
            );
        }
    }
}

/// Four custom blocks and nothing else: no packet (capinfos: 0), but tshark numbers the
/// blocks as frames 1-4, so the next frame would be 5.
#[test]
fn corpus_custom_blocks_are_numbered_like_tshark() {
    let Some(path) = corpus("pcap-parser/test017-le.pcapng") else {
        return;
    };
    let mut source = FileSource::open(&path).expect("open");
    let (packets, err) = read_all(&mut source);
    assert!(packets.is_empty() && err.is_none(), "{err:?}");
    assert_eq!(source.packets_read(), 4);
}

/// zeek/get.pcap without its last 10 bytes: 13 whole packets, then packet 14 is cut.
#[test]
fn corpus_file_cut_short() {
    let Some(path) = corpus("zeek/get.pcap") else {
        return;
    };
    let bytes = std::fs::read(path).expect("get.pcap");
    let (whole, err) = read_bytes(&bytes).expect("get.pcap");
    assert!(err.is_none());
    assert_eq!(whole.len(), 14);
    let (packets, err) = read_bytes(&bytes[..bytes.len() - 10]).expect("cut get.pcap");
    assert_eq!(packets, whole[..13]);
    let err = err.expect("truncated");
    assert!(
        matches!(err, CaptureError::Truncated { packet: 14, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "test.bin: truncated: the file ends before packet 14 is complete"
    );
    // The same cut inside gzip.
    let compressed = gzip(&bytes[..bytes.len() - 10]);
    let (packets, err) = read_bytes(&compressed).expect("cut get.pcap.gz");
    assert_eq!(packets.len(), 13);
    assert!(
        matches!(err, Some(CaptureError::Truncated { packet: 14, .. })),
        "{err:?}"
    );
    // The compressed stream itself cut: some packets, then an error, never a panic.
    let compressed = gzip(&bytes);
    let (packets, err) = read_bytes(&compressed[..compressed.len() / 2]).expect("half gz");
    assert!(packets.len() < 14 && packets[..] == whole[..packets.len()]);
    assert!(
        matches!(err, Some(CaptureError::Truncated { .. })),
        "{err:?}"
    );
}

/// Damaged (record 7 claims 4 MB); tshark also stops after 6 packets.
#[test]
fn corpus_damaged_file_does_not_panic() {
    let Some(path) = corpus("suricata-verify/tls_DER-incomplete-header.pcap") else {
        return;
    };
    let mut source = FileSource::open(&path).expect("open");
    let (packets, err) = read_all(&mut source);
    assert_eq!(packets.len(), 6);
    let err = err.expect("corrupt");
    assert!(
        matches!(err, CaptureError::Corrupt { packet: 7, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("4325376"), "{err}");
}
