//! sequential — awaiting two coroutines one after the other.
//!
//! The lesson: `await` waits. `await work(1); await work(2)` runs the second coroutine
//! only after the first has finished, so their sleeps add up: 1 s + 2 s = 3 s. Being
//! `async` does not make code concurrent; only tasks (see `create_task`) or `gather`
//! (see `gather`) do.
//!
//! The book explains it in chapter 5, "Timers".
//!
//! Run it with `cargo run --example sequential`. With `GLASS_PAUSED_CLOCK=1` the sleeps
//! are instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Pretends to work for `seconds` by sleeping on the loop's timer.
async fn work(start: Instant, seconds: u64) {
    log(start, format!("work({seconds}) begins, sleeps {seconds} s"));
    glass::sleep(Duration::from_secs(seconds)).await;
    log(start, format!("work({seconds}) ends"));
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        log(start, "main begin");
        // The second call does not even start until the first has returned.
        work(start, 1).await;
        work(start, 2).await;
        log(start, "main end: 1 s + 2 s, one after the other");
    });
}
