//! `Queue<T>` and its two variants: hand items from producers to consumers; like
//! `asyncio.Queue`, `asyncio.PriorityQueue` and `asyncio.LifoQueue`, with Python
//! 3.13's `shutdown`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::lock_state;
use super::waiters::{self, Status, WaiterKey, WaiterList};
use crate::budget;

// ANCHOR: order
/// The order in which a queue gives its items back: [`Fifo`], [`Lifo`] or
/// [`Priority`].
pub trait Order<T>: Default {
    /// Stores an item.
    fn push(&mut self, item: T);
    /// Takes the next item.
    fn pop(&mut self) -> Option<T>;
    /// How many items are stored.
    fn len(&self) -> usize;
    /// True when no item is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ANCHOR_END: order

/// First in, first out: [`Queue`].
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: [`LifoQueue`].
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Smallest first: [`PriorityQueue`].
#[derive(Debug)]
pub struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

// ANCHOR: fifo_order
impl<T> Order<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

// ANCHOR_END: fifo_order

impl<T> Order<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Order<T> for Priority<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Why [`put`](BaseQueue::put) or [`put_nowait`](BaseQueue::put_nowait) failed; gives
/// the item back.
pub enum PutError<T> {
    /// The queue is full (only from `put_nowait`).
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("the queue is full; wait with put().await instead"),
            PutError::ShutDown(_) => f.write_str("the queue was shut down; no more items go in"),
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why [`get`](BaseQueue::get) or [`get_nowait`](BaseQueue::get_nowait) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetError {
    /// The queue is empty (only from `get_nowait`).
    Empty,
    /// The queue was shut down and nothing is left in it.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("the queue is empty; wait with get().await instead"),
            GetError::ShutDown => f.write_str("the queue was shut down and is empty"),
        }
    }
}

impl std::error::Error for GetError {}

/// What a queue holds right now, for the book and for debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueStatistics {
    /// Items in the queue.
    pub items: usize,
    /// The most it holds; 0 means no limit.
    pub maxsize: usize,
    /// Tasks waiting in `get`.
    pub getters: usize,
    /// Items in the queue already promised to getters that were woken but have not
    /// run yet.
    pub reserved: usize,
    /// Tasks waiting in `put`.
    pub putters: usize,
    /// Items put and not yet marked done with `task_done`.
    pub unfinished: usize,
    /// Whether `shutdown` was called.
    pub shut_down: bool,
}

// ANCHOR: queue_state
/// The queue behind [`Queue`], [`PriorityQueue`] and [`LifoQueue`]: every method is
/// here, written once for the three orders.
pub struct BaseQueue<T, O> {
    state: Mutex<QueueState<T, O>>,
}

struct QueueState<T, O> {
    items: O,
    maxsize: usize,
    /// Waiting getters. A getter is handed `true` when one of the items is reserved for
    /// it, or `false` when the queue was shut down with nothing left for it.
    getters: WaiterList<bool>,
    /// Items reserved for getters that were woken but have not run yet: they stay in
    /// `items` (as in asyncio, they still take room), but a newcomer cannot take them.
    reserved: usize,
    /// Waiting putters, each holding `Some(item)` until its item is moved in.
    putters: WaiterList<Option<T>>,
    /// Items put and not yet marked done (for `join`).
    unfinished: usize,
    joiners: WaiterList<()>,
    shut_down: bool,
}
// ANCHOR_END: queue_state

impl<T, O: Order<T>> BaseQueue<T, O> {
    fn with_maxsize(maxsize: usize) -> Self {
        BaseQueue {
            state: Mutex::new(QueueState {
                items: O::default(),
                maxsize,
                getters: WaiterList::new("Queue (get)"),
                reserved: 0,
                putters: WaiterList::new("Queue (put)"),
                unfinished: 0,
                joiners: WaiterList::new("Queue (join)"),
                shut_down: false,
            }),
        }
    }

