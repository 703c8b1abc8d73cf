//! event — a waiter released by `set()` after 2 s.
//!
//! The lesson: `asyncio.Event` is a flag that tasks can wait for. `wait()` suspends the
//! waiter until some other task calls `set()`; then every waiter wakes up (and later
//! waits return at once, until someone calls `clear()`). The waiter costs nothing while
//! it waits: the loop does not poll it again until `set()` wakes it. `glass::Event` is
//! the same thing; the waiter and `main` share it through an `Arc`.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example event`. With `GLASS_PAUSED_CLOCK=1` the sleep is
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Event;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Waits for the event, and says when it was released.
async fn waiter(start: Instant, event: Arc<Event>) {
    log(start, "waiter: waiting for the event...");
    event.wait().await;
    log(start, "waiter: ...released, the event is set");
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let event = Arc::new(Event::new());
        let waiter = glass::create_task(waiter(start, Arc::clone(&event)));

        log(start, "main: sleeps 2 s before setting the event");
        glass::sleep(Duration::from_secs(2)).await;
        log(start, "main: set()");
        event.set();

        // The waiter was woken by set(); it runs as soon as main awaits it.
        waiter.await;
        log(start, "main end: after the waiter");
    });
}
