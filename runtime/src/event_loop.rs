//! Layer 3 — the event loop: one thread, one ready queue, one turn after another.
//!
//! An event loop runs tasks on the thread that created it. Each *turn* it
//!
//! 1. asks the reactor for I/O events: just a look if work is ready, else a sleep in
//!    the kernel until the next timer, an I/O event, or a notification;
//! 2. takes the work other threads sent it (wakes, spawns, callbacks);
//! 3. fires the timers that are due: their tasks and callbacks join the ready queue;
//! 4. runs the work that was ready at that moment — polls tasks, calls callbacks —
//!    at most [`BATCH`] items; what that work makes ready waits for the next turn.
//!
//! That is asyncio's `_run_once`, and the whole of this file is its Rust twin:
//! [`EventLoop::run_until_complete`] repeats the turn until the future it was given is
//! done, and [`run`] makes a loop, runs one future and closes the loop again.
//!
//! The loop's state lives in a [`Core`], reachable from anywhere on the loop's thread
//! through a thread-local while the loop runs: that is how `spawn` and `sleep` find
//! their loop without being handed it. Other threads reach the loop only through a
//! [`Handle`], which holds the thread-safe half (`Shared`: the inbox and the poller).
//!
//! The book explains this file in chapter 4, "The event loop".

use std::cell::{Cell, RefCell};
use std::env;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::budget;
use crate::debug::{self, Cause, OnDeadlock, WaitingOn, Watch};
use crate::executor::{Executor, RemoteWork, Shared, Work};
use crate::reactor::Reactor;
use crate::task::{self, panic_message, Home, Task, TaskId};
use crate::time::{Clock, TimerAction, TimerQueue};

// ANCHOR: batch
/// The most items of ready work one turn runs before it looks at timers and I/O again.
///
/// A turn runs only the work that was ready when it began, as asyncio's does: work made
/// ready during the turn (a task that yields, a callback that calls `call_soon`) waits
/// for the next turn, behind the timers that come due meanwhile. So a task that yields
/// forever cannot starve anyone. The cap bounds how long a due timer or a readable
/// socket waits when thousands of tasks are ready at once (asyncio has no cap; tokio's
/// current-thread runtime checks I/O every 61 polls, for the same reason).
pub(crate) const BATCH: usize = 64;
// ANCHOR_END: batch

// ANCHOR: core
/// Everything a running loop owns, on its own thread.
pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    pub(crate) executor: Executor,
    pub(crate) timers: RefCell<TimerQueue>,
    pub(crate) clock: Clock,
    reactor: RefCell<Reactor>,
    /// What the main future waits on (for the dump), when the loop watches.
    main_waiting: Cell<Option<WaitingOn>>,
}
// ANCHOR_END: core

// ANCHOR: current
thread_local! {
    /// The loop running on this thread, if any.
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Calls `f` with the loop running on this thread; `None` when there is none.
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_deref().map(f))
        .ok()
        .flatten()
}

// ANCHOR_END: current

/// Calls `f` if the loop that owns `shared` is the one running on this thread.
pub(crate) fn with_loop<R>(shared: &Shared, f: impl FnOnce(&Core) -> R) -> Option<R> {
    with_current(|core| {
        if std::ptr::eq(Arc::as_ptr(&core.shared), shared) {
            Some(f(core))
        } else {
            None
        }
    })
    .flatten()
}

/// True when the loop that owns `shared` is running on this thread.
pub(crate) fn is_current(shared: &Shared) -> bool {
    with_loop(shared, |_| ()).is_some()
}

/// True when any glass loop is running on this thread.
pub(crate) fn is_running_here() -> bool {
    with_current(|_| ()).is_some()
}

/// Makes `core` the current loop until dropped.
struct Entered;

impl Entered {
    fn new(core: &Rc<Core>, what: &str) -> Entered {
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            if current.is_some() {
                panic!(
                    "{what} was called while a glass event loop is already running on this \
                     thread; inside async code, await the future instead (or spawn it with \
                     glass::spawn)"
                );
            }
            *current = Some(Rc::clone(core));
        });
        Entered
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // `try_with`: during thread teardown the slot may already be gone.
        let _ = CURRENT.try_with(|current| current.borrow_mut().take());
    }
}

