//! Tasks: spawn, join, cancel, panics, names, and `Task::wait` from plain threads.
//!
//! Tests that involve time run on the paused clock and compare a transcript of what
//! happened; a failing test shows what it saw.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::oneshot;
use glass::time::Instant;
use glass::{sleep, yield_now, JoinError, Task};

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

/// A task that waits forever, setting `dropped` when its future is dropped.
fn spawn_waiting_forever(dropped: &Rc<Cell<bool>>) -> Task<()> {
    let guard = SetOnDrop(dropped.clone());
    glass::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    })
}

/// Awaits `task` inside another task, and returns how that outer task ended: a task's
/// panic when awaited is the awaiting task's panic.
async fn await_in_a_task<T: 'static>(task: Task<T>) -> Result<T, JoinError> {
    glass::spawn(task).join().await
}

// ---------------------------------------------------------------------------------------
// spawn and await

#[test]
fn awaiting_a_task_gives_its_output() {
    let output = paused(|| async { glass::spawn(async { 40 + 2 }).await });
    assert_eq!(output, 42);
}

#[test]
fn create_task_is_another_name_for_spawn() {
    let output = paused(|| async { glass::create_task(async { "made" }).await });
    assert_eq!(output, "made");
}

#[test]
fn joining_a_task_that_completes_gives_ok() {
    let output = paused(|| async { glass::spawn(async { 7 }).join().await.unwrap() });
    assert_eq!(output, 7);
}

#[test]
fn a_spawned_task_starts_only_when_the_spawner_lets_it() {
    // As with asyncio.create_task: the new task runs at the loop's next turn, once the
    // spawner returns to the loop.
    let seen = paused(|| async {
        let log = Transcript::new();
        let task = {
            let log = log.clone();
            glass::spawn(async move { log.log("task starts") })
        };
        log.log("spawner goes on");
        yield_now().await;
        log.log("spawner resumes");
        task.await;
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns spawner goes on",
            "0ns task starts",
            "0ns spawner resumes"
        ]
    );
}

#[test]
fn tasks_run_concurrently() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let worker = |name: &'static str, step: u64| {
            let log = log.clone();
            glass::spawn(async move {
                for _ in 0..2 {
                    sleep(secs(step)).await;
                    log.log(name);
                }
                step * 2
            })
        };
        let (slow, fast) = (worker("slow", 3), worker("fast", 2));
        let total = slow.await + fast.await;
        log.log(format!("both done, total {total}"));
        log.lines()
    });
    // Sequential would take 10 s; concurrent takes the longest, 6 s.
    assert_eq!(
        seen,
        [
            "2s fast",
            "3s slow",
            "4s fast",
            "6s slow",
            "6s both done, total 10"
        ]
    );
}

#[test]
fn yielding_tasks_strictly_alternate() {
    let seen = paused(|| async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let yielder = |name: &'static str| {
            let order = order.clone();
            glass::spawn(async move {
                for round in 0..4 {
                    order.borrow_mut().push(format!("{name}{round}"));
                    yield_now().await;
                }
            })
        };
        let (a, b) = (yielder("a"), yielder("b"));
        a.await;
        b.await;
        order.take()
    });
    assert_eq!(seen, ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]);
}

#[test]
fn yield_now_is_also_in_the_task_module() {
    paused(|| async {
        glass::task::yield_now().await;
    });
}

// ---------------------------------------------------------------------------------------
// cancel

#[test]
fn cancelling_a_waiting_task_gives_a_cancelled_join_error_after_its_destructor_ran() {
    paused(|| async {
        let start = Instant::now();
        let dropped = Rc::new(Cell::new(false));
        let task = {
            let dropped = dropped.clone();
            glass::spawn(async move {
                let _guard = SetOnDrop(dropped);
                sleep(secs(3600)).await;
            })
        };
        yield_now().await; // the task starts and waits in its sleep
        assert!(!dropped.get());
        task.cancel();
        let error = task.join().await.unwrap_err();
        assert!(
            dropped.get(),
            "the future must be dropped before join completes"
        );
        assert!(error.is_cancelled(), "{error}");
        assert!(!error.is_panic(), "{error}");
        assert_eq!(start.elapsed(), Duration::ZERO, "cancelling takes no time");
    });
}

#[test]
fn awaiting_a_cancelled_task_also_runs_its_destructor_first() {
    paused(|| async {
        let dropped = Rc::new(Cell::new(false));
        let task = spawn_waiting_forever(&dropped);
        yield_now().await;
        task.cancel();
        let outer = {
            let dropped = dropped.clone();
            glass::spawn(async move {
                let result = futures::FutureExt::catch_unwind(AssertUnwindSafe(task)).await;
                (dropped.get(), result.is_err())
            })
        };
        assert_eq!(outer.await, (true, true));
    });
}

