//! Conformance with an independent implementation: for every public capture in
//! `../shared/corpus`, the distinct (file, kind, value) name signals that `inspect` finds are
//! compared with what tshark extracted (`truth/*.tsv`). Recall and precision must each reach
//! 99% over all kinds checked, and every single difference must be listed, with its reason, in
//! `tests/conformance/exceptions.tsv`; an exception that no longer happens fails too, so the
//! list stays true. Differences where the ground truth itself is wrong (checked with
//! `tshark -V`; the reason starts with "truth artefact") are left out of the two figures.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::{corpus_dir, sorted_captures};
use shadowai::capture::file::FileSource;
use shadowai::classify::rules::Catalogue;
use shadowai::pipeline::{Options, Pipeline};
use shadowai::report::inspect::Collect;

/// The kinds this build extracts; later features add theirs here.
const KINDS: &[&str] = &[
    "quic_sni",
    "gquic_sni",
    "tls_sni",
    "tls_ech",
    "dns_query",
    "dns_answer",
    "http_host",
    "http_connect",
    "mdns_query",
    "mdns_answer",
    "llmnr_query",
    "llmnr_answer",
    "dhcp_hostname",
    "dhcp_fqdn",
    "dhcp_vendor_class",
    "dhcpv6_fqdn",
    "nbns_name",
    "netbios_browser",
    "arp",
];

type Triple = (String, String, String);

/// tshark's truth escapes tabs and line breaks in values; do the same to ours.
fn clean(value: &str) -> String {
    value
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn ours(path: &Path, catalogue: &Catalogue) -> BTreeSet<Triple> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut pipeline = Pipeline::new(catalogue, Options::default(), Collect::default());
    if let Ok(mut source) = FileSource::open(path) {
        // A damaged file still yields what was read before the damage.
        let _ = pipeline.run_file(&mut source);
    }
    let (_, sink) = pipeline.finish();
    sink.rows
        .into_iter()
        .filter(|r| KINDS.contains(&r.kind.as_str()))
        .map(|r| (file.clone(), r.kind, clean(&r.value)))
        .collect()
}

fn truth(corpus: &Path, file: &str) -> BTreeSet<Triple> {
    let Ok(text) = fs::read_to_string(corpus.join("truth").join(format!("{file}.tsv"))) else {
        return BTreeSet::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (kind, value, path) = (*cols.get(6)?, *cols.get(7)?, *cols.get(8)?);
            // DNS quoted inside ICMP errors is not traffic of its own.
            let quoted = path.split(':').any(|p| p == "icmp" || p == "icmpv6");
            (KINDS.contains(&kind) && !quoted)
                .then(|| (file.to_string(), kind.to_string(), value.to_string()))
        })
        .collect()
}

/// (file, kind, value) → (missing|extra, reason)
/// The list is `tests/conformance/exceptions.tsv`, or the file `SHADOWAI_EXCEPTIONS` names (for
/// the corpus `SHADOWAI_CORPUS` names).
fn exceptions_file() -> PathBuf {
    std::env::var_os("SHADOWAI_EXCEPTIONS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/exceptions.tsv"),
        PathBuf::from,
    )
}

fn exceptions() -> BTreeMap<(String, Triple), String> {
    let path = exceptions_file();
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() == 5 && !cols[4].trim().is_empty(),
            "{} line {}: want 5 tab-separated columns (direction, file, kind, value, reason)",
            path.display(),
            n + 1
        );
        assert!(
            cols[0] == "missing" || cols[0] == "extra",
            "{} line {}: direction must be missing or extra",
            path.display(),
            n + 1
        );
        out.insert(
            (
                cols[0].to_string(),
                (
                    cols[1].to_string(),
                    cols[2].to_string(),
                    cols[3].to_string(),
                ),
            ),
            cols[4].to_string(),
        );
    }
    out
}

