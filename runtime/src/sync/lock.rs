//! `Lock<T>`: mutual exclusion for tasks; like `asyncio.Lock`, holding a value as
//! `std::sync::Mutex` does.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::lock_state;
use super::waiters::{Status, WaiterKey, WaiterList};
use crate::budget;
use crate::debug;

// ANCHOR: lock
/// A lock for tasks, guarding a value; like `asyncio.Lock` (which guards nothing: use
/// `Lock<()>` = `Lock::new(())` for that).
///
/// [`acquire`](Lock::acquire) waits for the lock and returns a guard; dropping the
/// guard releases it. Waiters get the lock in strict FIFO order: on release, the lock
/// is *handed* to the oldest waiter, and stays locked while that waiter has been woken
/// but has not run yet — [`locked`](Lock::locked) is true and
/// [`try_acquire`](Lock::try_acquire) fails — so nobody can barge in front of it.
///
/// The value lives in the lock while nobody holds it; the guard carries it out and
/// brings it back. That is how glass gives `&mut T` to one task at a time without any
/// `unsafe` code.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use glass::sync::Lock;
///
/// glass::run(async {
///     let balance = Arc::new(Lock::new(100));
///     let mut guard = balance.acquire().await;
///     *guard -= 80;
///     drop(guard);
///     assert_eq!(*balance.acquire().await, 20);
/// });
/// ```
pub struct Lock<T = ()> {
    state: Mutex<LockState<T>>,
}

struct LockState<T> {
    locked: bool,
    /// The guarded value, while no guard has it.
    value: Option<T>,
    waiters: WaiterList<()>,
}
// ANCHOR_END: lock

/// What a [`Lock`] holds right now, for the book and for debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockStatistics {
    /// Whether the lock is held (or handed to a waiter that has not run yet).
    pub locked: bool,
    /// How many tasks wait for it.
    pub waiters: usize,
}

impl<T> Lock<T> {
    /// Names it, for [`task::dump`](crate::task::dump), the trace and the deadlock
    /// report: "waiting on Lock 'pot'" instead of an address.
    pub fn named(mut self, name: &'static str) -> Self {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.waiters.name = Some(name);
        self
    }

    /// An unlocked lock guarding `value`.
    pub fn new(value: T) -> Lock<T> {
        Lock {
            state: Mutex::new(LockState {
                locked: false,
                value: Some(value),
                waiters: WaiterList::new("Lock"),
            }),
        }
    }

