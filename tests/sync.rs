//! Tests that try to break glass's sync primitives: FIFO hand-off, no barging,
//! cancellation at the worst moment, queue shutdown, the cooperative budget, and
//! primitives shared by loops on several threads.
//!
//! Everything but the cross-thread tests runs on the paused clock: sleeps are instant
//! and exact, so the order in which tasks reach a primitive is set by their sleeps, and
//! a test that would hang fails instead (see `within`).

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use glass::sync::*;
use glass::time::Instant;

// ---------------------------------------------------------------------------------
// Helpers

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `future` on a fresh loop with the paused clock.
fn run<F: Future>(future: F) -> F::Output {
    glass::EventLoop::builder()
        .paused_clock(true)
        .build()
        .run_until_complete(future)
}

/// Lets the ready tasks run until they wait (several rounds of the ready queue). The
/// clock does not move meanwhile: the current task stays ready.
async fn settle() {
    for _ in 0..8 {
        glass::yield_now().await;
    }
}

/// Awaits `future`, failing the test instead of hanging when it is still pending after
/// an hour of paused-clock time.
async fn within<F: Future>(future: F) -> F::Output {
    glass::wait_for(future, Duration::from_secs(3600))
        .await
        .expect("stuck: still pending after an hour of (paused) time")
}

/// Polls `future` exactly once, from the current task.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// A shared, append-only record of what happened, in order.
struct Log<T>(Rc<RefCell<Vec<T>>>);

impl<T> Clone for Log<T> {
    fn clone(&self) -> Self {
        Log(Rc::clone(&self.0))
    }
}

impl<T: Clone> Log<T> {
    fn new() -> Self {
        Log(Rc::default())
    }

    fn push(&self, value: T) {
        self.0.borrow_mut().push(value);
    }

    fn get(&self) -> Vec<T> {
        self.0.borrow().clone()
    }
}

/// A queue item that writes its id to a log when it is dropped.
struct Tracked {
    id: u32,
    dropped: Log<u32>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.dropped.push(self.id);
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("<non-string panic payload>")
}

// ---------------------------------------------------------------------------------
// Lock

/// Spawns a task that takes `lock` and pushes `name` into the guarded vector.
fn spawn_push(lock: &Arc<Lock<Vec<&'static str>>>, name: &'static str) -> glass::Task<()> {
    let lock = Arc::clone(lock);
    glass::spawn(async move { lock.acquire().await.push(name) })
}

#[test]
fn lock_is_handed_to_the_oldest_waiter() {
    run(async {
        let lock = Arc::new(Lock::new(()));
        let order = Log::new();
        let guard = within(lock.acquire()).await;
        // Task i arrives after 5 - i ms: they queue in the order 4, 3, 2, 1, 0.
        let tasks: Vec<_> = (0..5u64)
            .map(|i| {
                let (lock, order) = (Arc::clone(&lock), order.clone());
                glass::spawn(async move {
                    glass::sleep(ms(5 - i)).await;
                    let _guard = lock.acquire().await;
                    order.push(i);
                    glass::sleep(ms(1)).await; // hold it a while
                })
            })
            .collect();
        glass::sleep(ms(10)).await;
        assert_eq!(lock.statistics().waiters, 5);
        drop(guard);
        within(glass::gather_all(tasks)).await;
        assert_eq!(order.get(), [4, 3, 2, 1, 0]);
        assert_eq!(
            lock.statistics(),
            LockStatistics {
                locked: false,
                waiters: 0
            }
        );
    });
}

#[test]
fn a_released_lock_stays_locked_until_the_woken_waiter_has_run() {
    run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let guard = within(lock.acquire()).await;
        let waiter = spawn_push(&lock, "waiter");
        settle().await;
        drop(guard); // handed to `waiter`, which has not run yet
        assert!(lock.locked());
        assert!(lock.try_acquire().is_none(), "try_acquire barged in");
        assert_eq!(
            lock.statistics(),
            LockStatistics {
                locked: true,
                waiters: 0
            }
        );
        // An acquire that starts now queues behind the woken waiter.
        let mut mine = Box::pin(lock.acquire());
        assert!(poll_once(&mut mine).await.is_pending(), "acquire barged in");
        let newcomer = spawn_push(&lock, "newcomer");
        within(mine).await.push("main");
        within(waiter).await;
        within(newcomer).await;
        assert_eq!(
            *lock.try_acquire().expect("the lock is free again"),
            ["waiter", "main", "newcomer"]
        );
    });
}

#[test]
fn a_waiter_cancelled_after_it_was_handed_the_lock_passes_it_on() {
    run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let guard = within(lock.acquire()).await;
        let first = spawn_push(&lock, "first");
        let second = spawn_push(&lock, "second");
        settle().await;
        assert_eq!(lock.statistics().waiters, 2);
        drop(guard); // handed to `first`, which has not run yet
        assert_eq!(
            lock.statistics(),
            LockStatistics {
                locked: true,
                waiters: 1
            }
        );
        first.cancel();
        assert!(within(first.join()).await.unwrap_err().is_cancelled());
        within(second).await;
        assert_eq!(*lock.try_acquire().expect("the lock was lost"), ["second"]);

        // With nobody behind it, the lock handed to a cancelled waiter comes free.
        let guard = within(lock.acquire()).await;
        let last = spawn_push(&lock, "last");
        settle().await;
        drop(guard);
        last.cancel();
        assert!(within(last.join()).await.unwrap_err().is_cancelled());
        assert_eq!(
            lock.statistics(),
            LockStatistics {
                locked: false,
                waiters: 0
            }
        );
        assert_eq!(*lock.try_acquire().expect("the lock was lost"), ["second"]);
    });
}

#[test]
fn an_acquire_dropped_after_it_was_handed_the_lock_passes_it_on() {
    run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let guard = within(lock.acquire()).await;
        let mut mine = Box::pin(lock.acquire());
        assert!(poll_once(&mut mine).await.is_pending());
        let next = spawn_push(&lock, "next");
        settle().await;
        assert_eq!(lock.statistics().waiters, 2);
        drop(guard); // handed to `mine`
        assert_eq!(
            lock.statistics(),
            LockStatistics {
                locked: true,
                waiters: 1
            }
        );
        drop(mine); // never collected: the lock must go on to `next`
        within(next).await;
        assert_eq!(*lock.try_acquire().expect("the lock was lost"), ["next"]);

        // The same with `acquire_owned`.
        let guard = within(lock.acquire()).await;
        let mut mine = Box::pin(Arc::clone(&lock).acquire_owned());
        assert!(poll_once(&mut mine).await.is_pending());
        let next = spawn_push(&lock, "owned next");
        settle().await;
        drop(guard);
        drop(mine);
        within(next).await;
        assert_eq!(
            *lock.try_acquire().expect("the lock was lost"),
            ["next", "owned next"]
        );
    });
}

#[test]
fn a_lock_waiter_that_times_out_leaves_the_queue_and_the_rest_keep_their_order() {
    run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let guard = within(lock.acquire()).await;
        let a = spawn_push(&lock, "a");
        let b = glass::spawn({
            let lock = Arc::clone(&lock);
            async move {
                glass::wait_for(lock.acquire(), ms(5))
                    .await
                    .map(|mut guard| guard.push("b"))
                    .is_ok()
            }
        });
        let c = spawn_push(&lock, "c");
        settle().await;
        assert_eq!(lock.statistics().waiters, 3);
        glass::sleep(ms(10)).await;
        assert_eq!(lock.statistics().waiters, 2);
        assert!(!within(b).await, "b should have timed out");
        drop(guard);
        within(a).await;
        within(c).await;
        assert_eq!(*lock.try_acquire().unwrap(), ["a", "c"]);
    });
}

