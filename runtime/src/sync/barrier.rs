//! `Barrier`: wait until a number of tasks have all arrived; like `asyncio.Barrier`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use super::lock_state;
use super::waiters::{self, Status, WaiterKey, WaiterList};
use crate::budget;

/// Makes `parties` tasks wait for each other; like `asyncio.Barrier`.
///
/// Each task calls [`wait`](Barrier::wait); the barrier *trips* when the last of the
/// `parties` arrives, and every waiter is released at once. The barrier then starts
/// over, so it can be used again. A waiter dropped before the barrier trips no longer
/// counts (asyncio's rule).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use glass::sync::Barrier;
///
/// glass::run(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = Arc::clone(&barrier);
///             glass::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let leaders = glass::gather_all(tasks).await;
///     assert_eq!(leaders.iter().filter(|&&leader| leader).count(), 1);
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<BarrierState>,
}

struct BarrierState {
    /// How many have arrived in this round.
    arrived: usize,
    /// Each waiter's data is its arrival index.
    waiters: WaiterList<usize>,
}

/// What [`Barrier::wait`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// True for the one task whose arrival tripped the barrier (the last to arrive).
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// The order of arrival in this round, `0..parties`; asyncio's return value. As in
    /// asyncio, when a waiter leaves before the barrier trips, the next arrival takes
    /// the count it freed, so an index can then repeat within a round.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// What a [`Barrier`] holds right now, for the book and for debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierStatistics {
    /// How many tasks the barrier waits for.
    pub parties: usize,
    /// How many wait now.
    pub waiting: usize,
}

impl Barrier {
    /// Names it, for [`task::dump`](crate::task::dump), the trace and the deadlock
    /// report: "waiting on Barrier 'pot'" instead of an address.
    pub fn named(mut self, name: &'static str) -> Self {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.waiters.name = Some(name);
        self
    }

    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// Panics when `parties` is zero: nobody could ever trip it.
    pub fn new(parties: usize) -> Barrier {
        assert!(
            parties > 0,
            "Barrier::new(0): a barrier needs at least one party; pass the number of tasks \
             that will wait on it"
        );
        Barrier {
            parties,
            state: Mutex::new(BarrierState {
                arrived: 0,
                waiters: WaiterList::new("Barrier"),
            }),
        }
    }

    /// Waits until `parties` tasks are waiting, then releases them all.
    ///
    /// # Cancel safety
    ///
    /// A dropped waiter stops counting as arrived, unless the barrier has tripped
    /// already.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
        }
    }

    /// How many tasks the barrier waits for.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks wait, and for how many.
    pub fn statistics(&self) -> BarrierStatistics {
        BarrierStatistics {
            parties: self.parties,
            waiting: lock_state(&self.state).waiters.len(),
        }
    }
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.statistics().fmt(f)
    }
}

/// The future of [`Barrier::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<WaiterKey>,
}

// ANCHOR: barrier_wait
impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        let Some(key) = this.key else {
            if budget::spend(cx).is_pending() {
                return Poll::Pending;
            }
            let mut woken = Vec::new();
            let index = {
                let mut state = lock_state(&this.barrier.state);
                let index = state.arrived;
                state.arrived += 1;
                if state.arrived < this.barrier.parties {
                    this.key = Some(state.waiters.push_back(index, cx.waker()));
                    return Poll::Pending;
                }
                // The last one: trip the barrier and start the next round.
                state.arrived = 0;
                state.waiters.hand_all(&mut woken);
                index
            };
            waiters::wake_all(woken);
            return Poll::Ready(BarrierWaitResult {
                index,
                leader: true,
            });
        };
        let mut state = lock_state(&this.barrier.state);
        match state.waiters.status(key) {
            Status::Handed => {
                let (index, _) = state.waiters.remove(key);
                this.key = None;
                Poll::Ready(BarrierWaitResult {
                    index,
                    leader: false,
                })
            }
            Status::Queued => {
                state.waiters.update_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut state = lock_state(&self.barrier.state);
        if let (_, Status::Queued) = state.waiters.remove(key) {
            state.arrived -= 1; // left before the barrier tripped: no longer counted
        }
    }
}
// ANCHOR_END: barrier_wait
