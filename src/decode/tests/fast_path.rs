//! The fast path (`fast.rs`) gives exactly what the general decoder gives, for every frame it
//! takes: every frame of the bundled sample and of the public corpus (when present), and
//! random mutations and cuts of plain frames (with and without a VLAN tag, IPv4 and IPv6, TCP
//! and UDP), which push it into every check it makes.

use super::*;
use crate::testkit::mutations;

/// Both paths on one frame; whether the fast path took it.
fn same_as_general(pkt: &RawPacket<'_>) -> bool {
    let Some(fast) = fast::plain(pkt) else {
        return false;
    };
    let mut decoder = Decoder::new();
    match decoder.decode_general(pkt) {
        Ok(Decoded::Ip(general)) => assert_eq!(fast, general, "{:02x?}", pkt.data),
        other => panic!(
            "fast path took a frame the general one reads as {other:?}: {:02x?}",
            pkt.data
        ),
    }
    true
}

/// Frames of a capture file, as (link type, orig len, bytes).
fn frames_of(bytes: Vec<u8>) -> Vec<(u32, u32, Vec<u8>)> {
    let mut frames = Vec::new();
    crate::testkit::each_packet(bytes, |p| {
        frames.push((p.link_type, p.orig_len, p.data.to_vec()))
    });
    frames
}

fn check_all(frames: &[(u32, u32, Vec<u8>)]) -> usize {
    frames
        .iter()
        .filter(|(link_type, orig_len, data)| {
            same_as_general(&RawPacket {
                ts_nanos: 7,
                link_type: *link_type,
                orig_len: *orig_len,
                data,
            })
        })
        .count()
}

#[test]
fn the_sample_is_mostly_fast_and_the_same() {
    let frames = frames_of(crate::synth::sample::office_lan_sample());
    let taken = check_all(&frames);
    assert!(taken * 10 > frames.len() * 8, "{taken} of {}", frames.len());
}

#[test]
fn every_corpus_frame_is_the_same() {
    let Some(paths) = crate::testkit::corpus_files() else {
        eprintln!("SKIPPED: no corpus beside the project");
        return;
    };
    let (mut files, mut taken) = (0, 0);
    for bytes in paths.iter().filter_map(|path| std::fs::read(path).ok()) {
        let frames = frames_of(bytes);
        files += usize::from(!frames.is_empty());
        taken += check_all(&frames);
    }
    assert!(
        files > 150 && taken > 100_000,
        "{files} files, {taken} fast frames"
    );
}

#[test]
fn mutated_plain_frames_are_the_same() {
    let frames = frames_of(crate::synth::sample::office_lan_sample());
    let mut bases: Vec<Vec<u8>> = Vec::new();
    // One of each: IPv4 TCP, IPv4 UDP, IPv6 TCP, IPv6 UDP, taken from the sample.
    for (ethertype, protocol_at, protocol) in [
        (0x0800, 23, 6),
        (0x0800, 23, 17),
        (0x86dd, 20, 6),
        (0x86dd, 20, 17),
    ] {
        let frame = frames.iter().find(|(_, _, d)| {
            d.len() > 60 && d[12..14] == u16::to_be_bytes(ethertype) && d[protocol_at] == protocol
        });
        let (_, _, frame) = frame.expect("the sample has one");
        // The same behind an 802.1Q tag.
        let mut tagged = frame[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x20, 0x2a]);
        tagged.extend_from_slice(&frame[12..]);
        bases.push(frame.clone());
        bases.push(tagged);
    }
    let mut seed = 0x0fa5_7ba7_5eed_u64;
    let (mut taken, mut refused) = (0, 0);
    for base in &bases {
        // Mutations in the headers only (the payload never changes a decode).
        let headers = &base[..base.len().min(78)];
        for changes in 1..=3 {
            mutations(headers, 4_000, changes, &mut seed, |mutated| {
                let mut frame = mutated.to_vec();
                frame.extend_from_slice(&base[headers.len()..]);
                for cut in [frame.len(), frame.len() - 3, 60, 54, 40] {
                    let data = &frame[..cut.min(frame.len())];
                    let pkt = RawPacket {
                        ts_nanos: 1,
                        link_type: 1,
                        orig_len: frame.len() as u32,
                        data,
                    };
                    if same_as_general(&pkt) {
                        taken += 1;
                    } else {
                        refused += 1;
                    }
                }
            });
        }
    }
    // Both ways are exercised: frames it takes, frames it leaves to the general decoder.
    assert!(
        taken > 10_000 && refused > 10_000,
        "{taken} taken, {refused} refused"
    );
}
