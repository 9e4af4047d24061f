//! A capture file in batches, over `Options::threads` threads.
//!
//! A batch (`capture::batch`: about 1 MiB of a pcap file, read in place) goes through three
//! lanes, each taking batches in file order: read, decode (frames to compact records), and the
//! stages — routes, then the flow shards, then the name stage in capture order, which also
//! answers the DNS lookups the shards made for their new flows, at their place in that order.
//! With one thread that is done in turn. With more, every thread of a `rayon` pool takes
//! whichever lane's turn is ready (`Lanes`), and while a batch is in the stages, the others
//! may take groups of its shards when the shards are the long pole (`Costs`).
//!
//! The report does not depend on the thread count, nor on where batches end: the shard of a
//! flow comes from its 5-tuple alone, shards share nothing within a batch, a flow ends on its
//! own idle gap, all shards look for idle flows at the same moments of capture time
//! (`SweepClock`), DNS lookups are answered as of their packet, and shard results are merged in
//! shard order. The result equals a run of `Pipeline::process` packet by packet;
//! `tests/threads.rs` checks both byte for byte.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::flows::{DnsAccess, Learned, Shard};
use super::names::Names;
use super::route::{route, NameWork, Route};
use super::{Cx, Decode, Front, NoSignals, Pipeline, Rules, SignalSink, SHARDS};
use crate::capture::batch::{self, Batch, Fill};
use crate::capture::file::{CaptureError, FileSource};
use crate::decode::PacketMeta;
use crate::flow::SweepClock;

/// Where a packet's payload is: in the batch's buffer, or (for a datagram reassembled from
/// fragments) in the side buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
    side: bool,
}

/// What a decoded packet is. An IP packet's meta has an empty payload: `Record::payload` says
/// where it is (a batch cannot hold references into itself).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Ip(PacketMeta<'static>),
    Arp { src_mac: Option<[u8; 6]> },
}

/// One decoded packet, ready for the stages. Kept small: the decode side writes one per
/// packet and the stages read it back on another core.
#[derive(Debug, Clone, Copy)]
struct Record {
    kind: Kind,
    /// Its index in the batch (which gives its frame number and its number in the run).
    index: u32,
    payload: Span,
}

/// A batch and what the decode side made of it. Reused from batch to batch.
#[derive(Default)]
struct Work {
    batch: Batch,
    /// The run's packet number (`Front::seq`) before the batch's first packet.
    first_seq: u64,
    records: Vec<Record>,
    /// Payloads of reassembled datagrams (they are not in the batch's buffer).
    side: Vec<u8>,
    /// The route of each record, made in the stages lane.
    routes: Vec<Route>,
    /// Per shard, the indexes in `records` of its packets, in order (only when the shards are
    /// shared out in groups).
    lists: Vec<Vec<u32>>,
    /// The name stage's work from the shards, by packet number (kept for its allocation).
    events: Vec<(u64, u8, Event)>,
    /// (record index, capture time) of the packets at which the shards look for idle flows
    /// (`SweepClock`), before the packet itself.
    sweeps: Vec<(usize, u64)>,
    /// Indexes of the records the name stage reads (a small part of most captures).
    named: Vec<u32>,
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

    /// A record's numbers for `Cx`: its frame number in its file, and its number in the run.
    fn context(&self, record: &Record) -> (u64, u64) {
        let frame = self.batch.frame(record.index as usize).unwrap_or_default();
        (frame, self.first_seq + u64::from(record.index) + 1)
    }
}

/// Where `inner` starts within `outer`, when it lies inside it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let (outer_start, inner_start) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    let offset = inner_start.checked_sub(outer_start)?;
    (offset.checked_add(inner.len())? <= outer.len()).then_some(offset)
}

