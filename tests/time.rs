//! Timers on the paused clock: `sleep`, `wait_for` / `timeout`, `interval`,
//! `call_later`, `call_soon`, and `time::Instant`.
//!
//! Every test runs on the paused clock, so times are exact and no test waits for real.
//! Each records what happened, and when, in a transcript, and compares the whole
//! transcript at the end: a failing test shows what it saw.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use futures::channel::oneshot;
use glass::time::{self, interval, sleep_until, Instant, MissedTickBehavior};
use glass::{call_later, call_soon, sleep, wait_for, TimerHandle};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Helpers

/// Records `event` in the transcript when dropped.
struct LogOnDrop(Transcript, &'static str);

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        self.0.log(self.1);
    }
}

/// Polls `future` once: `Some(output)` if it completed, `None` if it is pending.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Option<F::Output> {
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

// ---------------------------------------------------------------------------------------
// sleep

#[test]
fn sleepers_wake_in_deadline_order_at_exact_times() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let sleepers: Vec<_> = [("a", 3000), ("b", 1000), ("c", 2500), ("d", 500)]
            .into_iter()
            .map(|(name, ms)| {
                let log = log.clone();
                glass::spawn(async move {
                    sleep(millis(ms)).await;
                    log.log(format!("{name} wakes"));
                })
            })
            .collect();
        for sleeper in sleepers {
            sleeper.await;
        }
        log.lines()
    });
    assert_eq!(
        seen,
        ["500ms d wakes", "1s b wakes", "2.5s c wakes", "3s a wakes"]
    );
}

#[test]
fn sleepers_with_the_same_deadline_wake_in_the_order_they_were_armed() {
    // All three wait for the same instant, but arm their timers in the order c, b, a
    // (a yields twice first, b once): that, not the spawn order, is the wake order.
    let seen = paused(|| async {
        let log = Transcript::new();
        let deadline = Instant::now() + secs(1);
        let sleepers: Vec<_> = [("a", 2), ("b", 1), ("c", 0)]
            .into_iter()
            .map(|(name, yields)| {
                let log = log.clone();
                glass::spawn(async move {
                    for _ in 0..yields {
                        glass::yield_now().await;
                    }
                    log.log(format!("{name} arms"));
                    sleep_until(deadline).await;
                    log.log(format!("{name} wakes"));
                })
            })
            .collect();
        for sleeper in sleepers {
            sleeper.await;
        }
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns c arms",
            "0ns b arms",
            "0ns a arms",
            "1s c wakes",
            "1s b wakes",
            "1s a wakes"
        ]
    );
}

#[test]
fn an_hour_of_sleep_on_the_paused_clock_takes_no_real_time() {
    let real_start = std::time::Instant::now();
    let slept = paused(|| async {
        let start = Instant::now();
        sleep(secs(3600)).await;
        start.elapsed()
    });
    assert_eq!(slept, secs(3600));
    let real = real_start.elapsed();
    assert!(
        real < secs(1),
        "an hour of paused sleep took {real:?} of real time"
    );
}

#[test]
fn a_sleep_of_zero_completes_at_once() {
    let seen = paused(|| async {
        let log = Transcript::new();
        sleep(Duration::ZERO).await;
        log.log("slept zero");
        sleep_until(Instant::now()).await;
        log.log("slept until now");
        sleep_until(log.start).await; // an instant already passed
        log.log("slept until the past");
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns slept zero",
            "0ns slept until now",
            "0ns slept until the past"
        ]
    );
}

#[test]
fn a_sleep_starts_counting_at_its_first_poll() {
    // Like an asyncio coroutine, `sleep(d)` starts when it is awaited, not when made.
    let seen = paused(|| async {
        let log = Transcript::new();
        let nap = sleep(secs(2));
        sleep(secs(1)).await;
        nap.await;
        log.log("both done");
        log.lines()
    });
    assert_eq!(seen, ["3s both done"]);
}

#[test]
fn the_paused_clock_stands_still_while_a_task_runs() {
    let seen = paused(|| async {
        let before = Instant::now();
        std::thread::sleep(millis(2)); // real time passes; the loop's clock does not
        before.elapsed()
    });
    assert_eq!(seen, Duration::ZERO);
}

