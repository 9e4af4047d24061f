//! End-to-end tests of the `shadowai` binary: every test writes a capture with the project's
//! own generator (`shadowai::synth`), runs the real binary on it and checks exact values in
//! what it prints (JSON report, CSV, `inspect` JSON lines, exit code, stderr).
//!
//! No public capture is read here (the corpus has its own conformance test): the inputs are
//! the committed sample `examples/office-lan.pcapng` and flows built in the tests, so each
//! expectation follows from the scenario, not from a recording.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use shadowai::capture::file::FileSource;
use shadowai::proto::tls::build::build_client_hello;
use shadowai::synth::dns::{chain_answers, DnsMessage, TYPE_A};
use shadowai::synth::frame::{tcp_frame, IpIdent, L2Options, TcpFields, TcpFlags};
use shadowai::synth::pcap::PcapFormat;
use shadowai::synth::pcapng::InterfaceDesc;
use shadowai::synth::pktap::{pktap, Process, LINKTYPE_PKTAP};
use shadowai::synth::wifi::{ethernet_to_radiotap, LINKTYPE_IEEE802_11_RADIOTAP};
use shadowai::synth::{
    gzip, tls, Endian, Endpoint, Packet, TcpSession, Timeline, TsResolution, UdpFlow, XorShift64,
    LINKTYPE_ETHERNET, LINKTYPE_RAW,
};

// ---- fixtures ---------------------------------------------------------------------------------

/// 2026-11-24T08:55:00Z, like the sample.
const T0: u64 = 1_795_510_500_000_000_000;
const SECOND: u64 = 1_000_000_000;
const ROUTER_MAC: [u8; 6] = [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01];
const ROUTER_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
/// A server address outside every published AI range, so only names can name its flows.
const PLAIN_SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/office-lan.pcapng")
}

/// LAN host `192.168.1.<host>` with MAC `02:00:00:00:00:<host>`.
fn lan_mac(host: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, host]
}

fn mac_text(host: u8) -> String {
    format!("02:00:00:00:00:{host:02x}")
}

fn client(host: u8, port: u16) -> Endpoint {
    Endpoint::new(lan_mac(host), Ipv4Addr::new(192, 168, 1, host), port)
}

/// A server beyond the router: its frames carry the router's MAC.
fn server(ip: Ipv4Addr, port: u16) -> Endpoint {
    Endpoint::new(ROUTER_MAC, ip, port).with_ttl(56)
}

/// A TLS 1.3 connection whose ClientHello (SNI `sni`, ALPN h2, GREASE ECH) is cut into three
/// client segments (client data segments 0, 1 and 2), followed by the server's flight, the
/// client's Finished and one request/response exchange. Impairments are added by the caller.
fn tls_session(sni: &str, from: Endpoint, to: Endpoint, at: u64) -> TcpSession {
    let hello = build_client_hello(Some(sni), &["h2"], true, 0);
    let third = hello.len().div_ceil(3);
    let mut rng = XorShift64::from_label(sni);
    TcpSession::new(from, to, at)
        .client_segmented(hello, third)
        .server(tls::server_flight(4_300, &mut rng))
        .client(tls::client_finished(&mut rng))
        .client(tls::application_data(3_000, &mut rng))
        .server(tls::application_data(9_000, &mut rng))
}

/// The frames of `tls_session` from 192.168.1.10:50000 to `PLAIN_SERVER`:443 at `T0`.
fn tls_flow(sni: &str, impair: impl FnOnce(TcpSession) -> TcpSession) -> Vec<Packet> {
    let session = tls_session(sni, client(10, 50_000), server(PLAIN_SERVER, 443), T0);
    impair(session).build().unwrap().packets
}

/// A DNS A lookup by `host` of `qname`, answered `qname → cnames… → addrs` by the router.
fn dns_lookup(host: u8, at: u64, qname: &str, cnames: &[&str], addrs: &[IpAddr]) -> Vec<Packet> {
    let response = DnsMessage::response(0x4242, qname, TYPE_A)
        .answers(chain_answers(qname, cnames, 300, addrs));
    UdpFlow::new(
        client(host, 53_000),
        Endpoint::new(ROUTER_MAC, ROUTER_IP, 53),
        at,
    )
    .client(DnsMessage::query(0x4242, qname, TYPE_A).to_bytes().unwrap())
    .server(response.to_bytes().unwrap())
    .build()
    .unwrap()
    .packets
}

fn timeline(packets: impl IntoIterator<Item = Packet>) -> Timeline {
    let mut timeline = Timeline::new();
    timeline.extend(packets);
    timeline
}

