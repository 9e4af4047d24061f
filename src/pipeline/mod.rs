//! The pipeline that carries every packet through the stages:
//! capture → decode → (route) → names and flows → classify.
//!
//! It owns no protocol knowledge itself: it decides which parser a payload goes to (by
//! transport, port and the first bytes), names flows from what the parsers return, feeds DNS
//! answers into the passive DNS map and folds finished flows into the aggregates. Name signals
//! go to a `SignalSink` (the `inspect` command); the audit uses `NoSignals`, which the compiler
//! removes entirely.
//!
//! After decoding, a packet goes to up to two stages (`route.rs`): the name stage, one for the
//! run, which reads DNS, DHCP, mDNS, NetBIOS, ARP... in capture order into the passive DNS map
//! and the device table; and the flow stage, split into `SHARDS` shards by a hash of the
//! 5-tuple, which counts every TCP and UDP packet in its flow and names flows from their own
//! bytes (TLS, HTTP, QUIC), looking new flows up in the DNS map. Shards share nothing, so a
//! batch of packets can be spread over threads (`parallel.rs`); their results are merged in
//! shard order. The shard count is fixed, so the report is the same for any number of threads.
//!
//! Two ways in: `process` takes one packet at a time through both stages (live capture and
//! `inspect`, whose signals come out in capture order), and `run_file` reads a file in
//! batches over `Options::threads` threads. Both give the same report.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::capture::file::{CaptureError, FileSource};
use crate::capture::RawPacket;
use crate::classify::devices::DeviceTable;
use crate::classify::findings::Aggregates;
use crate::classify::policy::Policy;
use crate::classify::rules::Catalogue;
use crate::decode::{DecodeError, Decoded, Decoder, PacketMeta};
use crate::flow::SweepClock;
use crate::proto::{dns, http};

mod flows;
mod names;
mod parallel;
mod quic;
mod route;

use flows::{DnsAccess, Shard};
use names::Names;
use route::DnsFamily;

/// Flow shards. Fixed, whatever the number of threads, so that every flow lands in the same
/// shard and the report does not depend on how many threads ran (a test checks it).
pub const SHARDS: usize = 16;
/// Bytes of a DNS-over-TCP or h2c stream kept per direction while a message completes.
pub(super) const APP_STREAM_MAX: usize = 64 * 1024;

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
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSignals;

