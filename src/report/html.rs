//! The owner's view: one self-contained HTML page (styles inline; no script, no image, no
//! font or link that loads anything), readable in any browser and fine to attach to an
//! e-mail. It holds what the admin's table holds, said for someone who does not read
//! tables of flows: what was used, by whom, how much was sent, and whether it was approved;
//! then every device, the inputs read and the warnings.
//!
//! Every string from the wire (names, hosts, addresses) and from the inventory goes through
//! `escape::html`: HTML's special characters become entities and control characters visible escapes,
//! so no name a device announces can add markup to the page. Nothing from the wire is put in
//! an attribute. The page depends on the report alone, so it is the same byte for byte for
//! the same report.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape::html as text;
use super::table::{human_bytes, short_time};
use super::{Finding, Report};
use crate::classify::policy::Status;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:78em;padding:0 1em;color:#1d2330;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d5d9e0;padding-bottom:.2em}
.meta{color:#5a6270;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:1em;margin:1.5em 0}
.card{border:1px solid #d5d9e0;border-radius:6px;padding:.7em 1em;min-width:10em}
.card b{display:block;font-size:1.5em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border-bottom:1px solid #e3e6eb;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.n,td.t{text-align:right;white-space:nowrap}td.t{text-align:left}
.small{color:#5a6270;font-size:.85em}
.unapproved{color:#a4161a;font-weight:600}.tolerated{color:#8a5a00;font-weight:600}.approved{color:#1b6e20;font-weight:600}
ul.warnings li{margin-bottom:.4em}
footer{margin-top:3em;color:#5a6270;font-size:.85em}
";

/// Writes the whole page.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    head(report, out, "AI services used on the network")?;
    summary(report, out)?;
    services(report, out)?;
    findings(report, out)?;
    devices(report, out)?;
    inputs(report, out)?;
    tail(report, out)
}

/// The page of `devices --format html`: every device, the inputs and the warnings.
pub fn write_devices(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    head(report, out, "Devices on the network")?;
    devices(report, out)?;
    inputs(report, out)?;
    tail(report, out)
}

fn head(report: &Report, out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>shadowai: {title}</title>")?;
    writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>")?;
    writeln!(out, "<h1>{title}</h1>")?;
    let when = match (&report.first_seen, &report.last_seen) {
        (Some(first), Some(last)) => format!(
            "Capture time {} to {} (UTC)",
            text(&short_time(first)),
            text(&short_time(last))
        ),
        _ => "No packet was read".to_string(),
    };
    let source = match &report.capture {
        Some(capture) => format!(
            "captured live on {} ({} to {} UTC)",
            text(&capture.interface),
            text(&short_time(&capture.started)),
            text(&short_time(&capture.ended))
        ),
        None => format!("{} capture file(s)", report.stats.files_read),
    };
    writeln!(
        out,
        "<p class=\"meta\">{when}; {source}; {} packets.</p>",
        report.stats.packets
    )
}

fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let count = |status: Status| report.count_status(status);
    let with_ai = report.devices_with_ai();
    let sent: u64 = report.findings.iter().map(|f| f.traffic.bytes_up).sum();
    let unapproved_sent: u64 = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Unapproved)
        .map(|f| f.traffic.bytes_up)
        .sum();
    let services = report
        .findings
        .iter()
        .map(|f| f.service_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    writeln!(out, "<div class=\"cards\">")?;
    let card = |out: &mut dyn Write, value: String, what: &str| {
        writeln!(out, "<div class=\"card\"><b>{value}</b>{what}</div>")
    };
    card(
        out,
        format!("{with_ai} of {}", report.devices.len()),
        "devices used AI services",
    )?;
    card(out, services.to_string(), "AI services used")?;
    card(
        out,
        count(Status::Unapproved).to_string(),
        "unapproved uses (device × service)",
    )?;
    card(out, human_bytes(sent), "sent to AI services")?;
    card(
        out,
        human_bytes(unapproved_sent),
        "sent to unapproved services",
    )?;
    writeln!(out, "</div>")?;
    if report.findings.is_empty() {
        writeln!(
            out,
            "<p>No use of an AI service was found in this traffic.</p>"
        )?;
    } else {
        writeln!(
            out,
            "<p>{} unapproved, {} tolerated and {} approved use(s) of an AI service (one per device and service). \
             “Sent” is what the device uploaded to the service: prompts, pasted text, files.</p>",
            count(Status::Unapproved),
            count(Status::Tolerated),
            count(Status::Approved)
        )?;
    }
    Ok(())
}

/// One row per service: how many devices, how much sent, under which status.
fn services(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.findings.is_empty() {
        return Ok(());
    }
    struct Row<'r> {
        first: &'r Finding,
        devices: usize,
        up: u64,
        down: u64,
    }
    let mut rows: BTreeMap<&str, Row<'_>> = BTreeMap::new();
    for f in &report.findings {
        let row = rows.entry(f.service_id.as_str()).or_insert(Row {
            first: f,
            devices: 0,
            up: 0,
            down: 0,
        });
        row.devices += 1;
        row.up += f.traffic.bytes_up;
        row.down += f.traffic.bytes_down;
    }
    let mut rows: Vec<Row<'_>> = rows.into_values().collect();
    // The findings come grouped by status, so a service's first finding holds its status;
    // most data sent first within a status, as the findings.
    rows.sort_by(|a, b| {
        a.first
            .status
            .cmp(&b.first.status)
            .then_with(|| b.up.cmp(&a.up))
            .then_with(|| a.first.service_id.cmp(&b.first.service_id))
    });
    writeln!(out, "<h2>By service</h2>\n<table>")?;
    writeln!(
        out,
        "<tr><th>Service</th><th>Vendor</th><th>Status</th><th>Devices</th><th>Sent</th><th>Received</th><th>Trains on consumer input</th><th>Business tier without training</th></tr>"
    )?;
    for row in rows {
        let f = row.first;
        writeln!(
            out,
            "<tr><td>{} <span class=\"small\">({})</span></td><td>{}</td><td class=\"{status}\">{status}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            text(&f.service),
            text(&f.kind),
            text(&f.vendor),
            row.devices,
            human_bytes(row.up),
            human_bytes(row.down),
            training(&f.trains_on_consumer_input),
            answer(&f.business_tier_without_training),
            status = f.status,
        )?;
    }
    writeln!(out, "</table>")
}

/// The catalogue's `trains_on_consumer_input` in words an owner reads without the README.
fn training(fact: &str) -> String {
    match fact {
        "yes" => "yes".to_string(),
        "no" => "no".to_string(),
        "opt-out" => "yes, unless turned off in settings".to_string(),
        "unknown" => "not known".to_string(),
        other => text(other),
    }
}

/// A yes/no fact of the catalogue, "unknown" said as the training column says it.
fn answer(fact: &str) -> String {
    match fact {
        "unknown" => "not known".to_string(),
        other => text(other),
    }
}

/// Who a finding's device is (`Finding::who`), then its MAC and first address.
fn who(f: &Finding) -> String {
    let mut lines = Vec::new();
    let named: Vec<String> = f.who().into_iter().map(text).collect();
    if !named.is_empty() {
        lines.push(format!("<b>{}</b>", named.join(", ")));
    }
    match (&f.device_mac, f.device_ips.first()) {
        (Some(mac), Some(ip)) => lines.push(format!(
            "<span class=\"small\">{} {}</span>",
            text(mac),
            text(ip)
        )),
        _ => lines.push(format!("<span class=\"small\">{}</span>", text(&f.device))),
    }
    lines.join("<br>")
}

fn findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h2>Who used what</h2>\n<table>")?;
    writeln!(
        out,
        "<tr><th>Device</th><th>Service</th><th>Status</th><th>Sent</th><th>Received</th><th>Connections</th><th>First seen (UTC)</th><th>Last seen (UTC)</th><th>Hosts</th><th>Seen by</th></tr>"
    )?;
    for f in &report.findings {
        let t = &f.traffic;
        let hosts: Vec<String> = f.hosts.iter().map(|h| text(h)).collect();
        let evidence: Vec<String> = f.evidence.iter().map(|e| text(e)).collect();
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"{status}\">{status}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
            who(f),
            text(&f.service),
            human_bytes(t.bytes_up),
            human_bytes(t.bytes_down),
            t.flows,
            text(&short_time(&t.first_seen)),
            text(&short_time(&t.last_seen)),
            hosts.join("<br>"),
            evidence.join(" "),
            status = f.status,
        )?;
    }
    writeln!(out, "</table>")
}

fn devices(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<h2>Devices ({})</h2>", report.devices.len())?;
    if report.devices.is_empty() {
        return writeln!(out, "<p>No device was seen.</p>");
    }
    writeln!(out, "<table>")?;
    writeln!(
        out,
        "<tr><th>Device</th><th>Name</th><th>Vendor</th><th>Addresses</th><th>AI services</th><th>Sent</th><th>Received</th><th>Connections</th><th>First seen (UTC)</th><th>Last seen (UTC)</th></tr>"
    )?;
    for d in &report.devices {
        let vendor = text(d.vendor_shown());
        let name: Vec<String> = d.who().into_iter().map(text).collect();
        let ips: Vec<String> = d.ips.iter().map(|ip| text(ip)).collect();
        let t = &d.traffic;
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{vendor}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>",
            text(&d.id),
            name.join(", "),
            ips.join("<br>"),
            d.ai_services,
            human_bytes(t.bytes_up),
            human_bytes(t.bytes_down),
            t.flows,
            text(&short_time(&t.first_seen)),
            text(&short_time(&t.last_seen)),
        )?;
    }
    writeln!(out, "</table>")
}

