//! The report does not depend on how a capture is read: packet by packet (as live capture and
//! `inspect` do) or in batches over 1, 2, 3 or 4 threads, the JSON report is the same byte for
//! byte. Checked on the bundled sample (pcapng), on the sample as a pcap file appended to
//! itself four times (capture time jumps back at each copy, so flows go idle, are swept and
//! start again), with a flow cap small enough that flows are folded early, with a reassembly
//! budget small enough that flows stop waiting for split ClientHellos, and on every capture of
//! `../shared/corpus` when it is there (it is in CI), with those caps too.

mod common;

use std::io::Cursor;

use common::{corpus_dir, sorted_captures};

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

/// A run's caps: flows held at once, and each shard's reassembly budget (0: the defaults).
#[derive(Debug, Clone, Copy, Default)]
struct Limits {
    max_flows: usize,
    stream_budget: usize,
}

impl Limits {
    fn flows(max_flows: usize) -> Limits {
        Limits {
            max_flows,
            ..Limits::default()
        }
    }
}

/// The JSON report of one capture read in `mode`.
fn report(catalogue: &Catalogue, name: &str, bytes: &[u8], mode: Mode, limits: Limits) -> String {
    report_of_files(catalogue, &[(name, bytes)], mode, limits)
}

/// The JSON report of captures read one after the other through one pipeline in `mode`.
fn report_of_files(
    catalogue: &Catalogue,
    files: &[(&str, &[u8])],
    mode: Mode,
    limits: Limits,
) -> String {
    let policy = Policy::default();
    let (threads, share_shards) = match mode {
        Mode::PacketByPacket => (1, None),
        Mode::Batches(threads, share) | Mode::FileBatches(threads, share) => (threads, share),
    };
    let options = Options {
        max_flows: limits.max_flows,
        threads,
        share_shards,
        stream_budget: limits.stream_budget,
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
fn same_in_every_mode(catalogue: &Catalogue, name: &str, bytes: &[u8], limits: Limits) -> String {
    let want = report(catalogue, name, bytes, MODES[0], limits);
    for mode in &MODES[1..] {
        let got = report(catalogue, name, bytes, *mode, limits);
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
                "{name} ({limits:?}): {mode:?} differs from {:?} at line {}:\n--- {:?}\n{}\n--- {mode:?}\n{}",
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
    let json = same_in_every_mode(&catalogue, "office-lan.pcapng", &sample, Limits::default());
    // Not an empty report that would be equal anyway.
    assert!(json.contains("\"service\""), "{json}");
}

#[test]
fn a_capture_that_goes_back_in_time_reports_the_same_in_every_mode() {
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let bytes = sample_copies(4);
    let whole = same_in_every_mode(&catalogue, "sample-x4.pcap", &bytes, Limits::default());
    // A cap of 24 flows (2 per shard) folds flows early all the time.
    let capped = same_in_every_mode(&catalogue, "sample-x4.pcap", &bytes, Limits::flows(24));
    assert_ne!(whole, capped, "the cap was never reached");
    assert!(
        capped.contains("\"flows_evicted_by_cap\": ")
            && !capped.contains("\"flows_evicted_by_cap\": 0")
    );
    // Cut short in the last packet: the same report, with the same warning, every way.
    let cut = &bytes[..bytes.len() - 7];
    let report = same_in_every_mode(&catalogue, "sample-x4-cut.pcap", cut, Limits::default());
    assert!(report.contains("truncated"), "{report}");
}

/// Forty clients open TLS connections to chatgpt.com at once, and forty more QUIC ones, each
/// ClientHello (1,900 bytes) split over two TCP segments 80 ms apart or two Initials 50 ms
/// apart, so every flow waits with its first part held before any second one comes. Within
/// the default reassembly budget every flow is named by its SNI; with a budget of a few
/// waiting flows per shard (a TCP one holds its 1,000-byte segment, a QUIC one about 5 KB),
/// the flows that would pass it stop waiting and are counted, and either way every mode gives
/// the same report.
#[test]
fn flows_past_the_reassembly_budget_report_the_same_in_every_mode() {
    use shadowai::proto::quic::build::build_client_initials;
    use shadowai::proto::quic::Version;
    use shadowai::proto::tls::build::build_client_hello;
    use shadowai::synth::frame::{udp_frame, IpIdent, L2Options};
    use shadowai::synth::{Endpoint, Packet, TcpSession, Timeline};
    use std::net::{IpAddr, Ipv4Addr};
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let server = Endpoint::new(
        [0x00, 0x11, 0x32, 0, 0, 1],
        IpAddr::V4(Ipv4Addr::new(104, 18, 32, 47)),
        443,
    );
    let hello = build_client_hello(Some("chatgpt.com"), &["h2"], false, 1900);
    let mut timeline = Timeline::new();
    for i in 0..40u8 {
        let client = Endpoint::new(
            [0x02, 0, 0, 0, 0, i],
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10 + i)),
            50_000 + u16::from(i),
        );
        let session = TcpSession::new(
            client,
            server,
            1_795_510_500_000_000_000 + u64::from(i) * 1_000,
        )
        .bandwidth(100_000, 1_000_000)
        .client_segmented(hello.clone(), 1_000)
        .build()
        .expect("session");
        timeline.extend(session.packets);
        let quic_client = Endpoint::new(
            [0x02, 0, 0, 0, 1, i],
            IpAddr::V4(Ipv4Addr::new(192, 168, 2, 10 + i)),
            50_000 + u16::from(i),
        );
        let dcid = [0x5a, i, 1, 2, 3, 4, 5, 6];
        let initials = build_client_initials(Version::V1, &dcid, &[], &hello[5..], 1_200, None);
        assert_eq!(initials.len(), 2);
        for (n, datagram) in initials.iter().enumerate() {
            let data = udp_frame(
                &quic_client,
                &server,
                L2Options::default(),
                IpIdent::default(),
                datagram,
            )
            .expect("frame");
            timeline.push(Packet {
                ts_nanos: 1_795_510_500_000_500_000 + u64::from(i) * 1_000 + n as u64 * 50_000_000,
                interface: 0,
                data,
            });
        }
    }
    let bytes = timeline.to_pcap(PcapFormat::default()).expect("pcap");
    let whole = same_in_every_mode(&catalogue, "split-hellos.pcap", &bytes, Limits::default());
    assert!(!whole.contains("streams_over_budget"), "{whole}");
    assert!(whole.contains("\"ai_flows\": 80"), "{whole}");
    let tight = Limits {
        stream_budget: 6_500,
        ..Limits::default()
    };
    let budgeted = same_in_every_mode(&catalogue, "split-hellos.pcap", &bytes, tight);
    assert!(budgeted.contains("stopped waiting for the rest of a ClientHello"));
    // The flows refused are named by nothing else here (no DNS), the others by their SNI,
    // over TCP and over QUIC.
    let json: serde_json::Value = serde_json::from_str(&budgeted).expect("json");
    let stat = |key: &str| json["stats"][key].as_u64().unwrap_or(0);
    let (named, refused) = (stat("ai_flows"), stat("streams_over_budget"));
    assert_eq!(named + refused, 80, "{budgeted}");
    assert!(
        named >= 16 && refused >= 16,
        "{named} named, {refused} refused"
    );
    let evidence = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
        .collect::<Vec<_>>();
    assert!(evidence.contains(&"tls_sni".into()) && evidence.contains(&"quic_sni".into()));
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
    let want = report_of_files(&catalogue, &files, MODES[0], Limits::default());
    assert!(
        want.contains("\"service\"") && want.contains("truncated"),
        "{want}"
    );
    for mode in &MODES[1..] {
        let got = report_of_files(&catalogue, &files, *mode, Limits::default());
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
    let files = sorted_captures(&dir);
    assert!(files.len() > 150, "{} captures", files.len());
    for path in &files {
        let bytes = std::fs::read(path).expect("readable");
        let name = path.display().to_string();
        same_in_every_mode(&catalogue, &name, &bytes, Limits::default());
        same_in_every_mode(&catalogue, &name, &bytes, Limits::flows(48));
        // Reassembly buffers at their budget after a few KB: TLS, QUIC, h2c and DNS over TCP
        // give up waiting, the same way in every mode.
        let tight = Limits {
            stream_budget: 4_096,
            ..Limits::default()
        };
        same_in_every_mode(&catalogue, &name, &bytes, tight);
    }
}

/// `bytes` (a capture) with every packet followed by a damaged copy of it, as a pcapng file
/// (one interface per link type): bytes of its headers changed, bytes anywhere set to 0, 255
/// or any value, the frame cut short, or a header bit flipped and the frame perhaps cut. The
/// copy keeps the original's time and original length, so it lands inside the flow of the
/// packet it copies (sequence numbers, lengths and checksums that no longer agree). `None`
/// when `bytes` is no capture. Also returns how many copies were damaged.
fn damaged(bytes: &[u8], label: &str) -> Option<(Vec<u8>, usize)> {
    use shadowai::synth::pcapng::{InterfaceDesc, PcapngWriter};
    use shadowai::synth::XorShift64;
    let mut source =
        FileSource::from_reader(label.to_string(), Box::new(Cursor::new(bytes.to_vec()))).ok()?;
    let mut rng = XorShift64::from_label(label);
    let mut random = |below: usize| (rng.next_u64() % below.max(1) as u64) as usize;
    let mut out = Vec::new();
    let mut writer = PcapngWriter::new(&mut out, shadowai::synth::Endian::Little).ok()?;
    let mut interfaces: Vec<(u32, u32)> = Vec::new();
    let mut count = 0;
    while let Ok(Some(packet)) = source.next_packet() {
        let interface = match interfaces.iter().find(|(lt, _)| *lt == packet.link_type) {
            Some(&(_, id)) => id,
            None => {
                let link_type = u16::try_from(packet.link_type).ok()?;
                let id = writer
                    .add_interface(&InterfaceDesc::new(link_type).nanos())
                    .ok()?;
                interfaces.push((packet.link_type, id));
                id
            }
        };
        let (ts, orig_len, data) = (packet.ts_nanos, packet.orig_len, packet.data.to_vec());
        writer
            .write_packet_with_orig_len(interface, ts, orig_len, &data)
            .ok()?;
        if data.is_empty() {
            continue;
        }
        let mut copy = data.clone();
        match random(4) {
            0 => {
                let headers = copy.len().min(160);
                for _ in 0..1 + random(4) {
                    copy[random(headers)] = random(256) as u8;
                }
            }
            1 => {
                for _ in 0..1 + random(6) {
                    let at = random(copy.len());
                    copy[at] = [0, 255, random(256) as u8][random(3)];
                }
            }
            2 => copy.truncate(random(copy.len())),
            _ => {
                let at = random(copy.len().min(96));
                copy[at] ^= 1 << random(8);
                if random(2) == 0 {
                    let end = at + 1 + random(copy.len() - at);
                    copy.truncate(end);
                }
            }
        }
        let orig_len = orig_len.max(copy.len() as u32);
        writer
            .write_packet_with_orig_len(interface, ts, orig_len, &copy)
            .ok()?;
        count += 1;
    }
    drop(writer);
    Some((out, count))
}

/// Nothing that parses packets may panic, and damage must not make the report depend on the
/// thread count either: every corpus capture with a damaged copy after each packet (`damaged`)
/// is read in every mode, with the same report in each.
#[test]
fn damaged_corpus_captures_report_the_same_in_every_mode() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found; the damaged-corpus check did not run");
        return;
    };
    let catalogue = Catalogue::embedded().expect("embedded rules");
    let files = sorted_captures(&dir);
    let (mut read, mut copies) = (0, 0);
    for path in &files {
        let bytes = std::fs::read(path).expect("readable");
        let label = path.file_name().map(|n| n.to_string_lossy().to_string());
        let Some((damaged, count)) = damaged(&bytes, &label.unwrap_or_default()) else {
            continue;
        };
        let name = format!("{} (damaged)", path.display());
        same_in_every_mode(&catalogue, &name, &damaged, Limits::default());
        read += 1;
        copies += count;
    }
    eprintln!("{read} captures, {copies} damaged packets");
    // Most captures read, with tens of damaged packets each on average (hundreds in
    // ../shared/corpus, about thirty in the other suites of tests/other-suites.sh).
    assert!(
        read > 150 && copies > 10 * read,
        "{read} captures, {copies} damaged packets"
    );
}
