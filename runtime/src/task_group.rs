//! Layer 6 — `TaskGroup`: tasks that live and die together; like
//! `asyncio.TaskGroup`.
//!
//! A group spawns tasks (its *children*) and hands back their results as they finish
//! ([`TaskGroup::join_next`]) or all at once in spawn order ([`TaskGroup::join_all`]).
//! Its promise is *structured concurrency*: no child outlives the group. When a child
//! panics, the group cancels its siblings (their results become cancellation errors);
//! when the group is dropped, every child still running is cancelled.
//!
//! How the group learns that a child finished, without polling every child each time:
//! each child's future carries a small guard, and the guard's `Drop` — which runs when
//! the child's future is dropped, however it ended — puts the child's index in the
//! group's `done` queue and wakes whoever waits in `join_next`. The group then polls
//! only that child's [`Task`].
//!
//! The group lives on one loop (its state is an `Rc<RefCell<_>>`), like asyncio's.
//! Chapter 7 of the book, "Waiting for many things", explains this file.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::panic::{self, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use futures::FutureExt;

use crate::task::{JoinError, Task, TaskId};

/// Tasks that live and die together; like `asyncio.TaskGroup`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use glass::TaskGroup;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let mut group = TaskGroup::new();
///     for secs in [3, 1, 2] {
///         group.spawn(async move {
///             glass::sleep(Duration::from_secs(secs)).await;
///             secs
///         });
///     }
///     // In completion order:
///     assert_eq!(group.join_next().await.unwrap().unwrap(), 1);
///     // The rest, in spawn order:
///     assert_eq!(group.join_all().await.unwrap(), [3, 2]);
/// });
/// ```
pub struct TaskGroup<T> {
    inner: Rc<RefCell<Group<T>>>,
}

// ANCHOR: group_state
struct Group<T> {
    /// Every child by spawn index; `None` once its result was handed out.
    children: Vec<Option<Task<T>>>,
    /// Indices of children whose future has ended, in the order they ended.
    done: VecDeque<usize>,
    /// The task waiting in `join_next`, if any.
    waiter: Option<Waker>,
    /// Children whose result has not been handed out yet.
    unjoined: usize,
}

/// Put into each child's future; tells the group when the child ends.
struct ChildDone<T> {
    group: Weak<RefCell<Group<T>>>,
    index: usize,
}

impl<T> Drop for ChildDone<T> {
    fn drop(&mut self) {
        let Some(group) = self.group.upgrade() else {
            return;
        };
        let waiter = {
            let mut group = group.borrow_mut();
            group.done.push_back(self.index);
            group.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}
// ANCHOR_END: group_state

impl<T: 'static> TaskGroup<T> {
    /// An empty group.
    pub fn new() -> TaskGroup<T> {
        TaskGroup {
            inner: Rc::new(RefCell::new(Group {
                children: Vec::new(),
                done: VecDeque::new(),
                waiter: None,
                unjoined: 0,
            })),
        }
    }

    // ANCHOR: group_spawn
    /// Spawns `future` as a child of the group; like `TaskGroup.create_task`.
    ///
    /// The child's output comes back through [`join_next`](TaskGroup::join_next) or
    /// [`join_all`](TaskGroup::join_all). The returned handle can cancel this child;
    /// dropping the handle changes nothing.
    ///
    /// # Panics
    ///
    /// Panics when no event loop is running on this thread.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> ChildHandle
    where
        F: Future<Output = T> + 'static,
    {
        let index = self.inner.borrow().children.len();
        let group = Rc::downgrade(&self.inner);
        // Made outside the async block, so that it is dropped (and reports) even if
        // the child is cancelled before its first poll.
        let done = ChildDone {
            group: group.clone(),
            index,
        };
        let child = async move {
            let _done = done;
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(output) => output,
                Err(payload) => {
                    // A child failed: cancel its siblings, as asyncio's TaskGroup
                    // does, then let the task record the panic as its own.
                    if let Some(group) = group.upgrade() {
                        group.borrow().cancel_all_but(index);
                    }
                    panic::resume_unwind(payload)
                }
            }
        };
        let task = crate::spawn(child);
        let id = task.id();
        let mut inner = self.inner.borrow_mut();
        inner.children.push(Some(task));
        inner.unjoined += 1;
        let control: Rc<RefCell<dyn ChildControl>> = self.inner.clone();
        ChildHandle {
            group: Rc::downgrade(&control),
            index,
            id,
        }
    }
    // ANCHOR_END: group_spawn

