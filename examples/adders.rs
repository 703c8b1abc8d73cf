//! adders — two adders fill a queue of size 5, one reducer empties it.
//!
//! The lesson: a bounded queue makes a fast producer wait for a slow consumer. The two
//! adders each put the numbers 0 to 4 into a `Queue` of size 5, as fast as they can;
//! the reducer takes ten numbers, half a second each, and sums them. Adder A fills the
//! queue at once; adder B finds it full and waits in `put`. Each time the reducer takes
//! a number, the oldest waiting `put` moves its number in, so the queue stays full
//! until B is done, then drains. The queue's size is printed every time it changes.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example adders`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Queue;

/// The queue holds five numbers; the reducer takes ten, half a second each.
const QUEUE_SIZE: usize = 5;
const TAKE: usize = 10;
const REDUCE: Duration = Duration::from_millis(500);

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Puts the numbers 0 to 4, each labelled with the adder's name.
async fn adder(start: Instant, name: &'static str, queue: Arc<Queue<(&'static str, u32)>>) {
    for n in 0..5 {
        if queue.full() {
            log(
                start,
                format!("adder {name} waits to put {n}: the queue is full"),
            );
        }
        queue
            .put((name, n))
            .await
            .expect("the queue is never shut down");
        log(
            start,
            format!("adder {name} put {n} (qsize {})", queue.qsize()),
        );
    }
    log(start, format!("adder {name} done"));
}

/// Takes `TAKE` numbers and sums them.
async fn reducer(start: Instant, queue: Arc<Queue<(&'static str, u32)>>) -> u32 {
    let mut sum = 0;
    for _ in 0..TAKE {
        let (name, n) = queue.get().await.expect("the queue is never shut down");
        sum += n;
        log(
            start,
            format!(
                "reducer took {n} from {name}, sum {sum} (qsize {})",
                queue.qsize()
            ),
        );
        glass::sleep(REDUCE).await;
    }
    sum
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let queue = Arc::new(Queue::new(QUEUE_SIZE));
        let adders =
            ["A", "B"].map(|name| glass::create_task(adder(start, name, Arc::clone(&queue))));
        let sum = glass::create_task(reducer(start, Arc::clone(&queue))).await;
        glass::gather_all(adders).await;
        log(
            start,
            format!("main end: the sum is {sum} (2 × (0 + 1 + 2 + 3 + 4))"),
        );
    });
}
