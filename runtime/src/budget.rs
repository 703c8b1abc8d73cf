//! Layer 3 — the cooperative budget.
//!
//! A task runs until it returns `Pending`. A task that loops over operations which are
//! always ready — a sleep that is already due, an uncontended lock — would never return,
//! and every other task, timer and socket would starve behind it. So each poll of a task
//! gets a budget of [`BUDGET_PER_POLL`] operations. glass's own leaf futures spend one
//! unit each time they complete; once the budget is spent they return `Pending` (after
//! waking their task, so it goes to the back of the ready queue) even though they could
//! have completed. tokio does the same.
//!
//! The budget is a counter in a thread-local `Cell`: spending it costs a load and a
//! store, so a task that never exhausts it does not notice it. Outside a task (in
//! [`block_on`](crate::block_on), or on a plain thread) the budget is unlimited.
//! Chapter 4 of the book explains it.

use std::cell::Cell;
use std::task::{Context, Poll};

/// How many ready operations one poll of a task may complete before it must yield.
pub(crate) const BUDGET_PER_POLL: u32 = 128;

const UNLIMITED: u32 = u32::MAX;

thread_local! {
    static BUDGET: Cell<u32> = const { Cell::new(UNLIMITED) };
}

// ANCHOR: budget
/// Runs `poll` (one poll of a task) with a fresh budget, and lifts the limit again
/// afterwards.
pub(crate) fn with_budget<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|budget| budget.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|budget| budget.replace(BUDGET_PER_POLL)));
    poll()
}

/// Spends one unit of the current task's budget. Returns `Pending` (having woken the
/// task, so that it runs again after the others) when the budget is already spent.
///
/// Leaf futures call this just before they would return `Ready`.
pub(crate) fn spend(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|budget| match budget.get() {
        0 => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        UNLIMITED => Poll::Ready(()),
        left => {
            budget.set(left - 1);
            Poll::Ready(())
        }
    })
}
// ANCHOR_END: budget
