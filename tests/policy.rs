//! Site policy through the real binary: statuses, inventory names, ignores, `--fail-on` exit
//! codes and configuration errors, on the bundled (generated) sample capture.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/office-lan.pcapng")
}

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shadowai.yaml")
}

fn audit(extra: &[&str]) -> (Option<i32>, Value, String) {
    let output = Command::cargo_bin("shadowai")
        .unwrap()
        .arg("audit")
        .arg(sample())
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), json, stderr)
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("site.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn example_policy_sets_status_names_and_order() {
    let config = example_config();
    let (code, report, _) = audit(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let findings = report["findings"].as_array().unwrap();
    let row = |service: &str| {
        findings
            .iter()
            .find(|f| f["service_id"] == service)
            .unwrap_or_else(|| panic!("no {service} finding"))
    };
    assert_eq!(row("openai-api")["status"], "approved");
    assert_eq!(row("openai-api")["device_name"], "Accounts laptop");
    assert_eq!(row("openai-api")["owner"], "Sam (accounts)");
    assert_eq!(row("openai-api")["group"], "finance");
    assert_eq!(row("perplexity")["status"], "tolerated");
    assert_eq!(row("perplexity")["device_name"], "Anna's phone");
    assert_eq!(row("openai-chatgpt")["status"], "unapproved");
    // Grouped: every unapproved finding before every tolerated one, approved last.
    let statuses: Vec<&str> = findings
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "unapproved",
            "unapproved",
            "unapproved",
            "unapproved",
            "unapproved",
            "tolerated",
            "approved"
        ]
    );
    // The router is in ignore.devices.
    let devices = report["devices"].as_array().unwrap();
    assert!(devices.iter().all(|d| d["mac"] != "00:11:32:aa:bb:01"));
}

#[test]
fn fail_on_sets_exit_code_one() {
    let config = example_config();
    let config = config.to_str().unwrap();
    let (code, report, _) = audit(&["--config", config, "--fail-on", "unapproved"]);
    assert_eq!(code, Some(1));
    // The report is still written in full.
    assert_eq!(report["findings"].as_array().unwrap().len(), 7);

    let dir = tempfile::tempdir().unwrap();
    let all_ok = write_config(dir.path(), "policy:\n  default: approved\n");
    let all_ok = all_ok.to_str().unwrap();
    let (code, _, _) = audit(&["--config", all_ok, "--fail-on", "unapproved"]);
    assert_eq!(code, Some(0));
    let (code, _, _) = audit(&["--config", all_ok, "--fail-on", "any"]);
    assert_eq!(code, Some(1));
    let (code, _, _) = audit(&["--config", all_ok]);
    assert_eq!(code, Some(0));
}

#[test]
fn ignored_hosts_and_devices_disappear() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "ignore:\n  hosts: [\"*.perplexity.ai\"]\n  devices: [\"3c:22:fb:11:22:01\", \"192.168.1.23\"]\n",
    );
    let (code, report, _) = audit(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let services: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["service_id"].as_str().unwrap())
        .collect();
    // Left: the accounts laptop's two findings and the sales laptop's Gemini. Gone: Perplexity
    // (ignored host), the reception PC (by MAC) and the design Mac (by its address).
    assert_eq!(
        services,
        ["openai-api", "google-gemini", "anthropic-claude"]
    );
}

#[test]
fn bad_config_is_an_error_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "policy:\n  default: approved\n  sevices: {}\n");
    let (code, report, stderr) = audit(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert_eq!(report, Value::Null, "no report on a config error");
    assert!(stderr.contains("site.yaml:3:"), "{stderr}");

    let unknown = write_config(dir.path(), "policy:\n  services: {chatgpt: approved}\n");
    let (code, _, stderr) = audit(&["--config", unknown.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown service id `chatgpt`"), "{stderr}");

    let missing = dir.path().join("nope.yaml");
    let (code, _, stderr) = audit(&["--config", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("nope.yaml"), "{stderr}");
}

#[test]
fn pseudonymized_report_hides_devices_and_reveal_maps_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("site.key");
    let key = key.to_str().unwrap();
    let config = example_config();
    let config = config.to_str().unwrap();
    let (code, report, _) = audit(&["--pseudonymize", key, "--config", config]);
    assert_eq!(code, Some(0));
    let text = report.to_string();
    for secret in [
        "3c:22:fb:11:22:02",
        "192.168.1.22",
        "accounts-laptop",
        "Accounts laptop",
        "Sam (accounts)",
        "Annas-iPhone",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    // AI services and their hostnames stay readable.
    assert!(text.contains("api.openai.com") && text.contains("openai-api"));
    let first = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["service_id"] == "openai-api")
        .unwrap();
    let mac = first["device_mac"].as_str().unwrap();
    let name = first["device_hostname"].as_str().unwrap();
    assert!(mac.starts_with("mac-") && name.starts_with("name-"));
    // Same key, same tokens.
    let (_, again, _) = audit(&["--pseudonymize", key, "--config", config]);
    assert_eq!(again, report);

    let out = Command::cargo_bin("shadowai")
        .unwrap()
        .args([
            "reveal",
            key,
            mac,
            name,
            "mac-0000000000000000",
            "--capture",
        ])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("{mac}\t3c:22:fb:11:22:02")),
        "{text}"
    );
    assert!(text.contains(&format!("{name}\taccounts-laptop")), "{text}");
    assert!(text.contains("mac-0000000000000000\t(not seen"), "{text}");
}
