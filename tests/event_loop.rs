//! The event loop: `run` and `run_until_complete`, closing a loop, the messages of the
//! panics that say "you are not in a loop" (or "you are already in one"), `Handle` from
//! other threads, the cooperative budget, and `gather!` / `gather_all`.
//!
//! Tests that involve time run on the paused clock and compare a transcript of what
//! happened; a failing test shows what it saw.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::oneshot;
use glass::time::{sleep_until, Instant};
use glass::{gather, gather_all, sleep, yield_now, EventLoop, Handle};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Helpers

/// Sets its flag when dropped: shows that a future's destructor has run.
struct SetOnDrop(Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Runs `f`, which must panic, and returns its panic message.
fn panic_message_of<R>(f: impl FnOnce() -> R) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic, and nothing panicked"),
        Err(payload) => panic_text(payload.as_ref()),
    }
}

/// Checks that `message` contains each of `parts`.
fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "the message should mention {part:?}; it was:\n{message}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// run, run_until_complete, and closing a loop

#[test]
fn run_returns_the_output_of_its_future() {
    let output = watchdog(|| glass::run(async { glass::spawn(async { 6 * 7 }).await }));
    assert_eq!(output, 42);
}

#[test]
fn run_drops_leftover_tasks_before_it_returns() {
    let (inside, after) = watchdog(|| {
        let waiting_dropped = Rc::new(Cell::new(false));
        let unstarted_dropped = Rc::new(Cell::new(false));
        let inside = glass::run({
            let waiting = SetOnDrop(waiting_dropped.clone());
            let unstarted = SetOnDrop(unstarted_dropped.clone());
            let (waiting_dropped, unstarted_dropped) =
                (waiting_dropped.clone(), unstarted_dropped.clone());
            async move {
                drop(glass::spawn(async move {
                    let _guard = waiting;
                    sleep(secs(3600)).await;
                }));
                yield_now().await; // it starts, and waits in its sleep
                                   // This one never gets to run at all.
                drop(glass::spawn(async move {
                    let _guard = unstarted;
                }));
                (waiting_dropped.get(), unstarted_dropped.get())
            }
        });
        (inside, (waiting_dropped.get(), unstarted_dropped.get()))
    });
    assert_eq!(inside, (false, false), "alive while the main future runs");
    assert_eq!(after, (true, true), "dropped by the time run returns");
}

#[test]
fn run_until_complete_keeps_leftover_tasks_for_the_next_call_without_running_them() {
    watchdog(|| {
        let mut event_loop = paused_loop();
        let steps = Rc::new(Cell::new(0_u32));
        let log = Rc::new(RefCell::new(Vec::new()));
        let (counter, sleeper) = event_loop.run_until_complete({
            let (steps, log) = (steps.clone(), log.clone());
            async move {
                let start = Instant::now();
                let counter = {
                    let steps = steps.clone();
                    glass::spawn(async move {
                        loop {
                            steps.set(steps.get() + 1);
                            yield_now().await;
                        }
                    })
                };
                let sleeper = glass::spawn(async move {
                    sleep(secs(1)).await;
                    log.borrow_mut()
                        .push(format!("{:?} sleeper wakes", start.elapsed()));
                });
                for _ in 0..3 {
                    yield_now().await;
                }
                assert!(steps.get() > 0, "the counter ran while the main future did");
                (counter, sleeper)
            }
        });
        let at_return = steps.get();
        // Nothing runs between calls: the leftover tasks are only kept.
        assert!(!counter.is_finished());
        assert!(!sleeper.is_finished());
        assert!(log.borrow().is_empty());

        // The next call runs them again. Its main future sees the counter as it is
        // when it completes, and no step is taken after that.
        let seen_at_end = event_loop.run_until_complete({
            let steps = steps.clone();
            async move {
                for _ in 0..10 {
                    yield_now().await;
                }
                steps.get()
            }
        });
        assert!(
            seen_at_end > at_return,
            "the counter ran during the second call"
        );
        assert_eq!(
            steps.get(),
            seen_at_end,
            "no extra step after the main future"
        );
        assert!(
            log.borrow().is_empty(),
            "no time passed while the counter was busy"
        );

        // Once the busy counter is gone, the paused clock moves and the leftover
        // sleeper wakes when it was due.
        counter.cancel();
        event_loop.run_until_complete(sleep(secs(2)));
        assert_eq!(*log.borrow(), ["1s sleeper wakes"]);
        assert!(sleeper.is_finished());
        assert!(counter.is_finished());
    });
}

