//! The pipeline that carries every packet through the stages:
//! capture → decode → flow → proto → classify.
//!
//! It owns no protocol knowledge itself: it decides which parser a payload goes to (by
//! transport, port and the first bytes), names flows from what the parsers return, feeds DNS
//! answers into the passive DNS map and folds finished flows into the aggregates. Name signals
//! go to a `SignalSink` (the `inspect` command); the audit uses `NoSignals`, which the compiler
//! removes entirely.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use serde::Serialize;

use crate::capture::file::{CaptureError, FileSource};
use crate::capture::RawPacket;
use crate::classify::devices::{DeviceTable, NameSource};
use crate::classify::dnsmap::DnsMap;
use crate::classify::findings::Aggregates;
use crate::classify::policy::Policy;
use crate::classify::rules::Catalogue;
use crate::decode::{DecodeError, Decoded, Decoder, PacketMeta, Transport};
use crate::flow::{Direction, Evidence, Flow, FlowTable, Follow, FxBuild, Naming, TCP, UDP};
use crate::proto::{dns, http, http2, tls, ProtoError};

mod names;
mod quic;

const DNS_PORT: u16 = 53;
const MDNS_PORT: u16 = 5353;
const LLMNR_PORT: u16 = 5355;
const SSDP_PORT: u16 = 1900;
/// Bytes of a DNS-over-TCP or h2c stream kept per direction while a message completes.
const APP_STREAM_MAX: usize = 64 * 1024;
/// HTTP/2 streams whose DATA bodies are collected at once, per direction.
const H2_BODIES_MAX: usize = 16;
/// Client datagrams of a UDP flow looked at for a QUIC long header before giving up (the first
/// captured one may be a short-header packet of a connection already running).
const QUIC_LOOK_DATAGRAMS: u64 = 3;
/// Restarts allowed for a flow whose SYN was missed and whose first bytes made no sense.
const MAX_RESTARTS: u8 = 4;

/// One name seen in a packet, for `inspect`.
#[derive(Debug, Clone, Copy)]
pub struct Signal<'a> {
    /// 1-based packet number in its file.
    pub frame: u64,
    pub kind: &'static str,
    pub value: &'a str,
    pub src_mac: Option<[u8; 6]>,
    /// Addresses and ports of the packet; `None` for a frame without IP (ARP).
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

pub trait SignalSink {
    /// False when nobody listens: the pipeline then skips formatting values.
    fn enabled(&self) -> bool {
        true
    }
    fn signal(&mut self, signal: &Signal<'_>);
}

/// The sink of the audit: signals are not wanted.
pub struct NoSignals;

impl SignalSink for NoSignals {
    fn enabled(&self) -> bool {
        false
    }
    fn signal(&mut self, _: &Signal<'_>) {}
}

/// Counters of everything read; part of every report.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub files_read: u64,
    pub packets: u64,
    /// Frame bytes as captured (after snaplen).
    pub captured_bytes: u64,
    pub ip_packets: u64,
    pub non_ip_frames: u64,
    pub fragments_held: u64,
    pub flows: u64,
    pub named_flows: u64,
    pub ai_flows: u64,
    pub flows_evicted_by_cap: u64,
    pub dns_messages: u64,
    pub tls_client_hellos: u64,
    pub http_requests: u64,
    /// Packets that could not be decoded, by reason.
    pub malformed: BTreeMap<String, u64>,
    /// Frames of link types we do not decode, by LINKTYPE_ number.
    pub unsupported_link_types: BTreeMap<u32, u64>,
    /// Inputs cut short or damaged (the report's `warnings` say which and where).
    pub warnings: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub max_flows: usize,
}

/// One direction of a TCP connection read message by message (DNS over TCP, h2c frames):
/// the in-order bytes not yet used, bounded, and the DATA bodies of open HTTP/2 streams.
#[derive(Default)]
struct AppStream {
    next_seq: Option<u32>,
    buf: Vec<u8>,
    h2_bodies: Vec<(u32, Vec<u8>)>,
}

impl AppStream {
    /// Appends a segment's new in-order bytes. A gap drops what was held: it can never
    /// complete. A retransmission adds only what is new.
    fn append(&mut self, seq: u32, payload: &[u8]) {
        let data = match self.next_seq {
            Some(next) => {
                let ahead = seq.wrapping_sub(next) as i32;
                if ahead < 0 {
                    payload
                        .get(ahead.unsigned_abs() as usize..)
                        .unwrap_or_default()
                } else {
                    if ahead > 0 {
                        self.buf.clear();
                        self.h2_bodies.clear();
                    }
                    payload
                }
            }
            None => payload,
        };
        let end = seq.wrapping_add(payload.len() as u32);
        if self
            .next_seq
            .is_none_or(|next| (end.wrapping_sub(next) as i32) > 0)
        {
            self.next_seq = Some(end);
        }
        if self.buf.len() + data.len() > APP_STREAM_MAX {
            self.buf.clear();
        } else {
            self.buf.extend_from_slice(data);
        }
    }
}

/// The protocols that share the DNS message format, each with its own signal kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DnsFamily {
    Dns,
    /// DNS found in another protocol's body (DNS over cleartext HTTP/2).
    DnsInBody,
    Mdns,
    Llmnr,
}

