//! A seeded randomized test of the sync primitives: many tasks take and give back a
//! Lock and Semaphore permits, put and get items on a bounded Queue, and wait on an
//! Event, giving up at random moments (timeouts, futures dropped after one poll) while a
//! "chaos" task cancels them at random. Afterwards nothing may be lost: every permit is
//! back, the lock is free, nobody waits, and every item put was gotten exactly once or
//! is still in the queue.
//!
//! Each run is fixed by its seed and runs on the paused clock, so a failure replays
//! exactly: the failure message names the seed; run
//! `GLASS_SYNC_SEED=<seed> cargo test --test sync_random` to run that seed alone.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use glass::sync::{
    Event, GetError, Lock, LockStatistics, PutError, Queue, Semaphore, SemaphoreStatistics,
};

const SEEDS: u64 = 200;
/// Operations each worker attempts.
const STEPS: u32 = 30;
/// Moments at which the chaos task may cancel a worker.
const CHAOS_STEPS: u64 = 40;

/// SplitMix64: a tiny, good enough generator with a 64-bit state.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn millis(&mut self, max: u64) -> Duration {
        Duration::from_millis(self.below(max + 1))
    }
}

/// What became of every item ever made, indexed by item id.
#[derive(Default)]
struct Ledger {
    /// Whether `put`/`put_nowait` returned `Ok` for the item.
    put_ok: Vec<bool>,
    /// How many times it was taken out of the queue.
    gotten: Vec<u32>,
    /// How many times it was dropped without having been gotten.
    dropped: Vec<u32>,
}

/// A queue item that reports to the ledger when it is dropped without being gotten:
/// legitimate only for an item whose put did not succeed.
struct Item {
    id: usize,
    gotten: bool,
    ledger: Rc<RefCell<Ledger>>,
}

impl Drop for Item {
    fn drop(&mut self) {
        if !self.gotten {
            self.ledger.borrow_mut().dropped[self.id] += 1;
        }
    }
}

/// Everything the workers share.
struct World {
    lock: Lock<u64>,
    semaphore: Semaphore,
    permits: usize,
    queue: Queue<Item>,
    event: Event,
    ledger: Rc<RefCell<Ledger>>,
    /// Someone is inside the lock.
    in_lock: Cell<bool>,
    /// Permits held right now.
    in_semaphore: Cell<usize>,
    task_done_calls: Cell<usize>,
}

impl World {
    fn new_item(&self) -> Item {
        let mut ledger = self.ledger.borrow_mut();
        ledger.put_ok.push(false);
        ledger.gotten.push(0);
        ledger.dropped.push(0);
        Item {
            id: ledger.put_ok.len() - 1,
            gotten: false,
            ledger: Rc::clone(&self.ledger),
        }
    }

    fn take(&self, mut item: Item) {
        item.gotten = true;
        self.ledger.borrow_mut().gotten[item.id] += 1;
    }
}

/// What must hold at every moment between two polls, whatever was cancelled.
fn check_invariants(world: &World) {
    let lock = world.lock.statistics();
    assert!(
        lock.waiters == 0 || lock.locked,
        "tasks wait for a free lock: {lock:?}"
    );
    let semaphore = world.semaphore.statistics();
    assert!(
        semaphore.available_permits + world.in_semaphore.get() <= world.permits,
        "more permits than were made: {semaphore:?}, {} held, {} made",
        world.in_semaphore.get(),
        world.permits
    );
    assert!(
        semaphore.waiters == 0 || semaphore.available_permits < world.permits,
        "tasks wait while every permit is free: {semaphore:?}"
    );
    let event = world.event.statistics();
    assert!(
        !event.is_set || event.waiters == 0,
        "tasks wait on a set event: {event:?}"
    );
    let queue = world.queue.statistics();
    assert!(
        queue.getters == 0 || queue.items <= queue.reserved,
        "getters wait while items are queued: {queue:?}"
    );
    assert!(
        queue.putters == 0 || queue.items >= queue.maxsize,
        "putters wait while there is room: {queue:?}"
    );
    assert!(
        !queue.shut_down || (queue.getters == 0 && queue.putters == 0),
        "tasks wait on a shut-down queue: {queue:?}"
    );
}

/// Marks the lock held while alive; checks that nobody else is inside.
struct InLock<'a>(&'a Cell<bool>);

impl<'a> InLock<'a> {
    fn enter(flag: &'a Cell<bool>) -> InLock<'a> {
        assert!(!flag.replace(true), "two tasks hold the lock at once");
        InLock(flag)
    }
}

impl Drop for InLock<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Counts permits held while alive; checks that no more than exist are held.
struct InSemaphore<'a>(&'a Cell<usize>, usize);

