//! task_group — three downloads in a `TaskGroup`, and a fourth child that panics.
//!
//! The lesson: `async with asyncio.TaskGroup()` is structured concurrency. Its tasks
//! live inside the block, and when one of them fails, the group cancels the others.
//! `glass::TaskGroup` makes the same promise with a value: `spawn` starts a child task,
//! `join_next().await` hands out the children's results in the order they end, and a
//! child that panics cancels its siblings. Here `b` finishes at 1 s; at 1.5 s the
//! fourth child panics, and `a` and `c`, still downloading, are cancelled and never
//! print "ends". (The panic is also reported on stderr, as any task's panic is.)
//!
//! The book explains it in chapter 7, "Waiting for many things".
//!
//! Run it with `cargo run --example task_group`. With `GLASS_PAUSED_CLOCK=1` the sleeps
//! are instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;
use glass::TaskGroup;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Pretends to download `name`, which takes `seconds`; returns the name in capitals.
async fn download(start: Instant, name: &'static str, seconds: u64) -> String {
    log(start, format!("{name} begins, takes {seconds} s"));
    glass::sleep(Duration::from_secs(seconds)).await;
    log(start, format!("{name} ends"));
    name.to_uppercase()
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let mut group = TaskGroup::new();
        for (name, seconds) in [("a", 2), ("b", 1), ("c", 3)] {
            group.spawn(download(start, name, seconds));
        }
        group.spawn(async move {
            glass::sleep(Duration::from_millis(1500)).await;
            panic!("the disk is full");
        });
        while let Some(result) = group.join_next().await {
            match result {
                Ok(text) => log(start, format!("join_next: Ok({text:?})")),
                Err(error) => log(start, format!("join_next: Err({error})")),
            }
        }
        log(start, "main end");
    });
}
