//! Explanations of names and addresses, and checks of rule folders on their own.

use super::*;
use crate::classify::matcher::PatternForm;

#[test]
fn explain_host_gives_the_rule_or_the_reason() {
    let catalogue = embedded();
    let e = catalogue.explain_host("API.OpenAI.com.");
    assert_eq!(e.name, "api.openai.com");
    match &e.verdict {
        HostVerdict::Matched { hit, form } => {
            assert_eq!(hit.service.id, "openai-api");
            assert_eq!(*form, PatternForm::Exact);
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.starts_with("api.openai.com: OpenAI API (`openai-api`, api), exact pattern `api.openai.com` from rules/openai.yaml:"),
        "{text}"
    );
    assert!(text.contains("source: "), "{text}");

    let e = catalogue.explain_host("bedrock-runtime.us-east-1.amazonaws.com");
    assert!(
        matches!(&e.verdict, HostVerdict::Matched { hit, form: PatternForm::Templated }
            if hit.pattern == "bedrock-runtime.+.amazonaws.com"),
        "{e}"
    );
    let e = catalogue.explain_host("www.chatgpt.com");
    assert!(
        matches!(
            &e.verdict,
            HostVerdict::Matched {
                form: PatternForm::Wildcard,
                ..
            }
        ),
        "{e}"
    );

    let e = catalogue.explain_host("fonts.googleapis.com");
    assert!(
        matches!(
            e.verdict,
            HostVerdict::SharedInfrastructure {
                entry: "googleapis.com"
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains(
            "a shared-infrastructure host (`googleapis.com`): never a signature on its own"
        ),
        "{e}"
    );
    let e = catalogue.explain_host("acct.blob.core.windows.net");
    assert!(
        matches!(
            e.verdict,
            HostVerdict::SharedInfrastructure {
                entry: "blob.core.windows.net"
            }
        ),
        "{e}"
    );
    let e = catalogue.explain_host("github.com");
    assert!(
        matches!(
            e.verdict,
            HostVerdict::SharedInfrastructure {
                entry: "github.com"
            }
        ),
        "{e}"
    );

    for (host, want_service, want_pattern) in [
        ("notopenai.com", "openai-chatgpt", "*.openai.com"),
        ("openai.com.example.net", "openai-chatgpt", "*.openai.com"),
        ("chatgpt.com.evil.test", "openai-chatgpt", "chatgpt.com"),
        ("api.openai.com.evil.test", "openai-api", "api.openai.com"),
    ] {
        let e = catalogue.explain_host(host);
        match &e.verdict {
            HostVerdict::LookAlike { service, pattern } => {
                assert_eq!(
                    (service.id.as_str(), *pattern),
                    (want_service, want_pattern)
                );
            }
            other => panic!("{host}: {other:?}"),
        }
        assert!(e.to_string().contains("look-alike of"), "{e}");
    }
    // Short names such as `c.ai` are no hint: they end too many unrelated names. Nor is a
    // pattern that is only the end of a longer word (`udio.com`).
    for host in [
        "magic.ai",
        "example.org",
        "openai.community.example",
        "marketplace.visualstudio.com",
    ] {
        let e = catalogue.explain_host(host);
        assert!(matches!(e.verdict, HostVerdict::NoMatch), "{host}: {e}");
        assert_eq!(e.to_string(), format!("{host}: no pattern matches"));
    }

    for (host, why) in [
        ("", "empty name"),
        (".", "empty name"),
        (
            "a..b.com",
            "an empty label (two dots in a row, or a leading dot)",
        ),
        (
            "bad name.com",
            "characters other than letters, digits, `-`, `_` and `.`",
        ),
    ] {
        let e = catalogue.explain_host(host);
        assert!(
            matches!(e.verdict, HostVerdict::NotAHostName(reason) if reason == why),
            "{host:?}: {e}"
        );
    }
    let long = format!("{}.com", "a".repeat(260));
    assert!(matches!(
        catalogue.explain_host(&long).verdict,
        HostVerdict::NotAHostName("longer than 253 characters")
    ));
    let e = catalogue.explain_host("evil\n\u{1b}[31m.com");
    let text = e.to_string();
    assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text:?}");
    // A malformed name below an AI name still matches, as in a capture.
    assert!(matches!(
        catalogue.explain_host("ü.openai.com").verdict,
        HostVerdict::Matched { .. }
    ));
}

#[test]
fn explain_ip_gives_the_range_or_the_reason() {
    let catalogue = embedded();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    for address in ["160.79.104.1", "::ffff:160.79.105.2", "2607:6bc0::7"] {
        let e = catalogue.explain_ip(ip(address));
        match &e.verdict {
            IpVerdict::Matched(hit) => assert_eq!(hit.service.id, "anthropic-api"),
            other => panic!("{address}: {other:?}"),
        }
        assert!(
            e.to_string()
                .contains("Anthropic API (`anthropic-api`, api), range "),
            "{e}"
        );
    }
    for (address, kind) in [
        ("10.1.2.3", "a private (RFC 1918) address"),
        ("192.168.0.10", "a private (RFC 1918) address"),
        ("::ffff:172.16.0.1", "a private (RFC 1918) address"),
        ("127.0.0.1", "a loopback address"),
        ("100.64.0.1", "a carrier-grade NAT (RFC 6598) address"),
        ("169.254.1.1", "a link-local address"),
        ("224.0.0.251", "a multicast or broadcast address"),
        ("255.255.255.255", "a multicast or broadcast address"),
        ("192.0.2.1", "a documentation (RFC 5737) address"),
        ("0.0.0.0", "the unspecified address"),
        ("::1", "a loopback address"),
        ("::", "the unspecified address"),
        ("fd12:3456::1", "a unique local (fc00::/7) address"),
        ("fe80::1", "a link-local address"),
        ("ff02::fb", "a multicast address"),
        ("2001:db8::1", "a documentation (2001:db8::/32) address"),
    ] {
        let e = catalogue.explain_ip(ip(address));
        assert!(
            matches!(e.verdict, IpVerdict::NotPublic(k) if k == kind),
            "{address}: {e}"
        );
        assert!(
            e.to_string().contains("never an AI service's address"),
            "{e}"
        );
    }
    for address in ["8.8.8.8", "100.128.0.1", "2606:4700::1"] {
        let e = catalogue.explain_ip(ip(address));
        assert!(matches!(e.verdict, IpVerdict::NoMatch), "{address}: {e}");
        assert!(e
            .to_string()
            .starts_with(&format!("{address}: no range matches")));
    }
}

#[test]
fn check_dir_validates_a_folder_on_its_own() {
    let dir = TempDir::new("check");
    std::fs::write(dir.0.join("a.yaml"), MINIMAL).unwrap();
    std::fs::write(dir.0.join("b.yml"), WITH_CIDRS).unwrap();
    std::fs::write(dir.0.join("notes.txt"), "not yaml: [").unwrap();
    let summary = Catalogue::check_dir(&dir.0).unwrap();
    assert_eq!(
        summary,
        CheckSummary {
            files: 2,
            services: 3,
            hosts: 1,
            cidrs: 3
        }
    );
    assert_eq!(
        summary.to_string(),
        "2 files, 3 services, 1 host patterns, 3 cidrs"
    );

    // On its own: a name the embedded catalogue also has is fine here...
    let clash = MINIMAL.replace("chat.example.com", "api.openai.com");
    std::fs::write(dir.0.join("a.yaml"), &clash).unwrap();
    assert!(Catalogue::check_dir(&dir.0).is_ok());
    // ...while loading it next to the embedded files refuses it.
    let e = Catalogue::load(std::slice::from_ref(&dir.0)).unwrap_err();
    assert!(
        e.message
            .contains("already claimed by service `openai-api`"),
        "{e}"
    );

    // A conflict between the folder's own files, with file and line.
    std::fs::write(dir.0.join("c.yaml"), MINIMAL).unwrap();
    let e = Catalogue::check_dir(&dir.0).unwrap_err();
    assert!(e.file.ends_with("c.yaml"), "{e}");
    assert_eq!(e.line, Some(2));
    assert!(
        e.message.contains("duplicate service id `example-chat`"),
        "{e}"
    );
    std::fs::remove_file(dir.0.join("c.yaml")).unwrap();

    std::fs::write(dir.0.join("zz.yaml"), "services:\n  - id: [\n").unwrap();
    let e = Catalogue::check_dir(&dir.0).unwrap_err();
    assert!(e.file.ends_with("zz.yaml") && e.line.is_some(), "{e}");

    let empty = TempDir::new("check-empty");
    std::fs::write(empty.0.join("README"), "no rules here").unwrap();
    let e = Catalogue::check_dir(&empty.0).unwrap_err();
    assert!(e.message.contains("no rule files"), "{e}");
    let e = Catalogue::check_dir(&empty.0.join("missing")).unwrap_err();
    assert!(e.message.contains("cannot read rules directory"), "{e}");
}

#[test]
fn check_of_the_shipped_folder_equals_the_embedded_check() {
    let built_in = Catalogue::check_embedded().unwrap();
    let shipped =
        Catalogue::check_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    assert_eq!(shipped, built_in);
    assert_eq!(built_in.files, embedded_files().len());
    assert!(built_in.services >= 150, "{built_in}");
    assert_eq!(built_in.hosts, embedded().host_pattern_count());
}
