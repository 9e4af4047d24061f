//! Real clients' traffic, not our own packet writer: `tests/fixtures/real-clients.pcap` was
//! captured by `tests/real-clients.sh` while curl, OpenAI's and Anthropic's Python SDKs, Node's
//! fetch, Chromium and Firefox (TLS by OpenSSL, BoringSSL and NSS; QUIC by Chromium's stack and
//! Firefox's neqo; the browsers' ClientHellos over two packets) reached stand-ins for eight AI
//! services, each at its own address (one over IPv6), found by DNS. `real-clients.tsv` beside it is tshark's
//! reading of the same capture: per service, the flows the client opened and the bytes (IP
//! lengths) each way. The audit must give exactly those, under the client's MAC, with the
//! evidence named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The truth file: the DNS message count, and a row of expected fields per host.
fn truth() -> (u64, BTreeMap<String, BTreeMap<String, String>>) {
    let text = std::fs::read_to_string(fixture("real-clients.tsv")).unwrap();
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
    assert_eq!(rows.len(), 8, "eight services in the truth file");
    (dns.expect("a dns_messages line"), rows)
}

fn audit(threads: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_shadowai"))
        .arg("audit")
        .arg(fixture("real-clients.pcap"))
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
    let (dns, truth) = truth();
    for threads in ["1", "2"] {
        let report = audit(threads);
        let mut found = BTreeMap::new();
        for finding in report["findings"].as_array().unwrap() {
            for host in finding["hosts"].as_array().unwrap() {
                found.insert(host.as_str().unwrap().to_string(), finding);
            }
        }
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            truth.keys().collect::<Vec<_>>(),
            "the hosts of the findings, {threads} thread(s)"
        );
        for (host, row) in &truth {
            for (key, expected) in row {
                assert_eq!(
                    &field(found[host], key),
                    expected,
                    "{host}: {key}, {threads} thread(s)"
                );
            }
        }
        assert_eq!(report["stats"]["dns_messages"], dns);
        assert_eq!(report["stats"]["malformed"], serde_json::json!({}));
    }
}
