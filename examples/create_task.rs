//! create_task — two tasks created, then awaited in reverse order.
//!
//! The lesson: `asyncio.create_task` starts a coroutine on its own; it runs as soon as
//! the creator gives the loop a chance (at its next `await`), whether or not anyone
//! awaits the task yet. So both tasks begin at once, their sleeps overlap, and the whole
//! run takes as long as the longest task (2 s), not the sum (3 s). Awaiting the tasks
//! in reverse order changes nothing: task 1, already finished, just hands over its
//! result.
//!
//! The book explains it in chapter 3, "Tasks".
//!
//! Run it with `cargo run --example create_task`. With `GLASS_PAUSED_CLOCK=1` the sleeps
//! are instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Pretends to fetch data number `n`, which takes `n` seconds.
async fn fetch(start: Instant, n: u64) -> String {
    log(start, format!("task {n} begins, sleeps {n} s"));
    glass::sleep(Duration::from_secs(n)).await;
    log(start, format!("task {n} ends"));
    format!("data{n}")
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let task1 = glass::create_task(fetch(start, 1));
        let task2 = glass::create_task(fetch(start, 2));
        log(start, "main created task 1 and task 2; neither has run yet");

        // Awaiting task 2 first lets the loop run both tasks meanwhile; task 1 ends
        // at 1 s and keeps its result until someone asks for it.
        let data2 = task2.await;
        log(start, format!("main got {data2} from task 2"));
        let data1 = task1.await;
        log(start, format!("main got {data1} from task 1"));

        log(start, "main end: 2 s, not 1 s + 2 s");
    });
}
