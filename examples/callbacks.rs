//! callbacks — the loop's low level: `call_soon` and `call_later`.
//!
//! The lesson: under the tasks, an asyncio loop is a queue of plain callbacks. Each turn
//! of the loop
//!   1. moves the timers that are due to the back of the ready queue,
//!   2. runs the callbacks that were ready when the turn began, in FIFO order;
//!      what they schedule waits for the next turn.
//!
//! A task is one more customer of that queue: `await asyncio.sleep(0)` (glass:
//! `yield_now`) puts the task's next step at the back, behind the callbacks already
//! there. Timers run in deadline order, not in the order they were set, and a
//! cancelled `TimerHandle` never runs.
//!
//! So this program prints, as asyncio would:
//!   main, call_soon 1, call_soon 2, main again, call_later(0), call_soon 3,
//!   call_later(0.1 s), call_later(0.2 s), main end.
//!
//! The book explains it in chapter 4, "The event loop".
//!
//! Run it with `cargo run --example callbacks`. With `GLASS_PAUSED_CLOCK=1` the timers are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        log(start, "main schedules the callbacks");

        // Set in the "wrong" order on purpose: timers run by deadline.
        glass::call_later(Duration::from_millis(200), move || {
            log(start, "call_later(0.2 s)")
        });
        glass::call_later(Duration::from_millis(100), move || {
            log(start, "call_later(0.1 s)")
        });
        let never = glass::call_later(Duration::from_millis(150), move || {
            log(start, "call_later(0.15 s): cancelled, so this never prints")
        });
        never.cancel();

        // Due at once, but a timer: it joins the ready queue behind the call_soon's.
        glass::call_later(Duration::ZERO, move || log(start, "call_later(0)"));

        glass::call_soon(move || {
            log(start, "call_soon 1");
            glass::call_soon(move || log(start, "call_soon 3, scheduled by call_soon 1"));
        });
        glass::call_soon(move || log(start, "call_soon 2"));

        log(start, "main yields to the loop");
        glass::yield_now().await;
        log(start, "main again, behind the callbacks queued before it");

        glass::sleep(Duration::from_millis(300)).await;
        log(start, "main end");
    });
}
