//! Folding finished flows into devices and findings.
//!
//! Flows are summed per client endpoint (MAC, address); `by_device` then keys a device by the
//! client's MAC where frames carry one, else by its IP address, and by address behind a router
//! (one MAC carrying many client addresses). A finding is one device × one AI service: flows, bytes each way, first/last seen, the names
//! seen and the kinds of evidence that named them. Non-AI flows count towards their device
//! only. Everything here is a sum, a min/max or a set, so the order flows arrive in does not
//! change the result.

use std::borrow::Cow;
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

/// One device × AI service. Small on purpose: a capture of many clients that all use AI makes
/// one per client (up to the endpoint caps), so its names are a short sorted list and its
/// evidence kinds a bit set, not maps that allocate a tree node each.
#[derive(Debug, Clone, Default)]
pub struct FindingAgg {
    pub totals: Totals,
    /// Names, sorted, with the flows each named; at most `HOSTS_PER_FINDING`.
    hosts: Vec<(Box<str>, u64)>,
    /// `Evidence` kinds seen, one bit each (`Evidence::bit`).
    evidence: u16,
}

impl FindingAgg {
    fn merge(&mut self, other: &FindingAgg) {
        self.totals.merge(&other.totals);
        self.evidence |= other.evidence;
        for (host, flows) in &other.hosts {
            self.add_host(host, *flows);
        }
    }

    /// Counts `flows` flows named `host` (held in lower case: a name is compared as such, and
    /// copied only when it is new), unless the list is full and does not hold it yet.
    fn add_host(&mut self, host: &str, flows: u64) {
        let lower = || host.bytes().map(|b| b.to_ascii_lowercase());
        match self.hosts.binary_search_by(|(h, _)| h.bytes().cmp(lower())) {
            Ok(at) => {
                if let Some((_, n)) = self.hosts.get_mut(at) {
                    *n += flows;
                }
            }
            Err(at) if self.hosts.len() < HOSTS_PER_FINDING => {
                self.hosts
                    .insert(at, (host.to_ascii_lowercase().into_boxed_str(), flows));
            }
            Err(_) => {}
        }
    }

    /// The names that named this finding's flows, in order.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(|(host, _)| &**host)
    }

    /// The kinds of evidence that named them, in `Evidence`'s order.
    pub fn evidence(&self) -> impl Iterator<Item = Evidence> + '_ {
        Evidence::ALL
            .into_iter()
            .filter(|kind| self.evidence & kind.bit() != 0)
    }
}

impl Totals {
    fn merge(&mut self, other: &Totals) {
        if other.flows == 0 {
            return;
        }
        if self.flows == 0 {
            *self = other.clone();
            return;
        }
        self.flows += other.flows;
        self.bytes_up += other.bytes_up;
        self.bytes_down += other.bytes_down;
        self.packets_up += other.packets_up;
        self.packets_down += other.packets_down;
        self.first_ts = self.first_ts.min(other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
    }
}

/// A client as the frames show it: its MAC (when the link layer has one) and its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub mac: Option<[u8; 6]>,
    pub ip: IpAddr,
}

impl Endpoint {
    /// Where an endpoint past `MAX_ENDPOINTS` is counted: its MAC with an unspecified address.
    fn folded(self) -> Endpoint {
        let ip = match self.ip {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        };
        Endpoint { ip, ..self }
    }