#[test]
fn a_sleep_on_the_real_clock_lasts_at_least_its_duration() {
    let real = watchdog(|| {
        let start = std::time::Instant::now();
        glass::EventLoop::builder()
            .paused_clock(false)
            .build()
            .run_until_complete(sleep(millis(2)));
        start.elapsed()
    });
    assert!(real >= millis(2), "slept {real:?}");
}

#[test]
fn a_huge_duration_does_not_overflow() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let far = Instant::now() + Duration::MAX; // saturates instead of panicking
        assert!(far > log.start);
        let result = wait_for(
            async {
                sleep(secs(1)).await;
                1
            },
            Duration::MAX,
        )
        .await;
        log.log(format!("result {result:?}"));
        let never = sleep(Duration::MAX);
        let result = wait_for(never, secs(2)).await;
        log.log(format!("timed out: {}", result.is_err()));
        log.lines()
    });
    assert_eq!(seen, ["1s result Ok(1)", "3s timed out: true"]);
}

#[test]
fn disarmed_timers_do_not_move_the_paused_clock() {
    // Three timers are armed and then disarmed: a cancelled call_later, a dropped sleep,
    // and the timer of a wait_for that won. The loop then waits for another thread. If
    // a disarmed timer still counted, the paused clock would jump to its deadline.
    let elapsed = paused(|| async {
        let start = Instant::now();
        call_later(secs(10), || panic!("a cancelled callback ran")).cancel();
        {
            let mut nap = pin!(sleep(secs(20)));
            assert!(poll_once(nap.as_mut()).await.is_none()); // armed
        } // dropped: disarmed
        wait_for(glass::yield_now(), secs(30)).await.unwrap();
        let (sender, answer) = oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(millis(2));
            sender.send(()).unwrap();
        });
        answer.await.unwrap();
        start.elapsed()
    });
    assert_eq!(elapsed, Duration::ZERO);
}

// ---------------------------------------------------------------------------------------
// wait_for and timeout

#[test]
fn wait_for_returns_the_output_when_the_future_completes_in_time() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let work = async {
            sleep(secs(1)).await;
            7
        };
        let result = wait_for(work, secs(2)).await;
        log.log(format!("result {result:?}"));
        // The losing timer is gone: the next sleep is not cut short or shifted.
        sleep(secs(5)).await;
        log.log("slept 5s more");
        log.lines()
    });
    assert_eq!(seen, ["1s result Ok(7)", "6s slept 5s more"]);
}

#[test]
fn wait_for_times_out_at_exactly_the_limit_and_drops_the_future() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let slow = {
            let log = log.clone();
            async move {
                let _guard = LogOnDrop(log.clone(), "inner future dropped");
                sleep(secs(10)).await;
                log.log("inner future finished");
            }
        };
        let result = wait_for(slow, secs(2)).await;
        log.log(format!("timed out: {}", result.is_err()));
        // The dropped future never comes back to life.
        sleep(secs(20)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(
        seen,
        ["2s inner future dropped", "2s timed out: true", "22s end"]
    );
}

#[test]
fn wait_for_with_a_ready_future_and_a_zero_limit_returns_ok() {
    let seen = paused(|| async {
        let start = Instant::now();
        let from_ready = wait_for(std::future::ready(5), Duration::ZERO).await;
        let from_async = wait_for(async { 6 }, Duration::ZERO).await;
        let from_timeout = time::timeout(Duration::ZERO, async { 7 }).await;
        (from_ready, from_async, from_timeout, start.elapsed())
    });
    assert_eq!(seen, (Ok(5), Ok(6), Ok(7), Duration::ZERO));
}

#[test]
fn wait_for_polls_the_future_before_the_deadline_on_every_poll() {
    // The wait_for is polled once (pending), then left alone while its deadline passes
    // by far. When it is polled again the inner future is ready, and it wins: the
    // deadline is only looked at after the inner future, on every poll.
    let seen = paused(|| async {
        let log = Transcript::new();
        let ready = Rc::new(Cell::new(false));
        let inner = {
            let (log, ready) = (log.clone(), ready.clone());
            std::future::poll_fn(move |_| {
                log.log("inner polled");
                if ready.get() {
                    Poll::Ready("inner won")
                } else {
                    Poll::Pending
                }
            })
        };
        let mut limited = pin!(wait_for(inner, secs(1)));
        assert!(poll_once(limited.as_mut()).await.is_none());
        sleep(secs(5)).await;
        ready.set(true);
        let result = limited.await;
        log.log(format!("result {result:?}"));
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns inner polled",
            "5s inner polled",
            "5s result Ok(\"inner won\")"
        ]
    );
}