impl SignalSink for NoSignals {
    fn enabled(&self) -> bool {
        false
    }
    fn signal(&mut self, _: &Signal<'_>) {}
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Counters of everything read; part of every report.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
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
    /// Flows that stopped waiting for the rest of their first client bytes (a ClientHello or
    /// request head split over TCP segments, a ClientHello over QUIC Initials) because their
    /// shard's reassembly buffers were at their budget, so that they are named by DNS only;
    /// and cleartext HTTP/2 connections or DNS-over-TCP streams no longer read for the same
    /// reason. Absent from a report when zero.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub streams_over_budget: u64,
    /// Packets that could not be decoded, by reason.
    pub malformed: BTreeMap<String, u64>,
    /// Frames of link types we do not decode, by LINKTYPE_ number.
    pub unsupported_link_types: BTreeMap<u32, u64>,
    /// Inputs cut short or damaged (the report's `warnings` say which and where).
    pub warnings: u64,
}

impl Stats {
    /// Adds the counters of another stage.
    fn add(&mut self, other: &Stats) {
        let Stats {
            files_read,
            packets,
            captured_bytes,
            ip_packets,
            non_ip_frames,
            fragments_held,
            flows,
            named_flows,
            ai_flows,
            flows_evicted_by_cap,
            dns_messages,
            tls_client_hellos,
            http_requests,
            streams_over_budget,
            malformed,
            unsupported_link_types,
            warnings,
        } = other;
        self.files_read += files_read;
        self.packets += packets;
        self.captured_bytes += captured_bytes;
        self.ip_packets += ip_packets;
        self.non_ip_frames += non_ip_frames;
        self.fragments_held += fragments_held;
        self.flows += flows;
        self.named_flows += named_flows;
        self.ai_flows += ai_flows;
        self.flows_evicted_by_cap += flows_evicted_by_cap;
        self.dns_messages += dns_messages;
        self.tls_client_hellos += tls_client_hellos;
        self.http_requests += http_requests;
        self.streams_over_budget += streams_over_budget;
        for (reason, n) in malformed {
            *self.malformed.entry(reason.clone()).or_default() += n;
        }
        for (link_type, n) in unsupported_link_types {
            *self.unsupported_link_types.entry(*link_type).or_default() += n;
        }
        self.warnings += warnings;
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Flows held at once in all shards (0: the default); each shard holds its share.
    pub max_flows: usize,
    /// Threads for `run_file` (0: one per core). One thread does everything in turn; with
    /// more, the read, decode and stages lanes and the shards share them (`parallel.rs`).
    pub threads: usize,
    /// Whether threads other than the stages lane's take groups of shards: `None` decides
    /// batch by batch from what batches cost (the default); `Some` forces it, for tests. The
    /// report is the same either way.
    pub share_shards: Option<bool>,
    /// Heap bytes each shard's TCP flows may hold in reassembly buffers at once (0: the
    /// default, 4 MiB); smaller in tests, to reach it with a small capture.
    pub stream_budget: usize,
}

impl Options {
    /// The number of threads `threads` asks for.
    pub fn resolved_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

/// Where a stage's signals go and which packet it is working on.
pub(super) struct Cx<'s, S: SignalSink> {
    pub(super) sink: &'s mut S,
    /// 1-based packet number in its file (what `inspect` shows).
    pub(super) frame: u64,
    /// Packet number in the whole run, across files (what orders DNS answers and flows).
    pub(super) seq: u64,
}

/// One direction of a TCP connection read message by message (DNS over TCP, h2c frames):
/// the in-order bytes not yet used, bounded, and the DATA bodies of open HTTP/2 streams.
#[derive(Default)]
struct AppStream {
    next_seq: Option<u32>,
    buf: Vec<u8>,
    h2_bodies: Vec<(u32, Vec<u8>)>,
    /// Capture time of the last segment (streams idle too long are dropped).
    last_ts: u64,
}

/// Bytes that parser state waiting for more of a message holds, against a limit: a shard's
/// flows (client streams, QUIC flows, h2c streams), the name stage's DNS-over-TCP streams.
/// It has no `Default`: a limit of 0 would refuse every waiting message.
#[derive(Debug)]
struct Budget {
    held: usize,
    limit: usize,
}

impl Budget {
    /// A budget of `limit` bytes, or of `default` when `limit` is 0 (what `Options` and the
    /// tests ask for).
    fn new(limit: usize, default: usize) -> Budget {
        let limit = match limit {
            0 => default,
            n => n,
        };
        Budget { held: 0, limit }
    }

    /// A waiting state went from `before` to `after` bytes; false when that leaves the budget
    /// passed, and the caller then drops the state and `release`s its `after`.
    fn hold(&mut self, before: usize, after: usize) -> bool {
        self.held = (self.held + after).saturating_sub(before);
        self.held <= self.limit
    }

    /// A waiting state of `bytes` was dropped.
    fn release(&mut self, bytes: usize) {
        self.held = self.held.saturating_sub(bytes);
    }
}

/// A map of streams per direction (sender, receiver).
type AppStreams =
    std::collections::HashMap<(SocketAddr, SocketAddr), AppStream, crate::flow::FxBuild>;

impl AppStream {
    /// Bytes this stream takes in its map (its key, itself, its buffers), for a reassembly
    /// budget.
    fn held(&self) -> usize {
        std::mem::size_of::<((SocketAddr, SocketAddr), AppStream)>()
            + self.buf.capacity()
            + crate::flow::reassembly::segments_held(&self.h2_bodies)
    }

