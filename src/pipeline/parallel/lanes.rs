//! The lanes of a batch run on a thread pool (see `parallel.rs`): which thread takes which
//! turn, and when the shards of a batch are shared out.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::{
    begin_stages, decode_plain_frames, end_stages, finish_decode, lock, routes_and_shards,
    shard_group, Groups, Stages, Work,
};
use crate::capture::batch::{self, Fill};
use crate::capture::file::{CaptureError, FileSource, Positional};
use crate::pipeline::{Front, Rules};

/// The lanes of a batch run, on whichever thread is free. Reading: a regular capture file's
/// chunks are fetched at their offsets by any number of threads at once (`Task::Fetch`), then
/// indexed in file order (by the thread that fetched the chunk when it is next, at once, else
/// as `Task::Index`), and the thread that indexed a chunk decodes its plain frames while the
/// next chunk is indexed; any other input (stdin, gzip) is read on, one batch at a time
/// (`Task::Read`), and its batches decoded by any number of threads at once (`Task::Decode`).
/// Then, batches taken in file order: the rest of decoding (`Task::Finish`: the frames the fast
/// path left, and the counters; a batch the fast path took whole is finished by whichever
/// thread looks for work next, without a turn), and the stages (`Task::Stages`, on the pool's
/// first thread only), while the other threads help with its shards (`Task::Shards`). A free
/// thread takes the latest work first (shards, stages, finish, decode, index, then fetch or
/// read), which drains batches before reading more and keeps every thread busy: the lanes are
/// not equal (on an office capture the stages take about as long as reading and decoding
/// together, on a capture of many short flows far longer), and no fixed split of them over the
/// threads would be even.
pub(super) struct Lanes<'s, 'p, 'c> {
    source: Mutex<&'s mut FileSource>,
    /// For a capture that is a regular, uncompressed file: chunks are read at their offsets,
    /// by any number of threads at once (`Task::Fetch`), then indexed in order (`Task::Index`).
    /// Otherwise one thread at a time reads on (`Task::Read`).
    positional: Option<Positional>,
    front: Mutex<&'p mut Front>,
    stage: Mutex<Stages<'p, 'c>>,
    groups: Groups<'p>,
    /// The stages' rules, for the threads that help with shards (the stages lane holds
    /// `stage` meanwhile).
    rules: Rules<'c>,
    queues: Mutex<Queues>,
    /// Signalled whenever a lane finishes a batch or a group of shards, when a thread waits
    /// on it (`sleepers`).
    wake: Condvar,
    /// Threads waiting on `wake`, counted while they hold the `queues` lock. A thread that
    /// changed the queues (under that lock) and then finds none skips the wake-up system
    /// call: any thread that went to sleep before the change counted itself before it let
    /// go of the lock, so the count seen after the change includes it.
    sleepers: AtomicUsize,
    /// Batches in circulation at most (memory stays bounded).
    works: usize,
    /// `Options::share_shards`.
    share_shards: Option<bool>,
    /// How long recent batches took in each lane (`Costs`), to judge when sharing out the
    /// shards pays.
    costs: Mutex<Costs>,
}

/// Moving averages of what one batch costs, in nanoseconds: reading (or fetching), indexing
/// a fetched chunk, decoding its plain frames and finishing its decoding, the routes and the
/// shards, and the rest of the stages (the name stage).
#[derive(Default)]
struct Costs {
    read: u64,
    index: u64,
    decode: u64,
    finish: u64,
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
        let others = self.read + self.index + self.decode + self.finish + self.stages;
        self.shards.saturating_mul(threads.saturating_sub(1) as u64) > others
    }
}

/// Batches between the lanes, and which lane is busy.
#[derive(Default)]
struct Queues {
    /// Emptied batches, and how many exist.
    free: Vec<Work>,
    made: usize,
    /// Fetched chunks (with their number), in any order, waiting to be indexed in order.
    fetched: Vec<(u64, Work)>,
    /// The next chunk to fetch and the next to index; fetches under way; the first chunk
    /// known to reach the file's end (no chunk after it is fetched).
    next_fetch: u64,
    next_index: u64,
    fetching: usize,
    last_chunk: Option<u64>,
    indexing: bool,
    /// Read (or indexed), in order and numbered (`Work::ticket`), waiting to be decoded; the
    /// next number.
    read: VecDeque<Work>,
    next_ticket: u64,
    /// Plain frames decoded (several batches at once), waiting in any order to be finished
    /// in order; the next to finish.
    plain: Vec<Work>,
    next_finish: u64,
    /// Decoded, in order, waiting for the stages.
    decoded: VecDeque<Work>,
    reading: bool,
    decoding: usize,
    finishing: bool,
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

impl Queues {
    /// The number of the next batch read or indexed (they are numbered in file order).
    fn ticket(&mut self) -> u64 {
        self.next_ticket += 1;
        self.next_ticket - 1
    }

