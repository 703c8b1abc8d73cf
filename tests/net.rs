//! Networking: `glass::net` sockets (TCP, UDP, Unix) and `Async<T>`, over loopback only.
//!
//! Sockets wait on the real world, so these tests run on the real clock. Every test body
//! is guarded twice: its future runs under `wait_for` with a generous real-time limit,
//! and its loop on a thread of its own under a watchdog, so a lost wake-up or a deadlock
//! fails the test instead of hanging CI. Every loop of requests is bounded, and random data
//! comes from a seeded generator (`GLASS_NET_SEED` picks another seed) whose seed a
//! failing test prints.

use std::cell::{Cell, RefCell};
use std::env;
use std::future::Future;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::unix::net as std_unix;
use std::panic;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use glass::io::{AsyncReadExt, AsyncWriteExt};
use glass::net::{Async, TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use glass::stream::StreamExt;
use glass::{sleep, wait_for, Barrier, Semaphore, Task};

// ---------------------------------------------------------------------------------------
// Helpers

/// A real-time limit far above what any test here needs: only a hang trips it.
const WATCHDOG: Duration = Duration::from_secs(20);

/// The limit on a test's loop: below the watchdog, so that a stuck test fails with the
/// loop's own message when the loop itself still turns.
const LOOP_LIMIT: Duration = Duration::from_secs(15);

/// How long a wait that must *not* end is given before we call it pending.
const BRIEFLY: Duration = Duration::from_millis(20);

/// The default seed of the random data; `GLASS_NET_SEED` overrides it.
const SEED: u64 = 0x061A_55E7;

/// Runs `body` on a thread of its own, and fails the test if it has not finished after
/// [`WATCHDOG`] of real time. A panic in `body` is re-raised here.
fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let name = thread::current().name().unwrap_or("test").to_owned();
    let (done, finished) = mpsc::channel();
    let thread = thread::Builder::new()
        .name(name)
        .spawn(move || {
            let output = body();
            let _ = done.send(());
            output
        })
        .expect("could not start the test's thread");
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(WATCHDOG) {
        panic!("the test did not finish within {WATCHDOG:?} of real time: a hang");
    }
    thread
        .join()
        .unwrap_or_else(|panic| panic::resume_unwind(panic))
}

/// Runs the future made by `test` on a new real-clock loop (whatever
/// `GLASS_PAUSED_CLOCK` says: the paused clock would jump while sockets wait), under
/// [`LOOP_LIMIT`] and the [`watchdog`].
fn run_net<F, Fut>(test: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    watchdog(|| {
        glass::EventLoop::builder()
            .paused_clock(false)
            .build()
            .run_until_complete(async {
                wait_for(test(), LOOP_LIMIT).await.unwrap_or_else(|_| {
                    panic!("the test's loop did not finish within {LOOP_LIMIT:?}: a hang")
                })
            })
    })
}

/// The seed for this run: [`SEED`], or `GLASS_NET_SEED` when set.
fn seed() -> u64 {
    match env::var("GLASS_NET_SEED") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("GLASS_NET_SEED={text:?} is not a number")),
        Err(_) => SEED,
    }
}

/// SplitMix64: a small seeded generator, so a failing run can be repeated exactly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }

    /// Random bytes, `low..=high` of them.
    fn message(&mut self, low: usize, high: usize) -> Vec<u8> {
        let len = self.between(low, high);
        self.bytes(len)
    }

    /// `len` random bytes.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len + 8);
        while bytes.len() < len {
            bytes.extend_from_slice(&self.next().to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }
}

/// An echo server on 127.0.0.1: each connection is echoed by a task of its own until the
/// client shuts down writing. Cancel the returned task to stop accepting.
async fn echo_server() -> (SocketAddr, Task<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = glass::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept failed");
            drop(glass::spawn(echo(stream))); // detached: it ends with its connection
        }
    });
    (addr, server)
}

/// Echoes everything `stream` sends back to it; on end of file, shuts down writing.
async fn echo(stream: TcpStream) -> io::Result<u64> {
    // What comes in goes out at once, however it was cut up on the way.
    stream.set_nodelay(true)?;
    let (mut reader, mut writer) = stream.into_split();
    let copied = glass::io::copy(&mut reader, &mut writer).await?;
    writer.close().await?;
    Ok(copied)
}

