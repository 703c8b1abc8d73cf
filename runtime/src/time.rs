//! Layer 4 — timers: sleep, wait_for, interval, and the loop's clock.
//!
//! # A discussion about time
//!
//! A timer is a promise the loop makes to a task: "at this instant, I will wake you".
//! The loop keeps its promises in a `TimerQueue`, ordered by deadline. Each turn it
//! pops the timers that are due and wakes their tasks; and when it has nothing to run,
//! it sleeps in the kernel exactly until the first deadline.
//!
//! The queue is a binary heap of `(deadline, sequence number)`, with the live timers in
//! a slab beside it. The sequence number keeps timers with the same deadline in the
//! order they were armed. Most timers are never due — a `wait_for` whose future
//! finishes first drops its timer — so cancelling must be cheap: it only removes the
//! timer from the slab. The heap entry stays behind, dead, and is thrown away when it
//! reaches the top, or when the dead entries outnumber the live ones and the heap is
//! compacted, so garbage never grows past the live timers. asyncio keeps its timers the
//! same way. A `BTreeMap` would remove the entry at once, but costs an allocation and
//! a tree walk per timer; a hierarchical wheel (tokio's) is faster still for millions of
//! timers, and much longer to read.
//!
//! A timer is armed lazily, when its future is first polled and found not yet due, and
//! disarmed when the future is dropped. A future that is never polled costs nothing.
//!
//! The clock itself belongs to the loop. Normally it is the real monotonic clock. With
//! the *paused clock* (`EventLoop::builder().paused_clock(true)`, or
//! `GLASS_PAUSED_CLOCK=1`), time stands still while any task can run, and when every
//! task is waiting the clock jumps straight to the next deadline: an hour of `sleep`
//! passes in microseconds, and the order of events is exact. Tests use it.
//!
//! Chapter 5 of the book, "Timers", explains this file.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::ops::{Add, AddAssign, Sub};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use pin_project_lite::pin_project;
use slab::Slab;

use crate::budget;
use crate::debug::{self, WaitingOn};
use crate::event_loop::{self, Core};

// ANCHOR: clock
/// The loop's clock: real, or paused and moved only by the loop.
pub(crate) struct Clock {
    paused: bool,
    start: std::time::Instant,
    /// How far the paused clock has been moved since `start`.
    advanced: Cell<Duration>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        Clock {
            paused,
            start: std::time::Instant::now(),
            advanced: Cell::new(Duration::ZERO),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            Instant(self.start + self.advanced.get())
        } else {
            Instant(std::time::Instant::now())
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// Moves the paused clock forward to `deadline` (never backwards).
    pub(crate) fn jump_to(&self, deadline: Instant) {
        debug_assert!(self.paused, "only the paused clock can be moved");
        let target = deadline.0.saturating_duration_since(self.start);
        if target > self.advanced.get() {
            self.advanced.set(target);
        }
    }
}
// ANCHOR_END: clock

/// A moment on the loop's clock; like `std::time::Instant`, but it follows the paused
/// clock when the loop has one.
///
/// ```
/// use std::time::Duration;
/// use glass::time::Instant;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let start = Instant::now();
///     glass::sleep(Duration::from_secs(3600)).await; // takes no real time
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The current time on the running loop's clock (the real clock outside a loop).
    pub fn now() -> Instant {
        event_loop::with_current(|core| core.clock.now())
            .unwrap_or_else(|| Instant(std::time::Instant::now()))
    }

    /// Time passed since `earlier`; zero when `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time passed since this instant, on the current clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// The standard library's instant behind this one.
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// An instant so far away that it never comes: what a huge timeout saturates to.
    fn far_future() -> Instant {
        // About 30 years: far enough, and far from overflowing any platform's clock.
        Instant::now() + Duration::from_secs(86_400 * 365 * 30)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, duration: Duration) -> Instant {
        self.checked_add(duration)
            .unwrap_or_else(Instant::far_future)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

// ANCHOR: timer_queue
/// What a timer does when it comes due.
pub(crate) enum TimerAction {
    /// Wake the task that awaits a `Sleep`.
    Wake(Waker),
    /// Call a callback given to `call_later`.
    Call(Box<dyn FnOnce()>),
}

/// Identifies an armed timer: its slot among the live timers, and its sequence number
/// (a slot is reused once its timer is gone; the number tells the timers apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: usize,
    sequence: u64,
    deadline: Instant,
}

/// A heap entry: ordered by deadline, then by the order the timers were armed.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    deadline: Instant,
    sequence: u64,
    slot: usize,
}

struct Live {
    sequence: u64,
    action: TimerAction,
}

