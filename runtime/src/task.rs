//! Layer 2 — tasks: a future with a life of its own.
//!
//! [`spawn`] hands a future to the event loop, which polls it whenever it is woken,
//! concurrently with every other task. You get back a [`Task`], which is itself a
//! future: awaiting it waits for the spawned future's output, like awaiting an
//! `asyncio.Task`.
//!
//! The heavy lifting is done by the `async-task` crate: one allocation holds the future,
//! its output slot, a reference count and a small state machine, and hands out a
//! `Runnable` each time the task must be polled. glass adds three things on top:
//!
//! - a `TaskHeader` (async-task's "metadata") with the task's id, name and spawn
//!   location, and a cancellation flag;
//! - a wrapper future, `TaskFuture`, that catches a panic so that it becomes the
//!   task's outcome instead of tearing down the loop, and that drops the future when the
//!   loop asks for cancellation;
//! - the asyncio semantics of [`Task`]: awaiting re-raises the task's panic,
//!   [`Task::join`] returns a [`JoinError`] instead, dropping a `Task` detaches it.
//!
//! The book explains this file in chapter 3, "Tasks".

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::blocking::PoolShared;
use crate::debug::{self, WaitingOn};
use crate::event_loop;
use crate::executor::{self, Shared};

/// A task's number, unique within its event loop. Displays as `#3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The name a task shows in messages: the one it was given, else `Task-N` as in asyncio.
pub(crate) fn display_name(id: TaskId, name: Option<&str>) -> Cow<'_, str> {
    match name {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(format!("Task-{}", id.0)),
    }
}

// ANCHOR: header
/// What glass keeps beside every task, inside async-task's allocation.
pub(crate) struct TaskHeader {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    /// Who runs the task: where a wake-up must be delivered.
    pub(crate) home: Home,
    /// Two things in one word, to keep every task small: bit 0 is set by
    /// [`Task::cancel`] (the loop looks at it before every poll); the other bits hold
    /// the task's entry in the loop's list of live tasks plus one (0: none yet).
    state: AtomicUsize,
}

impl TaskHeader {
    /// True once [`Task::cancel`] was called.
    pub(crate) fn cancel_requested(&self) -> bool {
        self.state.load(Ordering::SeqCst) & 1 == 1
    }

    fn request_cancel(&self) {
        self.state.fetch_or(1, Ordering::SeqCst);
    }

    /// The task's entry among the loop's live tasks, or `NO_SLOT`.
    pub(crate) fn slot(&self) -> usize {
        match self.state.load(Ordering::SeqCst) >> 1 {
            0 => NO_SLOT,
            slot_plus_one => slot_plus_one - 1,
        }
    }

    /// Records the task's entry (once, at its first poll).
    pub(crate) fn set_slot(&self, slot: usize) {
        self.state.fetch_or((slot + 1) << 1, Ordering::SeqCst);
    }
}

/// Who runs a task.
pub(crate) enum Home {
    /// An event loop polls it, each time it is woken.
    Loop(Arc<Shared>),
    /// A thread of a blocking pool runs it once: `run_in_executor` and `ThreadPool` jobs.
    Pool(Arc<PoolShared>),
}
// ANCHOR_END: header

pub(crate) const NO_SLOT: usize = usize::MAX;

/// How a task ended. async-task stores it in the task's output slot.
pub(crate) enum Outcome<T> {
    Completed(T),
    Panicked(Unclaimed),
    Cancelled,
}

/// A task's panic, on its way to whoever awaits the task. If nobody ever does (the
/// `Task` was dropped), the payload is dropped with this, and under `GLASS_DEBUG` glass
/// says so: a panic nobody looks at is a bug nobody sees.
pub(crate) struct Unclaimed(Option<Box<PanicOf>>);

/// One pointer in the task's output slot, so that every task stays small.
struct PanicOf {
    payload: Box<dyn Any + Send>,
    id: TaskId,
}

impl Unclaimed {
    fn new(payload: Box<dyn Any + Send>, id: TaskId) -> Unclaimed {
        Unclaimed(Some(Box::new(PanicOf { payload, id })))
    }

