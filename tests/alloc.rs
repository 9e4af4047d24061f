//! No allocation per packet on the hot path (the performance issue's design): reading,
//! decoding, finding a packet's flow and counting its bytes allocate nothing once the run's
//! buffers and tables exist. Two captures of the same LAN differ only in how many packets its
//! flows carry (a TLS connection's exchanges, a QUIC connection's datagrams, an HTTP
//! response's segments): the same flows, the same names, thousands more packets.
//!
//! Packet by packet (as `scan` and `inspect` read), the longer capture makes exactly as many
//! allocations as the shorter. Batch by batch (as `audit` reads a file; on one thread, since
//! the counter sees the calling thread only), a few more per batch of about 1 MiB (the stages
//! lock and list the shards once per batch), never one per packet.
//!
//! (A new flow may allocate: its table grows, and a flow folded into the findings adds to
//! them. That is per flow, and the flow cap bounds it.)
//!
//! The counter (`allocation-counter`) is this test binary's global allocator; the pipeline
//! and its tables are made before counting, the report after.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};

use shadowai::capture::file::FileSource;
use shadowai::classify::policy::Policy;
use shadowai::classify::rules::Catalogue;
use shadowai::pipeline::{NoSignals, Options, Pipeline};
use shadowai::synth::scenario::{Device, HttpVisit, Lan, Router, TlsVisit};

const MS: u64 = 1_000_000;

/// The LAN with `rounds` of traffic per flow: a device joins, looks chatgpt.com up, talks to
/// it over TLS in `rounds` exchanges and over QUIC in `rounds` of datagrams, and fetches a
/// page of `rounds` × 4 KB over HTTP. The capture and its frame count.
fn capture(rounds: usize) -> (Vec<u8>, usize) {
    let mut lan = Lan::new(Router {
        mac: [0x02, 0, 0, 0, 0, 1],
        ip: Ipv4Addr::new(192, 168, 1, 1),
        ip6: None,
    });
    let mut laptop = Device::new(
        "laptop",
        [0x3c, 0x22, 0xfb, 1, 2, 3],
        Ipv4Addr::new(192, 168, 1, 20),
    )
    .hostname("finance-laptop");
    let openai = IpAddr::V4(Ipv4Addr::new(104, 18, 32, 47));
    let mut at = lan.join(&laptop, 1_000 * MS).unwrap();
    at = lan
        .lookup(&mut laptop, at + MS, "chatgpt.com", 1, &[], &[openai])
        .unwrap();
    let exchanges: Vec<(u64, usize, usize)> = (0..rounds).map(|_| (5, 1_800, 9_000)).collect();
    let visit = TlsVisit::chrome("chatgpt.com", openai).exchanges(&exchanges);
    at = lan.tls(&mut laptop, at + MS, &visit).unwrap();
    at = lan.quic(&mut laptop, at + MS, &visit).unwrap();
    let page = HttpVisit::get(
        IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14)),
        "example.com",
        "/",
    )
    .body_len(rounds * 4_000);
    lan.http(&mut laptop, at + MS, &page).unwrap();
    let sample = lan.finish().unwrap();
    (sample.pcapng, sample.frames)
}

/// Allocations made while `pipeline` reads `bytes` whole, batch by batch or packet by packet.
fn allocations(bytes: &[u8], by_packet: bool) -> u64 {
    let catalogue = Catalogue::embedded().unwrap();
    let policy = Policy::default();
    let options = Options {
        threads: 1,
        ..Options::default()
    };
    let mut pipeline = Pipeline::with_policy(&catalogue, &policy, options, NoSignals);
    let mut source =
        FileSource::from_reader("lan.pcapng".into(), Box::new(Cursor::new(bytes.to_vec())))
            .unwrap();
    let mut packets = Vec::new();
    if by_packet {
        while let Some(packet) = source.next_packet().unwrap() {
            packets.push((
                packet.ts_nanos,
                packet.link_type,
                packet.orig_len,
                packet.data.to_vec(),
            ));
        }
    }
    let info = allocation_counter::measure(|| {
        if by_packet {
            for (frame, (ts_nanos, link_type, orig_len, data)) in packets.iter().enumerate() {
                let packet = shadowai::capture::RawPacket {
                    ts_nanos: *ts_nanos,
                    link_type: *link_type,
                    orig_len: *orig_len,
                    data,
                };
                pipeline.process(frame as u64 + 1, &packet);
            }
        } else {
            pipeline.run_file(&mut source).unwrap();
        }
    });
    // The run found what it should: the TLS and QUIC connections to ChatGPT.
    let (outcome, _) = pipeline.finish();
    assert!(!outcome.aggregates.findings.is_empty());
    info.count_total
}

#[test]
fn more_packets_make_no_more_allocations() {
    let (short, short_frames) = capture(4);
    let (long, long_frames) = capture(400);
    assert!(
        long_frames > short_frames + 10_000,
        "{short_frames} against {long_frames} frames"
    );
    let by_packet = (allocations(&short, true), allocations(&long, true));
    assert_eq!(
        by_packet.0, by_packet.1,
        "packet by packet: {short_frames} frames, then {long_frames}"
    );
    let by_batch = (allocations(&short, false), allocations(&long, false));
    let batches = long.len().div_ceil(1 << 20) as u64;
    assert!(
        by_batch.1 <= by_batch.0 + 4 * batches,
        "batch by batch: {} allocations for {short_frames} frames, {} for {long_frames} \
         ({batches} batches)",
        by_batch.0,
        by_batch.1
    );
}
