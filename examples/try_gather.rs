//! try_gather — three fetches at once; the first error wins and the rest are dropped.
//!
//! The lesson: `asyncio.gather` raises the first exception, but the other coroutines
//! were wrapped in tasks, so they go on running with nobody waiting for their results.
//! `try_gather!` returns the first `Err` instead, and in the same poll drops the futures
//! that are still running: in Rust, cancelling a future means dropping it. A guard in
//! each fetch (`Watch` below) prints a line when it is dropped before the fetch is done,
//! so the transcript shows the moment the others are cancelled. `try_gather_all` does
//! the same for a number of futures known only at run time.
//!
//! The book explains it in chapter 7, "Waiting for many things".
//!
//! Run it with `cargo run --example try_gather`. With `GLASS_PAUSED_CLOCK=1` the sleeps
//! are instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Says so when it is dropped before `finished` is set: its fetch was cancelled.
struct Watch {
    start: Instant,
    name: &'static str,
    finished: bool,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.finished {
            log(self.start, format!("{} dropped: cancelled", self.name));
        }
    }
}

/// Pretends to fetch `name`, which takes `seconds`; fails if `fail` is set, else
/// returns the name in capitals.
async fn fetch(
    start: Instant,
    name: &'static str,
    seconds: u64,
    fail: bool,
) -> Result<String, String> {
    let mut watch = Watch {
        start,
        name,
        finished: false,
    };
    log(start, format!("{name} begins"));
    glass::sleep(Duration::from_secs(seconds)).await;
    watch.finished = true;
    if fail {
        log(start, format!("{name} fails"));
        return Err(format!("{name} failed"));
    }
    log(start, format!("{name} ends"));
    Ok(name.to_uppercase())
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let result = glass::try_gather!(
            fetch(start, "a", 2, false),
            fetch(start, "b", 1, true),
            fetch(start, "c", 3, false),
        );
        log(start, format!("try_gather! gave {result:?}"));
        // Wait longer than the slowest fetch: nothing more is printed, because `a` and
        // `c` are gone, not running on unseen.
        glass::sleep(Duration::from_secs(3)).await;
        log(start, "main end");
    });
}