// ANCHOR: main_waker
/// The waker of the future given to `run_until_complete`. That future is not a task
/// (it need not be `'static`), so it has a waker of its own, made with std's `Wake`.
struct MainWaker {
    shared: Arc<Shared>,
    /// True while a `Work::Main` is queued, so that many wakes queue one poll.
    scheduled: AtomicBool,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let queued_here = with_loop(&self.shared, |core| {
            if core.executor.watch.tracing() {
                let why = debug::cause();
                core.executor.watch.trace(
                    core.clock.now(),
                    format_args!("the main future woken by {why}"),
                );
            }
            core.executor.push(Work::Main)
        });
        if queued_here.is_none() {
            // A closed loop has no main future left to wake.
            let _ = self.shared.send(RemoteWork::Main);
        }
    }
}
// ANCHOR_END: main_waker

/// An event loop: runs tasks, timers and I/O on the thread that made it; like
/// asyncio's event loop.
///
/// Most programs call [`run`], which makes a loop, runs one future, and closes the loop.
/// Make an `EventLoop` yourself to choose options (the paused clock) or to run several
/// futures one after another on the same loop.
///
/// Dropping the loop cancels every task still alive; their destructors run then, on
/// this thread.
///
/// # Examples
///
/// ```
/// let mut event_loop = glass::EventLoop::new();
/// let task = event_loop.run_until_complete(async { glass::spawn(async { 2 }) });
/// // The task was spawned but has not run: it waits for the next call.
/// assert_eq!(event_loop.run_until_complete(task), 2);
/// ```
pub struct EventLoop {
    core: Rc<Core>,
}

/// Options for an [`EventLoop`]: `EventLoop::builder().paused_clock(true).build()`.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    paused_clock: Option<bool>,
    watch: debug::Settings,
}

impl Builder {
    /// Runs the loop on the paused clock: time stands still while any task can run,
    /// and jumps to the next timer when all of them wait. Timing tests become instant
    /// and exact. Without this call, the environment variable `GLASS_PAUSED_CLOCK=1`
    /// turns it on.
    pub fn paused_clock(mut self, paused: bool) -> Builder {
        self.paused_clock = Some(paused);
        self
    }

    /// Prints one line per loop event on stderr (the environment variable
    /// `GLASS_TRACE=1` does the same); see chapter 10.
    pub fn trace(mut self, trace: bool) -> Builder {
        self.watch.trace = trace;
        self
    }

    /// Warns about polls that hold the loop too long, and keeps each task's name and
    /// spawn location for [`task::dump`](crate::task::dump) and the deadlock report
    /// (`GLASS_DEBUG=1` does the same).
    pub fn debug(mut self, debug: bool) -> Builder {
        self.watch.debug = debug;
        self
    }