#[test]
fn cancelling_a_queued_lock_waiter_shrinks_the_queue_and_keeps_the_order() {
    run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let guard = within(lock.acquire()).await;
        let mut tasks: Vec<_> = ["t0", "t1", "t2", "t3"]
            .into_iter()
            .map(|name| spawn_push(&lock, name))
            .collect();
        settle().await;
        assert_eq!(lock.statistics().waiters, 4);
        let cancelled = tasks.remove(1);
        cancelled.cancel();
        assert!(within(cancelled.join()).await.unwrap_err().is_cancelled());
        assert_eq!(lock.statistics().waiters, 3);
        drop(guard);
        within(glass::gather_all(tasks)).await;
        assert_eq!(*lock.try_acquire().unwrap(), ["t0", "t2", "t3"]);
    });
}

#[test]
fn an_owned_lock_guard_can_be_moved_into_another_task() {
    run(async {
        let lock = Arc::new(Lock::new(0u32));
        let guard = within(Arc::clone(&lock).acquire_owned()).await;
        let task = glass::spawn(async move {
            let mut guard = guard;
            glass::sleep(ms(1)).await;
            *guard += 1;
        });
        settle().await;
        assert!(lock.locked());
        within(task).await;
        assert!(!lock.locked());
        let lock = Arc::try_unwrap(lock).expect("the guard let go of the lock");
        assert_eq!(lock.into_inner(), 1);
    });
}

// ---------------------------------------------------------------------------------
// Semaphore

#[test]
fn semaphore_waiters_get_permits_in_arrival_order() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(1));
        let order = Log::new();
        let permit = within(semaphore.acquire()).await;
        // Task i arrives after 5 - i ms: they queue in the order 4, 3, 2, 1, 0.
        let tasks: Vec<_> = (0..5u64)
            .map(|i| {
                let (semaphore, order) = (Arc::clone(&semaphore), order.clone());
                glass::spawn(async move {
                    glass::sleep(ms(5 - i)).await;
                    let _permit = semaphore.acquire().await;
                    order.push(i);
                    glass::sleep(ms(1)).await;
                })
            })
            .collect();
        glass::sleep(ms(10)).await;
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 0,
                waiters: 5
            }
        );
        drop(permit);
        within(glass::gather_all(tasks)).await;
        assert_eq!(order.get(), [4, 3, 2, 1, 0]);
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn a_waiter_wanting_many_permits_is_not_starved_by_later_small_requests() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(3));
        let order = Log::new();
        let held = within(semaphore.acquire_many(2)).await;
        let big = glass::spawn({
            let (semaphore, order) = (Arc::clone(&semaphore), order.clone());
            async move {
                let permits = semaphore.acquire_many(3).await;
                assert_eq!(permits.count(), 3);
                order.push("big");
                glass::sleep(ms(5)).await;
                order.push("big done");
            }
        });
        settle().await;
        let smalls: Vec<_> = ["s0", "s1", "s2"]
            .into_iter()
            .map(|name| {
                let (semaphore, order) = (Arc::clone(&semaphore), order.clone());
                glass::spawn(async move {
                    let _permit = semaphore.acquire().await;
                    order.push(name);
                })
            })
            .collect();
        settle().await;
        // One permit is free and each small request wants one, yet they wait behind
        // `big`; so does try_acquire.
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 1,
                waiters: 4
            }
        );
        assert!(semaphore.locked());
        assert!(
            semaphore.try_acquire().is_none(),
            "try_acquire jumped the queue"
        );
        assert!(order.get().is_empty());
        drop(held);
        within(big).await;
        within(glass::gather_all(smalls)).await;
        assert_eq!(order.get(), ["big", "big done", "s0", "s1", "s2"]);
        assert_eq!(semaphore.available_permits(), 3);
    });
}

#[test]
fn permits_handed_to_a_waiter_cannot_be_taken_by_try_acquire() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(1));
        let permit = within(semaphore.acquire()).await;
        let waiter = glass::spawn({
            let semaphore = Arc::clone(&semaphore);
            async move {
                let _permit = semaphore.acquire().await;
                glass::sleep(ms(1)).await;
            }
        });
        settle().await;
        drop(permit); // handed to `waiter`, which has not run yet
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 0,
                waiters: 0
            }
        );
        assert!(semaphore.locked());
        assert!(semaphore.try_acquire().is_none(), "try_acquire barged in");
        within(waiter).await;
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn a_semaphore_waiter_cancelled_after_it_was_handed_permits_passes_them_on() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(2));
        let order = Log::new();
        let spawn_acquire = |n: usize, name: &'static str| {
            let (semaphore, order) = (Arc::clone(&semaphore), order.clone());
            glass::spawn(async move {
                let _permits = semaphore.acquire_many(n).await;
                order.push(name);
                glass::sleep(ms(1)).await;
            })
        };
        let held = within(semaphore.acquire_many(2)).await;
        let first = spawn_acquire(2, "first");
        let s1 = spawn_acquire(1, "s1");
        let s2 = spawn_acquire(1, "s2");
        settle().await;
        assert_eq!(semaphore.statistics().waiters, 3);
        drop(held); // both permits handed to `first`
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 0,
                waiters: 2
            }
        );
        first.cancel();
        assert!(within(first.join()).await.unwrap_err().is_cancelled());
        within(s1).await;
        within(s2).await;
        assert_eq!(order.get(), ["s1", "s2"]);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn a_semaphore_acquire_dropped_after_it_was_handed_permits_passes_them_on() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(2));
        let done = Rc::new(Cell::new(0));
        let spawn_acquire_two = || {
            let (semaphore, done) = (Arc::clone(&semaphore), Rc::clone(&done));
            glass::spawn(async move {
                let _permits = semaphore.acquire_many(2).await;
                done.set(done.get() + 1);
            })
        };
        let held = within(semaphore.acquire_many(2)).await;
        let mut mine = Box::pin(semaphore.acquire_many(2));
        assert!(poll_once(&mut mine).await.is_pending());
        let next = spawn_acquire_two();
        settle().await;
        assert_eq!(semaphore.statistics().waiters, 2);
        drop(held); // handed to `mine`
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 0,
                waiters: 1
            }
        );
        drop(mine);
        within(next).await;
        assert_eq!(done.get(), 1);
        assert_eq!(semaphore.available_permits(), 2);

        // The same with `acquire_owned`.
        let held = within(semaphore.acquire_many(2)).await;
        let mut mine = Box::pin(Arc::clone(&semaphore).acquire_owned());
        assert!(poll_once(&mut mine).await.is_pending());
        let next = spawn_acquire_two();
        settle().await;
        drop(held); // one permit handed to `mine`, which `next` (wanting 2) waits behind
        drop(mine);
        within(next).await;
        assert_eq!(done.get(), 2);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn when_a_large_waiter_at_the_head_leaves_the_small_ones_behind_it_go_through() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(2));
        let held = within(semaphore.acquire()).await; // one permit stays free
        let spawn_small = || {
            let semaphore = Arc::clone(&semaphore);
            glass::spawn(async move { drop(semaphore.acquire().await) })
        };

        // The large waiter is cancelled.
        let big = glass::spawn({
            let semaphore = Arc::clone(&semaphore);
            async move { drop(semaphore.acquire_many(2).await) }
        });
        let small = spawn_small();
        settle().await;
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 1,
                waiters: 2
            }
        );
        big.cancel();
        assert!(within(big.join()).await.unwrap_err().is_cancelled());
        within(small).await; // while `held` is still held
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 1,
                waiters: 0
            }
        );

        // The large waiter times out.
        let big = glass::spawn({
            let semaphore = Arc::clone(&semaphore);
            async move {
                glass::wait_for(semaphore.acquire_many(2), ms(5))
                    .await
                    .is_err()
            }
        });
        let small = spawn_small();
        settle().await;
        assert_eq!(semaphore.statistics().waiters, 2);
        glass::sleep(ms(10)).await;
        assert!(within(big).await, "the large request should have timed out");
        within(small).await;
        assert_eq!(
            semaphore.statistics(),
            SemaphoreStatistics {
                available_permits: 1,
                waiters: 0
            }
        );
        drop(held);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn forgotten_permits_stay_taken_and_added_permits_wake_waiters() {
    run(async {
        let semaphore = Arc::new(Semaphore::new(2));
        within(semaphore.acquire()).await.forget();
        assert_eq!(semaphore.available_permits(), 1);
        let big = glass::spawn({
            let semaphore = Arc::clone(&semaphore);
            async move { semaphore.acquire_many(3).await.count() }
        });
        settle().await;
        assert!(!big.is_finished());
        semaphore.add_permits(2);
        assert_eq!(within(big).await, 3);
        assert_eq!(semaphore.available_permits(), 3);
    });
}

