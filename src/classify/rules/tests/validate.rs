//! Load errors: every problem in a rule file is refused with its file, line and column.

use super::*;

#[test]
fn minimal_file_loads_with_positions() {
    let catalogue = one(MINIMAL).unwrap();
    let service = catalogue.service("example-chat").unwrap();
    assert_eq!(service.kind, Kind::Chat);
    assert_eq!(service.file, "test.yaml");
    assert_eq!(service.hosts[0].line, Some(10));
    assert_eq!(service.data.source, None);
    assert!(catalogue.match_host("chat.example.com").is_some());
}

fn error_of(text: &str) -> RuleError {
    match one(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn yaml_errors_name_file_line_and_column() {
    // Unknown field.
    let e = error_of(&MINIMAL.replace("    kind: chat\n", "    kind: chat\n    colour: red\n"));
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        ("test.yaml", Some(6), Some(5))
    );
    assert!(e.message.contains("unknown field `colour`"), "{e}");
    assert_eq!(
        e.to_string(),
        format!("test.yaml:6:5: {}", e.message),
        "Display is file:line:column: message"
    );
    // Invalid enum value.
    let e = error_of(&MINIMAL.replace("kind: chat", "kind: chatbot"));
    assert_eq!((e.line, e.column), (Some(5), Some(11)));
    assert!(e.message.contains("chatbot"), "{e}");
    let e = error_of(&MINIMAL.replace("confidence: vendor-doc", "confidence: high"));
    assert_eq!((e.line, e.column), (Some(12), Some(21)));
    // Syntax error.
    let e = error_of(&MINIMAL.replace("    hosts:\n", "    hosts: [\n"));
    assert_eq!(e.file, "test.yaml");
    assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    // Duplicate key.
    let e = error_of(&MINIMAL.replace(
        "    vendor: Example\n",
        "    vendor: Example\n    vendor: Other\n",
    ));
    assert_eq!((e.line, e.column), (Some(5), Some(5)));
    // Missing field.
    let e = error_of(&MINIMAL.replace("        confidence: vendor-doc\n", ""));
    assert!(e.message.contains("missing field `confidence`"), "{e}");
    assert!(matches!(e.line, Some(10..=11)), "{e}");
    // Empty file.
    let e = error_of("");
    assert_eq!(e.file, "test.yaml");
}

#[test]
fn bad_patterns_are_reported_at_their_position() {
    for bad in [
        "'*'",
        "a*b.example.com",
        "a..example.com",
        "'chat example.com'",
        "'*.com'",
        "''",
    ] {
        let e = error_of(&MINIMAL.replace("pattern: chat.example.com", &format!("pattern: {bad}")));
        assert_eq!((e.line, e.column), (Some(10), Some(18)), "{bad}: {e}");
        assert!(e.message.contains("invalid host pattern"), "{bad}: {e}");
    }
    let e = error_of(&MINIMAL.replace("pattern: chat.example.com", "pattern: '*.googleapis.com'"));
    assert!(e.message.contains("shared, non-AI"), "{e}");
    let e = error_of(&MINIMAL.replace("pattern: chat.example.com", "pattern: GitHub.com."));
    assert!(e.message.contains("shared, non-AI"), "{e}");
}

#[test]
fn semantic_errors_name_file_and_line() {
    // Empty source.
    let e = error_of(&MINIMAL.replace("source: https://example.com/docs", "source: ''"));
    assert_eq!((e.line, e.column), (Some(11), Some(17)));
    assert!(e.message.contains("`source` is empty"), "{e}");
    // Bad id.
    let e = error_of(&MINIMAL.replace("id: example-chat", "id: Example_Chat"));
    assert_eq!((e.line, e.column), (Some(2), Some(9)));
    // No hosts.
    let text = MINIMAL.split("    hosts:\n").next().unwrap();
    let e = error_of(text);
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("can never match"), "{e}");
    // Data facts without source.
    let e = error_of(&MINIMAL.replace(
        "trains_on_consumer_input: unknown",
        "trains_on_consumer_input: opt-out",
    ));
    assert_eq!(e.line, Some(7));
    assert!(e.message.contains("without a `source`"), "{e}");
}

