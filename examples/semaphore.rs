//! semaphore — four tasks, two at a time.
//!
//! The lesson: `asyncio.Semaphore(2)` holds two permits. A task takes one with
//! `acquire` and gives it back when it is done; while both are out, the next task
//! waits. So of the four tasks, A and B start at once, C and D wait, and they start
//! only when A and B complete — in the order they asked (FIFO). In glass, `acquire()`
//! returns a permit, and dropping the permit gives it back (the end of asyncio's
//! `async with sem:` block).
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example semaphore`. With `GLASS_PAUSED_CLOCK=1` the sleeps
//! are instant and the timestamps are exact.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Semaphore;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Takes a permit, works for 1 s, and gives the permit back.
async fn job(start: Instant, name: &'static str, semaphore: Arc<Semaphore>) {
    log(start, format!("{name} waits for a permit"));
    let permit = semaphore.acquire().await;
    let left = semaphore.available_permits();
    log(start, format!("{name} starts (permits left: {left})"));
    glass::sleep(Duration::from_secs(1)).await;
    log(start, format!("{name} completes"));
    drop(permit);
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let semaphore = Arc::new(Semaphore::new(2));
        let jobs = ["A", "B", "C", "D"]
            .map(|name| glass::create_task(job(start, name, Arc::clone(&semaphore))));
        glass::gather_all(jobs).await;
        log(start, "main end: 2 s, two jobs at a time");
    });
}