fn inputs(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if !report.inputs.is_empty() {
        writeln!(out, "<h2>What was read</h2>\n<table>")?;
        writeln!(
            out,
            "<tr><th>Input</th><th>Format</th><th>Packets</th><th>Read whole</th></tr>"
        )?;
        for input in &report.inputs {
            let whole = match (&input.error, input.complete) {
                (Some(error), _) => format!("no: {}", text(error)),
                (None, true) => "yes".to_string(),
                (None, false) => "no".to_string(),
            };
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{whole}</td></tr>",
                text(&input.path),
                input.format.as_deref().map(text).unwrap_or_default(),
                input.packets,
            )?;
        }
        writeln!(out, "</table>")?;
    }
    let stats = &report.stats;
    let malformed: u64 = stats.malformed.values().sum();
    let unsupported: u64 = stats.unsupported_link_types.values().sum();
    writeln!(
        out,
        "<p class=\"small\">{} packets, {} connections ({} named, {} to AI services); skipped: {malformed} malformed packet(s), {unsupported} frame(s) of link types not read.</p>",
        stats.packets, stats.flows, stats.named_flows, stats.ai_flows
    )?;
    if !report.warnings.is_empty() {
        writeln!(out, "<h2>Warnings</h2>\n<ul class=\"warnings\">")?;
        for warning in &report.warnings {
            writeln!(out, "<li>{}</li>", text(warning))?;
        }
        writeln!(out, "</ul>")?;
    }
    Ok(())
}

fn tail(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<footer>Made by {} from the network traffic alone: the names devices looked up and connected to, \
         never what they sent (no content is read or kept). Sizes are IP bytes. A device is known by its MAC \
         address, and by the name it announced on the network or the site inventory gave it.</footer>",
        text(&report.tool)
    )?;
    writeln!(out, "</body>\n</html>")
}
