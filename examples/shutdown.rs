//! shutdown — three ways to tell consumers that the work is over.
//!
//! The lesson: three producers put items in a queue and two consumers take them out,
//! slower than they come, so the queue holds a backlog when the producers are done.
//! How do the consumers learn that no more items will come — without losing the
//! backlog? asyncio programs do it three ways, and glass has all three:
//!
//! 1. A sentinel: the queue carries `Option<Item>`, and when the producers are done,
//!    `main` puts one `None` per consumer. It queues behind the backlog; a consumer
//!    that takes it stops. Simple, but `main` must know how many consumers there are.
//! 2. `join()` and `task_done()`: each consumer marks every item done; `join()`
//!    returns when every item put was marked, and then `main` cancels the consumers,
//!    which wait in `get()` for ever. Cancelling a waiting `get()` loses nothing.
//! 3. `shutdown()` (Python 3.13): afterwards `get()` still returns what is left, then
//!    fails, so `while let Ok(item) = queue.get().await` ends by itself. No count of
//!    consumers, no cancelling.
//!
//! All three end cleanly, with every item consumed exactly once.
//!
//! The book explains it, and compares the three ways, in chapter 6, "Waiting
//! together".
//!
//! Run it with `cargo run --example shutdown`. With `GLASS_PAUSED_CLOCK=1` the sleeps
//! are instant and the timestamps are exact.

use std::cell::Cell;
use std::fmt::Display;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::{Queue, Task};

/// Three producers make three items each, one a second; two consumers take 1 s over
/// each item.
const PRODUCERS: [char; 3] = ['A', 'B', 'C'];
const ITEMS: u32 = 3;
const CONSUMERS: usize = 2;
const PRODUCE: Duration = Duration::from_secs(1);
const CONSUME: Duration = Duration::from_secs(1);

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Producer `name` puts its items `A1`, `A2`, ..., each made into a `T` by `wrap`.
async fn producer<T>(name: char, queue: Arc<Queue<T>>, wrap: fn(String) -> T) {
    for n in 1..=ITEMS {
        glass::sleep(PRODUCE).await;
        let item = wrap(format!("{name}{n}"));
        queue.put(item).await.expect("the queue is still open");
    }
}

/// Starts the producers; their tasks finish when every item has been put.
fn start_producers<T: 'static>(queue: &Arc<Queue<T>>, wrap: fn(String) -> T) -> Vec<Task<()>> {
    PRODUCERS
        .iter()
        .map(|&name| glass::create_task(producer(name, Arc::clone(queue), wrap)))
        .collect()
}

/// One counter of items taken per consumer.
fn counters() -> Vec<Rc<Cell<usize>>> {
    (0..CONSUMERS).map(|_| Rc::default()).collect()
}

/// Consumer `n` takes `item` and works on it.
async fn consume(start: Instant, n: usize, item: &str, taken: &Cell<usize>) {
    log(start, format!("consumer {n} takes {item}"));
    glass::sleep(CONSUME).await;
    taken.set(taken.get() + 1);
}

// ANCHOR: sentinel
/// Way 1: a consumer stops at the first `None`.
async fn consumer_sentinel(
    start: Instant,
    n: usize,
    queue: Arc<Queue<Option<String>>>,
    taken: Rc<Cell<usize>>,
) {
    while let Some(item) = queue.get().await.expect("this queue is never shut down") {
        consume(start, n, &item, &taken).await;
    }
    log(start, format!("consumer {n} takes the sentinel and stops"));
}

/// Way 1: when the producers are done, one `None` per consumer.
async fn end_with_sentinels(start: Instant, taken: &[Rc<Cell<usize>>]) {
    let queue = Arc::new(Queue::new(0));
    let consumers: Vec<_> = (1..)
        .zip(taken)
        .map(|(n, taken)| {
            glass::create_task(consumer_sentinel(
                start,
                n,
                Arc::clone(&queue),
                Rc::clone(taken),
            ))
        })
        .collect();
    glass::gather_all(start_producers(&queue, Some)).await;
    let left = queue.qsize();
    log(
        start,
        format!("producers done, {left} items left; main puts {CONSUMERS} sentinels"),
    );
    for _ in 0..CONSUMERS {
        queue
            .put(None)
            .await
            .expect("this queue is never shut down");
    }
    glass::gather_all(consumers).await;
}
// ANCHOR_END: sentinel