// ---------------------------------------------------------------------------------
// Event

#[test]
fn waiters_of_an_event_set_then_cleared_before_they_run_still_complete() {
    run(async {
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let event = Arc::clone(&event);
                glass::spawn(async move {
                    event.wait().await;
                    i
                })
            })
            .collect();
        settle().await;
        assert_eq!(
            event.statistics(),
            EventStatistics {
                is_set: false,
                waiters: 3
            }
        );
        event.set();
        event.clear(); // before any waiter has run
        assert!(!event.is_set());
        assert_eq!(event.statistics().waiters, 0);
        assert_eq!(within(glass::gather_all(waiters)).await, [0, 1, 2]);
    });
}

#[test]
fn waiting_on_a_set_event_completes_at_once() {
    run(async {
        let event = Event::new();
        event.set();
        let mut wait = Box::pin(event.wait());
        assert!(poll_once(&mut wait).await.is_ready());
        let start = Instant::now();
        for _ in 0..10 {
            within(event.wait()).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(
            event.statistics(),
            EventStatistics {
                is_set: true,
                waiters: 0
            }
        );
    });
}

#[test]
fn waiting_on_a_cleared_event_blocks_until_it_is_set_again() {
    run(async {
        let event = Arc::new(Event::new());
        event.set();
        event.clear();
        assert!(glass::wait_for(event.wait(), ms(5)).await.is_err());
        let waiter = glass::spawn({
            let event = Arc::clone(&event);
            async move { event.wait().await }
        });
        glass::sleep(ms(10)).await;
        assert!(!waiter.is_finished());
        assert_eq!(event.statistics().waiters, 1);
        event.set();
        within(waiter).await;
    });
}

#[test]
fn a_dropped_event_waiter_leaves_the_list_and_changes_nothing_for_the_others() {
    run(async {
        let event = Arc::new(Event::new());
        let mut mine = Box::pin(event.wait());
        assert!(poll_once(&mut mine).await.is_pending());
        assert_eq!(event.statistics().waiters, 1);
        drop(mine);
        assert_eq!(event.statistics().waiters, 0);

        let timed_out = glass::spawn({
            let event = Arc::clone(&event);
            async move { glass::wait_for(event.wait(), ms(5)).await.is_err() }
        });
        let patient = glass::spawn({
            let event = Arc::clone(&event);
            async move { event.wait().await }
        });
        let mut mine = Box::pin(event.wait());
        assert!(poll_once(&mut mine).await.is_pending());
        settle().await;
        assert_eq!(event.statistics().waiters, 3);
        glass::sleep(ms(10)).await;
        assert!(within(timed_out).await);
        assert_eq!(event.statistics().waiters, 2);
        event.set();
        drop(mine); // woken, then dropped before it ran
        within(patient).await;
        assert_eq!(event.statistics().waiters, 0);
    });
}

// ---------------------------------------------------------------------------------
// Queue

#[test]
fn a_queue_with_maxsize_zero_is_unbounded() {
    run(async {
        let queue = Queue::new(0);
        assert_eq!(queue.maxsize(), 0);
        let start = Instant::now();
        for i in 0..10_000 {
            within(queue.put(i)).await.unwrap();
            assert!(!queue.full());
        }
        for i in 10_000..20_000 {
            queue.put_nowait(i).unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(
            queue.statistics(),
            QueueStatistics {
                items: 20_000,
                maxsize: 0,
                getters: 0,
                reserved: 0,
                putters: 0,
                unfinished: 20_000,
                shut_down: false
            }
        );
        for i in 0..20_000 {
            assert_eq!(queue.get_nowait(), Ok(i));
        }
    });
}

#[test]
fn blocked_putters_resume_in_fifo_order() {
    run(async {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0).unwrap();
        let resumed = Log::new();
        // Putter i arrives after 5 - i ms: they queue in the order 4, 3, 2, 1.
        let putters: Vec<_> = (1..=4u64)
            .map(|i| {
                let (queue, resumed) = (Arc::clone(&queue), resumed.clone());
                glass::spawn(async move {
                    glass::sleep(ms(5 - i)).await;
                    queue.put(i).await.unwrap();
                    resumed.push(i);
                })
            })
            .collect();
        glass::sleep(ms(10)).await;
        assert_eq!(queue.statistics().putters, 4);
        assert!(queue.full());
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(within(queue.get()).await.unwrap());
            settle().await;
        }
        assert_eq!(got, [0, 4, 3, 2, 1]);
        assert_eq!(resumed.get(), [4, 3, 2, 1]);
        within(glass::gather_all(putters)).await;
    });
}

#[test]
fn waiting_getters_receive_items_in_arrival_order() {
    run(async {
        let queue = Arc::new(Queue::new(0));
        // Getter i arrives after 5 - i ms: they queue in the order 3, 2, 1, 0.
        let getters: Vec<_> = (0..4u64)
            .map(|i| {
                let queue = Arc::clone(&queue);
                glass::spawn(async move {
                    glass::sleep(ms(5 - i)).await;
                    queue.get().await.unwrap()
                })
            })
            .collect();
        glass::sleep(ms(10)).await;
        assert_eq!(queue.statistics().getters, 4);
        for item in 10..14 {
            queue.put_nowait(item).unwrap();
        }
        assert_eq!(within(glass::gather_all(getters)).await, [13, 12, 11, 10]);
    });
}

