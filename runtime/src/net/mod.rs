//! Layer 8 — networking: sockets whose waits go through the reactor.
//!
//! The kernel knows when a socket can be read or written without blocking; the loop
//! asks it with epoll (through `polling`), and that is all an async socket needs. This
//! layer is built in two steps, the way chapter 9 of the book, "Waiting for the
//! world", reads it:
//!
//! 1. [`Async<T>`] wraps any non-blocking file descriptor: it registers it with the
//!    loop's reactor, and turns "try the operation; on `WouldBlock`, wait for the
//!    next readiness event; try again" into `read_with` / `write_with`.
//! 2. [`TcpListener`], [`TcpStream`], [`UdpSocket`], [`UnixListener`] and
//!    [`UnixStream`] are `Async<std::net::…>` with the methods people expect, and the
//!    streams implement `futures::io::AsyncRead` and `AsyncWrite` (see [`crate::io`]).
//!
//! What it leaves out: readiness only (no io_uring), one task reading and one writing
//! per socket at a time (a second reader would take the first one's wake-up), and
//! connecting a TCP stream on the blocking pool, because the standard library has no
//! non-blocking `connect`.

mod tcp;
mod udp;
mod unix;

pub use tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpListener, TcpStream, WriteHalf};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

use std::any::Any;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::task::{Context, Poll};

use polling::{Event, PollMode};

use crate::budget;
use crate::event_loop;
use crate::executor::Shared;
use crate::reactor::{Direction, Source};

/// Switches a file descriptor to non-blocking mode, which [`Async`] needs.
///
/// Implemented for the standard library's sockets; implement it for your own type to
/// wrap it in `Async`.
pub trait SetNonblocking {
    /// Sets or clears non-blocking mode.
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()>;
}

macro_rules! set_nonblocking_for {
    ($($type:ty),*) => {$(
        impl SetNonblocking for $type {
            fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
                <$type>::set_nonblocking(self, nonblocking)
            }
        }
    )*};
}

set_nonblocking_for!(
    std::net::TcpListener,
    std::net::TcpStream,
    std::net::UdpSocket,
    std::os::unix::net::UnixListener,
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixDatagram
);

// ANCHOR: async_type
/// A non-blocking file descriptor registered with the running loop's reactor.
///
/// `Async<T>` owns `T`. Its operations try the non-blocking call first; when the kernel
/// says `WouldBlock`, they wait for the reactor's next readiness event and try again.
/// Dropping it removes the registration first, then closes `T`.
///
/// # Examples
///
/// ```
/// use glass::net::Async;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// glass::run(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
///     a.write_with(|mut s| s.write(b"ping")).await.unwrap();
///     let mut buf = [0; 4];
///     b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    shared: Arc<Shared>,
    io: Option<T>,
}
// ANCHOR_END: async_type

impl<T: AsFd> Async<T> {
    // ANCHOR: async_new
    /// Makes `io` non-blocking and registers it with the running loop's reactor.
    ///
    /// # Errors
    ///
    /// The errors of `set_nonblocking` and of the registration.
    ///
    /// # Panics
    ///
    /// Panics outside a running loop.
    pub fn new(io: T) -> io::Result<Async<T>>
    where
        T: SetNonblocking,
    {
        io.set_nonblocking(true)?;
        let shared =
            event_loop::with_current(|core| Arc::clone(&core.shared)).unwrap_or_else(|| {
                panic!(
                    "a glass socket was created outside a running event loop; create it inside \
                 glass::run(...)"
                )
            });
        let source = shared.registry.insert(io.as_fd().as_raw_fd());
        let interest = Event::all(source.key);
        // SAFETY: `polling` requires that the file descriptor stays open until it is
        // deleted from the poller. `Async` owns `io`, and its `Drop` deletes the
        // descriptor from the poller before `io` is dropped (and so closed); nothing
        // else can close it while `Async` lives.
        let added = unsafe {
            shared
                .poller
                .add_with_mode(io.as_fd().as_raw_fd(), interest, PollMode::Edge)
        };
        if let Err(error) = added {
            shared.registry.remove(&source);
            return Err(error);
        }
        Ok(Async {
            source,
            shared,
            io: Some(io),
        })
    }
    // ANCHOR_END: async_new

