//! The flow table: packets grouped by canonical 5-tuple, with a client and a server side,
//! bytes and packets each way, first and last seen, and the client's first bytes reassembled
//! until the flow is named. Flows idle too long, closed, or over the cap are handed back to the
//! caller to be folded into the findings before they are freed: nothing is lost.
//!
//! It knows no protocol beyond TCP flags and no rule; naming a flow is the caller's business.

pub mod reassembly;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, SocketAddr};

use crate::decode::{PacketMeta, Transport};
use reassembly::ClientStream;

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// Default limit of flows held at once (`--max-flows`).
pub const DEFAULT_MAX_FLOWS: usize = 262_144;
const NANOS: u64 = 1_000_000_000;
/// A TCP connection with no packet for this long is folded and forgotten.
const TCP_IDLE: u64 = 300 * NANOS;
/// A TCP connection closed by FIN from both sides, or RST, is folded after this.
const TCP_CLOSED_IDLE: u64 = 10 * NANOS;
const UDP_IDLE: u64 = 120 * NANOS;
/// How often (in capture time) the table looks for idle flows.
const SWEEP_EVERY: u64 = 10 * NANOS;

/// How a flow got its name; the report lists these as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evidence {
    TlsSni,
    HttpHost,
    HttpConnect,
    DnsAnswer,
    /// SNI of a TLS ClientHello in decrypted QUIC Initial packets.
    QuicSni,
    /// SNI tag of a Google QUIC CHLO.
    GquicSni,
    /// No name at all, but the server address is in a range the vendor publishes.
    IpRange,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::TlsSni => "tls_sni",
            Evidence::HttpHost => "http_host",
            Evidence::HttpConnect => "http_connect",
            Evidence::DnsAnswer => "dns_answer",
            Evidence::QuicSni => "quic_sni",
            Evidence::GquicSni => "gquic_sni",
            Evidence::IpRange => "ip_range",
        }
    }
}

/// Which side of a flow sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server ("up").
    Up,
    /// Server to client ("down").
    Down,
}

/// What the naming parsers still expect from this flow's client bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// No client payload looked at yet.
    Unknown,
    /// Waiting for more of a TLS ClientHello.
    Tls,
    /// Waiting for more of an HTTP request head.
    Http,
    /// Named or given up: no more buffering of the client's first bytes.
    Done { follow: Follow },
}

/// What is still read from a flow after its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    Nothing,
    /// HTTP/1.x: later request heads (keep-alive, pipelining) are read from single segments.
    Http1,
    /// Cleartext HTTP/2: frames of both directions, for DNS over HTTPS bodies.
    H2c,
}

#[derive(Debug)]
pub struct Flow {
    pub protocol: u8,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Ethernet source of the client's frames, when the link layer has one.
    pub client_mac: Option<[u8; 6]>,
    pub first_ts: u64,
    pub last_ts: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub packets_up: u64,
    pub packets_down: u64,
    /// The name from the flow's own bytes (SNI, Host, CONNECT) and how it was found.
    pub name: Option<(String, Evidence)>,
    /// The name the client resolved for the server's address before the flow began.
    pub dns_name: Option<std::sync::Arc<str>>,
    pub naming: Naming,
    /// Client bytes being reassembled; dropped once naming is done.
    pub stream: Option<Box<ClientStream>>,
    fin_seen: u8,
    closed: bool,
}

impl Flow {
    /// The best name for the flow and its evidence: its own bytes first, then DNS.
    pub fn best_name(&self) -> Option<(&str, Evidence)> {
        match (&self.name, &self.dns_name) {
            (Some((n, e)), _) => Some((n.as_str(), *e)),
            (None, Some(n)) => Some((n, Evidence::DnsAnswer)),
            (None, None) => None,
        }
    }

    fn idle_limit(&self) -> u64 {
        match (self.protocol, self.closed) {
            (TCP, true) => TCP_CLOSED_IDLE,
            (TCP, false) => TCP_IDLE,
            _ => UDP_IDLE,
        }
    }
}

/// Canonical 5-tuple: the lower endpoint first, so both directions find the same flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    low: (IpAddr, u16),
    high: (IpAddr, u16),
    protocol: u8,
}

impl FlowKey {
    pub fn new(protocol: u8, a: (IpAddr, u16), b: (IpAddr, u16)) -> Self {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        FlowKey {
            low,
            high,
            protocol,
        }
    }
}

/// FxHash (from rustc): fast for short fixed-size keys; flow keys are not attacker-chosen
/// enough to matter for a single capture file and the table is capped.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

/// Ports that name a service: the side using one is the server when direction is unknown.
fn is_service_port(port: u16) -> bool {
    port < 1024 || matches!(port, 1900 | 3128 | 4433 | 5353 | 5355 | 8000 | 8080 | 8443)
}

/// Does the sender of this packet look like the client?
fn sender_is_client(meta: &PacketMeta<'_>) -> bool {
    if let Transport::Tcp { flags, .. } = meta.transport {
        if flags & SYN != 0 {
            return flags & ACK == 0;
        }
    }
    // First sender is the client, unless it speaks from a service port to an ephemeral one;
    // between two different service ports (DHCP 67/68) the lower one is the server.
    match (
        is_service_port(meta.src_port),
        is_service_port(meta.dst_port),
    ) {
        (true, false) => false,
        (true, true) if meta.src_port != meta.dst_port => meta.src_port > meta.dst_port,
        _ => true,
    }
}