    /// How long one poll may take before `debug` warns (default 100 ms).
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.watch.slow_poll = threshold;
        self
    }

    /// Writes a Chrome trace-event file of every poll to `path` when the loop is
    /// dropped (`GLASS_TIMELINE=path` does the same). Open it in Perfetto.
    pub fn timeline(mut self, path: impl Into<std::path::PathBuf>) -> Builder {
        self.watch.timeline = Some(path.into());
        self
    }

    /// Runs each turn's ready tasks in an order shuffled by a generator seeded with
    /// `seed` (`GLASS_SEED=n` does the same): different seeds shake out ordering bugs,
    /// the same seed replays an order exactly.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.watch.seed = Some(seed);
        self
    }

    /// What to do when nothing in the loop can make progress: report (the default) or
    /// panic (the default on the paused clock).
    pub fn on_deadlock(mut self, action: OnDeadlock) -> Builder {
        self.watch.on_deadlock = Some(action);
        self
    }

    /// How long the loop must be stuck before it reports a deadlock (default 1 s).
    pub fn deadlock_grace(mut self, grace: Duration) -> Builder {
        self.watch.deadlock_grace = grace;
        self
    }

    /// Makes the loop.
    ///
    /// # Panics
    ///
    /// Panics when the operating system refuses to create the poller (epoll/kqueue),
    /// which happens only when the process is out of file descriptors.
    pub fn build(self) -> EventLoop {
        let paused = self
            .paused_clock
            .unwrap_or_else(|| env::var("GLASS_PAUSED_CLOCK").is_ok_and(|v| v == "1"));
        let shared = Arc::new(Shared::new(self.watch.trace).unwrap_or_else(|error| {
            panic!(
                "glass could not create its poller (epoll/kqueue): {error}; the process is \
                 probably out of file descriptors"
            )
        }));
        let clock = Clock::new(paused);
        let watch = Watch::new(self.watch, clock.now());
        let core = Core {
            executor: Executor::new(Arc::clone(&shared), watch),
            shared,
            timers: RefCell::new(TimerQueue::default()),
            clock,
            reactor: RefCell::new(Reactor::new()),
            main_waiting: Cell::new(None),
        };
        crate::blocking::loop_started();
        EventLoop {
            core: Rc::new(core),
        }
    }
}

impl Default for EventLoop {
    fn default() -> EventLoop {
        EventLoop::new()
    }
}

impl EventLoop {
    /// A loop with default options.
    pub fn new() -> EventLoop {
        Builder::default().build()
    }

    /// Options for a new loop.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A handle through which other threads can spawn tasks and call callbacks here.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::clone(&self.core.shared),
        }
    }

    // ANCHOR: run_until_complete
    /// Runs the loop until `future` completes, and returns its output; like asyncio's
    /// `loop.run_until_complete`.
    ///
    /// Tasks still alive when the future completes are kept, and go on running at the
    /// next call; they are not run meanwhile.
    ///
    /// # Panics
    ///
    /// Panics when a loop is already running on this thread, and re-raises a panic of
    /// `future` itself (a panic inside a spawned task is caught and kept in its
    /// [`Task`]).
    pub fn run_until_complete<F: Future>(&mut self, future: F) -> F::Output {
        let core = &self.core;
        let _entered = Entered::new(core, "EventLoop::run_until_complete");
        let main_waker = Arc::new(MainWaker {
            shared: Arc::clone(&core.shared),
            scheduled: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&main_waker));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        waker.wake_by_ref(); // queue the first poll
        loop {
            // ANCHOR: loop_turn
            core.executor.watch.next_turn();
            // I/O; the loop sleeps here when nothing is ready.
            core.wait_for_events();
            // Work sent by other threads.
            core.executor.take_inbox();
            // Wake sleepers, queue call_later callbacks.
            core.fire_due_timers();
            // Run what is ready now; what this work makes ready runs next turn.
            let ready_now = core.executor.ready_len().min(BATCH);
            if ready_now > 0 {
                // Something runs: a later stall is a new one, worth a new report.
                core.executor.watch.reported_deadlock.set(false);
            }
            if core.executor.watch.settings.seed.is_some() {
                core.executor.shuffle_front(ready_now);
            }
            for _ in 0..ready_now {
                let Some(work) = core.executor.pop() else {
                    break;
                };
                match work {
                    Work::Task(runnable) => core.executor.run_task(runnable, false, &core.clock),
                    Work::Call(callback) => run_callback(callback),
                    Work::Main => {
                        main_waker.scheduled.store(false, Ordering::Release);
                        let poll = core.poll_main(&mut || {
                            budget::with_budget(|| future.as_mut().poll(&mut cx))
                        });
                        if let Poll::Ready(output) = poll {
                            return output;
                        }
                    }
                }
            }
            // ANCHOR_END: loop_turn
        }
    }
    // ANCHOR_END: run_until_complete
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        // Enter the loop, so that destructors that spawn or touch timers find it.
        let entered = CURRENT.try_with(|current| current.borrow().is_none());
        let _entered = matches!(entered, Ok(true)).then(|| Entered::new(&self.core, "drop"));
        self.core.executor.close(&self.core.clock);
        self.core.executor.watch.write_timeline();
        // Timer callbacks that never ran are dropped, as asyncio drops them.
        let leftovers = self.core.timers.borrow_mut().clear();
        drop(leftovers);
        crate::blocking::loop_closed();
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("paused_clock", &self.core.clock.is_paused())
            .finish_non_exhaustive()
    }
}

