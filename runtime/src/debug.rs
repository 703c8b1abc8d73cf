//! Layer 9 — seeing inside the loop.
//!
//! A teaching runtime should let you *watch* it work. Everything here is switched off
//! by default and costs a branch when off:
//!
//! - **Trace** (`GLASS_TRACE=1`, or `EventLoop::builder().trace(true)`): one line per
//!   loop event on stderr — a task polled and what it returned, a task spawned or
//!   finished, a timer fired, a socket ready, a jump of the paused clock, and every
//!   wake-up with *why* (by which task, timer, socket or thread).
//! - **Debug** (`GLASS_DEBUG=1`, or `.debug(true)`): a warning when one poll holds the
//!   loop longer than a threshold (100 ms), naming the task and where it was spawned.
//!   It also keeps each task's name, spawn location and what it waits on for
//!   [`dump`](crate::task::dump) and the deadlock report, and warns when a task's panic
//!   is dropped without anyone awaiting it. (A task's panic is always reported on
//!   stderr when it happens, debug or not.)
//! - **Timeline** (`GLASS_TIMELINE=path.json`): a Chrome trace-event file, one track per
//!   task and a slice per poll, to open in Perfetto or `chrome://tracing`.
//! - **Seed** (`GLASS_SEED=n`): each turn's ready tasks run in an order shuffled by a
//!   seeded generator, to shake out ordering bugs and replay a failing order exactly.
//! - **Deadlock report** (always on): when nothing inside the loop can make progress —
//!   no task ready, no timer, no socket, no blocking job — for a grace period (1 s),
//!   glass prints who waits on what, once, and keeps waiting; with the paused clock, or
//!   `.on_deadlock(OnDeadlock::Panic)`, it panics instead.
//!
//! What the deadlock report cannot see: a plain thread (or another loop) that holds a
//! waker, an `Arc<Event>` or a channel sender and may still wake a task. That is why it
//! reports and waits instead of giving up.
//!
//! Chapter 10 of the book, "Seeing inside", explains this file.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::task::TaskId;
use crate::time::Instant;

/// What the loop does when it finds a deadlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDeadlock {
    /// Print the report on stderr, once, and keep waiting (the default).
    Report,
    /// Panic with the report (the default on the paused clock, and in tests).
    Panic,
}

// ANCHOR: settings
/// The watching tools' settings, fixed when the loop is built.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) trace: bool,
    pub(crate) debug: bool,
    pub(crate) slow_poll: Duration,
    pub(crate) timeline: Option<std::path::PathBuf>,
    pub(crate) seed: Option<u64>,
    pub(crate) deadlock_grace: Duration,
    pub(crate) on_deadlock: Option<OnDeadlock>,
}

impl Default for Settings {
    fn default() -> Settings {
        let on = |name: &str| std::env::var(name).is_ok_and(|v| v == "1");
        Settings {
            trace: on("GLASS_TRACE"),
            debug: on("GLASS_DEBUG"),
            slow_poll: Duration::from_millis(100),
            timeline: std::env::var_os("GLASS_TIMELINE").map(Into::into),
            seed: std::env::var("GLASS_SEED")
                .ok()
                .and_then(|s| s.parse().ok()),
            deadlock_grace: Duration::from_secs(1),
            on_deadlock: None,
        }
    }
}

// ANCHOR_END: settings

/// A task as the watching tools name it.
#[derive(Clone)]
pub(crate) struct Label {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = crate::task::display_name(self.id, self.name.as_deref());
        write!(f, "task '{name}' ({})", self.id)
    }
}

// ANCHOR: waiting_on
/// What a waiting task waits for, as its last leaf future told us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitingOn {
    Timer(Instant),
    Primitive {
        kind: &'static str,
        name: Option<&'static str>,
        at: usize,
        held_by: Option<TaskId>,
    },
    Socket {
        fd: i32,
        readable: bool,
    },
    Task(TaskId),
    BlockingJob(TaskId),
}

thread_local! {
    /// The task being polled on this thread, if any.
    static CURRENT_TASK: Cell<Option<TaskId>> = const { Cell::new(None) };
    /// What the task being polled said it will wait on (the last leaf future wins).
    static WAITING_ON: Cell<Option<WaitingOn>> = const { Cell::new(None) };
    /// Why the wake-ups happening now happen (for the trace).
    static CAUSE: Cell<Cause> = const { Cell::new(Cause::Unknown) };
}

/// Set once any loop of the process watches its tasks: until then, leaf futures skip
/// noting what they wait on (one relaxed load instead), so the tools cost nothing.
static ANY_LOOP_WATCHES: AtomicBool = AtomicBool::new(false);

