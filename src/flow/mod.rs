//! The flow table: packets grouped by canonical 5-tuple, with a client and a server side,
//! bytes and packets each way, first and last seen, and the client's first bytes reassembled
//! until the flow is named. Flows idle too long, closed, or over the cap are handed back to the
//! caller to be folded into the findings before they are freed: nothing is lost.
//!
//! It knows no protocol beyond TCP flags and no rule; naming a flow is the caller's business.

pub mod reassembly;

use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, SocketAddr};

use hashbrown::HashTable;

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
    /// The host a SOCKS 4a or 5 client asked its proxy to connect to.
    SocksConnect,
    DnsAnswer,
    /// SNI of a TLS ClientHello in decrypted QUIC Initial packets.
    QuicSni,
    /// SNI tag of a Google QUIC CHLO.
    GquicSni,
    /// No name at all, but the server address is in a range the vendor publishes.
    IpRange,
}

impl Evidence {
    /// Every kind, in the order reports list them (`place` says where each is).
    pub const ALL: [Evidence; 8] = [
        Evidence::TlsSni,
        Evidence::HttpHost,
        Evidence::HttpConnect,
        Evidence::SocksConnect,
        Evidence::DnsAnswer,
        Evidence::QuicSni,
        Evidence::GquicSni,
        Evidence::IpRange,
    ];

    /// The kind as one bit of a set.
    pub fn bit(self) -> u16 {
        1 << self.place()
    }

