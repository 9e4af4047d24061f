//! `shadowai devices`: every device seen, with its addresses, announced names, vendor,
//! traffic and number of AI findings, as a table, JSON, CSV or an HTML page.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment};
use serde::Serialize;

use super::escape::{csv_cell, terminal};
use super::table::{human_bytes, short_time};
use super::{Device, Format, Report, SCHEMA_VERSION};

#[derive(Serialize)]
struct DevicesJson<'a> {
    schema_version: u32,
    devices: &'a [Device],
    routers: &'a [String],
    warnings: &'a [String],
}

pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table(report, out),
        Format::Json => {
            let json = DevicesJson {
                schema_version: SCHEMA_VERSION,
                devices: &report.devices,
                routers: &report.routers,
                warnings: &report.warnings,
            };
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)
        }
        Format::Csv => csv(report, out),
        Format::Html => super::html::write_devices(report, out),
    }
}

fn display_name(d: &Device) -> String {
    d.label
        .name
        .clone()
        .or_else(|| d.hostname.clone())
        .unwrap_or_default()
}

fn table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut table = super::table::styled_table(vec![
        "Device",
        "Name",
        "Vendor",
        "Addresses",
        "First seen (UTC)",
        "Last seen (UTC)",
        "Sent",
        "Received",
        "Flows",
        "AI services",
    ]);
    for d in &report.devices {
        let vendor = d.vendor_shown();
        table.add_row(vec![
            Cell::new(terminal(&d.id)),
            Cell::new(terminal(&display_name(d))),
            Cell::new(terminal(vendor)),
            Cell::new(
                d.ips
                    .iter()
                    .map(|ip| terminal(ip))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Cell::new(short_time(&d.traffic.first_seen)),
            Cell::new(short_time(&d.traffic.last_seen)),
            Cell::new(human_bytes(d.traffic.bytes_up)).set_alignment(CellAlignment::Right),
            Cell::new(human_bytes(d.traffic.bytes_down)).set_alignment(CellAlignment::Right),
            Cell::new(d.traffic.flows).set_alignment(CellAlignment::Right),
            Cell::new(d.ai_services).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{} device(s).", report.devices.len())?;
    for warning in &report.warnings {
        writeln!(out, "warning: {}", terminal(warning))?;
    }
    Ok(())
}

pub const HEADER: &[&str] = &[
    "device",
    "name",
    "hostname",
    "names",
    "mac",
    "randomized_mac",
    "vendor",
    "vendor_class",
    "ips",
    "owner",
    "group",
    "flows",
    "bytes_up",
    "bytes_down",
    "ai_services",
    "first_seen",
    "last_seen",
];

fn csv(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))?;
    for d in &report.devices {
        let names: Vec<String> = d
            .names
            .iter()
            .map(|n| format!("{}:{}", n.source, n.name))
            .collect();
        let cells = [
            d.id.clone(),
            display_name(d),
            d.hostname.clone().unwrap_or_default(),
            names.join(" "),
            d.mac.clone().unwrap_or_default(),
            d.randomized_mac.to_string(),
            d.vendor.as_deref().unwrap_or_default().to_string(),
            d.vendor_class.clone().unwrap_or_default(),
            d.ips.join(" "),
            d.label.owner.clone().unwrap_or_default(),
            d.label.group.clone().unwrap_or_default(),
            d.traffic.flows.to_string(),
            d.traffic.bytes_up.to_string(),
            d.traffic.bytes_down.to_string(),
            d.ai_services.to_string(),
            d.traffic.first_seen.clone(),
            d.traffic.last_seen.clone(),
        ];
        let line: Vec<_> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}
