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
//! The sources themselves — file descriptors registered with the poller, each with a
//! waker per direction — are added by the networking layer (chapter 9). This file owns
//! the slab they live in, and turns each event into a wake-up. Chapter 4 of the book,
//! "The event loop", explains the wait; chapter 9 the sources.

use std::io;
use std::task::Waker;
use std::time::Duration;

use polling::{Events, Poller};
use slab::Slab;

/// One registered I/O source: the tasks waiting for it to be readable or writable.
#[derive(Default)]
pub(crate) struct Source {
    pub(crate) reader: Option<Waker>,
    pub(crate) writer: Option<Waker>,
}

/// The loop's view of the kernel's readiness queue.
pub(crate) struct Reactor {
    events: Events,
    /// Registered sources; a source's key in the slab is its key in the poller.
    sources: Slab<Source>,
}

impl Reactor {
    pub(crate) fn new() -> Reactor {
        Reactor {
            events: Events::new(),
            sources: Slab::new(),
        }
    }

    /// True when some I/O source is registered: only then is there a reason to ask the
    /// kernel for events while tasks are ready.
    pub(crate) fn has_sources(&self) -> bool {
        !self.sources.is_empty()
    }

    // ANCHOR: reactor_wait
    /// Waits until an I/O event, a notification from another thread, or the timeout
    /// (`None`: no timeout; `Some(ZERO)`: just look), then wakes the task waiting on
    /// each event.
    pub(crate) fn wait(&mut self, poller: &Poller, timeout: Option<Duration>) -> io::Result<()> {
        self.events.clear();
        match poller.wait(&mut self.events, timeout) {
            Ok(_) => {}
            // A signal interrupted the wait: nothing happened, the loop just goes round.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(error),
        }
        for event in self.events.iter() {
            let Some(source) = self.sources.get_mut(event.key) else {
                continue; // the source was removed after the kernel queued its event
            };
            // Take a direction's waker only when that direction is ready.
            let reader = if event.readable {
                source.reader.take()
            } else {
                None
            };
            let writer = if event.writable {
                source.writer.take()
            } else {
                None
            };
            reader.into_iter().chain(writer).for_each(Waker::wake);
        }
        Ok(())
    }
    // ANCHOR_END: reactor_wait
}
