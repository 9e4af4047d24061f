//! Micro-benchmarks of the hot paths: the whole pipeline over the bundled sample capture (read
//! from memory), loading the built-in catalogue, host matching against it, and the TLS and DNS
//! parsers.
//! Run with `cargo bench`; figures go to BENCHMARKS.md only when measured.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shadowai::capture::file::FileSource;
use shadowai::classify::rules::Catalogue;
use shadowai::pipeline::{NoSignals, Options, Pipeline};
use shadowai::proto::{dns, tls};

fn sample() -> Vec<u8> {
    shadowai::synth::sample::office_lan_sample()
}

fn pipeline(c: &mut Criterion) {
    let bytes = sample();
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    // One thread (no pool): the cost of the stages themselves, free of thread start-up.
    group.bench_function("audit office-lan sample, 1 thread", |b| {
        b.iter(|| {
            let mut source =
                FileSource::from_reader("bench".into(), Box::new(Cursor::new(bytes.clone())))
                    .expect("sample reads");
            let options = Options {
                threads: 1,
                ..Options::default()
            };
            let mut pipeline = Pipeline::new(&catalogue, options, NoSignals);
            pipeline.run_file(&mut source).expect("sample is whole");
            black_box(pipeline.finish().0.stats.packets)
        })
    });
    group.finish();
}

fn matching(c: &mut Criterion) {
    // Every command's start: the built-in catalogue from the compiled form build.rs makes,
    // and from its YAML (what it cost before, and what `rules check` does).
    c.bench_function("load built-in catalogue (compiled form)", |b| {
        b.iter(|| black_box(Catalogue::embedded().expect("embedded rules")))
    });
    c.bench_function("load built-in catalogue (YAML)", |b| {
        b.iter(|| black_box(Catalogue::embedded_from_yaml().expect("embedded rules")))
    });
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let names = [
        "chatgpt.com",
        "api.openai.com",
        "www.google.com",
        "gemini.google.com",
        "outlook.office365.com",
        "a.very.deep.sub.domain.example.co.uk",
        "CLAUDE.AI.",
        "notopenai.com",
    ];
    c.bench_function("match_host x8", |b| {
        b.iter(|| {
            for name in names {
                black_box(catalogue.match_host(black_box(name)));
            }
        })
    });
}

fn parsers(c: &mut Criterion) {
    let hello = tls::build::build_client_hello(Some("chatgpt.com"), &["h2", "http/1.1"], true, 0);
    c.bench_function("tls client hello", |b| {
        b.iter(|| black_box(tls::parse_client_hello_records(black_box(&hello))))
    });
    let answer = shadowai::synth::dns::DnsMessage::response(7, "chatgpt.com", 1)
        .answers(shadowai::synth::dns::chain_answers(
            "chatgpt.com",
            &["chatgpt.com.cdn.cloudflare.net"],
            300,
            &["104.18.32.47".parse().expect("ip")],
        ))
        .to_bytes()
        .expect("dns bytes");
    c.bench_function("dns response walk", |b| {
        b.iter(|| {
            let message = dns::parse(black_box(&answer)).expect("dns");
            black_box(message.answers().filter(|r| r.is_ok()).count())
        })
    });
}

