//! Tests of loading and matching: the embedded catalogue as shipped, hand-written rule files
//! and extra rule folders. Load errors are tested in `validate`, explanations and checks in
//! `explain`.

use super::*;
use crate::classify::matcher::Pattern;
use std::collections::HashSet;

fn embedded() -> Catalogue {
    Catalogue::embedded().unwrap_or_else(|e| panic!("embedded rules do not load: {e}"))
}

fn matched_id(catalogue: &Catalogue, host: &str) -> Option<String> {
    catalogue.match_host(host).map(|m| m.service.id.clone())
}

/// A name a pattern matches: the wildcard's own name, `+` labels filled in.
fn example_name(pattern: &str) -> String {
    pattern
        .trim_start_matches("*.")
        .split('.')
        .map(|label| if label == "+" { "example-1" } else { label })
        .collect::<Vec<_>>()
        .join(".")
}

fn one(text: &str) -> Result<Catalogue, RuleError> {
    Catalogue::from_sources(&[("test.yaml".to_owned(), text.to_owned())])
}

const MINIMAL: &str = "\
services:
  - id: example-chat
    name: Example Chat
    vendor: Example
    kind: chat
    data:
      trains_on_consumer_input: unknown
      business_tier_without_training: unknown
    hosts:
      - pattern: chat.example.com
        source: https://example.com/docs
        confidence: vendor-doc
";

#[test]
fn compiled_embedded_files_give_the_catalogue_their_yaml_gives() {
    for (name, source) in Source::embedded() {
        let json = source
            .compiled
            .unwrap_or_else(|| panic!("{name} has no compiled form (see the build warning)"));
        let compiled: Compiled = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{name}: compiled form does not load: {e}"));
        assert!(
            compiled.placed().is_some(),
            "{name}: positions do not add up"
        );
    }
    let yaml = Catalogue::embedded_from_yaml().unwrap_or_else(|e| panic!("{e}"));
    // Lines included: they are part of every rule (and of what `rules test` prints).
    assert!(yaml
        .services
        .iter()
        .all(|s| s.hosts.iter().all(|h| h.line.is_some())
            && s.cidrs.iter().all(|c| c.line.is_some())));
    // The indexes are built from the services, in order, by the same code.
    assert_eq!(embedded().services, yaml.services);
}

#[test]
fn a_compiled_form_that_does_not_fit_falls_back_to_the_yaml() {
    let misplaced = r#"{"places": [[1, 1]], "file": {"services": []}}"#;
    let wrong_shape = r#"{"places": [], "file": {"services": [{"id": 1}]}}"#;
    for compiled in [misplaced, wrong_shape, "not json"] {
        let source = Source {
            display: "test.yaml".to_owned(),
            yaml: Cow::Borrowed(MINIMAL),
            compiled: Some(compiled),
        };
        let file = source.parse(true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.services.len(), 1, "{compiled}");
    }
    let broken = Source {
        display: "test.yaml".to_owned(),
        yaml: Cow::Borrowed("services: [\n"),
        compiled: Some(misplaced),
    };
    let error = broken
        .parse(true)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.starts_with("test.yaml:"), "{error}");
}

#[test]
fn every_embedded_file_loads_and_contributes() {
    let catalogue = embedded();
    assert!(!embedded_files().is_empty());
    for (name, _) in embedded_files() {
        let display = embedded_display_name(name);
        assert!(
            catalogue.services.iter().any(|s| s.file == display),
            "{name} contributes no service"
        );
    }
    assert!(
        catalogue.services.len() >= 150,
        "only {} services",
        catalogue.services.len()
    );
    let extensions = catalogue
        .services
        .iter()
        .filter(|s| s.kind == Kind::Extension)
        .count();
    assert!(extensions >= 20, "only {extensions} browser extensions");
    let names: Vec<&str> = embedded_files().iter().map(|(name, _)| *name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "build.rs must embed files in sorted order");
    for required in [
        "openai.yaml",
        "anthropic.yaml",
        "google.yaml",
        "microsoft.yaml",
    ] {
        assert!(names.contains(&required), "{required} missing");
    }
}