/// The loop's timers: a min-heap of deadlines, and the live timers in a slab.
///
/// Disarming a timer removes it from the slab only; its heap entry stays behind, dead,
/// until it reaches the top and is thrown away, or until dead entries are more than
/// half of the heap and the heap is compacted. asyncio does exactly this with its
/// cancelled `TimerHandle`s.
#[derive(Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<Scheduled>>,
    live: Slab<Live>,
    next_sequence: u64,
}

impl TimerQueue {
    pub(crate) fn arm(&mut self, deadline: Instant, action: TimerAction) -> TimerKey {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let slot = self.live.insert(Live { sequence, action });
        self.heap.push(Reverse(Scheduled {
            deadline,
            sequence,
            slot,
        }));
        TimerKey {
            slot,
            sequence,
            deadline,
        }
    }

    /// Removes a timer; does nothing when it has fired already.
    pub(crate) fn disarm(&mut self, key: TimerKey) {
        if self.is_live(key.slot, key.sequence) {
            self.live.remove(key.slot);
            // The heap entry is now dead. Compact when the dead outnumber the live, so
            // that timers which never fire (a `wait_for` that wins) cannot pile up.
            let dead = self.heap.len() - self.live.len();
            if dead > 64 && dead > self.live.len() {
                let live = &self.live;
                self.heap.retain(|Reverse(entry)| {
                    live.get(entry.slot)
                        .is_some_and(|t| t.sequence == entry.sequence)
                });
            }
        }
    }

    // ANCHOR: update_waker
    /// Replaces the waker of an armed `Sleep`, unless it would wake the same task.
    pub(crate) fn update_waker(&mut self, key: TimerKey, waker: &Waker) {
        if !self.is_live(key.slot, key.sequence) {
            return;
        }
        if let TimerAction::Wake(stored) = &mut self.live[key.slot].action {
            if !stored.will_wake(waker) {
                stored.clone_from(waker);
            }
        }
    }

    // ANCHOR_END: update_waker

    /// The first deadline among the live timers, if any.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_dead_top();
        self.heap.peek().map(|Reverse(entry)| entry.deadline)
    }

    /// Takes the first live timer if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerAction> {
        self.drop_dead_top();
        let Reverse(first) = self.heap.peek()?;
        if first.deadline > now {
            return None;
        }
        let Reverse(due) = self.heap.pop()?;
        Some(self.live.remove(due.slot).action)
    }

    pub(crate) fn clear(&mut self) -> Vec<TimerAction> {
        self.heap.clear();
        self.live.drain().map(|timer| timer.action).collect()
    }

    fn is_live(&self, slot: usize, sequence: u64) -> bool {
        self.live
            .get(slot)
            .is_some_and(|timer| timer.sequence == sequence)
    }

    /// Throws away dead entries at the top of the heap.
    fn drop_dead_top(&mut self) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if self.is_live(top.slot, top.sequence) {
                break;
            }
            self.heap.pop();
        }
    }
}
// ANCHOR_END: timer_queue

/// Where a `Sleep`'s timer is armed: which loop, and which key.
#[derive(Clone, Copy, Debug)]
struct Armed {
    loop_id: u64,
    key: TimerKey,
}

// ANCHOR: sleep
/// A future that completes at a deadline. Made by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    /// When to complete; for `sleep(d)`, fixed at the first poll.
    deadline: Deadline,
    /// The armed timer, if the sleep has been polled and is not yet due.
    armed: Option<Armed>,
}

#[derive(Clone, Copy, Debug)]
enum Deadline {
    After(Duration),
    At(Instant),
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        event_loop::with_current(|core| this.poll_on(core, cx)).unwrap_or_else(|| {
            panic!(
                "a glass sleep or timeout was awaited outside a running event loop; \
                 await it inside glass::run(...)"
            )
        })
    }
}

impl Sleep {
    fn poll_on(&mut self, core: &Core, cx: &mut Context<'_>) -> Poll<()> {
        let now = core.clock.now();
        let deadline = match self.deadline {
            Deadline::At(deadline) => deadline,
            Deadline::After(duration) => {
                // Like an asyncio coroutine, the sleep starts when it is first awaited.
                let deadline = now + duration;
                self.deadline = Deadline::At(deadline);
                deadline
            }
        };
        if now >= deadline {
            if let Some(armed) = self.armed.take() {
                core.timers.borrow_mut().disarm(armed.key);
            }
            // Due: complete — unless this task has used up its budget (see budget.rs).
            return budget::spend(cx);
        }
        let mut timers = core.timers.borrow_mut();
        match self.armed {
            Some(armed) if armed.loop_id == core.shared.loop_id => {
                timers.update_waker(armed.key, cx.waker());
            }
            _ => {
                let key = timers.arm(deadline, TimerAction::Wake(cx.waker().clone()));
                self.armed = Some(Armed {
                    loop_id: core.shared.loop_id,
                    key,
                });
            }
        }
        debug::note_wait(|| WaitingOn::Timer(deadline));
        Poll::Pending
    }
}
// ANCHOR_END: sleep

