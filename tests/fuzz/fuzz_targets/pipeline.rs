#![no_main]
//! The whole pipeline on fuzzed input: either the bytes as a capture file (the pcap and pcapng
//! readers), or packets of a chosen link type cut from the bytes, read packet by packet with
//! signals (inspect's path) and in batches on one and two threads (audit's), then the report in
//! every format. A panic anywhere, or two thread counts giving different reports, is a crash.
//!
//! By hand, not in CI (cargo-fuzz wants nightly flags; the stable toolchain takes them with
//! `RUSTC_BOOTSTRAP=1`), from the repository's root:
//!
//! ```sh
//! cargo install cargo-fuzz
//! RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz -O -s none pipeline -- -max_len=65536
//! ```
//!
//! Seeds: any small captures with a 0 byte in front (the file mode), e.g. `../shared/corpus`'s.
use std::io::Cursor;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shadowai::capture::file::FileSource;
use shadowai::capture::RawPacket;
use shadowai::classify::policy::Policy;
use shadowai::classify::rules::Catalogue;
use shadowai::pipeline::{NoSignals, Options, Pipeline, Signal, SignalSink};
use shadowai::report::Report;
use shadowai::synth::pcap::{pcap_bytes, PcapFormat};
use shadowai::synth::TsResolution;

const LINK_TYPES: [u32; 18] = [
    1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 9, 50, 51, 239, 105, 127, 192, 258,
];

fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| Catalogue::embedded().expect("rules"))
}

struct Count(usize);
impl SignalSink for Count {
    fn signal(&mut self, signal: &Signal<'_>) {
        self.0 += signal.value.len();
    }
}

fn batches(file: &[u8], threads: usize) -> String {
    let policy = Policy::default();
    let options = Options {
        threads,
        max_flows: 64,
        ..Options::default()
    };
    let mut pipeline = Pipeline::with_policy(catalogue(), &policy, options, NoSignals);
    if let Ok(mut source) =
        FileSource::from_reader("fuzz".into(), Box::new(Cursor::new(file.to_vec())))
    {
        let _ = pipeline.run_file(&mut source);
    }
    let (outcome, _) = pipeline.finish();
    let report = Report::build(&outcome, catalogue(), &policy, Vec::new(), Vec::new());
    let mut out = Vec::new();
    for format in [
        shadowai::report::Format::Json,
        shadowai::report::Format::Table,
        shadowai::report::Format::Csv,
        shadowai::report::Format::Html,
    ] {
        shadowai::report::render(&report, format, &mut out).expect("render");
    }
    serde_json::to_string(&report).expect("json")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let link_type = LINK_TYPES[usize::from(mode >> 1) % LINK_TYPES.len()];
        // Packets: a length byte, then that many bytes (a length of 255 takes the rest), each
        // 20 ms after the one before; the same packet twice when the length byte is odd, so
        // flows see a second packet.
        let mut packets = Vec::new();
        let mut at = 0;
        let mut ts = 1_700_000_000_000_000_000u64;
        while let Some(&len) = rest.get(at) {
            at += 1;
            let len = if len == 255 {
                rest.len()
            } else {
                usize::from(len)
            };
            let end = (at + len).min(rest.len());
            let packet = &rest[at..end];
            packets.push((ts, packet));
            if len % 2 == 1 {
                packets.push((ts + 1_000, packet));
            }
            ts += 20_000_000;
            at = end;
        }
        let format = PcapFormat {
            link_type,
            resolution: TsResolution::Nano,
            ..PcapFormat::default()
        };
        pcap_bytes(format, packets).expect("pcap in memory")
    };
    // Packet by packet with signals, as inspect reads.
    let mut pipeline = Pipeline::new(catalogue(), Options::default(), Count(0));
    if let Ok(mut source) =
        FileSource::from_reader("fuzz".into(), Box::new(Cursor::new(file.clone())))
    {
        let mut frame = 0;
        while let Ok(Some(packet)) = source.next_packet() {
            frame += 1;
            let owned = packet.data.to_vec();
            let packet = RawPacket {
                ts_nanos: packet.ts_nanos,
                link_type: packet.link_type,
                orig_len: packet.orig_len,
                data: &owned,
            };
            pipeline.process(frame, &packet);
        }
    }
    let _ = pipeline.finish();
    let one = batches(&file, 1);
    let two = batches(&file, 2);
    assert_eq!(one, two, "one and two threads differ");
});