    /// Puts an item, waiting while the queue is full; like `await queue.put(item)`.
    ///
    /// Fails with [`PutError::ShutDown`], giving the item back, once the queue is shut
    /// down (also while waiting). Waiting putters are served in FIFO order.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before the item went in, the item is dropped with it;
    /// if it went in, it stays in the queue.
    pub fn put(&self, item: T) -> Put<'_, T, O> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Takes the next item, waiting while the queue is empty; like
    /// `await queue.get()`.
    ///
    /// After [`shutdown`](BaseQueue::shutdown) it still returns what is left, then fails
    /// with [`GetError::ShutDown`], so `while let Ok(item) = queue.get().await` ends.
    /// Waiting getters are served in FIFO order, and a new `get` never takes an item
    /// ahead of one already waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if an item was already handed to the dropped future, it goes to the
    /// next waiting getter, or back to the front of the queue.
    pub fn get(&self) -> Get<'_, T, O> {
        Get {
            queue: self,
            key: None,
        }
    }

    /// Puts an item without waiting; fails with [`PutError::Full`] when the queue is
    /// full.
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        let woken = lock_state(&self.state).try_put(item)?;
        if let Some(waker) = woken {
            waker.wake();
        }
        Ok(())
    }

    /// Takes an item without waiting; fails with [`GetError::Empty`] when there is none.
    pub fn get_nowait(&self) -> Result<T, GetError> {
        let mut woken = Vec::new();
        let item = lock_state(&self.state).try_get(&mut woken);
        waiters::wake_all(woken);
        item
    }

    /// How many items are in the queue.
    pub fn qsize(&self) -> usize {
        lock_state(&self.state).items.len()
    }

    /// True when the queue holds no item.
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// True when the queue holds `maxsize` items (never, for an unbounded queue).
    pub fn full(&self) -> bool {
        let state = lock_state(&self.state);
        state.maxsize > 0 && state.items.len() >= state.maxsize
    }

    /// The most items the queue holds; 0 means no limit.
    pub fn maxsize(&self) -> usize {
        lock_state(&self.state).maxsize
    }

    // ANCHOR: task_done
    /// Marks one item taken with `get` as fully processed; like
    /// `asyncio.Queue.task_done()`. When every item put has been marked, `join`
    /// returns.
    ///
    /// # Panics
    ///
    /// Panics when called more times than items were put.
    pub fn task_done(&self) {
        let mut woken = Vec::new();
        {
            let mut state = lock_state(&self.state);
            if state.unfinished == 0 {
                drop(state);
                panic!(
                    "Queue::task_done() was called more times than items were put in the \
                     queue; call it once for each item taken with get()"
                );
            }
            state.unfinished -= 1;
            if state.unfinished == 0 {
                state.joiners.hand_all(&mut woken);
            }
        }
        waiters::wake_all(woken);
    }
    // ANCHOR_END: task_done

    /// Waits until every item put has been marked done with
    /// [`task_done`](BaseQueue::task_done); like `asyncio.Queue.join()`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub fn join(&self) -> QueueJoin<'_, T, O> {
        QueueJoin {
            queue: self,
            key: None,
        }
    }

    // ANCHOR: shutdown
    /// Shuts the queue down; like Python 3.13's `Queue.shutdown(immediate)`.
    ///
    /// Afterwards `put` fails with [`PutError::ShutDown`], and `get` returns what is
    /// left, then fails with [`GetError::ShutDown`]. With `immediate`, what is left is
    /// dropped at once (and counted done for `join`). Either way every blocked putter
    /// and getter wakes up with its error.
    pub fn shutdown(&self, immediate: bool) {
        let mut woken = Vec::new();
        let mut dropped = Vec::new(); // dropped after unlocking: an item's Drop may do anything
        {
            let mut state = lock_state(&self.state);
            state.shut_down = true;
            if immediate {
                while let Some(item) = state.items.pop() {
                    dropped.push(item);
                }
                state.unfinished = state.unfinished.saturating_sub(dropped.len());
                if state.unfinished == 0 {
                    state.joiners.hand_all(&mut woken);
                }
            }
            // Putters keep their item in their entry: they will return it in the error.
            state.putters.hand_all(&mut woken);
            // Getters still queued have nothing coming (items left are reserved for
            // the getters already woken): they are handed `false`, "shut down".
            state.getters.hand_all(&mut woken);
        }
        waiters::wake_all(woken);
        drop(dropped);
    }
    // ANCHOR_END: shutdown

    /// True once [`shutdown`](BaseQueue::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        lock_state(&self.state).shut_down
    }

    /// Items, waiters and unfinished work.
    pub fn statistics(&self) -> QueueStatistics {
        let state = lock_state(&self.state);
        QueueStatistics {
            items: state.items.len(),
            maxsize: state.maxsize,
            getters: state.getters.len(),
            reserved: state.reserved,
            putters: state.putters.len(),
            unfinished: state.unfinished,
            shut_down: state.shut_down,
        }
    }
}

