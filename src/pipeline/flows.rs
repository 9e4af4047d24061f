//! The flow stage, one shard of it: every TCP and UDP packet of the shard's flows is counted
//! in its flow, and flows are named from their own bytes — the TLS ClientHello or HTTP
//! request head of the client's reassembled first bytes, the ClientHello in QUIC Initials, DNS
//! over cleartext HTTP/2 — or, when they have none, from the passive DNS map of the name
//! stage. Finished flows are folded into the shard's own aggregates.
//!
//! A shard shares nothing with the other shards. Packet by packet (`DnsAccess::Now`), a new
//! flow is looked up in the DNS map at once and a finished flow is folded at once. In a batch
//! run (`DnsAccess::Later`) the name stage has not yet read the batch, so a new flow's lookup
//! waits in `lookups` for the name stage to answer it in capture order, and folding waits
//! (in order) while a flow being folded still waits for its answer; what the shard learns for
//! the map (DNS answers inside flows) waits in `learned`. Either way the flows get the names
//! they would get one packet at a time.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::quic;
use super::route::{DnsFamily, Route};
use super::{
    address_answers, direction_key, emit_http, lossy_into, read_dns, signal, AnswerScratch,
    AppStream, AppStreams, Budget, Cx, Rules, SignalSink, Stats, APP_STREAM_MAX,
};
use crate::classify::dnsmap::DnsMap;
use crate::classify::findings::Aggregates;
use crate::decode::PacketMeta;
use crate::flow::reassembly::ClientStream;
use crate::flow::{
    Direction, Evidence, Flow, FlowKey, FlowTable, Follow, FxBuild, Naming, Seen, TCP, UDP,
};
use crate::proto::{http, http2, socks, tls, ProtoError};

/// HTTP/2 streams whose DATA bodies are collected at once, per direction.
const H2_BODIES_MAX: usize = 16;
/// Client datagrams of a UDP flow looked at for a QUIC long header before giving up (the first
/// captured one may be a short-header packet of a connection already running).
const QUIC_LOOK_DATAGRAMS: u64 = 3;
/// Restarts allowed for a flow whose SYN was missed and whose first bytes made no sense.
const MAX_RESTARTS: u8 = 4;
/// Heap bytes a shard's flows may hold at once for their first client bytes: TCP reassembly
/// buffers, the state of QUIC flows waiting for their next Initial, and the frames and bodies
/// of cleartext HTTP/2 (DNS over h2c) being read (4 MiB; 64 MiB over the 16 shards). Each flow is capped at 16 KiB, but the flow cap times that is 4 GiB: a capture
/// of many concurrent flows that each left a ClientHello unfinished must not hold them all.
/// Past the budget a flow stops waiting and is named by DNS, and the report counts it.
pub(super) const STREAM_BUDGET: usize = 4 << 20;

/// A DNS lookup for a new flow, made in a batch run, answered by the name stage.
pub(super) struct Lookup {
    pub(super) seq: u64,
    pub(super) ts: u64,
    pub(super) client: IpAddr,
    pub(super) server: IpAddr,
    key: FlowKey,
    pub(super) answer: Option<Arc<str>>,
}

/// How the shard gets at the DNS map.
#[derive(Clone, Copy)]
pub(super) enum DnsAccess<'m> {
    /// Look new flows up now.
    Now(&'m DnsMap),
    /// The name stage answers later (`Shard::lookups`, then `Shard::settle`).
    Later,
}

/// What a shard keeps beside its flow table: the parser state of flows being named, and the
/// aggregates finished flows fold into.
struct FlowState {
    /// Cleartext HTTP/2 connections, per direction: keyed by (sender, receiver).
    h2c_streams: AppStreams,
    /// UDP flows being followed through their QUIC Initials, keyed by (client, server).
    quic_flows: HashMap<(SocketAddr, SocketAddr), quic::QuicFlow, FxBuild>,
    /// Flows to fold once the batch's `lookups` are answered, in the order they finished.
    finished: Vec<Flow>,
    agg: Aggregates,
    /// Bytes the waiting flows' state holds (`ClientStream::held`, `QuicFlow::held`,
    /// `AppStream::held`), against `STREAM_BUDGET` or a test's own.
    budget: Budget,
}