#[test]
fn cancelling_a_task_before_it_first_runs_drops_it_without_running_it() {
    paused(|| async {
        let started = Rc::new(Cell::new(false));
        let dropped = Rc::new(Cell::new(false));
        let task = {
            let (started, guard) = (started.clone(), SetOnDrop(dropped.clone()));
            glass::spawn(async move {
                let _guard = guard;
                started.set(true);
            })
        };
        task.cancel(); // before the task was ever polled
        let error = task.join().await.unwrap_err();
        assert!(error.is_cancelled(), "{error}");
        assert!(dropped.get());
        assert!(
            !started.get(),
            "a task cancelled before its first poll never runs"
        );
    });
}

#[test]
fn awaiting_a_cancelled_task_panics_with_a_message_saying_so() {
    let message = paused(|| async {
        let dropped = Rc::new(Cell::new(false));
        let task = spawn_waiting_forever(&dropped);
        yield_now().await;
        task.cancel();
        let outer = await_in_a_task(task).await.unwrap_err();
        assert!(outer.is_panic(), "{outer}");
        panic_text(outer.into_panic().as_ref())
    });
    assert!(message.contains("cancelled"), "{message}");
}

#[test]
fn cancel_on_a_finished_task_is_a_no_op() {
    paused(|| async {
        let task = glass::spawn(async { 5 });
        yield_now().await;
        assert!(task.is_finished());
        task.cancel();
        assert_eq!(task.await, 5, "the result is still delivered");

        let task = glass::spawn(async { 6 });
        yield_now().await;
        task.cancel();
        task.cancel();
        assert_eq!(task.join().await.unwrap(), 6);
    });
}

#[test]
fn is_finished_becomes_true_once_the_cancellation_is_processed() {
    paused(|| async {
        let dropped = Rc::new(Cell::new(false));
        let task = spawn_waiting_forever(&dropped);
        yield_now().await;
        assert!(!task.is_finished());
        task.cancel();
        // cancel() only asks: the loop drops the future at its next turn.
        assert!(!task.is_finished());
        assert!(!dropped.get());
        yield_now().await;
        assert!(task.is_finished());
        assert!(dropped.get());
        assert!(task.join().await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_task_that_cancels_itself_stops_at_its_next_await() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let me: Rc<RefCell<Option<Task<()>>>> = Rc::default();
        let task = {
            let (log, me) = (log.clone(), me.clone());
            glass::spawn(async move {
                me.borrow().as_ref().expect("the handle is stored").cancel();
                log.log("still running after cancel()");
                yield_now().await;
                log.log("ran past its next await");
            })
        };
        *me.borrow_mut() = Some(task);
        sleep(secs(1)).await;
        let task = me.borrow_mut().take().unwrap();
        log.log(format!("{}", task.join().await.unwrap_err()));
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "0ns still running after cancel()",
            "1s task 'Task-1' (#1) was cancelled"
        ]
    );
}

#[test]
fn a_task_can_be_cancelled_from_another_thread() {
    paused(|| async {
        let dropped = Arc::new(AtomicBool::new(false));
        struct SetOnDropSend(Arc<AtomicBool>);
        impl Drop for SetOnDropSend {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let guard = SetOnDropSend(dropped.clone());
        let task = glass::Handle::current().spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        yield_now().await; // let it start waiting
        let (send_back, cancelled) = oneshot::channel();
        std::thread::spawn(move || {
            task.cancel();
            let _ = send_back.send(task);
        });
        let task = cancelled.await.unwrap();
        let error = task.join().await.unwrap_err();
        assert!(error.is_cancelled(), "{error}");
        assert!(dropped.load(Ordering::SeqCst));
    });
}

// ---------------------------------------------------------------------------------------
// panics

#[derive(Debug, PartialEq)]
struct Payload(u32);

#[test]
fn awaiting_a_panicked_task_re_raises_its_panic_with_the_same_payload() {
    let (text, custom) = paused(|| async {
        let text = await_in_a_task(glass::spawn(async { panic!("boom") }))
            .await
            .unwrap_err()
            .into_panic();
        let custom = await_in_a_task(glass::spawn(async {
            std::panic::panic_any(Payload(42));
        }))
        .await
        .unwrap_err()
        .into_panic();
        (panic_text(text.as_ref()), custom.downcast::<Payload>().ok())
    });
    assert_eq!(text, "boom");
    assert_eq!(custom.as_deref(), Some(&Payload(42)));
}

#[test]
fn joining_a_panicked_task_gives_a_panic_error_naming_the_task() {
    let (display, is_panic, is_cancelled, id, payload) = paused(|| async {
        let error = glass::spawn(async { panic!("boom") })
            .join()
            .await
            .unwrap_err();
        (
            error.to_string(),
            error.is_panic(),
            error.is_cancelled(),
            error.id().to_string(),
            panic_text(error.into_panic().as_ref()),
        )
    });
    assert_eq!(display, "task 'Task-1' (#1) panicked: boom");
    assert!(is_panic);
    assert!(!is_cancelled);
    assert_eq!(id, "#1");
    assert_eq!(payload, "boom");
}

#[test]
fn a_formatted_panic_message_is_shown_whole() {
    let display = paused(|| async {
        let n = 3;
        let task = glass::spawn(async move { panic!("bad item {n}") });
        task.join().await.unwrap_err().to_string()
    });
    assert_eq!(display, "task 'Task-1' (#1) panicked: bad item 3");
}

#[test]
fn join_errors_name_a_named_task() {
    let (panicked, cancelled) = paused(|| async {
        let first = glass::spawn(async {});
        let second = glass::spawn(async {});
        let producer = glass::task::Builder::new()
            .name("producer")
            .spawn(async { panic!("boom") });
        let x = glass::task::Builder::new()
            .name("x")
            .spawn(std::future::pending::<()>());
        x.cancel();
        first.await;
        second.await;
        (
            producer.join().await.unwrap_err().to_string(),
            x.join().await.unwrap_err().to_string(),
        )
    });
    assert_eq!(panicked, "task 'producer' (#3) panicked: boom");
    assert_eq!(cancelled, "task 'x' (#4) was cancelled");
}

#[test]
fn a_cancelled_task_error_displays_its_default_name() {
    let display = paused(|| async {
        let task = glass::spawn(std::future::pending::<()>());
        task.cancel();
        task.join().await.unwrap_err().to_string()
    });
    assert_eq!(display, "task 'Task-1' (#1) was cancelled");
}

#[test]
fn a_non_string_panic_payload_displays_as_such() {
    let display = paused(|| async {
        let task = glass::spawn(async { std::panic::panic_any(Payload(7)) });
        task.join().await.unwrap_err().to_string()
    });
    assert_eq!(
        display,
        "task 'Task-1' (#1) panicked: <non-string panic payload>"
    );
}

#[test]
fn a_panicking_task_does_not_stop_the_loop() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let panicker = {
            let log = log.clone();
            glass::spawn(async move {
                sleep(secs(1)).await;
                log.log("about to panic");
                panic!("boom");
            })
        };
        let survivor = {
            let log = log.clone();
            glass::spawn(async move {
                for _ in 0..2 {
                    sleep(secs(1)).await;
                    log.log("survivor ticks");
                }
                "survived"
            })
        };
        let outcome = survivor.await;
        log.log(format!(
            "{outcome}; panicker panicked: {}",
            panicker.is_finished()
        ));
        assert!(panicker.join().await.unwrap_err().is_panic());
        log.lines()
    });
    assert_eq!(
        seen,
        [
            "1s about to panic",
            "1s survivor ticks",
            "2s survivor ticks",
            "2s survived; panicker panicked: true"
        ]
    );
}