pub struct FlowTable {
    flows: HashMap<FlowKey, Flow, FxBuild>,
    max_flows: usize,
    next_sweep: u64,
    /// Flows folded early because the table was full.
    pub evicted_by_cap: u64,
    pub created: u64,
}

impl FlowTable {
    pub fn new(max_flows: usize) -> Self {
        FlowTable {
            flows: HashMap::default(),
            max_flows: max_flows.max(16),
            next_sweep: 0,
            evicted_by_cap: 0,
            created: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Finds or creates the flow of a TCP or UDP packet and counts it. Returns the flow, the
    /// packet's direction, and whether the flow is new.
    pub fn track(&mut self, protocol: u8, meta: &PacketMeta<'_>) -> (&mut Flow, Direction, bool) {
        let key = FlowKey::new(
            protocol,
            (meta.src_ip, meta.src_port),
            (meta.dst_ip, meta.dst_port),
        );
        let mut created = false;
        let flow = self.flows.entry(key).or_insert_with(|| {
            created = true;
            let src = SocketAddr::new(meta.src_ip, meta.src_port);
            let dst = SocketAddr::new(meta.dst_ip, meta.dst_port);
            let client_first = sender_is_client(meta);
            let (client, server) = if client_first { (src, dst) } else { (dst, src) };
            Flow {
                protocol,
                client,
                server,
                client_mac: if client_first {
                    meta.src_mac
                } else {
                    meta.dst_mac
                },
                first_ts: meta.ts_nanos,
                last_ts: meta.ts_nanos,
                bytes_up: 0,
                bytes_down: 0,
                packets_up: 0,
                packets_down: 0,
                name: None,
                dns_name: None,
                naming: Naming::Unknown,
                stream: None,
                fin_seen: 0,
                closed: false,
            }
        });
        if created {
            self.created += 1;
        }
        let up = flow.client.ip() == meta.src_ip && flow.client.port() == meta.src_port;
        let direction = if up { Direction::Up } else { Direction::Down };
        let bytes = u64::from(meta.ip_len);
        match direction {
            Direction::Up => {
                flow.bytes_up += bytes;
                flow.packets_up += 1;
                if flow.client_mac.is_none() {
                    flow.client_mac = meta.src_mac;
                }
            }
            Direction::Down => {
                flow.bytes_down += bytes;
                flow.packets_down += 1;
            }
        }
        flow.first_ts = flow.first_ts.min(meta.ts_nanos);
        flow.last_ts = flow.last_ts.max(meta.ts_nanos);
        if let Transport::Tcp { flags, .. } = meta.transport {
            if flags & RST != 0 {
                flow.closed = true;
            }
            if flags & FIN != 0 {
                flow.fin_seen |= if up { 1 } else { 2 };
                flow.closed |= flow.fin_seen == 3;
            }
        }
        (flow, direction, created)
    }

    /// Hands out flows that are idle at capture time `now`, or the least recently seen ones when
    /// the table is over its cap. Cheap to call per packet: it sweeps at most every 10 s of
    /// capture time unless the cap is reached.
    pub fn expire(&mut self, now: u64, mut fold: impl FnMut(Flow)) {
        if now >= self.next_sweep {
            self.next_sweep = now.saturating_add(SWEEP_EVERY);
            let idle: Vec<FlowKey> = self
                .flows
                .iter()
                .filter(|(_, f)| now.saturating_sub(f.last_ts) > f.idle_limit())
                .map(|(k, _)| *k)
                .collect();
            for key in idle {
                if let Some(flow) = self.flows.remove(&key) {
                    fold(flow);
                }
            }
        }
        if self.flows.len() > self.max_flows {
            // Fold the oldest eighth at once so this costs O(n) only every n/8 new flows.
            let mut by_age: Vec<(u64, FlowKey)> =
                self.flows.iter().map(|(k, f)| (f.last_ts, *k)).collect();
            let cut = (self.max_flows / 8).max(1);
            by_age.select_nth_unstable_by_key(cut, |(ts, _)| *ts);
            for (_, key) in by_age.into_iter().take(cut) {
                if let Some(flow) = self.flows.remove(&key) {
                    self.evicted_by_cap += 1;
                    fold(flow);
                }
            }
        }
    }

    /// A period boundary (`scan --every`): hands every flow that carried packets since the last
    /// cut to `fold`, oldest first, then restarts its counters. The flow itself, its name and
    /// its reassembly state stay, so a connection that spans two periods is counted in both,
    /// each time with the bytes of that period only.
    pub fn cut(&mut self, mut fold: impl FnMut(&Flow)) {
        let mut active: Vec<&mut Flow> = self
            .flows
            .values_mut()
            .filter(|f| f.packets_up + f.packets_down > 0)
            .collect();
        active.sort_by_key(|f| (f.first_ts, f.client, f.server, f.protocol));
        for flow in active {
            fold(flow);
            flow.bytes_up = 0;
            flow.bytes_down = 0;
            flow.packets_up = 0;
            flow.packets_down = 0;
            // The next packet sets it (`track` keeps the minimum).
            flow.first_ts = u64::MAX;
        }
        self.evicted_by_cap = 0;
        self.created = 0;
    }

    /// Hands out every remaining flow (end of input), oldest first so the result is stable.
    pub fn drain(&mut self, mut fold: impl FnMut(Flow)) {
        let mut all: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        all.sort_by_key(|f| (f.first_ts, f.client, f.server, f.protocol));
        for flow in all {
            fold(flow);
        }
    }
}
