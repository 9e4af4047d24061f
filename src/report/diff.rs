//! `shadowai diff OLD NEW`: what changed between two JSON reports (`audit --format json`), for
//! the nightly cron job's question "what is new since yesterday": findings (device × service)
//! that appeared, ones that are gone, ones whose site-policy status changed, and devices not
//! seen before. A finding is known by its `device` (MAC, or address where the device has none)
//! and `service_id`; a device by its `id`. Two reports pseudonymised with the same key file
//! compare as well, their tokens being the same for the same device.
//!
//! The reports are read as JSON values, not into the report's types: a field this version does
//! not know (a later version of schema 1 may add some) is carried through, not refused.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment};
use serde::Serialize;
use serde_json::Value;

use super::escape::terminal;
use super::saved::{finding_key, list, str_of, Loaded};
use super::table::{human_bytes, short_time, styled_table};
use super::SCHEMA_VERSION;

/// Whether a report's devices are pseudonymised (`mac-…`/`ip-…` tokens), where it has any.
fn pseudonymised(report: &Value) -> Option<bool> {
    let id = list(report, "devices").first().map(|d| str_of(d, "id"))?;
    Some(id.starts_with("mac-") || id.starts_with("ip-"))
}

/// One report's side of the comparison: where it came from and when its traffic was.
#[derive(Serialize)]
pub struct Side<'a> {
    pub path: &'a str,
    pub first_seen: Option<&'a str>,
    pub last_seen: Option<&'a str>,
}

#[derive(Serialize)]
pub struct StatusChange<'a> {
    pub device: &'a str,
    pub device_hostname: Option<&'a str>,
    pub service_id: &'a str,
    pub service: &'a str,
    pub old_status: &'a str,
    pub new_status: &'a str,
    /// The finding as the new report has it.
    pub finding: &'a Value,
}

/// What changed from `old` to `new` (`diff --format json`).
#[derive(Serialize)]
pub struct Diff<'a> {
    pub schema_version: u32,
    pub old: Side<'a>,
    pub new: Side<'a>,
    /// Findings of the new report that the old one does not hold, as the new one has them.
    pub new_findings: Vec<&'a Value>,
    /// Findings of the old report that the new one does not hold, as the old one had them.
    pub gone_findings: Vec<&'a Value>,
    pub status_changes: Vec<StatusChange<'a>>,
    /// Devices of the new report that the old one does not hold.
    pub new_devices: Vec<&'a Value>,
    /// Why the comparison may mislead (one report pseudonymised and the other not).
    pub warnings: Vec<String>,
}

fn side(loaded: &Loaded) -> Side<'_> {
    Side {
        path: &loaded.path,
        first_seen: loaded.json.get("first_seen").and_then(Value::as_str),
        last_seen: loaded.json.get("last_seen").and_then(Value::as_str),
    }
}

pub fn diff<'a>(old: &'a Loaded, new: &'a Loaded) -> Diff<'a> {
    let old_findings: BTreeMap<(&str, &str), &Value> = list(&old.json, "findings")
        .iter()
        .map(|f| (finding_key(f), f))
        .collect();
    let new_keys: BTreeSet<(&str, &str)> = list(&new.json, "findings")
        .iter()
        .map(finding_key)
        .collect();
    let mut new_findings = Vec::new();
    let mut status_changes = Vec::new();
    for f in list(&new.json, "findings") {
        match old_findings.get(&finding_key(f)) {
            None => new_findings.push(f),
            Some(before) if str_of(before, "status") != str_of(f, "status") => {
                status_changes.push(StatusChange {
                    device: str_of(f, "device"),
                    device_hostname: f.get("device_hostname").and_then(Value::as_str),
                    service_id: str_of(f, "service_id"),
                    service: str_of(f, "service"),
                    old_status: str_of(before, "status"),
                    new_status: str_of(f, "status"),
                    finding: f,
                })
            }
            Some(_) => {}
        }
    }
    let gone_findings = list(&old.json, "findings")
        .iter()
        .filter(|f| !new_keys.contains(&finding_key(f)))
        .collect();
    let old_devices: BTreeSet<&str> = list(&old.json, "devices")
        .iter()
        .map(|d| str_of(d, "id"))
        .collect();
    let new_devices = list(&new.json, "devices")
        .iter()
        .filter(|d| !old_devices.contains(str_of(d, "id")))
        .collect();
    let mut warnings = Vec::new();
    if let (Some(a), Some(b)) = (pseudonymised(&old.json), pseudonymised(&new.json)) {
        if a != b {
            warnings.push(format!(
                "{} is pseudonymised and {} is not: no device matches between them, so every finding shows as new and gone",
                if a { &old.path } else { &new.path },
                if a { &new.path } else { &old.path },
            ));
        }
    }
    Diff {
        schema_version: SCHEMA_VERSION,
        old: side(old),
        new: side(new),
        new_findings,
        gone_findings,
        status_changes,
        new_devices,
        warnings,
    }
}