    /// The stream of `key` taken out of `streams` (a new one when there is none), with the
    /// bytes it was counted as holding there (0 for a new one).
    fn take(streams: &mut AppStreams, key: &(SocketAddr, SocketAddr)) -> (AppStream, usize) {
        match streams.remove(key) {
            Some(stream) => {
                let held = stream.held();
                (stream, held)
            }
            None => (AppStream::default(), 0),
        }
    }

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

/// The rules flows are classified by when they are folded.
#[derive(Clone, Copy)]
pub(super) struct Rules<'c> {
    pub(super) catalogue: &'c Catalogue,
    pub(super) policy: &'c Policy,
}

/// The decode stage: frames to packets, with the counters only it can keep.
#[derive(Default)]
struct Front {
    decoder: Decoder,
    /// Frames decoded in the whole run, never reset (a period cut resets `stats`): the
    /// number that orders DNS answers before the flows they name.
    seq: u64,
    stats: Stats,
    first_ts: Option<u64>,
    last_ts: Option<u64>,
}

/// What a batch's frames add to `Front`'s counters, counted on any thread while its plain
/// frames are decoded (`Front::take_counts` takes them, batches in order).
#[derive(Debug, Clone, Copy)]
struct Counts {
    packets: u64,
    captured_bytes: u64,
    /// Frames the fast path decoded (IP packets).
    plain: u64,
    /// The earliest and latest capture times counted; meaningless while `packets` is 0 (a
    /// plain minimum and maximum per frame, rather than `Option`s).
    first_ts: u64,
    last_ts: u64,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            packets: 0,
            captured_bytes: 0,
            plain: 0,
            first_ts: u64::MAX,
            last_ts: 0,
        }
    }
}

impl Counts {
    #[inline(always)]
    fn count(&mut self, pkt: &RawPacket<'_>) {
        self.packets += 1;
        self.captured_bytes += pkt.data.len() as u64;
        self.first_ts = self.first_ts.min(pkt.ts_nanos);
        self.last_ts = self.last_ts.max(pkt.ts_nanos);
    }
}

/// Widens the capture-time range `first..=last` to hold `ts`.
#[inline(always)]
fn widen(first: &mut Option<u64>, last: &mut Option<u64>, ts: u64) {
    *first = Some(first.map_or(ts, |f| f.min(ts)));
    *last = Some(last.map_or(ts, |l| l.max(ts)));
}

/// What the decode stage hands on.
enum Decode<'a> {
    Ip(PacketMeta<'a>),
    /// An ARP frame: the sender's MAC and the ARP message.
    Arp {
        src_mac: Option<[u8; 6]>,
        payload: &'a [u8],
    },
    /// Counted; nothing more to do.
    Done,
}

impl Front {
    /// Counts and decodes one frame; its number in the whole run (`seq`) comes with it.
    #[inline(always)]
    fn decode<'a>(&'a mut self, pkt: &RawPacket<'a>) -> (u64, Decode<'a>) {
        let mut counts = Counts::default();
        counts.count(pkt);
        self.take_counts(&counts);
        (self.seq, self.decode_counted(pkt))
    }

    /// The frames of a batch that `Counts` counted (the batch's first is the run's frame
    /// `seq + 1`), and its plain frames, which are decoded already.
    fn take_counts(&mut self, counts: &Counts) {
        self.seq += counts.packets;
        self.stats.packets += counts.packets;
        self.stats.captured_bytes += counts.captured_bytes;
        self.stats.ip_packets += counts.plain;
        if counts.packets > 0 {
            for ts in [counts.first_ts, counts.last_ts] {
                widen(&mut self.first_ts, &mut self.last_ts, ts);
            }
        }
    }

    /// `decode` for a frame that `Counts` counted already (and `take_counts` took).
    #[inline(always)]
    fn decode_counted<'a>(&'a mut self, pkt: &RawPacket<'a>) -> Decode<'a> {
        let Front { decoder, stats, .. } = self;
        tally(stats, decoder.decode(pkt))
    }
}