/// The decode side: decodes every packet of `work.batch` into `work.records`.
fn decode(front: &mut Front, work: &mut Work) {
    let Work {
        batch,
        first_seq,
        records,
        side,
        ..
    } = work;
    records.clear();
    side.clear();
    *first_seq = front.seq;
    let buffer = batch.bytes();
    for (index, (_, packet)) in batch.packets().enumerate() {
        let (_, decoded) = front.decode(&packet);
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
        let record = match decoded {
            Decode::Ip(meta) => Record {
                payload: span(meta.payload),
                kind: Kind::Ip(PacketMeta {
                    payload: &[],
                    ..meta
                }),
                index: index as u32,
            },
            Decode::Arp { src_mac, payload } => Record {
                payload: span(payload),
                kind: Kind::Arp { src_mac },
                index: index as u32,
            },
            Decode::Done => continue,
        };
        records.push(record);
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
}

/// Runs one decoded batch through the stages, all on this thread: routes, the flow shards,
/// then the name stage.
fn stages(stage: &mut Stages<'_, '_>, groups: &Groups<'_>, work: &mut Work) {
    begin_stages(stage, work, false);
    all_shards(groups, stage.rules, work);
    end_stages(stage, groups, work);
}

/// Every shard takes its packets of `work`, on this thread. Shards share nothing, so taking
/// the packets in capture order, each to its own shard, is the same as taking the shards one
/// after the other (and needs no per-shard lists).
fn all_shards(groups: &Groups<'_>, rules: Rules<'_>, work: &Work) {
    let mut guards: Vec<_> = groups.groups.iter().map(lock).collect();
    let mut sweeps = work.sweeps.iter().peekable();
    for (index, route) in work.routes.iter().enumerate() {
        if let Some(key) = &route.flow {
            if let Some((_, now)) = sweeps.next_if(|(at, _)| *at == index) {
                for guard in guards.iter_mut() {
                    guard.iter_mut().for_each(|shard| shard.sweep(*now, rules));
                }
            }
            let shard = key.shard(SHARDS);
            if let Some(shard) = guards
                .get_mut(shard / groups.per)
                .and_then(|g| g.get_mut(shard % groups.per))
            {
                flow_packet(shard, rules, work, index);
            }
        }
    }
}

/// The first part of the stages: each packet's route, the sweeps, the name stage's records,
/// and (`lists`) each shard's list of packets.
fn begin_stages(stage: &mut Stages<'_, '_>, work: &mut Work, lists: bool) {
    let sweep_clock = &mut *stage.sweep_clock;
    work.sweeps.clear();
    work.named.clear();
    let mut routes = std::mem::take(&mut work.routes);
    routes.clear();
    let mut shard_lists = std::mem::take(&mut work.lists);
    shard_lists.resize_with(SHARDS, Vec::new);
    shard_lists.iter_mut().for_each(Vec::clear);
    for record in &work.records {
        let route = match &record.kind {
            Kind::Ip(meta) => route(&PacketMeta {
                payload: work.payload(record.payload),
                ..*meta
            }),
            Kind::Arp { .. } => Route::NONE,
        };
        if route.names != NameWork::Nothing || matches!(record.kind, Kind::Arp { .. }) {
            work.named.push(routes.len() as u32);
        }
        if let (Kind::Ip(meta), Some(key)) = (&record.kind, &route.flow) {
            if sweep_clock.due(meta.ts_nanos) {
                work.sweeps.push((routes.len(), meta.ts_nanos));
            }
            if lists {
                shard_lists[key.shard(SHARDS)].push(routes.len() as u32);
            }
        }
        routes.push(route);
    }
    work.routes = routes;
    work.lists = shard_lists;
}

/// One packet of `work` in its flow's shard.
fn flow_packet(shard: &mut Shard, rules: Rules<'_>, work: &Work, index: usize) {
    let (Some(record), Some(route)) = (work.records.get(index), work.routes.get(index)) else {
        return;
    };
    let (Kind::Ip(meta), Some(key)) = (&record.kind, &route.flow) else {
        return;
    };
    let (frame, seq) = work.context(record);
    let meta = PacketMeta {
        payload: work.payload(record.payload),
        ..*meta
    };
    let mut sink = NoSignals;
    let mut cx = Cx {
        sink: &mut sink,
        frame,
        seq,
    };
    shard.packet(
        rules,
        DnsAccess::Later,
        &meta,
        key,
        route.name_flow,
        &mut cx,
    );
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
            flow_packet(shard, rules, work, index);
        }
        for (_, now) in sweeps {
            shard.sweep(*now, rules);
        }
    }
}