// ANCHOR: sleep_drop
impl Sleep {
    /// The deadline, once known: a `sleep(d)` knows it from its first poll.
    pub fn deadline(&self) -> Option<Instant> {
        match self.deadline {
            Deadline::At(deadline) => Some(deadline),
            Deadline::After(_) => None,
        }
    }

    /// Moves the deadline; the sleep becomes pending again if the new deadline is later.
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = Deadline::At(deadline);
    }

    fn disarm(&mut self) {
        if let Some(armed) = self.armed.take() {
            event_loop::with_current(|core| {
                if core.shared.loop_id == armed.loop_id {
                    core.timers.borrow_mut().disarm(armed.key);
                }
            });
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // Disarm, so that the timer never fires and the queue can forget it.
        self.disarm();
    }
}
// ANCHOR_END: sleep_drop

/// Waits for `duration`; like `asyncio.sleep`.
///
/// The clock starts at the first poll (when the sleep is first awaited), as an asyncio
/// coroutine starts when it is awaited. A sleep of zero completes at once; to let other
/// tasks run, use [`yield_now`](crate::yield_now).
///
/// # Panics
///
/// Polling it outside a running event loop panics.
///
/// # Cancel safety
///
/// Dropping the future disarms its timer; nothing else happens.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use glass::time::Instant;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let start = Instant::now();
///     glass::sleep(Duration::from_secs(2)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Deadline::After(duration),
        armed: None,
    }
}

/// Waits until `deadline` on the loop's clock.
///
/// # Cancel safety
///
/// Dropping the future disarms its timer; nothing else happens.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Deadline::At(deadline),
        armed: None,
    }
}

/// The error of [`wait_for`] and [`timeout`]: the time ran out first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutError(());

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the time ran out before the future completed")
    }
}

impl std::error::Error for TimeoutError {}

pin_project! {
    /// A future with a time limit. Made by [`wait_for`] and [`timeout`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: Option<F>,
        limit: Duration,
        // Made on the first poll that finds the future pending: a future that is ready
        // at once never touches the clock or the timer queue.
        sleep: Option<Sleep>,
    }
}

// ANCHOR: timeout_poll
impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("a wait_for / timeout future was polled after it completed");
        // The future goes first, on every poll: a future that is ready wins, even when
        // the deadline has passed (tokio's rule).
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            return Poll::Ready(Ok(output));
        }
        let limit = *this.limit;
        let sleep = this.sleep.get_or_insert_with(|| sleep(limit));
        match Pin::new(sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                // Time is up: drop the inner future now, as asyncio cancels it.
                this.future.set(None);
                Poll::Ready(Err(TimeoutError(())))
            }
        }
    }
}
// ANCHOR_END: timeout_poll

/// Waits for `future`, but at most `limit`; like `asyncio.wait_for`.
///
/// Returns the future's output, or [`TimeoutError`] when `limit` passes first; then the
/// future is dropped. The future is polled before the deadline is checked, every time,
/// so a future that is ready wins even with a zero limit. The limit starts at the first
/// poll. Note that if the future is a [`Task`](crate::Task), dropping it *detaches* the
/// task rather than cancelling it as asyncio would; call `cancel()` yourself.
///
/// # Cancel safety
///
/// Dropping the returned future drops `future` and disarms the timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let slow = glass::sleep(Duration::from_secs(4));
///     let result = glass::wait_for(slow, Duration::from_secs(1)).await;
///     assert!(result.is_err());
///     let fast = async { 5 };
///     assert_eq!(glass::wait_for(fast, Duration::ZERO).await, Ok(5));
/// });
/// ```
pub fn wait_for<F: Future>(future: F, limit: Duration) -> Timeout<F> {
    Timeout {
        future: Some(future),
        limit,
        sleep: None,
    }
}

/// The same as [`wait_for`], with tokio's argument order.
pub fn timeout<F: Future>(limit: Duration, future: F) -> Timeout<F> {
    wait_for(future, limit)
}

