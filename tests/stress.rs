//! Stress: many tasks, many threads spawning and waking, all bounded in time.
//!
//! Each test runs under a watchdog: a hang (a lost wake-up, a deadlock) fails the test
//! after a generous real-time limit instead of hanging CI. Each takes well under a
//! second in a debug build. Results are always checked in full (sums, orders), so a
//! lost or duplicated task shows.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use futures::channel::oneshot;
use glass::time::Instant;
use glass::{sleep, yield_now, EventLoop, Handle, Task};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Helpers

/// 0 + 1 + … + (n - 1).
fn sum_below(n: u64) -> u64 {
    n * (n - 1) / 2
}

// ---------------------------------------------------------------------------------------
// Many threads, one loop

#[test]
fn four_threads_each_spawning_and_waking_two_thousand_tasks_lose_none() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 2_000;
    let total = real_clock(|| async {
        let handle = Handle::current();
        let sums: Vec<oneshot::Receiver<u64>> = (0..THREADS)
            .map(|thread| {
                let handle = handle.clone();
                let (send_sum, sum) = oneshot::channel();
                std::thread::spawn(move || {
                    let mut tasks = Vec::new();
                    let mut late_senders = Vec::new();
                    for i in 0..PER_THREAD {
                        let value = thread * PER_THREAD + i;
                        let (sender, receiver) = oneshot::channel::<u64>();
                        tasks.push(handle.spawn(async move {
                            let value = receiver.await.expect("every sender sends");
                            yield_now().await;
                            value * 2
                        }));
                        // Half the values are sent at once (often before the task's
                        // first poll), half later, to tasks already waiting.
                        if i % 2 == 0 {
                            sender.send(value).unwrap();
                        } else {
                            late_senders.push((sender, value));
                        }
                    }
                    for (sender, value) in late_senders {
                        sender.send(value).unwrap();
                    }
                    let sum: u64 = tasks.into_iter().map(Task::wait).sum();
                    let _ = send_sum.send(sum);
                });
                sum
            })
            .collect();
        let mut total = 0;
        for sum in sums {
            total += sum.await.expect("every spawning thread reports its sum");
        }
        total
    });
    assert_eq!(total, 2 * sum_below(THREADS * PER_THREAD));
}

#[test]
fn wakes_from_threads_holding_wakers_are_never_lost() {
    const THREADS: usize = 8;
    const TASKS: u64 = 8_000;
    let (outputs, loop_thread, woken_on) = real_clock(|| async {
        let mut senders: Vec<Vec<(oneshot::Sender<u64>, u64)>> =
            (0..THREADS).map(|_| Vec::new()).collect();
        let tasks: Vec<_> = (0..TASKS)
            .map(|n| {
                let (sender, receiver) = oneshot::channel();
                senders[n as usize % THREADS].push((sender, n));
                glass::spawn(async move {
                    let value = receiver.await.expect("every sender sends");
                    (value, std::thread::current().id())
                })
            })
            .collect();
        yield_now().await; // every task is now waiting on its receiver
        for mine in senders {
            std::thread::spawn(move || {
                for (sender, n) in mine.into_iter().rev() {
                    sender.send(n * 3).unwrap();
                }
            });
        }
        let outputs = glass::gather_all(tasks).await;
        let woken_on: Vec<_> = outputs.iter().map(|(_, thread)| *thread).collect();
        let values: Vec<u64> = outputs.into_iter().map(|(value, _)| value).collect();
        (values, std::thread::current().id(), woken_on)
    });
    assert_eq!(outputs, (0..TASKS).map(|n| n * 3).collect::<Vec<_>>());
    assert!(
        woken_on.iter().all(|thread| *thread == loop_thread),
        "woken from other threads, every task still runs on the loop's thread"
    );
}

