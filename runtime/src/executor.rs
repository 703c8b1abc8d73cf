//! Layer 2 — the executor: the ready queue, the schedule function, the live tasks.
//!
//! A task is either *ready* (its `Runnable` sits in the ready queue, waiting to be
//! polled) or *waiting* (nobody holds its `Runnable`; whatever it waits for holds a
//! clone of its waker). Waking a waiting task calls [`schedule`], which puts the
//! `Runnable` back into a queue:
//!
//! - on the loop's own thread, straight into the ready queue — a `RefCell<VecDeque>`,
//!   no lock, because only this thread ever touches it;
//! - from any other thread, into the loop's *inbox*, the one `Mutex` on the way, and
//!   then `Poller::notify()` wakes the loop if it is asleep in the kernel.
//!
//! The executor also keeps the list of *live* tasks (each one's waker), so that the
//! loop can wake a task that [`Task::cancel`](crate::Task::cancel) was called on, and
//! cancel every task still alive when the loop closes. The book explains this file in
//! chapter 3, "Tasks".

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use polling::Poller;
use slab::Slab;

use crate::budget;
use crate::debug::{self, Cause, Label, WaitingOn, Watch};
use crate::event_loop;
use crate::reactor::Registry;
use crate::task::{self, Ending, Home, Step, Task, TaskHeader, TaskId, NO_SLOT};
use crate::time::{Clock, Instant};

/// A task's ticket to be polled once, as async-task hands it out.
pub(crate) type Runnable = async_task::Runnable<TaskHeader>;

// ANCHOR: work
/// One item in the ready queue: what the loop does next. asyncio's ready queue holds
/// "handles" the same way: a task's next step and a plain callback look alike.
pub(crate) enum Work {
    /// Poll this task once.
    Task(Runnable),
    /// Poll the future given to `run` / `run_until_complete`.
    Main,
    /// Call this callback (from `call_soon`, or sent by another thread).
    Call(Box<dyn FnOnce()>),
}

/// The same, sent from another thread: a callback must then be `Send`.
pub(crate) enum RemoteWork {
    Task(Runnable),
    Main,
    Call(Box<dyn FnOnce() + Send>),
}
// ANCHOR_END: work

impl From<RemoteWork> for Work {
    fn from(work: RemoteWork) -> Work {
        match work {
            RemoteWork::Task(runnable) => Work::Task(runnable),
            RemoteWork::Main => Work::Main,
            RemoteWork::Call(callback) => Work::Call(callback),
        }
    }
}

// ANCHOR: shared
/// The part of a loop that other threads may touch: the inbox, and the poller whose
/// `notify()` wakes the loop out of `epoll_wait`.
pub(crate) struct Shared {
    /// Unique among all loops of the process (timers use it to know their loop).
    pub(crate) loop_id: u64,
    pub(crate) poller: Poller,
    /// The I/O sources registered with `poller`.
    pub(crate) registry: Registry,
    inbox: Mutex<Inbox>,
    /// Lets the loop skip the lock on every turn when the inbox is empty.
    inbox_has_work: AtomicBool,
    next_task_id: AtomicU64,
    /// Whether the loop traces (other threads print their wake-ups themselves).
    pub(crate) trace: bool,
    /// Blocking jobs started from this loop and not yet finished: the paused clock does
    /// not jump while one runs (its result may come back "before" the next timer).
    blocking_jobs: AtomicUsize,
}

struct Inbox {
    work: Vec<RemoteWork>,
    /// Set when the loop has closed; nothing is accepted after that.
    closed: bool,
}
// ANCHOR_END: shared

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

impl Shared {
    pub(crate) fn new(trace: bool) -> io::Result<Shared> {
        Ok(Shared {
            loop_id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            poller: Poller::new()?,
            registry: Registry::default(),
            inbox: Mutex::new(Inbox {
                work: Vec::new(),
                closed: false,
            }),
            inbox_has_work: AtomicBool::new(false),
            next_task_id: AtomicU64::new(1),
            trace,
            blocking_jobs: AtomicUsize::new(0),
        })
    }

    pub(crate) fn next_task_id(&self) -> TaskId {
        TaskId(self.next_task_id.fetch_add(1, Ordering::Relaxed))
    }