impl<'a> InSemaphore<'a> {
    fn enter(held: &'a Cell<usize>, n: usize, permits: usize) -> InSemaphore<'a> {
        held.set(held.get() + n);
        assert!(
            held.get() <= permits,
            "{} permits held from a semaphore of {permits}",
            held.get()
        );
        InSemaphore(held, n)
    }
}

impl Drop for InSemaphore<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - self.1);
    }
}

/// How a worker waits for an operation that may block.
#[derive(Clone, Copy, Debug)]
enum Patience {
    /// Until it completes (or the task is cancelled).
    Forever,
    /// `wait_for` with this limit.
    Timeout(Duration),
    /// Polls once; if pending, lets other tasks run `yields` times (the future may be
    /// handed its resource meanwhile), maybe polls once more, then drops it.
    PollThenDrop { yields: u32, repoll: bool },
}

impl Patience {
    fn pick(rng: &mut Rng, forever_allowed: bool) -> Patience {
        match rng.below(if forever_allowed { 3 } else { 2 }) {
            0 => Patience::Timeout(rng.millis(6)),
            1 => Patience::PollThenDrop {
                yields: rng.below(4) as u32,
                repoll: rng.percent(30),
            },
            _ => Patience::Forever,
        }
    }
}

/// Awaits `future` with the given patience; `None` when it gave up, having dropped the
/// future.
async fn attempt<F: Future>(future: F, patience: Patience) -> Option<F::Output> {
    match patience {
        Patience::Forever => Some(future.await),
        Patience::Timeout(limit) => glass::wait_for(future, limit).await.ok(),
        Patience::PollThenDrop { yields, repoll } => {
            let mut future = pin!(future);
            if let Poll::Ready(output) = poll_once(future.as_mut()).await {
                return Some(output);
            }
            for _ in 0..yields {
                glass::yield_now().await;
            }
            if repoll {
                if let Poll::Ready(output) = poll_once(future.as_mut()).await {
                    return Some(output);
                }
            }
            None
        }
    }
}

/// Polls `future` exactly once, from the current task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// Holds whatever the worker holds for a random short while.
async fn hold(rng: &mut Rng) {
    match rng.below(3) {
        0 => {}
        1 => glass::yield_now().await,
        _ => glass::sleep(rng.millis(3)).await,
    }
}

async fn worker(world: Rc<World>, mut rng: Rng) {
    for _ in 0..STEPS {
        match rng.below(100) {
            0..=19 => {
                let guard = if rng.percent(15) {
                    world.lock.try_acquire()
                } else {
                    let patience = Patience::pick(&mut rng, true);
                    attempt(world.lock.acquire(), patience).await
                };
                if let Some(mut guard) = guard {
                    let _inside = InLock::enter(&world.in_lock);
                    *guard += 1;
                    hold(&mut rng).await;
                }
            }
            20..=39 => {
                let n = rng.between(1, world.permits as u64) as usize;
                let permit = if rng.percent(15) {
                    world.semaphore.try_acquire_many(n)
                } else {
                    let patience = Patience::pick(&mut rng, true);
                    attempt(world.semaphore.acquire_many(n), patience).await
                };
                if let Some(permit) = permit {
                    assert_eq!(permit.count(), n);
                    let _inside = InSemaphore::enter(&world.in_semaphore, n, world.permits);
                    hold(&mut rng).await;
                }
            }
            40..=57 => {
                let item = world.new_item();
                let id = item.id;
                let outcome = if rng.percent(25) {
                    Some(world.queue.put_nowait(item))
                } else {
                    let patience = Patience::pick(&mut rng, false);
                    attempt(world.queue.put(item), patience).await
                };
                match outcome {
                    Some(Ok(())) => world.ledger.borrow_mut().put_ok[id] = true,
                    Some(Err(PutError::ShutDown(item))) => {
                        assert!(world.queue.is_shut_down(), "ShutDown from a live queue");
                        drop(item);
                    }
                    Some(Err(PutError::Full(item))) => drop(item),
                    None => {} // gave up: the item went in, or was dropped with the put
                }
            }
            58..=75 => {
                let outcome = if rng.percent(25) {
                    Some(world.queue.get_nowait())
                } else {
                    let patience = Patience::pick(&mut rng, false);
                    attempt(world.queue.get(), patience).await
                };
                match outcome {
                    Some(Ok(item)) => {
                        world.take(item);
                        if rng.percent(50) {
                            world.queue.task_done();
                            world.task_done_calls.set(world.task_done_calls.get() + 1);
                        }
                    }
                    Some(Err(GetError::ShutDown)) => {
                        assert!(world.queue.is_shut_down(), "ShutDown from a live queue");
                    }
                    Some(Err(GetError::Empty)) | None => {}
                }
            }
            76..=87 => {
                let patience = Patience::pick(&mut rng, false);
                attempt(world.event.wait(), patience).await;
            }
            88..=91 => {
                if rng.percent(50) {
                    world.event.set();
                } else {
                    world.event.clear();
                }
            }
            _ => hold(&mut rng).await,
        }
        check_invariants(&world);
    }
}