    fn claim(&mut self) -> Box<dyn Any + Send> {
        self.0
            .take()
            .expect("a task's panic is claimed once")
            .payload
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(panic) = &self.0 {
            if debug::debugging() {
                eprintln!(
                    "glass: the panic of task {} was never awaited: its Task was dropped \
                     (detached), so nobody saw \"{}\". Await the task, or call join()",
                    panic.id,
                    panic_message(panic.payload.as_ref())
                );
            }
        }
    }
}

// ANCHOR: poll_note
/// What the loop tells a task's wrapper about the poll it is about to make, and what
/// the wrapper tells back. async-task owns the future, so the loop cannot reach into it;
/// this thread-local is the note they pass across `Runnable::run`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollNote {
    /// Poll the future as usual.
    Poll,
    /// Do not poll: drop the future and finish as cancelled.
    Cancel,
    /// Written back by the wrapper: the task has finished, and how.
    Finished(Ending),
}

/// How a task's last step ended, for the loop's bookkeeping and trace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ending {
    Completed,
    Panicked,
    Cancelled,
}

/// What one step of a task did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Step {
    Pending,
    Finished(Ending),
}

thread_local! {
    static POLL_NOTE: Cell<PollNote> = const { Cell::new(PollNote::Poll) };
}

/// Runs one step of a task, telling its wrapper whether to poll or to cancel.
pub(crate) fn run_step(runnable: executor::Runnable, cancel: bool) -> Step {
    let note = if cancel {
        PollNote::Cancel
    } else {
        PollNote::Poll
    };
    POLL_NOTE.with(|n| n.set(note));
    runnable.run();
    match POLL_NOTE.with(|n| n.replace(PollNote::Poll)) {
        PollNote::Finished(ending) => Step::Finished(ending),
        _ => Step::Pending,
    }
}
// ANCHOR_END: poll_note

pin_project! {
    /// The future async-task actually runs: the user's future, plus a panic catcher and
    /// the cancellation check.
    pub(crate) struct TaskFuture<F> {
        #[pin]
        future: Option<F>,
        id: TaskId,
        name: Option<Arc<str>>,
    }
}

// ANCHOR: task_future
impl<F: Future> Future for TaskFuture<F> {
    type Output = Outcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut outcome = if POLL_NOTE.with(Cell::get) == PollNote::Cancel {
            Outcome::Cancelled
        } else {
            let Some(future) = this.future.as_mut().as_pin_mut() else {
                return Poll::Ready(Outcome::Cancelled);
            };
            // A panic must not unwind through the loop: catch it here and make it the
            // task's outcome, to be re-raised where the task is awaited.
            match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(output)) => Outcome::Completed(output),
                Err(payload) => Outcome::Panicked(Unclaimed::new(payload, *this.id)),
            }
        };
        // Drop the future now, on the loop's thread, so that its destructor has run
        // before anyone awaiting the task hears how it ended. A destructor may panic
        // too: that also becomes the task's panic (unless it had panicked already).
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| this.future.set(None)));
        if let Err(payload) = dropped {
            if !matches!(outcome, Outcome::Panicked(_)) {
                outcome = Outcome::Panicked(Unclaimed::new(payload, *this.id));
            }
        }
        if matches!(outcome, Outcome::Panicked(_)) {
            let name = display_name(*this.id, this.name.as_deref());
            eprintln!(
                "glass: task '{name}' ({}) panicked; awaiting its Task re-raises the panic, \
                 and task.join() returns it as a JoinError",
                this.id
            );
        }
        let ending = match outcome {
            Outcome::Completed(_) => Ending::Completed,
            Outcome::Panicked(_) => Ending::Panicked,
            Outcome::Cancelled => Ending::Cancelled,
        };
        POLL_NOTE.with(|n| n.set(PollNote::Finished(ending)));
        Poll::Ready(outcome)
    }
}
// ANCHOR_END: task_future