/// Reads until end of file. (`read_to_end` would do, but `futures`' version zeroes the
/// vector's whole spare capacity again on every poll: slow for megabytes.)
async fn read_all(mut reader: impl glass::io::AsyncRead + Unpin) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = vec![0; 64 << 10];
    loop {
        match reader.read(&mut buf).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// The soft limit on open file descriptors, from `/proc/self/limits`.
fn open_files_soft_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

/// A Unix socket path in the temporary directory, unique to this process and call,
/// removed when dropped.
struct TempSocketPath(PathBuf);

impl TempSocketPath {
    fn new() -> TempSocketPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "glass-net-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path); // left over by an earlier process of this id
        TempSocketPath(path)
    }
}

impl Drop for TempSocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------------
// TCP: many clients

/// How many connections the big echo test opens, unless the fd limit is lower.
const MANY_CONNECTIONS: usize = 1_000;

/// How many of them may be connecting at once: well below the listen backlog of 128.
const IN_FLIGHT: usize = 64;

#[test]
fn thousand_concurrent_connections_echo_random_messages_byte_exact() {
    // Each connection costs two descriptors in this process (client and server end).
    let mut connections = MANY_CONNECTIONS;
    let needed = 2 * MANY_CONNECTIONS as u64 + 200;
    match open_files_soft_limit() {
        Some(limit) if limit >= needed => {}
        Some(limit) => {
            connections = (limit.saturating_sub(200) / 2) as usize;
            println!(
                "note: the soft limit on open files is {limit}, below the {needed} that \
                 {MANY_CONNECTIONS} connections need; testing {connections} connections"
            );
        }
        None => println!(
            "note: could not read the open files limit from /proc/self/limits; trying \
             {connections} connections"
        ),
    }
    assert!(
        connections >= 100,
        "too few file descriptors to test many connections"
    );
    let seed = seed();
    let (open_at_peak, echoed) = run_net(move || async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server counts the connections open at once on its side.
        let open = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let server = glass::spawn({
            let (open, peak) = (Rc::clone(&open), Rc::clone(&peak));
            async move {
                loop {
                    let (stream, _) = listener.accept().await.expect("accept failed");
                    open.set(open.get() + 1);
                    peak.set(peak.get().max(open.get()));
                    let open = Rc::clone(&open);
                    drop(glass::spawn(async move {
                        let result = echo(stream).await;
                        open.set(open.get() - 1);
                        result.expect("the server's echo failed");
                    }));
                }
            }
        });
        // Every client makes one exchange (so the server has accepted it), waits until
        // all are connected, then makes the rest. The kernel holds at most 128
        // connections that wait to be accepted (std's listen backlog); more, and it drops
        // the handshake, which the client retries only a second later. So at most
        // `IN_FLIGHT` clients may be between connecting and being served.
        let in_flight = Rc::new(Semaphore::new(IN_FLIGHT));
        let all_connected = Rc::new(Barrier::new(connections));
        let clients: Vec<_> = (0..connections)
            .map(|client| {
                let (in_flight, all_connected) = (Rc::clone(&in_flight), Rc::clone(&all_connected));
                glass::spawn(async move {
                    let mut random = SplitMix64(seed ^ (client as u64).wrapping_mul(0x9E37));
                    let connecting = in_flight.acquire().await;
                    let mut stream = TcpStream::connect(addr)
                        .await
                        .unwrap_or_else(|e| panic!("client {client} could not connect: {e}"));
                    let messages = random.between(3, 6);
                    let mut echoed = 0;
                    let mut connecting = Some(connecting);
                    for message in 0..messages {
                        if message == 1 {
                            drop(connecting.take()); // served: the server accepted us
                            all_connected.wait().await;
                        }
                        let sent = random.message(1, 4096);
                        stream.write_all(&sent).await.unwrap();
                        let mut back = vec![0; sent.len()];
                        stream.read_exact(&mut back).await.unwrap();
                        assert!(
                            back == sent,
                            "seed {seed}: client {client}, message {message} of {} bytes \
                             came back different",
                            sent.len()
                        );
                        echoed += sent.len();
                    }
                    // The server shuts down its side after our end of file: nothing more.
                    stream.close().await.unwrap();
                    let mut rest = Vec::new();
                    stream.read_to_end(&mut rest).await.unwrap();
                    assert!(rest.is_empty(), "client {client} got unasked-for bytes");
                    echoed
                })
            })
            .collect();
        let echoed: usize = glass::gather_all(clients).await.into_iter().sum();
        server.cancel();
        (peak.get(), echoed)
    });
    assert_eq!(
        open_at_peak, connections,
        "the server never had all {connections} connections open at once"
    );
    assert!(echoed >= 3 * connections, "only {echoed} bytes were echoed");
}

