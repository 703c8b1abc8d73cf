//! Layer 5 — synchronization: asyncio's primitives, safe to use from any task on any
//! loop.
//!
//! | primitive | asyncio twin | waits for |
//! |---|---|---|
//! | [`Event`] | `asyncio.Event` | a flag to be set |
//! | [`Lock`] | `asyncio.Lock` (holding a value, like `std::sync::Mutex`) | its turn to hold the lock |
//! | [`Semaphore`] | `asyncio.Semaphore` | permits |
//! | [`Condition`] | `asyncio.Condition` | a notification, then the lock |
//! | [`Barrier`] | `asyncio.Barrier` | enough parties |
//! | [`Queue`], [`PriorityQueue`], [`LifoQueue`] | `asyncio.Queue` and friends | an item, or room for one |
//!
//! All of them are built on one waiter list (`waiters.rs`): waiters are served in
//! FIFO order, a freed resource is *handed* to the waiter it is meant for (nobody can
//! barge in front of it), and dropping a waiting future never loses a permit, an item
//! or a wake-up: what was handed to it passes on. Each primitive guards its state with
//! a `std::sync::Mutex` held for a few instructions, so all of them are `Send + Sync`.
//!
//! Every operation that completes without waiting spends the task's cooperative
//! budget (see `budget.rs`), so a task that loops on an uncontended lock still lets
//! the others run.
//!
//! Chapter 6 of the book, "Waiting together", explains this layer.

mod barrier;
mod condition;
mod event;
mod lock;
mod queue;
mod semaphore;
mod waiters;

pub use barrier::{Barrier, BarrierStatistics, BarrierWait, BarrierWaitResult};
pub use condition::{Condition, ConditionStatistics};
pub use event::{Event, EventStatistics, EventWait};
pub use lock::{Lock, LockAcquire, LockGuard, LockStatistics, OwnedLockAcquire, OwnedLockGuard};
pub use queue::{
    BaseQueue, Fifo, Get, GetError, Lifo, LifoQueue, Order, Priority, PriorityQueue, Put, PutError,
    Queue, QueueJoin, QueueStatistics,
};
pub use semaphore::{
    OwnedSemaphorePermit, Semaphore, SemaphoreAcquire, SemaphorePermit, SemaphoreStatistics,
};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a primitive's state. The state is only ever changed by short, non-panicking
/// sections, so a poisoned mutex still holds consistent state.
pub(crate) fn lock_state<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