/// Little-endian microsecond Ethernet pcap of `packets` (in time order) at `dir/name`.
fn write_pcap(dir: &Path, name: &str, packets: impl IntoIterator<Item = Packet>) -> PathBuf {
    let bytes = timeline(packets).to_pcap(PcapFormat::default()).unwrap();
    write_file(dir, name, &bytes)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// One TCP segment with `flags`, sequence number `seq` and `payload`, as a captured packet.
fn one_segment(
    from: &Endpoint,
    to: &Endpoint,
    flags: TcpFlags,
    seq: u32,
    payload: &[u8],
    at: u64,
) -> Packet {
    let fields = TcpFields {
        seq,
        ack: 1,
        flags,
        window: 64_240,
        options: &[],
    };
    let l2 = L2Options::default();
    let data = tcp_frame(from, to, l2, IpIdent::default(), &fields, payload).unwrap();
    Packet {
        ts_nanos: at,
        interface: 0,
        data,
    }
}

/// A DHCP REQUEST naming `hostname`, from LAN host `host`'s MAC before it has an address:
/// 0.0.0.0:68 to 255.255.255.255:67.
fn dhcp_request(host: u8, hostname: &str, at: u64) -> Packet {
    use shadowai::synth::dhcp::{DhcpKind, DhcpMessage};
    use shadowai::synth::frame::udp_frame;
    let request = DhcpMessage::client(DhcpKind::Request, u32::from(host), lan_mac(host))
        .hostname(hostname)
        .to_bytes()
        .unwrap();
    let from = Endpoint::new(lan_mac(host), Ipv4Addr::UNSPECIFIED, 68);
    let broadcast = Endpoint::new([0xff; 6], Ipv4Addr::BROADCAST, 67);
    let l2 = L2Options::default();
    let data = udp_frame(&from, &broadcast, l2, IpIdent::default(), &request).unwrap();
    Packet {
        ts_nanos: at,
        interface: 0,
        data,
    }
}

/// TCP payload and source port of an Ethernet frame, `None` for anything else.
fn tcp_payload(frame: &[u8]) -> Option<(u16, Vec<u8>)> {
    let sliced = etherparse::SlicedPacket::from_ethernet(frame).ok()?;
    match sliced.transport? {
        etherparse::TransportSlice::Tcp(tcp) => Some((tcp.source_port(), tcp.payload().to_vec())),
        _ => None,
    }
}

// ---- running the binary -----------------------------------------------------------------------

fn shadowai() -> Command {
    Command::cargo_bin("shadowai").unwrap()
}

fn stdout_text(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr_text(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// `shadowai audit <files> --format json <extra>`, which must exit 0; the parsed report.
fn audit_json(files: &[&Path], extra: &[&str]) -> Value {
    let output = shadowai()
        .arg("audit")
        .args(files)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        stderr_text(&output)
    );
    serde_json::from_slice(&output.stdout).expect("audit prints JSON")
}

/// `shadowai inspect <file>`, which must exit 0; one JSON object per line.
fn inspect_rows(file: &Path) -> Vec<Value> {
    let output = shadowai().arg("inspect").arg(file).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        stderr_text(&output)
    );
    stdout_text(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// The values of one kind, in order.
fn values(rows: &[Value], kind: &str) -> Vec<String> {
    signals(rows, kind)
        .into_iter()
        .map(|(value, _, _)| value)
        .collect()
}

/// The rows of one kind, as (value, frame, src_mac).
fn signals(rows: &[Value], kind: &str) -> Vec<(String, u64, Value)> {
    rows.iter()
        .filter(|row| row["kind"] == kind)
        .map(|row| {
            (
                row["value"].as_str().unwrap().to_owned(),
                row["frame"].as_u64().unwrap(),
                row["src_mac"].clone(),
            )
        })
        .collect()
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings is an array")
}

/// (device_mac or device, service_id) of every finding, in report order.
fn finding_keys(report: &Value) -> Vec<(String, String)> {
    findings(report)
        .iter()
        .map(|f| {
            let device = f["device_mac"].as_str().or(f["device"].as_str()).unwrap();
            (
                device.to_owned(),
                f["service_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Packets in the sample, counted by the project's own reader.
fn sample_frames() -> u64 {
    let mut source = FileSource::open(&sample_path()).unwrap();
    let mut frames = 0;
    while source.next_packet().unwrap().is_some() {
        frames += 1;
    }
    frames
}

const SAMPLE_FINDINGS: &[(&str, &str)] = &[
    ("3c:22:fb:11:22:02", "openai-api"),
    ("3c:22:fb:11:22:01", "openai-chatgpt"),
    ("3c:22:fb:11:22:02", "anthropic-claude"),
    ("a4:83:e7:11:22:03", "google-gemini"),
    ("a4:83:e7:11:22:03", "microsoft-copilot"),
    ("da:a1:19:11:22:04", "perplexity"),
    ("50:7b:9d:11:22:06", "google-gemini"),
];

// ---- the bundled sample -----------------------------------------------------------------------

#[test]
fn committed_sample_is_current() {
    let committed = std::fs::read(sample_path()).unwrap();
    let generated = shadowai::synth::sample::office_lan_sample();
    assert!(!generated.is_empty(), "the sample scenario failed to build");
    assert!(
        committed == generated,
        "examples/office-lan.pcapng ({} bytes) differs from synth::sample ({} bytes): \
         regenerate it with `cargo run --example make-sample`",
        committed.len(),
        generated.len()
    );
}

#[test]
fn sample_audit_json() {
    let report = audit_json(&[&sample_path()], &[]);
    for key in [
        "schema_version",
        "findings",
        "devices",
        "stats",
        "warnings",
        "inputs",
    ] {
        assert!(report.get(key).is_some(), "no `{key}` in the report");
    }
    assert_eq!(report["schema_version"], 1);

    let keys = finding_keys(&report);
    assert_eq!(keys.len(), SAMPLE_FINDINGS.len(), "{keys:?}");
    assert_eq!(
        keys.iter().cloned().collect::<BTreeSet<_>>(),
        pairs(SAMPLE_FINDINGS)
    );

    // Sorted by bytes sent, the 1.5 MB spreadsheet to the OpenAI API first.
    let list = findings(&report);
    let up: Vec<u64> = list
        .iter()
        .map(|f| f["bytes_up"].as_u64().unwrap())
        .collect();
    assert!(up.windows(2).all(|w| w[0] >= w[1]), "not sorted: {up:?}");
    let first = &list[0];
    assert_eq!(first["service_id"], "openai-api");
    assert_eq!(first["device_mac"], "3c:22:fb:11:22:02");
    assert_eq!(strings(&first["hosts"]), ["api.openai.com"]);
    assert!(up[0] > 1_400_000, "bytes_up {}", up[0]);

    // Every device took a DHCP lease with a host name: every finding names it so.
    let hostnames: BTreeSet<(String, String)> = list
        .iter()
        .map(|f| {
            (
                f["device_mac"].as_str().unwrap().to_owned(),
                f["device_hostname"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected_names: BTreeSet<(String, String)> = [
        ("3c:22:fb:11:22:01", "reception-pc"),
        ("3c:22:fb:11:22:02", "accounts-laptop"),
        ("a4:83:e7:11:22:03", "design-mac"),
        ("da:a1:19:11:22:04", "Annas-iPhone"),
        ("50:7b:9d:11:22:06", "sales-laptop"),
    ]
    .into_iter()
    .map(|(m, n)| (m.to_owned(), n.to_owned()))
    .collect();
    assert_eq!(hostnames, expected_names);

    // Copilot lost its handshake: only the DNS answer names it. The sales laptop reached
    // Gemini over QUIC. Every other flow had its TLS SNI.
    for finding in list {
        let expected = match (
            finding["service_id"].as_str(),
            finding["device_mac"].as_str(),
        ) {
            (Some("microsoft-copilot"), _) => "dns_answer",
            (_, Some("50:7b:9d:11:22:06")) => "quic_sni",
            _ => "tls_sni",
        };
        assert_eq!(strings(&finding["evidence"]), [expected], "{finding}");
        for host in strings(&finding["hosts"]) {
            assert!(
                ![
                    "www.google.com",
                    "www.apple.com",
                    "outlook.office365.com",
                    "example.com"
                ]
                .contains(&host.as_str()),
                "ordinary site {host} reported as AI"
            );
        }
    }

    let frames = sample_frames();
    assert_eq!(
        frames,
        shadowai::synth::sample::office_lan_scenario()
            .unwrap()
            .frames as u64
    );
    assert_eq!(report["stats"]["packets"].as_u64(), Some(frames));
    assert_eq!(report["stats"]["files_read"], 1);
    assert_eq!(report["inputs"].as_array().unwrap().len(), 1);
    assert_eq!(report["inputs"][0]["complete"], true);
    assert_eq!(report["inputs"][0]["packets"].as_u64(), Some(frames));
    assert_eq!(report["inputs"][0]["format"], "pcapng");
    assert_eq!(report["warnings"], serde_json::json!([]));
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside cells).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

#[test]
fn sample_audit_csv() {
    let output = shadowai()
        .arg("audit")
        .arg(sample_path())
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stdout_text(&output);
    let lines: Vec<&str> = text.lines().collect();
    let header =
        "device,device_hostname,device_name,owner,group,device_mac,device_ips,service_id,service,\
                  vendor,kind,status,\
                  trains_on_consumer_input,business_tier_without_training,hosts,evidence,flows,\
                  bytes_up,bytes_down,packets_up,packets_down,first_seen,last_seen";
    assert_eq!(lines[0], header);
    assert_eq!(lines[0], shadowai::report::csv::HEADER.join(","));
    assert_eq!(lines.len(), 1 + SAMPLE_FINDINGS.len(), "{text}");

    let rows: Vec<Vec<String>> = lines[1..].iter().map(|l| csv_cells(l)).collect();
    let mut keys = BTreeSet::new();
    for row in &rows {
        assert_eq!(row.len(), 23, "{row:?}");
        for number in &row[16..21] {
            number
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("not a count: {number:?} in {row:?}"));
        }
        assert!(row[21].ends_with('Z') && row[22].ends_with('Z'), "{row:?}");
        keys.insert((row[5].clone(), row[7].clone()));
    }
    assert_eq!(keys, pairs(SAMPLE_FINDINGS));
    assert_eq!(rows[0][7], "openai-api");
    assert_eq!(
        rows[0][1], "accounts-laptop",
        "the DHCP host name names the device"
    );
    assert!(rows[0][17].parse::<u64>().unwrap() > 1_400_000);
}

#[test]
fn every_thread_count_prints_the_same_report() {
    // The sample (pcapng) and the sample as pcap appended to itself, in one run of two files.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample_path()).unwrap();
    let mut source = shadowai::capture::file::FileSource::from_reader(
        "sample".into(),
        Box::new(std::io::Cursor::new(bytes)),
    )
    .unwrap();
    let mut frames = Vec::new();
    while let Some(packet) = source.next_packet().unwrap() {
        frames.push((packet.ts_nanos, packet.data.to_vec()));
    }
    let twice = frames
        .iter()
        .chain(&frames)
        .map(|(ts, d)| (*ts, d.as_slice()));
    let pcap = shadowai::synth::pcap::pcap_bytes(Default::default(), twice).unwrap();
    let copy = write_file(dir.path(), "twice.pcap", &pcap);
    let run = |threads: &str| {
        let output = shadowai()
            .arg("audit")
            .arg(sample_path())
            .arg(&copy)
            .args(["--format", "json", "--threads", threads])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
        stdout_text(&output)
    };
    let one = run("1");
    assert!(one.contains("\"service_id\""));
    for threads in ["2", "3", "8", "0"] {
        assert_eq!(run(threads), one, "--threads {threads}");
    }
}

#[test]
fn output_file_is_written_whole_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.json");
    let output = shadowai()
        .arg("audit")
        .arg(sample_path())
        .args(["--format", "json", "--output"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    assert!(output.stdout.is_empty(), "stdout: {}", stdout_text(&output));
    let report: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(finding_keys(&report).len(), SAMPLE_FINDINGS.len());
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["report.json"], "temporary files left behind");
}

/// `--output /proc/self/fd/1` (or `/dev/stdout`) writes through the descriptor the caller
/// opened, appending: a nightly log opened for `>>` keeps what it held. (A report renamed over
/// such a name would replace the link itself, or fail.)
#[test]
fn output_to_a_descriptor_appends_to_what_the_caller_opened() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("nightly.log");
    std::fs::write(&log, "earlier line\n").unwrap();
    let appending = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let audit = ["audit", "--format", "csv"];
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("shadowai"))
        .args(audit)
        .arg(sample_path())
        .args(["--output", "/proc/self/fd/1"])
        .stdout(appending)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let direct = shadowai().args(audit).arg(sample_path()).output().unwrap();
    let expected = format!("earlier line\n{}", stdout_text(&direct));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), expected);
}

#[test]
fn truncated_capture_is_reported_and_still_audited() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample_path()).unwrap();
    let cut = write_file(dir.path(), "cut.pcapng", &bytes[..bytes.len() - 10]);
    let last = sample_frames();

    let output = shadowai()
        .arg("audit")
        .arg(&cut)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = stderr_text(&output);
    assert!(
        stderr.contains(&format!(
            "truncated: the file ends before packet {last} is complete"
        )),
        "stderr: {stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let warnings = strings(&report["warnings"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("truncated"), "{warnings:?}");
    assert_eq!(report["inputs"][0]["complete"], false);
    assert_eq!(report["inputs"][0]["packets"].as_u64(), Some(last - 1));
    assert_eq!(report["stats"]["packets"].as_u64(), Some(last - 1));
    // The last packet is the printer's; every AI finding is before it.
    assert_eq!(
        finding_keys(&report).into_iter().collect::<BTreeSet<_>>(),
        pairs(SAMPLE_FINDINGS)
    );
}

// ---- errors -----------------------------------------------------------------------------------

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-capture.pcap");
    let output = shadowai().arg("audit").arg(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_text(&output);
    assert!(
        stderr.contains(&format!("{}: cannot read", missing.display())),
        "stderr: {stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn text_file_is_not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let text = write_file(dir.path(), "notes.txt", b"hello, this is not a capture\n");
    let output = shadowai().arg("audit").arg(&text).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_text(&output);
    assert!(
        stderr.contains(&format!("{}: not a pcap or pcapng capture", text.display())),
        "stderr: {stderr}"
    );
}

#[test]
fn one_missing_input_still_reports_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.pcapng");
    let output = shadowai()
        .arg("audit")
        .arg(sample_path())
        .arg(&missing)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_text(&output).contains(&missing.display().to_string()));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        finding_keys(&report).into_iter().collect::<BTreeSet<_>>(),
        pairs(SAMPLE_FINDINGS)
    );
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!(inputs[0]["complete"], true);
    assert_eq!(inputs[1]["complete"], false);
    assert_eq!(inputs[1]["format"], Value::Null);
    assert!(inputs[1]["error"].as_str().unwrap().contains("gone.pcapng"));
}

// ---- input forms ------------------------------------------------------------------------------

#[test]
fn gzip_on_stdin_gives_the_same_findings() {
    let from_file = audit_json(&[&sample_path()], &[]);
    let compressed = gzip(&std::fs::read(sample_path()).unwrap()).unwrap();
    let output = shadowai()
        .args(["audit", "-", "--format", "json"])
        .write_stdin(compressed)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let from_stdin: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(from_stdin["findings"], from_file["findings"]);
    assert_eq!(from_stdin["stats"], from_file["stats"]);
    assert_eq!(from_stdin["inputs"][0]["format"], "pcapng (gzip)");
    assert_eq!(from_stdin["inputs"][0]["complete"], true);
}

/// One DNS lookup of chatgpt.com on Ethernet, then the TLS flow.
fn dns_then_tls() -> (Vec<Packet>, Vec<Packet>) {
    let dns = dns_lookup(10, T0 - SECOND, "chatgpt.com", &[], &[PLAIN_SERVER.into()]);
    (dns, tls_flow("chatgpt.com", |s| s))
}

fn assert_chatgpt_signals(file: &Path, tls_src_mac: Value) {
    let rows = inspect_rows(file);
    let sni = signals(&rows, "tls_sni");
    assert_eq!(sni.len(), 1, "{file:?}: {rows:?}");
    assert_eq!(sni[0].0, "chatgpt.com", "{file:?}");
    assert_eq!(sni[0].2, tls_src_mac, "{file:?}");
    let answers = signals(&rows, "dns_answer");
    assert_eq!(answers.len(), 1, "{file:?}: {rows:?}");
    assert_eq!(answers[0].0, format!("chatgpt.com A {PLAIN_SERVER}"));
    assert_eq!(answers[0].2, Value::from("00:11:32:aa:bb:01"), "{file:?}");
}

/// `dns_then_tls`'s capture at `file`, in some other link type: the TLS flow is ChatGPT's, from
/// the client's own MAC, and every packet is IP.
fn assert_chatgpt_from_client_mac(file: &Path) {
    assert_chatgpt_signals(file, Value::from(mac_text(10)));
    let report = audit_json(&[file], &[]);
    assert_eq!(
        finding_keys(&report),
        [(mac_text(10), "openai-chatgpt".to_owned())]
    );
    assert_eq!(report["stats"]["ip_packets"], report["stats"]["packets"]);
}

#[test]
fn capture_formats_and_link_types() {
    let dir = tempfile::tempdir().unwrap();
    let (dns, tls) = dns_then_tls();
    let both = timeline(dns.iter().chain(&tls).cloned());
    let client_mac = Value::from(mac_text(10));

    let le_micro = both.to_pcap(PcapFormat::default()).unwrap();
    let be_nano = both
        .to_pcap(PcapFormat {
            resolution: TsResolution::Nano,
            endian: Endian::Big,
            ..PcapFormat::default()
        })
        .unwrap();
    for (name, bytes) in [
        ("le-micro.pcap", le_micro.clone()),
        ("be-nano.pcap", be_nano),
        ("le-micro.pcap.gz", gzip(&le_micro).unwrap()),
    ] {
        let path = write_file(dir.path(), name, &bytes);
        assert_chatgpt_signals(&path, client_mac.clone());
        let report = audit_json(&[&path], &[]);
        assert_eq!(
            finding_keys(&report),
            [(mac_text(10), "openai-chatgpt".to_owned())],
            "{name}"
        );
    }

    // pcapng: DNS on an Ethernet interface, the TLS flow on a raw-IPv4 one (no MAC at all).
    let raw_tls = tls.iter().map(|p| Packet {
        interface: 1,
        data: p.data[14..].to_vec(),
        ..p.clone()
    });
    let mixed = timeline(dns.iter().cloned().chain(raw_tls))
        .to_pcapng(
            Endian::Little,
            &[
                InterfaceDesc::new(LINKTYPE_ETHERNET).named("eth0"),
                InterfaceDesc::new(LINKTYPE_RAW).named("tun0").nanos(),
            ],
        )
        .unwrap();
    let path = write_file(dir.path(), "two-interfaces.pcapng", &mixed);
    assert_chatgpt_signals(&path, Value::Null);
    let report = audit_json(&[&path], &[]);
    assert_eq!(
        finding_keys(&report),
        [("192.168.1.10".to_owned(), "openai-chatgpt".to_owned())]
    );
    assert_eq!(findings(&report)[0]["device_mac"], Value::Null);

    // Wi-Fi in monitor mode: the TLS flow as radiotap 802.11 frames between the client and an
    // access point (frame check sequences kept), the DNS lookup on Ethernet. The client is
    // still known by its own MAC, not the access point's.
    let (station, bssid) = ([0x02, 0, 0, 0, 0, 10], [0x02, 0, 0, 0, 0, 0xaa]);
    let wifi_tls = tls.iter().map(|p| Packet {
        interface: 1,
        data: ethernet_to_radiotap(&p.data, station, bssid).unwrap(),
        ..p.clone()
    });
    let wifi = timeline(dns.iter().cloned().chain(wifi_tls))
        .to_pcapng(
            Endian::Little,
            &[
                InterfaceDesc::new(LINKTYPE_ETHERNET).named("eth0"),
                InterfaceDesc::new(LINKTYPE_IEEE802_11_RADIOTAP).named("wlan0mon"),
            ],
        )
        .unwrap();
    let path = write_file(dir.path(), "radiotap.pcapng", &wifi);
    assert_chatgpt_from_client_mac(&path);

    // A Mac's `tcpdump -i pktap` (or `-i any` there): every frame behind Apple's PKTAP header,
    // which names the frame's own link type (Ethernet, for Wi-Fi too) and the process.
    let mac_process = |p: &Packet, command| {
        let process = Process {
            interface: "en0",
            pid: 4242,
            command,
            outgoing: p.data.get(6..12) == Some(&lan_mac(10)[..]),
        };
        Packet {
            data: pktap(&p.data, 1, process).unwrap(),
            ..p.clone()
        }
    };
    let lookup = dns.iter().map(|p| mac_process(p, "mDNSResponder"));
    let browser = tls.iter().map(|p| mac_process(p, "Google Chrome H"));
    let mac = timeline(lookup.chain(browser))
        .to_pcap(PcapFormat {
            link_type: u32::from(LINKTYPE_PKTAP),
            ..PcapFormat::default()
        })
        .unwrap();
    let path = write_file(dir.path(), "pktap.pcap", &mac);
    assert_chatgpt_from_client_mac(&path);
}

// ---- proxies ------------------------------------------------------------------------------------

/// A client on the LAN going through a SOCKS proxy at 192.168.1.5:1080: `handshake` is what
/// the client sends before the tunnel (with the proxy's answers `replies` in between), then a
/// ClientHello with SNI `sni` (none when `None`) and a little application data.
fn socks_flow(port: u16, handshake: &[&[u8]], replies: &[&[u8]], sni: Option<&str>) -> Vec<Packet> {
    let proxy = Endpoint::new(lan_mac(5), Ipv4Addr::new(192, 168, 1, 5), 1080);
    let mut session = TcpSession::new(client(10, port), proxy, T0);
    for (i, sent) in handshake.iter().enumerate() {
        session = session.client(sent.to_vec());
        if let Some(reply) = replies.get(i) {
            session = session.server(reply.to_vec());
        }
    }
    let mut rng = XorShift64::from_label("socks");
    session
        .client(build_client_hello(sni, &["h2"], false, 0))
        .server(tls::server_flight(4_300, &mut rng))
        .client(tls::application_data(2_000, &mut rng))
        .build()
        .unwrap()
        .packets
}

#[test]
fn flows_through_a_socks_proxy_are_named_by_the_tunnel_or_by_the_request() {
    let dir = tempfile::tempdir().unwrap();
    // SOCKS 5 with a username and password, to chatgpt.com by name: the tunnelled SNI names it.
    let mut request5 = vec![5, 1, 0, 3, 11];
    request5.extend(b"chatgpt.com");
    request5.extend([0x01, 0xbb]);
    let mut auth = vec![1, 5];
    auth.extend(b"alice\x06secret");
    let socks5 = socks_flow(
        50_001,
        &[&[5, 2, 0, 2], &auth, &request5],
        &[&[5, 2], &[1, 0], &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]],
        Some("chatgpt.com"),
    );
    // SOCKS 4a to claude.ai by name, then a ClientHello without a name: the request names it.
    let mut request4a = vec![4, 1, 0x01, 0xbb, 0, 0, 0, 1];
    request4a.extend(b"bob\0claude.ai\0");
    let socks4a = socks_flow(50_002, &[&request4a], &[&[0, 0x5a, 0, 0, 0, 0, 0, 0]], None);
    let path = write_pcap(dir.path(), "socks.pcap", socks5.into_iter().chain(socks4a));
    let rows = inspect_rows(&path);
    let connects: BTreeSet<_> = signals(&rows, "socks_connect")
        .into_iter()
        .map(|(value, ..)| value)
        .collect();
    assert_eq!(
        connects,
        BTreeSet::from(["chatgpt.com:443".to_owned(), "claude.ai:443".to_owned()]),
        "{rows:?}"
    );
    let sni: Vec<_> = signals(&rows, "tls_sni").into_iter().map(|s| s.0).collect();
    assert_eq!(sni, ["chatgpt.com"]);

    let report = audit_json(&[&path], &[]);
    let evidence: BTreeSet<(String, Vec<String>)> = findings(&report)
        .iter()
        .map(|f| {
            assert_eq!(f["device_mac"], Value::from(mac_text(10)), "{f}");
            (
                f["service_id"].as_str().unwrap().to_owned(),
                strings(&f["evidence"]),
            )
        })
        .collect();
    assert_eq!(
        evidence,
        BTreeSet::from([
            (
                "anthropic-claude".to_owned(),
                vec!["socks_connect".to_owned()]
            ),
            ("openai-chatgpt".to_owned(), vec!["tls_sni".to_owned()]),
        ])
    );
}

// ---- TCP reassembly of the ClientHello --------------------------------------------------------

/// The ClientHello in three segments, in order; the SNI is reported at the third one.
#[test]
fn client_hello_in_order_reports_its_completing_frame() {
    let dir = tempfile::tempdir().unwrap();
    let packets = tls_flow("chatgpt.com", |s| s);
    // The file holds this one flow in time order: find the third client data segment.
    let hello = build_client_hello(Some("chatgpt.com"), &["h2"], true, 0);
    let mut seen = 0;
    let mut completing = None;
    for (i, packet) in packets.iter().enumerate() {
        if let Some((50_000, payload)) = tcp_payload(&packet.data) {
            if !payload.is_empty() {
                seen += payload.len();
                if seen == hello.len() {
                    completing = Some(i as u64 + 1);
                    break;
                }
            }
        }
    }
    let completing = completing.expect("the ClientHello ends at a segment boundary");
    // SYN, SYN-ACK, ACK, then the three segments back to back.
    assert_eq!(completing, 6);

    let path = write_pcap(dir.path(), "in-order.pcap", packets);
    let rows = inspect_rows(&path);
    let sni = signals(&rows, "tls_sni");
    assert_eq!(
        sni,
        [(
            "chatgpt.com".to_owned(),
            completing,
            Value::from(mac_text(10))
        )]
    );
    let row = rows.iter().find(|r| r["kind"] == "tls_sni").unwrap();
    assert_eq!(row["src"], "192.168.1.10");
    assert_eq!(row["dst"], PLAIN_SERVER.to_string());
    assert_eq!(row["sport"], 50_000);
    assert_eq!(row["dport"], 443);
    assert_eq!(row["file"], path.display().to_string());
}

fn assert_reassembled(name: &str, impair: impl FnOnce(TcpSession) -> TcpSession) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pcap(dir.path(), name, tls_flow("chatgpt.com", impair));
    let rows = inspect_rows(&path);
    let sni: Vec<String> = values(&rows, "tls_sni");
    assert_eq!(sni, ["chatgpt.com"], "{name}: inspect");
    let report = audit_json(&[&path], &[]);
    assert_eq!(
        finding_keys(&report),
        [(mac_text(10), "openai-chatgpt".to_owned())],
        "{name}: audit"
    );
    assert_eq!(strings(&findings(&report)[0]["evidence"]), ["tls_sni"]);
    assert_eq!(report["stats"]["tls_client_hellos"], 1, "{name}");
}

#[test]
fn client_hello_in_order() {
    assert_reassembled("in-order.pcap", |s| s);
}

#[test]
fn client_hello_segments_out_of_order() {
    assert_reassembled("swapped.pcap", |s| s.swap_client_segments(1, 2));
}

#[test]
fn client_hello_first_segment_retransmitted() {
    assert_reassembled("retransmitted.pcap", |s| s.retransmit_client_segment(0));
}

#[test]
fn client_hello_without_syn() {
    assert_reassembled("no-syn.pcap", |s| s.drop_syn());
}

#[test]
fn client_hello_without_syn_and_out_of_order() {
    assert_reassembled("no-syn-swapped.pcap", |s| {
        s.drop_syn().swap_client_segments(0, 1)
    });
}

// ---- naming by DNS ----------------------------------------------------------------------------

/// A TCP flow from 192.168.1.10 to 1.2.3.4:443 whose client sends no ClientHello, only bytes
/// that are neither TLS nor HTTP.
fn opaque_flow(at: u64) -> Vec<Packet> {
    let mut rng = XorShift64::from_label("opaque");
    let mut bytes = rng.bytes(600);
    bytes[0] = 0x00; // neither a TLS record (0x16) nor an HTTP method
    TcpSession::new(
        client(10, 50_100),
        server(Ipv4Addr::new(1, 2, 3, 4), 443),
        at,
    )
    .client(bytes)
    .server(rng.bytes(2_000))
    .build()
    .unwrap()
    .packets
}

fn anthropic_answer(host: u8, at: u64) -> Vec<Packet> {
    dns_lookup(
        host,
        at,
        "api.anthropic.com",
        &["x"],
        &[Ipv4Addr::new(1, 2, 3, 4).into()],
    )
}

/// Encrypted Client Hello: a browser that looked chatgpt.com up, then sent a ClientHello with
/// the ECH extension and Cloudflare's cover name as its outer SNI. The cover name names
/// nothing; the client's DNS answer names the flow. Without the extension, or with it and a
/// real name (the GREASE ECH every Chrome hello carries), the SNI names the flow as usual.
#[test]
fn an_ech_cover_name_leaves_the_flow_to_its_dns_answer() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = || dns_lookup(10, T0 - SECOND, "chatgpt.com", &[], &[PLAIN_SERVER.into()]);
    let hello_flow = |sni: &str, ech: bool| {
        let hello = build_client_hello(Some(sni), &["h2"], ech, 0);
        let mut rng = XorShift64::from_label(sni);
        TcpSession::new(client(10, 50_000), server(PLAIN_SERVER, 443), T0)
            .client(hello)
            .server(tls::server_flight(4_300, &mut rng))
            .client(tls::application_data(3_000, &mut rng))
            .build()
            .unwrap()
            .packets
    };
    let cases = [
        ("cloudflare-ech.com", true, Some("dns_answer")),
        ("cloudflare-ech.com", false, None),
        ("chatgpt.com", true, Some("tls_sni")),
    ];
    for (sni, ech, evidence) in cases {
        let name = format!("{sni}-{ech}.pcap");
        let path = write_pcap(
            dir.path(),
            &name,
            lookup().into_iter().chain(hello_flow(sni, ech)),
        );
        // inspect shows the outer SNI as tshark does, and whether the hello carries ECH.
        let rows = inspect_rows(&path);
        assert_eq!(values(&rows, "tls_sni"), [sni], "{name}");
        assert_eq!(values(&rows, "tls_ech").len(), usize::from(ech), "{name}");
        let report = audit_json(&[&path], &[]);
        let found: Vec<(String, Vec<String>)> = findings(&report)
            .iter()
            .map(|f| {
                (
                    f["service_id"].as_str().unwrap().to_owned(),
                    strings(&f["evidence"]),
                )
            })
            .collect();
        let want: Vec<(String, Vec<String>)> = evidence
            .map(|e| ("openai-chatgpt".to_owned(), vec![e.to_owned()]))
            .into_iter()
            .collect();
        assert_eq!(found, want, "{name}");
    }
}

#[test]
fn dns_answer_names_a_later_flow_of_the_same_client() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pcap(
        dir.path(),
        "dns-first.pcap",
        anthropic_answer(10, T0)
            .into_iter()
            .chain(opaque_flow(T0 + SECOND)),
    );
    let rows = inspect_rows(&path);
    assert!(signals(&rows, "tls_sni").is_empty());
    let answers: Vec<String> = values(&rows, "dns_answer");
    assert_eq!(answers, ["api.anthropic.com CNAME x", "x A 1.2.3.4"]);

    let report = audit_json(&[&path], &[]);
    assert_eq!(
        finding_keys(&report),
        [(mac_text(10), "anthropic-api".to_owned())]
    );
    let finding = &findings(&report)[0];
    assert_eq!(strings(&finding["evidence"]), ["dns_answer"]);
    assert_eq!(strings(&finding["hosts"]), ["api.anthropic.com"]);
    assert_eq!(finding["flows"], 1);
}

