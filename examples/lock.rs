//! lock — two tasks contend for one lock.
//!
//! The lesson: `asyncio.Lock` lets one task at a time into a critical section, even
//! when the section contains an `await`. Task a asks first and gets the lock at once;
//! b asks while a holds it, and waits. When a releases the lock it is *handed* to b,
//! the oldest waiter. In glass, `acquire().await` returns a guard, and dropping the
//! guard releases the lock (the `async with lock:` block of asyncio ends where the
//! guard's scope ends).
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example lock`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Lock;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Takes the lock, holds it for 1 s, and releases it.
async fn worker(start: Instant, name: &'static str, lock: Arc<Lock>) {
    log(start, format!("{name} waits for the lock"));
    let guard = lock.acquire().await;
    log(start, format!("{name} gets the lock and holds it 1 s"));
    glass::sleep(Duration::from_secs(1)).await;
    log(start, format!("{name} releases the lock"));
    drop(guard);
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let lock = Arc::new(Lock::new(()));
        let a = glass::create_task(worker(start, "a", Arc::clone(&lock)));
        let b = glass::create_task(worker(start, "b", Arc::clone(&lock)));
        glass::gather!(a, b);
        log(start, "main end: 2 s; b waited for a");
    });
}