/// The header and the wrapped future of a new task.
fn task_parts<F: Future>(
    home: Home,
    id: TaskId,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    future: F,
) -> (TaskHeader, TaskFuture<F>) {
    let header = TaskHeader {
        id,
        name: name.clone(),
        spawned_at,
        home,
        state: AtomicUsize::new(0),
    };
    let wrapped = TaskFuture {
        future: Some(future),
        id,
        name,
    };
    (header, wrapped)
}

// ANCHOR: new_local_task
/// Makes the async-task task for a future that stays on the loop's thread, without
/// scheduling it. async-task checks that its `Runnable` is only ever run there.
pub(crate) fn new_local_task<F>(
    shared: &Arc<Shared>,
    id: TaskId,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    future: F,
) -> (executor::Runnable, Task<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let home = Home::Loop(Arc::clone(shared));
    let (header, wrapped) = task_parts(home, id, name, spawned_at, future);
    let (runnable, task) = async_task::Builder::new()
        .metadata(header)
        .spawn_local(move |_| wrapped, executor::schedule);
    (runnable, Task::new(task))
}
// ANCHOR_END: new_local_task

/// Makes the async-task task for a `Send` future, which may be made on any thread and
/// run by a loop (for [`Handle::spawn`](crate::Handle::spawn)) or by a pool's thread
/// (for `run_in_executor`).
pub(crate) fn new_send_task<F>(
    home: Home,
    id: TaskId,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    future: F,
) -> (executor::Runnable, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (header, wrapped) = task_parts(home, id, name, spawned_at, future);
    let (runnable, task) = async_task::Builder::new()
        .metadata(header)
        .spawn(move |_| wrapped, executor::schedule);
    (runnable, Task::new(task))
}

// ANCHOR: task
/// A handle to a spawned task; awaiting it gives the task's output.
///
/// Like `asyncio.Task`: awaiting a task that panicked re-raises its panic, and awaiting
/// a cancelled task panics with a message that says it was cancelled. Use
/// [`join`](Task::join) to receive either as a [`JoinError`] instead.
///
/// Dropping a `Task` **detaches** it: the task keeps running and its output is thrown
/// away (as in tokio; asyncio keeps only a weak reference, so a forgotten task may even
/// be garbage-collected). Call [`cancel`](Task::cancel) to stop it.
///
/// # Examples
///
/// ```
/// glass::run(async {
///     let task = glass::spawn(async { 1 + 2 });
///     assert_eq!(task.await, 3);
/// });
/// ```
#[must_use = "a dropped Task detaches; await it, or call .cancel() to stop it"]
pub struct Task<T> {
    inner: Option<async_task::Task<Outcome<T>, TaskHeader>>,
    default_name: OnceCell<Box<str>>,
}
// ANCHOR_END: task

impl<T> Task<T> {
    fn new(inner: async_task::Task<Outcome<T>, TaskHeader>) -> Task<T> {
        Task {
            inner: Some(inner),
            default_name: OnceCell::new(),
        }
    }

    fn header(&self) -> &TaskHeader {
        self.inner
            .as_ref()
            .expect("a Task always holds its inner task until it is dropped")
            .metadata()
    }

    /// The task's id, unique within its loop.
    pub fn id(&self) -> TaskId {
        self.header().id
    }

    /// The task's name: the one given to [`Builder::name`], else `Task-N` as in asyncio.
    pub fn name(&self) -> &str {
        let header = self.header();
        match &header.name {
            Some(name) => name,
            None => self
                .default_name
                .get_or_init(|| display_name(header.id, None).into()),
        }
    }

