//! as_completed — the results of three fetches in the order they finish.
//!
//! The lesson: `gather` hands back every result in the order of its arguments, so you
//! see none of them before the slowest is done. `asyncio.as_completed(jobs)` gives each
//! result as soon as it exists. `glass::as_completed(jobs)` is a stream: each
//! `next().await` gives the next output to be ready, and `None` when all are done;
//! `len()` says how many are still running. The futures are not tasks: they run inside
//! the task that polls the stream, while it polls it. An output comes without a label,
//! so each fetch returns its own name.
//!
//! The book explains it in chapter 7, "Waiting for many things".
//!
//! Run it with `cargo run --example as_completed`. With `GLASS_PAUSED_CLOCK=1` the
//! sleeps are instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::stream::StreamExt;
use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Pretends to fetch `name`, which takes `seconds`; returns the name in capitals.
async fn fetch(start: Instant, name: &'static str, seconds: u64) -> String {
    log(start, format!("{name} begins, sleeps {seconds} s"));
    glass::sleep(Duration::from_secs(seconds)).await;
    name.to_uppercase()
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let jobs =
            [("a", 3), ("b", 1), ("c", 2)].map(|(name, seconds)| fetch(start, name, seconds));
        let mut done = glass::as_completed(jobs);
        while let Some(result) = done.next().await {
            log(start, format!("got {result}; {} still running", done.len()));
        }
    });
}