#[test]
fn a_new_get_never_takes_an_item_ahead_of_a_waiting_getter() {
    run(async {
        let queue = Arc::new(Queue::new(0));
        let waiter = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.get().await }
        });
        settle().await;
        assert_eq!(queue.statistics().getters, 1);
        queue.put_nowait(1).unwrap(); // reserved for `waiter`, which has not run yet
        assert_eq!(queue.qsize(), 1); // it waits in the queue, as in asyncio
        assert_eq!(queue.get_nowait(), Err(GetError::Empty));
        let mut mine = Box::pin(queue.get());
        assert!(poll_once(&mut mine).await.is_pending(), "get barged in");
        queue.put_nowait(2).unwrap();
        assert_eq!(within(waiter).await, Ok(1));
        assert_eq!(within(mine).await, Ok(2));
    });
}

#[test]
fn join_waits_until_every_item_is_marked_done() {
    run(async {
        let queue = Arc::new(Queue::new(0));
        let mut join = Box::pin(queue.join());
        assert!(poll_once(&mut join).await.is_ready(), "nothing was put");
        for item in 1..=3 {
            queue.put_nowait(item).unwrap();
        }
        let joiner = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.join().await }
        });
        settle().await;
        for _ in 0..3 {
            within(queue.get()).await.unwrap();
        }
        settle().await;
        assert!(!joiner.is_finished(), "taking items does not finish them");
        queue.task_done();
        queue.task_done();
        settle().await;
        assert!(!joiner.is_finished());
        assert_eq!(queue.statistics().unfinished, 1);
        queue.task_done();
        within(joiner).await;
        assert_eq!(queue.statistics().unfinished, 0);
    });
}

#[test]
fn task_done_called_more_times_than_items_were_put_panics_and_says_so() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    queue.get_nowait().unwrap();
    queue.task_done();
    let payload = std::panic::catch_unwind(AssertUnwindSafe(|| queue.task_done()))
        .expect_err("a second task_done for one item must panic");
    let message = panic_message(payload.as_ref());
    assert!(
        message.contains("task_done") && message.contains("more times"),
        "unclear message: {message}"
    );
    // The queue is still usable.
    queue.put_nowait(2).unwrap();
    assert_eq!(queue.statistics().unfinished, 1);
}

#[test]
fn shutdown_fails_blocked_putters_with_their_item_and_lets_getters_drain_the_rest() {
    run(async {
        let queue = Arc::new(Queue::new(2));
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        let putter = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.put(3).await }
        });
        settle().await;
        assert_eq!(queue.statistics().putters, 1);
        queue.shutdown(false);
        assert!(queue.is_shut_down());
        match within(putter).await {
            Err(PutError::ShutDown(3)) => {}
            other => panic!("the blocked putter got {other:?}, not ShutDown(3)"),
        }
        assert!(matches!(queue.put_nowait(4), Err(PutError::ShutDown(4))));
        assert!(matches!(
            within(queue.put(5)).await,
            Err(PutError::ShutDown(5))
        ));
        // What was in the queue can still be taken, then the queue says it is shut down.
        assert_eq!(within(queue.get()).await, Ok(1));
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(within(queue.get()).await, Err(GetError::ShutDown));
        assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
        assert_eq!(queue.statistics().putters, 0);

        // Getters blocked on an empty queue wake up with ShutDown.
        let queue = Arc::new(Queue::<u32>::new(0));
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                glass::spawn(async move { queue.get().await })
            })
            .collect();
        settle().await;
        assert_eq!(queue.statistics().getters, 2);
        queue.shutdown(false);
        assert_eq!(
            within(glass::gather_all(getters)).await,
            [Err(GetError::ShutDown), Err(GetError::ShutDown)]
        );
    });
}

#[test]
fn immediate_shutdown_drops_the_items_counts_them_done_and_wakes_every_waiter() {
    run(async {
        let dropped = Log::new();
        let item = |id| Tracked {
            id,
            dropped: dropped.clone(),
        };
        let queue = Rc::new(Queue::new(2));
        assert!(queue.put_nowait(item(1)).is_ok());
        let taken = queue.get_nowait().unwrap(); // taken, not yet done
        assert!(queue.put_nowait(item(2)).is_ok());
        assert!(queue.put_nowait(item(3)).is_ok());
        let putter = glass::spawn({
            let queue = Rc::clone(&queue);
            let item = item(4);
            async move { queue.put(item).await.map_err(|error| error.into_inner().id) }
        });
        let joiner = glass::spawn({
            let queue = Rc::clone(&queue);
            async move { queue.join().await }
        });
        settle().await;
        let stats = queue.statistics();
        assert_eq!((stats.items, stats.putters, stats.unfinished), (2, 1, 3));
        queue.shutdown(true);
        assert_eq!(
            dropped.get(),
            [2, 3],
            "the queued items are dropped at once"
        );
        assert_eq!(queue.qsize(), 0);
        assert_eq!(within(putter).await, Err(4));
        settle().await;
        assert!(
            !joiner.is_finished(),
            "item 1 was taken and is not done yet"
        );
        assert_eq!(queue.statistics().unfinished, 1);
        queue.task_done();
        within(joiner).await;
        drop(taken);
        assert!(matches!(within(queue.get()).await, Err(GetError::ShutDown)));
        assert!(matches!(
            queue.put_nowait(item(5)),
            Err(PutError::ShutDown(_))
        ));

        // Blocked getters wake up with ShutDown.
        let queue = Arc::new(Queue::<u32>::new(0));
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                glass::spawn(async move { queue.get().await })
            })
            .collect();
        settle().await;
        queue.shutdown(true);
        assert_eq!(
            within(glass::gather_all(getters)).await,
            [Err(GetError::ShutDown), Err(GetError::ShutDown)]
        );

        // join returns once the dropped items are counted done.
        let queue = Arc::new(Queue::new(0));
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        let joiner = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.join().await }
        });
        settle().await;
        queue.shutdown(true);
        within(joiner).await;
    });
}

#[test]
fn nowait_operations_report_full_empty_and_shut_down() {
    let queue = Queue::new(1);
    assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    queue.put_nowait("a").unwrap();
    assert!(queue.full());
    match queue.put_nowait("b") {
        Err(PutError::Full(item)) => assert_eq!(item, "b"),
        other => panic!("put_nowait on a full queue gave {other:?}"),
    }
    assert_eq!(queue.put_nowait("c").unwrap_err().into_inner(), "c");
    queue.shutdown(false);
    match queue.put_nowait("d") {
        Err(PutError::ShutDown(item)) => assert_eq!(item, "d"),
        other => panic!("put_nowait on a shut-down queue gave {other:?}"),
    }
    assert_eq!(queue.put_nowait("e").unwrap_err().into_inner(), "e");
    assert_eq!(queue.get_nowait(), Ok("a"));
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
}

#[test]
fn queue_errors_say_what_happened() {
    struct NotDebug;
    let full = PutError::Full(NotDebug);
    let shut = PutError::ShutDown(NotDebug);
    assert!(full.to_string().contains("full"), "{full}");
    assert!(shut.to_string().contains("shut down"), "{shut}");
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert_eq!(format!("{shut:?}"), "ShutDown(..)");
    assert!(GetError::Empty.to_string().contains("empty"));
    assert!(GetError::ShutDown.to_string().contains("shut down"));
    let errors: Vec<Box<dyn std::error::Error>> = vec![
        Box::new(PutError::Full(1)),
        Box::new(PutError::ShutDown(1)),
        Box::new(GetError::Empty),
        Box::new(GetError::ShutDown),
    ];
    assert!(errors.iter().all(|error| !error.to_string().is_empty()));
}

