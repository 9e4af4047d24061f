//! Measures how long a cache line takes to go from one core to another and back, for reading
//! benchmark figures (not a test): two threads hand a counter back and forth (200,000 times, or
//! for half a second if that comes first) and the mean round trip is printed in nanoseconds.
//!
//! On this project's 2-core VM it reads 50–140 ns most of the time and 310–390 ns in spells
//! when the hypervisor has put the two vCPUs on different dies; in those spells a two-thread
//! audit costs about twice the CPU time (every batch handed from one core to the other pays
//! for it) while a one-thread audit is unchanged. `benches/compare.sh` prints it before and
//! after its runs.
//!
//! ```text
//! cargo run --release --example core-latency
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUND_TRIPS: u64 = 200_000;
const BUDGET: Duration = Duration::from_millis(500);
/// Tells the other thread to stop.
const STOP: u64 = u64::MAX;

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        println!("cache line round trip between two threads: n/a (one core)");
        return;
    }
    let flag = Arc::new(AtomicU64::new(0));
    let other = Arc::clone(&flag);
    // The other thread answers each odd value with the next even one.
    let pong = std::thread::spawn(move || loop {
        let value = other.load(Ordering::Acquire);
        if value == STOP {
            break;
        }
        if value % 2 == 1 {
            other.store(value + 1, Ordering::Release);
        } else {
            std::hint::spin_loop();
        }
    });
    let started = Instant::now();
    let mut trips = 0;
    while trips < ROUND_TRIPS {
        flag.store(2 * trips + 1, Ordering::Release);
        while flag.load(Ordering::Acquire) != 2 * trips + 2 {
            std::hint::spin_loop();
        }
        trips += 1;
        // A busy machine (another program on one of the cores) must not hold a script up.
        if trips % 1024 == 0 && started.elapsed() > BUDGET {
            break;
        }
    }
    let took = started.elapsed();
    flag.store(STOP, Ordering::Release);
    pong.join().expect("the other thread ends");
    let nanos = took.as_nanos() / u128::from(trips);
    println!("cache line round trip between two threads: {nanos} ns");
}