/// Cancels workers at random moments; sets and clears the event; may shut the queue
/// down.
async fn chaos(
    world: Rc<World>,
    workers: Rc<RefCell<Vec<glass::Task<()>>>>,
    shutdown_at: Option<u64>,
    mut rng: Rng,
) {
    for step in 0..CHAOS_STEPS {
        match rng.below(3) {
            0 => glass::yield_now().await,
            _ => glass::sleep(rng.millis(3)).await,
        }
        if rng.percent(60) {
            let workers = workers.borrow();
            workers[rng.below(workers.len() as u64) as usize].cancel();
        }
        if rng.percent(10) {
            world.event.set();
        }
        if rng.percent(10) {
            world.event.clear();
        }
        if shutdown_at == Some(step) {
            world.queue.shutdown(false);
        }
        check_invariants(&world);
    }
}

/// Awaits `future`, failing instead of hanging when it is still pending after an hour
/// of paused-clock time.
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    glass::wait_for(future, Duration::from_secs(3600))
        .await
        .unwrap_or_else(|_| panic!("stuck: {what} still pending after an hour"))
}

fn run_seed(seed: u64) {
    let mut rng = Rng::new(seed);
    let permits = rng.between(1, 4) as usize;
    let maxsize = rng.between(1, 4) as usize;
    let worker_count = rng.between(20, 50);
    let shutdown_at = rng.percent(25).then(|| rng.below(CHAOS_STEPS));
    let mut event_loop = glass::EventLoop::builder().paused_clock(true).build();
    event_loop.run_until_complete(async move {
        let world = Rc::new(World {
            lock: Lock::new(0),
            semaphore: Semaphore::new(permits),
            permits,
            queue: Queue::new(maxsize),
            event: Event::new(),
            ledger: Rc::default(),
            in_lock: Cell::new(false),
            in_semaphore: Cell::new(0),
            task_done_calls: Cell::new(0),
        });
        let workers = Rc::new(RefCell::new(Vec::new()));
        for _ in 0..worker_count {
            let task = glass::spawn(worker(Rc::clone(&world), Rng::new(rng.next())));
            workers.borrow_mut().push(task);
        }
        let chaos = glass::spawn(chaos(
            Rc::clone(&world),
            Rc::clone(&workers),
            shutdown_at,
            Rng::new(rng.next()),
        ));
        within("the chaos task", chaos).await;
        for (i, task) in workers.take().into_iter().enumerate() {
            match within(&format!("worker {i}"), task.join()).await {
                Ok(()) => {}
                Err(error) if error.is_cancelled() => {}
                Err(error) => panic::resume_unwind(error.into_panic()),
            }
        }

        // Every worker is gone: nothing may be held, waiting or lost.
        assert_eq!(
            world.semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: permits,
                waiters: 0
            },
            "semaphore of {permits}"
        );
        assert_eq!(
            world.lock.statistics(),
            LockStatistics {
                locked: false,
                waiters: 0
            }
        );
        assert_eq!(world.event.statistics().waiters, 0, "event waiters left");
        let stats = world.queue.statistics();
        assert_eq!((stats.getters, stats.putters), (0, 0), "queue waiters left");
        while let Ok(item) = world.queue.get_nowait() {
            world.take(item);
        }
        {
            let ledger = world.ledger.borrow();
            for id in 0..ledger.put_ok.len() {
                let (gotten, dropped) = (ledger.gotten[id], ledger.dropped[id]);
                assert_eq!(
                    gotten + dropped,
                    1,
                    "item {id}: gotten {gotten} times, dropped ungotten {dropped} times"
                );
                assert!(
                    !(ledger.put_ok[id] && dropped > 0),
                    "item {id}: its put returned Ok, yet it was dropped, never gotten"
                );
            }
            let gotten: u32 = ledger.gotten.iter().sum();
            let unfinished = gotten as usize - world.task_done_calls.get();
            assert_eq!(
                world.queue.statistics().unfinished,
                unfinished,
                "unfinished count"
            );
        }
        for _ in 0..world.queue.statistics().unfinished {
            world.queue.task_done();
        }
        within("queue.join()", world.queue.join()).await;
    });
}

#[test]
fn random_cancellations_lose_no_permit_lock_or_item() {
    let seeds: Vec<u64> = match std::env::var("GLASS_SYNC_SEED") {
        Ok(seed) => vec![seed.parse().expect("GLASS_SYNC_SEED must be a number")],
        Err(_) => (0..SEEDS).collect(),
    };
    for seed in seeds {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| run_seed(seed))) {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("<non-string panic payload>");
            panic!(
                "seed {seed} failed: {message}\nreplay it alone with \
                 GLASS_SYNC_SEED={seed} cargo test -p glass-examples --test sync_random"
            );
        }
    }
}
