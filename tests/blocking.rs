//! Blocking work: `run_in_executor`, the shared blocking pool, `ThreadPool`, and the
//! files of `glass::fs` that run on it.
//!
//! Threads are the subject here, so some tests use real threads and real time — always
//! short waits (a few milliseconds) and bounded ones: every wait for another thread
//! gives up after a generous limit, and every test body runs under a watchdog, so a
//! lost job or a deadlock fails the test instead of hanging CI. Tests of timing run on
//! the paused clock.

use std::any::Any;
use std::cell::RefCell;
use std::fmt::Display;
use std::future::Future;
use std::io::SeekFrom;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use glass::blocking::ThreadPoolStatistics;
use glass::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use glass::time::Instant;
use glass::{run_in_executor, sleep, Task, ThreadPool};

// ---------------------------------------------------------------------------------------
// Helpers

/// A real-time limit far above what any test here needs: only a hang trips it.
const WATCHDOG: Duration = Duration::from_secs(20);

/// How long a job waits for something another thread should do "at once" before it
/// gives up: long enough for the slowest CI machine, short enough to fail quickly.
const PATIENCE: Duration = Duration::from_secs(5);

/// Runs `body` on a thread of its own, and fails the test if it has not finished after
/// [`WATCHDOG`] of real time — a runtime bug that hangs fails the test instead of
/// hanging CI. A panic in `body` is re-raised here.
fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let name = thread::current().name().unwrap_or("test").to_owned();
    let (done, finished) = mpsc::channel();
    let thread = thread::Builder::new()
        .name(name)
        .spawn(move || {
            let output = body();
            let _ = done.send(());
            output
        })
        .expect("could not start the test's thread");
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(WATCHDOG) {
        panic!("the test did not finish within {WATCHDOG:?} of real time: a hang");
    }
    thread
        .join()
        .unwrap_or_else(|panic| panic::resume_unwind(panic))
}

/// Runs the future made by `test` on a new paused-clock loop, under the [`watchdog`].
fn paused<F, Fut>(test: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    watchdog(|| {
        glass::EventLoop::builder()
            .paused_clock(true)
            .build()
            .run_until_complete(test())
    })
}

/// Runs the future made by `test` on a new loop with the real clock (whatever
/// `GLASS_PAUSED_CLOCK` says), under the [`watchdog`].
fn real<F, Fut>(test: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    watchdog(|| {
        glass::EventLoop::builder()
            .paused_clock(false)
            .build()
            .run_until_complete(test())
    })
}