#[test]
fn a_getter_cancelled_after_it_was_handed_an_item_passes_it_to_the_next_getter() {
    run(async {
        let queue = Arc::new(Queue::new(0));
        let spawn_get = || {
            let queue = Arc::clone(&queue);
            glass::spawn(async move { queue.get().await })
        };
        let first = spawn_get();
        let second = spawn_get();
        settle().await;
        assert_eq!(queue.statistics().getters, 2);
        queue.put_nowait(7).unwrap(); // handed to `first`
        assert_eq!(queue.statistics().getters, 1);
        first.cancel();
        assert!(within(first.join()).await.unwrap_err().is_cancelled());
        assert_eq!(within(second).await, Ok(7));
        let stats = queue.statistics();
        assert_eq!((stats.items, stats.getters, stats.unfinished), (0, 0, 1));

        // With nobody else waiting, the item goes back into the queue.
        let lone = spawn_get();
        settle().await;
        queue.put_nowait(8).unwrap();
        lone.cancel();
        assert!(within(lone.join()).await.unwrap_err().is_cancelled());
        assert_eq!(queue.get_nowait(), Ok(8));
    });
}

#[test]
fn a_get_dropped_after_it_was_handed_an_item_puts_it_back_at_the_front() {
    run(async {
        let queue = Queue::new(0);
        let mut mine = Box::pin(queue.get());
        assert!(poll_once(&mut mine).await.is_pending());
        queue.put_nowait(1).unwrap(); // handed to `mine`
        queue.put_nowait(2).unwrap(); // queued
        drop(mine);
        assert_eq!((queue.get_nowait(), queue.get_nowait()), (Ok(1), Ok(2)));

        let lifo = LifoQueue::new(0);
        let mut mine = Box::pin(lifo.get());
        assert!(poll_once(&mut mine).await.is_pending());
        lifo.put_nowait(1).unwrap();
        lifo.put_nowait(2).unwrap();
        drop(mine);
        // Nothing was taken: the LIFO queue still gives the newest first.
        assert_eq!((lifo.get_nowait(), lifo.get_nowait()), (Ok(2), Ok(1)));

        let priority = PriorityQueue::new(0);
        let mut mine = Box::pin(priority.get());
        assert!(poll_once(&mut mine).await.is_pending());
        priority.put_nowait(5).unwrap();
        priority.put_nowait(9).unwrap();
        drop(mine);
        assert_eq!(
            (priority.get_nowait(), priority.get_nowait()),
            (Ok(5), Ok(9))
        );
        assert_eq!(priority.statistics().unfinished, 2);
    });
}

#[test]
fn a_getter_dropped_after_it_was_handed_an_item_never_overfills_the_queue() {
    run(async {
        let queue = Queue::new(1);
        let mut mine = Box::pin(queue.get());
        assert!(poll_once(&mut mine).await.is_pending());
        queue.put_nowait(1).unwrap(); // handed to `mine`
        let second_went_in = queue.put_nowait(2).is_ok();
        drop(mine); // item 1 goes back into the queue
        assert!(
            queue.qsize() <= queue.maxsize(),
            "a queue of maxsize {} holds {} items",
            queue.maxsize(),
            queue.qsize()
        );
        // Nothing is lost either way.
        assert_eq!(queue.get_nowait(), Ok(1));
        assert_eq!(queue.get_nowait().is_ok(), second_went_in);
    });
}

#[test]
fn getters_that_leave_before_being_served_keep_the_others_in_order() {
    run(async {
        let queue = Arc::new(Queue::new(0));
        let spawn_get = || {
            let queue = Arc::clone(&queue);
            glass::spawn(async move { queue.get().await })
        };
        let a = spawn_get();
        let b = spawn_get();
        let c = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { glass::wait_for(queue.get(), ms(5)).await.is_err() }
        });
        let d = spawn_get();
        settle().await;
        assert_eq!(queue.statistics().getters, 4);
        b.cancel();
        assert!(within(b.join()).await.unwrap_err().is_cancelled());
        assert_eq!(queue.statistics().getters, 3);
        glass::sleep(ms(10)).await;
        assert!(within(c).await, "c should have timed out");
        assert_eq!(queue.statistics().getters, 2);
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        assert_eq!(within(a).await, Ok(1));
        assert_eq!(within(d).await, Ok(2));
        assert_eq!(queue.qsize(), 0);
    });
}

#[test]
fn a_putter_that_leaves_before_its_item_went_in_drops_it_and_the_others_keep_their_order() {
    run(async {
        let dropped = Log::new();
        let item = |id| Tracked {
            id,
            dropped: dropped.clone(),
        };
        let queue = Rc::new(Queue::new(1));
        assert!(queue.put_nowait(item(0)).is_ok());
        let spawn_put = |item: Tracked| {
            let queue = Rc::clone(&queue);
            glass::spawn(async move { queue.put(item).await.is_ok() })
        };
        let a = spawn_put(item(1));
        let b = glass::spawn({
            let queue = Rc::clone(&queue);
            let item = item(2);
            async move { glass::wait_for(queue.put(item), ms(5)).await.is_err() }
        });
        let c = spawn_put(item(3));
        let d = spawn_put(item(4));
        settle().await;
        assert_eq!(queue.statistics().putters, 4);
        d.cancel();
        assert!(within(d.join()).await.unwrap_err().is_cancelled());
        assert_eq!(queue.statistics().putters, 3);
        assert_eq!(dropped.get(), [4]);
        glass::sleep(ms(10)).await;
        assert!(within(b).await, "b should have timed out");
        assert_eq!(queue.statistics().putters, 2);
        assert_eq!(dropped.get(), [4, 2]);
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(within(queue.get()).await.unwrap().id);
            settle().await;
        }
        assert_eq!(got, [0, 1, 3]);
        assert!(within(a).await && within(c).await);
        assert_eq!(queue.statistics().putters, 0);
    });
}

#[test]
fn a_putter_cancelled_after_its_item_went_in_leaves_the_item_in_the_queue() {
    run(async {
        let dropped = Log::new();
        let item = |id| Tracked {
            id,
            dropped: dropped.clone(),
        };
        let queue = Rc::new(Queue::new(1));
        assert!(queue.put_nowait(item(0)).is_ok());
        let putter = glass::spawn({
            let queue = Rc::clone(&queue);
            let item = item(1);
            async move { queue.put(item).await.is_ok() }
        });
        settle().await;
        assert_eq!(queue.statistics().putters, 1);
        assert_eq!(queue.get_nowait().unwrap().id, 0); // item 1 moves in
        let stats = queue.statistics();
        assert_eq!((stats.items, stats.putters, stats.unfinished), (1, 0, 2));
        putter.cancel();
        assert!(within(putter.join()).await.unwrap_err().is_cancelled());
        assert_eq!(dropped.get(), [0], "item 1 must not be dropped");
        assert_eq!(queue.get_nowait().unwrap().id, 1);
    });
}