/// Counts what a frame decoded to in `stats`, and hands it on.
#[inline(always)]
fn tally<'a>(stats: &mut Stats, decoded: Result<Decoded<'a>, DecodeError>) -> Decode<'a> {
    match decoded {
        Ok(Decoded::Ip(meta)) => {
            stats.ip_packets += 1;
            Decode::Ip(meta)
        }
        Ok(Decoded::NonIp {
            src_mac,
            ethertype,
            payload,
            ..
        }) => {
            stats.non_ip_frames += 1;
            if ethertype == names::ETHERTYPE_ARP {
                Decode::Arp { src_mac, payload }
            } else {
                Decode::Done
            }
        }
        Ok(Decoded::FragmentHeld) => {
            stats.fragments_held += 1;
            Decode::Done
        }
        Err(DecodeError::UnsupportedLinkType(n)) => {
            *stats.unsupported_link_types.entry(n).or_default() += 1;
            Decode::Done
        }
        Err(DecodeError::Malformed(reason)) => {
            // The map holds one entry per distinct static reason: no growth per packet.
            if let Some(count) = stats.malformed.get_mut(reason) {
                *count += 1;
            } else {
                stats.malformed.insert(reason.to_string(), 1);
            }
            Decode::Done
        }
    }
}

pub struct Pipeline<'c, S: SignalSink> {
    front: Front,
    names: Names,
    shards: Vec<Shard>,
    /// When the shards look for idle flows: one clock for all, in capture order.
    sweep_clock: SweepClock,
    rules: Rules<'c>,
    sink: S,
    threads: usize,
    share_shards: Option<bool>,
    /// The threads of batch runs, made on the first file that needs them.
    pool: Option<rayon::ThreadPool>,
    /// The batches of the last batch run, for the next file: a month of rotated captures is
    /// hundreds of files, and each batch is megabytes the kernel would otherwise map, zero
    /// and unmap again for every one of them.
    spare: parallel::Spare,
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
            front: Front::default(),
            names: Names::with_stream_budget(options.stream_budget.saturating_mul(4)),
            shards: (0..SHARDS)
                .map(|_| Shard::new(max_flows.div_ceil(SHARDS), options.stream_budget))
                .collect(),
            sweep_clock: SweepClock::default(),
            rules: Rules { catalogue, policy },
            sink,
            threads: options.resolved_threads(),
            share_shards: options.share_shards,
            pool: None,
            spare: parallel::Spare::default(),
        }
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Reads one capture to its end. A truncated or corrupt file returns its error after every
    /// packet before the damage has been processed.
    ///
    /// With signals wanted (`inspect`), packets go one by one through `process`, so signals come
    /// out in capture order; the file is still read on a second thread. Otherwise the file is
    /// read in batches that go through the flow shards and the name stage, spread over
    /// `Options::threads` threads (`parallel.rs`); the report is the same either way.
    pub fn run_file(&mut self, source: &mut FileSource) -> Result<(), CaptureError> {
        self.front.stats.files_read += 1;
        if self.sink.enabled() {
            return crate::capture::batch::for_each_packet(source, |frame, packet| {
                self.process(frame, packet)
            });
        }
        parallel::run_file(self, source)
    }

    /// One frame, numbered from 1 within its file.
    pub fn process(&mut self, frame: u64, pkt: &RawPacket<'_>) {
        let Pipeline {
            front,
            names,
            shards,
            sweep_clock,
            rules,
            sink,
            ..
        } = self;
        let (seq, decoded) = front.decode(pkt);
        let mut cx = Cx { sink, frame, seq };
        match decoded {
            Decode::Ip(meta) => {
                let route = route::route(&meta);
                // The flow first: a new flow is named from the answers of earlier packets.
                if let Some(key) = &route.flow {
                    if sweep_clock.due(meta.ts_nanos) {
                        for shard in shards.iter_mut() {
                            shard.sweep(meta.ts_nanos, *rules);
                        }
                    }
                    let shard = &mut shards[key.shard(SHARDS)];
                    let dns = DnsAccess::Now(&names.dns);
                    shard.packet(*rules, dns, &meta, || meta.payload, &route, &mut cx);
                    for learned in shard.learned.drain(..) {
                        names.learn(learned);
                    }
                }
                names.packet(route.names, &meta, &mut cx);
            }
            Decode::Arp { src_mac, payload } => names.arp(src_mac, payload, &mut cx),
            Decode::Done => {}
        }
    }

    /// Ends a reporting period (`scan --every`) without ending the run: what the period's
    /// packets added is handed over, open flows included (with their bytes of this period), and
    /// counting restarts from zero. Flows, the passive DNS map and device names stay, so a
    /// connection or a name learned in one period still counts in the next.
    pub fn cut(&mut self) -> Outcome {
        let rules = self.rules;
        let mut stats = std::mem::take(&mut self.front.stats);
        stats.add(&std::mem::take(&mut self.names.stats));
        let shards = self.shards.iter_mut().map(|shard| shard.cut(rules));
        let (aggregates, stats) = gather(stats, shards);
        Outcome {
            aggregates,
            devices: self.names.devices.clone(),
            stats,
            first_ts: self.front.first_ts.take(),
            last_ts: self.front.last_ts.take(),
        }
    }

    /// Folds every open flow and hands the result over.
    pub fn finish(self) -> (Outcome, S) {
        self.spare.release();
        let rules = self.rules;
        let mut stats = self.front.stats;
        stats.add(&self.names.stats);
        let shards = self.shards.into_iter().map(|shard| shard.finish(rules));
        let (aggregates, stats) = gather(stats, shards);
        let outcome = Outcome {
            aggregates,
            devices: self.names.devices,
            stats,
            first_ts: self.front.first_ts,
            last_ts: self.front.last_ts,
        };
        (outcome, self.sink)
    }
}