#[test]
fn a_future_that_becomes_ready_at_the_deadline_wins() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let ready = Rc::new(Cell::new(false));
        {
            let ready = ready.clone();
            // Armed first, so it fires first at the shared deadline.
            call_later(secs(1), move || ready.set(true));
        }
        let inner = std::future::poll_fn(move |_| {
            if ready.get() {
                Poll::Ready(1)
            } else {
                Poll::Pending
            }
        });
        let result = wait_for(inner, secs(1)).await;
        log.log(format!("result {result:?}"));
        log.lines()
    });
    assert_eq!(seen, ["1s result Ok(1)"]);
}

#[test]
fn timeout_gives_the_same_results_as_wait_for() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let in_time = time::timeout(secs(2), async {
            sleep(secs(1)).await;
            7
        })
        .await;
        log.log(format!("in time {in_time:?}"));
        let too_late = time::timeout(secs(1), sleep(secs(2))).await;
        log.log(format!("too late, is_err: {}", too_late.is_err()));
        let same_as_wait_for = wait_for(sleep(secs(2)), secs(1)).await;
        assert_eq!(too_late, same_as_wait_for);
        log.log("wait_for timed out too");
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "1s in time Ok(7)",
            "2s too late, is_err: true",
            "3s wait_for timed out too"
        ]
    );
}

#[test]
fn timeout_error_is_a_std_error_with_a_message() {
    let error = paused(|| async { wait_for(sleep(secs(2)), secs(1)).await.unwrap_err() });
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn wait_for_a_task_that_times_out_detaches_the_task() {
    // Unlike asyncio (which cancels it), dropping a Task detaches it: the task goes on.
    let seen = paused(|| async {
        let log = Transcript::new();
        let task = {
            let log = log.clone();
            glass::spawn(async move {
                sleep(secs(3)).await;
                log.log("task finished");
            })
        };
        let result = wait_for(task, secs(1)).await;
        log.log(format!("timed out: {}", result.is_err()));
        sleep(secs(5)).await;
        log.lines()
    });
    assert_eq!(seen, ["1s timed out: true", "3s task finished"]);
}

// ---------------------------------------------------------------------------------------
// interval

/// Ticks `ticker` `count` times, logging when each tick came and the instant it was
/// scheduled for: `"3.5s tick 2s"`.
async fn log_ticks(log: &Transcript, ticker: &mut time::Interval, count: usize) {
    for _ in 0..count {
        let scheduled = ticker.tick().await;
        log.log(format!("tick {:?}", scheduled.duration_since(log.start)));
    }
}

#[test]
fn interval_ticks_at_exact_multiples_of_its_period() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(1));
        log_ticks(&log, &mut ticker, 4).await;
        log.lines()
    });
    assert_eq!(
        seen,
        ["0ns tick 0ns", "1s tick 1s", "2s tick 2s", "3s tick 3s"]
    );
}

#[test]
fn interval_first_tick_completes_at_once() {
    let (elapsed, first, start) = paused(|| async {
        let start = Instant::now();
        let mut ticker = interval(secs(10));
        let first = ticker.tick().await;
        (start.elapsed(), first, start)
    });
    assert_eq!(elapsed, Duration::ZERO);
    assert_eq!(first, start);
}

#[test]
fn interval_bursts_missed_ticks_by_default() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(1));
        assert_eq!(ticker.missed_tick_behavior(), MissedTickBehavior::Burst);
        log_ticks(&log, &mut ticker, 2).await;
        sleep(millis(2500)).await; // stall: ticks 2 and 3 are missed
        log_ticks(&log, &mut ticker, 4).await;
        log.lines()
    });
    // tokio's Burst: the missed ticks fire at once, then the original schedule goes on.
    assert_eq!(
        seen,
        [
            "0ns tick 0ns",
            "1s tick 1s",
            "3.5s tick 2s",
            "3.5s tick 3s",
            "4s tick 4s",
            "5s tick 5s"
        ]
    );
}