    fn lock_inbox(&self) -> MutexGuard<'_, Inbox> {
        // A panic while the lock was held cannot leave the Vec half-written.
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: send
    /// Hands work to the loop from another thread, and wakes the loop. Gives the work
    /// back when the loop has already closed.
    pub(crate) fn send(&self, work: RemoteWork) -> Result<(), RemoteWork> {
        {
            let mut inbox = self.lock_inbox();
            if inbox.closed {
                return Err(work);
            }
            inbox.work.push(work);
        }
        // The flag is set after the push and the loop clears it before it takes the
        // inbox, so the loop never misses work: at worst it takes an empty inbox once.
        self.inbox_has_work.store(true, Ordering::Release);
        // Wakes the loop if it sleeps in `Poller::wait`, or makes its next wait return
        // at once. polling merges repeated notifications into one system call.
        self.poller
            .notify()
            .expect("glass: could not wake the event loop (Poller::notify failed)");
        Ok(())
    }
    // ANCHOR_END: send

    // ANCHOR: blocking_job_guard
    /// True while a blocking job started from this loop is queued or running.
    pub(crate) fn blocking_jobs_running(&self) -> bool {
        self.blocking_jobs.load(Ordering::Acquire) > 0
    }

    /// Counts a blocking job until the returned guard is dropped (when the job ends).
    pub(crate) fn track_blocking_job(self: &Arc<Self>) -> BlockingJobGuard {
        self.blocking_jobs.fetch_add(1, Ordering::AcqRel);
        BlockingJobGuard(Arc::clone(self))
    }

    // ANCHOR_END: blocking_job_guard

    pub(crate) fn inbox_has_work(&self) -> bool {
        self.inbox_has_work.load(Ordering::Acquire)
    }

    fn take_inbox(&self) -> Vec<RemoteWork> {
        // A plain load first: the swap is a locked instruction, and the inbox is empty
        // on almost every turn.
        if !self.inbox_has_work() || !self.inbox_has_work.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut self.lock_inbox().work)
    }

    /// Marks the inbox closed, unless work arrived that must be handled first.
    fn close_inbox(&self) -> bool {
        let mut inbox = self.lock_inbox();
        if !inbox.work.is_empty() {
            return false;
        }
        inbox.closed = true;
        true
    }

    /// Wakes the live task in `slot` if it is still task `id`. Any thread.
    pub(crate) fn wake_live_task(&self, slot: usize, id: TaskId) {
        let woken_here = event_loop::with_loop(self, |core| core.executor.wake_live_task(slot, id));
        if woken_here.is_none() {
            let wake = move || {
                event_loop::with_current(|core| core.executor.wake_live_task(slot, id));
            };
            // A closed loop has no live task left to wake.
            let _ = self.send(RemoteWork::Call(Box::new(wake)));
        }
    }
}

/// Keeps a loop's count of running blocking jobs; see [`Shared::track_blocking_job`].
pub(crate) struct BlockingJobGuard(Arc<Shared>);

impl Drop for BlockingJobGuard {
    fn drop(&mut self) {
        if self.0.blocking_jobs.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A paused-clock loop may be asleep waiting for this very moment (nobody
            // need await the job): wake it, so that its clock can move again.
            let _ = self.0.poller.notify();
        }
    }
}

// ANCHOR: schedule
/// async-task calls this when a task is woken: it must put the `Runnable` somewhere
/// the task's loop will find it. It runs on whatever thread called `wake()`.
pub(crate) fn schedule(runnable: Runnable) {
    let shared = match &runnable.metadata().home {
        Home::Loop(shared) => shared,
        Home::Pool(pool) => {
            // A blocking job: queue it for the pool's threads.
            let pool = Arc::clone(pool);
            return pool.push(runnable);
        }
    };
    if event_loop::is_current(shared) {
        // The common case: a task woken by its own loop (a timer, a lock, another task).
        event_loop::with_current(|core| {
            if core.executor.watch.tracing() {
                let id = runnable.metadata().id;
                let why = debug::cause();
                core.executor
                    .watch
                    .trace(core.clock.now(), format_args!("task {id} woken by {why}"));
            }
            core.executor.push(Work::Task(runnable))
        });
    } else {
        if shared.trace {
            let id = runnable.metadata().id;
            let thread = std::thread::current();
            let from = thread.name().unwrap_or("unnamed");
            eprintln!("glass: task {id} woken from thread '{from}'");
        }
        let shared = Arc::clone(shared);
        if let Err(RemoteWork::Task(runnable)) = shared.send(RemoteWork::Task(runnable)) {
            // The loop has closed. Only a `Send` task spawned through a `Handle` can get
            // here (the loop cancelled all of its own before closing): cancel it on this
            // thread, so that whoever awaits it hears "cancelled" instead of waiting
            // forever.
            let _ = task::run_step(runnable, true);
        }
    }
}
// ANCHOR_END: schedule