/// Calls a callback from the ready queue. A panic in it is reported and the loop goes
/// on, as asyncio's loop logs an exception raised by a callback.
fn run_callback(callback: Box<dyn FnOnce()>) {
    let called = debug::because(Cause::Callback, || {
        panic::catch_unwind(AssertUnwindSafe(callback))
    });
    if let Err(payload) = called {
        eprintln!(
            "glass: a callback panicked ({}); the loop goes on",
            panic_message(payload.as_ref())
        );
    }
}

impl Core {
    // ANCHOR: fire_due_timers
    /// Fires every timer whose deadline has come: a sleeping task is woken (into the
    /// ready queue), a `call_later` callback is queued behind the ready work, as asyncio
    /// moves due timer handles to its ready queue.
    fn fire_due_timers(&self) {
        if self.timers.borrow_mut().next_deadline().is_none() {
            return; // no timers: do not even read the clock
        }
        let now = self.clock.now();
        loop {
            let due = self.timers.borrow_mut().pop_due(now);
            let Some(action) = due else { break };
            if self.executor.watch.tracing() {
                self.executor.watch.trace(now, format_args!("timer fired"));
            }
            self.executor.watch.timeline_mark("timer");
            match action {
                TimerAction::Wake(waker) => debug::because(Cause::Timer, || waker.wake()),
                TimerAction::Call(callback) => self.executor.push(Work::Call(callback)),
            }
        }
    }
    // ANCHOR_END: fire_due_timers

    // ANCHOR: wait_for_events
    /// Looks for I/O events, and sleeps in the kernel when nothing else can happen.
    fn wait_for_events(&self) {
        let mut stuck = false;
        let timeout = if self.executor.has_ready_work() {
            if !self.shared.registry.has_sources() {
                return; // work is ready and no socket can have news: skip the system call
            }
            Some(Duration::ZERO)
        } else {
            let next_deadline = self.timers.borrow_mut().next_deadline();
            let waits_on_world =
                self.shared.registry.has_sources() || self.shared.blocking_jobs_running();
            match next_deadline {
                // Nothing scheduled: sleep until I/O or another thread.
                None if waits_on_world => None,
                // No socket and no blocking job either: nothing in the loop can wake
                // anyone. Wait a grace period, then report a deadlock (see debug.rs).
                None => {
                    stuck = true;
                    Some(self.executor.watch.settings.deadlock_grace)
                }
                // A blocking job may still finish "before" the next timer: on the
                // paused clock, wait for it (it wakes us) instead of jumping.
                Some(_) if self.clock.is_paused() && self.shared.blocking_jobs_running() => None,
                // A job may have finished just now, its wake-up already in the inbox:
                // look again before letting time jump.
                Some(_) if self.clock.is_paused() && self.executor.has_ready_work() => {
                    Some(Duration::ZERO)
                }
                // Sockets may have news already queued in the kernel: look at them
                // before letting time jump, or a timeout could beat a reply that has
                // in fact arrived.
                Some(_) if self.clock.is_paused() && self.look_at_sockets_first() => {
                    Some(Duration::ZERO)
                }
                Some(deadline) if self.clock.is_paused() => {
                    // Every task waits: on the paused clock, time jumps to the next
                    // timer, which fires right after this look, in the same turn.
                    self.clock.jump_to(deadline);
                    let watch = &self.executor.watch;
                    if watch.tracing() {
                        watch.trace(deadline, format_args!("every task waits: the clock jumps"));
                    }
                    Some(Duration::ZERO)
                }
                Some(deadline) => Some(deadline.duration_since(self.clock.now())),
            }
        };
        let watch = &self.executor.watch;
        let on_event = |fd: i32, readable: bool, writable: bool| {
            if watch.tracing() {
                let what = match (readable, writable) {
                    (true, true) => "readable and writable",
                    (true, false) => "readable",
                    _ => "writable",
                };
                watch.trace(self.clock.now(), format_args!("fd {fd} {what}"));
            }
            watch.timeline_mark("fd ready");
        };
        let started = std::time::Instant::now();
        let waited = self.reactor.borrow_mut().wait(
            &self.shared.poller,
            &self.shared.registry,
            timeout,
            &on_event,
        );
        if let Err(error) = waited {
            panic!("glass: waiting for I/O events failed: {error}");
        }
        // Stuck for the whole grace period (not woken early by a stale notification),
        // and still nothing to do: nothing in the loop will ever do anything.
        let waited_it_out = started.elapsed() >= self.executor.watch.settings.deadlock_grace;
        if stuck
            && waited_it_out
            && !self.executor.has_ready_work()
            && !self.shared.registry.has_sources()
        {
            self.deadlock();
        }
    }
    // ANCHOR_END: wait_for_events