    /// Where an endpoint is counted once `MAC_ONLY_CAP` MACs are held alone as well: no MAC,
    /// no address.
    fn anonymous(self) -> Endpoint {
        Endpoint {
            mac: None,
            ..self.folded()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct EndpointAgg {
    pub totals: Totals,
    pub ai_flows: u64,
}

/// Client endpoints tracked at most; further ones are counted under their MAC alone (with an
/// unspecified address), except for AI use: see `AI_ENDPOINTS_PAST_CAP`.
pub const MAX_ENDPOINTS: usize = 32_768;
/// Endpoints tracked past `MAX_ENDPOINTS` because a flow of theirs is AI use: which device used
/// an AI service is the report's first question, so a flood of other clients (scanners hitting
/// an office server, a router's whole subnet) must not fold a staff device's finding away.
pub const AI_ENDPOINTS_PAST_CAP: usize = 8_192;
/// Entries held under a MAC alone (an unspecified address: endpoints folded past the caps
/// above, or a DHCP client before its lease). Past them an endpoint is counted under neither
/// MAC nor address, so that a capture with a million MACs (a flood, a large segment of
/// randomising phones) still holds a bounded number of entries.
pub const MAC_ONLY_CAP: usize = 8_192;
/// A MAC that carries this many client IPv4 addresses, or IPv6 addresses in this many /64
/// networks, is a router in front of the capture point (e.g. a mirror port that sees routed
/// traffic of other subnets): its flows are attributed to devices by address. A laptop's DHCP
/// renewals stay well below it, and its IPv6 privacy addresses are one /64 (`routers`).
pub const ROUTER_MIN_ADDRESSES: usize = 16;

/// What finished flows add up to, per client endpoint (MAC, address) and per endpoint × AI
/// service. Grouping endpoints into devices is `by_device`'s job, once all is known.
#[derive(Debug, Default)]
pub struct Aggregates {
    pub endpoints: BTreeMap<Endpoint, EndpointAgg>,
    /// (endpoint, index of the service in the catalogue) → finding.
    pub findings: BTreeMap<(Endpoint, usize), FindingAgg>,
    pub flows: u64,
    pub named_flows: u64,
    pub ai_flows: u64,
    /// Flows of endpoints beyond `MAX_ENDPOINTS`, counted under an unspecified address.
    pub endpoints_folded: u64,
    /// Entries of `endpoints` with an unspecified address: `MAC_ONLY_CAP` at most, and the
    /// one or two (IPv4, IPv6) under no MAC.
    mac_only: usize,
}

impl Aggregates {
    pub fn fold(&mut self, flow: &Flow, catalogue: &Catalogue, policy: &Policy) {
        if flow.packets_up + flow.packets_down == 0 {
            // Idle since the last period cut (`scan --every`): nothing to report.
            return;
        }
        let named = flow.best_name();
        // A published address range names a flow only when no hostname does.
        let hit = match named {
            // A host the site chose to ignore is not AI use here.
            Some((name, _)) if policy.ignores_host(name) => None,
            Some((name, evidence)) => catalogue.match_host(name).map(|m| {
                let host = Cow::Borrowed(name.trim_end_matches('.'));
                (m.service_index, host, evidence)
            }),
            None => catalogue.match_ip(flow.server.ip()).map(|m| {
                let address = Cow::Owned(flow.server.ip().to_string());
                (m.service_index, address, Evidence::IpRange)
            }),
        };
        let client = Endpoint {
            mac: flow.client_mac,
            ip: flow.client.ip(),
        };
        let key = self.place(client, hit.is_some());
        if key.ip != client.ip {
            self.endpoints_folded += 1;
        }
        let endpoint = self.endpoints.entry(key).or_default();
        endpoint.totals.add(flow);
        self.flows += 1;
        if named.is_some() {
            self.named_flows += 1;
        }
        let Some((service_index, host, evidence)) = hit else {
            return;
        };
        endpoint.ai_flows += 1;
        self.ai_flows += 1;
        let finding = self.findings.entry((key, service_index)).or_default();
        finding.totals.add(flow);
        finding.evidence |= evidence.bit();
        finding.add_host(&host, 1);
    }

    /// Adds another set of aggregates (a flow shard's) to this one. Sums, minima, maxima and
    /// sets, so the result is what folding both sets of flows into one would give, with the
    /// caps applied in merge order (endpoints past `MAX_ENDPOINTS`, hosts past
    /// `HOSTS_PER_FINDING`): merging in a fixed order gives a fixed result.
    pub fn merge(&mut self, other: Aggregates) {
        if self.endpoints.is_empty() && self.findings.is_empty() && self.flows == 0 {
            *self = other;
            return;
        }
        let mut moved: BTreeMap<Endpoint, Endpoint> = BTreeMap::new();
        for (key, agg) in other.endpoints {
            let place = self.place(key, agg.ai_flows > 0);
            if place != key {
                if place.ip != key.ip {
                    self.endpoints_folded += agg.totals.flows;
                }
                moved.insert(key, place);
            }
            let endpoint = self.endpoints.entry(place).or_default();
            endpoint.totals.merge(&agg.totals);
            endpoint.ai_flows += agg.ai_flows;
        }
        for ((key, service), finding) in other.findings {
            let key = moved.get(&key).copied().unwrap_or(key);
            self.findings
                .entry((key, service))
                .or_default()
                .merge(&finding);
        }
        self.flows += other.flows;
        self.named_flows += other.named_flows;
        self.ai_flows += other.ai_flows;
        self.endpoints_folded += other.endpoints_folded;
    }

    /// The entry `client` is counted under, made room for. One held already is its own. A new
    /// one with an address gets its own entry while fewer than `MAX_ENDPOINTS` with addresses
    /// are held, and past that when it has AI use (`ai`), for `AI_ENDPOINTS_PAST_CAP` more;
    /// otherwise it is counted under its MAC alone. Entries under a MAC alone are held for
    /// `MAC_ONLY_CAP` MACs; past those, under no MAC either (`Endpoint::anonymous`).
    fn place(&mut self, client: Endpoint, ai: bool) -> Endpoint {
        if self.endpoints.contains_key(&client) {
            return client;
        }
        let with_address = self.endpoints.len() - self.mac_only;
        let admitted = with_address < MAX_ENDPOINTS
            || (ai && with_address < MAX_ENDPOINTS + AI_ENDPOINTS_PAST_CAP);
        if admitted && !client.ip.is_unspecified() {
            return client;
        }
        let by_mac = client.folded();
        if self.endpoints.contains_key(&by_mac) {
            return by_mac;
        }
        let place = if self.mac_only < MAC_ONLY_CAP {
            by_mac
        } else {
            client.anonymous()
        };
        if !self.endpoints.contains_key(&place) {
            self.mac_only += 1;
        }
        place
    }

    /// MACs that carry at least `ROUTER_MIN_ADDRESSES` client IPv4 addresses, or IPv6
    /// addresses in that many /64 networks. A laptop's IPv6 privacy addresses (a new one a day
    /// or more often: a month of captures holds thirty and more) share its network's /64, so
    /// they do not make it a router; a router's routed clients come from many addresses of
    /// IPv4. (An IPv6-only routed network behind one /64 is missed: its clients stay one
    /// device, the router's.)
    pub fn routers(&self) -> BTreeSet<[u8; 6]> {
        let mut per_mac: BTreeMap<[u8; 6], (usize, BTreeSet<u64>)> = BTreeMap::new();
        for endpoint in self.endpoints.keys() {
            let Some(mac) = endpoint.mac else {
                continue;
            };
            match endpoint.ip {
                IpAddr::V4(v4) if !v4.is_unspecified() => per_mac.entry(mac).or_default().0 += 1,
                IpAddr::V6(v6) if !v6.is_unspecified() => {
                    let network = (u128::from(v6) >> 64) as u64;
                    per_mac.entry(mac).or_default().1.insert(network);
                }
                _ => {}
            }
        }
        per_mac
            .into_iter()
            .filter(|(_, (v4, v6))| *v4 >= ROUTER_MIN_ADDRESSES || v6.len() >= ROUTER_MIN_ADDRESSES)
            .map(|(mac, _)| mac)
            .collect()
    }

    /// Endpoints grouped into devices: by MAC, except behind a router (by address), or when
    /// the frames carry no MAC.
    pub fn by_device(&self) -> DeviceView {
        let routers = self.routers();
        let key_of = |e: &Endpoint| match e.mac {
            Some(mac) if !routers.contains(&mac) => DeviceKey::Mac(mac),
            _ => DeviceKey::Ip(e.ip),
        };
        let mut view = DeviceView::default();
        for (endpoint, agg) in &self.endpoints {
            let key = key_of(endpoint);
            let device = view.devices.entry(key).or_default();
            if let DeviceKey::Mac(mac) = key {
                device.mac = Some(mac);
            }
            // 0.0.0.0 / :: is a device without an address yet (DHCP DISCOVER).
            if device.ips.len() < IPS_PER_DEVICE && !endpoint.ip.is_unspecified() {
                device.ips.insert(endpoint.ip);
            }
            device.totals.merge(&agg.totals);
            device.ai_flows += agg.ai_flows;
        }
        for ((endpoint, service), finding) in &self.findings {
            view.findings
                .entry((key_of(endpoint), *service))
                .or_default()
                .merge(finding);
        }
        view.routers = routers;
        view
    }
}

/// Devices and their findings, as reports show them.
#[derive(Debug, Default)]
pub struct DeviceView {
    pub devices: BTreeMap<DeviceKey, DeviceAgg>,
    pub findings: BTreeMap<(DeviceKey, usize), FindingAgg>,
    /// MACs attributed by address because they carry many clients.
    pub routers: BTreeSet<[u8; 6]>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::decode::{PacketMeta, Transport};
    use crate::flow::{FlowKey, FlowTable, TCP};

    const ROUTER: [u8; 6] = [0x00, 0x11, 0x32, 0, 0, 1];

    fn client(n: usize) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n as u32))
    }

