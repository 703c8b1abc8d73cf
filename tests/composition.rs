//! Composition: `TaskGroup`, `as_completed`, `try_gather!` and `try_gather_all`.
//!
//! Every test runs on the paused clock, so completion orders and the moments at which
//! futures are dropped are exact. Destructors are observed with guards that log (or set
//! a flag) when dropped; a failing test shows the transcript it saw.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::fmt::Display;
use std::future::Future;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use glass::stream::StreamExt;
use glass::time::Instant;
use glass::{sleep, yield_now, JoinError, TaskGroup};

// ---------------------------------------------------------------------------------------
// Helpers

/// A real-time limit far above what any test here needs: only a hang trips it.
const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs the future made by `test` on a new paused-clock loop, on a thread of its own,
/// and fails the test if it has not finished after [`WATCHDOG`] of real time — a runtime
/// bug that hangs fails the test instead of hanging CI. A panic is re-raised here.
fn paused<F, Fut>(test: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    let name = std::thread::current().name().unwrap_or("test").to_owned();
    let (done, finished) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let output = glass::EventLoop::builder()
                .paused_clock(true)
                .build()
                .run_until_complete(test());
            let _ = done.send(());
            output
        })
        .expect("could not start the test's thread");
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(WATCHDOG) {
        panic!("the test did not finish within {WATCHDOG:?} of real time: the loop hangs");
    }
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// What happened, and when, counted from the transcript's start on the loop's clock.
#[derive(Clone)]
struct Transcript {
    start: Instant,
    lines: Rc<RefCell<Vec<String>>>,
}

impl Transcript {
    fn new() -> Transcript {
        Transcript {
            start: Instant::now(),
            lines: Rc::default(),
        }
    }

    /// Records `event` with the time since the start, as `"1s event"`.
    fn log(&self, event: impl Display) {
        let at = self.start.elapsed();
        self.lines.borrow_mut().push(format!("{at:?} {event}"));
    }

    fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}

/// Records `"<label> dropped"` in the transcript when dropped: shows when a future's
/// destructor ran.
struct LogOnDrop(Transcript, &'static str);

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        self.0.log(format!("{} dropped", self.1));
    }
}

/// Sets its flag when dropped: shows that a future's destructor has run.
struct SetOnDrop(Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// The text of a panic payload (a `&str` or a `String`).
fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        panic!("the panic payload is not a string")
    }
}

/// How a child ended, in a word, for transcripts: its output, `cancelled`, or
/// `panicked: <message>`.
fn outcome<T: Display>(result: Result<T, JoinError>) -> String {
    match result {
        Ok(output) => output.to_string(),
        Err(error) if error.is_cancelled() => "cancelled".to_owned(),
        Err(error) => format!("panicked: {}", panic_text(&*error.into_panic())),
    }
}

/// A child that counts a tick every second, forever, and sets `dropped` when its
/// future is dropped.
fn ticking_child(ticks: &Rc<Cell<u32>>, dropped: &Rc<Cell<bool>>) -> impl Future<Output = u32> {
    let ticks = ticks.clone();
    let guard = SetOnDrop(dropped.clone());
    async move {
        let _guard = guard;
        loop {
            sleep(secs(1)).await;
            ticks.set(ticks.get() + 1);
        }
    }
}

// ---------------------------------------------------------------------------------------
// TaskGroup: results

#[test]
fn join_next_gives_children_in_completion_order() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut group = TaskGroup::new();
        for delay in [3, 1, 2] {
            group.spawn(async move {
                sleep(secs(delay)).await;
                delay
            });
        }
        while let Some(result) = group.join_next().await {
            log.log(format!("child {}", outcome(result)));
        }
        log.log("no more children");
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "1s child 1",
            "2s child 2",
            "3s child 3",
            "3s no more children"
        ],
        "{seen:#?}"
    );
}

