//! Layer 3 — the reactor: where the loop waits for the world.
//!
//! When no task is ready, the loop has nothing to do until something happens outside
//! it: a socket becomes readable, a timer comes due, or another thread sends work. The
//! reactor is the one place where the loop's thread goes to sleep, in
//! `Poller::wait` (epoll on Linux, kqueue on macOS), with a timeout that ends at the
//! next timer's deadline. Three things end the wait:
//!
//! - an I/O event on a registered source: the reactor wakes the task waiting on it;
//! - the timeout: the loop fires the timers that are due;
//! - `Poller::notify()` from another thread (see `Shared::send`).
//!
//! A *source* is a file descriptor registered with the poller, in edge-triggered mode:
//! the kernel reports each change to "readable" or "writable" once, and no system call
//! is needed to re-arm it. A source counts the events of each direction (a *tick*);
//! an operation that failed with `WouldBlock` remembers the tick it saw, and the
//! source is ready again as soon as a later event has arrived. That counting is what
//! makes edge-triggered readiness safe: an event that lands between the failed read
//! and the wait is never lost. Chapter 4 of the book, "The event loop", explains the
//! wait; chapter 9, "Waiting for the world", the sources.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use polling::{Events, Poller};

use crate::debug::{self, Cause, WaitingOn};
use slab::Slab;

/// Reading or writing: a source's two directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

// ANCHOR: source
/// One registered file descriptor, and the tasks waiting for it.
pub(crate) struct Source {
    /// Its key in the registry, which is also its key in the poller.
    pub(crate) key: usize,
    /// The file descriptor, for the trace and the dump.
    pub(crate) fd: i32,
    directions: Mutex<[Readiness; 2]>,
}

#[derive(Default)]
struct Readiness {
    /// How many events of this direction have arrived.
    tick: u64,
    /// The tick an operation saw just before it failed with `WouldBlock`.
    blocked_at: u64,
    /// The task waiting for the next event.
    waker: Option<Waker>,
}
// ANCHOR_END: source

impl Source {
    fn lock(&self) -> MutexGuard<'_, [Readiness; 2]> {
        self.directions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The events counted so far in `direction`: read it before trying an operation.
    pub(crate) fn tick(&self, direction: Direction) -> u64 {
        self.lock()[direction as usize].tick
    }

    // ANCHOR: poll_ready
    /// Called after an operation failed with `WouldBlock`, having read `tick` just
    /// before it: `Ready` if an event arrived since (try again), else `Pending` until
    /// the next event of `direction`.
    pub(crate) fn poll_ready(
        &self,
        direction: Direction,
        tick: u64,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut directions = self.lock();
        let readiness = &mut directions[direction as usize];
        readiness.blocked_at = readiness.blocked_at.max(tick);
        if readiness.tick > readiness.blocked_at {
            return Poll::Ready(());
        }
        match &readiness.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => readiness.waker = Some(cx.waker().clone()),
        }
        debug::note_wait(|| WaitingOn::Socket {
            fd: self.fd,
            readable: direction == Direction::Read,
        });
        Poll::Pending
    }
    // ANCHOR_END: poll_ready

    /// Records that an operation which saw `tick` left nothing to do (a read that
    /// drained the socket, a write that filled it): the next operation waits for a new
    /// event instead of trying first and getting `WouldBlock`.
    pub(crate) fn drained(&self, direction: Direction, tick: u64) {
        let mut directions = self.lock();
        let readiness = &mut directions[direction as usize];
        readiness.blocked_at = readiness.blocked_at.max(tick);
    }

    /// Waits (as [`poll_ready`](Source::poll_ready)) until an event of `direction`
    /// arrived after the last `WouldBlock`.
    pub(crate) fn poll_known_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<()> {
        let tick = self.lock()[direction as usize].blocked_at;
        self.poll_ready(direction, tick, cx)
    }

    /// Counts an event and takes the waker to wake.
    fn deliver(&self, readable: bool, writable: bool, wakers: &mut Vec<Waker>) {
        let mut directions = self.lock();
        for (ready, readiness) in [readable, writable].into_iter().zip(directions.iter_mut()) {
            if ready {
                readiness.tick += 1;
                wakers.extend(readiness.waker.take());
            }
        }
    }
}

/// The loop's registered sources, shared with any thread that creates or drops a
/// socket.
#[derive(Default)]
pub(crate) struct Registry {
    sources: Mutex<Slab<Arc<Source>>>,
    /// How many are registered, read without the lock on every loop turn.
    count: AtomicUsize,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Slab<Arc<Source>>> {
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True when some I/O source is registered: only then is there a reason to ask the
    /// kernel for events while tasks are ready.
    pub(crate) fn has_sources(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Makes a new source; the caller adds its file descriptor to the poller with the
    /// source's key.
    pub(crate) fn insert(&self, fd: i32) -> Arc<Source> {
        let mut sources = self.lock();
        let entry = sources.vacant_entry();
        let source = Arc::new(Source {
            key: entry.key(),
            fd,
            directions: Mutex::new(Default::default()),
        });
        entry.insert(Arc::clone(&source));
        self.count.fetch_add(1, Ordering::AcqRel);
        source
    }

    /// Forgets a source, after its file descriptor was deleted from the poller.
    pub(crate) fn remove(&self, source: &Source) {
        self.lock().remove(source.key);
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The loop's view of the kernel's readiness queue.
pub(crate) struct Reactor {
    events: Events,
    /// Reused between waits: the sources that had events, and the wakers to wake.
    ready: Vec<(Arc<Source>, bool, bool)>,
    wakers: Vec<Waker>,
}

impl Reactor {
    pub(crate) fn new() -> Reactor {
        Reactor {
            events: Events::new(),
            ready: Vec::new(),
            wakers: Vec::new(),
        }
    }

    // ANCHOR: reactor_wait
    /// Waits until an I/O event, a notification from another thread, or the timeout
    /// (`None`: no timeout; `Some(ZERO)`: just look), then wakes the task waiting on
    /// each event.
    pub(crate) fn wait(
        &mut self,
        poller: &Poller,
        registry: &Registry,
        timeout: Option<Duration>,
        on_event: &dyn Fn(i32, bool, bool),
    ) -> io::Result<()> {
        self.events.clear();
        match poller.wait(&mut self.events, timeout) {
            Ok(_) => {}
            // A signal interrupted the wait: nothing happened, the loop just goes round.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(error),
        }
        if self.events.is_empty() {
            return Ok(()); // a timeout or a notification
        }
        {
            let sources = registry.lock();
            for event in self.events.iter() {
                // A source removed after the kernel queued its event is simply gone.
                if let Some(source) = sources.get(event.key) {
                    self.ready
                        .push((Arc::clone(source), event.readable, event.writable));
                }
            }
        }
        for (source, readable, writable) in self.ready.drain(..) {
            on_event(source.fd, readable, writable);
            source.deliver(readable, writable, &mut self.wakers);
            // Woken with no lock held: a woken task may run at once on another thread.
            let cause = Cause::Socket {
                fd: source.fd,
                readable,
            };
            debug::because(cause, || self.wakers.drain(..).for_each(Waker::wake));
        }
        Ok(())
    }
    // ANCHOR_END: reactor_wait
}
