//! `shadowai scan`: a live capture (libpcap) fed through the same pipeline as capture files,
//! cut into reporting periods, stopped by a limit or a signal without losing what was captured.
//!
//! The loop reads one frame at a time from a [`LiveFeed`] and hands it to the pipeline. Time is
//! looked at only when a ticker thread (every [`TICK`]) or an idle read timeout says so, so a
//! busy link pays one relaxed atomic load per packet for its clock, not a system call. When a
//! period ends (`--every`) the pipeline is cut and the period handed to the caller to report;
//! when the run ends (duration, packet count, a signal, or the interface failing) whatever the
//! kernel already captured is read first, then the last period is handed over.
//!
//! It opens no interface, writes no file and knows no report format: `cli` does those.

pub mod privilege;
pub mod schedule;
pub mod signals;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::capture::live::{Counters, LiveError, LiveSource};
use crate::capture::RawPacket;
use crate::pipeline::{Outcome, Pipeline, SignalSink};

/// How often the loop looks at the clock while packets keep coming.
const TICK: Duration = Duration::from_millis(100);
/// Reading on after a stop request ends after this many empty reads in a row. The kernel hands
/// over a partly filled buffer block only when its own timeout (the read timeout) passes, so
/// one empty read is no proof that nothing is left; after the first, each waits one timeout...
const DRAIN_IDLE_READS: u32 = 3;
/// ...or after this long, on a link that never goes quiet.
const DRAIN_MAX: Duration = Duration::from_secs(2);

/// A live packet source: frames as they arrive, and libpcap's counters.
pub trait LiveFeed {
    /// The next frame, or `None` when the read timeout passed with no traffic.
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, LiveError>;
    /// Counters since the capture was opened; `None` where the platform keeps none.
    fn counters(&mut self) -> Option<Counters>;
}

impl LiveFeed for LiveSource {
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, LiveError> {
        LiveSource::next_packet(self)
    }

    fn counters(&mut self) -> Option<Counters> {
        LiveSource::counters(self)
    }
}

/// Why a period ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// The `--every` boundary; the capture goes on.
    Period,
    /// `--duration` elapsed.
    Duration,
    /// `--packets` were read.
    Packets,
    /// SIGINT or SIGTERM.
    Signal,
    /// The interface failed (went away, was reconfigured).
    Error,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Period => "period",
            EndedBy::Duration => "duration",
            EndedBy::Packets => "packets",
            EndedBy::Signal => "signal",
            EndedBy::Error => "error",
        }
    }
}

/// When to end periods and the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub duration: Option<Duration>,
    pub packets: Option<u64>,
    pub every: Option<Duration>,
}

/// One reporting period: what the pipeline made of it and what libpcap counted.
pub struct Period {
    pub started: SystemTime,
    pub ended: SystemTime,
    pub ended_by: EndedBy,
    /// Frames handed to the pipeline in this period.
    pub packets: u64,
    /// libpcap's counts for this period (`None` where the platform keeps none).
    pub counters: Option<Counters>,
    /// The capture error that ended the run.
    pub error: Option<String>,
    pub outcome: Outcome,
}