#[test]
fn dns_answer_after_the_flow_started_names_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pcap(
        dir.path(),
        "dns-late.pcap",
        opaque_flow(T0)
            .into_iter()
            .chain(anthropic_answer(10, T0 + 10_000_000)),
    );
    let report = audit_json(&[&path], &[]);
    assert_eq!(finding_keys(&report), []);
    assert_eq!(report["stats"]["ai_flows"], 0);
}

#[test]
fn dns_answer_to_another_client_names_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pcap(
        dir.path(),
        "dns-other-client.pcap",
        anthropic_answer(11, T0)
            .into_iter()
            .chain(opaque_flow(T0 + SECOND)),
    );
    let report = audit_json(&[&path], &[]);
    assert_eq!(finding_keys(&report), []);
}

// ---- look-alike names -------------------------------------------------------------------------

#[test]
fn look_alike_names_are_not_ai_services() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "notopenai.com",
        "openai.com.example.net",
        "chatgpt.com.evil.test",
    ];
    let mut packets = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let at = T0 + i as u64 * 10 * SECOND;
        let port = 50_200 + i as u16;
        let session = tls_session(name, client(10, port), server(PLAIN_SERVER, 443), at);
        packets.extend(session.build().unwrap().packets);
    }
    let path = write_pcap(dir.path(), "look-alikes.pcap", packets);
    let rows = inspect_rows(&path);
    let sni: Vec<String> = values(&rows, "tls_sni");
    assert_eq!(sni, names);
    let report = audit_json(&[&path], &[]);
    assert_eq!(finding_keys(&report), []);
    assert_eq!(report["stats"]["named_flows"], 3);
    assert_eq!(report["stats"]["ai_flows"], 0);
}