/// Set once any loop of the process runs with `debug` on.
static ANY_LOOP_DEBUGS: AtomicBool = AtomicBool::new(false);

/// True when some loop runs with `debug` (`GLASS_DEBUG=1`).
pub(crate) fn debugging() -> bool {
    ANY_LOOP_DEBUGS.load(Ordering::Relaxed)
}

/// True when some loop watches: only then is [`note_wait`] worth its cost.
#[inline]
pub(crate) fn watching() -> bool {
    ANY_LOOP_WATCHES.load(Ordering::Relaxed)
}

/// Called by a leaf future that returns `Pending`: records what the task waits on.
#[inline]
pub(crate) fn note_wait(waiting_on: impl FnOnce() -> WaitingOn) {
    if watching() {
        WAITING_ON.with(|w| w.set(Some(waiting_on())));
    }
}
// ANCHOR_END: waiting_on

// ANCHOR: polling
/// The task being polled on this thread (known only while a loop watches).
pub(crate) fn current_task() -> Option<TaskId> {
    if !watching() {
        return None;
    }
    CURRENT_TASK.with(Cell::get)
}

/// Runs one poll of task `id`, and returns what it noted it waits on.
pub(crate) fn polling<R>(id: Option<TaskId>, poll: impl FnOnce() -> R) -> (R, Option<WaitingOn>) {
    let before = CURRENT_TASK.with(|c| c.replace(id));
    WAITING_ON.with(|w| w.set(None));
    let result = poll();
    CURRENT_TASK.with(|c| c.set(before));
    (result, WAITING_ON.with(Cell::take))
}

// ANCHOR_END: polling

/// Why a wake-up happens, for the trace.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cause {
    Unknown,
    Task(TaskId),
    Main,
    Timer,
    Socket { fd: i32, readable: bool },
    Callback,
}

/// Runs `f` (which may wake tasks) with `cause` as the reason the trace gives.
pub(crate) fn because<R>(cause: Cause, f: impl FnOnce() -> R) -> R {
    let before = CAUSE.with(|c| c.replace(cause));
    let result = f();
    CAUSE.with(|c| c.set(before));
    result
}

pub(crate) fn cause() -> Cause {
    CAUSE.with(Cell::get)
}

/// The watching tools of one loop.
pub(crate) struct Watch {
    pub(crate) settings: Settings,
    /// `trace || debug || timeline`, computed once: checked on every poll.
    watching: bool,
    clock_start: Instant,
    turn: Cell<u64>,
    rng: Cell<u64>,
    timeline: RefCell<Vec<String>>,
    timeline_start: std::time::Instant,
    /// Set once a deadlock was reported, until something happens again.
    pub(crate) reported_deadlock: Cell<bool>,
}