#[test]
fn a_waker_woken_a_hundred_thousand_times_from_another_thread_loses_no_wake() {
    // The thread bumps a counter and wakes the task each time; the task finishes when
    // it sees the last value. It registers its waker before it reads the counter, so
    // the last wake cannot fall between the two.
    const WAKES: u64 = 100_000;
    let polls = real_clock(|| async {
        let counter = Arc::new(AtomicU64::new(0));
        let waker: Arc<Mutex<Option<Waker>>> = Arc::default();
        let waiter = {
            let (counter, waker) = (counter.clone(), waker.clone());
            glass::spawn(async move {
                let mut polls = 0_u64;
                std::future::poll_fn(|cx| {
                    polls += 1;
                    *waker.lock().unwrap() = Some(cx.waker().clone());
                    if counter.load(Ordering::SeqCst) == WAKES {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
                .await;
                polls
            })
        };
        yield_now().await; // the waiter has registered its waker
        std::thread::spawn(move || {
            for n in 1..=WAKES {
                counter.store(n, Ordering::SeqCst);
                let current = waker.lock().unwrap().clone();
                if let Some(current) = current {
                    current.wake();
                }
            }
        });
        waiter.await
    });
    // Many wakes merge while the task is already queued: far fewer polls than wakes.
    assert!((2..=WAKES + 1).contains(&polls), "{polls} polls");
}

#[test]
fn a_task_and_a_thread_ping_pong_five_thousand_times() {
    const ROUNDS: u64 = 5_000;
    let last = real_clock(|| async {
        let (to_thread, requests) = mpsc::channel::<(u64, oneshot::Sender<u64>)>();
        let thread = std::thread::spawn(move || {
            for (n, reply) in requests {
                reply.send(n + 1).unwrap();
            }
        });
        let mut n = 0;
        for _ in 0..ROUNDS {
            let (reply, answer) = oneshot::channel();
            to_thread.send((n, reply)).unwrap();
            n = answer.await.expect("the thread answers");
        }
        drop(to_thread);
        thread.join().unwrap();
        n
    });
    assert_eq!(last, ROUNDS);
}

#[test]
fn tasks_cancelled_from_other_threads_all_report_cancelled() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 1_000;
    let (cancelled, dropped) = real_clock(|| async {
        let dropped = Arc::new(AtomicUsize::new(0));
        struct CountOnDrop(Arc<AtomicUsize>);
        impl Drop for CountOnDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let handle = Handle::current();
        let mut returned = Vec::new();
        for _ in 0..THREADS {
            let tasks: Vec<Task<()>> = (0..PER_THREAD)
                .map(|_| {
                    let guard = CountOnDrop(dropped.clone());
                    handle.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    })
                })
                .collect();
            let (send_back, back) = oneshot::channel();
            // Some tasks are cancelled before their first poll, some while waiting:
            // the thread races the loop.
            std::thread::spawn(move || {
                for task in &tasks {
                    task.cancel();
                }
                let _ = send_back.send(tasks);
            });
            returned.push(back);
            yield_now().await;
        }
        let mut cancelled = 0;
        for back in returned {
            for task in back.await.expect("every thread sends its tasks back") {
                let error = task.join().await.unwrap_err();
                assert!(error.is_cancelled(), "{error}");
                cancelled += 1;
            }
        }
        (cancelled, dropped.load(Ordering::SeqCst))
    });
    assert_eq!(cancelled, THREADS * PER_THREAD);
    assert_eq!(dropped, THREADS * PER_THREAD, "every future was dropped");
}

// ---------------------------------------------------------------------------------------
// Many tasks

#[test]
fn twenty_thousand_tasks_are_spawned_and_awaited() {
    const TASKS: u64 = 20_000;
    let (sum, gathered) = paused(|| async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|n| {
                glass::spawn(async move {
                    yield_now().await;
                    n
                })
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await;
        }
        let tasks = (0..TASKS).map(|n| glass::spawn(async move { n }));
        let gathered = glass::gather_all(tasks.collect::<Vec<_>>()).await;
        (sum, gathered)
    });
    assert_eq!(sum, sum_below(TASKS));
    assert_eq!(gathered, (0..TASKS).collect::<Vec<_>>());
}