impl DnsFamily {
    fn kinds(self) -> (&'static str, &'static str) {
        match self {
            DnsFamily::Dns | DnsFamily::DnsInBody => ("dns_query", "dns_answer"),
            DnsFamily::Mdns => ("mdns_query", "mdns_answer"),
            DnsFamily::Llmnr => ("llmnr_query", "llmnr_answer"),
        }
    }
}

/// Which message protocol an `AppStream` carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AppKind {
    DnsOverTcp,
    H2c,
}

pub struct Pipeline<'c, S: SignalSink> {
    decoder: Decoder,
    state: State<'c, S>,
}

struct State<'c, S: SignalSink> {
    catalogue: &'c Catalogue,
    policy: &'c Policy,
    flows: FlowTable,
    dns: DnsMap,
    devices: DeviceTable,
    /// Keyed by (sender, receiver).
    app_streams: HashMap<(SocketAddr, SocketAddr), AppStream, FxBuild>,
    /// UDP flows being followed through their QUIC Initials, keyed by (client, server).
    quic_flows: HashMap<(SocketAddr, SocketAddr), quic::QuicFlow, FxBuild>,
    /// Buffer each QUIC Initial is decrypted into, reused.
    quic_scratch: Vec<u8>,
    agg: Aggregates,
    stats: Stats,
    sink: S,
    frame: u64,
    /// Scratch text buffer reused for signal values.
    text: String,
    first_ts: Option<u64>,
    last_ts: Option<u64>,
}

/// What a run produced, handed to the report.
pub struct Outcome {
    pub aggregates: Aggregates,
    /// Names and addresses the devices announced.
    pub devices: DeviceTable,
    pub stats: Stats,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
}

impl<'c, S: SignalSink> Pipeline<'c, S> {
    /// A pipeline without a site policy.
    pub fn new(catalogue: &'c Catalogue, options: Options, sink: S) -> Self {
        static NO_POLICY: std::sync::LazyLock<Policy> = std::sync::LazyLock::new(Policy::default);
        Self::with_policy(catalogue, &NO_POLICY, options, sink)
    }

    pub fn with_policy(
        catalogue: &'c Catalogue,
        policy: &'c Policy,
        options: Options,
        sink: S,
    ) -> Self {
        let max_flows = if options.max_flows == 0 {
            crate::flow::DEFAULT_MAX_FLOWS
        } else {
            options.max_flows
        };
        Pipeline {
            decoder: Decoder::new(),
            state: State {
                catalogue,
                policy,
                flows: FlowTable::new(max_flows),
                dns: DnsMap::default(),
                devices: DeviceTable::default(),
                app_streams: HashMap::default(),
                quic_flows: HashMap::default(),
                quic_scratch: Vec::new(),
                agg: Aggregates::default(),
                stats: Stats::default(),
                sink,
                frame: 0,
                text: String::new(),
                first_ts: None,
                last_ts: None,
            },
        }
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.state.sink
    }

    /// Reads one capture to its end. A truncated or corrupt file returns its error after every
    /// packet before the damage has been processed.
    /// The file is read on a second thread (`capture::batch`) while this one processes.
    pub fn run_file(&mut self, source: &mut FileSource) -> Result<(), CaptureError> {
        self.state.stats.files_read += 1;
        crate::capture::batch::for_each_packet(source, |frame, packet| self.process(frame, packet))
    }