/// Runs the capture until a limit, a stop request or a capture error, handing every period to
/// `on_period` as it ends (the last one included). An error from `on_period` is the caller's
/// to judge: it is returned at once only for the last period; for the others it is collected
/// and the capture goes on, so a full disk at 10:00 does not lose 11:00.
pub fn run<F: LiveFeed, S: SignalSink>(
    feed: &mut F,
    mut pipeline: Pipeline<'_, S>,
    limits: Limits,
    stop: &AtomicBool,
    mut on_period: impl FnMut(Period) -> anyhow::Result<()>,
) -> (S, Vec<anyhow::Error>) {
    let mut failures = Vec::new();
    let started_at = Instant::now();
    let deadline = limits.duration.map(|d| started_at + d);
    let mut period_start = SystemTime::now();
    let mut period_end = limits
        .every
        .map(|every| schedule::next_boundary(period_start, every));
    let mut counted = feed.counters();
    let mut frame: u64 = 0;
    let mut period_first_frame: u64 = 0;
    let tick = AtomicBool::new(true);
    let ticker_done = AtomicBool::new(false);

    let (ended_by, error) = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !ticker_done.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                tick.store(true, Ordering::Relaxed);
            }
        });
        let ended = loop {
            if tick.swap(false, Ordering::Relaxed) {
                if stop.load(Ordering::SeqCst) {
                    break (EndedBy::Signal, None);
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break (EndedBy::Duration, None);
                }
                if let (Some(end), Some(every)) = (period_end, limits.every) {
                    if SystemTime::now() >= end {
                        let now_counted = feed.counters();
                        let period = Period {
                            started: period_start,
                            ended: end,
                            ended_by: EndedBy::Period,
                            packets: frame - period_first_frame,
                            counters: since(now_counted, counted),
                            error: None,
                            outcome: pipeline.cut(),
                        };
                        if let Err(e) = on_period(period) {
                            failures.push(e);
                        }
                        counted = now_counted;
                        period_first_frame = frame;
                        period_start = end;
                        period_end = Some(schedule::next_boundary(end, every));
                    }
                }
            }
            match feed.next_packet() {
                Ok(Some(packet)) => {
                    frame += 1;
                    pipeline.process(frame, &packet);
                    if limits.packets.is_some_and(|n| frame >= n) {
                        break (EndedBy::Packets, None);
                    }
                }
                // A quiet link: look at the clock and the stop flag now.
                Ok(None) => tick.store(true, Ordering::Relaxed),
                Err(e) => break (EndedBy::Error, Some(e.to_string())),
            }
        };
        if matches!(ended.0, EndedBy::Signal | EndedBy::Duration) {
            // What the kernel captured before the stop is read, not thrown away.
            let drain_until = Instant::now() + DRAIN_MAX;
            let mut idle = 0;
            while idle < DRAIN_IDLE_READS && Instant::now() < drain_until {
                match feed.next_packet() {
                    Ok(Some(packet)) => {
                        idle = 0;
                        frame += 1;
                        pipeline.process(frame, &packet);
                    }
                    Ok(None) => idle += 1,
                    Err(_) => break,
                }
            }
        }
        ticker_done.store(true, Ordering::Relaxed);
        ended
    });

    let counters = since(feed.counters(), counted);
    let (outcome, sink) = pipeline.finish();
    let last = Period {
        started: period_start,
        ended: SystemTime::now(),
        ended_by,
        packets: frame - period_first_frame,
        counters,
        error,
        outcome,
    };
    if let Err(e) = on_period(last) {
        failures.push(e);
    }
    (sink, failures)
}

