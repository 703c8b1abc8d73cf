//! TCP: a listener that accepts, and a stream that reads and writes; like asyncio's
//! `start_server` / `open_connection`, written the way std's `TcpListener` and
//! `TcpStream` are.

use std::io;
use std::net::{self as std_net, Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use super::{each_addr, resolve, stream_io, Async};
use crate::reactor::Direction;

/// A TCP socket that accepts connections.
///
/// # Examples
///
/// ```
/// use glass::io::{AsyncReadExt, AsyncWriteExt};
/// use glass::net::{TcpListener, TcpStream};
///
/// glass::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = glass::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap(); // echo
///     });
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut echoed = [0; 5];
///     client.read_exact(&mut echoed).await.unwrap();
///     assert_eq!(&echoed, b"hello");
///     server.await;
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: Async<std_net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (`"127.0.0.1:8080"`, a `SocketAddr`, …; port 0 picks a free
    /// port). Names are resolved on the blocking pool.
    pub async fn bind<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<TcpListener> {
        let addrs = resolve(addr).await?;
        let listener = each_addr(&addrs, std_net::TcpListener::bind)?;
        TcpListener::from_std(listener)
    }

    /// Wraps a std listener (made non-blocking and registered).
    pub fn from_std(listener: std_net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::new(listener)?,
        })
    }

    // ANCHOR: accept
    /// Waits for a connection; like `socket.accept()`.
    ///
    /// An error (such as running out of file descriptors, `EMFILE`) does not close the
    /// listener: log it, wait a little, and accept again.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no connection is taken unless this returns it.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.io.read_with(|listener| listener.accept()).await?;
        Ok((TcpStream::from_std(stream)?, addr))
    }
    // ANCHOR_END: accept

    /// The address the listener is bound to (find the port picked for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connections, as a `Stream` (each item is what `accept` would return,
    /// without the peer address).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

/// The stream returned by [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = self
            .listener
            .io
            .poll_with(Direction::Read, cx, |listener| listener.accept());
        accepted.map(|result| Some(result.and_then(|(stream, _)| TcpStream::from_std(stream))))
    }
}

/// A TCP connection; implements `AsyncRead` and `AsyncWrite` (see [`crate::io`]).
///
/// One task may read while another writes: use [`split`](TcpStream::split) or
/// [`into_split`](TcpStream::into_split), or `&stream` for both.
#[derive(Debug)]
pub struct TcpStream {
    io: Async<std_net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`; like `asyncio.open_connection`.
    ///
    /// The standard library has no non-blocking `connect`, so glass connects on the
    /// blocking pool, then registers the socket with the loop. A closed port gives an
    /// `io::Error` of kind `ConnectionRefused`.
    pub async fn connect<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(addr).await?;
        let stream =
            crate::run_in_executor(move || each_addr(&addrs, std_net::TcpStream::connect)).await?;
        TcpStream::from_std(stream)
    }

    /// Wraps a connected std stream (made non-blocking and registered).
    pub fn from_std(stream: std_net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::new(stream)?,
        })
    }

    fn io(&self) -> &Async<std_net::TcpStream> {
        &self.io
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sends small writes at once instead of batching them (`TCP_NODELAY`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the reading half, the writing half, or both. Shutting down writing
    /// sends the other end an end of file while this end can still read.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Borrowed halves, for reading and writing from two futures of one task.
    pub fn split(&self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Owned halves, to move into two tasks.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (OwnedReadHalf(Arc::clone(&stream)), OwnedWriteHalf(stream))
    }

    /// Waits until the stream is readable.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the stream is writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }
}

stream_io!(TcpStream);

/// The reading half of a borrowed [`TcpStream`]; see [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The writing half of a borrowed [`TcpStream`]; see [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The reading half of a [`TcpStream`]; see [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf(Arc<TcpStream>);

/// The writing half of a [`TcpStream`]; see [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedWriteHalf(Arc<TcpStream>);

macro_rules! half_io {
    ($half:ty, read) => {
        impl futures::io::AsyncRead for $half {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                super::poll_read(self.0.io(), cx, buf)
            }
        }
    };
    ($half:ty, write) => {
        impl futures::io::AsyncWrite for $half {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                super::poll_write(self.0.io(), cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.0.shutdown_write())
            }
        }
    };
}

/// Like tokio's: dropping the owned writing half sends the other end an end of file
/// (the reading half may still read).
impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        let _ = self.0.shutdown_write();
    }
}

half_io!(ReadHalf<'_>, read);
half_io!(WriteHalf<'_>, write);
half_io!(OwnedReadHalf, read);
half_io!(OwnedWriteHalf, write);