/// Blocks this (plain) thread until `condition` holds, checking every millisecond, for
/// at most `limit`. Returns whether it held.
fn wait_until(limit: Duration, condition: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while !condition() {
        if start.elapsed() > limit {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// A flag that one thread raises and jobs on other threads wait for.
#[derive(Clone, Default)]
struct Gate(Arc<AtomicBool>);

impl Gate {
    fn open(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_open(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits (blocking, bounded by [`PATIENCE`]) until the gate opens; false if it
    /// never did.
    fn wait(&self) -> bool {
        wait_until(PATIENCE, || self.is_open())
    }
}

/// Opens its gate when dropped: shows that a job's closure (or its result) was dropped.
struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Counts jobs running at once, and remembers the most there ever were.
#[derive(Clone, Default)]
struct Concurrency {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Concurrency {
    /// Counts this job as running while `job` runs.
    fn run<T>(&self, job: impl FnOnce() -> T) -> T {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let output = job();
        self.running.fetch_sub(1, Ordering::SeqCst);
        output
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

fn millis(millis: u64) -> Duration {
    Duration::from_millis(millis)
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

/// The name of the thread this runs on.
fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
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

/// A directory of its own for one test, under the system's temporary directory;
/// removed (with everything in it) when dropped, even if the test fails.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("glass-test-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path); // left over from a crashed run
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Known, position-dependent bytes: `bytes[i]` tells where it is.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Polls `future` once, with the task's waker, and returns what it said.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

// ---------------------------------------------------------------------------------------
// run_in_executor

#[test]
fn run_in_executor_returns_the_value_of_the_job() {
    let value = paused(|| async { run_in_executor(|| (1..=100u64).sum::<u64>()).await });
    assert_eq!(value, 5050);
}

#[test]
fn run_in_executor_runs_the_job_on_a_thread_of_the_shared_pool() {
    let (name, loop_thread) = paused(|| async {
        let name = run_in_executor(thread_name).await;
        (name, thread::current().id())
    });
    assert!(name.starts_with("glass-blocking-"), "ran on {name:?}");
    assert_ne!(thread::current().id(), loop_thread);
}

#[test]
fn spawn_blocking_is_another_name_for_run_in_executor() {
    let (value, name) =
        paused(|| async { glass::task::spawn_blocking(|| (6 * 7, thread_name())).await });
    assert_eq!(value, 42);
    assert!(name.starts_with("glass-blocking-"), "ran on {name:?}");
}

#[test]
fn a_panic_in_a_job_becomes_the_tasks_panic() {
    let (is_panic, display, message) = paused(|| async {
        let error = run_in_executor(|| -> u32 { panic!("job boom") })
            .join()
            .await
            .unwrap_err();
        let display = error.to_string();
        (error.is_panic(), display, panic_text(&*error.into_panic()))
    });
    assert!(is_panic);
    assert_eq!(message, "job boom");
    assert!(display.contains("job boom"), "{display}");
}

#[test]
fn awaiting_a_job_that_panicked_re_raises_its_panic_in_the_awaiting_task() {
    let message = paused(|| async {
        let outer = glass::spawn(async { run_in_executor(|| -> u32 { panic!("job boom") }).await });
        let error = outer.join().await.unwrap_err();
        assert!(error.is_panic(), "{error}");
        panic_text(&*error.into_panic())
    });
    assert_eq!(message, "job boom");
}

#[test]
fn run_in_executor_works_from_a_plain_thread() {
    let value = watchdog(|| run_in_executor(|| 6 * 7).wait());
    assert_eq!(value, 42);
}

#[test]
fn the_loop_keeps_running_other_tasks_while_a_job_blocks() {
    let (ticks_during_job, value) = real(|| async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let ticks = ticks.clone();
            glass::spawn(async move {
                loop {
                    sleep(millis(1)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        let seen_by_job = ticks.clone();
        let job = run_in_executor(move || {
            let at_start = seen_by_job.load(Ordering::SeqCst);
            thread::sleep(millis(20));
            // A slow machine may tick less often: give the loop more time, bounded.
            wait_until(PATIENCE, || {
                seen_by_job.load(Ordering::SeqCst) >= at_start + 3
            });
            (seen_by_job.load(Ordering::SeqCst) - at_start, "done")
        });
        let output = job.await;
        ticker.cancel();
        output
    });
    assert_eq!(value, "done");
    assert!(
        ticks_during_job >= 3,
        "the ticking task ticked {ticks_during_job} times while the job blocked"
    );
}

// ---------------------------------------------------------------------------------------
// The paused clock and blocking jobs

#[test]
fn the_paused_clock_does_not_jump_while_a_blocking_job_runs() {
    let (result, elapsed) = paused(|| async {
        let start = Instant::now();
        let job = run_in_executor(|| {
            thread::sleep(millis(20));
            1
        });
        let result = glass::wait_for(job, secs(3600)).await;
        (result, start.elapsed())
    });
    assert_eq!(result, Ok(1));
    assert_eq!(elapsed, Duration::ZERO);
}

#[test]
fn a_sleeping_task_on_the_paused_clock_does_not_finish_before_a_running_job() {
    let seen = paused(|| async {
        let log = Transcript::new();
        let sleeper = {
            let log = log.clone();
            glass::spawn(async move {
                sleep(secs(10)).await;
                log.log("slept 10 s");
            })
        };
        let value = run_in_executor(|| {
            thread::sleep(millis(20));
            1
        })
        .await;
        log.log(format!("job gave {value}"));
        sleeper.await;
        log.lines()
    });
    assert_eq!(seen, ["0ns job gave 1", "10s slept 10 s"], "{seen:#?}");
}

#[test]
fn the_paused_clock_does_not_jump_while_a_thread_pool_job_runs() {
    let (result, elapsed) = paused(|| async {
        let pool = ThreadPool::new(1);
        let start = Instant::now();
        let job = pool.submit(|| {
            thread::sleep(millis(20));
            "pool"
        });
        let result = glass::wait_for(job, secs(3600)).await;
        pool.shutdown();
        (result, start.elapsed())
    });
    assert_eq!(result, Ok("pool"));
    assert_eq!(elapsed, Duration::ZERO);
}

#[test]
fn waiting_for_a_quick_blocking_job_on_the_paused_clock_never_lets_the_clock_jump() {
    // A job that ends at once: the loop is still finishing its turn when the job ends,
    // and must not take the moment between "job ended" and "its task is woken" for
    // "nothing can happen before the next timer".
    let failures = paused(|| async {
        let mut failures = Vec::new();
        for round in 0..1_000u64 {
            let start = Instant::now();
            let result = glass::wait_for(run_in_executor(move || round), secs(3600)).await;
            if result != Ok(round) || start.elapsed() != Duration::ZERO {
                failures.push(format!(
                    "round {round}: {result:?} after {:?}",
                    start.elapsed()
                ));
            }
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{} of 1000 rounds saw the clock jump: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

#[test]
fn a_paused_loop_moves_on_when_a_job_nobody_awaits_ends() {
    let (elapsed, job_ended) = paused(|| async {
        let start = Instant::now();
        let ended = Gate::default();
        let job_ended = ended.clone();
        drop(run_in_executor(move || {
            thread::sleep(millis(20));
            job_ended.open();
        }));
        sleep(secs(1)).await;
        (start.elapsed(), ended.is_open())
    });
    assert_eq!(elapsed, secs(1));
    assert!(job_ended, "the clock waited for the job before it jumped");
}

// ---------------------------------------------------------------------------------------
// Cancelling blocking jobs

#[test]
fn cancelling_the_task_of_a_running_job_lets_the_job_run_to_its_end_and_reports_cancelled() {
    let (cancelled, job_finished, result_dropped) = real(|| async {
        let started = Gate::default();
        let finished = Gate::default();
        let result_dropped = Gate::default();
        let job = {
            let (started, finished, result_dropped) =
                (started.clone(), finished.clone(), result_dropped.clone());
            run_in_executor(move || {
                started.open();
                thread::sleep(millis(20));
                finished.open();
                OpenOnDrop(result_dropped)
            })
        };
        while !started.is_open() {
            sleep(millis(1)).await;
        }
        job.cancel();
        let result = job.join().await;
        let cancelled = result.as_ref().is_err_and(|error| error.is_cancelled());
        drop(result);
        (cancelled, finished.is_open(), result_dropped.is_open())
    });
    assert!(cancelled, "the task reports cancelled");
    assert!(job_finished, "the job ran to its end");
    assert!(result_dropped, "the job's result was dropped");
}

#[test]
fn cancelling_a_queued_job_means_it_never_runs() {
    let (cancelled, ran, closure_dropped) = paused(|| async {
        let pool = ThreadPool::new(1);
        let gate = Gate::default();
        let busy = {
            let gate = gate.clone();
            pool.submit(move || gate.wait())
        };
        let ran = Gate::default();
        let closure_dropped = Gate::default();
        let queued = {
            let ran = ran.clone();
            let guard = OpenOnDrop(closure_dropped.clone());
            pool.submit(move || {
                let _guard = guard;
                ran.open();
            })
        };
        queued.cancel(); // the only worker is busy: the job is still queued
        gate.open();
        let result = queued.join().await;
        assert!(busy.await, "the busy job waited for its gate");
        pool.shutdown();
        let cancelled = result.is_err_and(|error| error.is_cancelled());
        (cancelled, ran.is_open(), closure_dropped.is_open())
    });
    assert!(cancelled, "the task reports cancelled");
    assert!(!ran, "the job never ran");
    assert!(closure_dropped, "the job's closure was dropped");
}

// ---------------------------------------------------------------------------------------
// The shared pool's cap, and a pool's workers

#[test]
fn the_shared_pool_never_has_more_threads_than_its_cap() {
    let (most_running, most_threads, threads_after) = paused(|| async {
        let concurrency = Concurrency::default();
        let most_threads = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..200)
            .map(|i| {
                let concurrency = concurrency.clone();
                let most_threads = most_threads.clone();
                run_in_executor(move || {
                    concurrency.run(|| {
                        most_threads
                            .fetch_max(glass::blocking::blocking_threads(), Ordering::SeqCst);
                        thread::sleep(millis(5));
                        i
                    })
                })
            })
            .collect();
        let outputs = glass::gather_all(jobs).await;
        assert_eq!(outputs, (0..200).collect::<Vec<_>>(), "every job ran once");
        (
            concurrency.most(),
            most_threads.load(Ordering::SeqCst),
            glass::blocking::blocking_threads(),
        )
    });
    let cap = glass::blocking::DEFAULT_MAX_THREADS;
    assert!(
        most_running <= cap,
        "{most_running} jobs ran at once; the cap is {cap}"
    );
    assert!(
        most_running > 1,
        "the pool grew on demand: {most_running} at most"
    );
    assert!(
        most_threads <= cap,
        "the pool had {most_threads} threads; the cap is {cap}"
    );
    assert!(
        threads_after <= cap,
        "the pool had {threads_after} threads; the cap is {cap}"
    );
}

#[test]
fn a_pool_never_runs_more_jobs_at_once_than_its_workers_and_loses_none() {
    watchdog(|| {
        let pool = ThreadPool::builder().workers(3).build();
        let concurrency = Concurrency::default();
        let jobs: Vec<Task<usize>> = (0..50)
            .map(|i| {
                let concurrency = concurrency.clone();
                pool.submit(move || {
                    concurrency.run(|| {
                        thread::sleep(millis(1));
                        i
                    })
                })
            })
            .collect();
        let outputs: Vec<usize> = jobs.into_iter().map(Task::wait).collect();
        assert_eq!(outputs, (0..50).collect::<Vec<_>>(), "every job ran once");
        assert!(
            concurrency.most() <= 3,
            "{} jobs ran at once",
            concurrency.most()
        );
        assert!(pool.threads() <= 3, "{} workers", pool.threads());
        pool.shutdown();
    });
}

#[test]
fn a_pool_runs_as_many_jobs_at_once_as_it_has_workers() {
    watchdog(|| {
        let pool = ThreadPool::builder().workers(3).build();
        // Twice: first with no worker started yet, then with three idle workers.
        for round in ["cold", "warm"] {
            let arrived = Arc::new(AtomicUsize::new(0));
            let jobs: Vec<_> = (0..3)
                .map(|_| {
                    let arrived = arrived.clone();
                    pool.submit(move || {
                        arrived.fetch_add(1, Ordering::SeqCst);
                        // Only true if the three jobs run at the same time.
                        wait_until(PATIENCE, || arrived.load(Ordering::SeqCst) == 3)
                    })
                })
                .collect();
            for job in jobs {
                assert!(job.wait(), "{round}: the three jobs did not run at once");
            }
            assert_eq!(pool.threads(), 3, "{round}");
            assert!(
                wait_until(PATIENCE, || pool.statistics().idle == 3),
                "{round}: {:?}",
                pool.statistics()
            );
        }
        pool.shutdown();
    });
}

#[test]
fn jobs_submitted_together_run_at_once_when_only_one_worker_is_idle() {
    watchdog(|| {
        let pool = ThreadPool::builder().workers(4).build();
        pool.submit(|| ()).wait();
        assert!(wait_until(PATIENCE, || pool.statistics().idle == 1));
        // One idle worker and room for three more: two jobs that need each other must
        // both get a worker (the idle one, and a new one).
        let arrived = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let arrived = arrived.clone();
                pool.submit(move || {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    wait_until(PATIENCE, || arrived.load(Ordering::SeqCst) == 2)
                })
            })
            .collect();
        let met: Vec<bool> = jobs.into_iter().map(Task::wait).collect();
        assert_eq!(met, [true, true], "the two jobs did not run at once");
        pool.shutdown();
    });
}

#[test]
fn queued_jobs_start_in_the_order_they_were_submitted() {
    watchdog(|| {
        let pool = ThreadPool::builder().workers(3).build();
        // Keep all three workers busy, so that every job after them queues.
        let gates: Vec<Gate> = (0..3).map(|_| Gate::default()).collect();
        let started = Arc::new(AtomicUsize::new(0));
        let blockers: Vec<Task<bool>> = gates
            .iter()
            .map(|gate| {
                let (gate, started) = (gate.clone(), started.clone());
                pool.submit(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    gate.wait()
                })
            })
            .collect();
        assert!(wait_until(PATIENCE, || started.load(Ordering::SeqCst) == 3));
        let order = Arc::new(Mutex::new(Vec::new()));
        let jobs: Vec<Task<()>> = (0..50)
            .map(|i| {
                let order = order.clone();
                pool.submit(move || order.lock().unwrap().push(i))
            })
            .collect();
        assert_eq!(
            pool.statistics(),
            ThreadPoolStatistics {
                threads: 3,
                idle: 0,
                queued: 50,
                running: 3
            }
        );
        // One worker comes free and takes the whole queue alone: its order is the
        // queue's order.
        gates[0].open();
        jobs.into_iter().for_each(Task::wait);
        assert_eq!(*order.lock().unwrap(), (0..50).collect::<Vec<_>>());
        gates[1..].iter().for_each(Gate::open);
        for blocker in blockers {
            assert!(blocker.wait(), "a blocker's gate never opened");
        }
        pool.shutdown();
    });
}

#[test]
fn idle_workers_exit_after_the_keep_alive_and_new_work_starts_one_again() {
    watchdog(|| {
        let pool = Arc::new(
            ThreadPool::builder()
                .workers(4)
                .keep_alive(millis(30))
                .build(),
        );
        let arrived = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let arrived = arrived.clone();
                pool.submit(move || {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    wait_until(PATIENCE, || arrived.load(Ordering::SeqCst) == 4)
                })
            })
            .collect();
        for job in jobs {
            assert!(job.wait(), "four workers started on demand");
        }
        assert!(
            wait_until(secs(2), || pool.threads() == 0),
            "the idle workers did not exit: {:?}",
            pool.statistics()
        );
        let inside = Arc::clone(&pool);
        let (threads, name) = pool
            .submit(move || (inside.threads(), thread_name()))
            .wait();
        assert_eq!(threads, 1, "a new job started one worker");
        assert!(name.starts_with("glass-pool-"), "ran on {name:?}");
        assert!(
            wait_until(secs(2), || pool.threads() == 0),
            "the new worker did not exit: {:?}",
            pool.statistics()
        );
    });
}

#[test]
fn a_pool_of_zero_workers_panics_with_a_message() {
    let payload = panic::catch_unwind(|| ThreadPool::new(0)).unwrap_err();
    let message = panic_text(&*payload);
    assert!(message.contains("at least one"), "{message}");
}

// ---------------------------------------------------------------------------------------
// ThreadPool: submit, wait, map, callbacks

#[test]
fn a_pool_job_can_be_waited_for_from_plain_threads() {
    watchdog(|| {
        let pool = ThreadPool::new(2);
        assert_eq!(pool.submit(|| 5).wait(), 5);
        // The task is Send: another thread may wait for it.
        let task = pool.submit(|| "sent");
        let waited = thread::spawn(move || task.wait()).join().unwrap();
        assert_eq!(waited, "sent");
        pool.shutdown();
    });
}

#[test]
fn waiting_for_a_pool_job_that_panicked_re_raises_its_panic() {
    let message = watchdog(|| {
        let pool = ThreadPool::new(1);
        let task = pool.submit(|| -> u32 { panic!("pool job boom") });
        let payload = panic::catch_unwind(AssertUnwindSafe(|| task.wait())).unwrap_err();
        // The worker survives its job's panic.
        assert_eq!(pool.submit(|| 1).wait(), 1);
        pool.shutdown();
        panic_text(&*payload)
    });
    assert_eq!(message, "pool job boom");
}

#[test]
fn awaiting_a_pool_job_on_a_loop_gives_its_value() {
    let (value, name) = paused(|| async {
        let pool = ThreadPool::new(2);
        let output = pool.submit(|| (7 * 6, thread_name())).await;
        pool.shutdown();
        output
    });
    assert_eq!(value, 42);
    assert!(name.starts_with("glass-pool-"), "ran on {name:?}");
}

#[test]
fn map_returns_results_in_input_order() {
    let (outputs, finish_order) = paused(|| async {
        let pool = ThreadPool::new(4);
        let finished = Arc::new(Mutex::new(Vec::new()));
        let record = finished.clone();
        // Later items finish sooner.
        let outputs = pool
            .map(
                move |n: u64| {
                    thread::sleep(millis(2 * (8 - n)));
                    record.lock().unwrap().push(n);
                    n * n
                },
                0..8,
            )
            .await;
        pool.shutdown();
        let finish_order = finished.lock().unwrap().clone();
        (outputs, finish_order)
    });
    assert_eq!(outputs, [0, 1, 4, 9, 16, 25, 36, 49]);
    assert_eq!(finish_order.len(), 8, "{finish_order:?}");
}

#[test]
fn map_re_raises_the_first_panic_in_input_order_once_every_job_has_ended() {
    let (message, last_job_ended) = real(|| async {
        let pool = Rc::new(ThreadPool::new(4));
        let mapper = Rc::clone(&pool);
        let ended = Gate::default();
        let last_ended = ended.clone();
        let mapping = glass::spawn(async move {
            mapper
                .map(
                    move |n: u64| match n {
                        0 => {
                            thread::sleep(millis(20));
                            panic!("item 0")
                        }
                        1 => panic!("item 1"),
                        _ => {
                            thread::sleep(millis(30));
                            last_ended.open();
                            n
                        }
                    },
                    0..3,
                )
                .await
        });
        let error = mapping.join().await.unwrap_err();
        let last_job_ended = ended.is_open();
        pool.shutdown();
        (panic_text(&*error.into_panic()), last_job_ended)
    });
    assert_eq!(message, "item 0", "the first panic in input order");
    assert!(last_job_ended, "map waited for every job to end");
}

#[test]
fn submit_with_callback_calls_the_callback_with_the_value_on_a_worker_thread() {
    let (value, seen) = watchdog(|| {
        let pool = ThreadPool::builder().workers(2).name("checker").build();
        let seen = Arc::new(Mutex::new(None));
        let record = seen.clone();
        let task = pool.submit_with_callback(
            || 21 * 2,
            move |value: &u32| *record.lock().unwrap() = Some((*value, thread_name())),
        );
        let value = task.wait();
        pool.shutdown();
        let seen = seen.lock().unwrap().take();
        (value, seen)
    });
    assert_eq!(value, 42);
    let (called_with, thread) = seen.expect("the callback ran before the task finished");
    assert_eq!(called_with, 42);
    assert!(
        thread.starts_with("checker-"),
        "the callback ran on {thread:?}"
    );
}

#[test]
fn submit_with_callback_does_not_call_the_callback_when_the_job_panics() {
    let (is_panic, called) = watchdog(|| {
        let pool = ThreadPool::new(1);
        let called = Gate::default();
        let flag = called.clone();
        let task =
            pool.submit_with_callback(|| -> u32 { panic!("job boom") }, move |_| flag.open());
        let is_panic = panic::catch_unwind(AssertUnwindSafe(|| task.wait())).is_err();
        pool.shutdown();
        (is_panic, called.is_open())
    });
    assert!(is_panic);
    assert!(!called);
}

// ---------------------------------------------------------------------------------------
// ThreadPool: shutdown and drop

#[test]
fn shutdown_waits_for_queued_and_running_jobs() {
    let (done, threads) = watchdog(|| {
        let pool = ThreadPool::new(2);
        let done = Arc::new(Mutex::new(Vec::new()));
        for i in 0..10 {
            let done = done.clone();
            // The task is dropped (detached): only shutdown waits for the job.
            drop(pool.submit(move || {
                thread::sleep(millis(2));
                done.lock().unwrap().push(i);
            }));
        }
        pool.shutdown();
        let mut done = done.lock().unwrap().clone();
        done.sort();
        (done, pool.threads())
    });
    assert_eq!(
        done,
        (0..10).collect::<Vec<_>>(),
        "every job ended before shutdown returned"
    );
    assert_eq!(threads, 0, "every worker exited");
}

#[test]
fn submit_after_shutdown_panics_with_a_message_about_shutdown() {
    let message = watchdog(|| {
        let pool = ThreadPool::new(1);
        pool.shutdown();
        let payload = panic::catch_unwind(AssertUnwindSafe(|| pool.submit(|| 1))).unwrap_err();
        panic_text(&*payload)
    });
    assert!(message.contains("shutdown"), "{message}");
}

#[test]
fn dropping_a_pool_without_shutdown_does_not_wait_but_queued_jobs_still_run() {
    let messages = watchdog(|| {
        let pool = ThreadPool::new(1);
        let gate = Gate::default();
        let (sender, receiver) = mpsc::channel();
        {
            let (gate, sender) = (gate.clone(), sender.clone());
            drop(pool.submit(move || {
                let opened = gate.wait();
                sender
                    .send(format!("first, gate opened: {opened}"))
                    .unwrap();
            }));
        }
        for i in 1..=3 {
            let sender = sender.clone();
            drop(pool.submit(move || sender.send(format!("queued {i}")).unwrap()));
        }
        drop(sender);
        // If dropping waited for the jobs, the first job would still be blocked on
        // the gate, which only opens after the drop: it would wait out its patience.
        drop(pool);
        gate.open();
        (0..4)
            .map(|_| {
                receiver
                    .recv_timeout(PATIENCE)
                    .expect("a queued job never ran")
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        messages,
        [
            "first, gate opened: true",
            "queued 1",
            "queued 2",
            "queued 3"
        ]
    );
}

#[test]
fn task_wait_on_a_loop_thread_panics() {
    let message = paused(|| async {
        let task = run_in_executor(|| 1);
        let payload = panic::catch_unwind(AssertUnwindSafe(|| task.wait())).unwrap_err();
        panic_text(&*payload)
    });
    assert!(message.contains("Task::wait()"), "{message}");
    assert!(message.contains("event loop"), "{message}");
}

// ---------------------------------------------------------------------------------------
// Stress

#[test]
fn ten_thousand_offloads_from_four_loops_at_once_all_complete() {
    let elapsed = watchdog(|| {
        let start = std::time::Instant::now();
        let loops: Vec<_> = (0..4u64)
            .map(|loop_number| {
                thread::spawn(move || {
                    glass::run(async move {
                        let jobs: Vec<_> = (0..2_500u64)
                            .map(|i| run_in_executor(move || loop_number * 1_000_000 + i))
                            .collect();
                        glass::gather_all(jobs).await
                    })
                })
            })
            .collect();
        for (loop_number, handle) in (0..4u64).zip(loops) {
            let outputs = handle.join().unwrap();
            let expected: Vec<u64> = (0..2_500).map(|i| loop_number * 1_000_000 + i).collect();
            assert!(
                outputs == expected,
                "loop {loop_number}: a job's result was lost or misplaced"
            );
            let sum: u64 = outputs.iter().sum();
            assert_eq!(sum, loop_number * 1_000_000 * 2_500 + 2_500 * 2_499 / 2);
        }
        start.elapsed()
    });
    assert!(elapsed < secs(10), "took {elapsed:?}");
}

// ---------------------------------------------------------------------------------------
// fs: whole-file functions

#[test]
fn fs_functions_round_trip_in_a_directory_of_their_own() {
    let dir = TempDir::new("fs_round_trip");
    let root = dir.path().to_owned();
    paused(move || async move {
        let nested = dir.path().join("a").join("b");
        glass::fs::create_dir_all(&nested).await.unwrap();
        glass::fs::create_dir_all(&nested).await.unwrap(); // already there: fine
        assert!(glass::fs::metadata(&nested).await.unwrap().is_dir());

        let file = nested.join("hello.txt");
        glass::fs::write(&file, "hello, glass\n").await.unwrap();
        assert_eq!(glass::fs::read(&file).await.unwrap(), b"hello, glass\n");
        assert_eq!(
            glass::fs::read_to_string(&file).await.unwrap(),
            "hello, glass\n"
        );
        let metadata = glass::fs::metadata(&file).await.unwrap();
        assert!(metadata.is_file());
        assert_eq!(metadata.len(), 13);

        glass::fs::write(&file, b"replaced").await.unwrap();
        assert_eq!(glass::fs::read_to_string(&file).await.unwrap(), "replaced");

        glass::fs::remove_file(&file).await.unwrap();
        let gone = glass::fs::metadata(&file).await.unwrap_err();
        assert_eq!(gone.kind(), std::io::ErrorKind::NotFound);

        glass::fs::remove_dir(&nested).await.unwrap();
        assert!(!nested.exists());
        let left = dir.path().join("a").join("left.txt");
        glass::fs::write(&left, "x").await.unwrap();
        glass::fs::remove_dir_all(dir.path()).await.unwrap();
        assert!(!dir.path().exists());
    });
    assert!(!root.exists(), "the test's directory was removed");
}

#[test]
fn an_fs_error_names_the_path_and_keeps_its_kind() {
    let dir = TempDir::new("fs_errors");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let missing = dir.path().join("no-such-file.txt");
        let errors = [
            ("read", glass::fs::read(&missing).await.map(drop)),
            (
                "read_to_string",
                glass::fs::read_to_string(&missing).await.map(drop),
            ),
            ("metadata", glass::fs::metadata(&missing).await.map(drop)),
            ("remove_file", glass::fs::remove_file(&missing).await),
            (
                "File::open",
                glass::fs::File::open(&missing).await.map(drop),
            ),
            ("remove_dir", glass::fs::remove_dir(&missing).await),
            ("remove_dir_all", glass::fs::remove_dir_all(&missing).await),
        ];
        for (operation, result) in errors {
            let error = result.unwrap_err();
            assert_eq!(
                error.kind(),
                std::io::ErrorKind::NotFound,
                "{operation}: {error}"
            );
            assert!(
                error.to_string().contains("no-such-file.txt"),
                "{operation}: the error does not name the file: {error}"
            );
        }
        let below_missing = dir.path().join("no-such-dir").join("file.txt");
        let error = glass::fs::write(&below_missing, "x").await.unwrap_err();
        assert!(error.to_string().contains("no-such-dir"), "{error}");
        let error = glass::fs::File::create(&below_missing).await.unwrap_err();
        assert!(error.to_string().contains("no-such-dir"), "{error}");
    });
}

// ---------------------------------------------------------------------------------------
// fs: File

#[test]
fn a_file_written_line_by_line_and_closed_reads_back_whole() {
    let dir = TempDir::new("file_lines");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("lines.txt");
        let mut expected = String::new();
        let mut file = glass::fs::File::create(&path).await.unwrap();
        for i in 0..1_000 {
            let line = format!("line {i}\n");
            file.write_all(line.as_bytes()).await.unwrap();
            expected.push_str(&line);
        }
        file.close().await.unwrap();
        assert_eq!(file.path(), path);

        assert_eq!(glass::fs::read_to_string(&path).await.unwrap(), expected);
        let mut text = String::new();
        let mut file = glass::fs::File::open(&path).await.unwrap();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, expected);
    });
}

#[test]
fn a_write_larger_than_one_chunk_is_written_whole() {
    let dir = TempDir::new("file_big_write");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("big.bin");
        let data = pattern(200_000); // over three 64 KiB chunks
        let mut file = glass::fs::File::create(&path).await.unwrap();
        file.write_all(&data).await.unwrap();
        file.close().await.unwrap();
        assert!(glass::fs::read(&path).await.unwrap() == data);
        let mut back = Vec::new();
        glass::fs::File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert!(back == data, "read {} bytes of {}", back.len(), data.len());
    });
}

#[test]
fn seek_current_after_read_exact_gives_the_bytes_read_so_far() {
    let dir = TempDir::new("file_seek_current");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("data.bin");
        let data = pattern(1_000);
        glass::fs::write(&path, &data).await.unwrap();
        let mut file = glass::fs::File::open(&path).await.unwrap();
        let mut head = [0; 7];
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(head, data[..7]);
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 7);
        let mut next = [0; 3];
        file.read_exact(&mut next).await.unwrap();
        assert_eq!(next, data[7..10]);
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 10);
        assert_eq!(file.seek(SeekFrom::Current(5)).await.unwrap(), 15);
        let mut one = [0; 1];
        file.read_exact(&mut one).await.unwrap();
        assert_eq!(one[0], data[15]);
    });
}

#[test]
fn seek_current_accounts_for_bytes_read_ahead_by_an_abandoned_read() {
    let dir = TempDir::new("file_read_ahead");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("data.bin");
        let data = pattern(1_000);
        glass::fs::write(&path, &data).await.unwrap();
        let mut file = glass::fs::File::open(&path).await.unwrap();
        // A read of 100 bytes starts on the pool and is abandoned after one poll: the
        // file fetches 100 bytes but hands out none (unless the read was quick enough
        // to finish in that poll).
        let mut big = [0; 100];
        let handed_out = match poll_once(&mut file.read(&mut big)).await {
            Poll::Ready(result) => result.unwrap(),
            Poll::Pending => 0,
        };
        let mut head = [0; 7];
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(head, data[handed_out..handed_out + 7]);
        let position = file.seek(SeekFrom::Current(0)).await.unwrap();
        assert_eq!(
            position,
            handed_out as u64 + 7,
            "the read-ahead bytes are not counted"
        );
        let mut next = [0; 5];
        file.read_exact(&mut next).await.unwrap();
        assert_eq!(next, data[handed_out + 7..handed_out + 12]);
    });
}

