//! Measures how long a cache line takes to go from one core to another and back, for reading
//! benchmark figures (not a test): two threads hand a counter back and forth 200,000 times and
//! the mean round trip is printed in nanoseconds.
//!
//! On this project's 2-core VM it reads 50–70 ns most of the time and 310–360 ns in spells
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
use std::time::Instant;

const ROUND_TRIPS: u64 = 200_000;

fn main() {
    let flag = Arc::new(AtomicU64::new(0));
    let other = Arc::clone(&flag);
    // The other thread answers each odd value with the next even one.
    let pong = std::thread::spawn(move || {
        for i in 0..ROUND_TRIPS {
            while other.load(Ordering::Acquire) != 2 * i + 1 {
                std::hint::spin_loop();
            }
            other.store(2 * i + 2, Ordering::Release);
        }
    });
    let started = Instant::now();
    for i in 0..ROUND_TRIPS {
        flag.store(2 * i + 1, Ordering::Release);
        while flag.load(Ordering::Acquire) != 2 * i + 2 {
            std::hint::spin_loop();
        }
    }
    let took = started.elapsed();
    pong.join().expect("the other thread ends");
    let nanos = took.as_nanos() / u128::from(ROUND_TRIPS);
    println!("cache line round trip between two threads: {nanos} ns");
}