// ---- extra rule folders -----------------------------------------------------------------------

#[test]
fn broken_rule_file_is_refused_with_its_position() {
    let rules = tempfile::tempdir().unwrap();
    let broken = "services:\n  - id: acme-ai\n    name: Acme AI\n    vendor: Acme\n    \
                  colour: red\n    kind: chat\n    data:\n      trains_on_consumer_input: unknown\n      \
                  business_tier_without_training: unknown\n    hosts:\n      - pattern: chat.acme-ai.test\n        \
                  source: test\n        confidence: inferred\n";
    assert_eq!(broken.lines().nth(4), Some("    colour: red"));
    write_file(rules.path(), "broken.yaml", broken.as_bytes());
    let output = shadowai()
        .arg("audit")
        .arg(sample_path())
        .arg("--rules")
        .arg(rules.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_text(&output);
    assert!(stderr.contains("broken.yaml:5:"), "stderr: {stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn extra_rule_file_adds_a_service() {
    let rules = tempfile::tempdir().unwrap();
    let acme = "services:\n  - id: acme-ai\n    name: Acme AI\n    vendor: Acme\n    kind: chat\n    \
                data:\n      trains_on_consumer_input: unknown\n      business_tier_without_training: unknown\n    \
                hosts:\n      - pattern: chat.acme-ai.test\n        source: test fixture\n        \
                confidence: inferred\n";
    write_file(rules.path(), "acme.yaml", acme.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = write_pcap(
        dir.path(),
        "acme.pcap",
        tls_flow("chat.acme-ai.test", |s| s),
    );

    let without = audit_json(&[&path], &[]);
    assert_eq!(finding_keys(&without), []);

    let rules_arg = rules.path().to_str().unwrap();
    let with = audit_json(&[&path], &["--rules", rules_arg]);
    assert_eq!(finding_keys(&with), [(mac_text(10), "acme-ai".to_owned())]);
    let finding = &findings(&with)[0];
    assert_eq!(finding["service"], "Acme AI");
    assert_eq!(finding["vendor"], "Acme");
    assert_eq!(strings(&finding["hosts"]), ["chat.acme-ai.test"]);
}

// ---- inspect ----------------------------------------------------------------------------------

#[test]
fn inspect_lines_have_exactly_the_documented_keys() {
    let rows = inspect_rows(&sample_path());
    let expected: BTreeSet<&str> = [
        "file", "frame", "kind", "value", "src_mac", "src", "dst", "sport", "dport",
    ]
    .into_iter()
    .collect();
    assert!(rows.len() > 20, "{} rows", rows.len());
    for row in &rows {
        let keys: BTreeSet<&str> = row
            .as_object()
            .expect("an object per line")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, expected, "{row}");
    }
    // Every TLS visit of the sample except Copilot's (its handshake was lost) shows its SNI.
    let sni: BTreeSet<String> = values(&rows, "tls_sni").into_iter().collect();
    let expected_sni: BTreeSet<String> = [
        "www.google.com",
        "chatgpt.com",
        "outlook.office365.com",
        "gemini.google.com",
        "api.openai.com",
        "www.apple.com",
        "www.perplexity.ai",
        "claude.ai",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(sni, expected_sni);
    let quic: Vec<String> = values(&rows, "quic_sni");
    assert_eq!(quic, ["gemini.google.com"]);
}

/// `--output` gets the very lines standard output does (streamed into the file it then
/// renames).
#[test]
fn inspect_output_file_holds_the_same_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signals.jsonl");
    let to_stdout = shadowai()
        .arg("inspect")
        .arg(sample_path())
        .output()
        .unwrap();
    let to_file = shadowai()
        .arg("inspect")
        .arg(sample_path())
        .arg("--output")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(to_file.status.code(), Some(0), "{}", stderr_text(&to_file));
    assert!(to_file.stdout.is_empty());
    let written = std::fs::read(&path).unwrap();
    assert!(written.len() > 1000, "{} bytes", written.len());
    assert_eq!(written, to_stdout.stdout);
}

// ---- capture point behind a router --------------------------------------------------------------

/// 20 clients of another subnet reach ChatGPT through a router: every client frame carries the
/// router's MAC. The report must say so and attribute the flows by address, not lump them
/// into one "device".
#[test]
fn one_mac_many_clients_is_a_router_and_attribution_is_by_address() {
    let dir = tempfile::tempdir().unwrap();
    let router_side = [0x02, 0, 0, 0, 0, 0xfe];
    let mut packets = Vec::new();
    for host in 0..20u8 {
        let from = Endpoint::new(router_side, Ipv4Addr::new(10, 20, 0, 10 + host), 50_000);
        let at = T0 + u64::from(host) * 1_000_000_000;
        packets.extend(
            tls_session("chatgpt.com", from, server(PLAIN_SERVER, 443), at)
                .build()
                .unwrap()
                .packets,
        );
    }
    let path = write_pcap(dir.path(), "routed.pcap", packets);
    let report = audit_json(&[&path], &[]);
    assert_eq!(report["routers"], serde_json::json!(["02:00:00:00:00:fe"]));
    assert!(
        strings(&report["warnings"])
            .iter()
            .any(|w| w.contains("02:00:00:00:00:fe") && w.contains("by IP")),
        "{}",
        report["warnings"]
    );
    let list = findings(&report);
    assert_eq!(list.len(), 20, "one finding per client address");
    for finding in list {
        assert_eq!(finding["service_id"], "openai-chatgpt");
        assert!(finding["device_mac"].is_null(), "{finding}");
        assert!(finding["device"].as_str().unwrap().starts_with("10.20.0."));
    }
    // Under the threshold, one MAC with a few addresses stays one device.
    let mut few = Vec::new();
    for host in 0..3u8 {
        let from = Endpoint::new(lan_mac(7), Ipv4Addr::new(192, 168, 1, 70 + host), 50_000);
        let at = T0 + u64::from(host) * 1_000_000_000;
        few.extend(
            tls_session("claude.ai", from, server(PLAIN_SERVER, 443), at)
                .build()
                .unwrap()
                .packets,
        );
    }
    let path = write_pcap(dir.path(), "dhcp-renewals.pcap", few);
    let report = audit_json(&[&path], &[]);
    assert_eq!(report["routers"], serde_json::json!([]));
    let list = findings(&report);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["device_mac"], mac_text(7));
    assert_eq!(strings(&list[0]["device_ips"]).len(), 3);
}

// ---- devices ------------------------------------------------------------------------------------

#[test]
fn devices_command_lists_names_vendors_and_randomised_macs() {
    let output = shadowai()
        .args(["devices", "--format", "json"])
        .arg(sample_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema_version"], 1);
    let devices = json["devices"].as_array().unwrap();
    let by_mac = |mac: &str| {
        devices
            .iter()
            .find(|d| d["mac"] == mac)
            .unwrap_or_else(|| panic!("no device {mac}"))
    };
    let reception = by_mac("3c:22:fb:11:22:01");
    assert_eq!(reception["hostname"], "reception-pc");
    assert_eq!(reception["vendor_class"], "MSFT 5.0");
    assert_eq!(reception["vendor"], "Apple, Inc.");
    assert_eq!(reception["ai_services"], 1);
    let sources: Vec<&str> = reception["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["dhcp_hostname", "dhcp_fqdn"]);
    let phone = by_mac("da:a1:19:11:22:04");
    assert_eq!(phone["hostname"], "Annas-iPhone");
    assert_eq!(phone["randomized_mac"], true);
    assert!(phone["vendor"].is_null(), "a randomised MAC has no vendor");
    let printer = by_mac("00:1b:a9:11:22:05");
    assert_eq!(printer["ai_services"], 0);
    assert_eq!(devices.len(), 6);

    let csv = shadowai()
        .args(["devices", "--format", "csv"])
        .arg(sample_path())
        .output()
        .unwrap();
    let text = stdout_text(&csv);
    assert_eq!(
        text.lines().next().unwrap(),
        shadowai::report::devices::HEADER.join(",")
    );
    assert_eq!(text.lines().count(), 1 + 6);
}

/// `--format html`: one page that loads nothing, holds every finding and device of the JSON
/// report, and is the same for any number of threads.
#[test]
fn html_report_is_self_contained_and_holds_every_finding() {
    let run = |command: &str, format: &str, threads: &str| {
        let output = shadowai()
            .arg(command)
            .arg(sample_path())
            .args(["--format", format, "--threads", threads])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
        stdout_text(&output)
    };
    let page = run("audit", "html", "1");
    assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
    assert!(page.trim_end().ends_with("</html>"));
    assert_eq!(run("audit", "html", "2"), page);
    // Nothing that would load or run anything.
    for needle in [
        "<script", "src=", "href=", "url(", "@import", "http:", "https:", "<link",
    ] {
        assert!(!page.contains(needle), "{needle}");
    }
    let report: Value = serde_json::from_str(&run("audit", "json", "1")).unwrap();
    let found = findings(&report);
    assert_eq!(found.len(), 7);
    for finding in found {
        let who = finding["device_hostname"].as_str().unwrap();
        let service = finding["service"].as_str().unwrap();
        let row = format!("<tr><td><b>{who}</b>");
        let line = page
            .lines()
            .find(|l| l.starts_with(&row) && l.contains(&format!("<td>{service}</td>")))
            .unwrap_or_else(|| panic!("no row for {who} and {service}"));
        assert!(line.contains("class=\"unapproved\""), "{line}");
    }
    for device in report["devices"].as_array().unwrap() {
        let id = device["id"].as_str().unwrap();
        assert!(page.contains(&format!("<tr><td>{id}</td>")), "{id}");
    }
    assert!(page.contains("<b>5 of 6</b>devices used AI services"));
    // `devices --format html`: the devices, without the findings.
    let devices = run("devices", "html", "1");
    assert!(devices.contains("<h2>Devices (6)</h2>"));
    assert!(!devices.contains("Who used what"));
}

/// `diff` of two nights' reports: the new device and its new finding, the finding gone, and
/// `--fail-on unapproved` exits 1 only when something unapproved came; two reports
/// pseudonymised with one key compare as the plain ones do.
#[test]
fn diff_tells_what_came_and_went_between_two_reports() {
    let dir = tempfile::tempdir().unwrap();
    let flow = |host: u8, sni: &str, at: u64| {
        tls_session(sni, client(host, 50_000), server(PLAIN_SERVER, 443), at)
            .build()
            .unwrap()
            .packets
    };
    let monday: Vec<Packet> = [
        flow(10, "chatgpt.com", T0),
        flow(12, "gemini.google.com", T0),
    ]
    .concat();
    let tuesday: Vec<Packet> = [flow(10, "chatgpt.com", T0), flow(11, "claude.ai", T0)].concat();
    let monday = write_pcap(dir.path(), "monday.pcap", monday);
    let tuesday = write_pcap(dir.path(), "tuesday.pcap", tuesday);
    let key = dir.path().join("key");
    let report = |capture: &Path, name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let output = shadowai()
            .arg("audit")
            .arg(capture)
            .args(["--format", "json", "-o"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
        path
    };
    let diff = |old: &Path, new: &Path, extra: &[&str]| {
        shadowai()
            .arg("diff")
            .arg(old)
            .arg(new)
            .args(extra)
            .output()
            .unwrap()
    };
    let (mon, tue) = (
        report(&monday, "mon.json", &[]),
        report(&tuesday, "tue.json", &[]),
    );
    let output = diff(&mon, &tue, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let id = f.get("service_id").or_else(|| f.get("id")).unwrap();
                (
                    f["device"].as_str().unwrap_or("").to_string(),
                    id.as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(&json["new_findings"]),
        [(mac_text(11), "anthropic-claude".to_string())]
    );
    assert_eq!(
        keys(&json["gone_findings"]),
        [(mac_text(12), "google-gemini".to_string())]
    );
    assert_eq!(json["status_changes"], serde_json::json!([]));
    assert_eq!(keys(&json["new_devices"]), [(String::new(), mac_text(11))]);
    let table = diff(&mon, &tue, &[]);
    let text = stdout_text(&table);
    assert!(
        text.contains("1 new finding(s), 0 status change(s), 1 gone; 1 new device(s)."),
        "{text}"
    );
    // Something unapproved came: exit 1 for the cron job; nothing came: 0.
    assert_eq!(
        diff(&mon, &tue, &["--fail-on", "unapproved"]).status.code(),
        Some(1)
    );
    assert_eq!(
        diff(&tue, &tue, &["--fail-on", "any"]).status.code(),
        Some(0)
    );
    // Pseudonymised with one key: the same changes, in tokens.
    let pseudo = ["--pseudonymize", key.to_str().unwrap()];
    let (pmon, ptue) = (
        report(&monday, "pmon.json", &pseudo),
        report(&tuesday, "ptue.json", &pseudo),
    );
    let output = diff(&pmon, &ptue, &["--format", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    for list in ["new_findings", "gone_findings", "new_devices"] {
        assert_eq!(json[list].as_array().unwrap().len(), 1, "{list}");
    }
    // The sample without and with the example site policy: two status changes; that only
    // becomes less strict (unapproved to tolerated and approved), so --fail-on unapproved
    // stays 0 that way round and is 1 the other way.
    let plain = report(&sample_path(), "plain.json", &[]);
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shadowai.yaml");
    let policed = report(
        &sample_path(),
        "policed.json",
        &["--config", config.to_str().unwrap()],
    );
    let output = diff(
        &plain,
        &policed,
        &["--format", "json", "--fail-on", "unapproved"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let changes: Vec<(String, String)> = json["status_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["service_id"].as_str().unwrap().to_string(),
                c["new_status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("perplexity".to_string(), "tolerated".to_string()),
            ("openai-api".to_string(), "approved".to_string())
        ]
    );
    assert_eq!(
        diff(&policed, &plain, &["--fail-on", "unapproved"])
            .status
            .code(),
        Some(1)
    );
    // A devices report is not what diff reads: said, exit 2.
    let devices = dir.path().join("devices.json");
    shadowai()
        .args(["devices", "--format", "json", "-o"])
        .arg(&devices)
        .arg(&monday)
        .assert()
        .success();
    let refused = diff(&devices, &tue, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr_text(&refused).contains("no \"findings\" list"),
        "{}",
        stderr_text(&refused)
    );
}

/// `render` of a saved JSON report gives, in every format, what `audit` gave in it, byte for
/// byte: with the site policy, and pseudonymised.
#[test]
fn render_of_a_saved_report_is_what_audit_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shadowai.yaml");
    let key = dir.path().join("key");
    let cases: [&[&str]; 2] = [
        &["--config", config.to_str().unwrap()],
        &["--pseudonymize", key.to_str().unwrap()],
    ];
    for extra in cases {
        let audit = |format: &str| {
            let output = shadowai()
                .arg("audit")
                .arg(sample_path())
                .args(["--format", format])
                .args(extra)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
            output.stdout
        };
        let saved = write_file(dir.path(), "saved.json", &audit("json"));
        for format in ["json", "table", "csv", "html"] {
            let output = shadowai()
                .arg("render")
                .arg(&saved)
                .args(["--format", format])
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
            assert!(output.stdout == audit(format), "{format} with {extra:?}");
        }
    }
    // A devices report is no report to render: said, exit 2.
    let devices = dir.path().join("devices.json");
    shadowai()
        .args(["devices", "--format", "json", "-o"])
        .arg(&devices)
        .arg(sample_path())
        .assert()
        .success();
    let refused = shadowai().arg("render").arg(&devices).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr_text(&refused).contains("devices.json"));
}

/// A name a device announces is text on the page, never markup.
#[test]
fn html_report_shows_announced_names_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<img src=x onerror=alert(1)>&\u{1b}[2J";
    let mut packets = vec![dhcp_request(30, hostile, T0)];
    packets.extend(
        tls_session(
            "chatgpt.com",
            client(30, 50_000),
            server(PLAIN_SERVER, 443),
            T0 + SECOND,
        )
        .build()
        .unwrap()
        .packets,
    );
    let path = write_pcap(dir.path(), "hostile-name.pcap", packets);
    let output = shadowai()
        .args(["audit", "--format", "html"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let page = stdout_text(&output);
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains('\u{1b}'));
    let shown = "&lt;img src=x onerror=alert(1)&gt;&amp;\\x1b[2J";
    assert!(page.contains(&format!("<b>{shown}</b>")), "{page}");
    assert!(page.contains("<td>ChatGPT</td>"));
}

/// Three devices ask for an address at once, each from 0.0.0.0:68 to 255.255.255.255:67 (the
/// same addresses and ports): each is a device of its own, with its own name and its own
/// request's bytes, not the first one's.
#[test]
fn devices_asking_for_an_address_at_once_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let packets: Vec<Packet> = [21u8, 22, 23]
        .into_iter()
        .enumerate()
        .map(|(i, host)| dhcp_request(host, &format!("desk-{host}"), T0 + i as u64 * SECOND))
        .collect();
    let bytes: Vec<u64> = packets.iter().map(|p| p.data.len() as u64 - 14).collect();
    let path = write_pcap(dir.path(), "dhcp-at-once.pcap", packets);
    let output = shadowai()
        .args(["devices", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let devices = json["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3, "{devices:?}");
    for ((device, host), sent) in devices.iter().zip([21u8, 22, 23]).zip(bytes) {
        assert_eq!(device["mac"], mac_text(host));
        assert_eq!(device["hostname"], format!("desk-{host}"));
        assert_eq!(device["bytes_up"], sent);
        assert_eq!(device["packets_up"], 1);
        assert_eq!(device["flows"], 1);
        assert_eq!(device["ips"], serde_json::json!([]));
    }
}

/// TCP Fast Open: the ClientHello rides in the SYN, whose data starts at ISN + 1.
#[test]
fn client_hello_in_the_syn_itself() {
    let dir = tempfile::tempdir().unwrap();
    let hello = build_client_hello(Some("claude.ai"), &["h2"], false, 0);
    let (from, to) = (client(10, 50_000), server(PLAIN_SERVER, 443));
    let syn = one_segment(&from, &to, TcpFlags::SYN, 1_000, &hello, T0);
    let path = write_pcap(dir.path(), "tfo.pcap", [syn]);
    let sni: Vec<String> = values(&inspect_rows(&path), "tls_sni");
    assert_eq!(sni, ["claude.ai"]);
}

/// Flows folded early because the table is full still count, in flows, bytes and findings.
#[test]
fn flows_over_the_cap_are_folded_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let hello = build_client_hello(Some("chatgpt.com"), &["h2"], false, 0);
    let mut packets = Vec::new();
    for i in 0..500u32 {
        let from = client(10, 20_000 + i as u16);
        let to = server(Ipv4Addr::from(0x0b00_0000 + i), 443);
        let payload: &[u8] = if i % 50 == 0 {
            &hello
        } else {
            b"\x17\x03\x03\x00\x01\x00"
        };
        let at = T0 + u64::from(i) * 1_000_000;
        packets.push(one_segment(&from, &to, TcpFlags::PSH_ACK, 1, payload, at));
    }
    let path = write_pcap(dir.path(), "many.pcap", packets);
    let capped = audit_json(&[&path], &["--max-flows", "16"]);
    let roomy = audit_json(&[&path], &[]);
    assert!(capped["stats"]["flows_evicted_by_cap"].as_u64().unwrap() > 400);
    assert_eq!(roomy["stats"]["flows_evicted_by_cap"], 0);
    assert_eq!(capped["stats"]["flows"], 500);
    assert_eq!(capped["findings"], roomy["findings"]);
    assert_eq!(capped["devices"], roomy["devices"]);
    assert_eq!(findings(&capped)[0]["flows"], 10);
}