#[test]
fn a_destructor_that_panics_while_its_task_is_cancelled_does_not_stop_the_loop() {
    // The panic happens while the loop drops the cancelled future. Like any other panic
    // of a task it must stay inside the task (tokio reports it as the task's panic),
    // not unwind through the loop.
    let (error, after) = paused(|| async {
        struct PanicOnDrop;
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                panic!("destructor boom");
            }
        }
        let task = glass::spawn(async {
            let _guard = PanicOnDrop;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        task.cancel();
        let error = task.join().await.unwrap_err();
        let after = glass::spawn(async { "the loop goes on" }).await;
        (error.to_string(), after)
    });
    assert_eq!(after, "the loop goes on");
    assert!(error.contains("destructor boom"), "{error}");
}

#[test]
fn a_future_whose_destructor_panics_after_it_completed_does_not_stop_the_loop() {
    // The loop drops a finished task's future right after its last poll; a panic in
    // that destructor must stay inside the task too (tokio makes it the task's panic).
    let after = paused(|| async {
        struct ReadyThenPanicOnDrop;
        impl Future for ReadyThenPanicOnDrop {
            type Output = u8;
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u8> {
                Poll::Ready(1)
            }
        }
        impl Drop for ReadyThenPanicOnDrop {
            fn drop(&mut self) {
                panic!("destructor boom");
            }
        }
        let task = glass::spawn(ReadyThenPanicOnDrop);
        let _ = task.join().await; // Ok(1) or a panic error: either is defensible
        glass::spawn(async { "the loop goes on" }).await
    });
    assert_eq!(after, "the loop goes on");
}