    /// Notes how the file ended, if the last read or index says it did. Chunks fetched past
    /// the end are not read.
    fn ended(&mut self, filled: Fill) {
        if let Fill::End(result) = filled {
            self.result = Some(result);
            self.free.extend(self.fetched.drain(..).map(|(_, w)| w));
        }
    }

    /// An emptied batch, or a new one: one thread `me` read into last when there is one, so
    /// that a buffer's lines are written again by the core that holds them (where two cores
    /// share no cache, a buffer filled by turns on both costs the copy into it dearly).
    fn take_free(&mut self, me: usize) -> Work {
        let mine = self.free.iter().rposition(|w| w.home == me);
        let mut work = match mine {
            Some(at) => self.free.swap_remove(at),
            None => self.free.pop().unwrap_or_else(|| {
                self.made += 1;
                Work::default()
            }),
        };
        work.home = me;
        work
    }
}

/// A turn of work, taken off the queues.
enum Task {
    Read(Work),
    Fetch(u64, Work),
    Index(Work),
    Decode(Work),
    Finish(Work),
    Stages(Work),
    Shards(usize, Arc<Work>),
}

impl<'s, 'p, 'c> Lanes<'s, 'p, 'c> {
    pub(super) fn new(
        source: &'s mut FileSource,
        front: &'p mut Front,
        stage: Stages<'p, 'c>,
        groups: Groups<'p>,
        threads: usize,
        share_shards: Option<bool>,
        spare: Vec<Work>,
    ) -> Self {
        let queues = Queues {
            made: spare.len(),
            free: spare,
            ..Queues::default()
        };
        Lanes {
            positional: source.positional(),
            source: Mutex::new(source),
            front: Mutex::new(front),
            rules: stage.rules,
            stage: Mutex::new(stage),
            groups,
            queues: Mutex::new(queues),
            wake: Condvar::new(),
            sleepers: AtomicUsize::new(0),
            works: threads + 4,
            share_shards,
            costs: Mutex::new(Costs::default()),
        }
    }