#[test]
fn run_until_complete_gives_leftover_tasks_no_extra_step_when_it_returns() {
    watchdog(|| {
        let mut event_loop = paused_loop();
        let steps = Rc::new(Cell::new(0_u32));
        let seen = event_loop.run_until_complete({
            let steps = steps.clone();
            async move {
                let counter = {
                    let steps = steps.clone();
                    glass::spawn(async move {
                        loop {
                            steps.set(steps.get() + 1);
                            yield_now().await;
                        }
                    })
                };
                drop(counter); // detached; stays alive in the loop
                for _ in 0..10 {
                    yield_now().await;
                }
                steps.get()
            }
        });
        assert_eq!(steps.get(), seen);
    });
}

#[test]
fn dropping_an_event_loop_cancels_its_tasks() {
    watchdog(|| {
        let mut event_loop = paused_loop();
        let dropped = Rc::new(Cell::new(false));
        // The main future hands the Task out, unawaited, so that it outlives the loop.
        #[allow(clippy::async_yields_async)]
        let task = event_loop.run_until_complete({
            let guard = SetOnDrop(dropped.clone());
            async move {
                let task = glass::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
                yield_now().await;
                task
            }
        });
        assert!(!dropped.get());
        assert!(!task.is_finished());
        drop(event_loop);
        assert!(
            dropped.get(),
            "the task's destructor ran when the loop was dropped"
        );
        assert!(task.is_finished());
        let error = glass::run(task.join()).unwrap_err();
        assert!(error.is_cancelled(), "{error}");
    });
}

#[test]
fn tasks_spawned_by_destructors_while_a_loop_closes_are_dropped_too() {
    watchdog(|| {
        struct SpawnOnDrop(Rc<Cell<bool>>, Rc<Cell<bool>>);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let (ran, dropped) = (self.0.clone(), SetOnDrop(self.1.clone()));
                drop(glass::spawn(async move {
                    let _guard = dropped;
                    ran.set(true);
                }));
            }
        }
        let ran = Rc::new(Cell::new(false));
        let dropped = Rc::new(Cell::new(false));
        let guard = SpawnOnDrop(ran.clone(), dropped.clone());
        glass::run(async move {
            drop(glass::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            yield_now().await;
        });
        assert!(dropped.get(), "the task spawned while closing was dropped");
        assert!(
            !ran.get(),
            "a task spawned while the loop closes never runs"
        );
    });
}