impl FlowState {
    /// A finished flow: its parser state is dropped and it is folded into the aggregates, or
    /// queued behind the flows still waiting for a DNS answer (folding keeps its order).
    fn retire(&mut self, mut flow: Flow, rules: Rules<'_>) {
        if let Some(stream) = flow.stream.take() {
            self.budget.release(stream.held());
        }
        if !self.h2c_streams.is_empty() {
            self.drop_h2c(flow.client, flow.server);
        }
        if !self.quic_flows.is_empty() {
            if let Some(quic) = self.quic_flows.remove(&(flow.client, flow.server)) {
                self.budget.release(quic.held());
            }
        }
        if flow.dns_lookup.is_some() || !self.finished.is_empty() {
            self.finished.push(flow);
        } else {
            self.agg.fold(&flow, rules.catalogue, rules.policy);
        }
    }

    /// Forgets both directions of a connection's cleartext HTTP/2 streams.
    fn drop_h2c(&mut self, client: SocketAddr, server: SocketAddr) {
        for key in [(client, server), (server, client)] {
            if let Some(stream) = self.h2c_streams.remove(&key) {
                self.budget.release(stream.held());
            }
        }
    }
}

/// An address a client resolved, found by a shard, for the DNS map.
pub(super) struct Learned {
    pub(super) seq: u64,
    pub(super) ts: u64,
    pub(super) client: IpAddr,
    pub(super) addr: IpAddr,
    pub(super) name: Arc<str>,
}

pub(super) struct Shard {
    flows: FlowTable,
    state: FlowState,
    /// Buffer each QUIC Initial is decrypted into, reused.
    quic_scratch: Vec<u8>,
    stats: Stats,
    /// Scratch text buffer reused for signal values.
    text: String,
    pub(super) learned: Vec<Learned>,
    pub(super) lookups: Vec<Lookup>,
}

impl Shard {
    /// A shard of `max_flows` flows whose client streams may hold `stream_budget` bytes (0:
    /// `STREAM_BUDGET`).
    pub(super) fn new(max_flows: usize, stream_budget: usize) -> Self {
        Shard {
            flows: FlowTable::new(max_flows),
            state: FlowState {
                h2c_streams: AppStreams::default(),
                quic_flows: HashMap::default(),
                finished: Vec::new(),
                agg: Aggregates::default(),
                budget: Budget::new(stream_budget, STREAM_BUDGET),
            },
            quic_scratch: Vec::new(),
            stats: Stats::default(),
            text: String::new(),
            learned: Vec::new(),
            lookups: Vec::new(),
        }
    }

