//! hello — `asyncio.run` of one coroutine.
//!
//! The lesson: `asyncio.run(main())` makes an event loop, runs one coroutine until it
//! returns, and closes the loop. While the coroutine sleeps, the loop waits for the
//! timer; nothing else happens, and `main end` is printed only when the sleep is over.
//! `glass::run` is the same thing.
//!
//! The book explains it in chapter 4, "The event loop".
//!
//! Run it with `cargo run --example hello`. With `GLASS_PAUSED_CLOCK=1` the loop's clock
//! jumps straight to the next timer, so the 2 s sleep is instant and the timestamps
//! are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// The coroutine: it begins, sleeps 2 s without blocking the loop, and ends.
async fn say_hello(start: Instant) {
    log(start, "hello begins, sleeps 2 s");
    glass::sleep(Duration::from_secs(2)).await;
    log(start, "hello ends");
}

fn main() {
    // Like `asyncio.run(main())`: the loop lives exactly as long as this future.
    glass::run(async {
        let start = Instant::now();
        log(start, "main begin");
        say_hello(start).await;
        log(start, "main end");
    });
}