#[test]
fn join_all_gives_outputs_in_spawn_order_once_every_child_is_done() {
    let (outputs, elapsed) = paused(|| async {
        let start = Instant::now();
        let mut group = TaskGroup::new();
        for delay in [3, 1, 2] {
            group.spawn(async move {
                sleep(secs(delay)).await;
                delay * 10
            });
        }
        (group.join_all().await.unwrap(), start.elapsed())
    });
    assert_eq!(outputs, [30, 10, 20]);
    assert_eq!(elapsed, secs(3));
}

#[test]
fn join_all_after_join_next_gives_the_children_not_yet_joined() {
    let (first, rest) = paused(|| async {
        let mut group = TaskGroup::new();
        for delay in [3, 1, 2, 4] {
            group.spawn(async move {
                sleep(secs(delay)).await;
                delay
            });
        }
        let first = group.join_next().await.unwrap().unwrap();
        assert_eq!(group.len(), 3);
        (first, group.join_all().await.unwrap())
    });
    assert_eq!(first, 1);
    assert_eq!(rest, [3, 2, 4]);
}

#[test]
fn join_next_on_an_empty_group_returns_none() {
    let (next, len, empty) = paused(|| async {
        let mut group = TaskGroup::<u32>::new();
        let len = group.len();
        let empty = group.is_empty();
        (group.join_next().await.is_none(), len, empty)
    });
    assert!(next);
    assert_eq!(len, 0);
    assert!(empty);
}

#[test]
fn join_all_on_an_empty_group_returns_an_empty_vec() {
    let outputs = paused(|| async { TaskGroup::<u32>::new().join_all().await.unwrap() });
    assert!(outputs.is_empty());
}

#[test]
fn join_next_returns_none_once_every_child_has_been_joined() {
    let (len_before, len_after, after) = paused(|| async {
        let mut group = TaskGroup::new();
        group.spawn(async { 1 });
        group.spawn(async { 2 });
        let len_before = group.len();
        let mut outputs = BTreeSet::new();
        outputs.insert(group.join_next().await.unwrap().unwrap());
        outputs.insert(group.join_next().await.unwrap().unwrap());
        assert_eq!(outputs, BTreeSet::from([1, 2]));
        let len_after = group.len();
        (len_before, len_after, group.join_next().await.is_none())
    });
    assert_eq!((len_before, len_after), (2, 0));
    assert!(after);
}

#[test]
fn join_next_abandoned_by_a_timeout_loses_no_result() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut group = TaskGroup::new();
        for delay in [2, 3] {
            group.spawn(async move {
                sleep(secs(delay)).await;
                delay
            });
        }
        let early = glass::wait_for(group.join_next(), secs(1)).await;
        log.log(format!("timed out: {}", early.is_err()));
        while let Some(result) = group.join_next().await {
            log.log(outcome(result));
        }
        log.lines()
    });
    assert_eq!(seen, ["1s timed out: true", "2s 2", "3s 3"], "{seen:#?}");
}

// ---------------------------------------------------------------------------------------
// TaskGroup: a panicking child

#[test]
fn a_panicking_child_cancels_its_siblings_whose_join_next_results_are_cancellations() {
    let (seen, dropped, ticks_at_panic, ticks_later) = paused(|| async {
        let log = Transcript::new();
        let ticks = Rc::new(Cell::new(0));
        let dropped = [Rc::new(Cell::new(false)), Rc::new(Cell::new(false))];
        let mut group = TaskGroup::new();
        let first = group.spawn(ticking_child(&ticks, &dropped[0]));
        let failing = group.spawn(async {
            sleep(Duration::from_millis(2500)).await;
            panic!("child boom")
        });
        let last = group.spawn(ticking_child(&ticks, &dropped[1]));
        let name = |id| {
            if id == first.id() {
                "first"
            } else if id == failing.id() {
                "failing"
            } else if id == last.id() {
                "last"
            } else {
                "unknown"
            }
        };
        while let Some(result) = group.join_next().await {
            let who = name(result.as_ref().map_err(JoinError::id).unwrap_err());
            log.log(format!("{who} {}", outcome(result)));
        }
        let ticks_at_panic = ticks.get();
        sleep(secs(10)).await;
        let dropped = [dropped[0].get(), dropped[1].get()];
        (log.lines(), dropped, ticks_at_panic, ticks.get())
    });
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert_eq!(seen[0], "2.5s failing panicked: child boom", "{seen:#?}");
    let rest: BTreeSet<&str> = seen[1..].iter().map(String::as_str).collect();
    assert_eq!(
        rest,
        BTreeSet::from(["2.5s first cancelled", "2.5s last cancelled"]),
        "{seen:#?}"
    );
    assert_eq!(dropped, [true, true], "the siblings' destructors ran");
    assert_eq!(ticks_at_panic, 4, "two siblings ticked at 1 s and 2 s");
    assert_eq!(ticks_later, 4, "the siblings stopped ticking");
}