#[test]
fn a_panic_in_the_main_future_propagates_and_still_drops_the_leftover_tasks() {
    watchdog(|| {
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(dropped.clone());
        let message = panic_message_of(|| {
            glass::run(async move {
                drop(glass::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
                yield_now().await;
                panic!("main boom");
            })
        });
        assert_eq!(message, "main boom");
        assert!(dropped.get());
        // The thread is left without a loop, and can run a new one.
        assert!(Handle::try_current().is_none());
        assert_eq!(glass::run(async { 5 }), 5);
    });
}

#[test]
fn a_loop_can_run_several_futures_one_after_another() {
    watchdog(|| {
        let mut event_loop = paused_loop();
        let start = event_loop.run_until_complete(async { Instant::now() });
        event_loop.run_until_complete(sleep(secs(1)));
        let elapsed = event_loop.run_until_complete(async move {
            sleep(secs(1)).await;
            start.elapsed()
        });
        assert_eq!(elapsed, secs(2), "the loop keeps its clock between calls");
    });
}

#[test]
fn block_on_runs_a_future_on_a_plain_thread() {
    watchdog(|| {
        assert_eq!(glass::block_on(async { 3 }), 3);
        // Woken from another thread.
        let (sender, receiver) = oneshot::channel();
        std::thread::spawn(move || sender.send("from a thread"));
        assert_eq!(glass::block_on(receiver), Ok("from a thread"));
    });
}

// ---------------------------------------------------------------------------------------
// Panics that say where you are

#[test]
fn run_inside_a_running_loop_panics_with_a_message_that_says_to_await() {
    let (from_run, from_run_until_complete) = paused(|| async {
        let from_run = panic_message_of(|| glass::run(async { 1 }));
        let from_run_until_complete =
            panic_message_of(|| EventLoop::new().run_until_complete(async { 1 }));
        // The running loop is unharmed.
        let start = Instant::now();
        sleep(secs(1)).await;
        assert_eq!(glass::spawn(async { 2 }).await, 2);
        assert_eq!(start.elapsed(), secs(1));
        (from_run, from_run_until_complete)
    });
    assert_mentions(&from_run, &["glass::run", "already running", "await"]);
    assert_mentions(
        &from_run_until_complete,
        &["run_until_complete", "already running", "await"],
    );
}

#[test]
fn spawn_outside_a_loop_panics_with_a_message_that_says_what_to_do() {
    let message = watchdog(|| panic_message_of(|| glass::spawn(async {})));
    assert_mentions(
        &message,
        &[
            "glass::spawn",
            "outside a running event loop",
            "glass::run",
            "Handle::spawn",
        ],
    );
    let message =
        watchdog(|| panic_message_of(|| glass::task::Builder::new().name("x").spawn(async {})));
    assert_mentions(&message, &["outside a running event loop"]);
}

#[test]
fn sleep_awaited_outside_a_loop_panics_with_a_message_that_says_what_to_do() {
    let message =
        watchdog(|| panic_message_of(|| glass::block_on(sleep(Duration::from_millis(1)))));
    assert_mentions(
        &message,
        &["sleep", "outside a running event loop", "glass::run"],
    );
    let message = watchdog(|| {
        panic_message_of(|| glass::block_on(glass::wait_for(std::future::pending::<()>(), secs(1))))
    });
    assert_mentions(&message, &["outside a running event loop"]);
}

#[test]
fn handle_current_outside_a_loop_panics_and_try_current_is_none() {
    let message = watchdog(|| {
        assert!(Handle::try_current().is_none());
        panic_message_of(Handle::current)
    });
    assert_mentions(
        &message,
        &[
            "Handle::current",
            "outside a running event loop",
            "glass::run",
        ],
    );
    let inside = paused(|| async { Handle::try_current().is_some() });
    assert!(inside);
}

#[test]
fn call_soon_and_call_later_outside_a_loop_panic_with_a_message() {
    let message = watchdog(|| panic_message_of(|| glass::call_soon(|| {})));
    assert_mentions(
        &message,
        &[
            "call_soon",
            "outside a running event loop",
            "call_soon_threadsafe",
        ],
    );
    let message = watchdog(|| panic_message_of(|| glass::call_later(secs(1), || {})));
    assert_mentions(&message, &["call_later", "outside a running event loop"]);
}

#[test]
fn callbacks_and_new_tasks_share_one_fifo_ready_queue() {
    // As in asyncio, a task's next step and a plain callback wait in the same queue.
    let seen = paused(|| async {
        let log = Transcript::new();
        let callback = |what: &'static str| {
            let log = log.clone();
            move || log.log(what)
        };
        glass::call_soon(callback("1st callback"));
        let task = {
            let log = log.clone();
            glass::spawn(async move { log.log("task starts") })
        };
        glass::call_soon(callback("2nd callback"));
        log.log("main yields");
        yield_now().await;
        log.log("main resumes");
        task.await;
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns main yields",
            "0ns 1st callback",
            "0ns task starts",
            "0ns 2nd callback",
            "0ns main resumes"
        ]
    );
}

