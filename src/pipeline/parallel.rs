//! A capture file in batches, over `Options::threads` threads.
//!
//! Each batch of packets (`capture::batch`: about 1 MiB of a pcap file, read in place) is
//! decoded and routed by the decode side, then goes through the name stage in capture order,
//! then through the flow shards. With one thread, that is all done in turn on the caller's
//! thread. With two or more, a reader thread reads and decodes batch after batch (the core that
//! read a packet's bytes is the one that parses its headers, while they are in its cache) and
//! hands each on through a bounded channel; the caller's thread runs the name stage and then
//! the flow shards — itself with two threads, or on a `rayon` pool of `threads - 1` workers,
//! shard by shard, with more.
//!
//! The result does not depend on the thread count: batch boundaries come from the file alone,
//! the shard of a flow from its 5-tuple alone, shards share nothing while a batch is processed
//! (they only read the DNS map, which the name stage filled with the batch's answers first;
//! each lookup only sees answers from earlier frames), and shard results are merged in shard
//! order. `tests/threads.rs` checks it byte for byte.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use rayon::prelude::*;

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
    /// The route of each record (made by the stages' thread: it evens out the two threads).
    routes: Vec<Route>,
    /// Per shard, the indexes in `records` of its packets, in order (only when shards run on
    /// a pool).
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

    /// What the stages need to know of a record: the packet (meta with its payload, or an
    /// ARP message) and its `Cx` numbers.
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

/// Runs one decoded batch through the stages: routes, the flow shards, the name stage (in
/// capture order, answering the shards' DNS lookups at their place in that order), then the
/// shards again to hand the answers to their flows.
fn stages(stage: &mut Stages<'_, '_>, work: &mut Work) {
    let Stages {
        names,
        shards,
        sweep_clock,
        rules,
        pool,
    } = stage;
    let rules = *rules;

    // Routes, the sweeps, the name stage's records, and each shard's list of packets when the
    // shards run on the pool.
    work.sweeps.clear();
    work.named.clear();
    let mut routes = std::mem::take(&mut work.routes);
    routes.clear();
    let mut lists = std::mem::take(&mut work.lists);
    lists.resize_with(SHARDS, Vec::new);
    lists.iter_mut().for_each(Vec::clear);
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
            if pool.is_some() {
                lists[key.shard(SHARDS)].push(routes.len() as u32);
            }
        }
        routes.push(route);
    }
    work.routes = routes;
    work.lists = lists;

    // The flow shards.
    let flow_packet = |shard: &mut Shard, work: &Work, index: usize| {
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
    };
    match pool {
        Some(pool) => pool.install(|| {
            shards
                .par_iter_mut()
                .zip(work.lists.par_iter())
                .for_each(|(shard, list)| {
                    // A sweep is made before the shard's first packet at or after it: the
                    // shard is then as it was at that moment of the capture.
                    let mut sweeps = work.sweeps.iter().peekable();
                    for &index in list {
                        let index = index as usize;
                        while let Some((_, now)) = sweeps.next_if(|(at, _)| *at <= index) {
                            shard.sweep(*now, rules);
                        }
                        flow_packet(shard, work, index);
                    }
                    for (_, now) in sweeps {
                        shard.sweep(*now, rules);
                    }
                })
        }),
        None => {
            // Shards share nothing, so taking the packets in capture order, each to its own
            // shard, is the same as taking the shards one after the other.
            let mut sweeps = work.sweeps.iter().peekable();
            for (index, route) in work.routes.iter().enumerate() {
                if let Some(key) = &route.flow {
                    if let Some((_, now)) = sweeps.next_if(|(at, _)| *at == index) {
                        shards.iter_mut().for_each(|shard| shard.sweep(*now, rules));
                    }
                    flow_packet(&mut shards[key.shard(SHARDS)], work, index);
                }
            }
        }
    }

    // The name stage, in capture order. At one packet, the flow comes first (its lookup,
    // then what it learned), then the name stage's own reading: as `Pipeline::process` does.
    let mut events = std::mem::take(&mut work.events);
    events.clear();
    for (shard_index, shard) in shards.iter_mut().enumerate() {
        for (index, lookup) in shard.lookups.iter().enumerate() {
            let event = Event::Lookup {
                shard: shard_index,
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
    events.sort_by_key(|(seq, rank, _)| (*seq, *rank));
    let mut pending = events.drain(..).peekable();
    let mut sink = NoSignals;
    for &index in &work.named {
        let index = index as usize;
        let (Some(record), Some(route)) = (work.records.get(index), work.routes.get(index)) else {
            continue;
        };
        let (frame, seq) = work.context(record);
        while let Some((_, _, event)) = pending.next_if(|(at, _, _)| *at <= seq) {
            name_event(names, shards, event);
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
        name_event(names, shards, event);
    }
    work.events = events;
    for shard in shards.iter_mut() {
        shard.settle(rules);
    }
}

fn name_event(names: &mut Names, shards: &mut [Shard], event: Event) {
    match event {
        Event::Lookup { shard, index } => {
            if let Some(lookup) = shards.get_mut(shard).and_then(|s| s.lookups.get_mut(index)) {
                lookup.answer = names.dns.lookup(lookup.client, lookup.server, lookup.ts);
            }
        }
        Event::Learned(learned) => names.learn(learned),
    }
}

/// What the stages after decoding work on: the parts of the pipeline they own.
struct Stages<'p, 'c> {
    names: &'p mut Names,
    shards: &'p mut [Shard],
    sweep_clock: &'p mut SweepClock,
    rules: Rules<'c>,
    pool: Option<&'p rayon::ThreadPool>,
}

/// Reads a whole file through the stages (see the module's documentation).
pub(super) fn run_file<S: SignalSink>(
    pipeline: &mut Pipeline<'_, S>,
    source: &mut FileSource,
) -> Result<(), CaptureError> {
    let threads = pipeline.threads.max(1);
    // Three lanes (read, decode, stages) keep three threads busy at most; with more, the
    // shards of the stages lane run on a pool.
    if threads >= 4 && pipeline.pool.is_none() {
        pipeline.pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads - 2)
            .thread_name(|i| format!("shadowai-flows-{i}"))
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
        ..
    } = pipeline;
    let mut stage = Stages {
        names,
        shards,
        sweep_clock,
        rules: *rules,
        pool: pool.as_ref(),
    };
    if threads == 1 {
        let mut work = Work::default();
        loop {
            let filled = batch::fill(source, &mut work.batch);
            decode(front, &mut work);
            stages(&mut stage, &mut work);
            if let Fill::End(result) = filled {
                return result;
            }
        }
    }
    let lanes = Lanes {
        source: Mutex::new(source),
        front: Mutex::new(front),
        stage: Mutex::new(stage),
        queues: Mutex::new(Queues::default()),
        wake: Condvar::new(),
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(3) {
            scope.spawn(|| lanes.work());
        }
        lanes.work();
    });
    let queues = lanes
        .queues
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    queues.result.unwrap_or(Ok(()))
}

/// Batches in circulation between the lanes at most.
const WORKS: usize = 6;

/// The three lanes of a batch run. Each takes batches in file order, one at a time, on
/// whichever thread is free: read (fill a batch from the file), decode, then the stages. A free
/// thread takes the latest lane first (stages, then decode, then read), which drains batches
/// before reading more and keeps every thread busy: the lanes are not equal (on an office
/// capture the stages take about as long as reading and decoding together), and no fixed
/// split of them between two threads would be even.
struct Lanes<'s, 'p, 'c> {
    source: Mutex<&'s mut FileSource>,
    front: Mutex<&'p mut Front>,
    stage: Mutex<Stages<'p, 'c>>,
    queues: Mutex<Queues>,
    /// Signalled whenever a lane finishes a batch.
    wake: Condvar,
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
    /// How the file ended, once it has.
    result: Option<Result<(), CaptureError>>,
    /// A thread panicked: everyone stops.
    aborted: bool,
}