impl<T, O: Order<T>> QueueState<T, O> {
    // ANCHOR: try_put
    /// Puts without waiting. The item goes into the queue; if a getter waits, the item
    /// is reserved for it and it is woken, so that no later `get` can take it first.
    fn try_put(&mut self, item: T) -> Result<Option<Waker>, PutError<T>> {
        if self.shut_down {
            return Err(PutError::ShutDown(item));
        }
        let has_room = self.maxsize == 0 || self.items.len() < self.maxsize;
        if !has_room || !self.putters.is_empty() {
            return Err(PutError::Full(item));
        }
        self.items.push(item);
        self.unfinished += 1;
        Ok(self.reserve_for_getter())
    }

    /// Reserves an unreserved item for the oldest waiting getter, and returns its waker.
    fn reserve_for_getter(&mut self) -> Option<Waker> {
        if self.items.len() <= self.reserved {
            return None;
        }
        let waker = self.getters.hand_front(|reserved| *reserved = true)?;
        self.reserved += 1;
        Some(waker)
    }
    // ANCHOR_END: try_put

    // ANCHOR: try_get
    /// Gets without waiting; items reserved for woken getters are not for newcomers.
    fn try_get(&mut self, woken: &mut Vec<Waker>) -> Result<T, GetError> {
        if self.items.len() <= self.reserved {
            return Err(if self.shut_down {
                GetError::ShutDown
            } else {
                GetError::Empty
            });
        }
        Ok(self.take_item(woken).expect("an unreserved item is there"))
    }

    /// Takes the next item. That makes room: the oldest waiting putter's item moves in
    /// at once (so no later `put` can take the room first), and is reserved for a
    /// waiting getter if there is one.
    fn take_item(&mut self, woken: &mut Vec<Waker>) -> Option<T> {
        let item = self.items.pop()?;
        let QueueState {
            items,
            putters,
            unfinished,
            ..
        } = self;
        let moved_in = putters.hand_front(|slot| {
            items.push(slot.take().expect("a waiting putter holds its item"));
            *unfinished += 1;
        });
        if let Some(putter) = moved_in {
            woken.push(putter);
            woken.extend(self.reserve_for_getter());
        }
        Some(item)
    }
    // ANCHOR_END: try_get
}

impl<T, O> fmt::Debug for BaseQueue<T, O>
where
    O: Order<T>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.statistics().fmt(f)
    }
}

/// The future of [`BaseQueue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    item: Option<T>,
    key: Option<WaiterKey>,
}

impl<T, O: Order<T>> Unpin for Put<'_, T, O> {}

impl<T, O: Order<T>> Future for Put<'_, T, O> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(key) = this.key else {
            if budget::spend(cx).is_pending() {
                return Poll::Pending;
            }
            let item = this.item.take().expect("put polled after it completed");
            let mut state = lock_state(&this.queue.state);
            return match state.try_put(item) {
                Ok(woken) => {
                    drop(state);
                    if let Some(waker) = woken {
                        waker.wake();
                    }
                    Poll::Ready(Ok(()))
                }
                Err(PutError::Full(item)) => {
                    this.key = Some(state.putters.push_back(Some(item), cx.waker()));
                    Poll::Pending
                }
                Err(shut_down) => Poll::Ready(Err(shut_down)),
            };
        };
        let mut state = lock_state(&this.queue.state);
        match state.putters.status(key) {
            Status::Handed => {
                this.key = None;
                match state.putters.remove(key).0 {
                    None => Poll::Ready(Ok(())),                              // moved in
                    Some(item) => Poll::Ready(Err(PutError::ShutDown(item))), // shut down
                }
            }
            Status::Queued => {
                state.putters.update_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<T, O: Order<T>> Drop for Put<'_, T, O> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Queued: our item leaves with us. Handed: it is in the queue already, or
            // the queue was shut down. Either way nothing is owed to anyone.
            let removed = lock_state(&self.queue.state).putters.remove(key);
            drop(removed);
        }
    }
}

/// The future of [`BaseQueue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    key: Option<WaiterKey>,
}

impl<T, O: Order<T>> Future for Get<'_, T, O> {
    type Output = Result<T, GetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut woken = Vec::new();
        let result = {
            let mut state = lock_state(&this.queue.state);
            match this.key {
                None => {
                    if budget::spend(cx).is_pending() {
                        return Poll::Pending;
                    }
                    match state.try_get(&mut woken) {
                        Err(GetError::Empty) => {
                            this.key = Some(state.getters.push_back(false, cx.waker()));
                            return Poll::Pending;
                        }
                        result => result,
                    }
                }
                Some(key) => match state.getters.status(key) {
                    Status::Queued => {
                        state.getters.update_waker(key, cx.waker());
                        return Poll::Pending;
                    }
                    Status::Handed => {
                        this.key = None;
                        let (reserved, _) = state.getters.remove(key);
                        if reserved {
                            state.reserved -= 1;
                            // `None` only when `shutdown(true)` emptied the queue since.
                            state.take_item(&mut woken).ok_or(GetError::ShutDown)
                        } else {
                            Err(GetError::ShutDown)
                        }
                    }
                },
            }
        };
        waiters::wake_all(woken);
        Poll::Ready(result)
    }
}