#[test]
fn a_client_that_vanishes_mid_message_does_not_disturb_other_clients() {
    // A framed echo: a 4-byte length, then that many bytes. The server's task for a
    // connection reports how it ended; the accept loop must outlive every client.
    async fn read_frame(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
        let mut header = [0; 4];
        let mut filled = 0;
        while filled < header.len() {
            match stream.read(&mut header[filled..]).await? {
                0 if filled == 0 => return Ok(None), // a clean end between frames
                0 => return Err(ErrorKind::UnexpectedEof.into()),
                n => filled += n,
            }
        }
        let mut body = vec![0; u32::from_be_bytes(header) as usize];
        stream.read_exact(&mut body).await?;
        Ok(Some(body))
    }
    async fn write_frame(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
        // One write for the whole frame: with two small writes, Nagle's algorithm holds
        // the second until the first is acknowledged, and the peer delays that
        // acknowledgement by 40 ms.
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        stream.write_all(&frame).await
    }

    let seed = seed();
    let (endings, server_alive) = run_net(move || async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let endings = Rc::new(RefCell::new(Vec::new()));
        let server = glass::spawn({
            let endings = Rc::clone(&endings);
            async move {
                loop {
                    let (mut stream, _) = listener.accept().await.expect("accept failed");
                    let endings = Rc::clone(&endings);
                    drop(glass::spawn(async move {
                        let mut frames = 0;
                        let ending = loop {
                            match read_frame(&mut stream).await {
                                Ok(None) => break Ok(frames),
                                Ok(Some(body)) => {
                                    if let Err(error) = write_frame(&mut stream, &body).await {
                                        break Err(error.kind());
                                    }
                                    frames += 1;
                                }
                                Err(error) => break Err(error.kind()),
                            }
                        };
                        endings.borrow_mut().push(ending);
                    }));
                }
            }
        });

        let good_clients: Vec<_> = (0..20u64)
            .map(|client| {
                glass::spawn(async move {
                    let mut random = SplitMix64(seed ^ client);
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for message in 0..20 {
                        let sent = random.message(0, 3000);
                        write_frame(&mut stream, &sent).await.unwrap();
                        let back = read_frame(&mut stream).await.unwrap();
                        assert!(
                            back.as_deref() == Some(&sent[..]),
                            "seed {seed}: good client {client}, message {message} came \
                             back different"
                        );
                        sleep(Duration::from_millis(1)).await;
                    }
                })
            })
            .collect();

        // While they talk, four clients vanish in four ways.
        sleep(Duration::from_millis(5)).await;
        let vanishing = [
            // Half a body: the frame says 1000 bytes, 300 come, then the connection closes.
            glass::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(&1000u32.to_be_bytes()).await.unwrap();
                stream.write_all(&[7; 300]).await.unwrap();
            }),
            // Half a header.
            glass::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(&[0, 0]).await.unwrap();
            }),
            // Connects and leaves at once.
            glass::spawn(async move {
                drop(TcpStream::connect(addr).await.unwrap());
            }),
            // Sends a big frame and leaves without reading the echo: the server's writes
            // fail (connection reset or broken pipe), or land in buffers nobody reads.
            glass::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                write_frame(&mut stream, &vec![1; 1 << 20]).await.unwrap();
            }),
        ];
        glass::gather_all(vanishing).await;
        glass::gather_all(good_clients).await;

        // The server still serves a newcomer.
        let mut newcomer = TcpStream::connect(addr).await.unwrap();
        write_frame(&mut newcomer, b"still there?").await.unwrap();
        let back = read_frame(&mut newcomer).await.unwrap();
        assert_eq!(back.as_deref(), Some(&b"still there?"[..]));
        drop(newcomer);
        // Let every connection's task report its ending (good clients, the vanished, the
        // newcomer: 25 in all), bounded.
        for _ in 0..1000 {
            if endings.borrow().len() == 25 {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        let alive = !server.is_finished();
        server.cancel();
        let endings = endings.borrow().clone();
        (endings, alive)
    });
    assert!(server_alive, "the accept loop ended");
    assert_eq!(endings.len(), 25, "connection endings seen: {endings:?}");
    let clean_twenty = endings.iter().filter(|e| **e == Ok(20)).count();
    assert_eq!(
        clean_twenty, 20,
        "the good clients did not all finish: {endings:?}"
    );
    let unexpected_ends = endings
        .iter()
        .filter(|e| **e == Err(ErrorKind::UnexpectedEof))
        .count();
    assert!(
        unexpected_ends >= 2,
        "the half-message clients should end in UnexpectedEof: {endings:?}"
    );
    for ending in &endings {
        match ending {
            Ok(_) => {}
            Err(ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {}
            Err(other) => panic!("a connection ended with {other:?}: {endings:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// TCP: one connection's behaviour

#[test]
fn half_close_lets_the_server_read_to_end_and_still_reply() {
    run_net(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // For each connection: read to end of file, then reply how much came.
        let server = glass::spawn(async move {
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                stream.read_to_end(&mut request).await.unwrap();
                let reply = format!("got {} bytes: {}", request.len(), request.escape_ascii());
                stream.write_all(reply.as_bytes()).await.unwrap();
            }
        });

        // `shutdown(Shutdown::Write)`: the server sees end of file, we can still read.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"first").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "got 5 bytes: first");
        // Writing after the shutdown is an error, not a hang.
        let error = client.write_all(b"late").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");

        // `close().await` (AsyncWriteExt) does the same.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"second").await.unwrap();
        client.close().await.unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "got 6 bytes: second");
        server.await;
    });
}

#[test]
fn connecting_to_a_closed_port_is_connection_refused() {
    run_net(|| async {
        // A port that was free a moment ago, and is closed now.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
        assert!(
            error.to_string().to_lowercase().contains("refused"),
            "the message does not say what happened: {error}"
        );
        // Through a name, the same.
        let error = TcpStream::connect(format!("localhost:{}", addr.port()))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    });
}

#[test]
fn incoming_yields_each_accepted_connection() {
    run_net(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = glass::spawn(async move {
            let mut incoming = listener.incoming();
            let mut peers = Vec::new();
            for number in 0..3 {
                let mut stream = incoming.next().await.unwrap().unwrap();
                peers.push(stream.peer_addr().unwrap());
                stream
                    .write_all(format!("welcome #{number}").as_bytes())
                    .await
                    .unwrap();
            }
            peers
        });
        let mut clients = Vec::new();
        for number in 0..3 {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut greeting = String::new();
            client.read_to_string(&mut greeting).await.unwrap();
            assert_eq!(greeting, format!("welcome #{number}"));
            clients.push(client.local_addr().unwrap());
        }
        assert_eq!(server.await, clients);
    });
}