#[test]
fn cross_file_conflicts_name_both_places() {
    let second = MINIMAL.replace("name: Example Chat", "name: Again");
    let e = Catalogue::from_sources(&[
        ("a.yaml".to_owned(), MINIMAL.to_owned()),
        ("b.yaml".to_owned(), second),
    ])
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("b.yaml", Some(2)));
    assert!(
        e.message.contains("duplicate service id `example-chat`"),
        "{e}"
    );
    assert!(e.message.contains("a.yaml:2"), "{e}");

    let other = MINIMAL
        .replace("id: example-chat", "id: other-chat")
        .replace("pattern: chat.example.com", "pattern: Chat.Example.com.");
    let e = Catalogue::from_sources(&[
        ("a.yaml".to_owned(), MINIMAL.to_owned()),
        ("b.yaml".to_owned(), other),
    ])
    .unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        ("b.yaml", Some(10), Some(18))
    );
    assert!(
        e.message
            .contains("already claimed by service `example-chat` (a.yaml:10)"),
        "{e}"
    );

    // Twice in one service.
    let twice = MINIMAL.to_owned()
        + "      - pattern: chat.example.com\n        source: x\n        confidence: inferred\n";
    let e = error_of(&twice);
    assert_eq!(e.line, Some(13));
    assert!(e.message.contains("`example-chat` (test.yaml:10)"), "{e}");
}

#[test]
fn cidr_errors() {
    let e = error_of(&WITH_CIDRS.replace("160.79.104.0/23", "160.79.105.0/23"));
    assert_eq!((e.line, e.column), (Some(8), Some(15)));
    assert!(e.message.contains("host bits"), "{e}");
    let e = error_of(&WITH_CIDRS.replace("2607:6bc0::/48", "2607:zz::/48"));
    assert_eq!(e.line, Some(10));
    let e = error_of(&WITH_CIDRS.replace("160.79.104.0/21", "160.79.104.0/23"));
    assert_eq!(e.line, Some(18));
    assert!(
        e.message
            .contains("already claimed by service `example-api`"),
        "{e}"
    );
}

#[test]
fn error_display_drops_unknown_parts_and_escapes_control_characters() {
    let e = RuleError::new("x.yaml", None, None, "bad\nthing".to_owned());
    assert_eq!(e.to_string(), "x.yaml: bad\\nthing");
    let e = RuleError::new("x.yaml", Some(3), None, "m".to_owned());
    assert_eq!(e.to_string(), "x.yaml:3: m");
}

#[test]
fn templated_patterns_on_shared_names_are_refused() {
    for bad in [
        "'+.amazonaws.com'",
        "'+.+.googleapis.com'",
        "'+.ghe.com'",
        "'+.s3.amazonaws.com'",
        "'+.webpubsub.azure.com'",
    ] {
        let e = error_of(&MINIMAL.replace("pattern: chat.example.com", &format!("pattern: {bad}")));
        assert!(e.message.contains("shared, non-AI"), "{bad}: {e}");
        assert_eq!((e.line, e.column), (Some(10), Some(18)), "{bad}: {e}");
    }
    for bad in [
        "'+-aiplatform.googleapis.com'",
        "'*.+.example.com'",
        "bedrock.+.com",
    ] {
        let e = error_of(&MINIMAL.replace("pattern: chat.example.com", &format!("pattern: {bad}")));
        assert!(e.message.contains("invalid host pattern"), "{bad}: {e}");
    }
    let ok = one(&MINIMAL.replace(
        "pattern: chat.example.com",
        "pattern: Bedrock.+.AmazonAWS.com.",
    ))
    .unwrap();
    let service = ok.service("example-chat").unwrap();
    assert_eq!(service.hosts[0].pattern, "bedrock.+.amazonaws.com");
    assert!(ok.match_host("bedrock.us-east-1.amazonaws.com").is_some());
    assert!(ok.match_host("s3.us-east-1.amazonaws.com").is_none());
}
