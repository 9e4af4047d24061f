//! Micro-benchmarks of the hot paths: the whole pipeline over the bundled sample capture (read
//! from memory), host matching against the full catalogue, and the TLS and DNS parsers.
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
    group.bench_function("audit office-lan sample", |b| {
        b.iter(|| {
            let mut source =
                FileSource::from_reader("bench".into(), Box::new(Cursor::new(bytes.clone())))
                    .expect("sample reads");
            let mut pipeline = Pipeline::new(&catalogue, Options::default(), NoSignals);
            pipeline.run_file(&mut source).expect("sample is whole");
            black_box(pipeline.finish().0.stats.packets)
        })
    });
    group.finish();
}

fn matching(c: &mut Criterion) {
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

criterion_group!(benches, pipeline, matching, parsers);
criterion_main!(benches);
