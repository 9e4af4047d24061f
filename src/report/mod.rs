//! The report: one serde model (`Report`, versioned by `schema_version`) built from what the
//! pipeline aggregated, and its renderers (terminal table, JSON, CSV, HTML). Renderers only format;
//! they never recompute. Strings that come off the wire (SNI, Host) are escaped by each
//! renderer for its medium.

pub mod catalogue;
pub mod csv;
pub mod devices;
pub mod diff;
pub mod escape;
pub mod html;
pub mod inspect;
pub mod interfaces;
pub mod pseudonym;
pub mod saved;
pub mod table;
pub mod time;

use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use std::collections::BTreeMap;

use crate::classify::devices::{is_locally_administered, vendor, DeviceTable};
use crate::classify::findings::{
    DeviceKey, MacDisplay, Totals, AI_ENDPOINTS_PAST_CAP, MAC_ONLY_CAP, MAX_ENDPOINTS,
};
use crate::classify::policy::{DeviceLabel, Policy, Status};
use crate::classify::rules::Catalogue;
use crate::pipeline::{Outcome, Stats};

/// Bumped whenever a field changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    pub inputs: Vec<Input>,
    /// Capture time of the first and last packet read (RFC 3339, UTC).
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub findings: Vec<Finding>,
    pub devices: Vec<Device>,
    /// MACs that carry many client addresses (routers): their traffic is attributed by IP.
    pub routers: Vec<String>,
    /// Set by `scan`: the interface and what libpcap counted in this report's period.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub capture: Option<LiveCapture>,
    pub stats: Stats,
    pub warnings: Vec<String>,
}

/// A live capture (`shadowai scan`) and libpcap's counters (`pcap_stats`) for the report's
/// period. `packets_received` counts what the kernel passed the capture filter; drops are
/// packets the kernel or the interface had to discard because this machine did not read them
/// in time. The counters are `null` where the platform keeps none.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveCapture {
    pub interface: String,
    /// LINKTYPE_ number of the interface (1: Ethernet).
    pub link_type: u32,
    pub filter: Option<String>,
    pub snaplen: u32,
    pub promiscuous: bool,
    /// Wall-clock start and end of the period (RFC 3339, UTC).
    pub started: String,
    pub ended: String,
    /// `period` (an `--every` boundary), `duration`, `packets`, `signal` or `error`.
    pub ended_by: Cow<'static, str>,
    pub packets_received: Option<u64>,
    pub packets_dropped_by_kernel: Option<u64>,
    pub packets_dropped_by_interface: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub path: String,
    pub format: Option<String>,
    pub packets: u64,
    /// False when the file was cut short, damaged, or could not be read.
    pub complete: bool,
    pub error: Option<String>,
}

/// One device × one AI service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub device: String,
    /// Name, owner and group from the site inventory, when it lists the device.
    #[serde(flatten)]
    pub device_label: DeviceLabel,
    /// The name the device announced on the network (DHCP, mDNS, NetBIOS...), best first.
    pub device_hostname: Option<String>,
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

/// A name a device announced, and the protocol it came by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearnedName {
    pub source: Cow<'static, str>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    #[serde(flatten)]
    pub label: DeviceLabel,
    /// The best of `names` (see README: DHCP host name, DHCP FQDN, DHCPv6 FQDN, mDNS,
    /// NetBIOS, LLMNR, in that order).
    pub hostname: Option<String>,
    pub names: Vec<LearnedName>,
    pub mac: Option<String>,
    /// A locally administered MAC: a phone's or laptop's private (randomised) address.
    pub randomized_mac: bool,
    /// The organisation the MAC's prefix is registered to (IEEE registry, built in).
    pub vendor: Option<Cow<'static, str>>,
    /// DHCP option 60, e.g. `MSFT 5.0`.
    pub vendor_class: Option<String>,
    pub ips: Vec<String>,
    pub ai_services: u64,
    pub ai_flows: u64,
    #[serde(flatten)]
    pub traffic: Traffic,
}

/// Bytes are IP bytes: the length of each IP packet per its header (IP header + payload),
/// whatever the snaplen kept; "up" is client to server.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Who a device is in words, for people: the inventory's name, owner and group (those it
/// gives), else the name the device announced; unescaped, each renderer escapes for its medium.
fn who<'r>(label: &'r DeviceLabel, hostname: &'r Option<String>) -> Vec<&'r str> {
    let named: Vec<&str> = [&label.name, &label.owner, &label.group]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if named.is_empty() {
        hostname.as_deref().into_iter().collect()
    } else {
        named
    }
}

