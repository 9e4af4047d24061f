//! A capture file in batches, over `Options::threads` threads.
//!
//! A batch (`capture::batch`: about half a MiB of a pcap or pcapng file, read in place) is read (a
//! regular file's chunks at their offsets, any number at once, then indexed in order), decoded
//! (its plain frames on any thread, several batches at once: `decode_plain_frames`; then, in
//! order, the frames that need the general decoder and its fragment table: `finish_decode`),
//! and goes through the stages in file order — routes and the flow shards (in one pass:
//! `routes_and_shards`; routes first when the shards are shared out: `begin_stages`), then the
//! name stage in capture order, which also answers the DNS lookups the shards made for their new
//! flows, at their place in that order. With one thread that is done in turn. With more,
//! every thread of a `rayon` pool takes whichever turn is ready (`Lanes`), and while a batch
//! is in the stages, the others may take groups of its shards when the shards are the long
//! pole (`Costs`).
//!
//! The report does not depend on the thread count, nor on where batches end: frames are
//! numbered and counted in file order, the decoder's state sees its frames in file order, the
//! shard of a
//! flow comes from its 5-tuple alone, shards share nothing within a batch, a flow ends on its
//! own idle gap, all shards look for idle flows at the same moments of capture time
//! (`SweepClock`), DNS lookups are answered as of their packet, and shard results are merged in
//! shard order. The result equals a run of `Pipeline::process` packet by packet;
//! `tests/threads.rs` checks both byte for byte.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::flows::{DnsAccess, Learned, Shard};
use super::names::Names;
use super::route::{NameWork, Route};
use super::{Counts, Cx, Decode, Front, NoSignals, Pipeline, Rules, SignalSink, SHARDS};
use crate::capture::batch::{self, Batch, Fill};
use crate::capture::file::{CaptureError, FileSource, Positional};
use crate::decode::Decoder;
use crate::flow::{Seen, SweepClock};

mod lanes;
mod record;

use lanes::Lanes;
use record::{Cold, Record, Span};

/// Batches kept from one batch run for the next (`Pipeline::spare`).
#[derive(Default)]
pub(super) struct Spare(Vec<Work>);

impl Spare {
    /// Gives the batches' memory back, the batches of a run on several threads (some 19 MB,
    /// about 1.7 ms to unmap) on a thread of its own, while the caller builds its report.
    /// One batch (a run on one thread) is not worth starting a thread for.
    pub(super) fn release(self) {
        if self.0.len() > 1 {
            // If no thread can be started, the batches are dropped here.
            let _ = std::thread::Builder::new()
                .name("shadowai-free".into())
                .spawn(move || drop(self));
        }
    }
}

/// A batch and what the decode side made of it. Reused from batch to batch.
#[derive(Default)]
struct Work {
    /// The pool thread that last took it to read into (`Queues::take_free`).
    home: usize,
    batch: Batch,
    /// The batch's place in the run (batches are numbered as they are read), which puts them
    /// back in order after decoding on several threads at once.
    ticket: u64,
    /// The run's packet number (`Front::seq`) before the batch's first packet.
    first_seq: u64,
    /// One per frame of the batch, and beside each its cold part.
    records: Vec<Record>,
    colds: Vec<Cold>,
    /// The frames the decoder's fast path did not take, for `finish_decode`.
    holes: Vec<u32>,
    /// The batch's frames, counted while decoding.
    counts: Counts,
    /// Payloads of reassembled datagrams (they are not in the batch's buffer).
    side: Vec<u8>,
    /// The route of each record, when the shards are shared out in groups (`begin_stages`).
    routes: Vec<Route>,
    /// Per shard, the indexes in `records` of its packets, in order (only when the shards are
    /// shared out in groups).
    lists: Vec<Vec<u32>>,
    /// The name stage's work from the shards, by packet number (kept for its allocation).
    events: Vec<(u64, u8, Event)>,
    /// (record index, capture time) of the packets at which the shards look for idle flows
    /// (`SweepClock`), before the packet itself.
    sweeps: Vec<(usize, u64)>,
    /// Indexes of the records the name stage reads (a small part of most captures), with
    /// what it does with them.
    named: Vec<(u32, NameWork)>,
}