#[test]
fn join_all_returns_the_panic_of_a_child_after_cancelling_its_siblings() {
    let (message, elapsed, dropped) = paused(|| async {
        let start = Instant::now();
        let ticks = Rc::new(Cell::new(0));
        let dropped = [Rc::new(Cell::new(false)), Rc::new(Cell::new(false))];
        let mut group = TaskGroup::new();
        // The panicking child is neither first nor last in spawn order: the panic is
        // reported, not the cancellations it caused.
        group.spawn(ticking_child(&ticks, &dropped[0]));
        group.spawn(async {
            sleep(secs(1)).await;
            panic!("child boom")
        });
        group.spawn(ticking_child(&ticks, &dropped[1]));
        let error = group.join_all().await.unwrap_err();
        assert!(error.is_panic(), "{error}");
        assert!(error.to_string().contains("child boom"), "{error}");
        let message = panic_text(&*error.into_panic());
        (
            message,
            start.elapsed(),
            [dropped[0].get(), dropped[1].get()],
        )
    });
    assert_eq!(message, "child boom");
    assert_eq!(
        elapsed,
        secs(1),
        "join_all returns as soon as the siblings are gone"
    );
    assert_eq!(dropped, [true, true], "the siblings' destructors ran");
}

#[test]
fn a_panicking_child_does_not_cancel_siblings_that_already_finished() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut group = TaskGroup::new();
        group.spawn(async {
            sleep(secs(1)).await;
            "early".to_owned()
        });
        group.spawn(async {
            sleep(secs(2)).await;
            panic!("child boom")
        });
        while let Some(result) = group.join_next().await {
            log.log(outcome(result));
        }
        log.lines()
    });
    assert_eq!(seen, ["1s early", "2s panicked: child boom"], "{seen:#?}");
}

// ---------------------------------------------------------------------------------------
// TaskGroup: cancellation

#[test]
fn dropping_the_group_cancels_every_child() {
    let (dropped, ticks_at_drop, ticks_later) = paused(|| async {
        let ticks = Rc::new(Cell::new(0));
        let dropped: Vec<_> = (0..3).map(|_| Rc::new(Cell::new(false))).collect();
        let mut group = TaskGroup::new();
        for flag in &dropped {
            group.spawn(ticking_child(&ticks, flag));
        }
        sleep(Duration::from_millis(2500)).await;
        drop(group);
        let ticks_at_drop = ticks.get();
        sleep(secs(10)).await;
        let dropped: Vec<bool> = dropped.iter().map(|flag| flag.get()).collect();
        (dropped, ticks_at_drop, ticks.get())
    });
    assert_eq!(dropped, [true, true, true], "every child's destructor ran");
    assert_eq!(ticks_at_drop, 6, "three children ticked at 1 s and 2 s");
    assert_eq!(
        ticks_later, 6,
        "no child ticked after the group was dropped"
    );
}