fn quic(c: &mut Criterion) {
    use shadowai::proto::quic::{self, build::build_client_initials, CryptoAssembler, Version};
    let handshake = tls::build::build_client_hello(Some("gemini.google.com"), &["h3"], true, 0);
    let datagrams = build_client_initials(
        Version::V1,
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &[],
        &handshake[5..],
        1250,
        None,
    );
    let mut scratch = Vec::new();
    c.bench_function("quic initials decrypt + hello (2 datagrams)", |b| {
        b.iter(|| {
            let mut assembler = CryptoAssembler::new();
            for d in &datagrams {
                let _ = quic::client_initial_crypto(d, &mut scratch, |o, data| {
                    assembler.add(o, data);
                });
            }
            black_box(quic::parse_crypto_hello(Version::V1, assembler.contiguous()).is_ok())
        })
    });
    // A flood of UDP/443 datagrams that are not Initials: the cost is one header check each.
    let junk: Vec<Vec<u8>> = (0..64u8)
        .map(|i| {
            let mut d = vec![0x40 | (i & 0x3f)];
            d.extend(std::iter::repeat_n(i, 1200));
            d
        })
        .collect();
    c.bench_function("quic peek x64 short-header datagrams", |b| {
        b.iter(|| {
            for d in &junk {
                black_box(quic::peek(black_box(d)));
            }
        })
    });
}

fn decode_and_flows(c: &mut Criterion) {
    use shadowai::capture::RawPacket;
    use shadowai::decode::{Decoded, Decoder};
    use shadowai::flow::{FlowKey, FlowTable, TCP};
    use shadowai::synth::frame::{tcp_frame, Endpoint, IpIdent, L2Options, TcpFields, TcpFlags};
    use std::net::{IpAddr, Ipv4Addr};
    let fields = TcpFields {
        seq: 1,
        ack: 1,
        flags: TcpFlags::PSH_ACK,
        window: 1_000,
        options: &[],
    };
    // 10,000 frames of 10,000 distinct flows (one 100-byte segment each), VLAN-tagged.
    let frames: Vec<Vec<u8>> = (0..10_000u32)
        .map(|i| {
            let from = Endpoint::new(
                [2, 0, 0, 0, 0, 1],
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                40_000,
            );
            let to = Endpoint::new(
                [2, 0, 0, 0, 0, 2],
                IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)),
                443,
            );
            let l2 = L2Options {
                vlan: Some(7),
                ..L2Options::default()
            };
            tcp_frame(&from, &to, l2, IpIdent::default(), &fields, &[0x17; 100]).expect("frame")
        })
        .collect();
    fn ethernet(data: &[u8]) -> RawPacket<'_> {
        RawPacket {
            ts_nanos: 1,
            link_type: 1,
            orig_len: data.len() as u32,
            data,
        }
    }
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("ethernet+vlan+ipv4+tcp x10k", |b| {
        let mut decoder = Decoder::new();
        b.iter(|| {
            let mut n = 0usize;
            for data in &frames {
                if let Ok(Decoded::Ip(meta)) = decoder.decode(&ethernet(data)) {
                    n += meta.payload.len();
                }
            }
            black_box(n)
        })
    });
    // Decode each frame and count it in `table`: the flow stage's work for one packet.
    fn track_all<'f>(
        decoder: &mut Decoder,
        table: &mut FlowTable,
        frames: impl IntoIterator<Item = &'f Vec<u8>>,
    ) {
        for data in frames {
            if let Ok(Decoded::Ip(meta)) = decoder.decode(&ethernet(data)) {
                let key = FlowKey::of(TCP, &meta);
                black_box(table.track(&key, &meta, drop).1);
            }
        }
    }
    // The common case: packets of flows the table already holds (100 flows, 100 packets each).
    let known: Vec<&Vec<u8>> = (0..10_000usize).map(|i| &frames[i % 100]).collect();
    group.bench_function(
        "flow key + flow table track x10k packets of 100 known flows",
        |b| {
            let mut decoder = Decoder::new();
            let mut table = FlowTable::new(1 << 20);
            b.iter(|| {
                track_all(&mut decoder, &mut table, known.iter().copied());
                black_box(table.len())
            })
        },
    );
    group.bench_function("decode + flow table track x10k new flows", |b| {
        let mut decoder = Decoder::new();
        b.iter(|| {
            let mut table = FlowTable::new(1 << 20);
            track_all(&mut decoder, &mut table, &frames);
            black_box(table.len())
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline, matching, parsers, quic, decode_and_flows);
criterion_main!(benches);
