//! Real clients' traffic, not our own packet writer: `tests/fixtures/real-clients-*.pcap` were
//! captured by `tests/real-clients.sh` while curl, OpenAI's and Anthropic's Python SDKs, Node's
//! fetch, Chromium and Firefox (TLS by OpenSSL, BoringSSL and NSS; QUIC by Chromium's stack and
//! Firefox's neqo; the browsers' ClientHellos over two packets) reached stand-ins for fourteen
//! AI services: ten each at its own address (one over IPv6; two offering Encrypted Client
//! Hello, which Chromium used over TLS and over QUIC), found by DNS, two through an HTTP proxy
//! and two through a SOCKS5 one. The client named itself in DHCP (isc-dhcp-client). Two views of it: the wire's
//! (packets of at most 1500 bytes, as a mirror port sees them) and the sender's (the kernel's
//! segmentation offloads on: TCP segments, and Firefox's QUIC datagrams, several as one). The
//! `.tsv` beside each is tshark's reading of that capture: per service, the flows the client
//! opened and the bytes (IP lengths) each way (through a proxy: the connections whose CONNECT
//! request names the service), and the DNS messages. The audit must give
//! exactly those, under the client's MAC and DHCP name, with the TLS or QUIC name as evidence (the DNS
//! answer for the connections whose real name ECH hid; in the
//! sender's view tshark reads no QUIC name from Firefox's batched datagrams; we do).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const VIEWS: [&str; 2] = ["wire", "sender"];

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A view's truth file: the DNS message count, and a row of expected fields per host.
fn truth(view: &str) -> (u64, BTreeMap<String, BTreeMap<String, String>>) {
    let text = std::fs::read_to_string(fixture(&format!("real-clients-{view}.tsv"))).unwrap();
    let mut dns = None;
    let mut columns: Vec<String> = Vec::new();
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if let Some(count) = line.strip_prefix("# dns_messages\t") {
            dns = Some(count.parse().unwrap());
        } else if line.starts_with('#') {
            continue;
        } else if columns.is_empty() {
            columns = fields[1..].iter().map(|c| c.to_string()).collect();
        } else {
            let row = columns
                .iter()
                .cloned()
                .zip(fields[1..].iter().map(|v| v.to_string()))
                .collect();
            rows.insert(fields[0].to_string(), row);
        }
    }
    assert_eq!(rows.len(), 14, "fourteen services in the truth file");
    (dns.expect("a dns_messages line"), rows)
}

fn audit(view: &str, threads: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_shadowai"))
        .arg("audit")
        .arg(fixture(&format!("real-clients-{view}.pcap")))
        .args(["--format", "json", "--threads", threads])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A finding's field as the truth file writes it.
fn field(finding: &Value, key: &str) -> String {
    match &finding[key] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

#[test]
fn every_real_client_is_found_with_tsharks_flows_and_bytes() {
    for (view, threads) in VIEWS.into_iter().flat_map(|v| [(v, "1"), (v, "2")]) {
        let (dns, truth) = truth(view);
        let report = audit(view, threads);
        let mut found = BTreeMap::new();
        for finding in report["findings"].as_array().unwrap() {
            for host in finding["hosts"].as_array().unwrap() {
                found.insert(host.as_str().unwrap().to_string(), finding);
            }
        }
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            truth.keys().collect::<Vec<_>>(),
            "the hosts of the findings, {view}, {threads} thread(s)"
        );
        for (host, row) in &truth {
            for (key, expected) in row {
                assert_eq!(
                    &field(found[host], key),
                    expected,
                    "{host}: {key}, {view}, {threads} thread(s)"
                );
            }
        }
        assert_eq!(report["stats"]["dns_messages"], dns, "{view}");
        assert_eq!(
            report["stats"]["malformed"],
            serde_json::json!({}),
            "{view}"
        );
    }
}