#[test]
fn addresses_name_both_ends_of_a_connection() {
    run_net(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listening = listener.local_addr().unwrap();
        assert!(
            listening.ip().is_loopback() && listening.port() != 0,
            "{listening}"
        );
        let accepting = glass::spawn(async move { listener.accept().await.unwrap() });
        let client = TcpStream::connect(listening).await.unwrap();
        let (server_end, accepted_from) = accepting.await;
        assert_eq!(client.peer_addr().unwrap(), listening);
        assert_eq!(server_end.local_addr().unwrap(), listening);
        assert_eq!(accepted_from, client.local_addr().unwrap());
        assert_eq!(
            server_end.peer_addr().unwrap(),
            client.local_addr().unwrap()
        );

        // IPv6 loopback too, where the machine has it.
        match TcpListener::bind("[::1]:0").await {
            Ok(listener) => {
                let listening = listener.local_addr().unwrap();
                assert!(listening.is_ipv6(), "{listening}");
                let accepting = glass::spawn(async move { listener.accept().await.unwrap() });
                let client = TcpStream::connect(listening).await.unwrap();
                let (_, accepted_from) = accepting.await;
                assert_eq!(accepted_from, client.local_addr().unwrap());
            }
            Err(error) => println!("note: no IPv6 loopback here ({error}); checked IPv4 only"),
        }
    });
}