    /// The kind's place in `ALL` (a new kind does not compile here until it has one).
    const fn place(self) -> usize {
        match self {
            Evidence::TlsSni => 0,
            Evidence::HttpHost => 1,
            Evidence::HttpConnect => 2,
            Evidence::SocksConnect => 3,
            Evidence::DnsAnswer => 4,
            Evidence::QuicSni => 5,
            Evidence::GquicSni => 6,
            Evidence::IpRange => 7,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::TlsSni => "tls_sni",
            Evidence::HttpHost => "http_host",
            Evidence::HttpConnect => "http_connect",
            Evidence::SocksConnect => "socks_connect",
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
    /// In a batch run, the index of the DNS lookup made for this flow while it waits for the
    /// batch's name stage to answer it.
    pub dns_lookup: Option<u32>,
    pub naming: Naming,
    /// Client bytes being reassembled; dropped once naming is done.
    pub stream: Option<Box<ClientStream>>,
    /// Which end of the flow's key the client is (`FlowKey::sender`), so that a packet's
    /// direction is read from its key without comparing its addresses.
    client_end: End,
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

    /// A new flow, started by `meta`'s packet (not counted yet), whose key is `key`.
    fn first(key: &FlowKey, meta: &PacketMeta<'_>) -> Flow {
        let src = SocketAddr::new(meta.src_ip, meta.src_port);
        let dst = SocketAddr::new(meta.dst_ip, meta.dst_port);
        let client_first = sender_is_client(meta);
        let (client, server) = if client_first { (src, dst) } else { (dst, src) };
        Flow {
            protocol: key.protocol(),
            client,
            server,
            client_mac: station(if client_first {
                meta.src_mac
            } else {
                meta.dst_mac
            }),
            first_ts: meta.ts_nanos,
            last_ts: meta.ts_nanos,
            bytes_up: 0,
            bytes_down: 0,
            packets_up: 0,
            packets_down: 0,
            name: None,
            dns_name: None,
            dns_lookup: None,
            naming: Naming::Unknown,
            stream: None,
            client_end: if client_first {
                key.sender
            } else {
                key.sender.other()
            },
            fin_seen: 0,
            closed: false,
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

/// When, in capture time, to look for idle flows: at the first packet at least `SWEEP_EVERY`
/// after the last look. One clock for all shards, read in capture order, so every shard looks
/// at the same moments whatever the thread that runs it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SweepClock {
    next: u64,
}

impl SweepClock {
    /// Whether a packet at `now` is the moment to look.
    pub fn due(&mut self, now: u64) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now.saturating_add(SWEEP_EVERY);
        true
    }
}

/// Which end of a canonical 5-tuple sent a packet: the lower endpoint, the higher, or both
/// (a packet to its own address and port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Low,
    High,
    Both,
}

impl End {
    fn other(self) -> End {
        match self {
            End::Low => End::High,
            End::High => End::Low,
            End::Both => End::Both,
        }
    }
}

/// Canonical 5-tuple: the lower endpoint first, so both directions find the same flow. Its
/// hash is computed once, when the key is made (with the packet's route), and picks both the
/// flow's shard and its slot in the shard's table. A key made from a packet also notes which
/// end sent it (`sender`), which is not part of the key: both directions' keys are equal.
#[derive(Debug, Clone, Copy)]
pub struct FlowKey {
    /// Addresses as 128-bit numbers (IPv4 ones IPv4-mapped).
    low: u128,
    high: u128,
    /// The rest of the key in one word, compared at once: the low and high ends' ports (bits
    /// 0–15, 16–31), the protocol (32–39), and whether the addresses are IPv6 (bit 40; IPv4
    /// ones are stored IPv4-mapped, and this keeps the two apart).
    rest: u64,
    /// The end that sent the packet the key was made from.
    sender: End,
    hash: u64,
}

impl PartialEq for FlowKey {
    fn eq(&self, other: &Self) -> bool {
        // The hash first: two different keys almost never share it, so a miss costs one compare.
        self.hash == other.hash
            && self.low == other.low
            && self.high == other.high
            && self.rest == other.rest
    }
}

impl Eq for FlowKey {}

impl std::hash::Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Odd 64-bit constants (digits of pi) that keep zero words from zeroing a product.
const MIX: [u64; 5] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
];

/// Multiplies into 128 bits and folds the halves: every input bit reaches every output bit.
fn fold_mul(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// An address as a 128-bit number: an IPv6 one as it reads, an IPv4 one IPv4-mapped.
#[inline]
pub fn addr_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => 0xffff_0000_0000 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An end's address as its flow key holds it: `addr_bits`, except that an IPv4 0.0.0.0 ("this
/// host": a DHCP client that has no address yet) takes the end's MAC in bits 64–111, which an
/// IPv4-mapped address never uses. Every client asking at once shares 0.0.0.0:68, so without
/// the MAC their DISCOVERs and REQUESTs were one flow, counted to whichever MAC came first,
/// and the others' devices lost them. `addr_from_bits` still gives 0.0.0.0.
#[inline(always)]
pub fn key_bits(bits: u128, v6: bool, mac: Option<[u8; 6]>) -> u128 {
    const UNSPECIFIED_V4: u128 = 0xffff_0000_0000;
    match mac {
        Some([a, b, c, d, e, f]) if bits == UNSPECIFIED_V4 && !v6 => {
            bits | u128::from(u64::from_be_bytes([0, 0, a, b, c, d, e, f])) << 64
        }
        _ => bits,
    }
}

/// The address `addr_bits` gave `bits`, an IPv6 one or not (`v6`).
#[inline]
pub fn addr_from_bits(bits: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(bits.into())
    } else {
        IpAddr::V4((bits as u32).into())
    }
}

impl FlowKey {
    #[inline]
    pub fn new(protocol: u8, a: (IpAddr, u16), b: (IpAddr, u16)) -> Self {
        let v6 = a.0.is_ipv6();
        Self::from_bits(protocol, v6, (addr_bits(a.0), a.1), (addr_bits(b.0), b.1))
    }

    /// `new` from the addresses as 128-bit numbers (`addr_bits`: IPv4 ones IPv4-mapped) and
    /// whether they are IPv6 ones.
    #[inline]
    pub fn from_bits(protocol: u8, v6: bool, a: (u128, u16), b: (u128, u16)) -> Self {
        let (sender, ((low, low_port), (high, high_port))) = match a.cmp(&b) {
            std::cmp::Ordering::Less => (End::Low, (a, b)),
            std::cmp::Ordering::Equal => (End::Both, (a, b)),
            std::cmp::Ordering::Greater => (End::High, (b, a)),
        };
        let rest = u64::from(low_port)
            | u64::from(high_port) << 16
            | u64::from(protocol) << 32
            | u64::from(v6) << 40;
        let x = fold_mul(low as u64 ^ MIX[0], (low >> 64) as u64 ^ MIX[1]);
        let y = fold_mul(high as u64 ^ MIX[2], (high >> 64) as u64 ^ MIX[3]);
        let hash = fold_mul(x ^ rest, y ^ MIX[4]);
        FlowKey {
            low,
            high,
            rest,
            sender,
            hash,
        }
    }