impl Work {
    fn payload(&self, span: Span) -> &[u8] {
        let buffer = if span.side {
            self.side.as_slice()
        } else {
            self.batch.bytes()
        };
        let start = span.start as usize;
        buffer
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }

    /// The numbers for `Cx` of the record at `index`: its frame number in its file (only
    /// when `sink` takes signals, the one thing it is for: reading it touches the batch's
    /// packet list, which the stages otherwise never read), and its number in the run.
    fn context(&self, index: usize, sink: &impl SignalSink) -> (u64, u64) {
        let frame = if sink.enabled() {
            self.batch.frame(index).unwrap_or_default()
        } else {
            0
        };
        (frame, self.first_seq + index as u64 + 1)
    }
}

/// Where `inner` starts within `outer`, when it lies inside it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let (outer_start, inner_start) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    let offset = inner_start.checked_sub(outer_start)?;
    (offset.checked_add(inner.len())? <= outer.len()).then_some(offset)
}

/// Records made on the stack before they are copied to a batch's lists (`decode_plain_frames`).
const RECORDS_AT_ONCE: usize = 64;

/// The first part of decoding, on any thread and for several batches at once: counts the
/// batch's frames and decodes its plain ones (`Decoder::decode_plain`, which keeps no state)
/// into records; the others are left as holes (`Record::SKIP`) for `finish_decode`.
///
/// Records are made in a small buffer on the stack and copied to the batch's lists
/// `RECORDS_AT_ONCE` at a time. The lists' memory was last read by the thread that ran the
/// stages, often on another core, whose copy each line's first write must take back: a
/// record's fields written one by one there hold the core up on every line, where a copy of
/// whole lines asks for many at once. (Measured with the two cores on different dies of the
/// host: the second thread's decoding 60 → 37 ms a run; see BENCHMARKS.md.)
fn decode_plain_frames(work: &mut Work) {
    let Work {
        batch,
        records,
        colds,
        side,
        holes,
        counts,
        ..
    } = work;
    records.clear();
    colds.clear();
    side.clear();
    holes.clear();
    *counts = Counts::default();
    let buffer = batch.bytes();
    let mut made = (
        [Record::SKIP; RECORDS_AT_ONCE],
        [Cold::default(); RECORDS_AT_ONCE],
    );
    let mut in_made = 0;
    for (index, (_, packet)) in batch.packets().enumerate() {
        counts.count(&packet);
        let plain = Decoder::decode_plain_parts(&packet)
            .and_then(|plain| Some((plain, offset_in(buffer, plain.payload)?)));
        let (record, cold) = match plain {
            Some((plain, start)) => {
                counts.plain += 1;
                let payload = Span {
                    start: start as u32,
                    len: plain.payload.len() as u32,
                    side: false,
                };
                Record::plain(&plain, payload)
            }
            None => {
                holes.push(index as u32);
                (Record::SKIP, Cold::default())
            }
        };
        if let (Some(record_slot), Some(cold_slot)) =
            (made.0.get_mut(in_made), made.1.get_mut(in_made))
        {
            (*record_slot, *cold_slot) = (record, cold);
            in_made += 1;
        }
        if in_made == RECORDS_AT_ONCE {
            records.extend_from_slice(&made.0);
            colds.extend_from_slice(&made.1);
            in_made = 0;
        }
    }
    records.extend_from_slice(made.0.get(..in_made).unwrap_or_default());
    colds.extend_from_slice(made.1.get(..in_made).unwrap_or_default());
}

/// The rest of decoding, batches taken in order: the batch's counts go to the run's, and its
/// holes through the general decoder (whose fragment table is state), into their records.
fn finish_decode(front: &mut Front, work: &mut Work) {
    let Work {
        batch,
        first_seq,
        records,
        colds,
        side,
        holes,
        counts,
        ..
    } = work;
    *first_seq = front.seq;
    front.take_counts(counts);
    let buffer = batch.bytes();
    // A payload in the batch's buffer is found there; a reassembled one is copied aside.
    let mut span = |payload: &[u8]| match offset_in(buffer, payload) {
        Some(start) => Span {
            start: start as u32,
            len: payload.len() as u32,
            side: false,
        },
        None => {
            let start = side.len() as u32;
            side.extend_from_slice(payload);
            Span {
                start,
                len: payload.len() as u32,
                side: true,
            }
        }
    };
    for &hole in holes.iter() {
        let hole = hole as usize;
        let (Some((_, packet)), Some(record), Some(cold)) = (
            batch.packet(hole),
            records.get_mut(hole),
            colds.get_mut(hole),
        ) else {
            continue;
        };
        (*record, *cold) = match front.decode_counted(&packet) {
            Decode::Ip(meta) => Record::ip(&meta, span(meta.payload)),
            Decode::Arp { src_mac, payload } => Record::arp(src_mac, span(payload)),
            Decode::Done => continue,
        };
    }
}

