//! Layer 7 — blocking work: thread pools that hand their results back to the loop.
//!
//! A task must never block: while one poll sleeps in `std::thread::sleep`, reads a
//! big file or computes for a second, every other task on the loop waits. Work that
//! blocks goes to a *pool* of threads instead, and the task awaits its result:
//! [`run_in_executor`] (asyncio's name) sends a closure to the shared blocking pool
//! and returns a [`Task`] for its result.
//!
//! The one idea of this file: a blocking job is an async-task task like any other,
//! whose *home* is a pool instead of a loop. Its future is `async move { job() }`,
//! which completes in its first poll; its schedule function pushes the `Runnable`
//! onto the pool's queue; a pool thread pops it and runs it. When it completes,
//! async-task wakes whoever awaits the `Task` — a task on a loop, through the same
//! cross-thread path as any other wake (chapter 4), or a plain thread blocked in
//! [`Task::wait`]. No channel, no second task: one allocation per job.
//!
//! A pool starts threads on demand, up to a cap, and lets a thread go after it has
//! been idle for a while (the *keep-alive*). The shared pool's cap is 32 threads and
//! its keep-alive 10 s: enough threads for blocking calls that mostly wait (files, name
//! lookups), few enough not to drown a small machine in threads (tokio allows 512).
//! [`ThreadPool`] is the same pool with a fixed number of workers that live until
//! `shutdown`, in the style of `concurrent.futures.ThreadPoolExecutor`.
//!
//! Chapter 8 of the book, "Work that blocks", explains this file.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::{self, Location};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::event_loop;
use crate::executor::{BlockingJobGuard, Runnable};
use crate::gather_all;
use crate::task::{self, Home, Task, TaskId};

/// The shared pool's cap on threads.
pub const DEFAULT_MAX_THREADS: usize = 32;

/// How long an idle thread of the shared pool waits for a job before it exits.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

// ANCHOR: pool_state
/// The part of a pool its threads and its jobs' schedule function share.
pub(crate) struct PoolShared {
    name: &'static str,
    /// Every job's task name: the pool's name, shared, so naming costs no allocation.
    job_name: Arc<str>,
    max_threads: usize,
    /// `None`: threads never exit on their own (a `ThreadPool`'s workers).
    keep_alive: Option<Duration>,
    state: Mutex<PoolState>,
    /// Idle threads wait here for a job.
    job_ready: Condvar,
    next_job_id: AtomicU64,
    /// Jobs submitted and not yet finished (queued or running). A job counts itself
    /// out when its closure is done, before its result wakes anyone.
    unfinished: AtomicUsize,
}

struct PoolState {
    /// Jobs waiting for a thread, oldest first.
    queue: VecDeque<Runnable>,
    threads: usize,
    idle: usize,
    /// Jobs being run right now.
    running: usize,
    shut_down: bool,
    /// Set when the last loop closes: idle threads exit without waiting out their
    /// keep-alive. Cleared by the next job.
    release_idle: bool,
    handles: Vec<JoinHandle<()>>,
}
// ANCHOR_END: pool_state

impl PoolShared {
    fn new(name: &'static str, max_threads: usize, keep_alive: Option<Duration>) -> PoolShared {
        assert!(
            max_threads > 0,
            "a thread pool needs at least one thread; ask for one or more workers"
        );
        PoolShared {
            name,
            job_name: Arc::from(name),
            max_threads,
            keep_alive,
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                running: 0,
                shut_down: false,
                release_idle: false,
                handles: Vec::new(),
            }),
            job_ready: Condvar::new(),
            next_job_id: AtomicU64::new(1),
            unfinished: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so a panic cannot leave the state half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: push
    /// Queues a job, and makes sure a thread will take it: wake an idle one, or start a
    /// new one while under the cap. (Called by the jobs' schedule function.)
    pub(crate) fn push(self: Arc<Self>, job: Runnable) {
        let mut state = self.lock();
        state.queue.push_back(job);
        state.release_idle = false;
        // More jobs wait than idle threads can take: start one more, under the cap. A
        // new thread counts as idle from the start, so that a burst of jobs does not
        // start a thread each before any of them has had the CPU.
        if state.queue.len() > state.idle && state.threads < self.max_threads {
            state.threads += 1;
            state.idle += 1;
            let number = state.threads;
            let pool = Arc::clone(&self);
            let handle = thread::Builder::new()
                .name(format!("{}-{number}", self.name))
                .spawn(move || pool.work())
                .unwrap_or_else(|error| {
                    panic!("glass could not start a thread for its blocking pool: {error}")
                });
            // Forget the threads that have exited on their own since.
            state.handles.retain(|handle| !handle.is_finished());
            state.handles.push(handle);
        }
        drop(state); // the woken thread needs the lock at once
        self.job_ready.notify_one();
    }
    // ANCHOR_END: push