    /// One frame, numbered from 1 within its file.
    pub fn process(&mut self, frame: u64, pkt: &RawPacket<'_>) {
        let state = &mut self.state;
        state.frame = frame;
        state.stats.packets += 1;
        state.stats.captured_bytes += pkt.data.len() as u64;
        state.note_time(pkt.ts_nanos);
        match self.decoder.decode(pkt) {
            Ok(Decoded::Ip(meta)) => {
                state.stats.ip_packets += 1;
                state.ip_packet(&meta);
            }
            Ok(Decoded::NonIp {
                src_mac,
                ethertype,
                payload,
                ..
            }) => {
                state.stats.non_ip_frames += 1;
                if ethertype == names::ETHERTYPE_ARP {
                    state.arp(src_mac, payload);
                }
            }
            Ok(Decoded::FragmentHeld) => state.stats.fragments_held += 1,
            Err(DecodeError::UnsupportedLinkType(n)) => {
                *state.stats.unsupported_link_types.entry(n).or_default() += 1;
            }
            Err(DecodeError::Malformed(reason)) => {
                // The map holds one entry per distinct static reason: no growth per packet.
                if let Some(count) = state.stats.malformed.get_mut(reason) {
                    *count += 1;
                } else {
                    state.stats.malformed.insert(reason.to_string(), 1);
                }
            }
        }
    }

    /// Ends a reporting period (`scan --every`) without ending the run: what the period's
    /// packets added is handed over, open flows included (with their bytes of this period), and
    /// counting restarts from zero. Flows, the passive DNS map and device names stay, so a
    /// connection or a name learned in one period still counts in the next.
    pub fn cut(&mut self) -> Outcome {
        let state = &mut self.state;
        let (catalogue, policy) = (state.catalogue, state.policy);
        let evicted = state.flows.evicted_by_cap;
        let agg = &mut state.agg;
        state.flows.cut(|flow| agg.fold(flow, catalogue, policy));
        let mut stats = std::mem::take(&mut state.stats);
        let agg = std::mem::take(&mut state.agg);
        stats.flows = agg.flows;
        stats.named_flows = agg.named_flows;
        stats.ai_flows = agg.ai_flows;
        stats.flows_evicted_by_cap += evicted;
        Outcome {
            aggregates: agg,
            devices: state.devices.clone(),
            stats,
            first_ts: state.first_ts.take(),
            last_ts: state.last_ts.take(),
        }
    }

    /// Folds every open flow and hands the result over.
    pub fn finish(self) -> (Outcome, S) {
        let mut state = self.state;
        let (catalogue, policy) = (state.catalogue, state.policy);
        let agg = &mut state.agg;
        state.flows.drain(|flow| agg.fold(&flow, catalogue, policy));
        state.stats.flows = agg.flows;
        state.stats.named_flows = agg.named_flows;
        state.stats.ai_flows = agg.ai_flows;
        state.stats.flows_evicted_by_cap = state.flows.evicted_by_cap;
        let outcome = Outcome {
            aggregates: state.agg,
            devices: state.devices,
            stats: state.stats,
            first_ts: state.first_ts,
            last_ts: state.last_ts,
        };
        (outcome, state.sink)
    }
}