    /// On the paused clock, before a jump: takes the socket events already queued, and
    /// says whether they made work ready (then time must not jump yet).
    fn look_at_sockets_first(&self) -> bool {
        if !self.shared.registry.has_sources() {
            return false;
        }
        let looked = self.reactor.borrow_mut().wait(
            &self.shared.poller,
            &self.shared.registry,
            Some(Duration::ZERO),
            &|_, _, _| {},
        );
        if let Err(error) = looked {
            panic!("glass: waiting for I/O events failed: {error}");
        }
        self.executor.has_ready_work()
    }

    // ANCHOR: deadlock
    /// Nothing in the loop can make progress: say so (once), or panic.
    fn deadlock(&self) {
        let watch = &self.executor.watch;
        if watch.reported_deadlock.replace(true) {
            return; // reported already: keep waiting quietly
        }
        let mut report = format!(
            "glass: all tasks are waiting and nothing in the loop can wake them: no task is \
             ready, no timer is armed, no socket is registered and no blocking job runs \
             (for {:?}). A deadlock? Who waits on what:\n",
            watch.settings.deadlock_grace
        );
        self.dump_into(&mut report);
        if !watch.watching_polls() {
            report.push_str(
                "(run with GLASS_DEBUG=1, or EventLoop::builder().debug(true), to see each \
                 task's name, where it was spawned and what it waits on)\n",
            );
        }
        let paused = self.clock.is_paused();
        let action = watch.settings.on_deadlock.unwrap_or(if paused {
            OnDeadlock::Panic
        } else {
            OnDeadlock::Report
        });
        match action {
            OnDeadlock::Panic => panic!("{report}"),
            OnDeadlock::Report => eprintln!(
                "{report}A plain thread holding a waker may still wake them: glass keeps \
                 waiting."
            ),
        }
    }
    // ANCHOR_END: deadlock

    // ANCHOR: poll_main
    /// Polls the main future, watched when the loop watches.
    fn poll_main<R>(&self, poll: &mut dyn FnMut() -> Poll<R>) -> Poll<R> {
        let watch = &self.executor.watch;
        if !watch.watching_polls() {
            return poll();
        }
        let started = std::time::Instant::now();
        let (result, waiting) = debug::polling(None, || debug::because(Cause::Main, &mut *poll));
        self.main_waiting.set(waiting);
        let label = debug::Label {
            id: TaskId(0),
            name: Some("main".into()),
            spawned_at: std::panic::Location::caller(),
        };
        let outcome = if result.is_ready() {
            "Ready"
        } else {
            "Pending"
        };
        watch.after_poll(self.clock.now(), &label, started, outcome);
        result
    }
    // ANCHOR_END: poll_main

    // ANCHOR: dump_into
    /// Describes every live task; see `task::dump`.
    pub(crate) fn dump(&self) -> String {
        let mut out = String::new();
        self.dump_into(&mut out);
        out
    }

