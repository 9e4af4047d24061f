//! CSV for spreadsheets: one row per device × AI service, with a header row. Lists (addresses,
//! hostnames, evidence) are joined with spaces inside one cell.

use std::io::{self, Write};

use super::escape::csv_cell;
use super::Report;

pub const HEADER: &[&str] = &[
    "device",
    "device_hostname",
    "device_name",
    "owner",
    "group",
    "device_mac",
    "device_ips",
    "service_id",
    "service",
    "vendor",
    "kind",
    "status",
    "trains_on_consumer_input",
    "business_tier_without_training",
    "hosts",
    "evidence",
    "flows",
    "bytes_up",
    "bytes_down",
    "packets_up",
    "packets_down",
    "first_seen",
    "last_seen",
];

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))?;
    for f in &report.findings {
        let t = &f.traffic;
        let label = &f.device_label;
        let cells: [String; 23] = [
            f.device.clone(),
            f.device_hostname.clone().unwrap_or_default(),
            label.name.clone().unwrap_or_default(),
            label.owner.clone().unwrap_or_default(),
            label.group.clone().unwrap_or_default(),
            f.device_mac.clone().unwrap_or_default(),
            f.device_ips.join(" "),
            f.service_id.clone(),
            f.service.clone(),
            f.vendor.clone(),
            f.kind.clone(),
            f.status.to_string(),
            f.trains_on_consumer_input.clone(),
            f.business_tier_without_training.clone(),
            f.hosts.join(" "),
            f.evidence.join(" "),
            t.flows.to_string(),
            t.bytes_up.to_string(),
            t.bytes_down.to_string(),
            t.packets_up.to_string(),
            t.packets_down.to_string(),
            t.first_seen.clone(),
            t.last_seen.clone(),
        ];
        let line: Vec<_> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}