#[test]
fn cancelling_one_child_through_its_handle_makes_its_result_a_cancellation_error() {
    let (seen, dropped) = paused(|| async {
        let log = Transcript::new();
        let dropped = Rc::new(Cell::new(false));
        let mut group = TaskGroup::new();
        group.spawn(async {
            sleep(secs(1)).await;
            "one".to_owned()
        });
        let guard = SetOnDrop(dropped.clone());
        let doomed = group.spawn(async move {
            let _guard = guard;
            sleep(secs(5)).await;
            "five".to_owned()
        });
        group.spawn(async {
            sleep(secs(2)).await;
            "two".to_owned()
        });
        yield_now().await; // every child has started
        doomed.cancel();
        while let Some(result) = group.join_next().await {
            log.log(outcome(result));
        }
        (log.lines(), dropped.get())
    });
    assert_eq!(seen, ["0ns cancelled", "1s one", "2s two"], "{seen:#?}");
    assert!(dropped, "the cancelled child's destructor ran");
}

#[test]
fn join_all_returns_the_cancellation_of_a_child_cancelled_through_its_handle_while_the_others_complete(
) {
    let (error_is_cancelled, error_is_the_childs, completed, elapsed) = paused(|| async {
        let start = Instant::now();
        let completed = Rc::new(RefCell::new(Vec::new()));
        let mut group = TaskGroup::new();
        let mut handles = Vec::new();
        for delay in [1, 5, 2] {
            let completed = completed.clone();
            handles.push(group.spawn(async move {
                sleep(secs(delay)).await;
                completed.borrow_mut().push(delay);
                delay
            }));
        }
        handles[1].cancel();
        let error = group.join_all().await.unwrap_err();
        let completed = completed.borrow().clone();
        (
            error.is_cancelled(),
            error.id() == handles[1].id(),
            completed,
            start.elapsed(),
        )
    });
    assert!(error_is_cancelled);
    assert!(error_is_the_childs, "the error is the cancelled child's");
    assert_eq!(completed, [1, 2], "the other children still completed");
    assert_eq!(elapsed, secs(2), "join_all waited for the other children");
}

#[test]
fn a_child_cancelled_before_its_first_poll_never_runs_its_body() {
    let (cancelled, ran, dropped) = paused(|| async {
        let ran = Rc::new(Cell::new(false));
        let dropped = Rc::new(Cell::new(false));
        let mut group = TaskGroup::new();
        let guard = SetOnDrop(dropped.clone());
        let body_ran = ran.clone();
        let child = group.spawn(async move {
            let _guard = guard;
            body_ran.set(true);
            1
        });
        child.cancel(); // before the loop ever polls it
        let result = group.join_next().await.unwrap();
        let cancelled = result.is_err_and(|error| error.is_cancelled());
        (cancelled, ran.get(), dropped.get())
    });
    assert!(cancelled, "its result is a cancellation error");
    assert!(!ran, "its body never ran");
    assert!(dropped, "what it owned was dropped");
}

#[test]
fn cancelling_a_finished_child_keeps_its_result() {
    let result = paused(|| async {
        let mut group = TaskGroup::new();
        let child = group.spawn(async { 7 });
        sleep(secs(1)).await;
        assert!(child.is_finished());
        child.cancel();
        group.join_next().await.unwrap()
    });
    assert_eq!(result.unwrap(), 7);
}

#[test]
fn cancel_all_cancels_every_unfinished_child_and_keeps_finished_results() {
    let (seen, dropped) = paused(|| async {
        let log = Transcript::new();
        let dropped = [Rc::new(Cell::new(false)), Rc::new(Cell::new(false))];
        let mut group = TaskGroup::new();
        group.spawn(async { "quick".to_owned() });
        for flag in &dropped {
            let guard = SetOnDrop(flag.clone());
            group.spawn(async move {
                let _guard = guard;
                sleep(secs(5)).await;
                "slow".to_owned()
            });
        }
        sleep(secs(1)).await; // "quick" has finished
        group.cancel_all();
        assert_eq!(group.len(), 3, "cancel_all joins nothing");
        while let Some(result) = group.join_next().await {
            log.log(outcome(result));
        }
        sleep(secs(10)).await;
        (log.lines(), [dropped[0].get(), dropped[1].get()])
    });
    assert_eq!(
        seen,
        ["1s quick", "1s cancelled", "1s cancelled"],
        "{seen:#?}"
    );
    assert_eq!(dropped, [true, true]);
}