impl Finding {
    /// Its device in words (`who`).
    pub fn who(&self) -> Vec<&str> {
        who(&self.device_label, &self.device_hostname)
    }
}

impl Device {
    /// Its device in words (`who`).
    pub fn who(&self) -> Vec<&str> {
        who(&self.label, &self.hostname)
    }

    /// The vendor as the views show it: the registry's, or that the MAC is randomised.
    pub fn vendor_shown(&self) -> &str {
        match (&self.vendor, self.randomized_mac) {
            (Some(v), _) => v,
            (None, true) => "(randomised MAC)",
            (None, false) => "",
        }
    }
}

/// Who a device is, worked out once per device for every row that mentions it.
struct Identity {
    label: DeviceLabel,
    mac: Option<String>,
    ips: Vec<String>,
    hostname: Option<String>,
    names: Vec<LearnedName>,
    randomized_mac: bool,
    vendor: Option<&'static str>,
    vendor_class: Option<String>,
    ignored: bool,
}

fn identity(
    key: &DeviceKey,
    device: &crate::classify::findings::DeviceAgg,
    table: &DeviceTable,
    policy: &Policy,
) -> Identity {
    let ips: Vec<std::net::IpAddr> = device.ips.iter().copied().collect();
    let mac = match key {
        DeviceKey::Mac(mac) => Some(*mac),
        DeviceKey::Ip(_) => None,
    };
    let names = table.names_of(mac, &ips);
    Identity {
        label: policy.label(key, &ips).cloned().unwrap_or_default(),
        mac: mac.map(|m| MacDisplay(m).to_string()),
        ips: ips.iter().map(|ip| ip.to_string()).collect(),
        hostname: names.best().map(|(name, _)| name.to_string()),
        names: names
            .all()
            .map(|(source, name)| LearnedName {
                source: source.as_str().into(),
                name: name.to_string(),
            })
            .collect(),
        randomized_mac: mac.is_some_and(is_locally_administered),
        vendor: mac.and_then(vendor),
        vendor_class: mac
            .and_then(|m| table.mac(&m))
            .and_then(|f| f.vendor_class.clone()),
        ignored: policy.ignores_device(key, &ips),
    }
}