#[test]
fn set_nodelay_is_read_back_by_nodelay() {
    run_net(|| async {
        let (addr, server) = echo_server().await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.write_all(b"small").await.unwrap();
        let mut back = [0; 5];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"small");
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        server.cancel();
    });
}

/// More than loopback's socket buffers hold, so that writing it all before reading
/// would deadlock: reading and writing must overlap.
const BIG_PAYLOAD: usize = 8 << 20;

#[test]
fn into_split_halves_read_and_write_from_two_tasks_at_once() {
    let seed = seed();
    run_net(move || async move {
        let (addr, server) = echo_server().await;
        let payload = Rc::new(SplitMix64(seed).bytes(BIG_PAYLOAD));
        let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let writing = glass::spawn({
            let payload = Rc::clone(&payload);
            async move {
                // Small writes of varying sizes, so that both tasks take many turns.
                let mut random = SplitMix64(seed + 1);
                let mut rest = &payload[..];
                while !rest.is_empty() {
                    let size = random.between(1, 64 << 10).min(rest.len());
                    writer.write_all(&rest[..size]).await.unwrap();
                    rest = &rest[size..];
                }
                writer.close().await.unwrap();
            }
        });
        let reading = glass::spawn(async move { read_all(&mut reader).await.unwrap() });
        let received = reading.await;
        writing.await;
        assert_eq!(received.len(), payload.len());
        assert!(
            received == *payload,
            "seed {seed}: the echo came back different"
        );
        server.cancel();
    });
}

#[test]
fn split_halves_read_and_write_from_two_futures_of_one_task() {
    let seed = seed();
    run_net(move || async move {
        let (addr, server) = echo_server().await;
        let payload = SplitMix64(seed).bytes(BIG_PAYLOAD);
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.split();
        let writing = async {
            writer.write_all(&payload).await.unwrap();
            writer.close().await.unwrap();
        };
        let reading = async { read_all(&mut reader).await.unwrap() };
        let ((), received) = glass::gather!(writing, reading);
        assert!(
            received == payload,
            "seed {seed}: the echo came back different"
        );
        server.cancel();
    });
}

#[test]
fn bind_and_connect_resolve_localhost() {
    run_net(|| async {
        let listener = TcpListener::bind("localhost:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback(), "localhost resolved to {addr}");
        let server = glass::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            echo(stream).await.unwrap()
        });
        let mut client = TcpStream::connect(format!("localhost:{}", addr.port()))
            .await
            .unwrap();
        client.write_all(b"by name").await.unwrap();
        client.close().await.unwrap();
        let mut back = String::new();
        client.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "by name");
        assert_eq!(server.await, 7);

        // UDP resolves too; and an address without a port is an error, not a lookup.
        let socket = UdpSocket::bind("localhost:0").await.unwrap();
        assert!(socket.local_addr().unwrap().ip().is_loopback());
        let error = TcpListener::bind("localhost").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    });
}

// ---------------------------------------------------------------------------------------
// Running out of file descriptors

/// The name of the test that runs itself in a child process under a low fd limit.
const EMFILE_TEST: &str = "a_listener_keeps_serving_after_accept_fails_with_too_many_open_files";

/// The fd limit the child runs under.
const EMFILE_LIMIT: usize = 64;

/// `EMFILE`, "Too many open files", on Linux.
const EMFILE: i32 = 24;