#[test]
fn child_handles_have_distinct_ids_and_know_when_their_child_finished() {
    paused(|| async {
        let mut group = TaskGroup::new();
        let quick = group.spawn(async {
            sleep(secs(1)).await;
            1
        });
        let slow = group.spawn(async {
            sleep(secs(3)).await;
            3
        });
        assert_ne!(quick.id(), slow.id());
        assert!(!quick.is_finished() && !slow.is_finished());
        sleep(secs(2)).await;
        assert!(quick.is_finished(), "finished, not yet joined");
        assert!(!slow.is_finished());
        assert_eq!(group.join_next().await.unwrap().unwrap(), 1);
        assert!(quick.is_finished(), "joined");
        let copy = slow.clone();
        assert_eq!(copy.id(), slow.id());
        drop(group);
        assert!(slow.is_finished(), "the group is gone");
    });
}

#[test]
fn dropping_a_child_handle_changes_nothing() {
    let output = paused(|| async {
        let mut group = TaskGroup::new();
        drop(group.spawn(async {
            sleep(secs(1)).await;
            "still here"
        }));
        group.join_next().await.unwrap().unwrap()
    });
    assert_eq!(output, "still here");
}

// ---------------------------------------------------------------------------------------
// as_completed

#[test]
fn as_completed_yields_outputs_in_completion_order() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let mut done = glass::as_completed([3, 1, 2].map(|delay| async move {
            sleep(secs(delay)).await;
            delay
        }));
        assert_eq!(done.len(), 3);
        while let Some(delay) = done.next().await {
            log.log(delay);
        }
        assert!(done.is_empty());
        log.lines()
    });
    assert_eq!(seen, ["1s 1", "2s 2", "3s 3"], "{seen:#?}");
}

#[test]
fn as_completed_yields_every_output_of_a_tie_at_the_same_moment() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let futures =
            [("a", 2), ("b", 1), ("c", 2), ("d", 1), ("e", 0)].map(|(label, delay)| async move {
                sleep(secs(delay)).await;
                label
            });
        let mut done = glass::as_completed(futures);
        while let Some(label) = done.next().await {
            log.log(label);
        }
        log.lines()
    });
    assert_eq!(seen.len(), 5, "{seen:#?}");
    assert_eq!(seen[0], "0ns e", "{seen:#?}");
    let at_1s: BTreeSet<&str> = seen[1..3].iter().map(String::as_str).collect();
    let at_2s: BTreeSet<&str> = seen[3..].iter().map(String::as_str).collect();
    assert_eq!(at_1s, BTreeSet::from(["1s b", "1s d"]), "{seen:#?}");
    assert_eq!(at_2s, BTreeSet::from(["2s a", "2s c"]), "{seen:#?}");
}

#[test]
fn as_completed_of_nothing_ends_at_once() {
    let outputs: Vec<u32> = paused(|| async {
        glass::as_completed(std::iter::empty::<std::future::Ready<u32>>())
            .collect()
            .await
    });
    assert!(outputs.is_empty());
}

// ---------------------------------------------------------------------------------------
// try_gather!

#[test]
fn try_gather_gives_every_value_in_argument_order_when_all_succeed() {
    let (result, elapsed) = paused(|| async {
        let start = Instant::now();
        let result: Result<(u32, &str, char), String> = glass::try_gather!(
            async {
                sleep(secs(2)).await;
                Ok(1)
            },
            async {
                sleep(secs(1)).await;
                Ok("two")
            },
            async { Ok('3') },
        );
        (result, start.elapsed())
    });
    assert_eq!(result, Ok((1, "two", '3')));
    assert_eq!(elapsed, secs(2), "the longest, not the sum");
}