impl Diff<'_> {
    /// Whether the change holds what `--fail-on` asks about: a new finding, or a status
    /// that became `status` (`None`: any new finding or changed status).
    pub fn brings(&self, status: Option<&str>) -> bool {
        let wanted = |s: &str| status.is_none_or(|want| s == want);
        self.new_findings
            .iter()
            .any(|f| wanted(str_of(f, "status")))
            || self.status_changes.iter().any(|c| wanted(c.new_status))
    }
}

/// The device as a person reads it: its announced name (or the inventory's), then its id.
fn device_cell(f: &Value) -> String {
    let id = terminal(str_of(f, "device")).into_owned();
    let name = f
        .get("device_name")
        .and_then(Value::as_str)
        .or_else(|| f.get("device_hostname").and_then(Value::as_str));
    match name {
        Some(name) => format!("{}\n{id}", terminal(name)),
        None => id,
    }
}

fn period(side: &Side<'_>) -> String {
    match (side.first_seen, side.last_seen) {
        (Some(first), Some(last)) => format!("{} to {} UTC", short_time(first), short_time(last)),
        _ => "no packets".to_string(),
    }
}

pub fn write_table(d: &Diff<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "From {} ({}) to {} ({}):",
        terminal(d.old.path),
        period(&d.old),
        terminal(d.new.path),
        period(&d.new)
    )?;
    let changes = d.new_findings.len() + d.gone_findings.len() + d.status_changes.len();
    if changes > 0 {
        let mut table = styled_table(vec!["Change", "Device", "Service", "Status", "Sent"]);
        let sent = |f: &Value| {
            let bytes = f.get("bytes_up").and_then(Value::as_u64).unwrap_or(0);
            Cell::new(human_bytes(bytes)).set_alignment(CellAlignment::Right)
        };
        let service = |f: &Value| {
            format!(
                "{} ({})",
                terminal(str_of(f, "service")),
                terminal(str_of(f, "kind"))
            )
        };
        let status = |f: &Value| terminal(str_of(f, "status")).into_owned();
        let rows = (d.new_findings.iter().map(|f| ("new", *f, status(f))))
            .chain(d.status_changes.iter().map(|c| {
                let change = format!("{} → {}", terminal(c.old_status), terminal(c.new_status));
                ("status", c.finding, change)
            }))
            .chain(d.gone_findings.iter().map(|f| ("gone", *f, status(f))));
        for (change, f, status) in rows {
            table.add_row(vec![
                Cell::new(change),
                Cell::new(device_cell(f)),
                Cell::new(service(f)),
                Cell::new(status),
                sent(f),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(
            out,
            "\"Sent\" is the newer report's figure, and for a gone finding the older one's."
        )?;
    }
    if !d.new_devices.is_empty() {
        let names: Vec<String> = d
            .new_devices
            .iter()
            .map(|dev| {
                let id = terminal(str_of(dev, "id")).into_owned();
                match dev.get("hostname").and_then(Value::as_str) {
                    Some(name) => format!("{id} ({})", terminal(name)),
                    None => id,
                }
            })
            .collect();
        writeln!(out, "New device(s): {}.", names.join(", "))?;
    }
    for warning in &d.warnings {
        writeln!(out, "warning: {}", terminal(warning))?;
    }
    if changes == 0 && d.new_devices.is_empty() {
        writeln!(out, "No change in AI use, and no new device.")?;
    } else {
        writeln!(
            out,
            "{} new finding(s), {} status change(s), {} gone; {} new device(s).",
            d.new_findings.len(),
            d.status_changes.len(),
            d.gone_findings.len(),
            d.new_devices.len()
        )?;
    }
    Ok(())
}

pub fn write_json(d: &Diff<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, d)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(findings: Value, devices: Value) -> Loaded {
        Loaded {
            path: "r.json".into(),
            json: json!({
                "schema_version": SCHEMA_VERSION,
                "first_seen": "2026-11-24T08:55:00.000Z",
                "last_seen": "2026-11-24T11:50:00.000Z",
                "findings": findings,
                "devices": devices,
            }),
        }
    }

    fn finding(device: &str, service: &str, status: &str) -> Value {
        json!({"device": device, "service_id": service, "service": service, "kind": "chat",
               "status": status, "bytes_up": 1000})
    }

    #[test]
    fn new_gone_and_changed_findings_and_new_devices() {
        let old = report(
            json!([
                finding("aa", "chatgpt", "unapproved"),
                finding("aa", "claude", "tolerated"),
                finding("bb", "gemini", "unapproved"),
            ]),
            json!([{"id": "aa"}, {"id": "bb"}]),
        );
        let new = report(
            json!([
                finding("aa", "chatgpt", "unapproved"),
                finding("aa", "claude", "unapproved"),
                finding("cc", "gemini", "approved"),
            ]),
            json!([{"id": "aa"}, {"id": "cc", "hostname": "new-laptop"}]),
        );
        let d = diff(&old, &new);
        fn keys<'v>(list: &[&'v Value]) -> Vec<(&'v str, &'v str)> {
            list.iter().map(|f| finding_key(f)).collect()
        }
        assert_eq!(keys(&d.new_findings), [("cc", "gemini")]);
        assert_eq!(keys(&d.gone_findings), [("bb", "gemini")]);
        assert_eq!(d.status_changes.len(), 1);
        let change = &d.status_changes[0];
        assert_eq!((change.device, change.service_id), ("aa", "claude"));
        assert_eq!(
            (change.old_status, change.new_status),
            ("tolerated", "unapproved")
        );
        assert_eq!(d.new_devices.len(), 1);
        assert!(d.brings(Some("unapproved")), "claude became unapproved");
        assert!(d.brings(None));
        // The same report against itself: nothing.
        let same = diff(&new, &new);
        assert!(same.new_findings.is_empty() && same.gone_findings.is_empty());
        assert!(same.status_changes.is_empty() && same.new_devices.is_empty());
        assert!(!same.brings(None));
        let mut text = Vec::new();
        write_table(&same, &mut text).unwrap();
        assert!(String::from_utf8(text)
            .unwrap()
            .contains("No change in AI use"));
        // Only an approved finding new: nothing unapproved came.
        let (empty, approved) = (
            report(json!([]), json!([])),
            report(json!([finding("cc", "gemini", "approved")]), json!([])),
        );
        let calm = diff(&empty, &approved);
        assert!(!calm.brings(Some("unapproved")));
        assert!(calm.brings(None));
    }

    #[test]
    fn a_report_without_packets_and_mixed_pseudonyms_are_said() {
        let empty = Loaded {
            path: "empty.json".into(),
            json: json!({"schema_version": 1, "first_seen": null, "last_seen": null,
                         "findings": [], "devices": [{"id": "mac-0123456789abcdef"}]}),
        };
        let plain = report(json!([]), json!([{"id": "02:00:00:00:00:01"}]));
        let d = diff(&empty, &plain);
        assert_eq!(d.warnings.len(), 1);
        let mut text = Vec::new();
        write_table(&d, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("From empty.json (no packets) to r.json (2026-11-24 08:55 to 2026-11-24 11:50 UTC):"), "{text}");
        assert!(
            text.contains("warning: empty.json is pseudonymised and r.json is not"),
            "{text}"
        );
        assert!(diff(&plain, &plain).warnings.is_empty());
    }
}