    /// A finished TCP flow from client `n` (behind a router: every client has its MAC) to a
    /// server, named `name` by its SNI.
    fn flow(n: usize, name: Option<&str>) -> Flow {
        flow_from(ROUTER, n, name)
    }

    /// The MAC of client `n` on a segment where every client has its own.
    fn own_mac(n: usize) -> [u8; 6] {
        let [a, b, c, d] = (n as u32).to_be_bytes();
        [0x02, 0x5a, a, b, c, d]
    }

    /// `flow`, from `mac`.
    fn flow_from(mac: [u8; 6], n: usize, name: Option<&str>) -> Flow {
        let meta = PacketMeta {
            ts_nanos: 1,
            src_mac: Some(mac),
            dst_mac: None,
            vlan: None,
            src_ip: client(n),
            dst_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            transport: Transport::Tcp {
                seq: 0,
                ack: 0,
                flags: 0x02,
            },
            src_port: 50_000,
            dst_port: 443,
            payload: &[],
            payload_truncated: false,
            ip_len: 60,
            wire_len: 74,
        };
        let mut table = FlowTable::new(4);
        table.track(&FlowKey::of(TCP, &meta), &meta, |_| {});
        let mut finished = Vec::new();
        table.drain(|f| finished.push(f));
        let mut flow = finished.pop().expect("one flow");
        flow.name = name.map(|n| (n.to_owned(), Evidence::TlsSni));
        flow
    }

