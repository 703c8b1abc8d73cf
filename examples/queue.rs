//! queue — one producer, two consumers, a queue of size 3, and `task_done`.
//!
//! The lesson: an `asyncio.Queue` hands work from producers to consumers. The producer
//! makes five items, one a second, and `put`s each one; two consumers `get` items and
//! take 3 s over each. `get` waits while the queue is empty, `put` would wait while it
//! holds three items, so the tasks pace each other and their lines interleave. An item
//! put while a consumer waits is promised to that consumer (nobody can take it first),
//! and waits in the queue — counted by `qsize` — until the consumer runs.
//!
//! How does `main` know that the work is over? Not when the producer returns: the last
//! items may still be queued or in a consumer's hands. Every `get` is paired with a
//! `task_done()` once the item is handled, and `join().await` returns when every item
//! put has been marked done. Then the consumers, still waiting in `get` for an item that
//! will never come, are cancelled — the classic asyncio pattern. (`shutdown` shows two
//! other ways to end.) Each item is consumed exactly once.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example queue`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::cell::RefCell;
use std::fmt::Display;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Queue;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Puts items 1 to 5, one a second.
async fn producer(start: Instant, queue: Arc<Queue<u32>>) {
    for item in 1..=5 {
        queue.put(item).await.expect("the queue is never shut down");
        log(
            start,
            format!("producer put item {item} ({} in the queue)", queue.qsize()),
        );
        glass::sleep(Duration::from_secs(1)).await;
    }
    log(start, "producer done");
}

/// Takes items for ever, 3 s each, marking each one done; records what it consumed.
async fn consumer(
    start: Instant,
    name: &'static str,
    queue: Arc<Queue<u32>>,
    consumed: Rc<RefCell<Vec<u32>>>,
) {
    loop {
        let item = queue.get().await.expect("the queue is never shut down");
        log(
            start,
            format!("{name} got item {item} ({} in the queue)", queue.qsize()),
        );
        glass::sleep(Duration::from_secs(3)).await;
        log(start, format!("{name} done with item {item}"));
        consumed.borrow_mut().push(item);
        queue.task_done();
    }
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let queue = Arc::new(Queue::new(3));
        let consumed = Rc::new(RefCell::new(Vec::new()));
        let consumers = ["consumer 1", "consumer 2"].map(|name| {
            glass::create_task(consumer(
                start,
                name,
                Arc::clone(&queue),
                Rc::clone(&consumed),
            ))
        });

        glass::create_task(producer(start, Arc::clone(&queue))).await;
        queue.join().await; // every item put has been marked done
        log(start, "main: join() returned, every item is done");

        for consumer in consumers {
            consumer.cancel();
            let ended = consumer.join().await;
            assert!(ended.unwrap_err().is_cancelled());
        }
        let mut consumed = consumed.take();
        consumed.sort_unstable();
        log(
            start,
            format!("main end: consumers cancelled; items consumed {consumed:?}, each once"),
        );
    });
}
