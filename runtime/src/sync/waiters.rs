//! The waiter list: one design behind every primitive in `glass::sync`.
//!
//! A task that cannot proceed — the lock is held, the queue is empty — joins the
//! primitive's waiter list and returns `Pending`. When the resource frees up, the
//! primitive does not just wake the first waiter and let everybody race for it. It
//! **hands** the resource over: it unlinks the waiter from the list, marks it
//! *handed* (for a queue, an item in it is reserved for the waiter), and only
//! then wakes it. When the waiter's future is polled next, the resource is already
//! its own. Three properties follow:
//!
//! - **FIFO, no barging.** A newcomer finds the resource taken (it was handed on),
//!   so it cannot overtake a waiter that was woken but has not run yet.
//! - **No busy waking.** Only waiters that can proceed are woken.
//! - **Cancellation safety.** A waiting future that is dropped removes its entry.
//!   If it had already been handed the resource, its `Drop` passes the resource on
//!   (to the next waiter, or back to the primitive): nothing is lost.
//!
//! The list itself is a doubly linked list threaded through a `Slab`, so a waiter can
//! leave from the middle in O(1) without `unsafe` (a real intrusive list, as tokio's,
//! needs raw pointers). A waiter's key in the slab is its ticket.
//!
//! Primitives keep the list inside their own `Mutex`, and wake the wakers only
//! *after* they have released that mutex: a woken task on another thread would
//! otherwise run straight into the lock we still hold.
//!
//! Chapter 6 of the book, "Waiting together", explains this file.

use std::task::Waker;

use slab::Slab;

use crate::debug::{self, WaitingOn};
use crate::task::TaskId;

/// A waiter's ticket: its key in the list's slab.
pub(crate) type WaiterKey = usize;

/// Where a waiter stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// In the list, waiting for its turn.
    Queued,
    /// Unlinked and woken: the primitive has handed it what it waited for.
    Handed,
}

// ANCHOR: entry
struct Entry<W> {
    /// What the primitive keeps for this waiter: how many permits it wants, the item
    /// it will put, the item it was handed...
    data: W,
    waker: Option<Waker>,
    status: Status,
    prev: Option<WaiterKey>,
    next: Option<WaiterKey>,
}

/// A FIFO list of waiting tasks that a waiter can leave from anywhere.
pub(crate) struct WaiterList<W> {
    entries: Slab<Entry<W>>,
    head: Option<WaiterKey>,
    tail: Option<WaiterKey>,
    queued: usize,
    /// What kind of primitive this list belongs to, for `task::dump` and the deadlock
    /// report ("Lock", "Queue (get)"...).
    kind: &'static str,
    /// The name the user gave the primitive (`Lock::new(..).named("pot")`), if any.
    pub(crate) name: Option<&'static str>,
    /// The task holding the resource, where that means something (a Lock's holder).
    pub(crate) holder: Option<TaskId>,
}
// ANCHOR_END: entry

impl<W> Default for WaiterList<W> {
    fn default() -> Self {
        WaiterList::new("a waiter list")
    }
}

impl<W> WaiterList<W> {
    /// An empty list for a primitive of this `kind`.
    pub(crate) fn new(kind: &'static str) -> Self {
        WaiterList {
            entries: Slab::new(),
            head: None,
            tail: None,
            queued: 0,
            kind,
            name: None,
            holder: None,
        }
    }

    // ANCHOR: note
    /// Tells the watching tools what the polled task now waits on (see debug.rs).
    fn note(&self) {
        debug::note_wait(|| WaitingOn::Primitive {
            kind: self.kind,
            name: self.name,
            at: self as *const Self as usize,
            held_by: self.holder,
        });
    }
    // ANCHOR_END: note

    /// How many waiters are queued (not counting those handed a resource).
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    // ANCHOR: push_back
    /// Joins the end of the list.
    pub(crate) fn push_back(&mut self, data: W, waker: &Waker) -> WaiterKey {
        let key = self.entries.insert(Entry {
            data,
            waker: Some(waker.clone()),
            status: Status::Queued,
            prev: self.tail,
            next: None,
        });
        match self.tail {
            Some(tail) => self.entries[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.queued += 1;
        self.note();
        key
    }
    // ANCHOR_END: push_back

    /// The first queued waiter's data.
    pub(crate) fn front(&self) -> Option<&W> {
        self.head.map(|key| &self.entries[key].data)
    }

    // ANCHOR: hand_front
    /// Unlinks the first queued waiter and marks it handed; returns its waker, to be
    /// woken once the primitive's mutex is released. `give` stores in the waiter's
    /// data whatever it is handed.
    pub(crate) fn hand_front(&mut self, give: impl FnOnce(&mut W)) -> Option<Waker> {
        let key = self.head?;
        self.unlink(key);
        let entry = &mut self.entries[key];
        entry.status = Status::Handed;
        give(&mut entry.data);
        entry.waker.take()
    }
    // ANCHOR_END: hand_front

    /// Hands every queued waiter, front to back (for `Event::set`, `notify_all`...).
    pub(crate) fn hand_all(&mut self, wakers: &mut Vec<Waker>) {
        while let Some(waker) = self.hand_front(|_| {}) {
            wakers.push(waker);
        }
    }

    pub(crate) fn status(&self, key: WaiterKey) -> Status {
        self.entries[key].status
    }

    /// Keeps the waiter's waker current: clones only when it would wake another task.
    pub(crate) fn update_waker(&mut self, key: WaiterKey, waker: &Waker) {
        self.note();
        let stored = &mut self.entries[key].waker;
        match stored {
            Some(stored) if stored.will_wake(waker) => {}
            _ => *stored = Some(waker.clone()),
        }
    }

    // ANCHOR: remove
    /// Takes a waiter out of the list for good (it completed, or its future was
    /// dropped), and says whether it had been handed its resource.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> (W, Status) {
        if self.entries[key].status == Status::Queued {
            self.unlink(key);
        }
        let entry = self.entries.remove(key);
        (entry.data, entry.status)
    }
    // ANCHOR_END: remove

    /// Iterates over the queued waiters' data, front to back.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &W> + '_ {
        let mut next = self.head;
        std::iter::from_fn(move || {
            let key = next?;
            let entry = &self.entries[key];
            next = entry.next;
            Some(&entry.data)
        })
    }

    fn unlink(&mut self, key: WaiterKey) {
        let (prev, next) = {
            let entry = &mut self.entries[key];
            (entry.prev.take(), entry.next.take())
        };
        match prev {
            Some(prev) => self.entries[prev].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.entries[next].prev = prev,
            None => self.tail = prev,
        }
        self.queued -= 1;
    }
}

/// Wakes every waker of `wakers`. Called after the primitive's mutex is released.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn waiters_leave_from_the_middle_and_keep_their_order() {
        let waker = Waker::noop();
        let mut list = WaiterList::default();
        let a = list.push_back('a', waker);
        let b = list.push_back('b', waker);
        let _c = list.push_back('c', waker);
        list.remove(b);
        assert_eq!(list.iter().copied().collect::<String>(), "ac");
        assert!(list.hand_front(|_| {}).is_some());
        assert_eq!(list.status(a), Status::Handed);
        assert_eq!(list.iter().copied().collect::<String>(), "c");
        assert_eq!(list.remove(a), ('a', Status::Handed));
        assert_eq!(list.len(), 1);
    }
}