#[test]
fn interval_with_delay_restarts_the_schedule_from_the_late_tick() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        log_ticks(&log, &mut ticker, 2).await;
        sleep(millis(2500)).await;
        log_ticks(&log, &mut ticker, 3).await;
        log.lines()
    });
    // tokio's Delay: the late tick fires at once (yielding its scheduled instant), the
    // next one period after it fired.
    assert_eq!(
        seen,
        [
            "0ns tick 0ns",
            "1s tick 1s",
            "3.5s tick 2s",
            "4.5s tick 4.5s",
            "5.5s tick 5.5s"
        ]
    );
}

#[test]
fn interval_with_delay_restarts_the_schedule_after_a_stall_shorter_than_a_period() {
    // tokio's `poll_tick` uses the missed-tick behavior whenever `now > scheduled + 5 ms`
    // (tokio/src/time/interval.rs), and its docs say the strategies apply "when the
    // delay is greater than 5 milliseconds". Here tick 2 (due at 2 s) is taken at
    // 2.5 s: tokio's next tick is at 3.5 s. glass only treats a tick as missed when
    // `now >= scheduled + period`, so it keeps the old schedule and ticks at 3 s.
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        log_ticks(&log, &mut ticker, 2).await;
        sleep(millis(1500)).await;
        log_ticks(&log, &mut ticker, 3).await;
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns tick 0ns",
            "1s tick 1s",
            "2.5s tick 2s",
            "3.5s tick 3.5s",
            "4.5s tick 4.5s"
        ]
    );
}

#[test]
fn interval_with_skip_fires_once_then_keeps_to_the_original_grid() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        log_ticks(&log, &mut ticker, 2).await;
        sleep(millis(2500)).await;
        log_ticks(&log, &mut ticker, 3).await;
        log.lines()
    });
    // tokio's Skip: the late tick fires at once, then the next multiple of the period
    // from the start that is still ahead (4 s), skipping 3 s.
    assert_eq!(
        seen,
        [
            "0ns tick 0ns",
            "1s tick 1s",
            "3.5s tick 2s",
            "4s tick 4s",
            "5s tick 5s"
        ]
    );
}

#[test]
fn interval_with_skip_after_a_stall_of_whole_periods_skips_to_the_next_one() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        log_ticks(&log, &mut ticker, 2).await;
        sleep(secs(3)).await; // lands exactly on tick 4
        log_ticks(&log, &mut ticker, 2).await;
        log.lines()
    });
    // tokio: next = now + period - ((now - scheduled) % period) = 4 + 1 - 0 = 5.
    assert_eq!(
        seen,
        ["0ns tick 0ns", "1s tick 1s", "4s tick 2s", "5s tick 5s"]
    );
}

#[test]
fn interval_reset_restarts_one_period_from_now() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut ticker = interval(secs(2));
        log_ticks(&log, &mut ticker, 1).await;
        sleep(millis(500)).await;
        ticker.reset();
        log_ticks(&log, &mut ticker, 2).await;
        log.lines()
    });
    assert_eq!(seen, ["0ns tick 0ns", "2.5s tick 2.5s", "4.5s tick 4.5s"]);
}

// ---------------------------------------------------------------------------------------
// call_later and call_soon