    fn endpoint(n: usize) -> Endpoint {
        Endpoint {
            mac: Some(ROUTER),
            ip: client(n),
        }
    }

    /// Aggregates holding `MAX_ENDPOINTS` clients, client `n`'s flow `flow_of(n)`, none of them AI.
    fn held_to_the_cap(flow_of: impl Fn(usize) -> Flow) -> Aggregates {
        let (catalogue, policy) = (Catalogue::embedded().unwrap(), Policy::default());
        let mut full = Aggregates::default();
        for n in 0..MAX_ENDPOINTS {
            full.fold(&flow_of(n), &catalogue, &policy);
        }
        full
    }

    /// Past `MAX_ENDPOINTS` clients a new one is counted under its MAC alone, unless its flow
    /// is AI use, which keeps its own entry (and its finding its address) for
    /// `AI_ENDPOINTS_PAST_CAP` more; past those, AI use folds too. Merging applies the same
    /// rule, by whether the merged endpoint had AI use.
    #[test]
    fn clients_past_the_cap_fold_but_ai_use_keeps_its_address() {
        let catalogue = Catalogue::embedded().unwrap();
        let policy = Policy::default();
        let full = held_to_the_cap(|n| flow(n, None));
        assert_eq!(
            (full.endpoints.len(), full.endpoints_folded),
            (MAX_ENDPOINTS, 0)
        );
        let mut agg = Aggregates::default();
        agg.merge(Aggregates {
            endpoints: full.endpoints.clone(),
            ..Aggregates::default()
        });

        let (other, ai) = (MAX_ENDPOINTS, MAX_ENDPOINTS + 1);
        agg.fold(&flow(other, None), &catalogue, &policy);
        agg.fold(&flow(ai, Some("chatgpt.com")), &catalogue, &policy);
        // A client already held keeps its entry, whatever its flow.
        agg.fold(&flow(0, None), &catalogue, &policy);
        assert_eq!(agg.endpoints_folded, 1);
        assert!(!agg.endpoints.contains_key(&endpoint(other)));
        assert!(agg.endpoints.contains_key(&endpoint(other).folded()));
        assert_eq!(
            agg.endpoints.get(&endpoint(ai)).map(|e| e.ai_flows),
            Some(1)
        );
        assert_eq!(
            agg.endpoints.get(&endpoint(0)).map(|e| e.totals.flows),
            Some(2)
        );
        let keys: Vec<Endpoint> = agg.findings.keys().map(|(e, _)| *e).collect();
        assert_eq!(keys, [endpoint(ai)]);

        // The same through `merge`, into an aggregate that is full.
        let mut shard = Aggregates::default();
        shard.fold(&flow(other, None), &catalogue, &policy);
        shard.fold(&flow(ai, Some("chatgpt.com")), &catalogue, &policy);
        let mut merged = Aggregates::default();
        merged.merge(Aggregates {
            endpoints: full.endpoints.clone(),
            ..Aggregates::default()
        });
        merged.merge(shard);
        assert_eq!(merged.endpoints_folded, 1);
        assert_eq!(
            merged
                .endpoints
                .keys()
                .filter(|e| e.ip.is_unspecified())
                .count(),
            1
        );
        let keys: Vec<Endpoint> = merged.findings.keys().map(|(e, _)| *e).collect();
        assert_eq!(keys, [endpoint(ai)]);

        // AI use past both caps folds as well, its finding under the MAC alone.
        let last = MAX_ENDPOINTS + AI_ENDPOINTS_PAST_CAP;
        for n in ai + 1..last + 2 {
            agg.fold(&flow(n, Some("claude.ai")), &catalogue, &policy);
        }
        // `last` entries with an address, and beside them the router's MAC alone.
        assert_eq!(agg.endpoints.len(), last + 1);
        assert_eq!(agg.mac_only, 1);
        assert!(!agg.endpoints.contains_key(&endpoint(last + 1)));
        assert!(agg
            .findings
            .keys()
            .any(|(e, _)| *e == endpoint(last + 1).folded()));
    }

