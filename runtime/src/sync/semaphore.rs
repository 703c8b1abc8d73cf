//! `Semaphore`: a counter of permits that tasks wait for; like `asyncio.Semaphore`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::lock_state;
use super::waiters::{self, Status, WaiterKey, WaiterList};
use crate::budget;

/// A counter of permits; like `asyncio.Semaphore`.
///
/// [`acquire`](Semaphore::acquire) takes one permit, waiting while there is none; the
/// [`SemaphorePermit`] it returns gives the permit back when dropped.
/// [`acquire_many`](Semaphore::acquire_many) takes several at once. Waiters are served
/// in strict FIFO order: a waiter that wants many permits is not starved by later ones
/// that want few — they wait behind it.
///
/// There is no `BoundedSemaphore`: asyncio needs one to catch a `release()` called too
/// often, but here a permit is released by dropping it, which happens exactly once.
/// [`add_permits`](Semaphore::add_permits) may grow the count past where it started, on
/// purpose.
///
/// # Examples
///
/// ```
/// use glass::sync::Semaphore;
///
/// glass::run(async {
///     let room = Semaphore::new(2);
///     let a = room.acquire().await;
///     let _b = room.acquire().await;
///     assert!(room.try_acquire().is_none()); // full
///     drop(a);
///     assert!(room.try_acquire().is_some());
/// });
/// ```
pub struct Semaphore {
    state: Mutex<SemaphoreState>,
}

struct SemaphoreState {
    permits: usize,
    /// Each waiter's data is how many permits it wants.
    waiters: WaiterList<usize>,
}

/// What a [`Semaphore`] holds right now, for the book and for debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemaphoreStatistics {
    /// Permits free now.
    pub available_permits: usize,
    /// How many tasks wait for permits.
    pub waiters: usize,
}

impl Semaphore {
    /// Names it, for [`task::dump`](crate::task::dump), the trace and the deadlock
    /// report: "waiting on Semaphore 'pot'" instead of an address.
    pub fn named(mut self, name: &'static str) -> Self {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.waiters.name = Some(name);
        self
    }

    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Mutex::new(SemaphoreState {
                permits,
                waiters: WaiterList::new("Semaphore"),
            }),
        }
    }

    /// Waits for one permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `acquire` leaves the queue, and permits already handed to
    /// it are released again (to the next waiter).
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken all at once.
    ///
    /// # Cancel safety
    ///
    /// As for [`acquire`](Semaphore::acquire).
    pub fn acquire_many(&self, n: usize) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            semaphore: self,
            wanted: n,
            key: None,
        }
    }

    /// Like [`acquire`](Semaphore::acquire), for a semaphore in an `Arc`: the permit
    /// keeps the semaphore alive and can be moved into a task.
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        let permit = self.acquire().await;
        let count = permit.count;
        std::mem::forget(permit);
        OwnedSemaphorePermit {
            semaphore: self,
            count,
        }
    }

    /// Takes one permit if one is free and nobody waits; never waits.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits; never waits.
    pub fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
        let mut state = lock_state(&self.state);
        if !state.waiters.is_empty() || state.permits < n {
            return None;
        }
        state.permits -= n;
        Some(SemaphorePermit {
            semaphore: self,
            count: n,
        })
    }

    /// Permits free now.
    pub fn available_permits(&self) -> usize {
        lock_state(&self.state).permits
    }

    /// True when `acquire` would wait; like `asyncio.Semaphore.locked()`.
    pub fn locked(&self) -> bool {
        let state = lock_state(&self.state);
        state.permits == 0 || !state.waiters.is_empty()
    }

    /// Adds `n` permits, waking the waiters they satisfy; like `release()` called `n`
    /// times in asyncio.
    pub fn add_permits(&self, n: usize) {
        let mut woken = Vec::new();
        {
            let mut state = lock_state(&self.state);
            state.permits += n;
            Self::hand_out(&mut state, &mut woken);
        }
        waiters::wake_all(woken);
    }

    /// Free permits and waiting tasks.
    pub fn statistics(&self) -> SemaphoreStatistics {
        let state = lock_state(&self.state);
        SemaphoreStatistics {
            available_permits: state.permits,
            waiters: state.waiters.len(),
        }
    }

    // ANCHOR: hand_out
    /// Hands permits to waiters in order, as long as the oldest one can be satisfied.
    /// Stopping at the first that cannot is what keeps a large request from starving.
    fn hand_out(state: &mut SemaphoreState, woken: &mut Vec<Waker>) {
        while let Some(&wanted) = state.waiters.front() {
            if wanted > state.permits {
                break;
            }
            state.permits -= wanted;
            woken.extend(state.waiters.hand_front(|_| {}));
        }
    }
    // ANCHOR_END: hand_out
}

impl std::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.statistics().fmt(f)
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless awaited"]
pub struct SemaphoreAcquire<'a> {
    semaphore: &'a Semaphore,
    wanted: usize,
    key: Option<WaiterKey>,
}

impl<'a> SemaphoreAcquire<'a> {
    /// The permit, made only once the permits are really ours: a permit made and
    /// dropped on the way out would release permits nobody took.
    fn permit(&self) -> SemaphorePermit<'a> {
        SemaphorePermit {
            semaphore: self.semaphore,
            count: self.wanted,
        }
    }
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = self.get_mut();
        let Some(key) = this.key else {
            if budget::spend(cx).is_pending() {
                return Poll::Pending;
            }
            let mut state = lock_state(&this.semaphore.state);
            if state.waiters.is_empty() && state.permits >= this.wanted {
                state.permits -= this.wanted;
                return Poll::Ready(this.permit());
            }
            this.key = Some(state.waiters.push_back(this.wanted, cx.waker()));
            return Poll::Pending;
        };
        let mut state = lock_state(&this.semaphore.state);
        match state.waiters.status(key) {
            Status::Handed => {
                state.waiters.remove(key);
                this.key = None;
                drop(state);
                Poll::Ready(this.permit())
            }
            Status::Queued => {
                state.waiters.update_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

// ANCHOR: acquire_drop
impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut woken = Vec::new();
        {
            let mut state = lock_state(&self.semaphore.state);
            if let (wanted, Status::Handed) = state.waiters.remove(key) {
                // Permits were handed to us: give them back, to the next in line.
                state.permits += wanted;
            }
            // Leaving may also unblock the waiters behind us.
            Semaphore::hand_out(&mut state, &mut woken);
        }
        waiters::wake_all(woken);
    }
}

// ANCHOR_END: acquire_drop

/// Permits taken from a [`Semaphore`]; given back when dropped.
#[must_use = "dropping a permit releases it at once"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    count: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits taken for good: dropping no longer releases them.
    pub fn forget(mut self) {
        self.count = 0;
    }

    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.count
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.count > 0 {
            self.semaphore.add_permits(self.count);
        }
    }
}

impl std::fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("count", &self.count)
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] in an `Arc`; made by
/// [`Semaphore::acquire_owned`].
#[must_use = "dropping a permit releases it at once"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    count: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits taken for good: dropping no longer releases them.
    pub fn forget(mut self) {
        self.count = 0;
    }

    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.count
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.count > 0 {
            self.semaphore.add_permits(self.count);
        }
    }
}

impl std::fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("count", &self.count)
            .finish()
    }
}