impl<S: SignalSink> State<'_, S> {
    fn note_time(&mut self, ts: u64) {
        self.first_ts = Some(self.first_ts.map_or(ts, |f| f.min(ts)));
        self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
    }

    fn ip_packet(&mut self, meta: &PacketMeta<'_>) {
        let protocol = match meta.transport {
            Transport::Tcp { .. } => TCP,
            Transport::Udp => UDP,
            Transport::Icmp => {
                self.neighbour_discovery(meta);
                return;
            }
            _ => return,
        };
        let (catalogue, policy) = (self.catalogue, self.policy);
        let agg = &mut self.agg;
        let app_streams = &mut self.app_streams;
        let quic_flows = &mut self.quic_flows;
        self.flows.expire(meta.ts_nanos, |flow| {
            if !app_streams.is_empty() {
                app_streams.remove(&(flow.client, flow.server));
                app_streams.remove(&(flow.server, flow.client));
            }
            if !quic_flows.is_empty() {
                quic_flows.remove(&(flow.client, flow.server));
            }
            agg.fold(&flow, catalogue, policy);
        });

        let (flow, direction, created) = self.flows.track(protocol, meta);
        if created {
            flow.dns_name = self
                .dns
                .lookup(flow.client.ip(), flow.server.ip(), meta.ts_nanos);
        }
        let is_dns = meta.src_port == DNS_PORT || meta.dst_port == DNS_PORT;
        if let (Transport::Udp, false) = (meta.transport, is_dns) {
            if let Some(service) = names::name_service_of(meta) {
                self.name_service(service, meta);
                return;
            }
        }
        match meta.transport {
            Transport::Udp if is_dns => self.dns_message(meta, meta.payload, DnsFamily::Dns),
            Transport::Udp if meta.src_port == MDNS_PORT || meta.dst_port == MDNS_PORT => {
                self.dns_message(meta, meta.payload, DnsFamily::Mdns)
            }
            Transport::Udp if meta.src_port == LLMNR_PORT || meta.dst_port == LLMNR_PORT => {
                self.dns_message(meta, meta.payload, DnsFamily::Llmnr)
            }
            Transport::Udp if meta.dst_port == SSDP_PORT => {
                if let Ok(head) = http::parse_request_head(meta.payload) {
                    emit_http(&mut self.sink, self.frame, meta, &head, &mut self.text);
                }
            }
            Transport::Udp if direction == Direction::Up && flow.naming == Naming::Unknown => {
                let key = (flow.client, flow.server);
                let followed = self.quic_flows.contains_key(&key);
                // Only QUIC long headers start a search: other UDP costs this one check, and a
                // flow whose first few client datagrams are none is not QUIC to us.
                if !followed && crate::proto::quic::peek(meta.payload).is_none() {
                    if flow.packets_up >= QUIC_LOOK_DATAGRAMS {
                        flow.naming = Naming::Done {
                            follow: Follow::Nothing,
                        };
                    }
                    return;
                }
                let state = self.quic_flows.entry(key).or_default();
                let step = state.client_datagram(meta.payload, &mut self.quic_scratch);
                if let quic::Step::Wait = step {
                    return;
                }
                self.quic_flows.remove(&key);
                flow.naming = Naming::Done {
                    follow: Follow::Nothing,
                };
                if let quic::Step::Hello(hello) = step {
                    name_from_quic_hello(flow, hello, meta, self.frame, &mut self.sink);
                }
            }
            Transport::Tcp { seq, .. } if is_dns => {
                self.app_segment(AppKind::DnsOverTcp, seq, meta);
            }
            Transport::Tcp { seq, ack, flags } => {
                anchor_client_stream(flow, direction, ack, flags);
                if direction == Direction::Up {
                    name_from_client_bytes(
                        flow,
                        seq,
                        flags,
                        meta,
                        self.frame,
                        &mut self.sink,
                        &mut self.stats,
                        &mut self.text,
                    );
                }
                if flow.naming
                    == (Naming::Done {
                        follow: Follow::H2c,
                    })
                {
                    self.app_segment(AppKind::H2c, seq, meta);
                }
            }
            _ => {}
        }
    }

    /// One segment of a connection read message by message, in either direction.
    fn app_segment(&mut self, kind: AppKind, seq: u32, meta: &PacketMeta<'_>) {
        if meta.payload.is_empty() {
            return;
        }
        let key = (
            SocketAddr::new(meta.src_ip, meta.src_port),
            SocketAddr::new(meta.dst_ip, meta.dst_port),
        );
        let mut stream = self.app_streams.remove(&key).unwrap_or_default();
        stream.append(seq, meta.payload);
        let used = match kind {
            AppKind::DnsOverTcp => {
                let (messages, used) = dns::tcp_messages(&stream.buf);
                for message in messages {
                    self.dns_message(meta, message, DnsFamily::Dns);
                }
                used
            }
            AppKind::H2c => self.h2c_frames(meta, &mut stream),
        };
        stream.buf.drain(..used.min(stream.buf.len()));
        self.app_streams.insert(key, stream);
    }

    /// Walks the complete HTTP/2 frames held in `stream`, collecting DATA bodies per stream;
    /// a finished body that is a whole DNS message (DNS over HTTPS) is read as DNS. Returns
    /// the bytes used.
    fn h2c_frames(&mut self, meta: &PacketMeta<'_>, stream: &mut AppStream) -> usize {
        let mut used = 0;
        if stream.buf.starts_with(http2::PREFACE) {
            used = http2::PREFACE.len();
        }
        loop {
            let rest = stream.buf.get(used..).unwrap_or_default();
            let (frame, len) = match http2::parse_frame(rest) {
                Ok(ok) => ok,
                Err(ProtoError::Incomplete) => return used,
                Err(ProtoError::Invalid(_)) => return stream.buf.len(),
            };
            used += len;
            let Ok(data) = frame.data() else { continue };
            let slot = match stream
                .h2_bodies
                .iter()
                .position(|(id, _)| *id == frame.stream)
            {
                Some(i) => i,
                None if stream.h2_bodies.len() < H2_BODIES_MAX => {
                    stream.h2_bodies.push((frame.stream, Vec::new()));
                    stream.h2_bodies.len() - 1
                }
                None => continue,
            };
            let body = &mut stream.h2_bodies[slot].1;
            if body.len() + data.len() <= APP_STREAM_MAX {
                body.extend_from_slice(data);
            }
            if frame.ends_stream() {
                let (_, body) = stream.h2_bodies.swap_remove(slot);
                self.dns_message(meta, &body, DnsFamily::DnsInBody);
            }
        }
    }

    /// One DNS-format message of `family`. A body found inside another protocol is accepted
    /// only when every question and record parses and nothing is left over.
    fn dns_message(&mut self, meta: &PacketMeta<'_>, bytes: &[u8], family: DnsFamily) {
        let Ok(message) = dns::parse(bytes) else {
            return;
        };
        if family == DnsFamily::DnsInBody && !dns::is_whole_message(&message) {
            return;
        }
        self.stats.dns_messages += 1;
        let (query_kind, answer_kind) = family.kinds();
        let emit = self.sink.enabled();
        if !message.is_response() {
            if emit {
                for question in message.questions() {
                    let Ok(question) = question else { break };
                    self.text.clear();
                    if question.name.write_text(&mut self.text).is_ok() {
                        let value = std::mem::take(&mut self.text);
                        signal(&mut self.sink, self.frame, meta, query_kind, &value);
                        self.text = value;
                    }
                }
            }
            return;
        }
        if emit {
            for record in message.answers() {
                let Ok(record) = record else { break };
                self.text.clear();
                if dns::write_answer_value(&record, &mut self.text).is_ok() {
                    let value = std::mem::take(&mut self.text);
                    signal(&mut self.sink, self.frame, meta, answer_kind, &value);
                    self.text = value;
                }
            }
        }
        match family {
            DnsFamily::Dns | DnsFamily::DnsInBody => self.learn_addresses(meta, &message),
            DnsFamily::Mdns => self.learn_local_names(meta, &message, NameSource::Mdns),
            DnsFamily::Llmnr => self.learn_local_names(meta, &message, NameSource::Llmnr),
        }
    }

    /// mDNS and LLMNR answers name the device that sends them: its `.local` (or LLMNR) name
    /// and the addresses it answers with.
    fn learn_local_names(
        &mut self,
        meta: &PacketMeta<'_>,
        message: &dns::Message<'_>,
        source: NameSource,
    ) {
        for record in message.answers() {
            let Ok(record) = record else { break };
            let addr = match record.data {
                dns::RData::A(v4) => IpAddr::V4(v4),
                dns::RData::Aaaa(v6) => IpAddr::V6(v6),
                dns::RData::Srv { target, .. } if source == NameSource::Mdns => {
                    self.learn_service_instance(meta, &record.owner, &target);
                    continue;
                }
                _ => continue,
            };
            self.text.clear();
            if record.owner.write_text(&mut self.text).is_err() {
                continue;
            }
            let name = self.text.trim_end_matches('.');
            let name = name.strip_suffix(".local").unwrap_or(name);
            // Answers are about the sender itself (a responder answers for its own names).
            self.devices
                .learn_name(meta.src_mac, Some(addr), source, name);
            if let Some(mac) = meta.src_mac {
                self.devices.bind(mac, addr);
            }
        }
    }

    /// An mDNS SRV answer: `instance._service._proto.local` served by `host.local`. Both name
    /// the sender: the host name as an mDNS name, the instance as a service-instance name.
    fn learn_service_instance(
        &mut self,
        meta: &PacketMeta<'_>,
        owner: &dns::Name<'_>,
        target: &dns::Name<'_>,
    ) {
        self.text.clear();
        if owner.write_text(&mut self.text).is_ok() {
            if let Some((instance, _)) = self.text.split_once("._") {
                self.devices
                    .learn_name(meta.src_mac, None, NameSource::MdnsService, instance);
            }
        }
        self.text.clear();
        if target.write_text(&mut self.text).is_ok() {
            let host = self.text.trim_end_matches('.');
            if let Some(host) = host.strip_suffix(".local") {
                self.devices
                    .learn_name(meta.src_mac, None, NameSource::Mdns, host);
            }
        }
    }

    /// Feeds A/AAAA answers into the passive DNS map under the name the client asked for,
    /// following CNAME chains back to it.
    fn learn_addresses(&mut self, meta: &PacketMeta<'_>, message: &dns::Message<'_>) {
        let mut aliases: Vec<(String, String)> = Vec::new(); // (target, owner)
        let mut addresses: Vec<(String, IpAddr)> = Vec::new();
        for record in message.answers() {
            let Ok(record) = record else { break };
            let mut owner = String::new();
            if record.owner.write_text(&mut owner).is_err() {
                continue;
            }
            owner.make_ascii_lowercase();
            match record.data {
                dns::RData::A(v4) => addresses.push((owner, IpAddr::V4(v4))),
                dns::RData::Aaaa(v6) => addresses.push((owner, IpAddr::V6(v6))),
                dns::RData::Cname(target) => {
                    let mut t = String::new();
                    if target.write_text(&mut t).is_ok() {
                        t.make_ascii_lowercase();
                        aliases.push((t, owner));
                    }
                }
                _ => {}
            }
        }
        if addresses.is_empty() {
            return;
        }
        let client = meta.dst_ip;
        let mut last: Option<Arc<str>> = None;
        for (owner, addr) in addresses {
            let mut name = owner;
            for _ in 0..8 {
                match aliases.iter().find(|(target, _)| *target == name) {
                    Some((_, up)) if *up != name => name = up.clone(),
                    _ => break,
                }
            }
            let name: Arc<str> = match &last {
                Some(prev) if **prev == *name => prev.clone(),
                _ => Arc::from(name.as_str()),
            };
            self.dns.insert(client, addr, name.clone(), meta.ts_nanos);
            last = Some(name);
        }
    }
}