/// The shards' aggregates merged in shard order, and their counters added to `stats`, with the
/// flow totals the aggregates hold.
fn gather(
    mut stats: Stats,
    shards: impl Iterator<Item = (Aggregates, Stats)>,
) -> (Aggregates, Stats) {
    let mut aggregates = Aggregates::default();
    for (agg, shard_stats) in shards {
        aggregates.merge(agg);
        stats.add(&shard_stats);
    }
    stats.flows = aggregates.flows;
    stats.named_flows = aggregates.named_flows;
    stats.ai_flows = aggregates.ai_flows;
    (aggregates, stats)
}

fn signal<S: SignalSink>(
    cx: &mut Cx<'_, S>,
    meta: &PacketMeta<'_>,
    kind: &'static str,
    value: &str,
) {
    cx.sink.signal(&Signal {
        frame: cx.frame,
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
    cx: &mut Cx<'_, S>,
    meta: &PacketMeta<'_>,
    head: &http::RequestHead<'_>,
    text: &mut String,
) {
    if !cx.sink.enabled() {
        return;
    }
    if let Some(host) = head.host {
        lossy_into(host, text);
        signal(cx, meta, "http_host", text);
    }
    if head.is_connect() {
        lossy_into(head.target, text);
        signal(cx, meta, "http_connect", text);
    }
}

pub(super) fn lossy_into(bytes: &[u8], out: &mut String) {
    out.clear();
    out.push_str(&String::from_utf8_lossy(bytes));
}

/// Parses one DNS-format message of `family`, counts it and gives `inspect` its signals.
/// Returns the message when it is a response (the caller learns from its answers). A body
/// found inside another protocol is accepted only when every question and record parses and
/// nothing is left over.
fn read_dns<'m, S: SignalSink>(
    bytes: &'m [u8],
    family: DnsFamily,
    meta: &PacketMeta<'_>,
    cx: &mut Cx<'_, S>,
    stats: &mut Stats,
    text: &mut String,
) -> Option<dns::Message<'m>> {
    let message = dns::parse(bytes).ok()?;
    if family == DnsFamily::DnsInBody && !dns::is_whole_message(&message) {
        return None;
    }
    stats.dns_messages += 1;
    let (query_kind, answer_kind) = family.kinds();
    let emit = cx.sink.enabled();
    if !message.is_response() {
        if emit {
            for question in message.questions() {
                let Ok(question) = question else { break };
                text.clear();
                if question.name.write_text(text).is_ok() {
                    signal(cx, meta, query_kind, text);
                }
            }
        }
        return None;
    }
    if emit {
        for record in message.answers() {
            let Ok(record) = record else { break };
            text.clear();
            if dns::write_answer_value(&record, text).is_ok() {
                signal(cx, meta, answer_kind, text);
            }
        }
    }
    Some(message)
}