    /// One TCP or UDP packet of this shard (`seen`: its meta, or a batch run's record of it),
    /// routed to its flow (`route.flow`; nothing without one), its payload given by `payload`
    /// (a meta's own is not looked at: a batch run's records hold theirs apart; it is found
    /// only for a packet that a step of naming reads, not for the many that are only counted).
    /// `route.name_flow` says whether the payload may name the flow (false for the protocols
    /// the name stage reads).
    #[inline(always)]
    pub(super) fn packet<'p, S: SignalSink>(
        &mut self,
        rules: Rules<'_>,
        dns: DnsAccess<'_>,
        seen: &impl Seen,
        payload: impl Fn() -> &'p [u8],
        route: &Route,
        cx: &mut Cx<'_, S>,
    ) {
        let (Some(key), name) = (&route.flow, route.name_flow) else {
            return;
        };
        let state = &mut self.state;
        self.flows.enforce_cap(|flow| state.retire(flow, rules));
        let (flow, direction, created) = self.flows.track(key, seen, |f| state.retire(f, rules));
        let ts = seen.ts_nanos();
        if created {
            let (client, server) = (flow.client.ip(), flow.server.ip());
            match dns {
                DnsAccess::Now(map) => flow.dns_name = map.lookup(client, server, ts),
                DnsAccess::Later => {
                    flow.dns_lookup = Some(self.lookups.len() as u32);
                    self.lookups.push(Lookup {
                        seq: cx.seq,
                        ts,
                        client,
                        server,
                        key: *key,
                        answer: None,
                    });
                }
            }
        }
        if !name {
            return;
        }
        // Most packets need nothing more once counted: a whole meta with the payload is made
        // only for the few that a step of naming reads.
        let meta = || {
            let mut meta = seen.meta();
            meta.payload = payload();
            meta
        };
        match key.protocol() {
            UDP if direction == Direction::Up && flow.naming == Naming::Unknown => {
                let payload = payload();
                let key = (flow.client, flow.server);
                let followed = self.state.quic_flows.contains_key(&key);
                // Only QUIC long headers start a search: other UDP costs this one check, and a
                // flow whose first few client datagrams are none is not QUIC to us.
                if !followed && crate::proto::quic::peek(payload).is_none() {
                    if flow.packets_up >= QUIC_LOOK_DATAGRAMS {
                        flow.naming = Naming::Done {
                            follow: Follow::Nothing,
                        };
                    }
                    return;
                }
                let shard = &mut self.state;
                let state = shard.quic_flows.entry(key).or_default();
                let before = if followed { state.held() } else { 0 };
                let step = state.client_datagram(payload, &mut self.quic_scratch);
                if let quic::Step::Wait = step {
                    let after = state.held();
                    if shard.budget.hold(before, after) {
                        return;
                    }
                    // Past the budget: stop following it, as a TCP flow stops waiting.
                    shard.budget.release(after);
                    self.stats.streams_over_budget += 1;
                } else {
                    shard.budget.release(before);
                }
                shard.quic_flows.remove(&key);
                flow.naming = Naming::Done {
                    follow: Follow::Nothing,
                };
                if let quic::Step::Hello(hello) = step {
                    name_from_quic_hello(flow, hello, &meta(), cx);
                }
            }
            TCP => {
                let Some((seq, flags)) = seen.tcp() else {
                    return;
                };
                anchor_client_stream(flow, direction, flags, || seen.tcp_ack());
                // The client's bytes are read until the flow is named, and then only an
                // HTTP/1 flow's later request heads.
                let client_bytes = direction == Direction::Up
                    && match flow.naming {
                        Naming::Done {
                            follow: Follow::Http1,
                        } => !payload().is_empty(),
                        Naming::Done { .. } => false,
                        Naming::Unknown | Naming::Tls | Naming::Http => true,
                    };
                let h2c = Naming::Done {
                    follow: Follow::H2c,
                };
                if !client_bytes && flow.naming != h2c {
                    return;
                }
                let meta = meta();
                if client_bytes {
                    let held = |flow: &Flow| flow.stream.as_deref().map_or(0, ClientStream::held);
                    let before = held(flow);
                    name_from_client_bytes(
                        flow,
                        seq,
                        flags,
                        &meta,
                        cx,
                        &mut self.stats,
                        &mut self.text,
                    );
                    let after = held(flow);
                    let budget = &mut self.state.budget;
                    if !budget.hold(before, after) && !matches!(flow.naming, Naming::Done { .. }) {
                        budget.release(after);
                        flow.stream = None;
                        flow.naming = Naming::Done {
                            follow: Follow::Nothing,
                        };
                        self.stats.streams_over_budget += 1;
                    }
                }
                if flow.naming == h2c {
                    let ends = (flow.client, flow.server);
                    if !self.h2c_segment(seq, &meta, cx, ends) {
                        // Past the budget: the connection's bodies are no longer read.
                        if let Some(flow) = self.flows.get_mut(key) {
                            flow.naming = Naming::Done {
                                follow: Follow::Nothing,
                            };
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// One segment of a cleartext HTTP/2 connection (between `ends`, client first), in either
    /// direction. False when the shard's reassembly budget is passed: both directions' state
    /// is then dropped, and the connection should not be followed any more.
    fn h2c_segment<S: SignalSink>(
        &mut self,
        seq: u32,
        meta: &PacketMeta<'_>,
        cx: &mut Cx<'_, S>,
        (client, server): (SocketAddr, SocketAddr),
    ) -> bool {
        if meta.payload.is_empty() {
            return true;
        }
        let key = direction_key(meta);
        let (mut stream, before) = AppStream::take(&mut self.state.h2c_streams, &key);
        stream.append(seq, meta.payload);
        let used = self.h2c_frames(meta, &mut stream, cx);
        stream.buf.drain(..used.min(stream.buf.len()));
        let state = &mut self.state;
        let within = state.budget.hold(before, stream.held());
        state.h2c_streams.insert(key, stream);
        if within {
            return true;
        }
        state.drop_h2c(client, server);
        self.stats.streams_over_budget += 1;
        false
    }

    /// Walks the complete HTTP/2 frames held in `stream`, collecting DATA bodies per stream;
    /// a finished body that is a whole DNS message (DNS over HTTPS) is read as DNS. Returns
    /// the bytes used.
    fn h2c_frames<S: SignalSink>(
        &mut self,
        meta: &PacketMeta<'_>,
        stream: &mut AppStream,
        cx: &mut Cx<'_, S>,
    ) -> usize {
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
                self.dns_in_body(meta, &body, cx);
            }
        }
    }

    /// A whole DNS message found in an HTTP/2 body (DNS over cleartext HTTP/2): its answers
    /// are for the client it is sent to, and wait in `learned` for the DNS map.
    fn dns_in_body<S: SignalSink>(
        &mut self,
        meta: &PacketMeta<'_>,
        body: &[u8],
        cx: &mut Cx<'_, S>,
    ) {
        let family = DnsFamily::DnsInBody;
        let Some(message) = read_dns(body, family, meta, cx, &mut self.stats, &mut self.text)
        else {
            return;
        };
        let (seq, ts, client) = (cx.seq, meta.ts_nanos, meta.dst_ip);
        let learned = &mut self.learned;
        address_answers(&message, &mut AnswerScratch::default(), |addr, name| {
            learned.push(Learned {
                seq,
                ts,
                client,
                addr,
                name: Arc::from(name),
            })
        });
    }

    /// Folds the flows idle at capture time `now` (when `SweepClock` says so).
    pub(super) fn sweep(&mut self, now: u64, rules: Rules<'_>) {
        let state = &mut self.state;
        self.flows.sweep(now, |flow| state.retire(flow, rules));
    }

    /// Gives the flows of this batch's `lookups` their answers, then folds the flows that
    /// waited for them.
    pub(super) fn settle(&mut self, rules: Rules<'_>) {
        for (index, lookup) in self.lookups.iter_mut().enumerate() {
            if let Some(flow) = self.flows.get_mut(&lookup.key) {
                if flow.dns_lookup == Some(index as u32) {
                    flow.dns_lookup = None;
                    flow.dns_name = lookup.answer.clone();
                }
            }
        }
        for mut flow in self.state.finished.drain(..) {
            if let Some(lookup) = flow.dns_lookup.take() {
                flow.dns_name = self
                    .lookups
                    .get(lookup as usize)
                    .and_then(|l| l.answer.clone());
            }
            self.state.agg.fold(&flow, rules.catalogue, rules.policy);
        }
        self.lookups.clear();
    }

    /// A period boundary (`scan --every`): folds every flow that carried packets since the
    /// last cut into a fresh copy of the aggregates and hands it over with the counters.
    pub(super) fn cut(&mut self, rules: Rules<'_>) -> (Aggregates, Stats) {
        self.settle(rules);
        let mut stats = std::mem::take(&mut self.stats);
        stats.flows_evicted_by_cap = self.flows.evicted_by_cap;
        let agg = &mut self.state.agg;
        self.flows
            .cut(|flow| agg.fold(flow, rules.catalogue, rules.policy));
        (std::mem::take(agg), stats)
    }

    /// Folds every open flow (end of input) and hands the result over.
    pub(super) fn finish(mut self, rules: Rules<'_>) -> (Aggregates, Stats) {
        self.settle(rules);
        let agg = &mut self.state.agg;
        self.flows
            .drain(|flow| agg.fold(&flow, rules.catalogue, rules.policy));
        self.stats.flows_evicted_by_cap = self.flows.evicted_by_cap;
        (self.state.agg, self.stats)
    }
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
    cx: &mut Cx<'_, S>,
) {
    use crate::proto::quic::Hello;
    let (sni, ech, kind, evidence) = match hello {
        Hello::Tls(ch) => (ch.sni, ch.ech, "quic_sni", Evidence::QuicSni),
        Hello::Google(chlo) => (chlo.sni, false, "gquic_sni", Evidence::GquicSni),
    };
    if cx.sink.enabled() {
        if let Some(sni) = &sni {
            signal(cx, meta, kind, sni);
        }
        if ech {
            signal(cx, meta, "tls_ech", sni.as_deref().unwrap_or(""));
        }
    }
    if let Some(name) = sni.and_then(|sni| hello_name(&sni, ech)) {
        flow.name = Some((name, evidence));
    }
}

/// Outer SNIs that a provider puts in every ClientHello whose real server name it encrypts
/// (Encrypted Client Hello): they name the provider's ECH front, never the site. Cloudflare
/// uses one name for every site it serves with ECH (chatgpt.com is behind Cloudflare).
const ECH_COVER_NAMES: &[&str] = &["cloudflare-ech.com"];

/// The name a ClientHello's SNI gives its flow: none when the hello carries ECH and the SNI is
/// a provider's cover name. The real name is then encrypted, and the flow is named as one
/// without SNI, by the DNS answer its client had for the server. (A hello with ECH and any
/// other SNI keeps it: browsers add a "GREASE" ECH extension, indistinguishable on the wire
/// from a real one, to hellos whose SNI is the real name.)
fn hello_name(sni: &str, ech: bool) -> Option<String> {
    let name = sni.trim_end_matches('.').to_ascii_lowercase();
    (!(ech && ECH_COVER_NAMES.contains(&name.as_str()))).then_some(name)
}

/// Pins where the client's byte stream starts when the SYN itself was not captured: the
/// server's SYN-ACK acknowledges it. (A client's empty ACK is no anchor: keep-alive probes are
/// empty segments one byte behind.)
#[inline(always)]
fn anchor_client_stream(
    flow: &mut Flow,
    direction: Direction,
    flags: u8,
    ack: impl FnOnce() -> u32,
) {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    if direction == Direction::Down
        && flags & (SYN | ACK) == SYN | ACK
        && matches!(flow.naming, Naming::Unknown)
    {
        flow.stream.get_or_insert_with(Box::default).anchor(ack());
    }
}

/// Reassembles the client's first bytes of a TCP flow and names the flow from its TLS
/// ClientHello or HTTP request head; later HTTP request heads on the same connection are read
/// from single segments only (enough for `inspect`, no more buffering).
fn name_from_client_bytes<S: SignalSink>(
    flow: &mut Flow,
    seq: u32,
    flags: u8,
    meta: &PacketMeta<'_>,
    cx: &mut Cx<'_, S>,
    stats: &mut Stats,
    text: &mut String,
) {
    const SYN: u8 = 0x02;
    if let Naming::Done { follow } = flow.naming {
        if follow == Follow::Http1 && !meta.payload.is_empty() {
            if let Ok(head) = http::parse_request_head(meta.payload) {
                stats.http_requests += 1;
                emit_http(cx, meta, &head, text);
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
    // A proxy request (an HTTP CONNECT head, a SOCKS request) is followed, in the same client
    // stream, by the tunnelled protocol.
    for _ in 0..2 {
        let bytes = stream.bytes();
        let outcome = if tls::maybe_tls_handshake(bytes) {
            flow.naming = Naming::Tls;
            match tls::parse_client_hello_records(bytes) {
                Ok(hello) => {
                    stats.tls_client_hellos += 1;
                    if cx.sink.enabled() {
                        let sni = hello.sni.as_deref().unwrap_or("");
                        if hello.sni.is_some() {
                            signal(cx, meta, "tls_sni", sni);
                        }
                        if hello.ech {
                            signal(cx, meta, "tls_ech", sni);
                        }
                    }
                    if let Some(name) = hello.sni.and_then(|sni| hello_name(&sni, hello.ech)) {
                        flow.name = Some((name, Evidence::TlsSni));
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
        } else if let Some(step) = socks_step(&mut flow.name, bytes, cx, meta, text) {
            step
        } else {
            match http::parse_request_head(bytes) {
                Ok(head) => {
                    stats.http_requests += 1;
                    emit_http(cx, meta, &head, text);
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
                // The SNI of the tunnelled TLS names the flow better than the proxy request.
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

/// The step for a client stream that starts as SOCKS (`None` when it does not): a CONNECT
/// request's host names the flow until the tunnelled protocol names it better.
fn socks_step<S: SignalSink>(
    name: &mut Option<(String, Evidence)>,
    bytes: &[u8],
    cx: &mut Cx<'_, S>,
    meta: &PacketMeta<'_>,
    text: &mut String,
) -> Option<Step> {
    match socks::parse_client(bytes) {
        Ok(socks::Request::Connect(connect)) => {
            if let Some(host) = connect.host {
                let host = host_of_authority(host);
                if !host.is_empty() {
                    *name = Some((host, Evidence::SocksConnect));
                }
            }
            if cx.sink.enabled() {
                use std::fmt::Write;
                // `host:port`, or the address as a socket address writes it (`[v6]:port`).
                text.clear();
                let _ = match (connect.host, connect.addr) {
                    (Some(host), _) => {
                        lossy_into(host, text);
                        write!(text, ":{}", connect.port)
                    }
                    (None, Some(addr)) => write!(text, "{}", SocketAddr::new(addr, connect.port)),
                    (None, None) => write!(text, ":{}", connect.port),
                };
                signal(cx, meta, "socks_connect", text);
            }
            Some(Step::Tunnel(connect.len))
        }
        Ok(socks::Request::Other) => Some(Step::Done(Follow::Nothing)),
        Err(ProtoError::Incomplete) => Some(Step::Wait),
        Err(ProtoError::Invalid(_)) => None,
    }
}

/// What the parsers made of the client's bytes so far.
enum Step {
    /// More bytes needed.
    Wait,
    /// Named or given up; what to keep reading afterwards.
    Done(Follow),
    /// A proxy request (HTTP CONNECT, SOCKS) of this length; the tunnelled protocol follows it.
    Tunnel(usize),
}

#[cfg(test)]
mod tests {
    use super::host_of_authority;

    #[test]
    fn an_ech_cover_name_does_not_name_the_flow() {
        use super::hello_name;
        assert_eq!(hello_name("cloudflare-ech.com", true), None);
        assert_eq!(hello_name("Cloudflare-ECH.com.", true), None);
        // Without ECH it is just a name; with ECH (GREASE) any other SNI is the real name.
        assert_eq!(
            hello_name("cloudflare-ech.com", false).as_deref(),
            Some("cloudflare-ech.com")
        );
        assert_eq!(
            hello_name("ChatGPT.com.", true).as_deref(),
            Some("chatgpt.com")
        );
    }

    #[test]
    fn authority_host() {
        assert_eq!(host_of_authority(b"Api.OpenAI.com:443"), "api.openai.com");
        assert_eq!(host_of_authority(b"chatgpt.com."), "chatgpt.com");
        assert_eq!(host_of_authority(b"[2001:db8::1]:8080"), "2001:db8::1");
        assert_eq!(host_of_authority(b"2001:db8::1"), "2001:db8::1");
    }
}