#[test]
fn seek_from_start_or_end_then_read_gives_the_bytes_at_that_offset() {
    let dir = TempDir::new("file_seek_start");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("data.bin");
        let data = pattern(1_000);
        glass::fs::write(&path, &data).await.unwrap();
        let mut file = glass::fs::File::open(&path).await.unwrap();
        let mut head = [0; 3];
        file.read_exact(&mut head).await.unwrap(); // a partial read first
        assert_eq!(file.seek(SeekFrom::Start(500)).await.unwrap(), 500);
        let mut middle = [0; 10];
        file.read_exact(&mut middle).await.unwrap();
        assert_eq!(middle, data[500..510]);
        assert_eq!(file.seek(SeekFrom::End(-4)).await.unwrap(), 996);
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).await.unwrap();
        assert_eq!(tail, data[996..]);
        assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(head, data[..3]);
    });
}

#[test]
fn a_write_after_a_seek_lands_at_that_offset() {
    let dir = TempDir::new("file_write_seek");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("greeting.txt");
        let mut file = glass::fs::File::create(&path).await.unwrap();
        file.write_all(b"hello world").await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 11);
        assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
        file.write_all(b"glass").await.unwrap();
        file.seek(SeekFrom::End(0)).await.unwrap();
        file.write_all(b"!\n").await.unwrap();
        file.close().await.unwrap();
        assert_eq!(
            glass::fs::read_to_string(&path).await.unwrap(),
            "hello glass!\n"
        );
    });
}

