//! `Event`: a flag that tasks can wait for; like `asyncio.Event`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use super::lock_state;
use super::waiters::{self, Status, WaiterKey, WaiterList};
use crate::budget;

/// A flag that tasks can wait for; like `asyncio.Event`.
///
/// [`set`](Event::set) wakes every task waiting in [`wait`](Event::wait), and later
/// waits complete at once until [`clear`](Event::clear). A waiter that was waiting when
/// `set()` ran completes even if `clear()` runs before it is polled: `set()` hands the
/// wake-up to each waiter, and a handed wake-up cannot be taken back.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use glass::sync::Event;
///
/// glass::run(async {
///     let go = Arc::new(Event::new());
///     let waiter = glass::spawn({
///         let go = Arc::clone(&go);
///         async move { go.wait().await; "released" }
///     });
///     go.set();
///     assert_eq!(waiter.await, "released");
/// });
/// ```
#[derive(Default)]
pub struct Event {
    /// A copy of `state.set` that `is_set` and `wait` read without locking.
    is_set: AtomicBool,
    state: Mutex<EventState>,
}

struct EventState {
    set: bool,
    waiters: WaiterList<()>,
}

impl Default for EventState {
    fn default() -> Self {
        EventState {
            set: false,
            waiters: WaiterList::new("Event"),
        }
    }
}

/// What an [`Event`] holds right now, for the book and for debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventStatistics {
    /// Whether the flag is set.
    pub is_set: bool,
    /// How many tasks wait for it.
    pub waiters: usize,
}

impl Event {
    /// Names it, for [`task::dump`](crate::task::dump), the trace and the deadlock
    /// report: "waiting on Event 'pot'" instead of an address.
    pub fn named(mut self, name: &'static str) -> Self {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.waiters.name = Some(name);
        self
    }

    /// An event whose flag is not set.
    pub fn new() -> Event {
        Event::default()
    }

    /// True when the flag is set.
    pub fn is_set(&self) -> bool {
        self.is_set.load(Ordering::Acquire)
    }

    // ANCHOR: event_set
    /// Sets the flag and wakes every waiting task.
    pub fn set(&self) {
        let mut woken = Vec::new();
        {
            let mut state = lock_state(&self.state);
            state.set = true;
            self.is_set.store(true, Ordering::Release);
            state.waiters.hand_all(&mut woken);
        }
        // Wake after unlocking: a woken task on another thread may come straight here.
        waiters::wake_all(woken);
    }
    // ANCHOR_END: event_set

    /// Clears the flag; later waits wait again. Waiters already woken by `set` still
    /// complete.
    pub fn clear(&self) {
        let mut state = lock_state(&self.state);
        state.set = false;
        self.is_set.store(false, Ordering::Release);
    }

    /// Waits until the flag is set; completes at once if it is set already.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future removes it from the waiters, and nothing else
    /// changes.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }

    /// How many tasks wait, and whether the flag is set.
    pub fn statistics(&self) -> EventStatistics {
        let state = lock_state(&self.state);
        EventStatistics {
            is_set: state.set,
            waiters: state.waiters.len(),
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.statistics().fmt(f)
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<WaiterKey>,
}

// ANCHOR: event_wait
impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(key) = this.key else {
            if this.event.is_set() {
                return budget::spend(cx);
            }
            let mut state = lock_state(&this.event.state);
            if state.set {
                drop(state);
                return budget::spend(cx);
            }
            this.key = Some(state.waiters.push_back((), cx.waker()));
            return Poll::Pending;
        };
        let mut state = lock_state(&this.event.state);
        match state.waiters.status(key) {
            Status::Handed => {
                state.waiters.remove(key);
                this.key = None;
                Poll::Ready(())
            }
            Status::Queued => {
                state.waiters.update_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A handed wake-up belongs to this waiter alone; nothing to pass on.
            lock_state(&self.event.state).waiters.remove(key);
        }
    }
}
// ANCHOR_END: event_wait