#[test]
fn a_listener_keeps_serving_after_accept_fails_with_too_many_open_files() {
    if env::var_os("GLASS_EMFILE_CHILD").is_some() {
        emfile_child();
        return;
    }
    // Tests may not lower their own limits (no libc, no unsafe): run this test again in a
    // child process started under a low limit.
    let exe = env::current_exe().unwrap();
    let test_args = [EMFILE_TEST, "--exact", "--nocapture", "--test-threads=1"];
    let on_path = |program: &str| {
        env::var_os("PATH")
            .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    };
    let mut command = if on_path("prlimit") {
        let mut command = Command::new("prlimit");
        command.arg(format!("--nofile={EMFILE_LIMIT}:{EMFILE_LIMIT}"));
        command.arg(&exe);
        command
    } else {
        println!("note: no prlimit on PATH; lowering the limit with sh's ulimit");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {EMFILE_LIMIT} && exec \"$0\" \"$@\""))
            .arg(&exe);
        command
    };
    let mut child = command
        .args(test_args)
        .env("GLASS_EMFILE_CHILD", "1")
        .env_remove("GLASS_PAUSED_CLOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("could not start the child test process");
    // Read its output on threads (a full pipe would stop it), and wait, bounded.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    let transcript = format!("--- child stdout:\n{out}\n--- child stderr:\n{err}");
    let status = status
        .unwrap_or_else(|| panic!("the child did not finish within {WATCHDOG:?}\n{transcript}"));
    assert!(status.success(), "the child failed: {status}\n{transcript}");
    assert!(
        out.contains("emfile child: served after running out of descriptors"),
        "the child did not run the test (was it found by name?)\n{transcript}"
    );
    assert!(
        out.contains("accept failed: Too many open files"),
        "the child did not log accept's EMFILE\n{transcript}"
    );
}

