//! The report does not depend on how a capture is read: packet by packet (as live capture and
//! `inspect` do) or in batches over 1, 2, 3 or 4 threads, the JSON report is the same byte for
//! byte. Checked on the bundled sample (pcapng), on the sample as a pcap file appended to
//! itself four times (capture time jumps back at each copy, so flows go idle, are swept and
//! start again), with a flow cap small enough that flows are folded early, and on every capture
//! of `../shared/corpus` when it is there (it is in CI).

mod common;

use std::io::Cursor;

use common::{captures, corpus_dir};

use shadowai::capture::file::FileSource;
use shadowai::capture::RawPacket;
use shadowai::classify::policy::Policy;
use shadowai::classify::rules::Catalogue;
use shadowai::pipeline::{NoSignals, Options, Pipeline};
use shadowai::report::{Input, Report};
use shadowai::synth::pcap::{pcap_bytes, PcapFormat};

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `Pipeline::process`, one packet at a time.
    PacketByPacket,
    /// `Pipeline::run_file` with this many threads, sharing out groups of shards as the run
    /// judges best (`None`), always or never.
    Batches(usize, Option<bool>),
    /// The same, from a file on disk: it is then read at chunk offsets
    /// (`FileSource::positional`), by several threads at once when there is more than one.
    FileBatches(usize, Option<bool>),
}

const MODES: [Mode; 9] = [
    Mode::PacketByPacket,
    Mode::Batches(1, None),
    Mode::Batches(2, None),
    Mode::Batches(2, Some(true)),
    Mode::Batches(3, Some(true)),
    Mode::Batches(4, Some(false)),
    Mode::FileBatches(1, None),
    Mode::FileBatches(2, None),
    Mode::FileBatches(3, Some(false)),
];

/// The JSON report of one capture read in `mode`.
fn report(catalogue: &Catalogue, name: &str, bytes: &[u8], mode: Mode, max_flows: usize) -> String {
    report_of_files(catalogue, &[(name, bytes)], mode, max_flows)
}