    // ANCHOR: work
    /// A pool thread's life: take the oldest job, run it, repeat; exit after
    /// `keep_alive` without work, or at shutdown once the queue is empty.
    fn work(&self) {
        let mut state = self.lock();
        // This thread was counted idle when it was started (see `push`).
        loop {
            if let Some(job) = state.queue.pop_front() {
                state.idle -= 1;
                state.running += 1;
                drop(state);
                // A job cancelled while it was queued is dropped without running.
                let cancelled = job.metadata().cancel_requested();
                run_counted_step(job, cancelled);
                state = self.lock();
                state.running -= 1;
                state.idle += 1;
                continue;
            }
            if state.shut_down {
                break;
            }
            let timed_out = match self.keep_alive {
                None => {
                    state = self
                        .job_ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                    false
                }
                Some(keep_alive) => {
                    let (guard, wait) = self
                        .job_ready
                        .wait_timeout(state, keep_alive)
                        .unwrap_or_else(PoisonError::into_inner);
                    state = guard;
                    wait.timed_out()
                }
            };
            if (timed_out || state.release_idle) && state.queue.is_empty() {
                break; // idle for the whole keep-alive (or no loop is left): go
            }
        }
        state.idle -= 1;
        state.threads -= 1;
    }
    // ANCHOR_END: work

    // ANCHOR: submit
    /// Makes the task for `job` and queues it.
    #[track_caller]
    fn submit<T, F>(self: &Arc<Self>, job: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        assert!(
            !self.lock().shut_down,
            "ThreadPool::submit was called after shutdown(); submit every job before \
             shutting the pool down, or make a new ThreadPool"
        );
        // The loop that waits for the job (if any) keeps its paused clock still until
        // the job is done: the guard is dropped when the job's future is.
        let counted = JobCount {
            loop_count: event_loop::with_current(|core| core.shared.track_blocking_job()),
        };
        let unfinished = UnfinishedJob::new(self);
        let future = async move {
            let _counted = (counted, unfinished);
            job()
        };
        let id = TaskId(self.next_job_id.fetch_add(1, Ordering::Relaxed));
        let name = Some(Arc::clone(&self.job_name));
        let home = Home::Pool(Arc::clone(self));
        let (runnable, task) = task::new_send_task(home, id, name, Location::caller(), future);
        runnable.schedule();
        task
    }

    // ANCHOR_END: submit

    fn shut_down(&self) -> Vec<JoinHandle<()>> {
        let mut state = self.lock();
        state.shut_down = true;
        let handles = std::mem::take(&mut state.handles);
        drop(state);
        self.job_ready.notify_all();
        handles
    }

    fn threads(&self) -> usize {
        self.lock().threads
    }
}

// ANCHOR: job_count
/// A job's place in its loop's count of running blocking jobs, which keeps a paused
/// clock still.
///
/// It lives in the job's future, but must not leave the count while the job's result
/// is still on its way: a loop that saw "no job running" before the result woke its
/// task would let the paused clock jump past it. So while a pool thread runs a job,
/// the count is only set aside, and `run_counted_step` lets it go once async-task has
/// stored the result and woken whoever waits for it.
struct JobCount {
    loop_count: Option<BlockingJobGuard>,
}

thread_local! {
    /// Set while this (pool) thread runs a job: where its count waits.
    static SET_ASIDE: RefCell<Option<Vec<BlockingJobGuard>>> = const { RefCell::new(None) };
}

impl Drop for JobCount {
    fn drop(&mut self) {
        let Some(count) = self.loop_count.take() else {
            return;
        };
        SET_ASIDE.with(|set_aside| match set_aside.borrow_mut().as_mut() {
            Some(later) => later.push(count),
            None => drop(count), // not on a pool thread: leave the count now
        });
    }
}

/// Runs one step of a job, then lets its count go (see [`JobCount`]).
fn run_counted_step(job: Runnable, cancelled: bool) {
    SET_ASIDE.with(|set_aside| *set_aside.borrow_mut() = Some(Vec::new()));
    let _ = task::run_step(job, cancelled);
    let finished = SET_ASIDE.with(|set_aside| set_aside.borrow_mut().take());
    drop(finished); // now the result is stored and its waiter woken
}
// ANCHOR_END: job_count

