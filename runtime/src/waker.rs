//! Layer 1 — wakers, and the smallest executor there is.
//!
//! A future makes progress only when someone polls it, and it is polled again only
//! after it has asked to be: when it returns `Pending` it keeps a clone of the
//! [`Waker`] it was given, and calls `wake()` once the thing it waits for has
//! happened. Everything else in glass — tasks, timers, locks, sockets — is this one
//! handshake, repeated.
//!
//! This file builds the handshake by hand: a waker that unparks a thread, and
//! [`block_on`], which polls one future on the calling thread and parks the thread
//! between polls. There is no spawning, no timer and no I/O here; those need the event
//! loop (`event_loop.rs`). The book explains this file in chapter 2, "Wakers".

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

// ANCHOR: thread_waker
/// A waker that wakes a parked thread.
///
/// `std::task::Wake` lets any `Arc<T>` become a [`Waker`]: the standard library writes
/// the vtable for us, so no `unsafe` is needed.
struct ThreadWaker {
    thread: Thread,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // `unpark` leaves a token if the thread is not parked yet, so a wake that
        // arrives between the poll and the `park` below is not lost.
        self.thread.unpark();
    }
}
// ANCHOR_END: thread_waker

// ANCHOR: block_on
/// Runs a future to completion on the current thread, parking the thread while the
/// future waits.
///
/// This is the executor of chapter 2: poll, and if the future is not ready, sleep until
/// its waker says to poll again. It cannot run timers, sockets or spawned tasks — use
/// [`run`](crate::run) for those. Use `block_on` for futures that are woken by other
/// threads, such as a [`Task`](crate::Task) of another loop or a channel.
///
/// # Panics
///
/// Panics when called on a thread that is running a glass loop: parking that thread
/// would stop the loop, and with it whatever the future waits for.
///
/// # Examples
///
/// ```
/// let answer = glass::block_on(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    if crate::event_loop::is_running_here() {
        panic!(
            "glass::block_on was called on a thread that is running a glass event loop; \
             parking the thread would stop the loop. Inside async code, use .await instead"
        );
    }
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker {
        thread: thread::current(),
    }));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A spurious return from `park` only costs one extra poll.
        thread::park();
    }
}
// ANCHOR_END: block_on
