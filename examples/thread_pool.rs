//! thread_pool — `concurrent.futures` style: a pool of three workers, ten jobs.
//!
//! The lesson: `ThreadPoolExecutor(max_workers=3)` keeps three threads and a queue of
//! jobs. `submit(fn)` queues a job and returns a future at once; `future.result()`
//! waits for its value; `executor.map(fn, items)` gives the results in input order,
//! whichever job finishes first; `future.add_done_callback(cb)` runs `cb` when the job
//! is done; leaving the `with` block shuts the pool down, waiting for its jobs. Ten
//! jobs of one unit each on three workers take four units, not ten: three at a time.
//!
//! `glass::ThreadPool` is the same pool. `submit` returns a [`glass::Task`]: a plain
//! thread waits for it with `task.wait()` (as here, in `main`, where no loop runs), and
//! a task on a loop awaits it; `map` is async, so `main` runs it on a loop with
//! `glass::run`. `submit_with_callback` runs its callback on the worker, right after
//! the job.
//!
//! Which worker runs which job changes from run to run, so those lines start with
//! `time:`; the results come back in input order every time.
//!
//! The book explains it in chapter 8, "Work that blocks".
//!
//! Run it with `cargo run --example thread_pool`. One unit is 200 ms; set
//! `GLASS_EXAMPLE_UNIT_MS` to change it, e.g. `GLASS_EXAMPLE_UNIT_MS=1000`. Lines that
//! start with `time:` are real-time measurements; they change from run to run.

use std::collections::BTreeSet;
use std::thread;
use std::time::{Duration, Instant};

use glass::ThreadPool;

/// One unit of work: 200 ms, or `GLASS_EXAMPLE_UNIT_MS` milliseconds.
fn unit() -> Duration {
    let millis = std::env::var("GLASS_EXAMPLE_UNIT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(200);
    Duration::from_millis(millis)
}

/// The name of the worker thread we are on (`worker-2`).
fn worker_name() -> String {
    thread::current().name().unwrap_or("unnamed").to_owned()
}

/// The job: one unit of (blocking) work, then `n * n`, and which worker did it.
fn square(n: u64, unit: Duration) -> (u64, String) {
    thread::sleep(unit);
    (n * n, worker_name())
}

fn main() {
    let unit = unit();
    let in_units = |elapsed: Duration| elapsed.as_secs_f64() / unit.as_secs_f64();
    // Like `with ThreadPoolExecutor(max_workers=3) as executor:`.
    let pool = ThreadPool::builder().workers(3).name("worker").build();

    println!("-- submit ten squares, then wait for each result in turn");
    let began = Instant::now();
    let tasks: Vec<_> = (1..=10)
        .map(|n| pool.submit(move || square(n, unit)))
        .collect();
    println!("submitted 10 jobs; submit does not wait");
    println!("time: the pool right after: {:?}", pool.statistics());
    let mut workers = BTreeSet::new();
    for (n, task) in (1..=10).zip(tasks) {
        let (value, worker) = task.wait(); // like `future.result()`
        println!("square({n}) = {value}");
        println!("time: square({n}) ran on {worker}");
        workers.insert(worker);
    }
    println!(
        "time: ten jobs of one unit took {:.2} units, on {} workers: {workers:?}",
        in_units(began.elapsed()),
        workers.len()
    );
    assert!(workers.len() <= 3, "a pool of 3 workers used {workers:?}");
    println!("no more than 3 workers ran them, three jobs at a time");

    println!("-- map: the results in input order");
    let began = Instant::now();
    let squares = glass::run(pool.map(move |n: u64| square(n, unit).0, 1..=10));
    println!("map gave {squares:?}");
    println!("time: map took {:.2} units", in_units(began.elapsed()));

    println!("-- a done-callback: it runs on the worker as soon as the job is done");
    // Printed before the submit: the callback may print as soon as the job starts.
    println!("main submits square(12) with a callback, and waits");
    let task = pool.submit_with_callback(
        move || square(12, unit).0,
        |value| println!("callback on the worker: square(12) = {value} is done"),
    );
    println!("main got {}", task.wait());

    // Like leaving the `with` block: wait for the jobs, let the workers go.
    pool.shutdown();
    println!("pool shut down; workers left: {}", pool.threads());
}