/// Counts a job as unfinished until dropped.
struct UnfinishedJob(Arc<PoolShared>);

impl UnfinishedJob {
    fn new(pool: &Arc<PoolShared>) -> UnfinishedJob {
        pool.unfinished.fetch_add(1, Ordering::AcqRel);
        UnfinishedJob(Arc::clone(pool))
    }
}

impl Drop for UnfinishedJob {
    fn drop(&mut self) {
        self.0.unfinished.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The pool behind [`run_in_executor`], made on first use.
static SHARED_POOL: OnceLock<Arc<PoolShared>> = OnceLock::new();

fn shared_pool() -> &'static Arc<PoolShared> {
    SHARED_POOL.get_or_init(|| {
        Arc::new(PoolShared::new(
            "glass-blocking",
            DEFAULT_MAX_THREADS,
            Some(DEFAULT_KEEP_ALIVE),
        ))
    })
}

// ANCHOR: run_in_executor
/// Runs the blocking closure `job` on the shared blocking pool, and returns a [`Task`]
/// for its result; like `loop.run_in_executor(None, job)`.
///
/// Awaiting the task gives the closure's return value, or re-raises its panic. The
/// pool starts threads on demand, at most 32, and lets them go after 10 s idle.
/// Cancelling the task cannot stop a job that has started: it runs to the end, its
/// result is dropped, and the task reports "cancelled". A job cancelled while it still
/// waits in the queue never runs.
///
/// May be called from any thread, inside a loop or not. On the paused clock, time does
/// not jump while a job started from the loop is running.
///
/// # Examples
///
/// ```
/// glass::run(async {
///     let sum = glass::run_in_executor(|| (1..=100u64).sum::<u64>()).await;
///     assert_eq!(sum, 5050);
/// });
/// ```
#[track_caller]
pub fn run_in_executor<T, F>(job: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    shared_pool().submit(job)
}
// ANCHOR_END: run_in_executor

/// The same as [`run_in_executor`], under tokio's name.
#[track_caller]
pub fn spawn_blocking<T, F>(job: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    shared_pool().submit(job)
}

/// How many threads the shared blocking pool has right now (busy or idle).
pub fn blocking_threads() -> usize {
    shared_pool().threads()
}

/// A pool of worker threads for blocking jobs; like
/// `concurrent.futures.ThreadPoolExecutor`.
///
/// [`submit`](ThreadPool::submit) returns a [`Task`]: await it on a loop, or
/// [`wait`](Task::wait) for it on a plain thread. Workers start on demand, up to the
/// number asked for, and live until [`shutdown`](ThreadPool::shutdown).
///
/// Dropping the pool without calling `shutdown` asks the workers to stop once the
/// queue is empty, and does not wait for them: queued jobs still run.
///
/// # Examples
///
/// ```
/// use glass::ThreadPool;
///
/// let pool = ThreadPool::new(3);
/// let square = pool.submit(|| 7 * 7);
/// assert_eq!(square.wait(), 49); // from a plain thread
/// let squares = glass::run(pool.map(|n: u64| n * n, 1..=4));
/// assert_eq!(squares, [1, 4, 9, 16]);
/// pool.shutdown();
/// ```
pub struct ThreadPool {
    pool: Arc<PoolShared>,
}

/// Options for a [`ThreadPool`]: `ThreadPool::builder().workers(4).keep_alive(d).build()`.
#[derive(Debug, Clone)]
pub struct ThreadPoolBuilder {
    workers: usize,
    keep_alive: Option<Duration>,
    name: &'static str,
}

impl ThreadPoolBuilder {
    /// The most threads the pool runs at once (default 4).
    pub fn workers(mut self, workers: usize) -> ThreadPoolBuilder {
        self.workers = workers;
        self
    }

    /// Lets a worker exit after `keep_alive` without work (default: never). A new
    /// worker starts when work comes again.
    pub fn keep_alive(mut self, keep_alive: Duration) -> ThreadPoolBuilder {
        self.keep_alive = Some(keep_alive);
        self
    }

    /// The prefix of the workers' thread names (default `glass-pool`).
    pub fn name(mut self, name: &'static str) -> ThreadPoolBuilder {
        self.name = name;
        self
    }

    /// Makes the pool. No thread starts before the first job.
    ///
    /// # Panics
    ///
    /// Panics when `workers` is zero.
    pub fn build(self) -> ThreadPool {
        ThreadPool {
            pool: Arc::new(PoolShared::new(self.name, self.workers, self.keep_alive)),
        }
    }
}

impl ThreadPool {
    /// A pool of at most `workers` threads, which live until `shutdown`.
    ///
    /// # Panics
    ///
    /// Panics when `workers` is zero.
    pub fn new(workers: usize) -> ThreadPool {
        ThreadPool::builder().workers(workers).build()
    }