// ANCHOR: join
/// Way 2: a consumer never stops by itself; it marks each item done.
async fn consumer_forever(
    start: Instant,
    n: usize,
    queue: Arc<Queue<String>>,
    taken: Rc<Cell<usize>>,
) {
    loop {
        let item = queue.get().await.expect("this queue is never shut down");
        consume(start, n, &item, &taken).await;
        queue.task_done();
    }
}

/// Way 2: when the producers are done, `join()`, then cancel the consumers.
async fn end_with_join(start: Instant, taken: &[Rc<Cell<usize>>]) {
    let queue = Arc::new(Queue::new(0));
    let consumers: Vec<_> = (1..)
        .zip(taken)
        .map(|(n, taken)| {
            glass::create_task(consumer_forever(
                start,
                n,
                Arc::clone(&queue),
                Rc::clone(taken),
            ))
        })
        .collect();
    glass::gather_all(start_producers(&queue, |item| item)).await;
    let left = queue.qsize();
    log(
        start,
        format!("producers done, {left} items left; main waits in join()"),
    );
    // Only now: before the producers are done, the queue may be empty for a moment
    // with more items still to come, and join() would return too early.
    queue.join().await;
    log(
        start,
        "join() returned: every item is done; main cancels the consumers",
    );
    for consumer in consumers {
        consumer.cancel(); // it waits in get(), which gives up cleanly
        assert!(consumer.join().await.unwrap_err().is_cancelled());
    }
}
// ANCHOR_END: join

// ANCHOR: shutdown
/// Way 3: a consumer stops when `get()` fails: the queue is shut down and empty.
async fn consumer_until_shutdown(
    start: Instant,
    n: usize,
    queue: Arc<Queue<String>>,
    taken: Rc<Cell<usize>>,
) {
    while let Ok(item) = queue.get().await {
        consume(start, n, &item, &taken).await;
    }
    log(
        start,
        format!("consumer {n}: get() failed, the queue is shut down; stops"),
    );
}

/// Way 3: when the producers are done, `shutdown(false)`.
async fn end_with_shutdown(start: Instant, taken: &[Rc<Cell<usize>>]) {
    let queue = Arc::new(Queue::new(0));
    let consumers: Vec<_> = (1..)
        .zip(taken)
        .map(|(n, taken)| {
            glass::create_task(consumer_until_shutdown(
                start,
                n,
                Arc::clone(&queue),
                Rc::clone(taken),
            ))
        })
        .collect();
    glass::gather_all(start_producers(&queue, |item| item)).await;
    let left = queue.qsize();
    log(
        start,
        format!("producers done, {left} items left; main calls shutdown(false)"),
    );
    queue.shutdown(false); // what is left can still be taken
    glass::gather_all(consumers).await;
}
// ANCHOR_END: shutdown

fn main() {
    glass::run(async {
        println!("-- 1. a sentinel per consumer");
        let sentinel = counters();
        end_with_sentinels(Instant::now(), &sentinel).await;

        println!("-- 2. join() and task_done(), then cancel");
        let join = counters();
        end_with_join(Instant::now(), &join).await;

        println!("-- 3. Queue::shutdown");
        let shutdown = counters();
        end_with_shutdown(Instant::now(), &shutdown).await;

        println!("-- items consumed, of {}", PRODUCERS.len() * ITEMS as usize);
        for (way, taken) in [
            ("sentinel", sentinel),
            ("join", join),
            ("shutdown", shutdown),
        ] {
            let each: Vec<_> = taken.iter().map(|taken| taken.get()).collect();
            let total: usize = each.iter().sum();
            println!("{way}: {total} (per consumer: {each:?})");
        }
    });
}