    /// Waits for the lock; like `async with lock:` in asyncio.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `acquire` leaves the queue, and if the lock had already
    /// been handed to it, it passes the lock on to the next waiter.
    pub fn acquire(&self) -> LockAcquire<'_, T> {
        LockAcquire {
            lock: self,
            key: None,
        }
    }

    /// Like [`acquire`](Lock::acquire), for a lock in an `Arc`: the guard keeps the
    /// lock alive and can be moved into a task.
    pub fn acquire_owned(self: Arc<Self>) -> OwnedLockAcquire<T> {
        OwnedLockAcquire {
            lock: self,
            key: None,
        }
    }

    /// Takes the lock if it is free and nobody waits for it; never waits.
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        let value = self.try_take()?;
        Some(LockGuard {
            lock: self,
            value: Some(value),
        })
    }

    /// True when the lock is held, or handed to a waiter that has not run yet.
    pub fn locked(&self) -> bool {
        lock_state(&self.state).locked
    }

    /// Whether the lock is held, and how many tasks wait for it.
    pub fn statistics(&self) -> LockStatistics {
        let state = lock_state(&self.state);
        LockStatistics {
            locked: state.locked,
            waiters: state.waiters.len(),
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        state
            .value
            .expect("an unborrowed Lock always holds its value")
    }

    fn try_take(&self) -> Option<T> {
        let mut state = lock_state(&self.state);
        if state.locked || !state.waiters.is_empty() {
            return None;
        }
        state.locked = true;
        if debug::watching() {
            state.waiters.holder = debug::current_task();
        }
        state.value.take()
    }

    // ANCHOR: lock_poll
    /// One poll of an acquire: the fast path, joining the queue, or collecting the
    /// lock that was handed over.
    fn poll_acquire(&self, key: &mut Option<WaiterKey>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(waiting) = *key else {
            // A first poll may take a free lock without waiting: that spends the budget
            // (see budget.rs), or a task spinning on a free lock would never yield.
            if budget::spend(cx).is_pending() {
                return Poll::Pending;
            }
            let mut state = lock_state(&self.state);
            if !state.locked && state.waiters.is_empty() {
                state.locked = true;
                if debug::watching() {
                    state.waiters.holder = debug::current_task();
                }
                return Poll::Ready(state.value.take().expect("a free lock holds its value"));
            }
            *key = Some(state.waiters.push_back((), cx.waker()));
            return Poll::Pending;
        };
        let mut state = lock_state(&self.state);
        match state.waiters.status(waiting) {
            Status::Handed => {
                state.waiters.remove(waiting);
                if debug::watching() {
                    state.waiters.holder = debug::current_task();
                }
                *key = None;
                Poll::Ready(state.value.take().expect("a handed lock holds its value"))
            }
            Status::Queued => {
                state.waiters.update_waker(waiting, cx.waker());
                Poll::Pending
            }
        }
    }
    // ANCHOR_END: lock_poll

    // ANCHOR: release
    /// Puts the value back and hands the lock to the oldest waiter, if any.
    fn release(&self, value: T) {
        let waker = {
            let mut state = lock_state(&self.state);
            state.value = Some(value);
            Self::hand_on(&mut state)
        };
        // Wake after unlocking our mutex: the waiter may run at once on another thread.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Hands the (released) lock to the oldest waiter; unlocks it when nobody waits.
    fn hand_on(state: &mut LockState<T>) -> Option<Waker> {
        state.waiters.holder = None;
        let waker = state.waiters.hand_front(|_| {});
        if waker.is_none() {
            state.locked = false; // nobody waits: really unlock
        }
        // Handed: `locked` stays true, so that nobody barges in before the waiter runs.
        waker
    }
    // ANCHOR_END: release

    /// A dropped acquire leaves the queue; if it was handed the lock, passes it on.
    fn cancel_acquire(&self, key: WaiterKey) {
        let waker = {
            let mut state = lock_state(&self.state);
            match state.waiters.remove(key) {
                (_, Status::Queued) => None,
                (_, Status::Handed) => Self::hand_on(&mut state),
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Lock<T> {
        Lock::new(T::default())
    }
}

impl<T> std::fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.statistics().fmt(f)
    }
}

/// The future of [`Lock::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct LockAcquire<'a, T> {
    lock: &'a Lock<T>,
    key: Option<WaiterKey>,
}

impl<'a, T> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = self.get_mut();
        this.lock
            .poll_acquire(&mut this.key, cx)
            .map(|value| LockGuard {
                lock: this.lock,
                value: Some(value),
            })
    }
}

// ANCHOR: acquire_drop
impl<T> Drop for LockAcquire<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.lock.cancel_acquire(key);
        }
    }
}

// ANCHOR_END: acquire_drop

/// The future of [`Lock::acquire_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct OwnedLockAcquire<T> {
    lock: Arc<Lock<T>>,
    key: Option<WaiterKey>,
}

impl<T> Future for OwnedLockAcquire<T> {
    type Output = OwnedLockGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedLockGuard<T>> {
        let this = self.get_mut();
        this.lock
            .poll_acquire(&mut this.key, cx)
            .map(|value| OwnedLockGuard {
                lock: Arc::clone(&this.lock),
                value: Some(value),
            })
    }
}

impl<T> Drop for OwnedLockAcquire<T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.lock.cancel_acquire(key);
        }
    }
}

/// Holds a [`Lock`]; gives access to its value; releases the lock when dropped.
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
    value: Option<T>,
}

impl<'a, T> LockGuard<'a, T> {
    /// The lock this guard holds (used by [`Condition`](super::Condition)).
    pub(crate) fn lock(&self) -> &'a Lock<T> {
        self.lock
    }
}

/// Holds a [`Lock`] in an `Arc`; made by [`Lock::acquire_owned`].
pub struct OwnedLockGuard<T> {
    lock: Arc<Lock<T>>,
    value: Option<T>,
}

macro_rules! guard_impls {
    ($guard:ident $(<$lifetime:lifetime>)?) => {
        impl<$($lifetime,)? T> Deref for $guard<$($lifetime,)? T> {
            type Target = T;

            fn deref(&self) -> &T {
                self.value.as_ref().expect("a guard holds the value until dropped")
            }
        }

        impl<$($lifetime,)? T> DerefMut for $guard<$($lifetime,)? T> {
            fn deref_mut(&mut self) -> &mut T {
                self.value.as_mut().expect("a guard holds the value until dropped")
            }
        }

        impl<$($lifetime,)? T> Drop for $guard<$($lifetime,)? T> {
            fn drop(&mut self) {
                if let Some(value) = self.value.take() {
                    self.lock.release(value);
                }
            }
        }

        impl<$($lifetime,)? T: std::fmt::Debug> std::fmt::Debug for $guard<$($lifetime,)? T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($guard)).field(&**self).finish()
            }
        }
    };
}

guard_impls!(LockGuard<'a>);
guard_impls!(OwnedLockGuard);
