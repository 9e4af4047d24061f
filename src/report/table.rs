//! The terminal view: one table of findings (most data sent first), then a short summary of
//! what was read. Every string from the wire goes through `escape::terminal`.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

use super::escape::terminal;
use super::Report;
use crate::classify::policy::Status;

/// `1.5 MB`-style sizes (decimal units, as file managers and ISPs count).
pub fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `2026-11-24 09:05` from the report's RFC 3339 text (the table needs minutes, not millis),
/// control characters escaped: a report `render` reads back is a file, and may not be ours.
pub fn short_time(rfc3339: &str) -> String {
    terminal(rfc3339.get(..16).unwrap_or(rfc3339)).replace('T', " ")
}

/// A table in the reports' one style: condensed UTF-8 borders, columns fitted to the terminal.
pub(crate) fn styled_table(header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let stats = &report.stats;
    if report.findings.is_empty() {
        writeln!(out, "No AI service use found.")?;
    } else {
        let mut table = styled_table(vec![
            "Device",
            "Service",
            "Status",
            "Sent",
            "Received",
            "Flows",
            "First seen (UTC)",
            "Last seen (UTC)",
            "Hosts",
            "Evidence",
        ]);
        for f in &report.findings {
            let mut device = match (&f.device_mac, f.device_ips.first()) {
                (Some(mac), Some(ip)) => format!("{}\n{}", terminal(mac), terminal(ip)),
                _ => terminal(&f.device).into_owned(),
            };
            // The inventory's words first; else the name the device announced.
            let who: Vec<_> = f.who().into_iter().map(terminal).collect();
            let who = who.join(", ");
            if !who.is_empty() {
                device = format!("{who}\n{device}");
            }
            let t = &f.traffic;
            table.add_row(vec![
                Cell::new(device),
                Cell::new(format!("{} ({})", terminal(&f.service), terminal(&f.kind))),
                Cell::new(f.status),
                Cell::new(human_bytes(t.bytes_up)).set_alignment(CellAlignment::Right),
                Cell::new(human_bytes(t.bytes_down)).set_alignment(CellAlignment::Right),
                Cell::new(t.flows).set_alignment(CellAlignment::Right),
                Cell::new(short_time(&t.first_seen)),
                Cell::new(short_time(&t.last_seen)),
                Cell::new(
                    f.hosts
                        .iter()
                        .map(|h| terminal(h))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                Cell::new(terminal(&f.evidence.join(" "))),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    let devices_with_ai = report.devices_with_ai();
    let by_status = |status: Status| report.count_status(status);
    if !report.findings.is_empty() {
        writeln!(
            out,
            "Findings by status: {} unapproved, {} tolerated, {} approved.",
            by_status(Status::Unapproved),
            by_status(Status::Tolerated),
            by_status(Status::Approved),
        )?;
    }
    let source = match &report.capture {
        Some(capture) => format!("captured on {}", terminal(&capture.interface)),
        None => format!("in {} file(s)", stats.files_read),
    };
    writeln!(
        out,
        "{} AI finding(s) on {} of {} device(s); {} packets, {} flows ({} named, {} to AI services) {source}.",
        report.findings.len(),
        devices_with_ai,
        report.devices.len(),
        stats.packets,
        stats.flows,
        stats.named_flows,
        stats.ai_flows,
    )?;
    if let Some(capture) = &report.capture {
        let count = |n: Option<u64>| n.map_or("?".to_string(), |n| n.to_string());
        writeln!(
            out,
            "Live capture {} to {} (UTC, ended by {}): {} packet(s) received by the filter, {} dropped by the kernel, {} by the interface.",
            short_time(&capture.started),
            short_time(&capture.ended),
            terminal(&capture.ended_by),
            count(capture.packets_received),
            count(capture.packets_dropped_by_kernel),
            count(capture.packets_dropped_by_interface),
        )?;
    }
    if let (Some(first), Some(last)) = (&report.first_seen, &report.last_seen) {
        writeln!(
            out,
            "Capture time: {} to {} (UTC).",
            short_time(first),
            short_time(last)
        )?;
    }
    let malformed: u64 = stats.malformed.values().sum();
    let unsupported: u64 = stats.unsupported_link_types.values().sum();
    if malformed + unsupported > 0 {
        writeln!(
            out,
            "Skipped: {malformed} malformed packet(s), {unsupported} frame(s) of unsupported link types (see --format json for reasons)."
        )?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {}", terminal(warning))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
        assert_eq!(human_bytes(2_000), "2.0 kB");
    }
}