    // ANCHOR: join_next
    /// Waits for the next child to finish, and returns its result; `None` when every
    /// child's result has been handed out. Like iterating `asyncio.as_completed` over
    /// the group's tasks.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a result is taken out of the group only in the poll that returns it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.join_next_indexed().await.map(|(_, result)| result)
    }

    async fn join_next_indexed(&mut self) -> Option<(usize, Result<T, JoinError>)> {
        poll_fn(|cx| {
            let mut group = self.inner.borrow_mut();
            let Some(&index) = group.done.front() else {
                if group.unjoined == 0 {
                    return Poll::Ready(None);
                }
                group.waiter = Some(cx.waker().clone());
                return Poll::Pending;
            };
            let task = group.children[index]
                .as_mut()
                .expect("a child is in `done` once, and joined once");
            // The child's future has ended; its output lands a moment later, and
            // async-task wakes us then.
            let Poll::Ready(result) = task.poll_outcome(cx) else {
                return Poll::Pending;
            };
            group.done.pop_front();
            group.children[index] = None;
            group.unjoined -= 1;
            Poll::Ready(Some((index, result)))
        })
        .await
    }
    // ANCHOR_END: join_next

    // ANCHOR: join_all
    /// Waits for every child not yet joined, and returns their outputs in spawn order.
    ///
    /// If a child panicked, returns its error (the first in spawn order); otherwise, if
    /// a child was cancelled through its [`ChildHandle`], returns that cancellation
    /// error. Either way it waits for every child to end first.
    pub async fn join_all(mut self) -> Result<Vec<T>, JoinError> {
        let count = self.inner.borrow().children.len();
        let mut results: Vec<Option<Result<T, JoinError>>> =
            std::iter::repeat_with(|| None).take(count).collect();
        while let Some((index, result)) = self.join_next_indexed().await {
            results[index] = Some(result);
        }
        let results: Vec<Result<T, JoinError>> = results.into_iter().flatten().collect();
        // A panic explains the cancellations it caused: report it first.
        if results
            .iter()
            .any(|r| r.as_ref().is_err_and(JoinError::is_panic))
        {
            let panic = results
                .into_iter()
                .find_map(|r| r.err().filter(JoinError::is_panic));
            return Err(panic.expect("just found one"));
        }
        results.into_iter().collect()
    }

    // ANCHOR_END: join_all

    /// How many children have not been joined yet.
    pub fn len(&self) -> usize {
        self.inner.borrow().unjoined
    }

    /// True when every child has been joined.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cancels every child that has not finished.
    pub fn cancel_all(&self) {
        self.inner.borrow().cancel_all_but(usize::MAX);
    }
}

impl<T: 'static> Default for TaskGroup<T> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

// ANCHOR: group_drop
impl<T> Drop for TaskGroup<T> {
    fn drop(&mut self) {
        // No child outlives its group.
        self.inner.borrow().cancel_all_but(usize::MAX);
    }
}

// ANCHOR_END: group_drop

impl<T> std::fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = self.inner.borrow();
        f.debug_struct("TaskGroup")
            .field("children", &group.children.len())
            .field("unjoined", &group.unjoined)
            .finish()
    }
}

impl<T> Group<T> {
    fn cancel_all_but(&self, keep: usize) {
        for (index, child) in self.children.iter().enumerate() {
            if let Some(task) = child.as_ref().filter(|_| index != keep) {
                task.cancel();
            }
        }
    }
}

/// What a [`ChildHandle`] can do to its child, whatever the group's output type.
trait ChildControl {
    fn cancel(&self, index: usize);
    fn is_finished(&self, index: usize) -> bool;
}

impl<T> ChildControl for Group<T> {
    fn cancel(&self, index: usize) {
        if let Some(Some(task)) = self.children.get(index) {
            task.cancel();
        }
    }

    fn is_finished(&self, index: usize) -> bool {
        match self.children.get(index) {
            Some(Some(task)) => task.is_finished(),
            _ => true, // joined already
        }
    }
}

/// A handle to one child of a [`TaskGroup`]: cancel it, ask whether it has finished.
/// Its output goes through the group, not through the handle.
#[derive(Clone)]
pub struct ChildHandle {
    group: Weak<RefCell<dyn ChildControl>>,
    index: usize,
    id: TaskId,
}

impl ChildHandle {
    /// Cancels this child; its result becomes a cancellation error. Does nothing if it
    /// has finished.
    pub fn cancel(&self) {
        if let Some(group) = self.group.upgrade() {
            group.borrow().cancel(self.index);
        }
    }

    /// True once the child has finished (or the group is gone).
    pub fn is_finished(&self) -> bool {
        self.group
            .upgrade()
            .is_none_or(|group| group.borrow().is_finished(self.index))
    }

    /// The child task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }
}

impl std::fmt::Debug for ChildHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildHandle").field("id", &self.id).finish()
    }
}
