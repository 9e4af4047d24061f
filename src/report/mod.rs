//! The report: one serde model (`Report`, versioned by `schema_version`) built from what the
//! pipeline aggregated, and its renderers (terminal table, JSON, CSV). Renderers only format;
//! they never recompute. Strings that come off the wire (SNI, Host) are escaped by each
//! renderer for its medium.

pub mod catalogue;
pub mod csv;
pub mod escape;
pub mod inspect;
pub mod table;
pub mod time;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::classify::findings::{DeviceKey, MacDisplay, Totals};
use crate::classify::policy::{DeviceLabel, Policy, Status};
use crate::classify::rules::Catalogue;
use crate::pipeline::{Outcome, Stats};

/// Bumped whenever a field changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    pub inputs: Vec<Input>,
    /// Capture time of the first and last packet read (RFC 3339, UTC).
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub findings: Vec<Finding>,
    pub devices: Vec<Device>,
    pub stats: Stats,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub path: String,
    pub format: Option<String>,
    pub packets: u64,
    /// False when the file was cut short, damaged, or could not be read.
    pub complete: bool,
    pub error: Option<String>,
}

/// One device × one AI service.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub device: String,
    /// Name, owner and group from the site inventory, when it lists the device.
    #[serde(flatten)]
    pub device_label: DeviceLabel,
    pub device_mac: Option<String>,
    pub device_ips: Vec<String>,
    pub service_id: String,
    pub service: String,
    pub vendor: String,
    pub kind: String,
    /// Site policy status; without a policy every AI service is `unapproved`.
    pub status: Status,
    pub trains_on_consumer_input: String,
    pub business_tier_without_training: String,
    pub hosts: Vec<String>,
    pub evidence: Vec<String>,
    #[serde(flatten)]
    pub traffic: Traffic,
}

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: String,
    #[serde(flatten)]
    pub label: DeviceLabel,
    pub mac: Option<String>,
    pub ips: Vec<String>,
    pub ai_services: u64,
    pub ai_flows: u64,
    #[serde(flatten)]
    pub traffic: Traffic,
}

/// Bytes are IP bytes: the length of each IP packet per its header (IP header + payload),
/// whatever the snaplen kept; "up" is client to server.
#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    pub flows: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub packets_up: u64,
    pub packets_down: u64,
    pub first_seen: String,
    pub last_seen: String,
}

impl From<&Totals> for Traffic {
    fn from(t: &Totals) -> Self {
        Traffic {
            flows: t.flows,
            bytes_up: t.bytes_up,
            bytes_down: t.bytes_down,
            packets_up: t.packets_up,
            packets_down: t.packets_down,
            first_seen: time::rfc3339(t.first_ts),
            last_seen: time::rfc3339(t.last_ts),
        }
    }
}

impl Report {
    pub fn build(
        outcome: &Outcome,
        catalogue: &Catalogue,
        policy: &Policy,
        inputs: Vec<Input>,
        warnings: Vec<String>,
    ) -> Report {
        let agg = &outcome.aggregates;
        let ips_list = |key: &DeviceKey| -> Vec<std::net::IpAddr> {
            agg.devices
                .get(key)
                .map(|d| d.ips.iter().copied().collect())
                .unwrap_or_default()
        };
        let ignored = |key: &DeviceKey| policy.ignores_device(key, &ips_list(key));
        let label = |key: &DeviceKey| -> DeviceLabel {
            policy
                .label(key, &ips_list(key))
                .cloned()
                .unwrap_or_default()
        };
        let ips_of = |key: &DeviceKey| -> Vec<String> {
            agg.devices
                .get(key)
                .map(|d| d.ips.iter().map(|ip| ip.to_string()).collect())
                .unwrap_or_default()
        };
        let mut findings: Vec<Finding> = agg
            .findings
            .iter()
            .filter(|((key, _), _)| !ignored(key))
            .filter_map(|((key, index), f)| {
                let service = catalogue.services.get(*index)?;
                let status = policy.status(service);
                Some(Finding {
                    device: key.to_string(),
                    device_label: label(key),
                    device_mac: mac_of(key),
                    device_ips: ips_of(key),
                    service_id: service.id.clone(),
                    service: service.name.clone(),
                    vendor: service.vendor.clone(),
                    kind: service.kind.to_string(),
                    status,
                    trains_on_consumer_input: service.data.trains_on_consumer_input.to_string(),
                    business_tier_without_training: service
                        .data
                        .business_tier_without_training
                        .to_string(),
                    hosts: f.hosts.keys().cloned().collect(),
                    evidence: f.evidence.iter().map(|e| e.as_str().to_string()).collect(),
                    traffic: Traffic::from(&f.totals),
                })
            })
            .collect();
        // Grouped by status, unapproved first; within a group, most data sent first: that is
        // the admin's first question.
        findings.sort_by(|a, b| {
            a.status
                .cmp(&b.status)
                .then_with(|| b.traffic.bytes_up.cmp(&a.traffic.bytes_up))
                .then_with(|| a.device.cmp(&b.device))
                .then_with(|| a.service_id.cmp(&b.service_id))
        });
        let devices = agg
            .devices
            .iter()
            .filter(|(key, _)| !ignored(key))
            .map(|(key, d)| Device {
                id: key.to_string(),
                label: label(key),
                mac: d.mac.map(|m| MacDisplay(m).to_string()),
                ips: d.ips.iter().map(|ip| ip.to_string()).collect(),
                ai_services: agg.findings.keys().filter(|(k, _)| k == key).count() as u64,
                ai_flows: d.ai_flows,
                traffic: Traffic::from(&d.totals),
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            tool: concat!("shadowai ", env!("CARGO_PKG_VERSION")).to_string(),
            inputs,
            first_seen: outcome.first_ts.map(time::rfc3339),
            last_seen: outcome.last_ts.map(time::rfc3339),
            findings,
            devices,
            stats: Stats {
                warnings: warnings.len() as u64,
                ..outcome.stats.clone()
            },
            warnings,
        }
    }
}

fn mac_of(key: &DeviceKey) -> Option<String> {
    match key {
        DeviceKey::Mac(m) => Some(MacDisplay(*m).to_string()),
        DeviceKey::Ip(_) => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Csv => csv::write(report, out),
    }
}

/// Writes `path` atomically: a temporary file in the same folder, then a rename, so a reader
/// (or a cron job's next step) never sees half a report.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut buffered = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buffered)?;
        buffered.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