/// The child's side: fill the descriptor table with client connections the server has
/// not accepted yet, let the server run into `EMFILE`, then free some and check that
/// the server serves again — the ones that waited in the backlog, and newcomers.
fn emfile_child() {
    if let Some(limit) = open_files_soft_limit() {
        assert_eq!(
            limit, EMFILE_LIMIT as u64,
            "the child runs under the wrong limit"
        );
    }
    let report = run_net(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let start_accepting = Rc::new(glass::Event::new());
        let emfile_errors = Rc::new(Cell::new(0u32));
        let server = glass::spawn({
            let (start_accepting, emfile_errors) =
                (Rc::clone(&start_accepting), Rc::clone(&emfile_errors));
            async move {
                start_accepting.wait().await;
                // What a server does about EMFILE: log it, wait a little, accept again.
                for _ in 0..10_000 {
                    match listener.accept().await {
                        Ok((stream, _)) => drop(glass::spawn(async move {
                            let _ = echo(stream).await;
                        })),
                        Err(error) => {
                            println!("accept failed: {error}");
                            if error.raw_os_error() == Some(EMFILE) {
                                emfile_errors.set(emfile_errors.get() + 1);
                            }
                            sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
                panic!("the server's accept loop ran out of tries");
            }
        });

        // Connect until connecting itself runs out of descriptors. Each connection
        // waits in the listen backlog, holding only the client's descriptor.
        let mut clients = Vec::new();
        loop {
            match TcpStream::connect(addr).await {
                Ok(client) => clients.push(client),
                Err(error) if error.raw_os_error() == Some(EMFILE) => {
                    println!(
                        "connect failed too after {} clients: {error}",
                        clients.len()
                    );
                    break;
                }
                Err(error) => panic!("connect failed: {error}"),
            }
            assert!(clients.len() < EMFILE_LIMIT, "the fd limit does not hold");
        }
        assert!(
            clients.len() >= 12,
            "too few clients fit: {}",
            clients.len()
        );

        // Now accept cannot get a descriptor.
        start_accepting.set();
        for _ in 0..2000 {
            if emfile_errors.get() >= 3 {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert!(emfile_errors.get() >= 3, "accept never failed with EMFILE");

        // Free two thirds of the descriptors: the server catches up with the backlog.
        let kept = clients.len() / 3;
        clients.truncate(kept);
        for (number, client) in clients.iter_mut().enumerate() {
            let message = format!("waited in the backlog #{number}");
            client.write_all(message.as_bytes()).await.unwrap();
            let mut back = vec![0; message.len()];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, message.as_bytes());
        }
        for number in 0..3 {
            let mut newcomer = TcpStream::connect(addr).await.unwrap();
            let message = format!("newcomer #{number}");
            newcomer.write_all(message.as_bytes()).await.unwrap();
            newcomer.close().await.unwrap();
            let mut back = String::new();
            newcomer.read_to_string(&mut back).await.unwrap();
            assert_eq!(back, message);
        }
        server.cancel();
        format!(
            "emfile child: served after running out of descriptors ({} EMFILE errors, {kept} \
             clients from the backlog, 3 newcomers)",
            emfile_errors.get()
        )
    });
    println!("{report}");
}

// ---------------------------------------------------------------------------------------
// UDP

#[test]
fn udp_round_trips_with_send_to_and_with_a_connected_socket() {
    let seed = seed();
    run_net(move || async move {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

        // send_to / recv_from; the receiver waits first, so it goes through the reactor.
        let receiving = glass::spawn({
            let b = Rc::clone(&b);
            async move {
                let mut buf = [0; 64];
                let (n, from) = b.recv_from(&mut buf).await.unwrap();
                b.send_to(&buf[..n], from).await.unwrap();
                (buf[..n].to_vec(), from)
            }
        });
        glass::yield_now().await;
        assert_eq!(a.send_to(b"ping", b_addr).await.unwrap(), 4);
        let (got, from) = receiving.await;
        assert_eq!((&got[..], from), (&b"ping"[..], a_addr));
        let mut buf = [0; 64];
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], b_addr));

        // connect / send / recv; datagrams keep their boundaries.
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_addr);
        assert_eq!(b.peer_addr().unwrap(), a_addr);
        let mut random = SplitMix64(seed);
        for datagram in 0..20 {
            let sent = random.message(0, 1200);
            assert_eq!(a.send(&sent).await.unwrap(), sent.len());
            let mut buf = [0; 2048];
            let n = b.recv(&mut buf).await.unwrap();
            assert!(
                buf[..n] == sent[..],
                "seed {seed}: datagram {datagram} changed"
            );
            b.send(&buf[..n]).await.unwrap();
            let n = a.recv(&mut buf).await.unwrap();
            assert!(
                buf[..n] == sent[..],
                "seed {seed}: datagram {datagram} came back changed"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// Unix sockets

#[test]
fn unix_listener_on_a_temporary_path_round_trips() {
    let path = TempSocketPath::new();
    let socket_path = path.0.clone();
    run_net(move || async move {
        let listener = UnixListener::bind(&socket_path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(socket_path.as_path())
        );
        let server = glass::spawn(async move {
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = String::new();
                stream.read_to_string(&mut request).await.unwrap();
                stream
                    .write_all(request.to_uppercase().as_bytes())
                    .await
                    .unwrap();
            }
        });
        for word in ["hello", "unix"] {
            let mut client = UnixStream::connect(&socket_path).await.unwrap();
            client.write_all(word.as_bytes()).await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut reply = String::new();
            client.read_to_string(&mut reply).await.unwrap();
            assert_eq!(reply, word.to_uppercase());
        }
        server.await;
    });
    assert!(path.0.exists(), "bind made no socket file");
    drop(path);
}

#[test]
fn unix_stream_pair_round_trips_both_ways() {
    run_net(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let answering = glass::spawn(async move {
            let mut question = [0; 5];
            b.read_exact(&mut question).await.unwrap();
            assert_eq!(&question, b"ping?");
            b.write_all(b"pong!").await.unwrap();
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap(); // until `a` closes
            rest
        });
        a.write_all(b"ping?").await.unwrap();
        let mut answer = [0; 5];
        a.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"pong!");
        a.write_all(b"bye").await.unwrap();
        a.close().await.unwrap();
        assert_eq!(answering.await, b"bye");
    });
}

// ---------------------------------------------------------------------------------------
// Async<T>

/// Writes into `io` until the kernel's buffer is full; returns how much it took.
async fn fill(io: &Async<std_unix::UnixStream>) -> usize {
    let chunk = [0xAB; 16 << 10];
    let mut written = 0;
    for _ in 0..100_000 {
        match wait_for(io.write_with(|mut s| s.write(&chunk)), BRIEFLY).await {
            Ok(n) => written += n.unwrap(),
            Err(_) => return written, // it would block: full
        }
    }
    panic!("a socket took {written} bytes without filling up");
}

#[test]
fn async_readable_and_writable_wait_for_the_kernel() {
    run_net(|| async {
        let (a, b) = std_unix::UnixStream::pair().unwrap();
        let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());

        // A fresh socket is writable; with nothing sent, the other end is not readable.
        wait_for(a.writable(), LOOP_LIMIT).await.unwrap().unwrap();
        assert!(
            wait_for(b.readable(), BRIEFLY).await.is_err(),
            "readable with no data"
        );

        a.write_with(|mut s| s.write(b"hello")).await.unwrap();
        wait_for(b.readable(), LOOP_LIMIT).await.unwrap().unwrap();
        let mut buf = [0; 16];
        let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        // Drained: the next read would block, and readable() waits for new data.
        assert!(wait_for(b.read_with(|mut s| s.read(&mut buf)), BRIEFLY)
            .await
            .is_err());
        assert!(
            wait_for(b.readable(), BRIEFLY).await.is_err(),
            "readable when drained"
        );
        b.get_ref().write_all(b"x").unwrap(); // the other way, to check both directions
        a.readable().await.unwrap();

        // Full: writable() waits until the reader makes room.
        let written = fill(&a).await;
        assert!(written > 0);
        assert!(
            wait_for(a.writable(), BRIEFLY).await.is_err(),
            "writable when full"
        );
        let draining = async {
            let mut drained = 0;
            let mut buf = vec![0; 64 << 10];
            while drained < written {
                drained += b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            }
            drained
        };
        let (drained, writable) = glass::gather!(draining, wait_for(a.writable(), LOOP_LIMIT));
        assert_eq!(drained, written);
        writable
            .expect("writable() did not wake after the reader made room")
            .unwrap();

        // into_inner hands the std socket back, still usable.
        let mut a = a.into_inner().unwrap();
        a.write_all(b"bye").unwrap();
        let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"bye");
    });
}

