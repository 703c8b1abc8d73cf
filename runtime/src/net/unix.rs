//! Unix domain sockets: a listener and a stream on a path, and `pair()` — the twin
//! of Python's `multiprocessing.Pipe`.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;

use super::{stream_io, Async};

/// A Unix socket that accepts connections on a path.
///
/// # Examples
///
/// ```
/// use glass::io::{AsyncReadExt, AsyncWriteExt};
/// use glass::net::UnixStream;
///
/// glass::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over the pipe").await.unwrap();
///     a.close().await.unwrap(); // end of file for `b`
///     let mut text = String::new();
///     b.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "over the pipe");
/// });
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: Async<std_unix::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` (which must not exist yet).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Async::new(std_unix::UnixListener::bind(path)?)?,
        })
    }

    /// Waits for a connection.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.read_with(|listener| listener.accept()).await?;
        Ok((UnixStream::from_std(stream)?, addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

/// A Unix stream socket; implements `AsyncRead` and `AsyncWrite`.
#[derive(Debug)]
pub struct UnixStream {
    io: Async<std_unix::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`. (Connecting a Unix socket does not wait on
    /// the network: std's blocking `connect` returns at once, or fails.)
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::from_std(std_unix::UnixStream::connect(path)?)
    }

    /// Two connected streams; like `socket.socketpair()` or `multiprocessing.Pipe()`.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a std stream (made non-blocking and registered).
    pub fn from_std(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Async::new(stream)?,
        })
    }

    fn io(&self) -> &Async<std_unix::UnixStream> {
        &self.io
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }

    /// Shuts down reading, writing, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

stream_io!(UnixStream);