    /// Where the task was spawned: the caller of `spawn` (file, line, column).
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.header().spawned_at
    }

    /// Returns `true` once the task has finished: completed, panicked, or cancelled
    /// (once the loop has dropped its future).
    pub fn is_finished(&self) -> bool {
        self.inner.as_ref().is_some_and(|task| task.is_finished())
    }

    // ANCHOR: cancel
    /// Asks the loop to cancel the task; like `asyncio.Task.cancel()`.
    ///
    /// The task is not stopped at once: it is woken, and when the loop next runs it, the
    /// loop drops its future instead of polling it (the future's destructor runs then,
    /// on the loop's thread). Awaiting the task afterwards panics with a message saying
    /// it was cancelled; [`join`](Task::join) returns a [`JoinError`] whose
    /// [`is_cancelled`](JoinError::is_cancelled) is true. Cancelling a task that has
    /// already finished changes nothing: its result is still delivered.
    ///
    /// May be called from any thread.
    pub fn cancel(&self) {
        if self.is_finished() {
            return; // its result stands
        }
        let header = self.header();
        // SeqCst pairs with the loop's registration of the task (see
        // `Executor::run_task`): either the loop sees the flag on its next poll, or we
        // see the slot and wake the task — never neither.
        header.request_cancel();
        match &header.home {
            Home::Loop(shared) => {
                let slot = header.slot();
                if slot != NO_SLOT {
                    shared.wake_live_task(slot, header.id);
                }
                // No slot yet: the task has never run, so it is waiting in a ready
                // queue and will see the flag before its first poll.
            }
            // A queued job sees the flag and is never run. A running one cannot be
            // stopped: it runs to the end, and its result is dropped (`poll_outcome`).
            Home::Pool(_) => {}
        }
    }
    // ANCHOR_END: cancel

    /// Waits for the task and returns its output, or a [`JoinError`] if it panicked or
    /// was cancelled. Never panics.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future detaches the task, like dropping the `Task`.
    pub fn join(self) -> Join<T> {
        Join { task: self }
    }

    /// Blocks the current (non-loop) thread until the task finishes, and returns its
    /// output, re-raising its panic. Like `concurrent.futures.Future.result()`.
    ///
    /// # Panics
    ///
    /// Panics when called on a thread that is running an event loop: the loop could not
    /// run the task while its thread is blocked here. Await the task instead.
    pub fn wait(self) -> T {
        if event_loop::is_running_here() {
            panic!(
                "Task::wait() was called on a thread that is running a glass event loop; \
                 it would block the loop forever. Use `task.await` inside async code."
            );
        }
        crate::block_on(self)
    }

    fn join_error(&self, kind: JoinErrorKind) -> JoinError {
        JoinError {
            id: self.id(),
            name: self.name().to_owned(),
            kind,
        }
    }

    // ANCHOR: poll_outcome
    pub(crate) fn poll_outcome(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let inner = self
            .inner
            .as_mut()
            .expect("a Task always holds its inner task until it is dropped");
        let outcome = match Pin::new(inner).poll(cx) {
            Poll::Pending => {
                let header = self.header();
                debug::note_wait(|| match header.home {
                    Home::Loop(_) => WaitingOn::Task(header.id),
                    Home::Pool(_) => WaitingOn::BlockingJob(header.id),
                });
                return Poll::Pending;
            }
            Poll::Ready(outcome) => outcome,
        };
        let header = self.header();
        let cancelled_while_running =
            matches!(header.home, Home::Pool(_)) && header.cancel_requested();
        Poll::Ready(match outcome {
            Outcome::Completed(_) if cancelled_while_running => {
                Err(self.join_error(JoinErrorKind::Cancelled))
            }
            Outcome::Completed(output) => Ok(output),
            Outcome::Panicked(mut unclaimed) => {
                Err(self.join_error(JoinErrorKind::Panic(unclaimed.claim())))
            }
            Outcome::Cancelled => Err(self.join_error(JoinErrorKind::Cancelled)),
        })
    }
    // ANCHOR_END: poll_outcome
}

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.get_mut().poll_outcome(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(output)) => Poll::Ready(output),
            Poll::Ready(Err(error)) => match error.kind {
                JoinErrorKind::Panic(payload) => panic::resume_unwind(payload),
                JoinErrorKind::Cancelled => panic!(
                    "{error}; awaiting a cancelled task panics — use task.join().await \
                     to get a JoinError instead"
                ),
            },
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.detach();
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// The future returned by [`Task::join`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Join<T> {
    task: Task<T>,
}

impl<T> Future for Join<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().task.poll_outcome(cx)
    }
}

/// Why a task produced no output: it panicked, or it was cancelled.
pub struct JoinError {
    id: TaskId,
    name: String,
    kind: JoinErrorKind,
}