#[test]
fn dropping_a_source_after_its_waiting_task_was_cancelled_is_harmless() {
    run_net(|| async {
        // A task waits on a shared source; it is cancelled, then an event for the source
        // arrives (its stored waker belongs to a dead task), then the source is dropped.
        let (a, mut b) = std_unix::UnixStream::pair().unwrap();
        let a = Rc::new(Async::new(a).unwrap());
        let waiter = glass::spawn({
            let a = Rc::clone(&a);
            async move { a.readable().await }
        });
        for _ in 0..3 {
            glass::yield_now().await;
        }
        assert!(!waiter.is_finished(), "readable() did not wait");
        waiter.cancel();
        let error = waiter.join().await.unwrap_err();
        assert!(error.is_cancelled(), "{error}");
        b.shutdown(Shutdown::Write).unwrap(); // an event: `a` reads end of file
        sleep(Duration::from_millis(2)).await; // the reactor sees the event
        drop(Rc::try_unwrap(a).expect("the cancelled task kept the source"));
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).unwrap(); // the drop closed `a`
        assert!(rest.is_empty());

        // A task owns a stream and waits in read when it is cancelled: the stream is
        // dropped with the task's future, while registered as waiting.
        let (c, d) = UnixStream::pair().unwrap();
        let reader = glass::spawn(async move {
            let mut c = c;
            let mut buf = [0; 8];
            c.read(&mut buf).await
        });
        for _ in 0..3 {
            glass::yield_now().await;
        }
        reader.cancel();
        assert!(reader.join().await.unwrap_err().is_cancelled());
        let mut d = d;
        let mut buf = [0; 8];
        assert_eq!(
            d.read(&mut buf).await.unwrap(),
            0,
            "the cancelled reader's end stayed open"
        );

        // A wait_for that gives up drops the read while it waits; then the stream goes.
        let (mut e, f) = UnixStream::pair().unwrap();
        assert!(wait_for(e.read(&mut buf), BRIEFLY).await.is_err());
        drop(e);
        drop(f);

        // The loop goes on, and new sources (which may reuse the old slots) work.
        for round in 0..10 {
            let (mut g, mut h) = UnixStream::pair().unwrap();
            let echoing = glass::spawn(async move {
                let mut buf = [0; 1];
                h.read_exact(&mut buf).await.unwrap();
                h.write_all(&buf).await.unwrap();
            });
            g.write_all(&[round]).await.unwrap();
            let mut back = [0; 1];
            g.read_exact(&mut back).await.unwrap();
            assert_eq!(back, [round]);
            echoing.await;
        }
    });
}
