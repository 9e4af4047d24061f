//! Folding finished flows into devices and findings.
//!
//! A device is keyed by the client's MAC where frames carry one, else by its IP address. A
//! finding is one device × one AI service: flows, bytes each way, first/last seen, the names
//! seen and the kinds of evidence that named them. Non-AI flows count towards their device
//! only. Everything here is a sum, a min/max or a set, so the order flows arrive in does not
//! change the result.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use super::policy::Policy;
use super::rules::Catalogue;
use crate::flow::{Evidence, Flow};

/// Hostnames remembered per finding (the report shows them; a flood must not grow it).
const HOSTS_PER_FINDING: usize = 32;
/// Addresses remembered per device.
const IPS_PER_DEVICE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKey {
    Mac([u8; 6]),
    Ip(IpAddr),
}

impl fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKey::Mac(m) => write!(f, "{}", MacDisplay(*m)),
            DeviceKey::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

pub struct MacDisplay(pub [u8; 6]);

impl fmt::Display for MacDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Traffic totals shared by devices and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub flows: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub packets_up: u64,
    pub packets_down: u64,
    pub first_ts: u64,
    pub last_ts: u64,
}

impl Totals {
    fn add(&mut self, flow: &Flow) {
        if self.flows == 0 {
            self.first_ts = flow.first_ts;
            self.last_ts = flow.last_ts;
        }
        self.flows += 1;
        self.bytes_up += flow.bytes_up;
        self.bytes_down += flow.bytes_down;
        self.packets_up += flow.packets_up;
        self.packets_down += flow.packets_down;
        self.first_ts = self.first_ts.min(flow.first_ts);
        self.last_ts = self.last_ts.max(flow.last_ts);
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeviceAgg {
    pub mac: Option<[u8; 6]>,
    pub ips: BTreeSet<IpAddr>,
    pub totals: Totals,
    pub ai_flows: u64,
}

#[derive(Debug, Clone, Default)]
pub struct FindingAgg {
    pub totals: Totals,
    /// Name → flows it named.
    pub hosts: BTreeMap<String, u64>,
    pub evidence: BTreeSet<Evidence>,
}

#[derive(Debug, Default)]
pub struct Aggregates {
    pub devices: BTreeMap<DeviceKey, DeviceAgg>,
    /// (device, index of the service in the catalogue) → finding.
    pub findings: BTreeMap<(DeviceKey, usize), FindingAgg>,
    pub flows: u64,
    pub named_flows: u64,
    pub ai_flows: u64,
}

impl Aggregates {
    pub fn fold(&mut self, flow: &Flow, catalogue: &Catalogue, policy: &Policy) {
        let key = match flow.client_mac {
            Some(mac) => DeviceKey::Mac(mac),
            None => DeviceKey::Ip(flow.client.ip()),
        };
        let device = self.devices.entry(key).or_default();
        device.mac = flow.client_mac;
        // 0.0.0.0 / :: is a device without an address yet (DHCP DISCOVER), not an address.
        if device.ips.len() < IPS_PER_DEVICE && !flow.client.ip().is_unspecified() {
            device.ips.insert(flow.client.ip());
        }
        device.totals.add(flow);
        self.flows += 1;

        let named = flow.best_name();
        if named.is_some() {
            self.named_flows += 1;
        }
        // A published address range names a flow only when no hostname does.
        let hit = match named {
            // A host the site chose to ignore is not AI use here.
            Some((name, _)) if policy.ignores_host(name) => None,
            Some((name, evidence)) => catalogue
                .match_host(name)
                .map(|m| (m.service_index, name.to_ascii_lowercase(), evidence)),
            None => catalogue.match_ip(flow.server.ip()).map(|m| {
                (
                    m.service_index,
                    flow.server.ip().to_string(),
                    Evidence::IpRange,
                )
            }),
        };
        let Some((service_index, host, evidence)) = hit else {
            return;
        };
        device.ai_flows += 1;
        self.ai_flows += 1;
        let finding = self.findings.entry((key, service_index)).or_default();
        finding.totals.add(flow);
        finding.evidence.insert(evidence);
        let host = host.trim_end_matches('.').to_string();
        if finding.hosts.len() < HOSTS_PER_FINDING || finding.hosts.contains_key(&host) {
            *finding.hosts.entry(host).or_default() += 1;
        }
    }
}