/// The JSON report of captures read one after the other through one pipeline in `mode`.
fn report_of_files(
    catalogue: &Catalogue,
    files: &[(&str, &[u8])],
    mode: Mode,
    max_flows: usize,
) -> String {
    let policy = Policy::default();
    let (threads, share_shards) = match mode {
        Mode::PacketByPacket => (1, None),
        Mode::Batches(threads, share) | Mode::FileBatches(threads, share) => (threads, share),
    };
    let options = Options {
        max_flows,
        threads,
        share_shards,
    };
    let mut pipeline = Pipeline::with_policy(catalogue, &policy, options, NoSignals);
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    for &(name, bytes) in files {
        let file = tempfile::NamedTempFile::new().expect("temporary file");
        let opened = if let Mode::FileBatches(..) = mode {
            std::fs::write(file.path(), bytes).expect("temporary file written");
            FileSource::open(file.path())
        } else {
            FileSource::from_reader(name.to_string(), Box::new(Cursor::new(bytes.to_vec())))
        };
        let Ok(mut source) = opened else {
            warnings.push(format!("{name}: not a capture"));
            continue;
        };
        let result = match mode {
            Mode::PacketByPacket => loop {
                match source.next_packet() {
                    Ok(Some(packet)) => {
                        // Owned, so the frame number (which counts pcapng blocks tshark
                        // numbers too) can be read after it.
                        let (ts_nanos, link_type, orig_len, data) = (
                            packet.ts_nanos,
                            packet.link_type,
                            packet.orig_len,
                            packet.data.to_vec(),
                        );
                        let packet = RawPacket {
                            ts_nanos,
                            link_type,
                            orig_len,
                            data: &data,
                        };
                        pipeline.process(source.packets_read(), &packet);
                    }
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            },
            Mode::Batches(..) | Mode::FileBatches(..) => pipeline.run_file(&mut source),
        };
        // Errors name the file as given: the temporary file's path is not part of the check.
        let error = result.err().map(|e| {
            e.to_string()
                .replace(&file.path().display().to_string(), name)
        });
        inputs.push(Input {
            path: name.to_string(),
            format: Some(source.format().to_string()),
            packets: source.packets_read(),
            complete: error.is_none(),
            error: error.clone(),
        });
        warnings.extend(error);
    }
    let (mut outcome, _) = pipeline.finish();
    // `run_file` counts the files; feeding packets one by one does not.
    outcome.stats.files_read = inputs.len() as u64;
    let report = Report::build(&outcome, catalogue, &policy, inputs, warnings);
    serde_json::to_string_pretty(&report).expect("report serialises")
}

/// Every mode gives the report of the first; returns that report.
fn same_in_every_mode(catalogue: &Catalogue, name: &str, bytes: &[u8], max_flows: usize) -> String {
    let want = report(catalogue, name, bytes, MODES[0], max_flows);
    for mode in &MODES[1..] {
        let got = report(catalogue, name, bytes, *mode, max_flows);
        if got != want {
            let line = want
                .lines()
                .zip(got.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let around = |text: &str| {
                text.lines()
                    .skip(line.saturating_sub(3))
                    .take(7)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            panic!(
                "{name} (max flows {max_flows}): {mode:?} differs from {:?} at line {}:\n--- {:?}\n{}\n--- {mode:?}\n{}",
                MODES[0],
                line + 1,
                MODES[0],
                around(&want),
                around(&got)
            );
        }
    }
    want
}

/// The bundled sample's frames, as (time, bytes).
fn sample_frames() -> Vec<(u64, Vec<u8>)> {
    let bytes = shadowai::synth::sample::office_lan_sample();
    let mut source =
        FileSource::from_reader("sample".into(), Box::new(Cursor::new(bytes))).expect("sample");
    let mut frames = Vec::new();
    while let Some(packet) = source.next_packet().expect("sample is whole") {
        frames.push((packet.ts_nanos, packet.data.to_vec()));
    }
    frames
}

/// The sample's frames `copies` times over, as one pcap file (capture time jumps back at
/// each copy).
fn sample_copies(copies: usize) -> Vec<u8> {
    let frames = sample_frames();
    let frames = frames.iter().cycle().take(frames.len() * copies);
    pcap_bytes(
        PcapFormat::default(),
        frames.map(|(ts, data)| (*ts, data.as_slice())),
    )
    .expect("pcap")
}

#[test]
fn the_sample_reports_the_same_in_every_mode() {
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let sample = shadowai::synth::sample::office_lan_sample();
    let json = same_in_every_mode(&catalogue, "office-lan.pcapng", &sample, 0);
    // Not an empty report that would be equal anyway.
    assert!(json.contains("\"service\""), "{json}");
}

#[test]
fn a_capture_that_goes_back_in_time_reports_the_same_in_every_mode() {
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let bytes = sample_copies(4);
    let whole = same_in_every_mode(&catalogue, "sample-x4.pcap", &bytes, 0);
    // A cap of 24 flows (2 per shard) folds flows early all the time.
    let capped = same_in_every_mode(&catalogue, "sample-x4.pcap", &bytes, 24);
    assert_ne!(whole, capped, "the cap was never reached");
    assert!(
        capped.contains("\"flows_evicted_by_cap\": ")
            && !capped.contains("\"flows_evicted_by_cap\": 0")
    );
    // Cut short in the last packet: the same report, with the same warning, every way.
    let cut = &bytes[..bytes.len() - 7];
    let report = same_in_every_mode(&catalogue, "sample-x4-cut.pcap", cut, 0);
    assert!(report.contains("truncated"), "{report}");
}

/// The sample's frames `copies` times over, as one big-endian pcapng file with a nanosecond
/// clock.
fn sample_copies_pcapng(copies: usize) -> Vec<u8> {
    use shadowai::synth::pcapng::{InterfaceDesc, PcapngWriter};
    let frames = sample_frames();
    let mut out = Vec::new();
    let mut writer = PcapngWriter::new(&mut out, shadowai::synth::Endian::Big).expect("pcapng");
    let interface = writer
        .add_interface(&InterfaceDesc::new(1).nanos())
        .expect("interface");
    for (ts, data) in frames.iter().cycle().take(frames.len() * copies) {
        writer.write_packet(interface, *ts, data).expect("packet");
    }
    drop(writer);
    out
}

/// One pipeline reads several files in a row, keeping its batches from one file to the next
/// (`Pipeline::spare`): pcap and pcapng (read at chunk offsets from a file, read on from a
/// stream), a file cut short, in every mode the same report as packet by packet.
#[test]
fn files_read_in_a_row_report_the_same_in_every_mode() {
    let catalogue = Catalogue::embedded().expect("embedded rules");
    // About 10 MB: more chunks than a batch run has batches, so every batch is used again.
    let long = sample_copies(3);
    let sample = shadowai::synth::sample::office_lan_sample();
    let long_ng = sample_copies_pcapng(2);
    let cut = &long[..long.len() / 3];
    let cut_ng = &long_ng[..long_ng.len() / 2 + 5];
    let files: [(&str, &[u8]); 6] = [
        ("long.pcap", &long),
        ("cut.pcap", cut),
        ("office-lan.pcapng", &sample),
        ("long.pcapng", &long_ng),
        ("cut.pcapng", cut_ng),
        ("long-again.pcap", &long),
    ];
    let want = report_of_files(&catalogue, &files, MODES[0], 0);
    assert!(
        want.contains("\"service\"") && want.contains("truncated"),
        "{want}"
    );
    for mode in &MODES[1..] {
        let got = report_of_files(&catalogue, &files, *mode, 0);
        assert!(got == want, "{mode:?} differs from {:?}", MODES[0]);
    }
}

#[test]
fn every_corpus_capture_reports_the_same_in_every_mode() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found; the corpus check did not run");
        return;
    };
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let mut files = Vec::new();
    captures(&dir, &mut files);
    files.sort();
    assert!(files.len() > 150, "{} captures", files.len());
    for path in &files {
        let bytes = std::fs::read(path).expect("readable");
        let name = path.display().to_string();
        same_in_every_mode(&catalogue, &name, &bytes, 0);
        same_in_every_mode(&catalogue, &name, &bytes, 48);
    }
}