/// A callback that logs `what` in `log`.
fn logger(log: &Transcript, what: &'static str) -> impl FnOnce() + 'static {
    let log = log.clone();
    move || log.log(what)
}

#[test]
fn call_later_callbacks_fire_in_deadline_order_at_exact_times() {
    let seen = paused(|| async {
        let log = Transcript::new();
        call_later(secs(3), logger(&log, "a"));
        call_later(secs(1), logger(&log, "b"));
        call_later(millis(2500), logger(&log, "c"));
        sleep(secs(4)).await;
        log.lines()
    });
    assert_eq!(seen, ["1s b", "2.5s c", "3s a"]);
}

#[test]
fn call_later_callbacks_with_the_same_deadline_fire_in_call_order() {
    let seen = paused(|| async {
        let log = Transcript::new();
        for what in ["1st", "2nd", "3rd", "4th"] {
            call_later(secs(1), logger(&log, what));
        }
        sleep(secs(2)).await;
        log.lines()
    });
    assert_eq!(seen, ["1s 1st", "1s 2nd", "1s 3rd", "1s 4th"]);
}

#[test]
fn a_cancelled_timer_handle_never_fires() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let cancelled = call_later(secs(1), logger(&log, "cancelled callback ran"));
        assert_eq!(cancelled.when(), log.start + secs(1));
        call_later(secs(2), logger(&log, "kept callback ran"));
        assert!(!cancelled.cancelled());
        cancelled.cancel();
        assert!(cancelled.cancelled());
        // A callback can cancel one that is due later.
        let later = call_later(
            secs(4),
            logger(&log, "callback cancelled by a callback ran"),
        );
        call_later(secs(3), move || later.cancel());
        sleep(secs(5)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(seen, ["2s kept callback ran", "5s end"]);
}

#[test]
fn a_timer_cancelled_by_a_callback_due_at_the_same_instant_never_fires() {
    // Both callbacks are due at 1 s; the first cancels the second. asyncio skips a
    // cancelled handle even after it was moved to the ready queue.
    let seen = paused(|| async {
        let log = Transcript::new();
        let second: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
        {
            let (log, second) = (log.clone(), second.clone());
            call_later(secs(1), move || {
                second.borrow().as_ref().expect("armed").cancel();
                log.log("first ran, cancelled the second");
            });
        }
        *second.borrow_mut() = Some(call_later(secs(1), logger(&log, "second ran")));
        sleep(secs(2)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(seen, ["1s first ran, cancelled the second", "2s end"]);
}

#[test]
fn a_timer_cancelled_by_a_task_woken_at_the_same_instant_never_fires() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let deadline = Instant::now() + secs(1);
        let second: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
        let canceller = {
            let (log, second) = (log.clone(), second.clone());
            glass::spawn(async move {
                sleep_until(deadline).await; // armed before the callback below
                second.borrow().as_ref().expect("armed").cancel();
                log.log("task woke, cancelled the callback");
            })
        };
        glass::yield_now().await; // the task arms its timer first
        *second.borrow_mut() = Some(call_later(secs(1), logger(&log, "callback ran")));
        canceller.await;
        sleep(secs(1)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(seen, ["1s task woke, cancelled the callback", "2s end"]);
}

#[test]
fn a_timer_handle_can_be_cancelled_from_another_thread() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let handle = call_later(secs(1), logger(&log, "cancelled callback ran"));
        // Joined at once: were the loop left idle meanwhile, the paused clock would
        // jump to 1 s (it knows nothing of plain threads) and the callback would run.
        std::thread::spawn(move || handle.cancel()).join().unwrap();
        sleep(secs(2)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(seen, ["2s end"]);
}

#[test]
fn cancelling_a_timer_handle_after_it_fired_changes_nothing() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let handle = call_later(secs(1), logger(&log, "fired"));
        sleep(secs(2)).await;
        handle.cancel();
        log.log("cancelled after firing");
        log.lines()
    });
    assert_eq!(seen, ["1s fired", "2s cancelled after firing"]);
}

#[test]
fn dropping_a_timer_handle_does_not_cancel_it() {
    let seen = paused(|| async {
        let log = Transcript::new();
        drop(call_later(secs(1), logger(&log, "fired anyway")));
        sleep(secs(2)).await;
        log.lines()
    });
    assert_eq!(seen, ["1s fired anyway"]);
}

#[test]
fn call_soon_runs_callbacks_in_fifo_order() {
    let seen = paused(|| async {
        let log = Transcript::new();
        for what in ["1st", "2nd", "3rd"] {
            call_soon(logger(&log, what));
        }
        {
            // Scheduled by a callback: runs after those already queued.
            let log2 = log.clone();
            call_soon(move || call_soon(logger(&log2, "scheduled by the 4th")));
        }
        call_soon(logger(&log, "5th"));
        log.log("main goes on before any callback");
        glass::yield_now().await;
        glass::yield_now().await;
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns main goes on before any callback",
            "0ns 1st",
            "0ns 2nd",
            "0ns 3rd",
            "0ns 5th",
            "0ns scheduled by the 4th"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Instant

#[test]
fn instant_follows_the_paused_clock() {
    paused(|| async {
        let start = Instant::now();
        sleep(secs(5)).await;
        let now = Instant::now();
        assert_eq!(now - start, secs(5));
        assert_eq!(now.duration_since(start), secs(5));
        assert_eq!(start.elapsed(), secs(5));
        assert_eq!(start + secs(5), now);
        // Earlier minus later saturates to zero, as std's does.
        assert_eq!(start.duration_since(now), Duration::ZERO);
        let mut deadline = now;
        deadline += secs(2);
        sleep_until(deadline).await;
        assert_eq!(Instant::now(), deadline);
        assert_eq!(start.elapsed(), secs(7));
    });
}