/// The last part of the stages: the name stage, in capture order, answering the shards' DNS
/// lookups at their place in that order; then the shards hand the answers to their flows.
fn end_stages(stage: &mut Stages<'_, '_>, groups: &Groups<'_>, work: &mut Work) {
    let mut guards: Vec<_> = groups.groups.iter().map(lock).collect();
    let per = groups.per;
    let names = &mut *stage.names;
    // At one packet, the flow comes first (its lookup, then what it learned), then the name
    // stage's own reading: as `Pipeline::process` does.
    let mut events = std::mem::take(&mut work.events);
    events.clear();
    for (group, guard) in guards.iter_mut().enumerate() {
        for (offset, shard) in guard.iter_mut().enumerate() {
            for (index, lookup) in shard.lookups.iter().enumerate() {
                let event = Event::Lookup {
                    shard: group * per + offset,
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
        |names: &mut Names, guards: &mut Vec<MutexGuard<'_, &mut [Shard]>>, event| match event {
            Event::Lookup { shard, index } => {
                let lookup = guards
                    .get_mut(shard / per)
                    .and_then(|g| g.get_mut(shard % per))
                    .and_then(|s| s.lookups.get_mut(index));
                if let Some(lookup) = lookup {
                    lookup.answer = names.dns.lookup(lookup.client, lookup.server, lookup.ts);
                }
            }
            Event::Learned(learned) => names.learn(learned),
        };
    let mut pending = events.drain(..).peekable();
    let mut sink = NoSignals;
    for &index in &work.named {
        let index = index as usize;
        let (Some(record), Some(route)) = (work.records.get(index), work.routes.get(index)) else {
            continue;
        };
        let (frame, seq) = work.context(record);
        while let Some((_, _, event)) = pending.next_if(|(at, _, _)| *at <= seq) {
            answer(names, &mut guards, event);
        }
        let mut cx = Cx {
            sink: &mut sink,
            frame,
            seq,
        };
        let payload = work.payload(record.payload);
        match &record.kind {
            Kind::Ip(meta) if route.names != NameWork::Nothing => {
                let meta = PacketMeta { payload, ..*meta };
                names.packet(route.names, &meta, &mut cx);
            }
            Kind::Arp { src_mac } => names.arp(*src_mac, payload, &mut cx),
            Kind::Ip(_) => {}
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
        let mut work = Work::default();
        loop {
            let filled = batch::fill(source, &mut work.batch);
            decode(front, &mut work);
            stages(&mut stage, &groups, &mut work);
            if let Fill::End(result) = filled {
                return result;
            }
        }
    };
    let lanes = Lanes {
        source: Mutex::new(source),
        front: Mutex::new(front),
        rules: stage.rules,
        stage: Mutex::new(stage),
        groups: Groups::new(shards, threads),
        queues: Mutex::new(Queues::default()),
        wake: Condvar::new(),
        works: threads + 4,
        share_shards: *share_shards,
        costs: Mutex::new(Costs::default()),
    };
    // Every thread of the pool runs the lanes until the file is through.
    pool.broadcast(|_| lanes.work());
    let queues = lanes
        .queues
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    queues.result.unwrap_or(Ok(()))
}

/// The lanes of a batch run. Three lanes take batches in file order, one at a time, on
/// whichever thread is free: read (fill a batch from the file), decode, then the stages; and
/// while a batch is in the stages, the other threads help with its shards (`Task::Shards`).
/// A free thread takes the latest work first (shards, stages, decode, then read), which drains
/// batches before reading more and keeps every thread busy: the lanes are not equal (on an
/// office capture the stages take about as long as reading and decoding together, on a
/// capture of many short flows far longer), and no fixed split of them over the threads would
/// be even.
struct Lanes<'s, 'p, 'c> {
    source: Mutex<&'s mut FileSource>,
    front: Mutex<&'p mut Front>,
    stage: Mutex<Stages<'p, 'c>>,
    groups: Groups<'p>,
    /// The stages' rules, for the threads that help with shards (the stages lane holds
    /// `stage` meanwhile).
    rules: Rules<'c>,
    queues: Mutex<Queues>,
    /// Signalled whenever a lane finishes a batch or a group of shards.
    wake: Condvar,
    /// Batches in circulation at most (memory stays bounded).
    works: usize,
    /// `Options::share_shards`.
    share_shards: Option<bool>,
    /// How long recent batches took in each lane (`Costs`), to judge when sharing out the
    /// shards pays.
    costs: Mutex<Costs>,
}

/// Moving averages of what one batch costs, in nanoseconds: reading, decoding, the shards,
/// and the rest of the stages.
#[derive(Default)]
struct Costs {
    read: u64,
    decode: u64,
    shards: u64,
    stages: u64,
}

impl Costs {
    fn note(slot: &mut u64, took: std::time::Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        *slot = if *slot == 0 {
            took
        } else {
            (*slot * 7 + took) / 8
        };
    }

    /// Whether other threads should take groups of shards: when the shards take longer than
    /// everything else the other threads could be doing meanwhile. Otherwise a thread that
    /// took a group would only move shard tables from cache to cache (a flow table stays warm
    /// on the thread that runs the stages).
    fn share_shards(&self, threads: usize) -> bool {
        let others = self.read + self.decode + self.stages;
        self.shards.saturating_mul(threads.saturating_sub(1) as u64) > others
    }
}

/// Batches between the lanes, and which lane is busy.
#[derive(Default)]
struct Queues {
    /// Emptied batches, and how many exist.
    free: Vec<Work>,
    made: usize,
    /// Read, waiting to be decoded; decoded, waiting for the stages.
    read: VecDeque<Work>,
    decoded: VecDeque<Work>,
    reading: bool,
    decoding: bool,
    staging: bool,
    /// Groups of shards of the batch in the stages that nobody has taken yet, and how many
    /// are not done.
    shard_groups: Vec<(usize, Arc<Work>)>,
    groups_left: usize,
    /// How the file ended, once it has.
    result: Option<Result<(), CaptureError>>,
    /// A thread panicked: everyone stops.
    aborted: bool,
}

/// A turn of work, taken off the queues.
enum Task {
    Read(Work),
    Decode(Work),
    Stages(Work),
    Shards(usize, Arc<Work>),
}

/// A lock whose holder panicked still guards data fit for the next turn (the panic itself
/// comes out of the pool).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Lanes<'_, '_, '_> {
    /// One thread's loop: take the next turn of any lane until the file is through.
    fn work(&self) {
        let _abort = AbortOnPanic(self);
        while let Some(task) = self.next_task() {
            match task {
                Task::Read(mut work) => {
                    let started = Instant::now();
                    let filled = batch::fill(&mut lock(&self.source), &mut work.batch);
                    Costs::note(&mut lock(&self.costs).read, started.elapsed());
                    let mut queues = lock(&self.queues);
                    queues.read.push_back(work);
                    queues.reading = false;
                    if let Fill::End(result) = filled {
                        queues.result = Some(result);
                    }
                }
                Task::Decode(mut work) => {
                    let started = Instant::now();
                    decode(&mut lock(&self.front), &mut work);
                    Costs::note(&mut lock(&self.costs).decode, started.elapsed());
                    let mut queues = lock(&self.queues);
                    queues.decoded.push_back(work);
                    queues.decoding = false;
                }
                Task::Stages(work) => {
                    let work = self.stages(work);
                    let mut queues = lock(&self.queues);
                    queues.free.push(work);
                    queues.staging = false;
                }
                Task::Shards(group, work) => {
                    shard_group(&self.groups, group, self.rules, &work);
                    drop(work);
                    lock(&self.queues).groups_left -= 1;
                }
            }
            self.wake.notify_all();
        }
    }

    /// A batch through the stages: routes, then its shards in groups (this thread takes the
    /// first and any that no other thread took), then the name stage.
    fn stages(&self, mut work: Work) -> Work {
        let started = Instant::now();
        let mut stage = lock(&self.stage);
        let rules = stage.rules;
        let groups = self.groups.groups.len();
        let share = self
            .share_shards
            .unwrap_or_else(|| lock(&self.costs).share_shards(groups));
        begin_stages(&mut stage, &mut work, share);
        let shards_started = Instant::now();
        let mut work = if share {
            match self.shared_shards(work, rules, groups) {
                Some(work) => work,
                // Only a panic on another thread (the run is ending with it) gets here.
                None => return Work::default(),
            }
        } else {
            all_shards(&self.groups, rules, &work);
            work
        };
        let shards_took = shards_started.elapsed();
        end_stages(&mut stage, &self.groups, &mut work);
        let mut costs = lock(&self.costs);
        Costs::note(&mut costs.shards, shards_took);
        Costs::note(
            &mut costs.stages,
            started.elapsed().saturating_sub(shards_took),
        );
        work
    }

    /// The shards of a batch in `groups` groups: this thread takes the first, other threads
    /// the others as they come free, and this one any that nobody took. `None` when a panic
    /// elsewhere ends the run.
    fn shared_shards(&self, work: Work, rules: Rules<'_>, groups: usize) -> Option<Work> {
        let work = Arc::new(work);
        {
            let mut queues = lock(&self.queues);
            queues.shard_groups = (1..groups).rev().map(|g| (g, Arc::clone(&work))).collect();
            queues.groups_left = groups - 1;
        }
        self.wake.notify_all();
        shard_group(&self.groups, 0, rules, &work);
        let mut queues = lock(&self.queues);
        loop {
            if let Some((group, _)) = queues.shard_groups.pop() {
                drop(queues);
                shard_group(&self.groups, group, rules, &work);
                queues = lock(&self.queues);
                queues.groups_left -= 1;
            } else if queues.groups_left == 0 || queues.aborted {
                break;
            } else {
                queues = self
                    .wake
                    .wait(queues)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        drop(queues);
        // Every group's holder dropped its share before saying it was done.
        Arc::try_unwrap(work).ok()
    }

    /// Waits for work that can be done now, and takes it; `None` when all is done.
    fn next_task(&self) -> Option<Task> {
        let mut queues = lock(&self.queues);
        loop {
            let q = &mut *queues;
            if q.aborted {
                return None;
            }
            if let Some((group, work)) = q.shard_groups.pop() {
                return Some(Task::Shards(group, work));
            }
            if !q.staging {
                if let Some(work) = q.decoded.pop_front() {
                    q.staging = true;
                    return Some(Task::Stages(work));
                }
            }
            if !q.decoding {
                if let Some(work) = q.read.pop_front() {
                    q.decoding = true;
                    return Some(Task::Decode(work));
                }
            }
            if !q.reading && q.result.is_none() && (!q.free.is_empty() || q.made < self.works) {
                let work = q.free.pop().unwrap_or_else(|| {
                    q.made += 1;
                    Work::default()
                });
                q.reading = true;
                return Some(Task::Read(work));
            }
            let busy = q.reading || q.decoding || q.staging;
            if q.result.is_some() && !busy && q.read.is_empty() && q.decoded.is_empty() {
                return None;
            }
            queues = self
                .wake
                .wait(queues)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Stops the other threads when this one panics, so the panic surfaces instead of a hang.
struct AbortOnPanic<'l, 's, 'p, 'c>(&'l Lanes<'s, 'p, 'c>);

impl Drop for AbortOnPanic<'_, '_, '_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(&self.0.queues).aborted = true;
            self.0.wake.notify_all();
        }
    }
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
