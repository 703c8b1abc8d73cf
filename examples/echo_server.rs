//! echo_server — the exercise "a high-concurrency TCP server": an echo server on
//! 127.0.0.1 that serves many clients at once.
//!
//! The lesson: a server that gives every connection a thread of its own runs out of
//! threads long before it runs out of clients. asyncio's answer is
//! `await asyncio.start_server(handle, "127.0.0.1", 7878)`: one loop accepts, and every
//! connection is served by a coroutine of its own, which costs a few hundred bytes and
//! waits on the loop instead of holding a thread. Here it is on glass: the accept loop
//! spawns one task per connection, and each task writes back what it reads until the
//! client hangs up.
//!
//! A server that stays up shrugs off what goes wrong:
//! - `accept` can fail, most often because the process is out of file descriptors
//!   (`EMFILE`, "Too many open files"). The listener is still fine: the accept loop says
//!   so on stderr, sleeps a few milliseconds (while other connections end and free
//!   some), and accepts again.
//! - a client can vanish in the middle of a message. Its task gets an error or an end
//!   of file and ends; no other connection notices.
//! - small writes go out at once (`TCP_NODELAY`) instead of waiting to be batched with
//!   the next ones (Nagle's algorithm can hold a short echo back for tens of
//!   milliseconds).
//!
//! With `--clients N` the program tests itself: it listens on a port the system picks,
//! starts N client tasks in this same process, and each sends five messages of
//! different lengths (one line of text, then 1 byte up to 64 KiB) and checks that every
//! byte comes back. One more client hangs up in the middle of reading its echo, to show
//! that the others do not notice. A client writes and reads at the same time, on the
//! two halves of its stream: one that wrote a whole large message before reading any
//! of its echo could wait forever, once the kernel's buffers in both directions are
//! full and the server, stuck writing, stops reading.
//!
//! The book explains it in chapter 9, "Waiting for the world".
//!
//! Run it with `cargo run --example echo_server`, and talk to it from another terminal
//! with `nc 127.0.0.1 7878` (`--port N` picks another port); Ctrl-C stops it.
//! `cargo run --release --example echo_server -- --clients 10000` tries ten thousand
//! clients at once: each takes two file descriptors, its own and the server's, so see
//! `ulimit -n` first. Lines that start with `time:` are real-time measurements; they
//! change from run to run.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use glass::io::{AsyncReadExt, AsyncWriteExt};
use glass::net::{TcpListener, TcpStream};
use glass::Task;

/// The port the server listens on when run by hand.
const DEFAULT_PORT: u16 = 7878;
/// How long the accept loop waits after `accept` failed.
const ACCEPT_PAUSE: Duration = Duration::from_millis(5);
/// How many messages each test client sends.
const MESSAGES_PER_CLIENT: usize = 5;
/// How many times a test client tries to connect while the process is out of file
/// descriptors, and how long it waits in between.
const CONNECT_TRIES: u32 = 200;
const CONNECT_PAUSE: Duration = Duration::from_millis(10);

// ANCHOR: accept_loop
/// Accepts connections forever; each one is served by a task of its own.
async fn serve(listener: TcpListener, log_connections: bool) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let task = glass::task::Builder::new()
                    .name(format!("echo {peer}"))
                    .spawn(connection(stream, peer, log_connections));
                drop(task); // detached: it ends when its client hangs up
            }
            Err(error) => {
                // The listener still works: wait a little (connections that end free
                // their file descriptors meanwhile), then accept again.
                eprintln!(
                    "accept failed: {error}; accepting again in {} ms",
                    ACCEPT_PAUSE.as_millis()
                );
                glass::sleep(ACCEPT_PAUSE).await;
            }
        }
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: echo
/// Writes back what `stream` receives until the client hangs up; returns how many
/// bytes it echoed.
async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    stream.set_nodelay(true)?;
    let mut buffer = vec![0; 16 * 1024];
    let mut echoed = 0;
    loop {
        let received = stream.read(&mut buffer).await?;
        if received == 0 {
            return Ok(echoed); // end of file: the client is done sending
        }
        stream.write_all(&buffer[..received]).await?;
        echoed += received as u64;
    }
}
// ANCHOR_END: echo

/// One connection's task: echoes, and when run by hand says who came and went. An
/// error ends this connection only; the stream is closed when it is dropped.
async fn connection(stream: TcpStream, peer: SocketAddr, log: bool) {
    if log {
        println!("{peer} connected");
    }
    let result = echo(stream).await;
    if log {
        match result {
            Ok(bytes) => println!("{peer} hung up after {bytes} bytes"),
            Err(error) => println!("{peer} went away: {error}"),
        }
    }
}

/// The bytes test client `client` sends as its message `index`: first a line of text,
/// then 1 byte, up to 1 KiB, up to 16 KiB and up to 64 KiB of bytes that differ from
/// client to client and from byte to byte. The same on every run.
fn message(client: usize, index: usize) -> Vec<u8> {
    if index == 0 {
        return format!("hello from client {client}\n").into_bytes();
    }
    // A tiny xorshift generator, seeded by the client and the message.
    let mut state =
        ((client * MESSAGES_PER_CLIENT + index) as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let longest = match index {
        1 => 1,
        2 => 1024,
        3 => 16 * 1024,
        _ => 64 * 1024,
    };
    let length = 1 + next() % longest;
    (0..length).map(|_| next() as u8).collect()
}

/// Whether `error` says that the process has no file descriptor left (`EMFILE`).
fn out_of_file_descriptors(error: &io::Error) -> bool {
    const EMFILE: i32 = 24; // the same number on Linux and macOS
    error.raw_os_error() == Some(EMFILE)
}

/// Connects to `addr`, trying again for a while when the process is out of file
/// descriptors: a test with many clients can be, until some connections end.
async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let mut tries = 1;
    loop {
        match TcpStream::connect(addr).await {
            Err(error) if out_of_file_descriptors(&error) && tries < CONNECT_TRIES => {
                tries += 1;
                glass::sleep(CONNECT_PAUSE).await;
            }
            result => return result,
        }
    }
}