fn since(now: Option<Counters>, earlier: Option<Counters>) -> Option<Counters> {
    Some(now?.since(earlier.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file::FileSource;
    use crate::classify::rules::Catalogue;
    use crate::pipeline::{NoSignals, Options};

    /// The bundled sample as a live feed: its frames in order, a quiet read (`None`) after
    /// every `burst` frames, then quiet for ever; counters say every frame was received.
    struct SampleFeed {
        frames: Vec<(u64, u32, u32, Vec<u8>)>,
        next: usize,
        burst: usize,
        quiet_reads: usize,
        /// Set when the feed runs out (a test's stand-in for Ctrl-C).
        stop_when_empty: Option<&'static AtomicBool>,
    }

    impl SampleFeed {
        fn new(burst: usize) -> SampleFeed {
            let path =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/office-lan.pcapng");
            let mut source = FileSource::open(&path).unwrap();
            let mut frames = Vec::new();
            while let Some(p) = source.next_packet().unwrap() {
                frames.push((p.ts_nanos, p.link_type, p.orig_len, p.data.to_vec()));
            }
            SampleFeed {
                frames,
                next: 0,
                burst,
                quiet_reads: 0,
                stop_when_empty: None,
            }
        }
    }

    impl LiveFeed for SampleFeed {
        fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, LiveError> {
            if self.next >= self.frames.len() {
                if let Some(stop) = self.stop_when_empty {
                    stop.store(true, Ordering::SeqCst);
                }
                self.quiet_reads += 1;
                std::thread::sleep(Duration::from_millis(5));
                return Ok(None);
            }
            if self.next > 0 && self.next.is_multiple_of(self.burst) && self.quiet_reads < self.next
            {
                self.quiet_reads = self.next;
                std::thread::sleep(Duration::from_millis(20));
                return Ok(None);
            }
            let (ts_nanos, link_type, orig_len, data) = &self.frames[self.next];
            self.next += 1;
            Ok(Some(RawPacket {
                ts_nanos: *ts_nanos,
                link_type: *link_type,
                orig_len: *orig_len,
                data,
            }))
        }

        fn counters(&mut self) -> Option<Counters> {
            Some(Counters {
                received: self.next as u32,
                ..Counters::default()
            })
        }
    }

    fn ai_bytes(outcome: &Outcome) -> u64 {
        outcome
            .aggregates
            .findings
            .values()
            .map(|f| f.totals.bytes_up + f.totals.bytes_down)
            .sum()
    }

    #[test]
    fn stop_request_reports_everything_read() {
        static STOP: AtomicBool = AtomicBool::new(false);
        let catalogue = Catalogue::embedded().unwrap();
        let mut feed = SampleFeed::new(400);
        feed.stop_when_empty = Some(&STOP);
        let total = feed.frames.len() as u64;
        let pipeline = Pipeline::new(&catalogue, Options::default(), NoSignals);
        let mut periods = Vec::new();
        let (_, failures) = run(&mut feed, pipeline, Limits::default(), &STOP, |p| {
            periods.push(p);
            Ok(())
        });
        assert!(failures.is_empty());
        assert_eq!(periods.len(), 1);
        let last = &periods[0];
        assert_eq!(last.ended_by, EndedBy::Signal);
        assert_eq!(last.packets, total);
        assert_eq!(last.outcome.stats.packets, total);
        assert_eq!(last.counters.unwrap().received as u64, total);
        assert_eq!(last.outcome.aggregates.findings.len(), 7);
    }

    #[test]
    fn packet_limit_stops_exactly() {
        let catalogue = Catalogue::embedded().unwrap();
        let mut feed = SampleFeed::new(1_000_000);
        let pipeline = Pipeline::new(&catalogue, Options::default(), NoSignals);
        let stop = AtomicBool::new(false);
        let limits = Limits {
            packets: Some(1_000),
            ..Limits::default()
        };
        let mut periods = Vec::new();
        run(&mut feed, pipeline, limits, &stop, |p| {
            periods.push(p);
            Ok(())
        });
        assert_eq!(periods.len(), 1);
        assert_eq!(periods[0].ended_by, EndedBy::Packets);
        assert_eq!(periods[0].outcome.stats.packets, 1_000);
    }

    #[test]
    fn periods_split_the_run_and_lose_nothing() {
        let catalogue = Catalogue::embedded().unwrap();
        let whole = {
            let mut pipeline = Pipeline::new(&catalogue, Options::default(), NoSignals);
            let mut feed = SampleFeed::new(usize::MAX);
            let mut frame = 0;
            while let Some(p) = feed.next_packet().unwrap() {
                frame += 1;
                pipeline.process(frame, &p);
            }
            pipeline.finish().0
        };
        // 3,253 frames in bursts of 100 with 20 ms of quiet between them: ~0.7 s of capture,
        // cut every second, ended after 2.5 s.
        let mut feed = SampleFeed::new(100);
        let pipeline = Pipeline::new(&catalogue, Options::default(), NoSignals);
        let stop = AtomicBool::new(false);
        let limits = Limits {
            duration: Some(Duration::from_millis(2_500)),
            every: Some(Duration::from_secs(1)),
            ..Limits::default()
        };
        let mut periods = Vec::new();
        let (_, failures) = run(&mut feed, pipeline, limits, &stop, |p| {
            periods.push(p);
            if periods.len() == 1 {
                anyhow::bail!("disk full")
            }
            Ok(())
        });
        // A failing period is reported and the capture goes on.
        assert_eq!(failures.len(), 1);
        assert!(periods.len() >= 3, "{} periods", periods.len());
        assert!(periods[..periods.len() - 1]
            .iter()
            .all(|p| p.ended_by == EndedBy::Period));
        assert_eq!(periods.last().unwrap().ended_by, EndedBy::Duration);
        for pair in periods.windows(2) {
            assert_eq!(pair[0].ended, pair[1].started);
        }
        let sum = |f: &dyn Fn(&Period) -> u64| periods.iter().map(f).sum::<u64>();
        assert_eq!(sum(&|p| p.packets), whole.stats.packets);
        assert_eq!(sum(&|p| p.outcome.stats.packets), whole.stats.packets);
        assert_eq!(
            sum(&|p| p.counters.unwrap().received as u64),
            whole.stats.packets
        );
        assert_eq!(sum(&|p| ai_bytes(&p.outcome)), ai_bytes(&whole));
    }
}