/// Buffers `address_answers` reuses from message to message, so reading answers allocates
/// nothing once they have grown.
#[derive(Default)]
struct AnswerScratch {
    /// Every owner and CNAME target of the message, lowercased, one after the other.
    text: String,
    /// (owner, address) of A and AAAA answers, owners as ranges of `text`.
    addresses: Vec<(std::ops::Range<usize>, IpAddr)>,
    /// (target, owner) of CNAME answers.
    aliases: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    /// The names written into `text`, by where their labels start in the message.
    written: Vec<(usize, std::ops::Range<usize>)>,
}

/// The A/AAAA answers of a response, each under the name the client asked for (CNAME chains
/// followed back to it), lowercased.
fn address_answers(
    message: &dns::Message<'_>,
    scratch: &mut AnswerScratch,
    mut each: impl FnMut(IpAddr, &str),
) {
    let AnswerScratch {
        text,
        addresses,
        aliases,
        written,
    } = scratch;
    text.clear();
    addresses.clear();
    aliases.clear();
    written.clear();
    // A name whose labels were written already (most owners point at the question or at a
    // CNAME's target) takes the same text again.
    let mut write = |name: &dns::Name<'_>, text: &mut String| {
        let labels = name.labels_start();
        if let Some(range) = labels.and_then(|at| written.iter().find(|(w, _)| *w == at)) {
            return Some(range.1.clone());
        }
        let start = text.len();
        if name.write_text(text).is_err() {
            text.truncate(start);
            return None;
        }
        text[start..].make_ascii_lowercase();
        if let Some(at) = labels {
            written.push((at, start..text.len()));
        }
        Some(start..text.len())
    };
    for record in message.answers() {
        let Ok(record) = record else { break };
        let addr = match record.data {
            dns::RData::A(v4) => IpAddr::V4(v4),
            dns::RData::Aaaa(v6) => IpAddr::V6(v6),
            dns::RData::Cname(target) => {
                let Some(owner) = write(&record.owner, text) else {
                    continue;
                };
                if let Some(target) = write(&target, text) {
                    aliases.push((target, owner));
                }
                continue;
            }
            _ => continue,
        };
        if let Some(owner) = write(&record.owner, text) {
            addresses.push((owner, addr));
        }
    }
    let text = text.as_str();
    for (owner, addr) in addresses.iter() {
        let mut name = &text[owner.clone()];
        for _ in 0..8 {
            match aliases
                .iter()
                .find(|(target, _)| &text[target.clone()] == name)
            {
                Some((_, up)) if &text[up.clone()] != name => name = &text[up.clone()],
                _ => break,
            }
        }
        each(*addr, name);
    }
}

/// The (sender, receiver) of a packet, the key of its direction of a stream.
fn direction_key(meta: &PacketMeta<'_>) -> (SocketAddr, SocketAddr) {
    (
        SocketAddr::new(meta.src_ip, meta.src_port),
        SocketAddr::new(meta.dst_ip, meta.dst_port),
    )
}

