//! gather — `asyncio.gather` over tasks and over plain futures.
//!
//! The lesson: `gather` waits for several awaitables at once and hands back their
//! results in the order of its arguments, whatever order they finish in. They run
//! concurrently, so the whole takes as long as the longest, not the sum.
//!
//! Glass has it three ways:
//! - `gather!(task_a, task_b, …)` over tasks: each already runs on its own.
//! - `gather!(future_a, future_b, …)` over plain futures: no tasks are made; `gather!`
//!   polls them by turns inside the current task, as `join!` does in other runtimes.
//! - `gather_all(vec).await` when the number of futures is known only at run time.
//!
//! The book explains it in chapter 3, "Tasks", and chapter 7, "Composition".
//!
//! Run it with `cargo run --example gather`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Pretends to fetch `name`, which takes `seconds`; returns the name in capitals.
async fn fetch(start: Instant, name: &'static str, seconds: u64) -> String {
    log(start, format!("{name} begins, sleeps {seconds} s"));
    glass::sleep(Duration::from_secs(seconds)).await;
    log(start, format!("{name} ends"));
    name.to_uppercase()
}

fn main() {
    glass::run(async {
        let start = Instant::now();

        println!("-- gather! over tasks");
        let begun = Instant::now();
        let results = glass::gather!(
            glass::spawn(fetch(start, "a", 3)),
            glass::spawn(fetch(start, "b", 1)),
            glass::spawn(fetch(start, "c", 2)),
        );
        let took = begun.elapsed().as_secs_f64();
        log(start, format!("{results:?} after {took:.3} s"));

        println!("-- gather! over plain futures");
        let begun = Instant::now();
        let results = glass::gather!(
            fetch(start, "d", 2),
            fetch(start, "e", 3),
            fetch(start, "f", 1),
        );
        let took = begun.elapsed().as_secs_f64();
        log(start, format!("{results:?} after {took:.3} s"));

        println!("-- gather_all over a Vec of futures");
        let begun = Instant::now();
        let jobs: Vec<_> = [("g", 1), ("h", 2), ("i", 3), ("j", 1)]
            .into_iter()
            .map(|(name, seconds)| fetch(start, name, seconds))
            .collect();
        let results = glass::gather_all(jobs).await;
        let took = begun.elapsed().as_secs_f64();
        log(start, format!("{results:?} after {took:.3} s"));

        log(start, "main end: each part took as long as its longest job");
    });
}