impl Report {
    /// How many findings have `status`.
    pub fn count_status(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// How many devices used at least one AI service.
    pub fn devices_with_ai(&self) -> usize {
        self.devices.iter().filter(|d| d.ai_services > 0).count()
    }

    pub fn build(
        outcome: &Outcome,
        catalogue: &Catalogue,
        policy: &Policy,
        inputs: Vec<Input>,
        mut warnings: Vec<String>,
    ) -> Report {
        let view = outcome.aggregates.by_device();
        let who: BTreeMap<DeviceKey, Identity> = view
            .devices
            .iter()
            .map(|(key, d)| (*key, identity(key, d, &outcome.devices, policy)))
            .collect();
        let mut findings: Vec<Finding> = view
            .findings
            .iter()
            .filter_map(|((key, index), f)| {
                let id = who.get(key).filter(|id| !id.ignored)?;
                let service = catalogue.services.get(*index)?;
                Some(Finding {
                    device: key.to_string(),
                    device_label: id.label.clone(),
                    device_hostname: id.hostname.clone(),
                    device_mac: id.mac.clone(),
                    device_ips: id.ips.clone(),
                    service_id: service.id.clone(),
                    service: service.name.clone(),
                    vendor: service.vendor.clone(),
                    kind: service.kind.to_string(),
                    status: policy.status(service),
                    trains_on_consumer_input: service.data.trains_on_consumer_input.to_string(),
                    business_tier_without_training: service
                        .data
                        .business_tier_without_training
                        .to_string(),
                    hosts: f.hosts().map(str::to_string).collect(),
                    evidence: f.evidence().map(|e| e.as_str().to_string()).collect(),
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
        // One pass over the findings, not one per device.
        let mut services_per_device: BTreeMap<DeviceKey, u64> = BTreeMap::new();
        for (key, _) in view.findings.keys() {
            *services_per_device.entry(*key).or_default() += 1;
        }
        let devices = view
            .devices
            .iter()
            .filter_map(|(key, d)| {
                let id = who.get(key).filter(|id| !id.ignored)?;
                Some(Device {
                    id: key.to_string(),
                    label: id.label.clone(),
                    hostname: id.hostname.clone(),
                    names: id.names.clone(),
                    mac: id.mac.clone(),
                    randomized_mac: id.randomized_mac,
                    vendor: id.vendor.map(Cow::Borrowed),
                    vendor_class: id.vendor_class.clone(),
                    ips: id.ips.clone(),
                    ai_services: services_per_device.get(key).copied().unwrap_or(0),
                    ai_flows: d.ai_flows,
                    traffic: Traffic::from(&d.totals),
                })
            })
            .collect();
        let routers: Vec<String> = view
            .routers
            .iter()
            .map(|m| MacDisplay(*m).to_string())
            .collect();
        for router in &routers {
            warnings.push(format!(
                "{router} carries the traffic of many client addresses (a router in front of the capture point): its flows are attributed to devices by IP address"
            ));
        }
        let unbuffered = outcome.stats.streams_over_budget;
        if unbuffered > 0 {
            warnings.push(format!(
                "{unbuffered} flow(s) stopped waiting for the rest of a ClientHello or request head split over TCP segments or QUIC Initials, or of DNS messages over TCP or cleartext HTTP/2, because many flows at once were waiting (reassembly memory at its budget): such a flow is named by DNS only"
            ));
        }
        let folded = outcome.aggregates.endpoints_folded;
        if folded > 0 {
            warnings.push(format!(
                "{folded} flow(s) came from client addresses past the first {MAX_ENDPOINTS} this run keeps apart: they are counted under their MAC alone, with no address (a device shown as 0.0.0.0 where that MAC is a router's or there is none), and past {MAC_ONLY_CAP} such MACs under no MAC either (a device 0.0.0.0); clients with AI use keep their own addresses for {AI_ENDPOINTS_PAST_CAP} more"
            ));
        }
        Report {
            schema_version: SCHEMA_VERSION,
            tool: concat!("shadowai ", env!("CARGO_PKG_VERSION")).to_string(),
            inputs,
            first_seen: outcome.first_ts.map(time::rfc3339),
            last_seen: outcome.last_ts.map(time::rfc3339),
            findings,
            devices,
            routers,
            capture: None,
            stats: Stats {
                warnings: warnings.len() as u64,
                ..outcome.stats.clone()
            },
            warnings,
        }
    }
}

impl Report {
    /// Adds the live capture's facts, and a warning when it dropped packets.
    pub fn with_capture(mut self, capture: LiveCapture) -> Report {
        let kernel = capture.packets_dropped_by_kernel.unwrap_or(0);
        let interface = capture.packets_dropped_by_interface.unwrap_or(0);
        if kernel + interface > 0 {
            // On Linux, libpcap's "received" includes the packets the kernel dropped.
            let received = capture.packets_received.unwrap_or(0);
            self.warnings.push(format!(
                "this machine did not keep up with {}: {} packet(s) dropped by the kernel and {} by the interface \
                 (of {} the capture filter passed), so the findings may miss traffic; capture less with --filter \
                 (e.g. 'tcp port 443 or udp port 443 or port 53 or port 67'), or run on a faster machine",
                capture.interface,
                kernel,
                interface,
                received,
            ));
            self.stats.warnings = self.warnings.len() as u64;
        }
        self.capture = Some(capture);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// One self-contained page for the business owner.
    Html,
}

pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Csv => csv::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// Writes `path` atomically: a temporary file in the same folder, then a rename, so a reader
/// (or a cron job's next step) never sees half a report. Only a regular file (or a name not
/// taken yet) is replaced that way; see `replaceable`.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let Some(path) = replaceable(path) else {
        // Written through, appended: to a device or a FIFO that is the same as writing, and a
        // descriptor's link (`/dev/stdout`) then keeps what a `>>` redirection holds (a `>`
        // one is empty already). A link that leads to no file yet makes it.
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        let mut out = io::BufWriter::new(file);
        fill(&mut out)?;
        return out.flush();
    };
    let dir = folder_of(&path);
    // A report is for people, not a secret: like any file the admin creates it follows the
    // umask (usually 0644), not tempfile's 0600, so a report written after the capture dropped
    // to `nobody` is still readable by the admin who reads it.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".shadowai-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut buffered = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buffered)?;
        buffered.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// The folder `path` is in (`.` for a bare name), where its temporary file is made.
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The file a report at `path` replaces by a rename, or `None` when it must be written
/// through instead. A rename replaces whatever the name is, and as root that includes
/// `/dev/null` (a regular file in its place breaks the whole system), `/dev/stdout` (a
/// `>>` log would lose what it held), a FIFO a spreadsheet import reads from, or a symbolic
/// link the admin keeps pointing at the latest report. So: a regular file, or a name not taken
/// yet, is replaced (or made) by the rename; what is not a regular file is written through; a
/// symbolic link has the regular file it leads to replaced, except the links under `/dev` and
/// `/proc` (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`), which stand for a file descriptor
/// the caller opened, and links that lead to no regular file: those are written through.
pub(crate) fn replaceable(path: &Path) -> Option<std::path::PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_symlink() => {
            if path.starts_with("/dev") || path.starts_with("/proc") {
                return None;
            }
            let target = std::fs::canonicalize(path).ok()?;
            std::fs::metadata(&target)
                .is_ok_and(|meta| meta.is_file())
                .then_some(target)
        }
        Ok(meta) if !meta.is_file() => None,
        // A regular file, a name not taken, or one that cannot be looked at (the temporary
        // file's creation then says why).
        _ => Some(path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::policy::Policy;
    use crate::classify::rules::Catalogue;
    use crate::pipeline::{NoSignals, Options, Pipeline};

    fn live(kernel: u64, interface: u64) -> LiveCapture {
        LiveCapture {
            interface: "eth1".into(),
            link_type: 1,
            filter: None,
            snaplen: 262_144,
            promiscuous: true,
            started: "2026-12-04T07:00:00.000Z".into(),
            ended: "2026-12-04T08:00:00.000Z".into(),
            ended_by: "period".into(),
            packets_received: Some(1000),
            packets_dropped_by_kernel: Some(kernel),
            packets_dropped_by_interface: Some(interface),
        }
    }

    /// The report of a live capture that saw no packet, with these drop counters.
    fn live_report(kernel: u64, interface: u64) -> Report {
        let catalogue = Catalogue::from_sources(&[]).unwrap();
        let policy = Policy::default();
        let (outcome, _) =
            Pipeline::with_policy(&catalogue, &policy, Options::default(), NoSignals).finish();
        Report::build(&outcome, &catalogue, &policy, Vec::new(), Vec::new())
            .with_capture(live(kernel, interface))
    }

    #[test]
    fn clients_past_the_endpoint_cap_are_a_warning() {
        let catalogue = Catalogue::from_sources(&[]).unwrap();
        let policy = Policy::default();
        let (mut outcome, _) =
            Pipeline::with_policy(&catalogue, &policy, Options::default(), NoSignals).finish();
        outcome.aggregates.endpoints_folded = 12;
        let report = Report::build(&outcome, &catalogue, &policy, Vec::new(), Vec::new());
        assert_eq!(report.warnings.len(), 1);
        assert_eq!(report.stats.warnings, 1);
        let text = &report.warnings[0];
        assert!(
            text.starts_with(&format!(
                "12 flow(s) came from client addresses past the first {MAX_ENDPOINTS} "
            )),
            "{text}"
        );
    }

    #[test]
    fn drops_in_a_live_capture_are_a_warning() {
        let clean = live_report(0, 0);
        assert!(clean.warnings.is_empty(), "{:?}", clean.warnings);
        for (kernel, interface) in [(7, 0), (0, 3)] {
            let report = live_report(kernel, interface);
            assert_eq!(report.warnings.len(), 1);
            assert_eq!(report.stats.warnings, 1);
            let text = &report.warnings[0];
            assert!(text.contains("did not keep up with eth1"), "{text}");
            assert!(
                text.contains(&format!(
                    "{kernel} packet(s) dropped by the kernel and {interface} by the interface"
                )),
                "{text}"
            );
            // A live report read back (`render`) renders as it did: every format, the
            // capture's counters included.
            let json = serde_json::to_string(&report).unwrap();
            let back: Report = serde_json::from_str(&json).unwrap();
            for format in [Format::Json, Format::Table, Format::Csv, Format::Html] {
                assert_eq!(
                    rendered(render, &report, format),
                    rendered(render, &back, format)
                );
            }
            // The page says where and when it was captured, and the drop warning.
            let page = rendered(render, &report, Format::Html);
            assert!(page.contains("captured live on eth1 ("), "{page}");
            assert!(
                page.contains("<li>this machine did not keep up with eth1"),
                "{page}"
            );
        }
    }

    /// A report read back by `render` is a file anyone may have written: every string in it,
    /// times and catalogue words included, is escaped by every renderer.
    #[test]
    fn a_hostile_saved_report_renders_inert() {
        let report = live_report(0, 0);
        let mut json = serde_json::to_value(&report).unwrap();
        let bad = "<script>x</script>\u{1b}[2J";
        let traffic = serde_json::json!({"flows": 1, "bytes_up": 1, "bytes_down": 1,
            "packets_up": 1, "packets_down": 1, "first_seen": bad, "last_seen": bad});
        let mut finding = serde_json::json!({"device": bad, "device_name": bad, "owner": null,
            "group": null, "device_hostname": bad, "device_mac": bad, "device_ips": [bad],
            "service_id": bad, "service": bad, "vendor": bad, "kind": bad, "status": "unapproved",
            "trains_on_consumer_input": bad, "business_tier_without_training": bad,
            "hosts": [bad], "evidence": [bad]});
        let mut device = serde_json::json!({"id": bad, "device_name": bad, "owner": bad,
            "group": bad, "hostname": bad, "names": [{"source": bad, "name": bad}], "mac": bad,
            "randomized_mac": false, "vendor": bad, "vendor_class": bad, "ips": [bad],
            "ai_services": 1, "ai_flows": 1});
        for (key, value) in traffic.as_object().unwrap() {
            finding[key] = value.clone();
            device[key] = value.clone();
        }
        json["findings"] = serde_json::json!([finding]);
        json["devices"] = serde_json::json!([device]);
        json["first_seen"] = bad.into();
        json["last_seen"] = bad.into();
        json["warnings"] = serde_json::json!([bad]);
        json["routers"] = serde_json::json!([bad]);
        for key in ["interface", "started", "ended", "ended_by", "filter"] {
            json["capture"][key] = bad.into();
        }
        let hostile: Report = serde_json::from_value(json).unwrap();
        for view in [render, devices::render] {
            for format in [Format::Table, Format::Csv, Format::Html] {
                let text = rendered(view, &hostile, format);
                assert!(!text.contains('\u{1b}'), "{format:?}: {text}");
                if format == Format::Html {
                    assert!(!text.contains("<script"), "{text}");
                }
            }
        }
    }

    type View = fn(&Report, Format, &mut dyn Write) -> io::Result<()>;

    /// What `view` writes of `report` in `format`.
    fn rendered(view: View, report: &Report, format: Format) -> String {
        let mut out = Vec::new();
        view(report, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What `dir` holds besides the names in `keep`: a temporary file left behind, if any.
    fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !keep.contains(&name.as_str()))
            .collect()
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "an older, longer report\n").unwrap();
        write_atomically(&path, |out| out.write_all(b"new\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let fresh = dir.path().join("fresh.json");
        write_atomically(&fresh, |out| out.write_all(b"first\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "first\n");
        assert!(leftovers(dir.path(), &["report.json", "fresh.json"]).is_empty());
    }

    /// A link the admin keeps pointing at the latest report stays a link; the file it leads to
    /// gets the report, and a link to a file not made yet makes it.
    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_followed_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("monday.json");
        let link = dir.path().join("latest.json");
        std::fs::write(&target, "old\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomically(&link, |out| out.write_all(b"new\n")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");

        let dangling = dir.path().join("next.json");
        let later = dir.path().join("tuesday.json");
        std::os::unix::fs::symlink(&later, &dangling).unwrap();
        write_atomically(&dangling, |out| out.write_all(b"made\n")).unwrap();
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&later).unwrap(), "made\n");
        let names = ["monday.json", "latest.json", "next.json", "tuesday.json"];
        assert!(leftovers(dir.path(), &names).is_empty());
    }

    /// A FIFO (a spreadsheet import reading the report as it comes) is written through and
    /// stays a FIFO: a rename would have put a regular file in its place, as it did to
    /// `/dev/null` when root wrote a report there.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_through() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("import.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success(), "mkfifo (coreutils) is needed");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomically(&fifo, |out| out.write_all(b"through\n")).unwrap();
        // Before joining the reader, which would wait forever on a FIFO renamed away.
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "{kind:?}");
        assert_eq!(reader.join().unwrap(), "through\n");
        assert!(leftovers(dir.path(), &["import.fifo"]).is_empty());
    }

    #[test]
    fn device_and_process_names_are_written_through() {
        for name in ["/dev/null", "/proc/self/fd/1"] {
            assert_eq!(replaceable(Path::new(name)), None, "{name}");
        }
        // Made by udev or a container's runtime, so not on every machine.
        for name in ["/dev/stdout", "/dev/fd/1"] {
            if Path::new(name).symlink_metadata().is_ok() {
                assert_eq!(replaceable(Path::new(name)), None, "{name}");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(replaceable(dir.path()), None, "a folder");
        let err = write_atomically(dir.path(), |out| out.write_all(b"x")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory, "{err}");
    }
}
