//! calls — two coroutines, each "calling" three times, one second apart.
//!
//! The lesson: while one coroutine sleeps between its calls, the loop runs the other,
//! so their lines interleave and both finish after 3 s, not 6 s. When both wake at the
//! same instant, the one whose timer was set first runs first. What each coroutine
//! returns comes back when its task is awaited.
//!
//! The book explains it in chapter 5, "Timers".
//!
//! Run it with `cargo run --example calls`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Makes three calls one second apart; returns a summary of what it did.
async fn make_calls(start: Instant, caller: &'static str) -> String {
    for call in 1..=3 {
        log(start, format!("{caller} makes call {call} of 3"));
        glass::sleep(Duration::from_secs(1)).await;
    }
    log(start, format!("{caller} hangs up"));
    format!("{caller} made 3 calls")
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let alice = glass::create_task(make_calls(start, "Alice"));
        let bob = glass::create_task(make_calls(start, "Bob"));

        let results = vec![alice.await, bob.await];
        log(start, format!("main collected {results:?}"));
        log(start, "main end: 3 s, not 6 s: the calls overlapped");
    });
}