fn signal<S: SignalSink>(
    sink: &mut S,
    frame: u64,
    meta: &PacketMeta<'_>,
    kind: &'static str,
    value: &str,
) {
    sink.signal(&Signal {
        frame,
        kind,
        value,
        src_mac: meta.src_mac,
        src: Some(meta.src_ip),
        dst: Some(meta.dst_ip),
        sport: Some(meta.src_port),
        dport: Some(meta.dst_port),
    });
}

fn emit_http<S: SignalSink>(
    sink: &mut S,
    frame: u64,
    meta: &PacketMeta<'_>,
    head: &http::RequestHead<'_>,
    text: &mut String,
) {
    if !sink.enabled() {
        return;
    }
    if let Some(host) = head.host {
        lossy_into(host, text);
        signal(sink, frame, meta, "http_host", text);
    }
    if head.is_connect() {
        lossy_into(head.target, text);
        signal(sink, frame, meta, "http_connect", text);
    }
}

fn lossy_into(bytes: &[u8], out: &mut String) {
    out.clear();
    out.push_str(&String::from_utf8_lossy(bytes));
}

/// The host part of `host[:port]`, `[v6]:port` or a bare name, lowercased, no trailing dot.
fn host_of_authority(authority: &[u8]) -> String {
    let text = String::from_utf8_lossy(authority);
    let host = if let Some(rest) = text.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if text.matches(':').count() == 1 {
        text.split(':').next().unwrap_or_default()
    } else {
        &text
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Names a UDP flow from the hello in its QUIC Initials and emits its signals.
fn name_from_quic_hello<S: SignalSink>(
    flow: &mut Flow,
    hello: crate::proto::quic::Hello,
    meta: &PacketMeta<'_>,
    frame: u64,
    sink: &mut S,
) {
    use crate::proto::quic::Hello;
    let (sni, ech, kind, evidence) = match hello {
        Hello::Tls(ch) => (ch.sni, ch.ech, "quic_sni", Evidence::QuicSni),
        Hello::Google(chlo) => (chlo.sni, false, "gquic_sni", Evidence::GquicSni),
    };
    if sink.enabled() {
        if let Some(sni) = &sni {
            signal(sink, frame, meta, kind, sni);
        }
        if ech {
            signal(sink, frame, meta, "tls_ech", sni.as_deref().unwrap_or(""));
        }
    }
    if let Some(sni) = sni {
        flow.name = Some((sni.trim_end_matches('.').to_ascii_lowercase(), evidence));
    }
}

/// Pins where the client's byte stream starts when the SYN itself was not captured: the
/// server's SYN-ACK acknowledges it. (A client's empty ACK is no anchor: keep-alive probes are
/// empty segments one byte behind.)
fn anchor_client_stream(flow: &mut Flow, direction: Direction, ack: u32, flags: u8) {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    if direction == Direction::Down
        && flags & (SYN | ACK) == SYN | ACK
        && matches!(flow.naming, Naming::Unknown)
    {
        flow.stream.get_or_insert_with(Box::default).anchor(ack);
    }
}

/// Reassembles the client's first bytes of a TCP flow and names the flow from its TLS
/// ClientHello or HTTP request head; later HTTP request heads on the same connection are read
/// from single segments only (enough for `inspect`, no more buffering).
#[allow(clippy::too_many_arguments)]
fn name_from_client_bytes<S: SignalSink>(
    flow: &mut Flow,
    seq: u32,
    flags: u8,
    meta: &PacketMeta<'_>,
    frame: u64,
    sink: &mut S,
    stats: &mut Stats,
    text: &mut String,
) {
    const SYN: u8 = 0x02;
    if let Naming::Done { follow } = flow.naming {
        if follow == Follow::Http1 && !meta.payload.is_empty() {
            if let Ok(head) = http::parse_request_head(meta.payload) {
                stats.http_requests += 1;
                emit_http(sink, frame, meta, &head, text);
            }
        }
        return;
    }
    let stream = flow.stream.get_or_insert_with(Box::default);
    // Data carried by the SYN itself (TCP Fast Open) starts after the SYN's own sequence number.
    let data_seq = if flags & SYN != 0 {
        stream.on_syn(seq);
        seq.wrapping_add(1)
    } else {
        seq
    };
    if stream.add(data_seq, meta.payload) != crate::flow::reassembly::Progress::Grew {
        return;
    }
    // A CONNECT head is followed, in the same client stream, by the tunnelled protocol.
    for _ in 0..2 {
        let bytes = stream.bytes();
        let outcome = if tls::maybe_tls_handshake(bytes) {
            flow.naming = Naming::Tls;
            match tls::parse_client_hello_records(bytes) {
                Ok(hello) => {
                    stats.tls_client_hellos += 1;
                    if sink.enabled() {
                        let sni = hello.sni.as_deref().unwrap_or("");
                        if hello.sni.is_some() {
                            signal(sink, frame, meta, "tls_sni", sni);
                        }
                        if hello.ech {
                            signal(sink, frame, meta, "tls_ech", sni);
                        }
                    }
                    if let Some(sni) = hello.sni {
                        flow.name = Some((
                            sni.trim_end_matches('.').to_ascii_lowercase(),
                            Evidence::TlsSni,
                        ));
                    }
                    Step::Done(Follow::Nothing)
                }
                Err(ProtoError::Incomplete) => Step::Wait,
                Err(ProtoError::Invalid(_)) => Step::Done(Follow::Nothing),
            }
        } else if let Some(step) = match http2::starts_with_preface(bytes) {
            Ok(()) => Some(Step::Done(Follow::H2c)),
            Err(ProtoError::Incomplete) => Some(Step::Wait),
            Err(ProtoError::Invalid(_)) => None,
        } {
            step
        } else {
            match http::parse_request_head(bytes) {
                Ok(head) => {
                    stats.http_requests += 1;
                    emit_http(sink, frame, meta, &head, text);
                    let named = if head.is_connect() {
                        Some((head.target, Evidence::HttpConnect))
                    } else if let Some(authority) = head.absolute_uri_authority() {
                        Some((authority, Evidence::HttpHost))
                    } else {
                        head.host.map(|h| (h, Evidence::HttpHost))
                    };
                    if let Some((authority, evidence)) = named {
                        let host = host_of_authority(authority);
                        if !host.is_empty() {
                            flow.name = Some((host, evidence));
                        }
                    }
                    if head.is_connect() {
                        Step::Tunnel(head.head_len)
                    } else {
                        Step::Done(Follow::Http1)
                    }
                }
                Err(ProtoError::Incomplete) => {
                    flow.naming = Naming::Http;
                    Step::Wait
                }
                Err(ProtoError::Invalid(_)) => Step::Done(Follow::Nothing),
            }
        };
        match outcome {
            Step::Wait if stream.is_full() => {
                flow.naming = Naming::Done {
                    follow: Follow::Nothing,
                };
                break;
            }
            Step::Wait => return,
            Step::Done(Follow::Nothing)
                if flow.name.is_none()
                    && !stream.starts_at_syn()
                    && stream.restarts() < MAX_RESTARTS =>
            {
                // Without the SYN the first captured bytes may be a keep-alive probe's
                // stray byte or the middle of a message: try again from the next segment.
                stream.restart();
                flow.naming = Naming::Unknown;
                return;
            }
            Step::Done(follow) => {
                flow.naming = Naming::Done { follow };
                break;
            }
            Step::Tunnel(head_len) => {
                // The SNI of the tunnelled TLS names the flow better than the CONNECT target.
                stream.consume(head_len);
                flow.naming = Naming::Unknown;
                if stream.bytes().is_empty() {
                    return;
                }
            }
        }
    }
    if matches!(flow.naming, Naming::Done { .. }) {
        flow.stream = None;
    }
}

/// What the parsers made of the client's bytes so far.
enum Step {
    /// More bytes needed.
    Wait,
    /// Named or given up; what to keep reading afterwards.
    Done(Follow),
    /// An HTTP CONNECT head of this length; the tunnelled protocol follows it.
    Tunnel(usize),
}

#[cfg(test)]
mod tests {
    use super::host_of_authority;
    use super::{NoSignals, Options, Outcome, Pipeline};
    use crate::capture::file::FileSource;
    use crate::classify::rules::Catalogue;

    /// Runs the bundled sample, cutting a period every `every` frames (0: never).
    fn sample_periods(every: u64) -> Vec<Outcome> {
        let catalogue = Catalogue::embedded().unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/office-lan.pcapng");
        let mut source = FileSource::open(&path).unwrap();
        let mut pipeline = Pipeline::new(&catalogue, Options::default(), NoSignals);
        let mut periods = Vec::new();
        let mut frame = 0;
        while let Some(packet) = source.next_packet().unwrap() {
            frame += 1;
            pipeline.process(frame, &packet);
            if every > 0 && frame % every == 0 {
                periods.push(pipeline.cut());
            }
        }
        periods.push(pipeline.finish().0);
        periods
    }

    /// Bytes and packets per (device, AI service) over all periods.
    fn ai_totals(periods: &[Outcome]) -> std::collections::BTreeMap<String, (u64, u64, u64)> {
        let mut totals = std::collections::BTreeMap::new();
        for outcome in periods {
            for ((endpoint, service), finding) in &outcome.aggregates.findings {
                let t: &mut (u64, u64, u64) =
                    totals.entry(format!("{endpoint:?} {service}")).or_default();
                t.0 += finding.totals.bytes_up;
                t.1 += finding.totals.bytes_down;
                t.2 += finding.totals.packets_up + finding.totals.packets_down;
            }
        }
        totals
    }

    #[test]
    fn period_cuts_lose_and_double_nothing() {
        let whole = sample_periods(0);
        assert_eq!(whole.len(), 1);
        let cut = sample_periods(500);
        assert!(cut.len() >= 6, "{} periods", cut.len());
        let sum =
            |f: fn(&Outcome) -> u64, outcomes: &[Outcome]| outcomes.iter().map(f).sum::<u64>();
        assert_eq!(sum(|o| o.stats.packets, &cut), whole[0].stats.packets);
        assert_eq!(
            sum(|o| o.stats.captured_bytes, &cut),
            whole[0].stats.captured_bytes
        );
        let bytes = |o: &Outcome| {
            o.aggregates
                .endpoints
                .values()
                .map(|e| e.totals.bytes_up + e.totals.bytes_down)
                .sum::<u64>()
        };
        assert_eq!(sum(bytes, &cut), sum(bytes, &whole));
        let whole_ai = ai_totals(&whole);
        assert!(!whole_ai.is_empty());
        assert_eq!(ai_totals(&cut), whole_ai);
        // Device names learned in an early period are still known in the last one.
        let last = cut.last().unwrap();
        let mut named = 0;
        for endpoint in whole[0].aggregates.endpoints.keys() {
            let name = |o: &Outcome| {
                format!(
                    "{:?}",
                    o.devices.names_of(endpoint.mac, &[endpoint.ip]).best()
                )
            };
            named += usize::from(
                whole[0]
                    .devices
                    .names_of(endpoint.mac, &[endpoint.ip])
                    .best()
                    .is_some(),
            );
            assert_eq!(name(last), name(&whole[0]));
        }
        assert!(named >= 4, "{named} named devices");
    }

    #[test]
    fn authority_host() {
        assert_eq!(host_of_authority(b"Api.OpenAI.com:443"), "api.openai.com");
        assert_eq!(host_of_authority(b"chatgpt.com."), "chatgpt.com");
        assert_eq!(host_of_authority(b"[2001:db8::1]:8080"), "2001:db8::1");
        assert_eq!(host_of_authority(b"2001:db8::1"), "2001:db8::1");
    }
}