#[test]
fn embedded_ids_are_unique_and_every_rule_has_a_source() {
    let catalogue = embedded();
    let mut ids = HashSet::new();
    let mut patterns = HashSet::new();
    for service in &catalogue.services {
        assert!(
            ids.insert(service.id.as_str()),
            "duplicate id {}",
            service.id
        );
        assert!(!service.hosts.is_empty() || !service.cidrs.is_empty());
        for host in &service.hosts {
            assert!(
                !host.source.trim().is_empty(),
                "{}: no source",
                host.pattern
            );
            assert!(host.line.is_some());
            assert!(patterns.insert(host.pattern.as_str()), "{}", host.pattern);
            let parsed = Pattern::parse(&host.pattern).unwrap();
            assert_eq!(parsed.to_string(), host.pattern, "stored in canonical form");
            assert!(
                !SHARED_INFRASTRUCTURE.contains(&parsed.fixed_start()),
                "{} is shared infrastructure",
                host.pattern
            );
        }
        for range in &service.cidrs {
            assert!(!range.source.trim().is_empty());
        }
        let facts = &service.data;
        if facts.trains_on_consumer_input != TrainsOnInput::Unknown
            || facts.business_tier_without_training != Answer::Unknown
        {
            assert!(
                facts.source.is_some(),
                "{}: facts without source",
                service.id
            );
        }
    }
    assert_eq!(catalogue.host_pattern_count(), patterns.len());
}

#[test]
fn every_embedded_pattern_matches_its_own_name_and_no_look_alike() {
    let catalogue = embedded();
    for service in &catalogue.services {
        for host in &service.hosts {
            let name = example_name(&host.pattern);
            let name = name.as_str();
            let hit = catalogue
                .match_host(name)
                .unwrap_or_else(|| panic!("{name} does not match"));
            // The bare name belongs to this pattern unless an exact rule elsewhere is more
            // specific for it.
            if hit.service.id != service.id {
                assert!(
                    host.pattern.starts_with("*.") && !hit.pattern.starts_with("*."),
                    "{name}: {} instead of {}",
                    hit.service.id,
                    service.id
                );
            }
            // Changing the end of the name must leave the catalogue entirely.
            for look_alike in [
                format!("{name}.example.net"),
                format!("{name}-evil.test"),
                format!("{name}x"),
            ] {
                assert_eq!(
                    matched_id(&catalogue, &look_alike),
                    None,
                    "{look_alike} matched"
                );
            }
            // An extra label in front is a different name for exact and templated
            // patterns (a wildcard on a parent may still claim it).
            if !host.pattern.starts_with("*.") {
                let deeper = format!("x.{name}");
                if let Some(other) = catalogue.match_host(&deeper) {
                    assert_ne!(other.pattern, host.pattern, "{deeper}");
                }
            }
            // Gluing text to the front must not match this pattern; a wildcard on a
            // parent (`*.qwen.ai` for `notchat.qwen.ai`) legitimately may.
            let glued = format!("not{name}");
            if let Some(other) = catalogue.match_host(&glued) {
                assert_ne!(other.pattern, host.pattern, "{glued}");
                let suffix = other.pattern.trim_start_matches("*.");
                assert!(
                    other.pattern.starts_with("*.") && glued.ends_with(&format!(".{suffix}")),
                    "{glued} matched {}",
                    other.pattern
                );
            }
        }
    }
}

#[test]
fn consumer_api_and_business_hosts_are_told_apart() {
    let catalogue = embedded();
    for (host, want) in [
        ("chatgpt.com", "openai-chatgpt"),
        ("ab.chatgpt.com", "openai-chatgpt"),
        ("chat.openai.com", "openai-chatgpt"),
        ("api.openai.com", "openai-api"),
        ("platform.openai.com", "openai-api"),
        ("sora.chatgpt.com", "openai-sora"),
        ("claude.ai", "anthropic-claude"),
        ("api.anthropic.com", "anthropic-api"),
        ("statsig.anthropic.com", "anthropic-claude-code"),
        ("gemini.google.com", "google-gemini"),
        ("generativelanguage.googleapis.com", "google-gemini-api"),
        (
            "alkali.generativelanguage.googleapis.com",
            "google-gemini-api",
        ),
        ("aiplatform.googleapis.com", "google-vertex-ai"),
        ("copilot.microsoft.com", "microsoft-copilot"),
        ("copilot.cloud.microsoft", "microsoft-365-copilot"),
        ("myres.openai.azure.com", "microsoft-azure-openai"),
        ("api.githubcopilot.com", "github-copilot"),
        (
            "api.individual.githubcopilot.com",
            "github-copilot-individual",
        ),
        ("api.business.githubcopilot.com", "github-copilot-business"),
        (
            "api.enterprise.githubcopilot.com",
            "github-copilot-enterprise",
        ),
        ("www.perplexity.ai", "perplexity"),
        ("api.perplexity.ai", "perplexity-api"),
        ("chat.deepseek.com", "deepseek-chat"),
        ("api.deepseek.com", "deepseek-api"),
        ("chat.mistral.ai", "mistral-le-chat"),
        ("api.mistral.ai", "mistral-api"),
        ("grok.com", "xai-grok"),
        ("api.x.ai", "xai-api"),
        ("www.meta.ai", "meta-ai"),
        ("poe.com", "poe"),
        ("character.ai", "character-ai"),
        ("huggingface.co", "huggingface-hub"),
        ("api2.cursor.sh", "cursor"),
        ("www.midjourney.com", "midjourney"),
        ("cdn.midjourney.com", "midjourney-media"),
        ("cdn1.suno.ai", "suno-media"),
        ("studio-api.prod.suno.com", "suno"),
        ("replicate.delivery", "replicate-media"),
        ("api.replicate.com", "replicate"),
        ("capi.grammarly.com", "grammarly"),
        ("api-free.deepl.com", "deepl-api-free"),
    ] {
        assert_eq!(
            matched_id(&catalogue, host).as_deref(),
            Some(want),
            "{host}"
        );
    }
}

