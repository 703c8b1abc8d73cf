//! UDP: datagrams; like asyncio's datagram endpoints, written the way std's
//! `UdpSocket` is.

use std::io;
use std::net::{self as std_net, SocketAddr, ToSocketAddrs};

use super::{each_addr, resolve, Async};

/// A UDP socket.
///
/// # Examples
///
/// ```
/// use glass::net::UdpSocket;
///
/// glass::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: Async<std_net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port).
    pub async fn bind<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<UdpSocket> {
        let addrs = resolve(addr).await?;
        let socket = each_addr(&addrs, std_net::UdpSocket::bind)?;
        Ok(UdpSocket {
            io: Async::new(socket)?,
        })
    }

    /// Sets the default peer for `send` and `recv`.
    pub async fn connect<A: ToSocketAddrs + Send + 'static>(&self, addr: A) -> io::Result<()> {
        let addrs = resolve(addr).await?;
        each_addr(&addrs, |addr| self.io.get_ref().connect(addr))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.io.write_with(|socket| socket.send(data)).await
    }

    /// Receives a datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|socket| socket.recv(buf)).await
    }

    /// Sends a datagram to `target`.
    pub async fn send_to(&self, data: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .write_with(|socket| socket.send_to(data, target))
            .await
    }

    /// Receives a datagram and the address it came from.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|socket| socket.recv_from(buf)).await
    }
}