    /// Options for a new pool.
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder {
            workers: 4,
            keep_alive: None,
            name: "glass-pool",
        }
    }

    /// Runs `job` on a worker; like `executor.submit(job)`. The [`Task`] gives its
    /// result (re-raising its panic), awaited on a loop or waited for on a thread.
    ///
    /// # Panics
    ///
    /// Panics after [`shutdown`](ThreadPool::shutdown).
    #[track_caller]
    pub fn submit<T, F>(&self, job: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.pool.submit(job)
    }

    // ANCHOR: thread_pool_methods
    /// Like [`submit`](ThreadPool::submit), and calls `on_done` with the result, on
    /// the worker thread, as soon as the job returns; like
    /// `future.add_done_callback(fn)`. Not called if the job panics.
    #[track_caller]
    pub fn submit_with_callback<T, F, C>(&self, job: F, on_done: C) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        C: FnOnce(&T) + Send + 'static,
        T: Send + 'static,
    {
        self.pool.submit(move || {
            let output = job();
            on_done(&output);
            output
        })
    }

    /// Runs `f` on every item on the workers, and returns the results in input order;
    /// like `executor.map(f, items)`.
    ///
    /// # Panics
    ///
    /// Re-raises the first panic of `f` (in input order), once every job has ended.
    pub async fn map<I, T, F>(&self, f: F, items: I) -> Vec<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let jobs: Vec<_> = items
            .into_iter()
            .map(|item| {
                let f = Arc::clone(&f);
                self.submit(move || f(item)).join()
            })
            .collect();
        // Wait for every job, then report the first failure in input order.
        gather_all(jobs)
            .await
            .into_iter()
            .map(|result| match result {
                Ok(output) => output,
                Err(error) if error.is_panic() => panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("ThreadPool::map: {error}"),
            })
            .collect()
    }

    /// Stops taking jobs, and waits until the queued and running jobs are done and
    /// the workers have exited; like `executor.shutdown(wait=True)`. Blocks the calling
    /// thread: on a loop, call it through [`run_in_executor`] if jobs may be long.
    pub fn shutdown(&self) {
        let current = thread::current().id();
        for worker in self.pool.shut_down() {
            // A job that shuts its own pool down cannot wait for itself.
            if worker.thread().id() != current {
                let _ = worker.join(); // a job's panic was caught already
            }
        }
    }

    // ANCHOR_END: thread_pool_methods

    /// How many worker threads are alive now.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// How many jobs are queued and how many are running.
    pub fn statistics(&self) -> ThreadPoolStatistics {
        let state = self.pool.lock();
        ThreadPoolStatistics {
            threads: state.threads,
            idle: state.idle,
            queued: state.queue.len(),
            running: state.running,
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        // Do not wait; workers finish the queue and exit.
        drop(self.pool.shut_down());
    }
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.statistics().fmt(f)
    }
}

/// What a [`ThreadPool`] is doing right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadPoolStatistics {
    /// Worker threads alive.
    pub threads: usize,
    /// Of those, how many wait for a job.
    pub idle: usize,
    /// Jobs waiting for a worker.
    pub queued: usize,
    /// Jobs running now.
    pub running: usize,
}

// ANCHOR: loop_closed
static LIVE_LOOPS: AtomicUsize = AtomicUsize::new(0);

/// Called when an event loop is made.
pub(crate) fn loop_started() {
    LIVE_LOOPS.fetch_add(1, Ordering::AcqRel);
}

/// Called when an event loop is dropped. When it was the last one, the shared pool's
/// idle threads are let go at once instead of after their keep-alive, and jobs still
/// running are reported: nobody may be left to await them.
pub(crate) fn loop_closed() {
    if LIVE_LOOPS.fetch_sub(1, Ordering::AcqRel) != 1 {
        return;
    }
    let Some(pool) = SHARED_POOL.get() else {
        return;
    };
    pool.lock().release_idle = true;
    pool.job_ready.notify_all();
    let unfinished = pool.unfinished.load(Ordering::Acquire);
    if unfinished > 0 {
        eprintln!(
            "glass: the last event loop closed while {unfinished} blocking job(s) had not \
             finished; they will run to the end on the pool's threads"
        );
    }
}
// ANCHOR_END: loop_closed