/// Reads the next batch into `work`: a chunk at its offset when the file reads positionally
/// (`chunk` counts them), else on from the last batch.
fn read_next(
    source: &mut FileSource,
    positional: Option<&Positional>,
    chunk: &mut u64,
    work: &mut Work,
) -> Fill {
    match positional {
        Some(positional) => {
            batch::fetch(positional, *chunk, &mut work.batch);
            *chunk += 1;
            batch::index(source, &mut work.batch)
        }
        None => batch::fill(source, &mut work.batch),
    }
}

/// Something the name stage does in a batch run, besides reading its own packets: answer a
/// shard's DNS lookup, or take an answer a shard found inside a flow.
enum Event {
    Lookup { shard: usize, index: usize },
    Learned(Learned),
}

/// What the stages after decoding work on: the parts of the pipeline they own, but for the
/// shards (in `Groups`).
struct Stages<'p, 'c> {
    names: &'p mut Names,
    sweep_clock: &'p mut SweepClock,
    rules: Rules<'c>,
}

/// The flow shards, in groups that threads can take apart: group `g` holds shards
/// `g * per .. (g + 1) * per`.
struct Groups<'p> {
    groups: Vec<Mutex<&'p mut [Shard]>>,
    per: usize,
}

impl<'p> Groups<'p> {
    fn new(shards: &'p mut [Shard], groups: usize) -> Self {
        let per = shards.len().div_ceil(groups.max(1)).max(1);
        Groups {
            groups: shards.chunks_mut(per).map(Mutex::new).collect(),
            per,
        }
    }

    /// Every group, locked, in order.
    fn lock_all(&self) -> Vec<MutexGuard<'_, &'p mut [Shard]>> {
        self.groups.iter().map(lock).collect()
    }

    /// Shard number `shard`, among the groups `lock_all` locked.
    fn shard_mut<'g>(
        &self,
        locked: &'g mut [MutexGuard<'_, &'p mut [Shard]>],
        shard: usize,
    ) -> Option<&'g mut Shard> {
        locked.get_mut(shard / self.per)?.get_mut(shard % self.per)
    }
}

/// Runs one decoded batch through the stages, all on this thread: routes and the flow
/// shards, then the name stage.
fn stages(stage: &mut Stages<'_, '_>, groups: &Groups<'_>, work: &mut Work) {
    routes_and_shards(stage, groups, work);
    end_stages(stage, groups, work);
}

/// Every packet of `work` gets its route and goes to its flow's shard, on this thread, in one
/// pass (no list of routes kept: the name stage's packets keep theirs in `named`). Shards
/// share nothing, so taking the packets in capture order, each to its own shard, is the same
/// as taking the shards one after the other. The sweeps are made where they fall, in every
/// shard at once.
fn routes_and_shards(stage: &mut Stages<'_, '_>, groups: &Groups<'_>, work: &mut Work) {
    let (sweep_clock, rules) = (&mut *stage.sweep_clock, stage.rules);
    let mut named = std::mem::take(&mut work.named);
    named.clear();
    let mut guards = groups.lock_all();
    // Every shard by its number, one load away (rather than group, then place in the group,
    // for every packet).
    let mut shards: Vec<&mut Shard> = guards.iter_mut().flat_map(|g| g.iter_mut()).collect();
    for (index, record) in work.records.iter().enumerate() {
        let mut route = record.route();
        // Every DHCP route is one the name stage reads, so only those are asked to tell a
        // client without an address by its MAC (`Record::unaddressed`).
        if let Some(name_work) = record.named(&route) {
            record.unaddressed(&mut route, work.colds.get(index));
            named.push((index as u32, name_work));
        }
        let Some(key) = &route.flow else {
            continue;
        };
        let ts = record.ts_nanos;
        if sweep_clock.due(ts) {
            shards.iter_mut().for_each(|shard| shard.sweep(ts, rules));
        }
        if let Some(shard) = shards.get_mut(key.shard(SHARDS)) {
            flow_packet(shard, rules, work, index, record, &route);
        }
    }
    work.named = named;
}