/// What an [`Interval`] does when ticks were missed because the task ran late. The
/// same three choices as tokio's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks one after another, as fast as possible, to catch up; then
    /// keep the original schedule. The default.
    #[default]
    Burst,
    /// Fire once now, and schedule the next tick one period from now.
    Delay,
    /// Fire once now, and skip to the next tick of the original schedule.
    Skip,
}

/// How late a tick may be and still count as on time (tokio's figure).
const MISSED_TICK_SLACK: Duration = Duration::from_millis(5);

/// Ticks at a fixed period. Made by [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    missed: MissedTickBehavior,
    sleep: Sleep,
}

/// A ticker whose first tick completes at once, then one tick every `period`; like
/// tokio's `interval`.
///
/// # Panics
///
/// Panics when `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use glass::time::{interval, Instant};
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let start = Instant::now();
///     let mut ticker = interval(Duration::from_secs(1));
///     for expected in 0..3 {
///         ticker.tick().await;
///         assert_eq!(start.elapsed(), Duration::from_secs(expected));
///     }
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "glass::time::interval was given a period of zero; give it a positive Duration"
    );
    let first = Instant::now();
    Interval {
        period,
        next: first,
        missed: MissedTickBehavior::default(),
        sleep: sleep_until(first),
    }
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no tick; the next call waits for the
    /// same one.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    // ANCHOR: interval_poll_tick
    /// The polling form of [`tick`](Interval::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let tick = self.next;
        let now = Instant::now();
        // Like tokio, a tick less than 5 ms late counts as on time: the next one keeps
        // the schedule. Later than that, the missed-tick behaviour decides.
        self.next = if now <= tick + MISSED_TICK_SLACK {
            tick + self.period
        } else {
            match self.missed {
                MissedTickBehavior::Burst => tick + self.period,
                MissedTickBehavior::Delay => now + self.period,
                MissedTickBehavior::Skip => {
                    // The first tick of the original schedule that is still ahead.
                    let behind = now.duration_since(tick).as_nanos();
                    let periods = behind / self.period.as_nanos() + 1;
                    let periods = u32::try_from(periods).unwrap_or(u32::MAX);
                    tick + self.period.saturating_mul(periods)
                }
            }
        };
        self.sleep.reset(self.next);
        Poll::Ready(tick)
    }

    // ANCHOR_END: interval_poll_tick

    /// Chooses what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The current choice for missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now() + self.period;
        self.sleep.reset(self.next);
    }
}

// ANCHOR: call_later
/// Schedules `callback` to be called after `delay` on the current loop; like
/// `loop.call_later`. Returns a handle that can cancel it.
///
/// When the delay has passed, the callback joins the back of the ready queue, so it
/// runs after the work that was ready before it, as in asyncio. Dropping the handle
/// does not cancel the callback (as in asyncio).
///
/// # Panics
///
/// Panics when no event loop is running on this thread.
pub fn call_later(delay: Duration, callback: impl FnOnce() + 'static) -> TimerHandle {
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancelled);
    // The flag catches a cancel that comes after the timer fired but before the
    // callback's turn in the ready queue.
    let call_unless_cancelled = move || {
        if !flag.load(Ordering::Acquire) {
            callback();
        }
    };
    event_loop::with_current(|core| {
        let deadline = core.clock.now() + delay;
        let key = core
            .timers
            .borrow_mut()
            .arm(deadline, TimerAction::Call(Box::new(call_unless_cancelled)));
        TimerHandle {
            key,
            loop_id: core.shared.loop_id,
            cancelled,
        }
    })
    .unwrap_or_else(|| {
        panic!(
            "glass::call_later was called outside a running event loop; call it inside \
             glass::run(...), or use Handle::call_soon_threadsafe from another thread"
        )
    })
}
// ANCHOR_END: call_later

/// Cancels a callback scheduled with [`call_later`]; like asyncio's `TimerHandle`.
#[derive(Clone)]
pub struct TimerHandle {
    key: TimerKey,
    loop_id: u64,
    cancelled: Arc<AtomicBool>,
}

impl TimerHandle {
    /// Cancels the callback if it has not run yet; does nothing otherwise. May be
    /// called from any thread.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        // On the loop's own thread, also take the timer out of the queue now, so that
        // a cancelled far-off timer costs no memory until it would have fired.
        let key = self.key;
        event_loop::with_current(|core| {
            if core.shared.loop_id == self.loop_id {
                core.timers.borrow_mut().disarm(key);
            }
        });
    }

    /// True once [`cancel`](TimerHandle::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// When the callback is due, on the loop's clock.
    pub fn when(&self) -> Instant {
        self.key.deadline
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.key.deadline)
            .finish()
    }
}