#[test]
fn shared_infrastructure_never_matches() {
    let catalogue = embedded();
    for host in [
        "www.google.com",
        "google.com",
        "accounts.google.com",
        "mail.google.com",
        "docs.google.com",
        "www.gstatic.com",
        "fonts.googleapis.com",
        "storage.googleapis.com",
        "waa-pa.clients6.google.com",
        "geller-pa.googleapis.com",
        "proactivebackend-pa.googleapis.com",
        "github.com",
        "api.github.com",
        "raw.githubusercontent.com",
        "objects.githubusercontent.com",
        "default.exp-tas.com",
        "www.microsoft.com",
        "login.microsoftonline.com",
        "graph.microsoft.com",
        "outlook.office.com",
        "substrate.office.com",
        "m365.cloud.microsoft",
        "teams.cloud.microsoft",
        "www.bing.com",
        "edgeservices.bing.com",
        "login.live.com",
        "sentry.io",
        "o33249.ingest.sentry.io",
        "api.statsig.com",
        "events.statsigapi.net",
        "cdn.auth0.com",
        "challenges.cloudflare.com",
        "browser-intake-datadoghq.com",
        "host.livekit.cloud",
        "x.webpubsub.azure.com",
        "example.blob.core.windows.net",
        "s3.amazonaws.com",
        "sts.us-east-1.amazonaws.com",
        "apple-relay.cloudflare.com",
        "apple-relay.apple.com",
        "pplx-res.cloudinary.com",
        "openaicom.imgix.net",
        "x.com",
        "www.facebook.com",
        "duckduckgo.com",
        "sourcegraph.com",
        "myapp.windsurf.build",
        "myapp.replit.app",
        "myapp.vercel.app",
        "www.adobe.com",
        "www.notion.so",
        "zoom.us",
    ] {
        assert_eq!(matched_id(&catalogue, host), None, "{host} must not match");
    }
}

#[test]
fn case_and_trailing_dot() {
    let catalogue = embedded();
    assert_eq!(
        matched_id(&catalogue, "ChatGPT.COM.").as_deref(),
        Some("openai-chatgpt")
    );
    assert_eq!(
        matched_id(&catalogue, "API.OpenAI.com").as_deref(),
        Some("openai-api")
    );
    assert_eq!(
        matched_id(&catalogue, "Gemini.Google.Com.").as_deref(),
        Some("google-gemini")
    );
    assert_eq!(matched_id(&catalogue, "chatgpt.com.evil.test"), None);
    assert_eq!(matched_id(&catalogue, "notopenai.com"), None);
    assert_eq!(matched_id(&catalogue, "openai.com.example.net"), None);
}

#[test]
fn most_specific_pattern_wins_in_a_catalogue() {
    let text = "\
services:
  - id: portal
    name: Portal
    vendor: Googlish
    kind: search
    data: {trains_on_consumer_input: unknown, business_tier_without_training: unknown}
    hosts:
      - {pattern: '*.googlish.test', source: test, confidence: inferred}
  - id: assistant
    name: Assistant
    vendor: Googlish
    kind: chat
    data: {trains_on_consumer_input: opt-out, business_tier_without_training: yes, source: test}
    hosts:
      - {pattern: gemini.googlish.test, source: test, confidence: blocklist}
      - {pattern: '*.labs.googlish.test', source: test, confidence: blocklist}
";
    let catalogue = one(text).unwrap();
    let hit = catalogue.match_host("gemini.googlish.test").unwrap();
    assert_eq!(hit.service.id, "assistant");
    assert_eq!(hit.pattern, "gemini.googlish.test");
    assert_eq!(hit.service_index, 1);
    assert_eq!(hit.rule.confidence, Confidence::Blocklist);
    assert_eq!(
        catalogue
            .match_host("www.googlish.test")
            .unwrap()
            .service
            .id,
        "portal"
    );
    assert_eq!(
        catalogue
            .match_host("x.gemini.googlish.test")
            .unwrap()
            .pattern,
        "*.googlish.test"
    );
    assert_eq!(
        catalogue
            .match_host("a.labs.googlish.test")
            .unwrap()
            .service
            .id,
        "assistant"
    );
}