/// The first part of the stages when other threads take groups of shards: each packet's
/// route, the sweeps, the name stage's packets, and each shard's list of packets.
fn begin_stages(stage: &mut Stages<'_, '_>, work: &mut Work) {
    let sweep_clock = &mut *stage.sweep_clock;
    work.sweeps.clear();
    work.named.clear();
    let mut routes = std::mem::take(&mut work.routes);
    routes.clear();
    let mut shard_lists = std::mem::take(&mut work.lists);
    shard_lists.resize_with(SHARDS, Vec::new);
    shard_lists.iter_mut().for_each(Vec::clear);
    for record in &work.records {
        let mut route = record.route();
        // As in `routes_and_shards`: every DHCP route is named.
        if let Some(name_work) = record.named(&route) {
            record.unaddressed(&mut route, work.colds.get(routes.len()));
            work.named.push((routes.len() as u32, name_work));
        }
        if let Some(key) = &route.flow {
            if sweep_clock.due(record.ts_nanos) {
                work.sweeps.push((routes.len(), record.ts_nanos));
            }
            shard_lists[key.shard(SHARDS)].push(routes.len() as u32);
        }
        routes.push(route);
    }
    work.routes = routes;
    work.lists = shard_lists;
}

/// One packet of `work` (`record`, at `index`) in its flow's shard.
#[inline(always)]
fn flow_packet(
    shard: &mut Shard,
    rules: Rules<'_>,
    work: &Work,
    index: usize,
    record: &Record,
    route: &Route,
) {
    let Some(cold) = work.colds.get(index) else {
        return;
    };
    let mut sink = NoSignals;
    let (frame, seq) = work.context(index, &sink);
    let payload = || work.payload(record.payload());
    let mut cx = Cx {
        sink: &mut sink,
        frame,
        seq,
    };
    let packet = record.with(cold);
    shard.packet(rules, DnsAccess::Later, &packet, payload, route, &mut cx);
}

/// The shards of group `group` take their packets of `work` (from `work.lists`).
fn shard_group(groups: &Groups<'_>, group: usize, rules: Rules<'_>, work: &Work) {
    let Some(shards) = groups.groups.get(group) else {
        return;
    };
    let mut shards = lock(shards);
    for (offset, shard) in shards.iter_mut().enumerate() {
        let Some(list) = work.lists.get(group * groups.per + offset) else {
            continue;
        };
        // A sweep is made before the shard's first packet at or after it: the shard is then
        // as it was at that moment of the capture.
        let mut sweeps = work.sweeps.iter().peekable();
        for &index in list {
            let index = index as usize;
            while let Some((_, now)) = sweeps.next_if(|(at, _)| *at <= index) {
                shard.sweep(*now, rules);
            }
            let (Some(record), Some(route)) = (work.records.get(index), work.routes.get(index))
            else {
                continue;
            };
            flow_packet(shard, rules, work, index, record, route);
        }
        for (_, now) in sweeps {
            shard.sweep(*now, rules);
        }
    }
}