    /// Every thread of `pool` runs the lanes until the file is through; how the file ended,
    /// and the batches, for the next run.
    pub(super) fn run(self, pool: &rayon::ThreadPool) -> (Result<(), CaptureError>, Vec<Work>) {
        pool.broadcast(|_| self.work());
        let queues = self
            .queues
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        // At the end every batch is back in `free` (a panic does not get here).
        (queues.result.unwrap_or(Ok(())), queues.free)
    }
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
                    work.ticket = queues.ticket();
                    queues.read.push_back(work);
                    queues.reading = false;
                    queues.ended(filled);
                }
                Task::Fetch(chunk, mut work) => {
                    let started = Instant::now();
                    if let Some(positional) = &self.positional {
                        batch::fetch(positional, chunk, &mut work.batch);
                    }
                    Costs::note(&mut lock(&self.costs).read, started.elapsed());
                    let short = work.batch.fetched_short();
                    let mut queues = lock(&self.queues);
                    queues.fetching -= 1;
                    if short {
                        queues.last_chunk = Some(queues.last_chunk.map_or(chunk, |c| c.min(chunk)));
                    }
                    if queues.result.is_some() {
                        // Past the file's end: nothing to index.
                        queues.free.push(work);
                    } else if chunk == queues.next_index && !queues.indexing {
                        // Indexed and decoded here, while the chunk is in this core's cache.
                        queues.indexing = true;
                        drop(queues);
                        self.index(work);
                    } else {
                        queues.fetched.push((chunk, work));
                    }
                }
                Task::Index(work) => self.index(work),
                Task::Decode(work) => self.decode(work),
                Task::Finish(mut work) => {
                    let started = Instant::now();
                    finish_decode(&mut lock(&self.front), &mut work);
                    Costs::note(&mut lock(&self.costs).finish, started.elapsed());
                    let mut queues = lock(&self.queues);
                    queues.decoded.push_back(work);
                    queues.finishing = false;
                    queues.next_finish += 1;
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
            self.wake_all();
        }
    }

    /// Indexes the next chunk in file order (`indexing` was set when it was taken), then
    /// decodes its plain frames while the next chunk is indexed.
    fn index(&self, mut work: Work) {
        let started = Instant::now();
        let filled = batch::index(&mut lock(&self.source), &mut work.batch);
        Costs::note(&mut lock(&self.costs).index, started.elapsed());
        {
            let mut queues = lock(&self.queues);
            work.ticket = queues.ticket();
            queues.indexing = false;
            queues.next_index += 1;
            queues.ended(filled);
            queues.decoding += 1;
        }
        // The next chunk can be indexed meanwhile.
        self.wake_all();
        self.decode(work);
    }

    /// Decodes a batch's plain frames (counted in `decoding` when it was taken), for
    /// `Task::Finish`.
    fn decode(&self, mut work: Work) {
        let started = Instant::now();
        decode_plain_frames(&mut work);
        Costs::note(&mut lock(&self.costs).decode, started.elapsed());
        let mut queues = lock(&self.queues);
        queues.plain.push(work);
        queues.decoding -= 1;
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
        // The shards' cost includes the routes: one pass makes both when the shards are not
        // shared out.
        let shards_started = Instant::now();
        let mut work = if share {
            begin_stages(&mut stage, &mut work);
            match self.shared_shards(work, rules, groups) {
                Some(work) => work,
                // Only a panic on another thread (the run is ending with it) gets here.
                None => return Work::default(),
            }
        } else {
            routes_and_shards(&mut stage, &self.groups, &mut work);
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
        self.wake_all();
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
                queues = self.sleep(queues);
            }
        }
        drop(queues);
        // Every group's holder dropped its share before saying it was done.
        Arc::try_unwrap(work).ok()
    }

    /// Wakes the threads waiting for work, if any.
    fn wake_all(&self) {
        if self.sleepers.load(Ordering::Relaxed) > 0 {
            self.wake.notify_all();
        }
    }

    /// Waits on `wake` (the `queues` lock held), counted in `sleepers`.
    fn sleep<'q>(&self, queues: MutexGuard<'q, Queues>) -> MutexGuard<'q, Queues> {
        self.sleepers.fetch_add(1, Ordering::Relaxed);
        let queues = self
            .wake
            .wait(queues)
            .unwrap_or_else(PoisonError::into_inner);
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
        queues
    }

    /// Waits for work that can be done now, and takes it; `None` when all is done.
    fn next_task(&self) -> Option<Task> {
        let mut queues = lock(&self.queues);
        // This thread's place in the pool. Only the first thread runs the stages (it reads too
        // when they wait): the flow tables and the name stage's maps stay in its cache instead
        // of following the batches from core to core.
        let me = rayon::current_thread_index().unwrap_or(0);
        let stager = me == 0;
        loop {
            let q = &mut *queues;
            if q.aborted {
                return None;
            }
            if let Some((group, work)) = q.shard_groups.pop() {
                return Some(Task::Shards(group, work));
            }
            // A batch whose frames all took the fast path needs no turn of its own to finish
            // decoding (only its counters, in order): it is finished here.
            while let Some(at) = q
                .plain
                .iter()
                .position(|w| w.ticket == q.next_finish && w.holes.is_empty())
            {
                let mut work = q.plain.swap_remove(at);
                finish_decode(&mut lock(&self.front), &mut work);
                q.next_finish += 1;
                q.decoded.push_back(work);
            }
            if !q.staging && stager {
                if let Some(work) = q.decoded.pop_front() {
                    q.staging = true;
                    return Some(Task::Stages(work));
                }
            }
            if !q.finishing {
                if let Some(at) = q.plain.iter().position(|w| w.ticket == q.next_finish) {
                    let work = q.plain.swap_remove(at);
                    q.finishing = true;
                    return Some(Task::Finish(work));
                }
            }
            if let Some(work) = q.read.pop_front() {
                q.decoding += 1;
                return Some(Task::Decode(work));
            }
            if self.positional.is_some() && !q.indexing {
                if let Some(at) = q.fetched.iter().position(|(c, _)| *c == q.next_index) {
                    let (_, work) = q.fetched.swap_remove(at);
                    q.indexing = true;
                    return Some(Task::Index(work));
                }
            }
            let more = q.result.is_none() && (!q.free.is_empty() || q.made < self.works);
            if more && self.positional.is_some() && q.last_chunk.is_none_or(|c| q.next_fetch <= c) {
                let work = q.take_free(me);
                let chunk = q.next_fetch;
                q.next_fetch += 1;
                q.fetching += 1;
                return Some(Task::Fetch(chunk, work));
            }
            if more && self.positional.is_none() && !q.reading {
                let work = q.take_free(me);
                q.reading = true;
                return Some(Task::Read(work));
            }
            let busy = q.reading
                || q.indexing
                || q.fetching > 0
                || q.decoding > 0
                || q.finishing
                || q.staging;
            let queued = !q.read.is_empty() || !q.plain.is_empty() || !q.decoded.is_empty();
            if q.result.is_some() && !busy && !queued {
                return None;
            }
            queues = self.sleep(queues);
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
