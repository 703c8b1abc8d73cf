//! many_loops — "processes plus coroutines": one event loop per core.
//!
//! The lesson: one event loop runs on one thread, so however many tasks it holds, it
//! computes on one core at a time. Python's recipe for using every core is one
//! *process* per core (because of the GIL), each running its own `asyncio.run` with
//! many coroutines, and the results combined at the end. In Rust, threads compute in
//! parallel, so one *thread* per core will do: each thread calls `glass::run`, which
//! makes a loop of its own; the loops share nothing and never talk to each other.
//!
//! The work: count the primes below 200 000, cut into 64 slices. Loop `i` of `n`
//! takes slices `i`, `i + n`, `i + 2n`, … and spawns one task per slice; each task
//! first waits a little for its "input" (a `glass::sleep`, where a real server would
//! read a socket: the waits of a loop's tasks overlap), then counts. The main thread
//! joins the loops' threads, adds their counts, and checks the total against a count
//! made on one thread.
//!
//! How many cores there are, which loop took how long and how much faster than one
//! thread it was, changes from machine to machine and run to run: those lines start
//! with `time:`. The total does not.
//!
//! The book explains it in chapter 8, "Work that blocks".
//!
//! Run it with `cargo run --example many_loops` (`--release` counts about twenty times
//! faster). With `GLASS_PAUSED_CLOCK=1` the tasks' waits are instant. Lines that start
//! with `time:` are real-time measurements; they change from run to run.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::thread;
use std::time::{Duration, Instant};

/// Count the primes below this number...
const LIMIT: u64 = 200_000;
/// ...in this many slices.
const SLICES: u64 = 64;

/// The `index`th of the `SLICES` equal slices of `0..LIMIT`.
fn slice(index: u64) -> Range<u64> {
    let size = LIMIT / SLICES;
    index * size..(index + 1) * size
}

/// How many primes are in `numbers`, by trial division: plain computation.
fn count_primes(numbers: Range<u64>) -> u64 {
    let is_prime = |n: u64| {
        n >= 2
            && (2..)
                .take_while(|d| d * d <= n)
                .all(|d| !n.is_multiple_of(d))
    };
    numbers.filter(|&n| is_prime(n)).count() as u64
}

/// One task: wait for the slice's "input" without blocking the loop, then count.
async fn count_slice(index: u64) -> u64 {
    glass::sleep(Duration::from_millis(1)).await;
    count_primes(slice(index))
}

/// What one loop did: how many slices, how many primes, in how much time.
struct LoopReport {
    slices: usize,
    primes: u64,
    took: Duration,
}

/// The body of loop `index` of `loops`: one task per slice it takes, gathered.
fn serve(index: u64, loops: u64) -> LoopReport {
    let began = Instant::now();
    let counts = glass::run(async move {
        let tasks = (index..SLICES)
            .step_by(loops as usize)
            .map(|slice| glass::spawn(count_slice(slice)));
        glass::gather_all(tasks).await
    });
    LoopReport {
        slices: counts.len(),
        primes: counts.iter().sum(),
        took: began.elapsed(),
    }
}

fn main() {
    let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let loops = (cores as u64).min(SLICES);
    println!("time: {cores} cores: {loops} event loops, one per thread");
    println!("count the primes below {LIMIT} in {SLICES} slices, spread over the loops");

    let began = Instant::now();
    let threads: Vec<_> = (0..loops)
        .map(|index| {
            thread::Builder::new()
                .name(format!("loop-{index}"))
                .spawn(move || serve(index, loops))
                .expect("could not start a thread for an event loop")
        })
        .collect();
    let reports: Vec<LoopReport> = threads
        .into_iter()
        .map(|thread| thread.join().expect("a loop's thread panicked"))
        .collect();
    let parallel = began.elapsed();
    for (index, report) in reports.iter().enumerate() {
        println!(
            "time: loop {index}: {} slices, {} primes, {:.3}s",
            report.slices,
            report.primes,
            report.took.as_secs_f64()
        );
    }
    let slices: usize = reports.iter().map(|report| report.slices).sum();
    let total: u64 = reports.iter().map(|report| report.primes).sum();
    println!("the loops counted {slices} slices and {total} primes");

    let began = Instant::now();
    let serial = count_primes(0..LIMIT);
    let alone = began.elapsed();
    println!(
        "time: one thread alone: {:.3}s; {loops} loops: {:.3}s ({:.1}x)",
        alone.as_secs_f64(),
        parallel.as_secs_f64(),
        alone.as_secs_f64() / parallel.as_secs_f64()
    );
    assert_eq!(total, serial, "the loops and the single thread disagree");
    println!("one thread alone counts {serial} too: ok");
}