enum JoinErrorKind {
    Cancelled,
    Panic(Box<dyn Any + Send>),
}

impl JoinError {
    /// True when the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, JoinErrorKind::Cancelled)
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, JoinErrorKind::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic's payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// Panics when the task was cancelled rather than panicking; check
    /// [`is_panic`](JoinError::is_panic) first.
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self.kind {
            JoinErrorKind::Panic(payload) => payload,
            JoinErrorKind::Cancelled => panic!(
                "JoinError::into_panic() was called on {self_desc}, which did not panic; \
                 check is_panic() first",
                self_desc = format_args!("task '{}' ({})", self.name, self.id)
            ),
        }
    }
}

/// The text of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "<non-string panic payload>"
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            JoinErrorKind::Cancelled => {
                write!(f, "task '{}' ({}) was cancelled", self.name, self.id)
            }
            JoinErrorKind::Panic(payload) => write!(
                f,
                "task '{}' ({}) panicked: {}",
                self.name,
                self.id,
                panic_message(payload.as_ref())
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}

/// Spawns a future as a new task on the current event loop; like
/// `asyncio.create_task`.
///
/// The task starts running at the loop's next turn, concurrently with the caller. The
/// future need not be `Send`: tasks live on the loop's thread, so `Rc<RefCell<_>>` may
/// be shared between them.
///
/// # Panics
///
/// Panics when no event loop is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// glass::run(async {
///     let worker = glass::spawn(async {
///         glass::sleep(Duration::from_millis(10)).await;
///         "done"
///     });
///     assert_eq!(worker.await, "done");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(future)
}

pub use crate::blocking::spawn_blocking;

/// The same as [`spawn`], under asyncio's name.
#[track_caller]
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(future)
}

/// Spawns a task with options: for now, its name.
///
/// ```
/// glass::run(async {
///     let task = glass::task::Builder::new().name("producer").spawn(async { 7 });
///     assert_eq!(task.name(), "producer");
///     assert_eq!(task.await, 7);
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<Arc<str>>,
}

impl Builder {
    /// A builder with no options set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task: the name shows in `JoinError`s, panics and (later) traces.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(Arc::from(name.into()));
        self
    }

    /// Spawns the task on the current loop. See [`spawn`].
    ///
    /// # Panics
    ///
    /// Panics when no event loop is running on this thread.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let spawned_at = Location::caller();
        event_loop::with_current(|core| core.executor.spawn_local(future, self.name, spawned_at))
            .unwrap_or_else(|| {
                panic!(
                    "glass::spawn was called outside a running event loop (at {spawned_at}); \
                     call it inside glass::run(...), or use Handle::spawn from another thread"
                )
            })
    }
}

/// Describes every live task of the running loop: id, name, where it was spawned,
/// whether it runs, is scheduled or waits, and what it waits on; like
/// `asyncio.all_tasks()` with each task's stack. Names, spawn locations and what each
/// task waits on are kept only when the loop watches its tasks (`GLASS_DEBUG=1`,
/// `GLASS_TRACE=1`, or `EventLoop::builder().debug(true)`).
///
/// # Examples
///
/// ```
/// glass::EventLoop::builder().debug(true).build().run_until_complete(async {
///     let _waiter = glass::task::Builder::new()
///         .name("sleeper")
///         .spawn(glass::sleep(std::time::Duration::from_secs(60)));
///     glass::yield_now().await;
///     let dump = glass::task::dump();
///     assert!(dump.contains("task 'sleeper'"), "{dump}");
///     assert!(dump.contains("waiting on a timer"), "{dump}");
/// });
/// ```
pub fn dump() -> String {
    event_loop::with_current(|core| core.dump())
        .unwrap_or_else(|| "no glass event loop is running on this thread\n".to_owned())
}

// ANCHOR: yield_now
/// Lets every other ready task run before this one continues; like
/// `asyncio.sleep(0)`.
///
/// The first poll wakes the task at once and returns `Pending`, which puts the task at
/// the back of the ready queue. Two tasks that yield in a loop strictly alternate.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
// ANCHOR_END: yield_now