#[test]
fn an_item_returned_by_a_cancelled_getter_after_immediate_shutdown_is_dropped() {
    run(async {
        let dropped = Log::new();
        let queue = Rc::new(Queue::new(0));
        let getter = glass::spawn({
            let queue = Rc::clone(&queue);
            async move { queue.get().await.map(|item: Tracked| item.id) }
        });
        settle().await;
        assert!(queue
            .put_nowait(Tracked {
                id: 1,
                dropped: dropped.clone(),
            })
            .is_ok()); // handed to `getter`
        queue.shutdown(true);
        getter.cancel(); // the getter never takes its item
        assert!(within(getter.join()).await.unwrap_err().is_cancelled());
        // "With immediate, nothing is left": the item must not come back.
        assert_eq!(queue.qsize(), 0, "the returned item is back in the queue");
        assert_eq!(dropped.get(), [1]);
        within(queue.join()).await;
    });
}

#[test]
fn a_priority_queue_gives_the_smallest_item_first() {
    run(async {
        let queue = Arc::new(PriorityQueue::new(0));
        for item in [5, 1, 4, 2, 3] {
            queue.put_nowait(item).unwrap();
        }
        let got: Vec<_> = (0..5).map(|_| queue.get_nowait().unwrap()).collect();
        assert_eq!(got, [1, 2, 3, 4, 5]);

        // A blocked putter's item takes its place by priority once room is made.
        let queue = Arc::new(PriorityQueue::new(2));
        queue.put_nowait(5).unwrap();
        queue.put_nowait(3).unwrap();
        let putter = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.put(1).await.unwrap() }
        });
        settle().await;
        assert_eq!(queue.statistics().putters, 1);
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(within(queue.get()).await.unwrap());
        }
        assert_eq!(got, [3, 1, 5]);
        within(putter).await;

        // A woken getter takes the smallest item when it runs, as in asyncio: the item
        // put after it was woken, but before it ran, comes first.
        let getter = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.get().await.unwrap() }
        });
        settle().await;
        queue.put_nowait(9).unwrap();
        queue.put_nowait(0).unwrap();
        assert_eq!(within(getter).await, 0);
        assert_eq!(queue.get_nowait(), Ok(9));
    });
}

#[test]
fn a_lifo_queue_gives_the_newest_item_first() {
    run(async {
        let queue = Arc::new(LifoQueue::new(0));
        for item in 1..=3 {
            queue.put_nowait(item).unwrap();
        }
        let got: Vec<_> = (0..3).map(|_| queue.get_nowait().unwrap()).collect();
        assert_eq!(got, [3, 2, 1]);

        // A blocked putter's item goes on top once room is made.
        let queue = Arc::new(LifoQueue::new(2));
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        let putter = glass::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.put(3).await.unwrap() }
        });
        settle().await;
        assert_eq!(queue.statistics().putters, 1);
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(within(queue.get()).await.unwrap());
        }
        assert_eq!(got, [2, 3, 1]);
        within(putter).await;

        // Blocked getters are woken in arrival order, and each takes the newest item
        // when it runs, as in asyncio.
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                glass::spawn(async move { queue.get().await.unwrap() })
            })
            .collect();
        settle().await;
        queue.put_nowait(7).unwrap();
        queue.put_nowait(8).unwrap();
        // Items reserved for woken getters still take room, as in asyncio.
        assert!(matches!(queue.put_nowait(9), Err(PutError::Full(9))));
        assert_eq!(within(glass::gather_all(getters)).await, [8, 7]);
        assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    });
}

// ---------------------------------------------------------------------------------
// Condition

#[test]
fn condition_wait_for_returns_once_the_predicate_holds() {
    run(async {
        let counter = Arc::new(Lock::new(0u32));
        let changed = Arc::new(Condition::new());
        let start = Instant::now();
        let consumer = glass::spawn({
            let (counter, changed) = (Arc::clone(&counter), Arc::clone(&changed));
            async move {
                let guard = counter.acquire().await;
                let guard = changed.wait_for(guard, |n| *n >= 3).await;
                (*guard, Instant::now().duration_since(start))
            }
        });
        let producer = glass::spawn({
            let (counter, changed) = (Arc::clone(&counter), Arc::clone(&changed));
            async move {
                for _ in 0..5 {
                    glass::sleep(ms(1)).await;
                    *counter.acquire().await += 1;
                    changed.notify_all();
                }
            }
        });
        assert_eq!(within(consumer).await, (3, ms(3)));
        within(producer).await;
        assert_eq!(changed.waiters(), 0);
    });
}

#[test]
fn notify_n_wakes_exactly_n_waiters() {
    run(async {
        let lock = Arc::new(Lock::new(()));
        let condition = Arc::new(Condition::new());
        let woken = Rc::new(Cell::new(0));
        let spawn_waiter = || {
            let (lock, condition, woken) =
                (Arc::clone(&lock), Arc::clone(&condition), Rc::clone(&woken));
            glass::spawn(async move {
                let guard = lock.acquire().await;
                let _guard = condition.wait(guard).await;
                woken.set(woken.get() + 1);
            })
        };
        let waiters: Vec<_> = (0..5).map(|_| spawn_waiter()).collect();
        settle().await;
        assert_eq!((condition.waiters(), woken.get()), (5, 0));
        assert_eq!(condition.statistics(), ConditionStatistics { waiters: 5 });
        condition.notify(2);
        settle().await;
        assert_eq!((condition.waiters(), woken.get()), (3, 2));
        condition.notify(1);
        settle().await;
        assert_eq!((condition.waiters(), woken.get()), (2, 3));
        condition.notify_all();
        within(glass::gather_all(waiters)).await;
        assert_eq!((condition.waiters(), woken.get()), (0, 5));

        // A notification nobody waits for is not kept for later.
        condition.notify(10);
        let late = spawn_waiter();
        glass::sleep(ms(10)).await;
        assert!(!late.is_finished());
        assert_eq!(condition.waiters(), 1);
        condition.notify(1);
        within(late).await;
        assert_eq!(woken.get(), 6);
    });
}

#[test]
fn condition_wait_releases_the_lock_while_waiting_and_takes_it_back_after() {
    run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let condition = Arc::new(Condition::new());
        let waiter = glass::spawn({
            let (lock, condition) = (Arc::clone(&lock), Arc::clone(&condition));
            async move {
                let mut guard = lock.acquire().await;
                guard.push("waiter waits");
                let mut guard = condition.wait(guard).await;
                guard.push("waiter woke");
            }
        });
        settle().await;
        assert!(!lock.locked(), "wait() must release the lock");
        {
            let mut guard = lock.try_acquire().expect("wait() must release the lock");
            guard.push("main");
            condition.notify(1);
            settle().await;
            // Notified, the waiter now waits for the lock, which main holds.
            assert!(!waiter.is_finished());
            assert_eq!(lock.statistics().waiters, 1);
        }
        within(waiter).await;
        assert_eq!(
            *lock.try_acquire().unwrap(),
            ["waiter waits", "main", "waiter woke"]
        );
    });
}