    /// A capture with more MACs than any cap (a flood, a large segment of randomising phones)
    /// still holds a bounded number of entries: past `MAX_ENDPOINTS`, `MAC_ONLY_CAP` MACs alone,
    /// then one entry with neither MAC nor address. The entries under a MAC alone do not use up
    /// the room kept for AI use. Merging a shard gives the same entries.
    #[test]
    fn clients_past_every_cap_are_held_in_bounded_entries() {
        let catalogue = Catalogue::embedded().unwrap();
        let policy = Policy::default();
        let full = held_to_the_cap(|n| flow_from(own_mac(n), n, None));
        let extra = MAX_ENDPOINTS..MAX_ENDPOINTS + MAC_ONLY_CAP + 10;
        let ai = extra.end;
        let mut folded = Aggregates::default();
        folded.merge(Aggregates {
            endpoints: full.endpoints.clone(),
            ..Aggregates::default()
        });
        let mut shard = Aggregates::default();
        for n in extra.clone() {
            let flow = flow_from(own_mac(n), n, None);
            folded.fold(&flow, &catalogue, &policy);
            shard.fold(&flow, &catalogue, &policy);
        }
        let ai_flow = flow_from(own_mac(ai), ai, Some("claude.ai"));
        folded.fold(&ai_flow, &catalogue, &policy);
        shard.fold(&ai_flow, &catalogue, &policy);

        let anonymous = Endpoint {
            mac: None,
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        let ai_client = Endpoint {
            mac: Some(own_mac(ai)),
            ip: client(ai),
        };
        let mut merged = full;
        merged.merge(shard);
        for agg in [&folded, &merged] {
            assert_eq!(agg.endpoints.len(), MAX_ENDPOINTS + MAC_ONLY_CAP + 2);
            assert_eq!(agg.endpoints_folded, (MAC_ONLY_CAP + 10) as u64);
            let first_extra = Endpoint {
                mac: Some(own_mac(MAX_ENDPOINTS)),
                ip: client(MAX_ENDPOINTS),
            };
            assert!(agg.endpoints.contains_key(&first_extra.folded()));
            assert_eq!(
                agg.endpoints.get(&anonymous).map(|e| e.totals.flows),
                Some(10)
            );
            assert_eq!(agg.endpoints.get(&ai_client).map(|e| e.ai_flows), Some(1));
            let keys: Vec<Endpoint> = agg.findings.keys().map(|(e, _)| *e).collect();
            assert_eq!(keys, [ai_client]);
        }
        assert_eq!(
            folded.endpoints.keys().collect::<Vec<_>>(),
            merged.endpoints.keys().collect::<Vec<_>>()
        );
    }

    /// A laptop with a month of IPv6 privacy addresses (all in its network's /64) is no router;
    /// a MAC with 16 IPv4 client addresses is, and so is one with IPv6 clients in 16 /64s.
    #[test]
    fn routers_are_told_by_ipv4_addresses_or_ipv6_networks() {
        let mut agg = Aggregates::default();
        let mut add = |mac: [u8; 6], ip: IpAddr| {
            let key = Endpoint { mac: Some(mac), ip };
            agg.endpoints.insert(key, EndpointAgg::default());
        };
        let (laptop, router, router6) = (own_mac(1), own_mac(2), own_mac(3));
        add(laptop, client(7));
        add(laptop, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        for day in 0..40u128 {
            let privacy = (0x2001_0db8_0001_0002_u128 << 64) | (day * 0x1234_5678_9abc);
            add(laptop, IpAddr::V6(privacy.into()));
        }
        for n in 0..ROUTER_MIN_ADDRESSES {
            add(router, client(100 + n));
            let network = (0x2001_0db8_0002_0000_u128 + n as u128) << 64;
            add(router6, IpAddr::V6((network | 1).into()));
        }
        let routers: Vec<[u8; 6]> = agg.routers().into_iter().collect();
        assert_eq!(routers, [router, router6]);
    }

    /// A finding's names and evidence kinds come out sorted and capped as the report lists them.
    #[test]
    fn a_findings_names_are_sorted_and_capped() {
        let mut finding = FindingAgg::default();
        for n in (0..40).rev() {
            finding.add_host(&format!("h{n:02}.example"), 1);
        }
        finding.add_host("h05.example", 2);
        // A name in capitals is the same name, held in lower case.
        finding.add_host("H10.Example", 3);
        finding.evidence |= Evidence::IpRange.bit() | Evidence::TlsSni.bit();
        let hosts: Vec<&str> = finding.hosts().collect();
        assert_eq!(hosts.len(), HOSTS_PER_FINDING);
        assert!(hosts.windows(2).all(|w| w[0] < w[1]), "{hosts:?}");
        assert_eq!(
            hosts[0], "h08.example",
            "the first 32 added were h39 down to h08"
        );
        assert_eq!(
            finding
                .hosts
                .iter()
                .find(|(h, _)| &**h == "h08.example")
                .map(|h| h.1),
            Some(1)
        );
        let h10 = finding.hosts.iter().find(|(h, _)| &**h == "h10.example");
        assert_eq!(h10.map(|h| h.1), Some(4));
        let kinds: Vec<Evidence> = finding.evidence().collect();
        assert_eq!(kinds, [Evidence::TlsSni, Evidence::IpRange]);
        for (at, kind) in Evidence::ALL.into_iter().enumerate() {
            assert_eq!(
                kind.bit(),
                1 << at,
                "{kind:?} is at its place in Evidence::ALL"
            );
        }
    }
}