const WITH_CIDRS: &str = "\
services:
  - id: example-api
    name: Example API
    vendor: Example
    kind: api
    data: {trains_on_consumer_input: 'no', business_tier_without_training: 'yes', source: x}
    cidrs:
      - cidr: 160.79.104.0/23
        source: https://example.com/ip-ranges
      - cidr: 2607:6bc0::/48
        source: https://example.com/ip-ranges
  - id: example-wide
    name: Example wide
    vendor: Example
    kind: hub
    data: {trains_on_consumer_input: unknown, business_tier_without_training: unknown}
    cidrs:
      - {cidr: 160.79.104.0/21, source: x}
";

#[test]
fn cidr_matching_v4_and_v6() {
    let catalogue = one(WITH_CIDRS).unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let hit = catalogue.match_ip(ip("160.79.105.7")).unwrap();
    assert_eq!(
        (hit.service.id.as_str(), hit.cidr),
        ("example-api", "160.79.104.0/23")
    );
    assert_eq!(hit.service_index, 0);
    assert_eq!(
        catalogue.match_ip(ip("160.79.110.1")).unwrap().service.id,
        "example-wide"
    );
    assert_eq!(
        catalogue.match_ip(ip("2607:6bc0::42")).unwrap().cidr,
        "2607:6bc0::/48"
    );
    assert_eq!(
        catalogue
            .match_ip(ip("::ffff:160.79.104.1"))
            .unwrap()
            .service
            .id,
        "example-api"
    );
    assert!(catalogue.match_ip(ip("160.79.112.1")).is_none());
    assert!(catalogue.match_ip(ip("2607:6bc1::1")).is_none());
    assert!(catalogue.match_host("example.com").is_none());
}