// ANCHOR: get_drop
impl<T, O: Order<T>> Drop for Get<'_, T, O> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let woken = {
            let mut state = lock_state(&self.queue.state);
            match state.getters.remove(key) {
                (true, Status::Handed) => {
                    // An item was reserved for us and we will never take it: it stays
                    // in the queue, and the reservation passes to the next getter.
                    state.reserved -= 1;
                    state.reserve_for_getter()
                }
                _ => None,
            }
        };
        if let Some(waker) = woken {
            waker.wake();
        }
    }
}
// ANCHOR_END: get_drop

/// The future of [`BaseQueue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct QueueJoin<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    key: Option<WaiterKey>,
}

impl<T, O: Order<T>> Future for QueueJoin<'_, T, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock_state(&this.queue.state);
        let Some(key) = this.key else {
            if state.unfinished == 0 {
                drop(state);
                return budget::spend(cx);
            }
            this.key = Some(state.joiners.push_back((), cx.waker()));
            return Poll::Pending;
        };
        match state.joiners.status(key) {
            Status::Handed => {
                state.joiners.remove(key);
                this.key = None;
                Poll::Ready(())
            }
            Status::Queued => {
                state.joiners.update_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<T, O: Order<T>> Drop for QueueJoin<'_, T, O> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock_state(&self.queue.state).joiners.remove(key);
        }
    }
}

macro_rules! queue_type {
    ($(#[$doc:meta])* $name:ident, $order:ident $(, $bound:path)?) => {
        $(#[$doc])*
        pub struct $name<T> {
            queue: BaseQueue<T, $order<T>>,
        }

        impl<T $(: $bound)?> $name<T> {
            /// A queue holding at most `maxsize` items; 0 means no limit.
            pub fn new(maxsize: usize) -> Self {
                $name {
                    queue: BaseQueue::with_maxsize(maxsize),
                }
            }

            /// Names it, for [`task::dump`](crate::task::dump), the trace and the
            /// deadlock report: "waiting on Queue (get) 'jobs'" instead of an address.
            pub fn named(mut self, name: &'static str) -> Self {
                let state = self.queue.state.get_mut().unwrap_or_else(PoisonError::into_inner);
                for list in [&mut state.getters.name, &mut state.putters.name] {
                    *list = Some(name);
                }
                state.joiners.name = Some(name);
                self
            }
        }

        /// Every method is [`BaseQueue`]'s.
        impl<T> Deref for $name<T> {
            type Target = BaseQueue<T, $order<T>>;

            fn deref(&self) -> &Self::Target {
                &self.queue
            }
        }

        impl<T $(: $bound)?> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.queue.statistics()).finish()
            }
        }
    };
}

queue_type!(
    /// A first-in, first-out queue between tasks; like `asyncio.Queue`. Its methods
    /// are those of [`BaseQueue`]: `put`, `get`, `put_nowait`, `get_nowait`, `qsize`,
    /// `task_done`, `join`, `shutdown`...
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use glass::sync::Queue;
    ///
    /// glass::run(async {
    ///     let queue = Arc::new(Queue::new(2));
    ///     let consumer = glass::spawn({
    ///         let queue = Arc::clone(&queue);
    ///         async move {
    ///             let mut total = 0;
    ///             while let Ok(n) = queue.get().await {
    ///                 total += n;
    ///                 queue.task_done();
    ///             }
    ///             total
    ///         }
    ///     });
    ///     for n in 1..=5 {
    ///         queue.put(n).await.unwrap(); // waits while 2 items are queued
    ///     }
    ///     queue.join().await; // every item marked done
    ///     queue.shutdown(false); // ends the consumer's loop
    ///     assert_eq!(consumer.await, 15);
    /// });
    /// ```
    Queue, Fifo
);

queue_type!(
    /// A queue that gives back the smallest item first; like `asyncio.PriorityQueue`.
    /// Its methods are those of [`BaseQueue`].
    PriorityQueue, Priority, Ord
);

queue_type!(
    /// A queue that gives back the newest item first; like `asyncio.LifoQueue`. Its
    /// methods are those of [`BaseQueue`].
    LifoQueue, Lifo
);
