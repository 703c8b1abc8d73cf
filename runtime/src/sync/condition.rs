//! `Condition`: wait for a notification while holding a `Lock`; like
//! `asyncio.Condition` and `std::sync::Condvar`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use super::lock::LockGuard;
use super::lock_state;
use super::waiters::{self, Status, WaiterKey, WaiterList};

/// Lets tasks wait, lock in hand, until another task says something changed; like
/// `asyncio.Condition` (and, in Rust terms, `std::sync::Condvar`).
///
/// [`wait`](Condition::wait) takes the guard of a [`Lock`](super::Lock), releases the
/// lock, waits for a [`notify`](Condition::notify), then takes the lock again and
/// returns the new guard. One `Condition` may be used with any lock, but use it with one
/// lock at a time. Notifying does not need the lock.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use glass::sync::{Condition, Lock};
///
/// glass::run(async {
///     let items = Arc::new(Lock::new(Vec::new()));
///     let ready = Arc::new(Condition::new());
///     let consumer = glass::spawn({
///         let (items, ready) = (Arc::clone(&items), Arc::clone(&ready));
///         async move {
///             let guard = items.acquire().await;
///             let mut guard = ready.wait_for(guard, |items| !items.is_empty()).await;
///             guard.pop()
///         }
///     });
///     glass::yield_now().await; // let the consumer start waiting
///     items.acquire().await.push("bread");
///     ready.notify(1);
///     assert_eq!(consumer.await, Some("bread"));
/// });
/// ```
pub struct Condition {
    waiters: Mutex<WaiterList<()>>,
}

impl Default for Condition {
    fn default() -> Self {
        Condition {
            waiters: Mutex::new(WaiterList::new("Condition")),
        }
    }
}

impl Condition {
    /// Names it, for [`task::dump`](crate::task::dump), the trace and the deadlock
    /// report: "waiting on Condition 'pot'" instead of an address.
    pub fn named(mut self, name: &'static str) -> Self {
        let waiters = self
            .waiters
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        waiters.name = Some(name);
        self
    }

    /// A condition with nobody waiting.
    pub fn new() -> Condition {
        Condition::default()
    }

    // ANCHOR: condition_wait
    /// Releases the lock held by `guard`, waits for a notification, and takes the
    /// lock again.
    ///
    /// The waiter joins the queue *before* the lock is released, so a notification
    /// sent by a task that takes the lock right after cannot be missed.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after it was notified, the notification passes on to
    /// the next waiter. The guard is lost with the future (the lock is released).
    pub async fn wait<'a, T>(&self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        let lock = guard.lock();
        Notified {
            condition: self,
            guard: Some(guard),
            key: None,
        }
        .await;
        lock.acquire().await
    }
    // ANCHOR_END: condition_wait

    /// Waits until `predicate` returns true for the guarded value; checks it first,
    /// then after each notification. Like `asyncio.Condition.wait_for`.
    ///
    /// # Cancel safety
    ///
    /// As for [`wait`](Condition::wait).
    pub async fn wait_for<'a, T>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> LockGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiting tasks, oldest first.
    pub fn notify(&self, n: usize) {
        let mut woken = Vec::new();
        {
            let mut waiters = lock_state(&self.waiters);
            for _ in 0..n {
                match waiters.hand_front(|_| {}) {
                    Some(waker) => woken.push(waker),
                    None => break,
                }
            }
        }
        waiters::wake_all(woken);
    }

    /// Wakes every waiting task.
    pub fn notify_all(&self) {
        let mut woken = Vec::new();
        lock_state(&self.waiters).hand_all(&mut woken);
        waiters::wake_all(woken);
    }

    /// How many tasks wait for a notification.
    pub fn waiters(&self) -> usize {
        lock_state(&self.waiters).len()
    }

    /// How many tasks wait, for the book and for debugging.
    pub fn statistics(&self) -> ConditionStatistics {
        ConditionStatistics {
            waiters: self.waiters(),
        }
    }
}

/// What a [`Condition`] holds right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConditionStatistics {
    /// How many tasks wait for a notification.
    pub waiters: usize,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters())
            .finish()
    }
}

// ANCHOR: notified
/// Joins the queue, then releases the lock; completes once notified.
struct Notified<'c, 'a, T> {
    condition: &'c Condition,
    guard: Option<LockGuard<'a, T>>,
    key: Option<WaiterKey>,
}

// The guard is only moved out, never pinned: `Notified` may be moved freely.
impl<T> Unpin for Notified<'_, '_, T> {}

impl<T> Future for Notified<'_, '_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut waiters = lock_state(&this.condition.waiters);
        let Some(key) = this.key else {
            this.key = Some(waiters.push_back((), cx.waker()));
            drop(waiters);
            drop(this.guard.take()); // now release the lock
            return Poll::Pending;
        };
        match waiters.status(key) {
            Status::Handed => {
                waiters.remove(key);
                this.key = None;
                Poll::Ready(())
            }
            Status::Queued => {
                waiters.update_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Notified<'_, '_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let (_, status) = lock_state(&self.condition.waiters).remove(key);
        if status == Status::Handed {
            // We were notified but will never act on it: pass it on.
            self.condition.notify(1);
        }
    }
}
// ANCHOR_END: notified