    /// The wrapped I/O handle.
    pub fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .expect("an Async holds its I/O handle until dropped")
    }

    // No `get_mut`: swapping the handle for another would close a descriptor that is
    // still registered, breaking the promise the `unsafe` block in `new` relies on.
    // (async-io offers it as an `unsafe fn`; glass keeps `unsafe` to that one block.)

    /// Removes the registration and gives the handle back (still non-blocking).
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self
            .io
            .take()
            .expect("an Async holds its I/O handle until dropped");
        self.deregister(&io)?;
        Ok(io)
    }

    fn deregister(&self, io: &T) -> io::Result<()> {
        let deleted = self.shared.poller.delete(io.as_fd());
        self.shared.registry.remove(&self.source);
        deleted
    }

    /// Waits until the handle is readable: until a readiness event arrived after the
    /// last operation that would have blocked.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.source.poll_known_ready(Direction::Read, cx)).await;
        Ok(())
    }

    /// Waits until the handle is writable (see [`readable`](Async::readable)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.source.poll_known_ready(Direction::Write, cx)).await;
        Ok(())
    }

    // ANCHOR: poll_with
    /// Tries `op` until it does not return `WouldBlock`, waiting for the reactor's next
    /// event of `direction` in between. The heart of every socket operation.
    pub(crate) fn poll_with<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with_drained(direction, cx, op, |_| false)
    }

    /// `poll_with`, for operations that can tell from their result that they left
    /// nothing to do (`drained`): a write shorter than its buffer filled the socket's
    /// send buffer. Then the next operation waits for the next event, without a system
    /// call that would only say `WouldBlock`.
    pub(crate) fn poll_with_drained<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        // Known to have nothing since the last attempt: wait for an event first.
        if self.source.poll_known_ready(direction, cx).is_pending() {
            return Poll::Pending;
        }
        // Socket operations spend the task's budget, like every other leaf future.
        if budget::spend(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            // Read the tick *before* trying: an event that arrives after the attempt
            // but before we wait has a higher tick, and we try again instead of
            // sleeping through it.
            let tick = self.source.tick(direction);
            match op(self.get_ref()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Ok(value) => {
                    if drained(&value) {
                        self.source.drained(direction, tick);
                    }
                    return Poll::Ready(Ok(value));
                }
                result => return Poll::Ready(result),
            }
            if self.source.poll_ready(direction, tick, cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
    // ANCHOR_END: poll_with

    /// Runs the non-blocking read `op` until it does not return `WouldBlock`, waiting
    /// for readability in between.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is: it is retried from the start after each wait.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_with(Direction::Read, cx, &mut op)).await
    }

    /// Runs the non-blocking write `op` until it does not return `WouldBlock`, waiting
    /// for writability in between.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_with(Direction::Write, cx, &mut op)).await
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // The registration goes first; then `io` is dropped, closing the descriptor.
            let _ = self.deregister(&io);
        }
    }
}

impl<T: AsFd + std::fmt::Debug> std::fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Async").field(self.get_ref()).finish()
    }
}

/// Resolves `addr`: at once when it already is a socket address, else on the blocking
/// pool (name lookups block).
pub(crate) async fn resolve<A>(addr: A) -> io::Result<Vec<SocketAddr>>
where
    A: ToSocketAddrs + Send + 'static,
{
    if let Some(addr) = (&addr as &dyn Any).downcast_ref::<SocketAddr>() {
        return Ok(vec![*addr]);
    }
    crate::run_in_executor(move || addr.to_socket_addrs().map(Iterator::collect)).await
}

/// Tries `op` on each address in turn; returns the first success or the last error.
pub(crate) fn each_addr<R>(
    addrs: &[SocketAddr],
    mut op: impl FnMut(SocketAddr) -> io::Result<R>,
) -> io::Result<R> {
    let mut last_error = None;
    for addr in addrs {
        match op(*addr) {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing; give a host and port like \"127.0.0.1:8080\"",
        )
    }))
}

// ANCHOR: stream_io
/// `AsyncRead::poll_read` for any registered handle that `std::io::Read`s through a
/// shared reference (sockets do: reading and writing need no `&mut`).
pub(crate) fn poll_read<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: io::Read,
{
    // A short read does not prove the socket drained: an end of file may have arrived
    // with the data, and only the next read reports it. So reads always try first.
    io.poll_with(Direction::Read, cx, |mut inner| {
        io::Read::read(&mut inner, buf)
    })
}

/// `AsyncWrite::poll_write`, likewise.
pub(crate) fn poll_write<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: io::Write,
{
    let len = buf.len();
    let write = |mut inner: &T| io::Write::write(&mut inner, buf);
    io.poll_with_drained(Direction::Write, cx, write, |&n| n < len)
}
// ANCHOR_END: stream_io

/// Implements `futures::io::AsyncRead` and `AsyncWrite` for a stream type and for a
/// shared reference to it, from its `fn io(&self) -> &Async<_>` and
/// `fn shutdown_write(&self)`.
macro_rules! stream_io {
    ($stream:ty) => {
        impl futures::io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                crate::net::poll_read(self.io(), cx, buf)
            }
        }

        impl futures::io::AsyncRead for &$stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                crate::net::poll_read(self.io(), cx, buf)
            }
        }

        impl futures::io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                crate::net::poll_write(self.io(), cx, buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(())) // sockets do not buffer in user space
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown_write())
            }
        }

        impl futures::io::AsyncWrite for &$stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                crate::net::poll_write(self.io(), cx, buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown_write())
            }
        }
    };
}
pub(crate) use stream_io;