#[test]
fn a_panicking_callback_does_not_stop_the_loop() {
    let seen = paused(|| async {
        let log = Transcript::new();
        glass::call_soon(|| panic!("callback boom"));
        {
            let log = log.clone();
            glass::call_soon(move || log.log("next callback runs"));
        }
        glass::call_later(secs(1), || panic!("timer callback boom"));
        {
            let log = log.clone();
            glass::call_later(secs(2), move || log.log("next timer runs"));
        }
        sleep(secs(3)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(
        seen,
        ["0ns next callback runs", "2s next timer runs", "3s end"]
    );
}

// ---------------------------------------------------------------------------------------
// Handle: other threads

#[test]
fn call_soon_threadsafe_from_another_thread_runs_on_the_loop_in_order() {
    let (order, ran_on, loop_thread) = paused(|| async {
        let handle = Handle::current();
        let order = Arc::new(Mutex::new(Vec::new()));
        let (sender, all_ran) = oneshot::channel();
        {
            let order = order.clone();
            std::thread::spawn(move || {
                for n in 0..100 {
                    let order = order.clone();
                    handle.call_soon_threadsafe(move || order.lock().unwrap().push(n));
                }
                handle.call_soon_threadsafe(move || {
                    let _ = sender.send(std::thread::current().id());
                });
            });
        }
        let ran_on = all_ran.await.unwrap();
        let order = order.lock().unwrap().clone();
        (order, ran_on, std::thread::current().id())
    });
    assert_eq!(ran_on, loop_thread, "callbacks run on the loop's thread");
    assert_eq!(
        order,
        (0..100).collect::<Vec<_>>(),
        "in the order they were sent"
    );
}

#[test]
fn handle_spawn_from_another_thread_runs_the_task_on_the_loop() {
    let (value, ran_on, loop_thread) = paused(|| async {
        let handle = Handle::current();
        let task = std::thread::spawn(move || {
            handle.spawn(async {
                sleep(secs(1)).await;
                (7, std::thread::current().id())
            })
        })
        .join()
        .unwrap();
        let (value, ran_on) = task.await;
        (value, ran_on, std::thread::current().id())
    });
    assert_eq!(value, 7);
    assert_eq!(ran_on, loop_thread);
}

#[test]
fn a_task_spawned_through_a_handle_before_the_loop_runs_runs_at_the_next_call() {
    watchdog(|| {
        let mut event_loop = paused_loop();
        let handle = event_loop.handle();
        let task = std::thread::spawn(move || handle.spawn(async { "waited in the inbox" }))
            .join()
            .unwrap();
        assert_eq!(event_loop.run_until_complete(task), "waited in the inbox");
    });
}

#[test]
fn handle_spawn_after_the_loop_closed_gives_a_cancelled_task() {
    watchdog(|| {
        let handle = paused_loop().handle(); // the loop is dropped: closed
        let task = handle.spawn(async { 1 });
        assert!(task.is_finished());
        let error = glass::block_on(task.join()).unwrap_err();
        assert!(error.is_cancelled(), "{error}");
    });
}

#[test]
fn call_soon_threadsafe_after_the_loop_closed_panics_with_a_message() {
    let message = watchdog(|| {
        let handle = paused_loop().handle();
        panic_message_of(|| handle.call_soon_threadsafe(|| {}))
    });
    assert_mentions(&message, &["call_soon_threadsafe", "closed"]);
}

// ---------------------------------------------------------------------------------------
// The cooperative budget

/// A safety net: a spinning loop that reaches this many rounds has starved the others.
const SPIN_LIMIT: u32 = 1_000_000;

/// Awaits `make_leaf()` over and over until `stop` is set, counting the rounds; panics
/// (failing the test) if the spin goes on for [`SPIN_LIMIT`] rounds.
async fn spin_until<L: Future>(stop: Rc<Cell<bool>>, make_leaf: impl Fn() -> L) -> u32 {
    let mut rounds = 0;
    while !stop.get() {
        make_leaf().await;
        rounds += 1;
        assert!(
            rounds < SPIN_LIMIT,
            "the spinning task was never made to yield: it starved the others"
        );
    }
    rounds
}

/// Spawns a spinner on `make_leaf` and a task that stops it; both must finish.
async fn spinner_and_stopper<L, M>(make_leaf: M) -> u32
where
    L: Future + 'static,
    M: Fn() -> L + 'static,
{
    let stop = Rc::new(Cell::new(false));
    let spinner = glass::spawn(spin_until(stop.clone(), make_leaf));
    let stopper = glass::spawn(async move { stop.set(true) });
    stopper.await;
    spinner.await
}

#[test]
fn a_task_looping_on_a_zero_sleep_does_not_starve_other_tasks() {
    let rounds = paused(|| spinner_and_stopper(|| sleep(Duration::ZERO)));
    assert!(rounds > 0);
}

#[test]
fn a_task_looping_on_a_sleep_already_due_does_not_starve_other_tasks() {
    let rounds = paused(|| async {
        let due = Instant::now();
        spinner_and_stopper(move || sleep_until(due)).await
    });
    assert!(rounds > 0);
}

#[test]
fn a_main_future_looping_on_a_zero_sleep_does_not_starve_tasks() {
    paused(|| async {
        let stop = Rc::new(Cell::new(false));
        drop(glass::spawn({
            let stop = stop.clone();
            async move { stop.set(true) }
        }));
        spin_until(stop, || sleep(Duration::ZERO)).await;
    });
}

#[test]
fn a_task_that_yields_forever_cannot_starve_a_due_timer() {
    // The callback is due at once; the loop must look at its timers between batches of
    // ready work even though the spinner is always ready.
    let rounds = paused(|| async {
        let fired = Rc::new(Cell::new(false));
        {
            let fired = fired.clone();
            glass::call_later(Duration::ZERO, move || fired.set(true));
        }
        glass::spawn(spin_until(fired, yield_now)).await
    });
    assert!(rounds > 0);
}

#[test]
fn a_task_that_yields_forever_cannot_starve_a_sleeping_task_on_the_real_clock() {
    let real = watchdog(|| {
        let mut event_loop = EventLoop::builder().paused_clock(false).build();
        event_loop.run_until_complete(async {
            let start = std::time::Instant::now();
            let woke = Rc::new(Cell::new(false));
            let sleeper = {
                let woke = woke.clone();
                glass::spawn(async move {
                    sleep(Duration::from_millis(1)).await;
                    woke.set(true);
                })
            };
            glass::spawn(spin_until(woke, yield_now)).await;
            sleeper.await;
            start.elapsed()
        })
    });
    assert!(real >= Duration::from_millis(1));
}

#[test]
fn the_paused_clock_does_not_move_while_a_task_keeps_yielding() {
    // Time jumps only when every task waits: a busy task holds the clock still.
    let seen = paused(|| async {
        let log = Transcript::new();
        let sleeper = {
            let log = log.clone();
            glass::spawn(async move {
                sleep(secs(1)).await;
                log.log("sleeper wakes");
            })
        };
        let busy = {
            let log = log.clone();
            glass::spawn(async move {
                for _ in 0..1000 {
                    yield_now().await;
                }
                log.log("busy task done");
            })
        };
        busy.await;
        sleeper.await;
        log.lines()
    });
    assert_eq!(seen, ["0ns busy task done", "1s sleeper wakes"]);
}

// ---------------------------------------------------------------------------------------
// gather! and gather_all

#[test]
fn gather_evaluates_to_a_tuple_in_argument_order() {
    let outputs = paused(|| async {
        gather!(
            async {
                sleep(secs(3)).await;
                1
            },
            async {
                sleep(secs(1)).await;
                "two"
            },
            async { 3.5 },
        )
    });
    assert_eq!(outputs, (1, "two", 3.5));
}

#[test]
fn gather_runs_its_futures_concurrently() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let step = |name: &'static str, seconds: u64| {
            let log = log.clone();
            async move {
                sleep(secs(seconds)).await;
                log.log(format!("{name} done"));
                seconds
            }
        };
        let outputs = gather!(step("a", 3), step("b", 1), step("c", 2));
        log.log(format!("gathered {outputs:?}"));
        log.lines()
    });
    // The total is the longest (3 s), not the sum (6 s).
    assert_eq!(
        seen,
        [
            "1s b done",
            "2s c done",
            "3s a done",
            "3s gathered (3, 1, 2)"
        ]
    );
}