/// A lane's turn, taken off the queues.
enum Task {
    Read(Work),
    Decode(Work),
    Stages(Work),
}

impl Lanes<'_, '_, '_> {
    fn queues(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One thread's loop: take the next turn of any lane until the file is through.
    fn work(&self) {
        let _abort = AbortOnPanic(self);
        while let Some(task) = self.next_task() {
            match task {
                Task::Read(mut work) => {
                    let filled = {
                        let mut source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
                        batch::fill(&mut source, &mut work.batch)
                    };
                    let mut queues = self.queues();
                    queues.read.push_back(work);
                    queues.reading = false;
                    if let Fill::End(result) = filled {
                        queues.result = Some(result);
                    }
                }
                Task::Decode(mut work) => {
                    {
                        let mut front = self.front.lock().unwrap_or_else(PoisonError::into_inner);
                        decode(&mut front, &mut work);
                    }
                    let mut queues = self.queues();
                    queues.decoded.push_back(work);
                    queues.decoding = false;
                }
                Task::Stages(mut work) => {
                    {
                        let mut stage = self.stage.lock().unwrap_or_else(PoisonError::into_inner);
                        stages(&mut stage, &mut work);
                    }
                    let mut queues = self.queues();
                    queues.free.push(work);
                    queues.staging = false;
                }
            }
            self.wake.notify_all();
        }
    }

    /// Waits for a lane that can take its next batch, and takes it; `None` when all is done.
    fn next_task(&self) -> Option<Task> {
        let mut queues = self.queues();
        loop {
            let q = &mut *queues;
            if q.aborted {
                return None;
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
            if !q.reading && q.result.is_none() && (!q.free.is_empty() || q.made < WORKS) {
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
            self.0.queues().aborted = true;
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