    /// The key of a TCP or UDP packet's flow.
    #[inline]
    pub fn of(protocol: u8, meta: &PacketMeta<'_>) -> Self {
        Self::new(
            protocol,
            (meta.src_ip, meta.src_port),
            (meta.dst_ip, meta.dst_port),
        )
    }

    /// The key with an IPv4 0.0.0.0 end made that end's MAC's own (`key_bits`: `src_mac` is
    /// the sender's, `dst_mac` the receiver's); any other key as it is. Only DHCP routes (UDP
    /// 67/68) are asked (`route::Route::unaddressed`): a host sends nothing else from 0.0.0.0,
    /// and what a damaged or crafted capture holds of it stays one flow per 5-tuple.
    #[cold]
    #[inline(never)]
    pub fn with_macs(self, src_mac: Option<[u8; 6]>, dst_mac: Option<[u8; 6]>) -> Self {
        let v6 = self.rest >> 40 & 1 == 1;
        let (low_port, high_port) = (self.rest as u16, (self.rest >> 16) as u16);
        let ((src, src_port), (dst, dst_port)) = match self.sender {
            End::High => ((self.high, high_port), (self.low, low_port)),
            End::Low | End::Both => ((self.low, low_port), (self.high, high_port)),
        };
        let keyed = (key_bits(src, v6, src_mac), key_bits(dst, v6, dst_mac));
        if keyed == (src, dst) {
            return self;
        }
        Self::from_bits(
            self.protocol(),
            v6,
            (keyed.0, src_port),
            (keyed.1, dst_port),
        )
    }

    /// Which end sent the packet the key was made from.
    pub fn sender(&self) -> End {
        self.sender
    }

    /// The flow's IP protocol number (TCP or UDP).
    pub fn protocol(&self) -> u8 {
        (self.rest >> 32) as u8
    }

    /// Which of `shards` shards holds this flow (bits of the hash that the table's own slot
    /// choice does not use, so a shard's table still gets well-spread hashes).
    pub fn shard(&self, shards: usize) -> usize {
        ((self.hash >> 32) as usize) % shards.max(1)
    }
}

/// FxHash (from rustc): fast for short fixed-size keys, with a final fold (`finish`). Its
/// multiply carries a word's low bits up but never its high bits down, and `hashbrown` picks a
/// key's bucket by the hash's low bits: without the fold, keys that differ only in their high
/// bytes (the addresses of one /16, whose octets hash as the word's upper half; the MACs of
/// one vendor, its devices' serial bytes likewise) all start in the same bucket, and a table
/// of 65,536 such keys took 7 s of probing to fill. (The flow table has its own hash.)
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
        fold_mul(self.hash, MIX[4])
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
    // A broadcast or multicast address names no one device: the end that has one is never
    // the client (a DHCP server's OFFER to 255.255.255.255:68 or a DHCPv6 SOLICIT to
    // ff02::1:2 would otherwise make the group the client, and a device of its own).
    match (is_group(meta.src_ip), is_group(meta.dst_ip)) {
        (false, true) => return true,
        (true, false) => return false,
        _ => {}
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

/// Whether `mac` can be one station's. A group address (the I/G bit set: broadcast,
/// multicast) names no one device: no station sends from one, but anonymised captures (zeek's
/// chromium ones) rewrite MACs into them. All zeros is no address at all (a loopback
/// interface's frames). Such a flow's client, or device, is known by its IP address.
pub fn is_station_mac(mac: [u8; 6]) -> bool {
    mac != [0; 6] && mac[0] & 0x01 == 0
}

/// `mac` if it can be one station's (`is_station_mac`).
fn station(mac: Option<[u8; 6]>) -> Option<[u8; 6]> {
    mac.filter(|mac| is_station_mac(*mac))
}

/// IPv4's limited broadcast and multicast, IPv6 multicast: addresses of no one host. (A
/// subnet's broadcast address cannot be told without its mask.)
fn is_group(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast(),
        IpAddr::V6(v6) => v6.is_multicast(),
    }
}

/// What the flow table reads of a packet: a `PacketMeta`, or a batch run's compact record of
/// one, which it reads without making the whole meta (that is made only for a new flow).
pub trait Seen {
    fn ts_nanos(&self) -> u64;
    /// The IP packet's length per its header: the bytes a flow counts.
    fn ip_len(&self) -> u32;
    /// A TCP segment's sequence number and flags.
    fn tcp(&self) -> Option<(u32, u8)>;
    /// A TCP segment's acknowledgment number (0 for anything else).
    fn tcp_ack(&self) -> u32;
    fn src_mac(&self) -> Option<[u8; 6]>;
    /// The whole meta (its payload left empty), for a flow this packet starts.
    fn meta(&self) -> PacketMeta<'static>;
}

impl Seen for PacketMeta<'_> {
    fn ts_nanos(&self) -> u64 {
        self.ts_nanos
    }
    fn ip_len(&self) -> u32 {
        self.ip_len
    }
    fn tcp(&self) -> Option<(u32, u8)> {
        match self.transport {
            Transport::Tcp { seq, flags, .. } => Some((seq, flags)),
            _ => None,
        }
    }
    fn tcp_ack(&self) -> u32 {
        match self.transport {
            Transport::Tcp { ack, .. } => ack,
            _ => 0,
        }
    }
    fn src_mac(&self) -> Option<[u8; 6]> {
        self.src_mac
    }
    fn meta(&self) -> PacketMeta<'static> {
        PacketMeta {
            payload: &[],
            ..*self
        }
    }
}