#[test]
fn into_panic_on_a_cancelled_error_panics() {
    let error = paused(|| async {
        let task = glass::spawn(std::future::pending::<()>());
        task.cancel();
        task.join().await.unwrap_err()
    });
    let result = panic::catch_unwind(AssertUnwindSafe(|| error.into_panic()));
    assert!(result.is_err());
}

// ---------------------------------------------------------------------------------------
// detach

#[test]
fn dropping_a_task_detaches_it() {
    let seen = paused(|| async {
        let log = Transcript::new();
        drop({
            let log = log.clone();
            glass::spawn(async move {
                sleep(secs(1)).await;
                log.log("detached task still ran");
            })
        });
        sleep(secs(2)).await;
        log.log("end");
        log.lines()
    });
    assert_eq!(seen, ["1s detached task still ran", "2s end"]);
}

#[test]
fn a_detached_task_that_panics_does_not_disturb_the_loop() {
    let after = paused(|| async {
        drop(glass::spawn(async { panic!("nobody listens") }));
        sleep(secs(1)).await;
        "loop went on"
    });
    assert_eq!(after, "loop went on");
}

// ---------------------------------------------------------------------------------------
// names and ids

#[test]
fn default_task_names_are_task_n_with_n_the_id() {
    let seen = paused(|| async {
        let tasks: Vec<_> = (0..3).map(|_| glass::spawn(async {})).collect();
        let seen: Vec<String> = tasks
            .iter()
            .map(|task| format!("{} {}", task.id(), task.name()))
            .collect();
        for task in tasks {
            task.await;
        }
        seen
    });
    assert_eq!(seen, ["#1 Task-1", "#2 Task-2", "#3 Task-3"]);
}

#[test]
fn builder_names_the_task() {
    let (name, id) = paused(|| async {
        let task = glass::task::Builder::new()
            .name("producer")
            .spawn(async { 1 });
        let seen = (task.name().to_owned(), task.id().to_string());
        assert_eq!(task.await, 1);
        seen
    });
    assert_eq!((name.as_str(), id.as_str()), ("producer", "#1"));
}

#[test]
fn task_ids_are_unique_and_display_as_hash_n() {
    paused(|| async {
        let a = glass::spawn(async {});
        let b = glass::spawn(async {});
        assert_ne!(a.id(), b.id());
        let copy = a.id(); // TaskId is Copy
        assert_eq!(copy, a.id());
        assert_eq!(format!("{}", a.id()), "#1");
        assert_eq!(format!("{}", b.id()), "#2");
        a.await;
        b.await;
    });
}

#[test]
fn a_task_knows_where_it_was_spawned() {
    let (file, line) = paused(|| async {
        let line = line!() + 1;
        let task = glass::spawn(async {});
        let at = task.spawned_at();
        task.await;
        (at.file().to_owned(), at.line() == line)
    });
    assert!(file.ends_with("tasks.rs"), "{file}");
    assert!(line);
}

// ---------------------------------------------------------------------------------------
// Task::wait

#[test]
fn task_wait_on_a_plain_thread_returns_the_output() {
    let (value, thread_of_task, loop_thread) = paused(|| async {
        let handle = glass::Handle::current();
        let (send_back, received) = oneshot::channel();
        std::thread::spawn(move || {
            let task = handle.spawn(async {
                sleep(secs(1)).await;
                (42, std::thread::current().id())
            });
            let _ = send_back.send(task.wait());
        });
        let (value, thread_of_task) = received.await.unwrap();
        (value, thread_of_task, std::thread::current().id())
    });
    assert_eq!(value, 42);
    assert_eq!(
        thread_of_task, loop_thread,
        "the task runs on the loop's thread"
    );
}

#[test]
fn task_wait_on_a_plain_thread_re_raises_the_panic() {
    let message = paused(|| async {
        let handle = glass::Handle::current();
        let (send_back, received) = oneshot::channel();
        std::thread::spawn(move || {
            let task = handle.spawn(async { panic!("boom from the loop") });
            let result = panic::catch_unwind(AssertUnwindSafe(|| task.wait()));
            let _ = send_back.send(result.map_err(|payload| panic_text(payload.as_ref())));
        });
        received.await.unwrap().unwrap_err()
    });
    assert_eq!(message, "boom from the loop");
}

#[test]
fn task_wait_on_a_loop_thread_panics_with_a_clear_message() {
    let message = paused(|| async {
        let task = glass::spawn(async { 1 });
        let payload = panic::catch_unwind(AssertUnwindSafe(|| task.wait())).unwrap_err();
        // The loop is not hurt: it goes on running tasks.
        assert_eq!(glass::spawn(async { 2 }).await, 2);
        panic_text(payload.as_ref())
    });
    assert!(message.contains("Task::wait()"), "{message}");
    assert!(message.contains("event loop"), "{message}");
    assert!(message.contains(".await"), "{message}");
}