    fn dump_into(&self, out: &mut String) {
        use std::fmt::Write as _;
        let main = match self.main_waiting.get() {
            Some(waiting) => format!(", waiting on {waiting}"),
            None => String::new(),
        };
        let _ = writeln!(out, "  the main future{main}");
        self.executor.dump(out);
        let _ = writeln!(out, "  ({} live tasks)", self.executor.live_tasks());
    }
    // ANCHOR_END: dump_into
}

// ANCHOR: run
/// Runs `future` on a new event loop on this thread, and returns its output; like
/// `asyncio.run`.
///
/// When the future completes, the tasks it left running are cancelled: their
/// destructors run before `run` returns.
///
/// # Panics
///
/// Panics when called inside a running loop (await the future instead), and re-raises
/// a panic of `future`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let answer = glass::run(async {
///     glass::sleep(Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    if is_running_here() {
        panic!(
            "glass::run was called while a glass event loop is already running on this \
             thread; inside async code, await the future instead (or spawn it with \
             glass::spawn)"
        );
    }
    let mut event_loop = EventLoop::new();
    event_loop.run_until_complete(future)
    // `event_loop` is dropped here: leftover tasks are cancelled before we return.
}
// ANCHOR_END: run

// ANCHOR: call_soon
/// Schedules `callback` to be called at the loop's next turn; like `loop.call_soon`.
/// Callbacks run in the order they were scheduled.
///
/// # Panics
///
/// Panics when no event loop is running on this thread.
pub fn call_soon(callback: impl FnOnce() + 'static) {
    with_current(|core| core.executor.push(Work::Call(Box::new(callback)))).unwrap_or_else(|| {
        panic!(
            "glass::call_soon was called outside a running event loop; call it inside \
             glass::run(...), or use Handle::call_soon_threadsafe from another thread"
        )
    })
}

// ANCHOR_END: call_soon

/// A way into a loop from other threads: spawn `Send` futures, call callbacks.
///
/// `Handle` is `Send + Sync + Clone`. Get one with [`EventLoop::handle`], or with
/// [`Handle::current`] inside a running loop.
///
/// # Examples
///
/// ```
/// glass::run(async {
///     let handle = glass::Handle::current();
///     let from_thread = std::thread::spawn(move || handle.spawn(async { 40 + 2 }))
///         .join()
///         .unwrap();
///     assert_eq!(from_thread.await, 42);
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside a running loop; use [`try_current`](Handle::try_current) to get an
    /// `Option` instead.
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| {
            panic!(
                "glass::Handle::current() was called outside a running event loop; call it \
                 inside glass::run(...) and pass the Handle to the threads that need it"
            )
        })
    }

    /// The handle of the loop running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        with_current(|core| Handle {
            shared: Arc::clone(&core.shared),
        })
    }

    // ANCHOR: handle_spawn
    /// Spawns a `Send` future onto the handle's loop, from any thread. The returned
    /// [`Task`] is `Send` (when the output is) and can be awaited anywhere, or waited
    /// for with [`Task::wait`] on a plain thread.
    ///
    /// If the loop has closed, the task is cancelled at once.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spawned_at = Location::caller();
        let id = self.shared.next_task_id();
        let home = Home::Loop(Arc::clone(&self.shared));
        let (runnable, task) = task::new_send_task(home, id, None, spawned_at, future);
        // The schedule function sends it to the loop's inbox (or, on the loop's own
        // thread, straight into the ready queue).
        runnable.schedule();
        task
    }
    // ANCHOR_END: handle_spawn

    /// Schedules `callback` on the handle's loop, from any thread; like asyncio's
    /// `loop.call_soon_threadsafe`.
    ///
    /// # Panics
    ///
    /// Panics when the loop has closed: the callback could never run.
    pub fn call_soon_threadsafe(&self, callback: impl FnOnce() + Send + 'static) {
        if self
            .shared
            .send(RemoteWork::Call(Box::new(callback)))
            .is_err()
        {
            panic!(
                "Handle::call_soon_threadsafe was called after its event loop closed; the \
                 callback cannot run. Keep the loop alive (inside glass::run) while other \
                 threads still send it work"
            );
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop_id", &self.shared.loop_id)
            .finish()
    }
}