// ANCHOR: client
/// A test client: sends its messages one at a time and checks that each comes back
/// byte for byte; returns how many bytes it sent.
async fn client(addr: SocketAddr, id: usize) -> io::Result<u64> {
    let stream = connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut reader, mut writer) = stream.split();
    let mut sent_bytes = 0;
    for index in 0..MESSAGES_PER_CLIENT {
        let sent = message(id, index);
        let mut echoed = vec![0; sent.len()];
        // Write and read at the same time (see the top of the file for why).
        glass::try_gather!(writer.write_all(&sent), reader.read_exact(&mut echoed))?;
        if let Some(at) = (0..sent.len()).find(|&at| echoed[at] != sent[at]) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("message {index} came back different from byte {at} on"),
            ));
        }
        sent_bytes += sent.len() as u64;
    }
    // Hang up: shut down our writing half (the server reads an end of file), then wait
    // for the server to close its end, which proves it has nothing more to send.
    writer.close().await?;
    let mut more = Vec::new();
    reader.read_to_end(&mut more).await?;
    if !more.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the server sent {} bytes nobody asked for", more.len()),
        ));
    }
    Ok(sent_bytes)
}
// ANCHOR_END: client

/// A client that vanishes in the middle of a message: it sends 64 KiB, reads the
/// first kilobyte of the echo, and hangs up without reading the rest. Its kernel
/// answers the rest with a reset; the server's task for it gets an error and ends.
async fn vanishing_client(addr: SocketAddr) -> io::Result<()> {
    let stream = connect(addr).await?;
    let (mut reader, mut writer) = stream.split();
    let sent = vec![b'?'; 64 * 1024];
    let mut first = vec![0; 1024];
    glass::try_gather!(writer.write_all(&sent), reader.read_exact(&mut first))?;
    Ok(()) // dropping `stream` closes it, with most of the echo unread
}

/// `--clients N`: the server and N clients in this process. Returns whether every
/// client got back every byte it sent.
async fn self_test(clients: usize) -> io::Result<bool> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("echo server listening on 127.0.0.1, on a port the system picked");
    let server = glass::spawn(serve(listener, false));

    println!(
        "starting {clients} clients, {MESSAGES_PER_CLIENT} messages each, and one that \
         hangs up in the middle of a message"
    );
    let started = std::time::Instant::now();
    let vanishing = glass::spawn(vanishing_client(addr));
    let tasks: Vec<Task<io::Result<u64>>> = (0..clients)
        .map(|id| glass::spawn(client(addr, id)))
        .collect();
    let results = glass::gather_all(tasks).await;
    let elapsed = started.elapsed();

    match vanishing.await {
        Ok(()) => println!("the client that hung up read 1 KiB of its 64 KiB echo, then left"),
        Err(error) => println!("the client that was to hang up failed before: {error}"),
    }
    let mut all_echoed = true;
    let mut bytes = 0;
    for (id, result) in results.into_iter().enumerate() {
        match result {
            Ok(sent) => bytes += sent,
            Err(error) => {
                all_echoed = false;
                println!("client {id} failed: {error}");
            }
        }
    }
    if all_echoed {
        println!(
            "{clients} clients, {} round trips, every byte echoed ({bytes} bytes each way)",
            clients * MESSAGES_PER_CLIENT
        );
    }
    println!(
        "time: {clients} clients served in {:.1} ms",
        elapsed.as_secs_f64() * 1000.0
    );
    server.cancel();
    Ok(all_echoed)
}

/// Run by hand: serve on 127.0.0.1:`port` until Ctrl-C.
async fn serve_forever(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "cannot listen on 127.0.0.1:{port}: {error} (is another echo_server \
                     running? pick another port with --port N)"
                ),
            )
        })?;
    let port = listener.local_addr()?.port();
    println!("echo server listening on 127.0.0.1:{port}");
    println!("talk to it from another terminal with: nc 127.0.0.1 {port}");
    println!("Ctrl-C stops the server");
    serve(listener, true).await;
    Ok(())
}

/// What the command line asks for.
enum Mode {
    Serve { port: u16 },
    SelfTest { clients: usize },
}

fn parse_args() -> Result<Mode, String> {
    let mut mode = Mode::Serve { port: DEFAULT_PORT };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |what: &str| {
            args.next()
                .and_then(|value| value.parse::<usize>().ok())
                .ok_or_else(|| format!("{arg} needs {what}"))
        };
        mode = match arg.as_str() {
            "--port" => Mode::Serve {
                port: u16::try_from(number("a port number, 0 to 65535")?)
                    .map_err(|_| "a port number is at most 65535".to_owned())?,
            },
            "--clients" => Mode::SelfTest {
                clients: number("a number of clients")?,
            },
            _ => return Err(format!("unknown argument {arg}")),
        };
    }
    Ok(mode)
}

fn main() -> ExitCode {
    let mode = match parse_args() {
        Ok(mode) => mode,
        Err(problem) => {
            eprintln!("{problem}; usage: echo_server [--port N | --clients N]");
            return ExitCode::FAILURE;
        }
    };
    let outcome = glass::run(async {
        match mode {
            Mode::Serve { port } => serve_forever(port).await.map(|()| true),
            Mode::SelfTest { clients } => self_test(clients).await,
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("echo_server: {error}");
            ExitCode::FAILURE
        }
    }
}