#[test]
fn embedded_anthropic_ranges_match() {
    let catalogue = embedded();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(
        catalogue.match_ip(ip("160.79.104.1")).unwrap().service.id,
        "anthropic-api"
    );
    assert_eq!(
        catalogue.match_ip(ip("2607:6bc0::1")).unwrap().service.id,
        "anthropic-api"
    );
    assert!(catalogue.match_ip(ip("8.8.8.8")).is_none());
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("shadowai-rules-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_replaces_same_named_files_and_adds_others() {
    let dir = TempDir::new("load");
    let replacement = MINIMAL
        .replace("example-chat", "local-openai")
        .replace("chat.example.com", "api.openai.com");
    std::fs::write(dir.0.join("openai.yaml"), replacement).unwrap();
    std::fs::write(dir.0.join("local.yml"), MINIMAL).unwrap();
    std::fs::write(dir.0.join("notes.txt"), "not yaml: [").unwrap();
    let catalogue = Catalogue::load(std::slice::from_ref(&dir.0)).unwrap();
    assert!(catalogue.service("openai-chatgpt").is_none());
    assert_eq!(
        matched_id(&catalogue, "api.openai.com").as_deref(),
        Some("local-openai")
    );
    assert_eq!(matched_id(&catalogue, "chatgpt.com"), None);
    assert_eq!(
        matched_id(&catalogue, "chat.example.com").as_deref(),
        Some("example-chat")
    );
    assert!(catalogue.service("anthropic-claude").is_some());
    let local = catalogue.service("example-chat").unwrap();
    assert!(local.file.ends_with("local.yml"), "{}", local.file);
}

#[test]
fn load_reports_broken_and_missing_files() {
    let dir = TempDir::new("broken");
    std::fs::write(dir.0.join("zz.yaml"), "services:\n  - id: [\n").unwrap();
    let e = Catalogue::load(std::slice::from_ref(&dir.0)).unwrap_err();
    assert!(e.file.ends_with("zz.yaml"), "{e}");
    assert!(e.line.is_some());

    let missing = dir.0.join("does-not-exist");
    let e = Catalogue::load(&[missing]).unwrap_err();
    assert!(e.message.contains("cannot read rules directory"), "{e}");
}

#[test]
fn templated_hosts_match_real_names_only() {
    let catalogue = embedded();
    for (host, want, pattern) in [
        (
            "bedrock-runtime.us-east-1.amazonaws.com",
            "aws-bedrock",
            "bedrock-runtime.+.amazonaws.com",
        ),
        (
            "bedrock-runtime.eu-central-1.amazonaws.com",
            "aws-bedrock",
            "bedrock-runtime.+.amazonaws.com",
        ),
        (
            "bedrock.ap-southeast-2.amazonaws.com",
            "aws-bedrock",
            "bedrock.+.amazonaws.com",
        ),
        (
            "bedrock-fips.us-gov-west-1.amazonaws.com",
            "aws-bedrock",
            "bedrock-fips.+.amazonaws.com",
        ),
        (
            "Bedrock-Agent-Runtime.EU-WEST-3.amazonaws.com.",
            "aws-bedrock",
            "bedrock-agent-runtime.+.amazonaws.com",
        ),
        (
            "q.us-west-2.amazonaws.com",
            "amazon-q-developer",
            "q.+.amazonaws.com",
        ),
        (
            "q.us-east-1.amazonaws.com",
            "amazon-q-developer",
            "q.us-east-1.amazonaws.com",
        ),
        (
            "copilot-api.acme.ghe.com",
            "github-copilot-ghe",
            "copilot-api.+.ghe.com",
        ),
        (
            "copilot-proxy.acme-eu.ghe.com",
            "github-copilot-ghe",
            "copilot-proxy.+.ghe.com",
        ),
        (
            "aws-external-anthropic.us-east-1.api.aws",
            "anthropic-api",
            "aws-external-anthropic.+.api.aws",
        ),
        (
            "us-central1-aiplatform.googleapis.com",
            "google-vertex-ai",
            "us-central1-aiplatform.googleapis.com",
        ),
        (
            "europe-west4-aiplatform.googleapis.com",
            "google-vertex-ai",
            "europe-west4-aiplatform.googleapis.com",
        ),
        (
            "aiplatform.googleapis.com",
            "google-vertex-ai",
            "aiplatform.googleapis.com",
        ),
        (
            "myres.openai.azure.com",
            "microsoft-azure-openai",
            "*.openai.azure.com",
        ),
    ] {
        let hit = catalogue
            .match_host(host)
            .unwrap_or_else(|| panic!("{host} does not match"));
        assert_eq!(
            (hit.service.id.as_str(), hit.pattern),
            (want, pattern),
            "{host}"
        );
    }
    for host in [
        // Look-alikes of the templates.
        "bedrock-runtime.us-east-1.amazonaws.com.evil.test",
        "x.bedrock-runtime.us-east-1.amazonaws.com",
        "bedrock-runtime.amazonaws.com",
        "bedrock-runtime.us-east-1.a.amazonaws.com",
        "notbedrock-runtime.us-east-1.amazonaws.com",
        "bedrock-runtime.us-east-1.amazonaws.co",
        "q.amazonaws.com",
        "copilot-api.ghe.com",
        "x.copilot-api.acme.ghe.com",
        "aws-external-anthropic.api.aws",
        "x.us-central1-aiplatform.googleapis.com",
        "us-central1-aiplatform.googleapis.com.evil.test",
        // The rest of AWS, Google APIs and GitHub Enterprise stays unmatched.
        "amazonaws.com",
        "s3.us-east-1.amazonaws.com",
        "ec2.eu-central-1.amazonaws.com",
        "sts.amazonaws.com",
        "runtime.sagemaker.us-east-1.amazonaws.com",
        "acme.ghe.com",
        "api.acme.ghe.com",
        "ghe.com",
        "storage.googleapis.com",
        "us-central1-run.googleapis.com",
        "europe-west99-aiplatform.googleapis.com",
        "myapp.webpubsub.azure.com",
        "runtime.us-east-1.api.aws",
    ] {
        assert_eq!(matched_id(&catalogue, host), None, "{host} must not match");
    }
}

#[test]
fn look_alikes_never_match() {
    let catalogue = embedded();
    for host in [
        "notopenai.com",
        "openai.com.example.net",
        "chatgpt.com.evil.test",
        "chatgpt.co",
        "claude.ai.evil.test",
        "notclaude.ai",
        "gemini.google.com.evil.test",
        "api.openai.com-evil.test",
        "githubcopilot.com.evil.test",
        "extensions.aitopia.ai.evil.test",
        "chathub.gg.example.net",
    ] {
        assert_eq!(matched_id(&catalogue, host), None, "{host} must not match");
    }
}

mod explain;
mod validate;
