//! `shadowai rules list|check|test` through the real binary.

#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use serde_json::Value;

fn shadowai(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("shadowai")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_json_and_kind_filter() {
    let (code, out, _) = shadowai(&["rules", "list", "--format", "json"]);
    assert_eq!(code, Some(0));
    let all: Value = serde_json::from_str(&out).unwrap();
    let all = all.as_array().unwrap();
    assert!(all.len() >= 150, "{} services", all.len());
    let ids: Vec<&str> = all.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for id in [
        "openai-chatgpt",
        "openai-api",
        "anthropic-claude",
        "google-gemini",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    let (code, out, _) = shadowai(&["rules", "list", "--kind", "extension", "--format", "json"]);
    assert_eq!(code, Some(0));
    let extensions: Value = serde_json::from_str(&out).unwrap();
    let extensions = extensions.as_array().unwrap();
    assert!(extensions.len() >= 20, "{} extensions", extensions.len());
    assert!(extensions.iter().all(|s| s["kind"] == "extension"));
    let (code, _, err) = shadowai(&["rules", "list", "--kind", "nonsense"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("nonsense"), "{err}");
}

#[test]
fn test_explains_matches_and_misses() {
    let (code, out, _) = shadowai(&["rules", "test", "API.OpenAI.com."]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("openai-api") && out.contains("rules/openai.yaml:"),
        "{out}"
    );
    for look_alike in [
        "notopenai.com",
        "openai.com.example.net",
        "chatgpt.com.evil.test",
    ] {
        let (_, out, _) = shadowai(&["rules", "test", look_alike]);
        assert!(out.contains("no pattern matches"), "{look_alike}: {out}");
    }
    let (_, out, _) = shadowai(&["rules", "test", "storage.googleapis.com"]);
    assert!(out.contains("shared-infrastructure"), "{out}");
    let (_, out, _) = shadowai(&["rules", "test", "160.79.104.10"]);
    assert!(
        out.contains("anthropic-api") && out.contains("160.79.104.0/23"),
        "{out}"
    );
    let (_, out, _) = shadowai(&["rules", "test", "10.1.2.3"]);
    assert!(out.contains("no range matches"), "{out}");
}

#[test]
fn check_builtin_and_a_folder() {
    let (code, out, _) = shadowai(&["rules", "check"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("built-in rules: ok:"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.yaml"),
        "services:\n  - id: acme-ai\n    name: Acme AI\n    vendor: Acme\n    kind: chat\n    data:\n      trains_on_consumer_input: unknown\n      business_tier_without_training: unknown\n    hosts:\n      - pattern: chat.acme-ai.test\n        source: https://acme-ai.test/docs\n        confidence: vendor-doc\n",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, out, err) = shadowai(&["rules", "check", path]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ok") && out.contains("1 service"), "{out}");

    std::fs::write(
        dir.path().join("broken.yaml"),
        "services:\n  - id: b\n    name: B\n    vendor: B\n    kind: chat\n    hots: []\n",
    )
    .unwrap();
    let (code, _, err) = shadowai(&["rules", "check", path]);
    assert_eq!(code, Some(2));
    assert!(err.contains("broken.yaml:6:"), "{err}");
}