#[test]
fn try_gather_returns_the_first_error_and_drops_the_other_futures_at_that_moment() {
    let (result, seen) = paused(|| async {
        let log = Transcript::new();
        let (slow_ok, slow_err) = (log.clone(), log.clone());
        let result: Result<(u32, u32, u32), &str> = glass::try_gather!(
            async move {
                let _guard = LogOnDrop(slow_ok, "slow ok");
                sleep(secs(100)).await;
                Ok(1)
            },
            async {
                sleep(secs(2)).await;
                Err("failed at 2 s")
            },
            async move {
                let _guard = LogOnDrop(slow_err, "slow error");
                sleep(secs(3)).await;
                Err("failed at 3 s")
            },
        );
        log.log("try_gather returned");
        (result, log.lines())
    });
    assert_eq!(result, Err("failed at 2 s"));
    assert_eq!(seen.len(), 3, "{seen:#?}");
    let dropped: BTreeSet<&str> = seen[..2].iter().map(String::as_str).collect();
    assert_eq!(
        dropped,
        BTreeSet::from(["2s slow ok dropped", "2s slow error dropped"]),
        "the other futures were dropped when the error came: {seen:#?}"
    );
    assert_eq!(seen[2], "2s try_gather returned", "{seen:#?}");
}

#[test]
fn try_gather_returns_the_error_that_happens_first_whatever_its_position() {
    let (result, elapsed) = paused(|| async {
        let start = Instant::now();
        let result: Result<(u32, u32), &str> = glass::try_gather!(
            async {
                sleep(secs(3)).await;
                Err("first argument, at 3 s")
            },
            async {
                sleep(secs(1)).await;
                Err("second argument, at 1 s")
            },
        );
        (result, start.elapsed())
    });
    assert_eq!(result, Err("second argument, at 1 s"));
    assert_eq!(elapsed, secs(1));
}

// ---------------------------------------------------------------------------------------
// try_gather_all

#[test]
fn try_gather_all_gives_values_in_input_order() {
    let (result, elapsed) = paused(|| async {
        let start = Instant::now();
        let result = glass::try_gather_all([3, 1, 2].map(|delay| async move {
            sleep(secs(delay)).await;
            Ok::<_, String>(delay * 10)
        }))
        .await;
        (result, start.elapsed())
    });
    assert_eq!(result, Ok(vec![30, 10, 20]));
    assert_eq!(elapsed, secs(3));
}

#[test]
fn try_gather_all_of_nothing_is_ok_and_empty() {
    let result = paused(|| async {
        glass::try_gather_all(std::iter::empty::<std::future::Ready<Result<u32, String>>>()).await
    });
    assert_eq!(result, Ok(vec![]));
}

#[test]
fn try_gather_all_returns_the_first_error_by_time_and_drops_the_rest_at_that_moment() {
    let (result, seen) = paused(|| async {
        let log = Transcript::new();
        // (label, delay, outcome): the error at 2 s comes before the one at 3 s, although
        // it is later in input order.
        let plan = [
            ("a", 5, Ok(5)),
            ("b", 3, Err("b failed at 3 s")),
            ("c", 2, Err("c failed at 2 s")),
            ("d", 1, Ok(1)),
        ];
        let futures = plan.map(|(label, delay, result)| {
            let guard = LogOnDrop(log.clone(), label);
            let log = log.clone();
            async move {
                let _guard = guard;
                sleep(secs(delay)).await;
                log.log(format!("{label} done"));
                result
            }
        });
        let result = glass::try_gather_all(futures).await;
        log.log("try_gather_all returned");
        (result, log.lines())
    });
    assert_eq!(result, Err("c failed at 2 s"));
    let (before, after) = seen.split_at(4);
    // "d" finished (and was dropped) at 1 s; "c" failed at 2 s and was dropped then.
    assert_eq!(
        before,
        ["1s d done", "1s d dropped", "2s c done", "2s c dropped"],
        "{seen:#?}"
    );
    let dropped: BTreeSet<&str> = after[..2].iter().map(String::as_str).collect();
    assert_eq!(
        dropped,
        BTreeSet::from(["2s a dropped", "2s b dropped"]),
        "the rest were dropped when the error came: {seen:#?}"
    );
    assert_eq!(after[2..], ["2s try_gather_all returned"], "{seen:#?}");
}