#[test]
fn names_match_tshark_ground_truth() {
    let Some(corpus) = corpus_dir() else {
        eprintln!("\n!!! SKIPPED: ../shared/corpus not found; conformance NOT checked !!!\n");
        return;
    };
    let catalogue = Catalogue::from_sources(&[]).expect("empty catalogue");
    let files = sorted_captures(&corpus);
    assert!(
        files.len() > 200,
        "corpus looks incomplete: {}",
        files.len()
    );

    let mut expected = BTreeSet::new();
    let mut found = BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        expected.extend(truth(&corpus, &name));
        found.extend(ours(path, &catalogue));
    }
    let missing: Vec<_> = expected.difference(&found).cloned().collect();
    let extra: Vec<_> = found.difference(&expected).cloned().collect();
    let hits = expected.len() - missing.len();
    let listed = exceptions();
    // Rows the ground truth itself gets wrong (verified with `tshark -V`, reason starting with
    // "truth artefact") leave the metric; every other difference counts against it.
    let artefact = |direction: &str, t: &Triple| {
        listed
            .get(&(direction.to_string(), t.clone()))
            .is_some_and(|reason| reason.starts_with("truth artefact"))
    };
    let bad_truth = missing.iter().filter(|t| artefact("missing", t)).count();
    let bad_extra = extra.iter().filter(|t| artefact("extra", t)).count();
    let recall = hits as f64 / (expected.len() - bad_truth).max(1) as f64;
    let precision = hits as f64 / (found.len() - bad_extra).max(1) as f64;

    eprintln!("kind            truth  found  missing  extra");
    for kind in KINDS {
        let count = |set: &BTreeSet<Triple>| set.iter().filter(|t| t.1 == *kind).count();
        let countv = |v: &Vec<Triple>| v.iter().filter(|t| t.1 == *kind).count();
        eprintln!(
            "{kind:<15} {:>5}  {:>5}  {:>7}  {:>5}",
            count(&expected),
            count(&found),
            countv(&missing),
            countv(&extra)
        );
    }
    eprintln!(
        "recall {:.4}  precision {:.4}  ({} files; {} missing and {} extra rows are truth artefacts)",
        recall,
        precision,
        files.len(),
        bad_truth,
        bad_extra
    );

    let mut unexplained = Vec::new();
    let mut seen = BTreeSet::new();
    for (direction, list) in [("missing", &missing), ("extra", &extra)] {
        for t in list {
            let key = (direction.to_string(), t.clone());
            if listed.contains_key(&key) {
                seen.insert(key);
            } else {
                unexplained.push(format!("{direction}\t{}\t{}\t{}", t.0, t.1, t.2));
            }
        }
    }
    let stale: Vec<_> = listed
        .keys()
        .filter(|k| !seen.contains(*k))
        .map(|(d, t)| format!("{d}\t{}\t{}\t{}", t.0, t.1, t.2))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} difference(s) not in {}:\n{}",
        unexplained.len(),
        exceptions_file().display(),
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "exceptions that no longer happen (remove them):\n{}",
        stale.join("\n")
    );
    // Every difference is listed; the floor says how much of the truth the listed ones may
    // leave out. 99% on ../shared/corpus; another corpus sets its own (`SHADOWAI_MIN_RECALL`).
    let floor = std::env::var("SHADOWAI_MIN_RECALL").map_or(0.99, |v| {
        v.parse::<f64>()
            .unwrap_or_else(|e| panic!("SHADOWAI_MIN_RECALL={v}: {e}"))
    });
    assert!(recall >= floor, "recall {recall:.4} < {floor}");
    assert!(precision >= 0.99, "precision {precision:.4} < 0.99");
}

/// The acceptance check of the catalogue: the built-in signatures make no AI finding on the
/// corpus that a person would call wrong. Every finding they do make is listed, with why it is
/// right, in `tests/conformance/ai-findings.tsv`; anything else fails, and so does a listed one
/// that disappears.
#[test]
fn corpus_gives_no_unexplained_ai_finding() {
    use shadowai::classify::policy::Policy;
    use shadowai::pipeline::NoSignals;
    use shadowai::report::Report;
    let Some(corpus) = corpus_dir() else {
        eprintln!("\n!!! SKIPPED: ../shared/corpus not found; AI findings NOT checked !!!\n");
        return;
    };
    let catalogue = Catalogue::embedded().expect("built-in rules");
    let policy = Policy::default();
    let files = sorted_captures(&corpus);
    let mut found = BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut pipeline =
            Pipeline::with_policy(&catalogue, &policy, Options::default(), NoSignals);
        if let Ok(mut source) = FileSource::open(path) {
            let _ = pipeline.run_file(&mut source);
        }
        let (outcome, _) = pipeline.finish();
        let report = Report::build(&outcome, &catalogue, &policy, Vec::new(), Vec::new());
        for f in report.findings {
            found.insert(format!(
                "{name}\t{}\t{}\t{}",
                f.device,
                f.service_id,
                f.hosts.join(" ")
            ));
        }
    }
    // The list is `tests/conformance/ai-findings.tsv`, or the file `SHADOWAI_AI_FINDINGS` names
    // (for the corpus `SHADOWAI_CORPUS` names).
    let listed_path = std::env::var_os("SHADOWAI_AI_FINDINGS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/ai-findings.tsv"),
        PathBuf::from,
    );
    let listed: BTreeSet<String> = fs::read_to_string(&listed_path)
        .unwrap_or_else(|e| panic!("{}: {e}", listed_path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').take(4).collect::<Vec<_>>().join("\t"))
        .collect();
    let unexplained: Vec<_> = found.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&found).collect();
    assert!(
        unexplained.is_empty(),
        "AI findings on the corpus not in {}:\n{}",
        listed_path.display(),
        unexplained
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        gone.is_empty(),
        "listed AI findings that no longer happen: {gone:?}"
    );
}