/// The last part of the stages: the name stage, in capture order, answering the shards' DNS
/// lookups at their place in that order; then the shards hand the answers to their flows.
fn end_stages<'p>(stage: &mut Stages<'_, '_>, groups: &Groups<'p>, work: &mut Work) {
    let mut guards = groups.lock_all();
    let names = &mut *stage.names;
    // At one packet, the flow comes first (its lookup, then what it learned), then the name
    // stage's own reading: as `Pipeline::process` does.
    let mut events = std::mem::take(&mut work.events);
    events.clear();
    for (group, guard) in guards.iter_mut().enumerate() {
        for (offset, shard) in guard.iter_mut().enumerate() {
            for (index, lookup) in shard.lookups.iter().enumerate() {
                let event = Event::Lookup {
                    shard: group * groups.per + offset,
                    index,
                };
                events.push((lookup.seq, 0, event));
            }
            events.extend(
                shard
                    .learned
                    .drain(..)
                    .map(|l| (l.seq, 1, Event::Learned(l))),
            );
        }
    }
    events.sort_by_key(|(seq, rank, _)| (*seq, *rank));
    let answer =
        |names: &mut Names, guards: &mut [MutexGuard<'_, &'p mut [Shard]>], event| match event {
            Event::Lookup { shard, index } => {
                let lookup = groups
                    .shard_mut(guards, shard)
                    .and_then(|s| s.lookups.get_mut(index));
                if let Some(lookup) = lookup {
                    lookup.answer = names.dns.lookup(lookup.client, lookup.server, lookup.ts);
                }
            }
            Event::Learned(learned) => names.learn(learned),
        };
    let mut pending = events.drain(..).peekable();
    let mut sink = NoSignals;
    for &(index, name_work) in &work.named {
        let index = index as usize;
        let (Some(record), Some(cold)) = (work.records.get(index), work.colds.get(index)) else {
            continue;
        };
        let (frame, seq) = work.context(index, &sink);
        while let Some((_, _, event)) = pending.next_if(|(at, _, _)| *at <= seq) {
            answer(names, &mut guards, event);
        }
        let mut cx = Cx {
            sink: &mut sink,
            frame,
            seq,
        };
        let payload = work.payload(record.payload());
        let packet = record.with(cold);
        if record.is_arp() {
            names.arp(packet.src_mac(), payload, &mut cx);
        } else if record.is_ip() {
            names.packet(name_work, &packet.meta_with(payload), &mut cx);
        }
    }
    for (_, _, event) in pending {
        answer(names, &mut guards, event);
    }
    work.events = events;
    for guard in guards.iter_mut() {
        guard.iter_mut().for_each(|shard| shard.settle(stage.rules));
    }
}

/// Reads a whole file through the stages (see the module's documentation).
pub(super) fn run_file<S: SignalSink>(
    pipeline: &mut Pipeline<'_, S>,
    source: &mut FileSource,
) -> Result<(), CaptureError> {
    let threads = pipeline.threads.max(1);
    if threads > 1 && pipeline.pool.is_none() {
        pipeline.pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("shadowai-{i}"))
            .build()
            .ok();
    }
    let Pipeline {
        front,
        names,
        shards,
        sweep_clock,
        rules,
        pool,
        share_shards,
        spare,
        ..
    } = pipeline;
    let mut stage = Stages {
        names,
        sweep_clock,
        rules: *rules,
    };
    let Some(pool) = pool.as_ref().filter(|_| threads > 1) else {
        // One thread: each batch is read, decoded and staged in turn.
        let groups = Groups::new(shards, 1);
        let mut work = spare.0.pop().unwrap_or_default();
        // A regular file chunk by chunk at their offsets, anything else (stdin, gzip) read on.
        let positional = source.positional();
        let mut chunk = 0;
        loop {
            let filled = read_next(source, positional.as_ref(), &mut chunk, &mut work);
            decode_plain_frames(&mut work);
            finish_decode(front, &mut work);
            stages(&mut stage, &groups, &mut work);
            if let Fill::End(result) = filled {
                spare.0.push(work);
                return result;
            }
        }
    };
    let groups = Groups::new(shards, threads);
    let works = std::mem::take(&mut spare.0);
    let (result, works) =
        Lanes::new(source, front, stage, groups, threads, *share_shards, works).run(pool);
    spare.0 = works;
    result
}

/// A lock whose holder panicked still guards data fit for the next turn (the panic itself
/// comes out of the pool).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::offset_in;

    #[test]
    fn offsets_only_inside() {
        let outer = [0u8; 64];
        assert_eq!(offset_in(&outer, &outer[10..20]), Some(10));
        assert_eq!(offset_in(&outer, &outer[64..]), Some(64));
        assert_eq!(offset_in(&outer[8..], &outer[..4]), None);
        let other = [0u8; 4];
        assert_eq!(offset_in(&outer[..8], &other), None);
    }
}