#[test]
fn gather_first_polls_its_futures_in_argument_order() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let step = |name: &'static str| {
            let log = log.clone();
            async move {
                log.log(format!("{name} first polled"));
                yield_now().await;
                log.log(format!("{name} done"));
            }
        };
        gather!(step("a"), step("b"), step("c"));
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns a first polled",
            "0ns b first polled",
            "0ns c first polled",
            "0ns a done",
            "0ns b done",
            "0ns c done"
        ]
    );
}

#[test]
fn gather_waits_for_tasks() {
    let (outputs, elapsed) = paused(|| async {
        let start = Instant::now();
        let slow = glass::spawn(async {
            sleep(secs(2)).await;
            "slow"
        });
        let fast = glass::spawn(async {
            sleep(secs(1)).await;
            "fast"
        });
        let outputs = gather!(slow, fast);
        (outputs, start.elapsed())
    });
    assert_eq!(outputs, ("slow", "fast"));
    assert_eq!(elapsed, secs(2));
}

#[test]
fn gather_all_keeps_input_order_and_runs_concurrently() {
    let (outputs, elapsed) = paused(|| async {
        let start = Instant::now();
        let outputs = gather_all([3, 1, 4, 2].map(|seconds| async move {
            sleep(secs(seconds)).await;
            seconds * 10
        }))
        .await;
        (outputs, start.elapsed())
    });
    assert_eq!(
        outputs,
        [30, 10, 40, 20],
        "input order, not completion order"
    );
    assert_eq!(elapsed, secs(4), "the longest, not the sum");
}

#[test]
fn gather_all_of_nothing_is_empty() {
    let outputs = paused(|| async { gather_all(Vec::<std::future::Ready<u8>>::new()).await });
    assert!(outputs.is_empty());
}

#[test]
fn gather_all_waits_for_tasks_in_input_order() {
    let outputs = paused(|| async {
        let tasks: Vec<_> = (0..5_u64)
            .map(|n| {
                glass::spawn(async move {
                    sleep(secs(5 - n)).await;
                    n
                })
            })
            .collect();
        gather_all(tasks).await
    });
    assert_eq!(outputs, [0, 1, 2, 3, 4]);
}
