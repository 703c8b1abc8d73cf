//! run_in_executor — blocking work off the loop: the default pool, a pool of our own,
//! and a CPU job.
//!
//! The lesson: a task must never block, yet old libraries block (a synchronous
//! database driver, a `time.sleep` deep in someone's code) and some work is plain
//! computation. asyncio's answer is `await loop.run_in_executor(None, fn)`: `fn` runs on
//! a thread of the default pool while the coroutine waits, and the loop goes on serving
//! every other task; `run_in_executor(pool, fn)` picks a pool of your own
//! (`ThreadPoolExecutor(max_workers=2)`), and CPU work goes to a pool as well. glass
//! says `glass::run_in_executor(f).await` and `pool.submit(f).await`.
//!
//! Here a ticker task ticks on the loop every quarter unit while three jobs run one
//! after the other: a slow "legacy" call on the default pool, two calls on a pool of
//! two threads of our own (both at once), and counting the primes below 100 000. Each
//! result comes back to `main` together with the kind of thread that ran it: never the
//! loop's thread.
//!
//! The ticks show that the loop stayed free. They are `time:` lines, because how many
//! there are depends on real time; and on the paused clock there are none at all: time
//! stands still while a job the loop waits for is running (the job could finish at any
//! moment, so the clock may not jump past it to the ticker's next tick).
//!
//! The book explains it in chapter 8, "Work that blocks".
//!
//! Run it with `cargo run --example run_in_executor`. One unit is 1 s; set
//! `GLASS_EXAMPLE_UNIT_MS` to make it shorter, e.g. `GLASS_EXAMPLE_UNIT_MS=100`. Lines
//! that start with `time:` are real-time measurements; they change from run to run.

use std::cell::Cell;
use std::rc::Rc;
use std::thread;
use std::time::Duration;

use glass::time::Instant;
use glass::ThreadPool;

/// One unit of work: 1 s, or `GLASS_EXAMPLE_UNIT_MS` milliseconds.
fn unit() -> Duration {
    let millis = std::env::var("GLASS_EXAMPLE_UNIT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(millis)
}

/// The kind of thread we are on: its name without the number (`glass-blocking-3` →
/// `glass-blocking`). Which number a pool gives a job changes from run to run.
fn thread_kind() -> String {
    let name = thread::current().name().unwrap_or("unnamed").to_owned();
    match name.rsplit_once('-') {
        Some((kind, number)) if number.parse::<u32>().is_ok() => kind.to_owned(),
        _ => name,
    }
}

/// A call into an old synchronous library: it blocks its thread for `delay`.
fn legacy_lookup(user: &str, delay: Duration) -> (String, String) {
    thread::sleep(delay);
    (
        format!("{user} has {} points", user.len() * 7),
        thread_kind(),
    )
}

/// Pure computation: how many primes are below `limit` (by trial division).
fn count_primes(limit: u64) -> (u64, String) {
    let is_prime = |n: u64| {
        n >= 2
            && (2..)
                .take_while(|d| d * d <= n)
                .all(|d| !n.is_multiple_of(d))
    };
    (
        (0..limit).filter(|&n| is_prime(n)).count() as u64,
        thread_kind(),
    )
}

/// Ticks on the loop every `period` until cancelled, counting its ticks in `ticks`.
async fn ticker(start: Instant, period: Duration, ticks: Rc<Cell<u32>>) {
    loop {
        glass::sleep(period).await;
        ticks.set(ticks.get() + 1);
        println!(
            "time: [{:.3}s] tick {}: the loop is free",
            start.elapsed().as_secs_f64(),
            ticks.get()
        );
    }
}

fn main() {
    let unit = unit();

    glass::run(async {
        let start = Instant::now();
        println!("main runs the loop on thread {}", thread_kind());
        let ticks = Rc::new(Cell::new(0));
        let ticker = glass::spawn(ticker(start, unit / 4, Rc::clone(&ticks)));

        println!("-- a slow legacy call on the default pool: run_in_executor(None, f)");
        let (answer, ran_on) = glass::run_in_executor(move || legacy_lookup("alice", unit)).await;
        println!("legacy call returned \"{answer}\", ran on a {ran_on} thread");

        println!("-- two calls on our own pool of two threads: run_in_executor(pool, f)");
        let pool = ThreadPool::builder().workers(2).name("legacy-pool").build();
        let bob = pool.submit(move || legacy_lookup("bob", unit));
        let carol = pool.submit(move || legacy_lookup("carol", unit));
        let began = Instant::now();
        let ((bob, bob_ran_on), (carol, carol_ran_on)) = glass::gather!(bob, carol);
        println!("got \"{bob}\" from a {bob_ran_on} thread");
        println!("got \"{carol}\" from a {carol_ran_on} thread");
        println!(
            "time: [{:.3}s] both calls took {:.2} units: they ran at once",
            start.elapsed().as_secs_f64(),
            began.elapsed().as_secs_f64() / unit.as_secs_f64()
        );
        pool.shutdown(); // like leaving `with ThreadPoolExecutor(...) as pool:`

        println!("-- a CPU job on the default pool: count the primes below 100 000");
        let (primes, ran_on) = glass::run_in_executor(|| count_primes(100_000)).await;
        println!("there are {primes} primes below 100 000, counted on a {ran_on} thread");

        ticker.cancel();
        println!(
            "time: [{:.3}s] the ticker ticked {} times while the jobs ran",
            start.elapsed().as_secs_f64(),
            ticks.get()
        );
        println!(
            "every job ran off the loop, so the ticker could tick meanwhile \
             (see its time: lines; on the paused clock it never ticks: time stands still \
             while a job runs)"
        );
    });
}