#[test]
fn a_notification_given_to_a_waiter_that_is_then_dropped_passes_to_the_next() {
    run(async {
        let lock = Arc::new(Lock::new(()));
        let condition = Arc::new(Condition::new());
        let woken = Log::new();
        let spawn_waiter = |name: &'static str| {
            let (lock, condition, woken) =
                (Arc::clone(&lock), Arc::clone(&condition), woken.clone());
            glass::spawn(async move {
                let guard = lock.acquire().await;
                let _guard = condition.wait(guard).await;
                woken.push(name);
            })
        };
        let a = spawn_waiter("a");
        let b = spawn_waiter("b");
        settle().await;
        assert_eq!(condition.waiters(), 2);
        condition.notify(1); // handed to `a`
        assert_eq!(condition.waiters(), 1);
        a.cancel();
        assert!(within(a.join()).await.unwrap_err().is_cancelled());
        within(b).await;
        assert_eq!(woken.get(), ["b"]);

        // The same with a wait future dropped after one poll.
        let guard = within(lock.acquire()).await;
        let mut mine = Box::pin(condition.wait(guard));
        assert!(poll_once(&mut mine).await.is_pending());
        assert!(!lock.locked());
        let c = spawn_waiter("c");
        settle().await;
        assert_eq!(condition.waiters(), 2);
        condition.notify(1); // handed to `mine`
        drop(mine);
        within(c).await;
        assert_eq!(woken.get(), ["b", "c"]);
        assert_eq!(condition.waiters(), 0);
        assert!(!lock.locked());
    });
}

// ---------------------------------------------------------------------------------
// Barrier

#[test]
fn a_barrier_releases_nobody_until_every_party_has_arrived() {
    run(async {
        let barrier = Arc::new(Barrier::new(3));
        let spawn_wait = || {
            let barrier = Arc::clone(&barrier);
            glass::spawn(async move { barrier.wait().await })
        };
        let first = spawn_wait();
        let second = spawn_wait();
        glass::sleep(ms(100)).await;
        assert!(!first.is_finished() && !second.is_finished());
        assert_eq!(
            barrier.statistics(),
            BarrierStatistics {
                parties: 3,
                waiting: 2
            }
        );
        let last = within(barrier.wait()).await;
        assert!(last.is_leader());
        assert_eq!(last.index(), 2);
        let (first, second) = (within(first).await, within(second).await);
        assert!(!first.is_leader() && !second.is_leader());
        assert_eq!((first.index(), second.index()), (0, 1));
        assert_eq!(barrier.statistics().waiting, 0);
    });
}

#[test]
fn a_barrier_elects_the_last_arrival_as_leader_and_numbers_arrivals_in_order() {
    run(async {
        let barrier = Arc::new(Barrier::new(4));
        // Task i arrives after 4 - i ms: in the order 3, 2, 1, 0.
        let tasks: Vec<_> = (0..4u64)
            .map(|i| {
                let barrier = Arc::clone(&barrier);
                glass::spawn(async move {
                    glass::sleep(ms(4 - i)).await;
                    let result = barrier.wait().await;
                    (result.index(), result.is_leader())
                })
            })
            .collect();
        assert_eq!(
            within(glass::gather_all(tasks)).await,
            [(3, true), (2, false), (1, false), (0, false)]
        );
    });
}

#[test]
fn a_barrier_can_be_used_for_several_rounds() {
    run(async {
        const ROUNDS: usize = 5;
        let barrier = Arc::new(Barrier::new(3));
        let log = Log::new();
        let tasks: Vec<_> = (0..3u64)
            .map(|id| {
                let (barrier, log) = (Arc::clone(&barrier), log.clone());
                glass::spawn(async move {
                    for round in 0..ROUNDS {
                        glass::sleep(ms(id + 1)).await;
                        let result = barrier.wait().await;
                        log.push((round, id, result.index(), result.is_leader()));
                    }
                })
            })
            .collect();
        within(glass::gather_all(tasks)).await;
        let log = log.get();
        assert_eq!(log.len(), 3 * ROUNDS);
        for (round, entries) in log.chunks(3).enumerate() {
            // Nobody starts round r + 1 before everyone has left round r.
            assert!(entries.iter().all(|entry| entry.0 == round), "{log:?}");
            let mut indices: Vec<_> = entries.iter().map(|entry| (entry.1, entry.2)).collect();
            indices.sort();
            // Task id arrives id + 1 ms after the barrier tripped: index == id.
            assert_eq!(indices, [(0, 0), (1, 1), (2, 2)], "{log:?}");
            let leaders: Vec<_> = entries.iter().filter(|entry| entry.3).collect();
            assert_eq!(leaders.len(), 1, "{log:?}");
            assert_eq!(leaders[0].1, 2, "the last to arrive leads: {log:?}");
        }
    });
}

#[test]
fn a_waiter_dropped_before_the_barrier_trips_no_longer_counts() {
    run(async {
        let barrier = Arc::new(Barrier::new(3));
        let spawn_wait = || {
            let barrier = Arc::clone(&barrier);
            glass::spawn(async move { barrier.wait().await })
        };
        let a = spawn_wait();
        let timed_out = glass::spawn({
            let barrier = Arc::clone(&barrier);
            async move { glass::wait_for(barrier.wait(), ms(5)).await.is_err() }
        });
        settle().await;
        assert_eq!(barrier.statistics().waiting, 2);
        glass::sleep(ms(10)).await;
        assert!(within(timed_out).await);
        assert_eq!(barrier.statistics().waiting, 1);

        let cancelled = spawn_wait();
        settle().await;
        assert_eq!(barrier.statistics().waiting, 2);
        cancelled.cancel();
        assert!(within(cancelled.join()).await.unwrap_err().is_cancelled());
        assert_eq!(barrier.statistics().waiting, 1);

        let mut mine = Box::pin(barrier.wait());
        assert!(poll_once(&mut mine).await.is_pending());
        assert_eq!(barrier.statistics().waiting, 2);
        drop(mine);
        assert_eq!(barrier.statistics().waiting, 1);

        // Three left; `a` still waits for two more.
        let d = spawn_wait();
        glass::sleep(ms(10)).await;
        assert!(
            !a.is_finished() && !d.is_finished(),
            "tripped one arrival early"
        );
        let e = spawn_wait();
        let (a, d, e) = (within(a).await, within(d).await, within(e).await);
        assert_eq!((a.index(), d.index(), e.index()), (0, 1, 2));
        assert!(e.is_leader() && !a.is_leader() && !d.is_leader());
        assert_eq!(barrier.statistics().waiting, 0);
    });
}

#[test]
#[should_panic(expected = "at least one party")]
fn a_barrier_with_zero_parties_panics() {
    let _ = Barrier::new(0);
}

// ---------------------------------------------------------------------------------
// The cooperative budget

/// Spins in a task on `step`, an operation that is always ready, until another task
/// (spawned after it) gets to run and sets a flag; returns how many steps it took.
fn spin_until_another_task_runs<F, Fut>(mut step: F) -> u64
where
    F: FnMut() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    run(async move {
        let flag = Rc::new(Cell::new(false));
        let spinner = glass::spawn({
            let flag = Rc::clone(&flag);
            async move {
                let mut steps = 0u64;
                while !flag.get() {
                    step().await;
                    steps += 1;
                    assert!(steps < 1_000_000, "the other task never got to run");
                }
                steps
            }
        });
        let _setter = glass::spawn({
            let flag = Rc::clone(&flag);
            async move { flag.set(true) }
        });
        within(spinner).await
    })
}

#[test]
fn a_task_spinning_on_an_uncontended_lock_lets_other_tasks_run() {
    let lock = Arc::new(Lock::new(0u64));
    let steps = spin_until_another_task_runs({
        let lock = Arc::clone(&lock);
        move || {
            let lock = Arc::clone(&lock);
            async move { *lock.acquire().await += 1 }
        }
    });
    assert!(!lock.locked());
    assert_eq!(*lock.try_acquire().unwrap(), steps);
}