// ANCHOR: executor
/// A task that has been polled at least once and has not finished.
struct LiveTask {
    id: TaskId,
    waker: Waker,
}

struct Watched {
    label: Label,
    waiting: Option<WaitingOn>,
}

/// The loop-thread half of the executor.
pub(crate) struct Executor {
    pub(crate) shared: Arc<Shared>,
    pub(crate) watch: Watch,
    ready: RefCell<VecDeque<Work>>,
    live: RefCell<Slab<LiveTask>>,
    /// Beside `live`, by the same slot: each task's name, spawn location and what it
    /// waits on. Filled only while the loop watches (see debug.rs), so that a task
    /// costs no memory for it otherwise.
    watched: RefCell<Vec<Option<Watched>>>,
}

impl Executor {
    pub(crate) fn new(shared: Arc<Shared>, watch: Watch) -> Executor {
        Executor {
            shared,
            watch,
            ready: RefCell::new(VecDeque::with_capacity(64)),
            live: RefCell::new(Slab::new()),
            watched: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn push(&self, work: Work) {
        self.ready.borrow_mut().push_back(work);
    }

    pub(crate) fn pop(&self) -> Option<Work> {
        self.ready.borrow_mut().pop_front()
    }

    pub(crate) fn ready_len(&self) -> usize {
        self.ready.borrow().len()
    }

    pub(crate) fn has_ready_work(&self) -> bool {
        !self.ready.borrow().is_empty() || self.shared.inbox_has_work()
    }
}
// ANCHOR_END: executor

impl Executor {
    /// Moves what other threads sent into the ready queue, in the order it was sent.
    pub(crate) fn take_inbox(&self) {
        for work in self.shared.take_inbox() {
            self.push(work.into());
        }
    }

    // ANCHOR: spawn_local
    pub(crate) fn spawn_local<F>(
        &self,
        future: F,
        name: Option<Arc<str>>,
        spawned_at: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let id = self.shared.next_task_id();
        if self.watch.tracing() {
            let name = task::display_name(id, name.as_deref());
            let now =
                event_loop::with_current(|core| core.clock.now()).unwrap_or_else(Instant::now);
            self.watch.trace(
                now,
                format_args!("task '{name}' ({id}) spawned at {spawned_at}"),
            );
        }
        let (runnable, task) = task::new_local_task(&self.shared, id, name, spawned_at, future);
        // A new task is ready at once: its first poll starts running its body.
        self.push(Work::Task(runnable));
        task
    }
    // ANCHOR_END: spawn_local

    // ANCHOR: run_task
    /// Polls a task once (or cancels it), keeping the list of live tasks up to date.
    pub(crate) fn run_task(&self, runnable: Runnable, cancel_anyway: bool, clock: &Clock) {
        let header = runnable.metadata();
        let mut slot = header.slot();
        if slot == NO_SLOT {
            // First poll: remember the task's waker, so that `cancel()` and the loop's
            // close can reach the task while it waits.
            let live = LiveTask {
                id: header.id,
                waker: runnable.waker(),
            };
            slot = self.live.borrow_mut().insert(live);
            if self.watch.watching_polls() {
                self.start_watching(slot, header);
            }
            // SeqCst pairs with `Task::cancel`: see the comment there.
            header.set_slot(slot);
        }
        let cancel = cancel_anyway || header.cancel_requested();
        if self.watch.watching_polls() {
            return self.run_watched(runnable, slot, cancel, clock);
        }
        let step = budget::with_budget(|| task::run_step(runnable, cancel));
        if let Step::Finished(_) = step {
            self.live.borrow_mut().remove(slot);
        }
    }
    // ANCHOR_END: run_task

    fn start_watching(&self, slot: usize, header: &TaskHeader) {
        let label = Label {
            id: header.id,
            name: header.name.clone(),
            spawned_at: header.spawned_at,
        };
        self.watch.timeline_task(&label);
        let mut watched = self.watched.borrow_mut();
        if watched.len() <= slot {
            watched.resize_with(slot + 1, || None);
        }
        watched[slot] = Some(Watched {
            label,
            waiting: None,
        });
    }

    // ANCHOR: run_watched
    /// `run_task` while the loop watches: the poll is timed, named and traced, and
    /// what the task waits on afterwards is kept for `dump` and the deadlock report.
    fn run_watched(&self, runnable: Runnable, slot: usize, cancel: bool, clock: &Clock) {
        let id = runnable.metadata().id;
        let label = self.watched.borrow()[slot]
            .as_ref()
            .map(|w| w.label.clone());
        let started = std::time::Instant::now();
        let (step, waiting) = debug::polling(Some(id), || {
            debug::because(Cause::Task(id), || {
                budget::with_budget(|| task::run_step(runnable, cancel))
            })
        });
        let result = match step {
            Step::Pending => "Pending",
            Step::Finished(Ending::Completed) => "Ready",
            Step::Finished(Ending::Panicked) => "panicked",
            Step::Finished(Ending::Cancelled) => "cancelled",
        };
        if let Some(label) = &label {
            self.watch.after_poll(clock.now(), label, started, result);
        }
        let mut watched = self.watched.borrow_mut();
        match step {
            Step::Finished(_) => {
                self.live.borrow_mut().remove(slot);
                watched[slot] = None;
            }
            Step::Pending => {
                if let Some(watched) = watched[slot].as_mut() {
                    watched.waiting = waiting;
                }
            }
        }
    }
    // ANCHOR_END: run_watched

    // ANCHOR: executor_dump
    /// Describes the live tasks (see `task::dump`).
    pub(crate) fn dump(&self, out: &mut String) {
        let scheduled: Vec<TaskId> = self
            .ready
            .borrow()
            .iter()
            .filter_map(|work| match work {
                Work::Task(runnable) => Some(runnable.metadata().id),
                _ => None,
            })
            .collect();
        let current = debug::current_task();
        let all_watched = self.watched.borrow();
        for (slot, task) in self.live.borrow().iter() {
            let state = if Some(task.id) == current {
                "running"
            } else if scheduled.contains(&task.id) {
                "scheduled"
            } else {
                "waiting"
            };
            let watched = all_watched.get(slot).and_then(Option::as_ref);
            let waiting = watched
                .and_then(|w| w.waiting)
                .filter(|_| state == "waiting");
            debug::dump_line(out, watched.map(|w| &w.label), task.id, state, waiting);
        }
    }
    // ANCHOR_END: executor_dump

    /// How many tasks are alive (polled at least once and not finished).
    pub(crate) fn live_tasks(&self) -> usize {
        self.live.borrow().len()
    }

    // ANCHOR: shuffle_front
    /// Shuffles the first `n` items of the ready queue (`GLASS_SEED`).
    pub(crate) fn shuffle_front(&self, n: usize) {
        let mut ready = self.ready.borrow_mut();
        let front = &mut ready.make_contiguous()[..n];
        for i in (1..front.len()).rev() {
            let j = (self.watch.next_random() % (i as u64 + 1)) as usize;
            front.swap(i, j);
        }
    }
    // ANCHOR_END: shuffle_front

    pub(crate) fn wake_live_task(&self, slot: usize, id: TaskId) {
        let waker = match self.live.borrow().get(slot) {
            Some(task) if task.id == id => task.waker.clone(),
            _ => return, // finished already; the slot may hold another task now
        };
        waker.wake();
    }

    // ANCHOR: close
    /// Cancels every task still alive, running their destructors on this thread, and
    /// closes the inbox. Called when the loop is dropped.
    pub(crate) fn close(&self, clock: &Clock) {
        loop {
            self.take_inbox();
            // Waking a waiting task puts it in the ready queue, where we can reach it.
            let waiting: Vec<Waker> = self
                .live
                .borrow()
                .iter()
                .map(|(_, t)| t.waker.clone())
                .collect();
            waiting.into_iter().for_each(Waker::wake);
            while let Some(work) = self.pop() {
                match work {
                    Work::Task(runnable) => self.run_task(runnable, true, clock),
                    // Callbacks that never ran are dropped, as asyncio drops them.
                    Work::Main | Work::Call(_) => {}
                }
            }
            // A destructor may have spawned or woken something: go round again until
            // nothing is left and no other thread is halfway through sending.
            if self.live.borrow().is_empty() && self.shared.close_inbox() {
                break;
            }
        }
    }
    // ANCHOR_END: close
}