#[test]
fn a_failed_write_is_reported_by_the_next_operation_naming_the_path() {
    let dir = TempDir::new("file_write_error");
    paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("read-only-handle.txt");
        glass::fs::write(&path, "x").await.unwrap();
        // Opened for reading: a write must fail. It runs while the task goes on, so
        // the error comes from the next operation.
        let mut file = glass::fs::File::open(&path).await.unwrap();
        let _ = file.write_all(b"nope").await;
        let error = file.close().await.unwrap_err();
        assert!(
            error.to_string().contains("read-only-handle.txt"),
            "the error does not name the file: {error}"
        );
    });
}

#[test]
fn lines_of_a_file_through_a_bufreader() {
    use glass::io::{AsyncBufReadExt, BufReader};
    use glass::stream::StreamExt;

    let dir = TempDir::new("file_bufreader_lines");
    let lines = paused(move || async move {
        glass::fs::create_dir_all(dir.path()).await.unwrap();
        let path = dir.path().join("lines.txt");
        let text: String = (0..500).map(|i| format!("line {i}\n")).collect();
        glass::fs::write(&path, &text).await.unwrap();
        let file = glass::fs::File::open(&path).await.unwrap();
        BufReader::new(file)
            .lines()
            .map(|line| line.unwrap())
            .collect::<Vec<String>>()
            .await
    });
    let expected: Vec<String> = (0..500).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, expected);
}