impl Watch {
    pub(crate) fn new(settings: Settings, clock_start: Instant) -> Watch {
        let seed = settings.seed.unwrap_or(0);
        let watching = settings.trace || settings.debug || settings.timeline.is_some();
        if watching {
            ANY_LOOP_WATCHES.store(true, Ordering::Relaxed);
        }
        if settings.debug {
            ANY_LOOP_DEBUGS.store(true, Ordering::Relaxed);
        }
        let timeline = if settings.timeline.is_some() {
            vec![r#"{"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"main future and loop events"}}"#.to_owned()]
        } else {
            Vec::new()
        };
        Watch {
            watching,
            settings,
            clock_start,
            turn: Cell::new(0),
            rng: Cell::new(seed),
            timeline: RefCell::new(timeline),
            timeline_start: std::time::Instant::now(),
            reported_deadlock: Cell::new(false),
        }
    }

    /// True when any tool looks at each poll: then polls are timed and named.
    #[inline]
    pub(crate) fn watching_polls(&self) -> bool {
        self.watching
    }

    pub(crate) fn tracing(&self) -> bool {
        self.settings.trace
    }

    pub(crate) fn next_turn(&self) {
        self.turn.set(self.turn.get() + 1);
    }

    // ANCHOR: trace_line
    /// Prints one trace line: the turn, the loop's time, and what happened.
    pub(crate) fn trace(&self, now: Instant, what: fmt::Arguments<'_>) {
        let seconds = now.duration_since(self.clock_start).as_secs_f64();
        let line = format!(
            "glass: turn {:>4} {seconds:>9.3}s  {what}\n",
            self.turn.get()
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    // ANCHOR_END: trace_line

    // ANCHOR: after_poll
    /// Called after a timed poll: the trace line, the slow-poll warning, the timeline.
    pub(crate) fn after_poll(
        &self,
        now: Instant,
        who: &Label,
        started: std::time::Instant,
        result: &str,
    ) {
        let took = started.elapsed();
        if self.settings.trace {
            self.trace(now, format_args!("polled {who}: {result} after {took:?}"));
        }
        if self.settings.debug && took >= self.settings.slow_poll {
            eprintln!(
                "glass: {who}, spawned at {}, held the loop for {took:?} in one poll (more \
                 than {:?}): while it ran, no other task, timer or socket could. If it \
                 blocks (std::thread::sleep, a big computation, blocking I/O), move that \
                 work to glass::run_in_executor(...)",
                who.spawned_at, self.settings.slow_poll
            );
        }
        if self.settings.timeline.is_some() {
            let start = started.duration_since(self.timeline_start).as_micros();
            self.timeline.borrow_mut().push(format!(
                r#"{{"name":"poll","cat":"task","ph":"X","ts":{start},"dur":{},"pid":1,"tid":{},"args":{{"result":"{result}"}}}}"#,
                took.as_micros().max(1),
                who.id.0
            ));
        }
    }
    // ANCHOR_END: after_poll

    /// Names a task's track in the timeline.
    pub(crate) fn timeline_task(&self, who: &Label) {
        if self.settings.timeline.is_some() {
            let name = crate::task::display_name(who.id, who.name.as_deref()).replace('"', "'");
            self.timeline.borrow_mut().push(format!(
                r#"{{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":"{name} ({})"}}}}"#,
                who.id.0, who.id
            ));
        }
    }

    /// Marks an instant in the timeline (a timer fired, a socket was ready).
    pub(crate) fn timeline_mark(&self, name: &str) {
        if self.settings.timeline.is_some() {
            let at = self.timeline_start.elapsed().as_micros();
            self.timeline.borrow_mut().push(format!(
                r#"{{"name":"{name}","cat":"loop","ph":"i","s":"g","ts":{at},"pid":1,"tid":0}}"#
            ));
        }
    }

    /// Writes the timeline file (when the loop is dropped).
    pub(crate) fn write_timeline(&self) {
        let Some(path) = &self.settings.timeline else {
            return;
        };
        let events = self.timeline.borrow().join(",\n");
        let json = format!("{{\"traceEvents\":[\n{events}\n]}}\n");
        if let Err(error) = std::fs::write(path, json) {
            eprintln!(
                "glass: could not write the timeline to {}: {error}",
                path.display()
            );
        }
    }

    /// The next number of the seeded generator (SplitMix64).
    pub(crate) fn next_random(&self) -> u64 {
        let mut z = self.rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.rng.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl fmt::Display for WaitingOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitingOn::Timer(deadline) => {
                let left = deadline.duration_since(Instant::now());
                write!(f, "a timer ({left:?} from now)")
            }
            WaitingOn::Primitive {
                kind,
                name,
                at,
                held_by,
            } => {
                match name {
                    Some(name) => write!(f, "{kind} '{name}'")?,
                    None => write!(f, "{kind} at {at:#x}")?,
                }
                match held_by {
                    Some(holder) => write!(f, ", held by task {holder}"),
                    None => Ok(()),
                }
            }
            WaitingOn::Socket { fd, readable: true } => write!(f, "fd {fd} to be readable"),
            WaitingOn::Socket {
                fd,
                readable: false,
            } => write!(f, "fd {fd} to be writable"),
            WaitingOn::Task(id) => write!(f, "task {id} to finish"),
            WaitingOn::BlockingJob(id) => write!(f, "a blocking job (pool job {id})"),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Unknown => write!(f, "the loop"),
            Cause::Task(id) => write!(f, "task {id}"),
            Cause::Main => write!(f, "the main future"),
            Cause::Timer => write!(f, "a timer"),
            Cause::Socket { fd, readable: true } => write!(f, "fd {fd} readable"),
            Cause::Socket {
                fd,
                readable: false,
            } => write!(f, "fd {fd} writable"),
            Cause::Callback => write!(f, "a callback"),
        }
    }
}

/// One line of a task dump.
pub(crate) fn dump_line(
    out: &mut String,
    who: Option<&Label>,
    id: TaskId,
    state: &str,
    waiting: Option<WaitingOn>,
) {
    match who {
        Some(who) => {
            let _ = write!(out, "  {who}, spawned at {}: {state}", who.spawned_at);
        }
        None => {
            let _ = write!(out, "  task {id}: {state}");
        }
    }
    if let Some(waiting) = waiting {
        let _ = write!(out, ", waiting on {waiting}");
    }
    out.push('\n');
}