#[test]
fn twenty_thousand_sleepers_wake_in_deadline_order_at_their_deadlines() {
    const TASKS: u64 = 20_000;
    let (woken, late) = paused(|| async {
        let start = Instant::now();
        let woken = Arc::new(Mutex::new(Vec::new()));
        let late = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|n| {
                let (woken, late) = (woken.clone(), late.clone());
                let deadline = Duration::from_millis(n * 7_919 % 1_000);
                glass::spawn(async move {
                    sleep(deadline).await;
                    if start.elapsed() != deadline {
                        late.fetch_add(1, Ordering::SeqCst);
                    }
                    woken.lock().unwrap().push((deadline, n));
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(999));
        let woken = woken.lock().unwrap().clone();
        (woken, late.load(Ordering::SeqCst))
    });
    let mut expected = woken.clone();
    // Deadline order; for equal deadlines, the order the timers were armed (spawn order).
    expected.sort();
    assert_eq!(woken.len(), TASKS as usize);
    assert!(
        woken == expected,
        "the sleepers did not wake in deadline order"
    );
    assert_eq!(late, 0, "every sleeper wakes exactly at its deadline");
}

#[test]
fn thousands_of_timers_armed_and_cancelled_fire_exactly_the_live_ones_in_order() {
    // 10 000 callbacks, a third of them cancelled, interleaved with 10 000 wait_for
    // calls that win (each leaves a disarmed timer behind): exactly the live callbacks
    // fire, in deadline order (then arming order), each at its deadline.
    const TIMERS: u64 = 10_000;
    let (fired, late) = paused(|| async {
        let start = Instant::now();
        let fired = Arc::new(Mutex::new(Vec::new()));
        let late = Arc::new(AtomicUsize::new(0));
        for n in 0..TIMERS {
            let deadline = Duration::from_millis(n * 7_919 % 1_000 + 1);
            let (fired, late) = (fired.clone(), late.clone());
            let handle = glass::call_later(deadline, move || {
                if start.elapsed() != deadline {
                    late.fetch_add(1, Ordering::SeqCst);
                }
                fired.lock().unwrap().push((deadline, n));
            });
            if n % 3 == 0 {
                handle.cancel();
            }
            let won = glass::wait_for(yield_now(), Duration::from_millis(n % 500 + 1)).await;
            assert!(won.is_ok());
        }
        sleep(Duration::from_secs(2)).await;
        let fired = fired.lock().unwrap().clone();
        (fired, late.load(Ordering::SeqCst))
    });
    let mut expected: Vec<_> = (0..TIMERS)
        .filter(|n| n % 3 != 0)
        .map(|n| (Duration::from_millis(n * 7_919 % 1_000 + 1), n))
        .collect();
    expected.sort();
    assert_eq!(fired.len(), expected.len());
    assert!(
        fired == expected,
        "the live timers did not fire in deadline order"
    );
    assert_eq!(late, 0, "every callback fires exactly at its deadline");
}

// ---------------------------------------------------------------------------------------
// Many loops

#[test]
fn a_task_on_one_loop_awaits_thousands_of_tasks_on_another() {
    const TASKS: u64 = 2_000;
    let sum = watchdog(|| {
        let (send_handle, remote_handle) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let remote = std::thread::spawn(move || {
            let mut event_loop = EventLoop::new();
            send_handle.send(event_loop.handle()).unwrap();
            event_loop.run_until_complete(stopped).ok();
        });
        let remote_handle: Handle = remote_handle.recv().unwrap();
        let sum = glass::run(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|n| {
                    remote_handle.spawn(async move {
                        yield_now().await;
                        n
                    })
                })
                .collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await;
            }
            sum
        });
        stop.send(()).unwrap();
        remote.join().unwrap();
        sum
    });
    assert_eq!(sum, sum_below(TASKS));
}

#[test]
fn eight_threads_each_run_their_own_loop() {
    const THREADS: u64 = 8;
    const TASKS: u64 = 1_000;
    let sums = watchdog(|| {
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                std::thread::spawn(move || {
                    let mut event_loop = EventLoop::builder().paused_clock(true).build();
                    event_loop.run_until_complete(async move {
                        let start = Instant::now();
                        let tasks: Vec<_> = (0..TASKS)
                            .map(|n| {
                                glass::spawn(async move {
                                    sleep(Duration::from_millis(n % 10)).await;
                                    thread * TASKS + n
                                })
                            })
                            .collect();
                        let sum: u64 = glass::gather_all(tasks).await.into_iter().sum();
                        assert_eq!(start.elapsed(), Duration::from_millis(9));
                        sum
                    })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum::<u64>()
    });
    assert_eq!(sums, sum_below(THREADS * TASKS));
}