pub struct FlowTable {
    /// Each flow with its key, found by the key's own hash (`FlowKey::hash`).
    flows: HashTable<(FlowKey, Flow)>,
    /// The bucket of the flow the last packet went to. The next packet is most often of the
    /// same flow (86% of the packets of the bench input, per shard), and is found there with
    /// one compare instead of a search. Any bucket is safe to try: a stale one holds another
    /// flow or none.
    last: usize,
    max_flows: usize,
    /// Flows folded early because the table was full.
    pub evicted_by_cap: u64,
}

impl FlowTable {
    pub fn new(max_flows: usize) -> Self {
        FlowTable {
            flows: HashTable::new(),
            last: 0,
            max_flows: max_flows.max(1),
            evicted_by_cap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow> {
        self.flows
            .find_mut(key.hash, |(k, _)| k == key)
            .map(|(_, flow)| flow)
    }

    /// Finds or creates the flow of a TCP or UDP packet (`key` is `FlowKey::of` the packet)
    /// and counts it. Returns the flow, the packet's direction, and whether the flow is new.
    /// A flow of the same 5-tuple that had been idle longer than its limit is handed to `fold`
    /// and replaced: whether a quiet spell ends a flow depends on the flow's own packets only,
    /// not on when the table last swept, so any split of the table into shards makes the same
    /// flows.
    #[inline(always)]
    pub fn track(
        &mut self,
        key: &FlowKey,
        seen: &impl Seen,
        mut fold: impl FnMut(Flow),
    ) -> (&mut Flow, Direction, bool) {
        let ts = seen.ts_nanos();
        let last = matches!(self.flows.get_bucket(self.last), Some((k, _)) if k == key);
        let found = if last {
            self.flows.get_bucket_entry(self.last)
        } else {
            self.flows.find_entry(key.hash, |(k, _)| k == key)
        };
        let (flow, created) = match found {
            Ok(entry) => {
                self.last = entry.bucket_index();
                let (_, flow) = entry.into_mut();
                if ts.saturating_sub(flow.last_ts) > flow.idle_limit() {
                    fold(std::mem::replace(flow, Flow::first(key, &seen.meta())));
                    (flow, true)
                } else {
                    (flow, false)
                }
            }
            Err(absent) => {
                let entry = absent.into_table().insert_unique(
                    key.hash,
                    (*key, Flow::first(key, &seen.meta())),
                    |(k, _)| k.hash,
                );
                self.last = entry.bucket_index();
                (&mut entry.into_mut().1, true)
            }
        };
        // The packet's key says which end sent it; the flow, which end its client is.
        let up = key.sender == End::Both || key.sender == flow.client_end;
        let direction = if up { Direction::Up } else { Direction::Down };
        let bytes = u64::from(seen.ip_len());
        match direction {
            Direction::Up => {
                flow.bytes_up += bytes;
                flow.packets_up += 1;
                if flow.client_mac.is_none() {
                    flow.client_mac = station(seen.src_mac());
                }
            }
            Direction::Down => {
                flow.bytes_down += bytes;
                flow.packets_down += 1;
            }
        }
        flow.first_ts = flow.first_ts.min(ts);
        flow.last_ts = flow.last_ts.max(ts);
        if let Some((_, flags)) = seen.tcp() {
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

    /// Hands out the flows idle at capture time `now` (`SweepClock` says when to look).
    pub fn sweep(&mut self, now: u64, fold: impl FnMut(Flow)) {
        let idle: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, f)| now.saturating_sub(f.last_ts) > f.idle_limit())
            .map(|(k, _)| *k)
            .collect();
        self.take(idle, fold);
    }

    /// Takes the flows of `keys` out of the table, in that order, and hands each to `fold`;
    /// the number taken.
    fn take(&mut self, keys: impl IntoIterator<Item = FlowKey>, mut fold: impl FnMut(Flow)) -> u64 {
        let mut taken = 0;
        for key in keys {
            if let Ok(entry) = self.flows.find_entry(key.hash, |(k, _)| *k == key) {
                taken += 1;
                fold(entry.remove().0 .1);
            }
        }
        taken
    }

    /// When the table holds more than its cap, hands out the least recently seen eighth.
    /// Cheap to call per packet: the check is inline, the folding out of line.
    #[inline(always)]
    pub fn enforce_cap(&mut self, fold: impl FnMut(Flow)) {
        if self.flows.len() > self.max_flows {
            self.fold_oldest(fold);
        }
    }

    /// Folds the least recently seen eighth of the flows (the table is over its cap), so
    /// that `enforce_cap` costs O(n) only every n/8 new flows.
    #[cold]
    #[inline(never)]
    fn fold_oldest(&mut self, fold: impl FnMut(Flow)) {
        // Every flow's age with its bucket (16 bytes), not its key (72): the eighth to fold is
        // chosen among them, and only its keys are gathered, all before the table changes (a
        // bucket is a flow's place only until one is removed). The selection compares times
        // only, so it picks and orders the same flows as it would with the keys.
        let flows = &self.flows;
        let mut by_age: Vec<(u64, usize)> = flows
            .iter_buckets()
            .filter_map(|i| flows.get_bucket(i).map(|(_, f)| (f.last_ts, i)))
            .collect();
        let cut = (self.max_flows / 8).max(1);
        by_age.select_nth_unstable_by_key(cut, |(ts, _)| *ts);
        let oldest: Vec<FlowKey> = by_age
            .iter()
            .take(cut)
            .filter_map(|&(_, i)| flows.get_bucket(i).map(|(k, _)| *k))
            .collect();
        self.evicted_by_cap += self.take(oldest, fold);
    }

    /// A period boundary (`scan --every`): hands every flow that carried packets since the last
    /// cut to `fold`, oldest first, then restarts its counters. The flow itself, its name and
    /// its reassembly state stay, so a connection that spans two periods is counted in both,
    /// each time with the bytes of that period only.
    pub fn cut(&mut self, mut fold: impl FnMut(&Flow)) {
        let mut active: Vec<&mut Flow> = self
            .flows
            .iter_mut()
            .map(|(_, f)| f)
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
    }

    /// Hands out every remaining flow (end of input), oldest first so the result is stable.
    pub fn drain(&mut self, mut fold: impl FnMut(Flow)) {
        let mut all: Vec<Option<Flow>> = self.flows.drain().map(|(_, f)| Some(f)).collect();
        // Their places are sorted, not the flows (192 bytes each). No two flows of a table
        // share client, server and protocol, so the order is total.
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_unstable_by_key(|&i| {
            all.get(i)
                .and_then(Option::as_ref)
                .map(|f| (f.first_ts, f.client, f.server, f.protocol))
        });
        for i in order {
            if let Some(flow) = all.get_mut(i).and_then(Option::take) {
                fold(flow);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys that differ only in their high bytes (the addresses of one /16, the MACs of one
    /// vendor) spread over the low bits that pick a `hashbrown` bucket.
    #[test]
    fn fx_hashes_spread_keys_that_differ_in_their_high_bytes() {
        use std::hash::BuildHasher;
        let build = FxBuild::default();
        let buckets = |hashes: Vec<u64>| {
            let low: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
            low.len()
        };
        let addresses: Vec<u64> = (0..4096u32)
            .map(|n| build.hash_one(IpAddr::V4((0x0a00_0000 | n).into())))
            .collect();
        let macs: Vec<u64> = (0..4096u32)
            .map(|n| {
                let [_, a, b, c] = n.to_be_bytes();
                build.hash_one([0x3c, 0x22, 0xfb, a, b, c])
            })
            .collect();
        // 4,096 keys thrown at random into 4,096 buckets fill about 2,590 of them.
        assert!(buckets(addresses) > 2400);
        assert!(buckets(macs) > 2400);
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn both_directions_share_one_key_and_one_shard() {
        let a = (ip("192.168.1.20"), 51_000);
        let b = (ip("104.18.32.47"), 443);
        let up = FlowKey::new(TCP, a, b);
        let down = FlowKey::new(TCP, b, a);
        assert_eq!(up, down);
        assert_eq!(up.hash, down.hash);
        assert_eq!(up.shard(16), down.shard(16));
        // Any part that differs makes another flow.
        assert_ne!(up, FlowKey::new(UDP, a, b));
        assert_ne!(up, FlowKey::new(TCP, (a.0, 51_001), b));
        assert_ne!(up, FlowKey::new(TCP, a, (ip("104.18.32.48"), 443)));
        // An IPv4 address and its IPv4-mapped IPv6 form are different endpoints.
        let mapped = FlowKey::new(
            TCP,
            (ip("::ffff:192.168.1.20"), 51_000),
            (ip("::ffff:104.18.32.47"), 443),
        );
        assert_ne!(up, mapped);
    }

    /// A packet between two ends (`address`, port), of `transport`, without MACs or payload.
    fn between(src: (&str, u16), dst: (&str, u16), transport: Transport) -> PacketMeta<'static> {
        PacketMeta {
            ts_nanos: 1,
            src_mac: None,
            dst_mac: None,
            vlan: None,
            src_ip: ip(src.0),
            dst_ip: ip(dst.0),
            transport,
            src_port: src.1,
            dst_port: dst.1,
            payload: &[],
            payload_truncated: false,
            ip_len: 300,
            wire_len: 314,
        }
    }

    /// A broadcast or multicast end is never the client, whatever the ports say.
    #[test]
    fn a_group_address_is_never_the_client() {
        let meta = |src, dst| between(src, dst, Transport::Udp);
        // A DHCP server's OFFER to the broadcast address: by the ports alone (67 to 68) the
        // 68 end would be the client.
        assert!(sender_is_client(&meta(
            ("192.168.1.1", 67),
            ("255.255.255.255", 68)
        )));
        // A DHCPv6 SOLICIT (546 to 547): by the ports alone the group would be the client.
        assert!(sender_is_client(&meta(
            ("fe80::1", 546),
            ("ff02::1:2", 547)
        )));
        assert!(sender_is_client(&meta(
            ("192.168.1.20", 5353),
            ("224.0.0.251", 5353)
        )));
        assert!(!sender_is_client(&meta(
            ("239.255.255.250", 1900),
            ("192.168.1.20", 50_000)
        )));
        // Between two hosts the ports decide, as before.
        assert!(!sender_is_client(&meta(
            ("192.168.1.1", 67),
            ("192.168.1.20", 68)
        )));
    }

    /// DHCP clients without an address all send from 0.0.0.0:68 to 255.255.255.255:67: each
    /// MAC makes a flow of its own, both ways round, and only an IPv4 0.0.0.0 takes its MAC.
    #[test]
    fn unaddressed_clients_are_told_apart_by_mac() {
        let meta = |src, dst, macs: (Option<[u8; 6]>, Option<[u8; 6]>)| PacketMeta {
            src_mac: macs.0,
            dst_mac: macs.1,
            ..between((src, 68), (dst, 67), Transport::Udp)
        };
        let (one, two, all) = (
            Some([2, 0, 0, 0, 0, 1]),
            Some([2, 0, 0, 0, 0, 2]),
            Some([0xff; 6]),
        );
        let keyed = |m: &PacketMeta<'_>| FlowKey::of(UDP, m).with_macs(m.src_mac, m.dst_mac);
        let key = |src, dst, macs| keyed(&meta(src, dst, macs));
        let ask = |mac| key("0.0.0.0", "255.255.255.255", (mac, all));
        assert_ne!(ask(one), ask(two));
        assert_eq!(ask(one), ask(one));
        // Without a MAC (raw IP, a cooked capture's receiving end) 0.0.0.0 stays one end.
        assert_eq!(
            ask(None),
            FlowKey::new(UDP, (ip("0.0.0.0"), 68), (ip("255.255.255.255"), 67))
        );
        // A packet to 0.0.0.0 takes the receiving end's MAC: the same flow both ways.
        let there = key(
            "0.0.0.0",
            "192.168.1.1",
            (one, Some([0, 0x11, 0x32, 0, 0, 1])),
        );
        let back = keyed(&PacketMeta {
            src_port: 67,
            dst_port: 68,
            ..meta(
                "192.168.1.1",
                "0.0.0.0",
                (Some([0, 0x11, 0x32, 0, 0, 1]), one),
            )
        });
        assert_eq!(there, back);
        // Any other address, and IPv6's ::ffff:0.0.0.0 and ::, keep their MAC out of the key.
        for (src, v6) in [
            ("192.168.1.20", false),
            ("::ffff:0.0.0.0", true),
            ("::", true),
        ] {
            let bits = addr_bits(ip(src));
            assert_eq!(key_bits(bits, v6, one), bits);
        }
        let bits = key_bits(addr_bits(ip("0.0.0.0")), false, one);
        assert_ne!(bits, addr_bits(ip("0.0.0.0")));
        assert_eq!(addr_from_bits(bits, false), ip("0.0.0.0"));
    }

    /// A packet's direction comes from its key's sending end and the flow's client end: the
    /// same as asking whether the packet's source is the flow's client, for both ends, for
    /// IPv4 and IPv6, whichever end spoke first, and for a packet sent to its own address
    /// and port.
    #[test]
    fn direction_is_whether_the_client_sent_the_packet() {
        let meta = |src, dst, flags| {
            let transport = Transport::Tcp {
                seq: 0,
                ack: 0,
                flags,
            };
            PacketMeta {
                ip_len: 40,
                wire_len: 54,
                ..between(src, dst, transport)
            }
        };
        let pairs = [
            (("10.0.0.7", 51_000), ("104.18.32.47", 443)),
            (("104.18.32.47", 443), ("10.0.0.7", 51_000)),
            (("10.0.0.7", 443), ("10.0.0.7", 51_000)),
            (("fe80::1", 5353), ("2001:db8::1", 53)),
            (("10.0.0.7", 7), ("10.0.0.7", 7)),
        ];
        for (a, b) in pairs {
            // First from `a`, as a SYN (then `a` is the client) and not (then the ports
            // decide); then packets both ways.
            for first_flags in [SYN, ACK, SYN | ACK] {
                let mut table = FlowTable::new(16);
                let first = meta(a, b, first_flags);
                let key = FlowKey::of(TCP, &first);
                table.track(&key, &first, |_| {});
                for packet in [meta(a, b, ACK), meta(b, a, ACK), first] {
                    let key = FlowKey::of(TCP, &packet);
                    let (flow, direction, created) = table.track(&key, &packet, |_| {});
                    assert!(!created);
                    let from_client =
                        flow.client == SocketAddr::new(packet.src_ip, packet.src_port);
                    assert_eq!(
                        direction == Direction::Up,
                        from_client,
                        "{a:?} {b:?} {first_flags}"
                    );
                }
            }
        }
    }

    /// A group MAC (broadcast, multicast; anonymised captures rewrite MACs into them) is no
    /// client's MAC: the flow waits for an individual one from its client, or keeps none.
    #[test]
    fn a_group_mac_is_no_clients_mac() {
        let (group, station_mac) = (
            [0x33, 0x33, 0x3b, 0xed, 0xcb, 0x6c],
            [0x3c, 0x22, 0xfb, 0, 0, 1],
        );
        let up = |mac: [u8; 6]| PacketMeta {
            src_mac: Some(mac),
            dst_mac: Some([0x02, 0, 0, 0, 0, 9]),
            ..between(("10.0.0.7", 51_000), ("104.18.32.47", 443), Transport::Udp)
        };
        let mut table = FlowTable::new(16);
        let key = FlowKey::of(UDP, &up(group));
        let (flow, _, created) = table.track(&key, &up(group), |_| {});
        assert!(created);
        assert_eq!(flow.client_mac, None);
        let (flow, _, _) = table.track(&key, &up([0xff; 6]), |_| {});
        assert_eq!(flow.client_mac, None);
        let (flow, _, _) = table.track(&key, &up(station_mac), |_| {});
        assert_eq!(flow.client_mac, Some(station_mac));
        assert_eq!(station(Some(station_mac)), Some(station_mac));
        // All zeros (a loopback interface's frames) is no station's either.
        assert_eq!(station(Some([0; 6])), None);
    }

    /// Over its cap the table folds its least recently seen eighth, and a sweep folds the
    /// idle flows; neither disturbs the flows that stay.
    #[test]
    fn the_cap_folds_the_oldest_and_a_sweep_the_idle() {
        let at = |port: u16, secs: u64| PacketMeta {
            ts_nanos: secs * NANOS,
            ..between(
                ("10.0.0.7", 50_000 + port),
                ("104.18.32.47", 443),
                Transport::Udp,
            )
        };
        let mut table = FlowTable::new(16);
        let mut folded = Vec::new();
        let track = |table: &mut FlowTable, packet: &PacketMeta<'_>| {
            let key = FlowKey::of(UDP, packet);
            table.track(&key, packet, |_| unreachable!("no flow goes idle here"));
        };
        // Seventeen flows a second apart; the first is seen again last.
        for port in 1..=17 {
            track(&mut table, &at(port, u64::from(port)));
        }
        track(&mut table, &at(1, 18));
        assert_eq!(table.len(), 17);
        let port = |flow: Flow| flow.client.port() - 50_000;
        table.enforce_cap(|flow| folded.push(port(flow)));
        folded.sort_unstable();
        assert_eq!(folded, [2, 3]);
        assert_eq!((table.len(), table.evicted_by_cap), (15, 2));
        // Every flow left is found and counted as before: flow 1 with both its packets.
        for port in [1, 4, 17] {
            let key = FlowKey::of(UDP, &at(port, 0));
            let flow = table.get_mut(&key).expect("a flow that stayed");
            assert_eq!(flow.packets_up, if port == 1 { 2 } else { 1 });
        }
        // Past UDP's idle limit from second 10: flows 4 to 9 are idle, the rest are not.
        let mut idle = Vec::new();
        table.sweep(10 * NANOS + UDP_IDLE, |flow| idle.push(port(flow)));
        idle.sort_unstable();
        assert_eq!(idle, [4, 5, 6, 7, 8, 9]);
        assert_eq!(table.len(), 9);
        let mut left = Vec::new();
        table.drain(|flow| left.push(port(flow)));
        // The rest in order of their first packet.
        assert_eq!(left, [1, 10, 11, 12, 13, 14, 15, 16, 17]);
    }

    #[test]
    fn hashes_spread_over_shards_and_table_slots() {
        // One client, many servers on one port and many ports on one server: the shape of
        // real traffic, where only a few bytes of the key change.
        let client = ip("10.0.0.7");
        let mut shards = [0u32; 16];
        let mut low_bits = std::collections::HashSet::new();
        for i in 0..4096u32 {
            let server = IpAddr::from((0x6812_0000 + i).to_be_bytes());
            let key = FlowKey::new(TCP, (client, 50_000), (server, 443));
            shards[key.shard(16)] += 1;
            low_bits.insert(key.hash & 0xfff);
            let key = FlowKey::new(TCP, (client, 1024 + i as u16), (ip("1.1.1.1"), 443));
            shards[key.shard(16)] += 1;
        }
        // 8192 keys: each shard within 25% of its fair 512.
        assert!(
            shards.iter().all(|&n| (384..=640).contains(&n)),
            "{shards:?}"
        );
        // 4096 keys over 4096 low-bit values: a good hash fills well over half of them.
        assert!(low_bits.len() > 2_400, "{}", low_bits.len());
    }
}