#[test]
fn a_task_spinning_on_an_uncontended_semaphore_lets_other_tasks_run() {
    let semaphore = Arc::new(Semaphore::new(1));
    spin_until_another_task_runs({
        let semaphore = Arc::clone(&semaphore);
        move || {
            let semaphore = Arc::clone(&semaphore);
            async move { drop(semaphore.acquire().await) }
        }
    });
}

#[test]
fn a_semaphore_acquire_that_runs_out_of_budget_creates_no_permits() {
    let semaphore = Arc::new(Semaphore::new(1));
    spin_until_another_task_runs({
        let semaphore = Arc::clone(&semaphore);
        move || {
            let semaphore = Arc::clone(&semaphore);
            async move { drop(semaphore.acquire().await) }
        }
    });
    assert_eq!(semaphore.available_permits(), 1, "permits were created");
}

#[test]
fn a_task_spinning_on_an_uncontended_queue_lets_other_tasks_run() {
    let queue = Arc::new(Queue::new(1));
    spin_until_another_task_runs({
        let queue = Arc::clone(&queue);
        let mut n = 0u64;
        move || {
            let queue = Arc::clone(&queue);
            n += 1;
            let item = n;
            async move {
                queue.put_nowait(item).unwrap();
                assert_eq!(queue.get().await, Ok(item));
            }
        }
    });
    assert_eq!(queue.qsize(), 0);
}

#[test]
fn a_task_spinning_on_a_set_event_or_a_one_party_barrier_lets_other_tasks_run() {
    let event = Arc::new(Event::new());
    event.set();
    spin_until_another_task_runs(move || {
        let event = Arc::clone(&event);
        async move { event.wait().await }
    });
    let barrier = Arc::new(Barrier::new(1));
    spin_until_another_task_runs(move || {
        let barrier = Arc::clone(&barrier);
        async move { assert!(barrier.wait().await.is_leader()) }
    });
}

// ---------------------------------------------------------------------------------
// Threads

/// Runs each closure on its own thread, each with its own loop (`glass::run`), and
/// fails instead of hanging when they are not all done within 30 s.
fn run_on_threads(jobs: Vec<Box<dyn FnOnce() + Send>>) {
    let threads: Vec<_> = jobs.into_iter().map(std::thread::spawn).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !threads.iter().all(|thread| thread.is_finished()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the loops are stuck (still running after 30 s)"
        );
        std::thread::sleep(ms(1));
    }
    for thread in threads {
        thread.join().expect("a loop thread panicked");
    }
}

#[test]
fn a_lock_shared_by_loops_on_two_threads_counts_exactly() {
    const TASKS: u64 = 4;
    const ROUNDS: u64 = 500;
    let lock = Arc::new(Lock::new(0u64));
    let job = |lock: Arc<Lock<u64>>| -> Box<dyn FnOnce() + Send> {
        Box::new(move || {
            glass::run(async move {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let lock = Arc::clone(&lock);
                        glass::spawn(async move {
                            for _ in 0..ROUNDS {
                                let mut guard = lock.acquire().await;
                                let seen = *guard;
                                glass::yield_now().await; // hold it across a switch
                                *guard = seen + 1;
                            }
                        })
                    })
                    .collect();
                glass::gather_all(tasks).await;
            })
        })
    };
    run_on_threads(vec![job(Arc::clone(&lock)), job(Arc::clone(&lock))]);
    assert_eq!(lock.statistics().waiters, 0);
    assert_eq!(*lock.try_acquire().unwrap(), 2 * TASKS * ROUNDS);
}

#[test]
fn a_bounded_queue_between_loops_on_two_threads_loses_nothing() {
    const ITEMS: u64 = 2_000;
    let queue = Arc::new(Queue::new(4));
    let total = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let producer: Box<dyn FnOnce() + Send> = Box::new({
        let queue = Arc::clone(&queue);
        move || {
            glass::run(async move {
                for item in 1..=ITEMS {
                    queue.put(item).await.unwrap();
                }
                queue.join().await;
                queue.shutdown(false);
            })
        }
    });
    let consumer: Box<dyn FnOnce() + Send> = Box::new({
        let (queue, total) = (Arc::clone(&queue), Arc::clone(&total));
        move || {
            glass::run(async move {
                let consumers: Vec<_> = (0..3)
                    .map(|_| {
                        let queue = Arc::clone(&queue);
                        glass::spawn(async move {
                            let mut sum = 0;
                            while let Ok(item) = queue.get().await {
                                sum += item;
                                queue.task_done();
                            }
                            sum
                        })
                    })
                    .collect();
                let sum: u64 = glass::gather_all(consumers).await.into_iter().sum();
                total.store(sum, std::sync::atomic::Ordering::SeqCst);
            })
        }
    });
    run_on_threads(vec![producer, consumer]);
    assert_eq!(
        total.load(std::sync::atomic::Ordering::SeqCst),
        ITEMS * (ITEMS + 1) / 2
    );
    let stats = queue.statistics();
    assert_eq!((stats.items, stats.getters, stats.putters), (0, 0, 0));
}

// ---------------------------------------------------------------------------------
// Send + Sync

fn assert_send_sync<T: Send + Sync>() {}

fn assert_value_send_sync<T: Send + Sync>(_: &T) {}

#[test]
fn every_primitive_guard_future_and_error_is_send_and_sync() {
    assert_send_sync::<Event>();
    assert_send_sync::<EventWait<'static>>();
    assert_send_sync::<EventStatistics>();

    assert_send_sync::<Lock>();
    assert_send_sync::<Lock<Vec<u64>>>();
    assert_send_sync::<LockGuard<'static, u64>>();
    assert_send_sync::<OwnedLockGuard<u64>>();
    assert_send_sync::<LockAcquire<'static, u64>>();
    assert_send_sync::<OwnedLockAcquire<u64>>();
    assert_send_sync::<LockStatistics>();

    assert_send_sync::<Semaphore>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_send_sync::<OwnedSemaphorePermit>();
    assert_send_sync::<SemaphoreAcquire<'static>>();
    assert_send_sync::<SemaphoreStatistics>();

    assert_send_sync::<Condition>();
    assert_send_sync::<ConditionStatistics>();

    assert_send_sync::<Barrier>();
    assert_send_sync::<BarrierWait<'static>>();
    assert_send_sync::<BarrierWaitResult>();
    assert_send_sync::<BarrierStatistics>();

    assert_send_sync::<Queue<u64>>();
    assert_send_sync::<PriorityQueue<u64>>();
    assert_send_sync::<LifoQueue<u64>>();
    assert_send_sync::<BaseQueue<u64, Fifo<u64>>>();
    assert_send_sync::<QueueStatistics>();
    assert_send_sync::<PutError<u64>>();
    assert_send_sync::<GetError>();

    // Futures whose types have no public name.
    let queue = Queue::new(0);
    assert_value_send_sync(&queue.put(1u64));
    assert_value_send_sync(&queue.get());
    assert_value_send_sync(&queue.join());
    let semaphore = Arc::new(Semaphore::new(1));
    assert_value_send_sync(&semaphore.acquire_owned());
    let lock = Lock::new(0u64);
    let condition = Condition::new();
    let wait = condition.wait(lock.try_acquire().unwrap());
    assert_value_send_sync(&wait);
    drop(wait);
    let wait_for = condition.wait_for(lock.try_acquire().unwrap(), |n| *n > 0);
    assert_value_send_sync(&wait_for);
}
