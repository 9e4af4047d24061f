//! QUIC through the real binary, on captures written by the project's own Initial writer
//! (real Initial keys, ClientHellos split over several Initials, CRYPTO frames shuffled):
//! versions, ports, Retry, datagram order, a flow joined late, and hostile datagrams.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use shadowai::proto::quic::build::build_client_initials;
use shadowai::proto::quic::Version;
use shadowai::proto::tls::build::build_client_hello;
use shadowai::synth::frame::{udp_frame, Endpoint, IpIdent, L2Options};
use shadowai::synth::pcap::{pcap_bytes, PcapFormat};

const T0: u64 = 1_795_510_500_000_000_000;

fn client(port: u16) -> Endpoint {
    Endpoint::new(
        [0x02, 0, 0, 0, 0, 0x10],
        IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)),
        port,
    )
}

fn server(port: u16) -> Endpoint {
    Endpoint::new(
        [0x02, 0, 0, 0, 0, 0x01],
        IpAddr::V4(Ipv4Addr::new(142, 250, 74, 110)),
        port,
    )
}

/// The bare TLS handshake message of a Chrome-like ClientHello (~1.8 KB).
fn hello(sni: &str) -> Vec<u8> {
    build_client_hello(Some(sni), &["h3"], true, 0)[5..].to_vec()
}