#[cfg(test)]
mod tests {
    use super::{NoSignals, Options, Outcome, Pipeline};
    use crate::capture::file::FileSource;
    use crate::classify::rules::Catalogue;

    /// `address_answers` as it was before names were written once per message: every owner
    /// and CNAME target written anew. The oracle of the test below.
    fn answers_each_name_written(
        message: &crate::proto::dns::Message<'_>,
    ) -> Vec<(std::net::IpAddr, String)> {
        use crate::proto::dns::RData;
        let text = |name: &crate::proto::dns::Name<'_>| {
            name.to_text().ok().map(|t| t.to_ascii_lowercase())
        };
        let (mut addresses, mut aliases) = (Vec::new(), Vec::new());
        for record in message.answers() {
            let Ok(record) = record else { break };
            let addr = match record.data {
                RData::A(v4) => std::net::IpAddr::V4(v4),
                RData::Aaaa(v6) => std::net::IpAddr::V6(v6),
                RData::Cname(target) => {
                    if let (Some(owner), Some(target)) = (text(&record.owner), text(&target)) {
                        aliases.push((target, owner));
                    }
                    continue;
                }
                _ => continue,
            };
            if let Some(owner) = text(&record.owner) {
                addresses.push((owner, addr));
            }
        }
        addresses
            .into_iter()
            .map(|(owner, addr)| {
                let mut name = owner;
                for _ in 0..8 {
                    match aliases.iter().find(|(target, _)| *target == name) {
                        Some((_, up)) if *up != name => name = up.clone(),
                        _ => break,
                    }
                }
                (addr, name)
            })
            .collect()
    }

    /// Each name of a message written once (`Name::labels_start`) names the addresses as
    /// writing every name anew does: on every DNS, mDNS and LLMNR message of the sample and
    /// the corpus, and on mutations of a few of them (pointers and labels changed).
    #[test]
    fn answers_name_addresses_as_writing_every_name_does() {
        use crate::decode::{Decoded, Decoder};
        let mut scratch = super::AnswerScratch::default();
        let mut check = |payload: &[u8]| -> bool {
            let Ok(message) = crate::proto::dns::parse(payload) else {
                return false;
            };
            let mut got = Vec::new();
            super::address_answers(&message, &mut scratch, |addr, name| {
                got.push((addr, name.to_string()))
            });
            assert_eq!(got, answers_each_name_written(&message), "{payload:02x?}");
            !got.is_empty()
        };
        let mut messages: Vec<Vec<u8>> = Vec::new();
        let mut collect = |bytes: Vec<u8>| {
            let mut decoder = Decoder::default();
            crate::testkit::each_packet(bytes, |packet| {
                if let Ok(Decoded::Ip(meta)) = decoder.decode(packet) {
                    let ports = [meta.src_port, meta.dst_port];
                    if [53, 5353, 5355].iter().any(|p| ports.contains(p)) {
                        messages.push(meta.payload.to_vec());
                    }
                }
            });
        };
        collect(crate::synth::sample::office_lan_sample());
        let corpus = crate::testkit::corpus_files();
        for path in corpus.iter().flatten() {
            if let Ok(bytes) = std::fs::read(path) {
                collect(bytes);
            }
        }
        let named = messages.iter().filter(|m| check(m)).count();
        let mut seed = 0x1234_5678_9abc_def1u64;
        for message in messages
            .iter()
            .filter(|m| m.len() > 40)
            .step_by(97)
            .take(200)
        {
            crate::testkit::mutations(message, 200, 3, &mut seed, |mutated| {
                check(mutated);
            });
        }
        if corpus.is_none() {
            eprintln!("SKIPPED (corpus part): no corpus beside the project");
            assert!(named > 10, "{named}");
        } else {
            assert!(named > 1_000, "{named} messages naming addresses");
        }
    }

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
}