/// Frames of client datagrams (and optional server ones), 1 ms apart, as a pcap file in a
/// temporary folder that lives as long as the returned guard.
fn capture(
    datagrams: &[(bool, Vec<u8>)],
    client_port: u16,
    server_port: u16,
) -> (tempfile::TempDir, PathBuf) {
    let (c, s) = (client(client_port), server(server_port));
    let frames: Vec<(u64, Vec<u8>)> = datagrams
        .iter()
        .enumerate()
        .map(|(i, (from_client, payload))| {
            let (src, dst) = if *from_client { (&c, &s) } else { (&s, &c) };
            let frame =
                udp_frame(src, dst, L2Options::default(), IpIdent::default(), payload).unwrap();
            (T0 + i as u64 * 1_000_000, frame)
        })
        .collect();
    let bytes = pcap_bytes(
        PcapFormat::default(),
        frames.iter().map(|(ts, f)| (*ts, f.as_slice())),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quic.pcap");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn inspect(path: &PathBuf) -> Vec<Value> {
    let out = Command::cargo_bin("shadowai")
        .unwrap()
        .arg("inspect")
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn quic_snis(path: &PathBuf) -> Vec<String> {
    inspect(path)
        .iter()
        .filter(|r| r["kind"] == "quic_sni")
        .map(|r| r["value"].as_str().unwrap().to_string())
        .collect()
}

fn audit(path: &PathBuf) -> Value {
    let out = Command::cargo_bin("shadowai")
        .unwrap()
        .args(["audit", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn initials(
    version: Version,
    dcid: &[u8],
    sni: &str,
    size: usize,
    seed: Option<u64>,
) -> Vec<Vec<u8>> {
    let datagrams = build_client_initials(version, dcid, &[], &hello(sni), size, seed);
    assert!(!datagrams.is_empty(), "writer refused {version:?}");
    datagrams
}

#[test]
fn v1_hello_over_several_initials_shuffled_and_reordered() {
    let mut datagrams = initials(
        Version::V1,
        &[1, 2, 3, 4, 5, 6, 7, 8],
        "gemini.google.com",
        600,
        Some(7),
    );
    assert!(datagrams.len() >= 4, "{} datagrams", datagrams.len());
    datagrams.reverse();
    let (_dir, path) = capture(
        &datagrams.into_iter().map(|d| (true, d)).collect::<Vec<_>>(),
        51000,
        443,
    );
    assert_eq!(quic_snis(&path), ["gemini.google.com"]);
    let ech: Vec<_> = inspect(&path)
        .into_iter()
        .filter(|r| r["kind"] == "tls_ech")
        .collect();
    assert_eq!(ech.len(), 1);
    let report = audit(&path);
    let finding = &report["findings"][0];
    assert_eq!(finding["service_id"], "google-gemini");
    assert_eq!(finding["evidence"][0], "quic_sni");
}

#[test]
fn other_versions_and_ports() {
    for (version, port) in [
        (Version::V2, 443),
        (Version::Draft(29), 8443),
        (Version::Mvfst(0xfaceb002), 4433),
        (Version::Google(u32::from_be_bytes(*b"T051")), 443),
    ] {
        let datagrams = initials(version, &[9; 8], "chatgpt.com", 1250, Some(3));
        let (_dir, path) = capture(
            &datagrams.into_iter().map(|d| (true, d)).collect::<Vec<_>>(),
            52000,
            port,
        );
        assert_eq!(quic_snis(&path), ["chatgpt.com"], "{version:?} on {port}");
    }
}

#[test]
fn retry_starts_a_new_crypto_stream() {
    // First attempt: only the first of two Initials, under DCID A; the server answers with a
    // Retry (opaque here); the client starts over under DCID B with the whole hello.
    // A different (longer) name before the Retry: mixing the two streams would garble it.
    let first = initials(
        Version::V1,
        &[0xa; 8],
        "before-the-retry.example.org",
        1250,
        None,
    );
    let second = initials(Version::V1, &[0xb; 8], "claude.ai", 1250, None);
    assert!(first.len() >= 2);
    let retry = {
        let mut r = vec![0xf0, 0, 0, 0, 1, 0, 8];
        r.extend_from_slice(&[0xb; 8]);
        r.extend_from_slice(&[0x55; 40]);
        r
    };
    let mut datagrams = vec![(true, first[0].clone()), (false, retry)];
    datagrams.extend(second.into_iter().map(|d| (true, d)));
    let (_dir, path) = capture(&datagrams, 53000, 443);
    assert_eq!(quic_snis(&path), ["claude.ai"]);
}

#[test]
fn flow_joined_after_a_short_header_packet() {
    let mut datagrams = vec![(true, {
        let mut d = vec![0x41u8];
        d.extend_from_slice(&[0x33; 60]);
        d
    })];
    datagrams.extend(
        initials(Version::V1, &[3; 8], "www.perplexity.ai", 1250, None)
            .into_iter()
            .map(|d| (true, d)),
    );
    let (_dir, path) = capture(&datagrams, 54000, 443);
    assert_eq!(quic_snis(&path), ["www.perplexity.ai"]);
}

#[test]
fn forged_and_cut_initials_are_skipped() {
    let real = initials(Version::V1, &[4; 8], "chatgpt.com", 1250, None);
    let mut datagrams = Vec::new();
    // Truncated real Initials, bit-flipped ones and long headers with bogus versions.
    for (i, d) in real.iter().enumerate() {
        datagrams.push((true, d[..d.len() / 2].to_vec()));
        let mut flipped = d.clone();
        flipped[40 + i] ^= 0x5a;
        datagrams.push((true, flipped));
    }
    for v in 0..20u8 {
        let mut bogus = vec![0xc3, v, 0xee, 0, v, 8];
        bogus.extend_from_slice(&[v; 300]);
        datagrams.push((true, bogus));
    }
    let (_dir, path) = capture(&datagrams, 55000, 443);
    assert!(quic_snis(&path).is_empty());
    let report = audit(&path);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
}

/// Chrome over HTTP/3 to a site Cloudflare serves with Encrypted Client Hello: the Initial's
/// outer SNI is Cloudflare's cover name, which names nothing; the DNS answer the client had for
/// the server names the flow.
#[test]
fn an_ech_cover_name_in_the_initial_leaves_the_flow_to_its_dns_answer() {
    use shadowai::synth::dns::{chain_answers, DnsMessage, TYPE_A};
    let (c, s) = (client(53_000), server(443));
    let resolver = Endpoint::new(
        [0x02, 0, 0, 0, 0, 0x01],
        IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)),
        53,
    );
    let query = DnsMessage::query(7, "chatgpt.com", TYPE_A)
        .to_bytes()
        .unwrap();
    let server_ip = IpAddr::V4(Ipv4Addr::new(142, 250, 74, 110));
    let answer = DnsMessage::response(7, "chatgpt.com", TYPE_A)
        .answers(chain_answers("chatgpt.com", &[], 300, &[server_ip]))
        .to_bytes()
        .unwrap();
    let quic_client = client(50_000);
    let mut frames = vec![
        udp_frame(
            &c,
            &resolver,
            L2Options::default(),
            IpIdent::default(),
            &query,
        )
        .unwrap(),
        udp_frame(
            &resolver,
            &c,
            L2Options::default(),
            IpIdent::default(),
            &answer,
        )
        .unwrap(),
    ];
    for datagram in initials(Version::V1, &[7; 8], "cloudflare-ech.com", 1250, None) {
        let frame = udp_frame(
            &quic_client,
            &s,
            L2Options::default(),
            IpIdent::default(),
            &datagram,
        );
        frames.push(frame.unwrap());
    }
    let bytes = pcap_bytes(
        PcapFormat::default(),
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| (T0 + i as u64 * 1_000_000, f.as_slice())),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ech.pcap");
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(quic_snis(&path), ["cloudflare-ech.com"]);
    let report = audit(&path);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["service_id"], "openai-chatgpt");
    assert_eq!(findings[0]["evidence"], serde_json::json!(["dns_answer"]));
}
