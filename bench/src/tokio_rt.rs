//! The workloads on tokio's current-thread runtime (`Builder::new_current_thread()`),
//! the baseline every ratio is measured against. Tasks are spawned with plain
//! `tokio::spawn`, the path most tokio programs take; sockets are `tokio::net`'s, read
//! and written with `tokio::io`'s `AsyncReadExt` / `AsyncWriteExt`.

use std::future::{pending, ready};
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::workload::{self as w, Report, Workload};

/// Runs `workload` once on a fresh runtime and returns its figure.
pub fn run(workload: Workload) -> Report {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot build tokio's current-thread runtime");
    runtime.block_on(async move {
        match workload {
            Workload::Spawn => spawn().await.into(),
            Workload::Yield => yield_switch().await.into(),
            Workload::Timers => timers().await.into(),
            Workload::TimeoutCancel => timeout_cancel().await.into(),
            Workload::TimerArmCancel => timer_arm_cancel().await.into(),
            Workload::Lock => lock().await.into(),
            Workload::QueueSpsc => queue_spsc().await.into(),
            Workload::QueueMpmc => queue_mpmc().await.into(),
            Workload::Blocking => blocking().await,
            Workload::Echo | Workload::EchoWide => echo(workload).await.into(),
            Workload::IdleMemory => idle_memory().await.into(),
        }
    })
}

/// Awaits a tokio task, failing loudly if it panicked or was cancelled.
async fn join<T>(task: tokio::task::JoinHandle<T>) -> T {
    task.await
        .unwrap_or_else(|e| w::fail(format_args!("a task failed: {e}")))
}

async fn spawn() -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::SPAWN_N)
        .map(|i| tokio::spawn(async move { i }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += join(task).await;
    }
    let elapsed = start.elapsed();
    w::check(Workload::Spawn, "sum", sum, w::sum_below(w::SPAWN_N));
    w::ns_per(elapsed, w::SPAWN_N)
}

async fn yield_switch() -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::YIELD_TASKS)
        .map(|_| {
            tokio::spawn(async {
                let mut yields = 0;
                for _ in 0..w::YIELD_ROUNDS {
                    tokio::task::yield_now().await;
                    yields += 1;
                }
                yields
            })
        })
        .collect();
    let mut yields = 0;
    for task in tasks {
        yields += join(task).await;
    }
    let elapsed = start.elapsed();
    let expected = w::YIELD_TASKS * w::YIELD_ROUNDS;
    w::check(Workload::Yield, "yields", yields, expected);
    w::ns_per(elapsed, expected)
}

async fn timers() -> f64 {
    let durations = w::timer_durations_us();
    let longest = Duration::from_micros(*durations.iter().max().unwrap());
    let start = Instant::now();
    let tasks: Vec<_> = durations
        .iter()
        .map(|&us| {
            tokio::spawn(async move {
                let duration = Duration::from_micros(us);
                tokio::time::sleep(duration).await;
                let early = start.elapsed() + w::TIMERS_EARLY_TOLERANCE < duration;
                (us, early as u64)
            })
        })
        .collect();
    let (mut slept, mut early) = (0, 0);
    for task in tasks {
        let (us, was_early) = join(task).await;
        slept += us;
        early += was_early;
    }
    let elapsed = start.elapsed();
    w::check(Workload::Timers, "µs slept", slept, durations.iter().sum());
    w::check(Workload::Timers, "sleeps that ended early", early, 0);
    w::ns_per(elapsed.saturating_sub(longest), w::TIMERS_N)
}

async fn timeout_cancel() -> f64 {
    let task = tokio::spawn(async {
        let start = Instant::now();
        let mut sum = 0;
        for i in 0..w::TIMEOUT_N {
            match tokio::time::timeout(w::LONG, ready(i)).await {
                Ok(v) => sum += v,
                Err(_) => w::fail("timeout_cancel: a ready future timed out"),
            }
            if (i + 1) % w::YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
        (sum, start.elapsed())
    });
    let (sum, elapsed) = join(task).await;
    w::check(
        Workload::TimeoutCancel,
        "sum",
        sum,
        w::sum_below(w::TIMEOUT_N),
    );
    w::ns_per(elapsed, w::TIMEOUT_N)
}

async fn timer_arm_cancel() -> f64 {
    let task = tokio::spawn(async {
        let start = Instant::now();
        let mut armed = 0;
        for i in 0..w::ARM_N {
            let sleep = pin!(tokio::time::sleep(w::LONG));
            armed += w::poll_once(sleep).await as u64;
            if (i + 1) % w::YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
        (armed, start.elapsed())
    });
    let (armed, elapsed) = join(task).await;
    w::check(
        Workload::TimerArmCancel,
        "sleeps pending after one poll",
        armed,
        w::ARM_N,
    );
    w::ns_per(elapsed, w::ARM_N)
}

async fn lock() -> f64 {
    let counter = Arc::new(tokio::sync::Mutex::new(0u64));
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::LOCK_TASKS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                for i in 0..w::LOCK_ROUNDS {
                    let mut guard = counter.lock().await;
                    *guard += 1;
                    if (i + 1) % w::LOCK_YIELD_EVERY == 0 {
                        tokio::task::yield_now().await; // still holding the lock
                    }
                    drop(guard);
                }
            })
        })
        .collect();
    for task in tasks {
        join(task).await;
    }
    let elapsed = start.elapsed();
    let total = *counter.lock().await;
    let expected = w::LOCK_TASKS * w::LOCK_ROUNDS;
    w::check(Workload::Lock, "counter", total, expected);
    w::ns_per(elapsed, expected)
}

async fn queue_spsc() -> f64 {
    let (tx, mut rx) = tokio::sync::mpsc::channel(w::QUEUE_CAPACITY);
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..w::SPSC_N {
            if tx.send(i).await.is_err() {
                w::fail("queue_spsc: the receiver is gone");
            }
        }
    });
    let consumer = tokio::spawn(async move {
        let mut sum = 0;
        for _ in 0..w::SPSC_N {
            match rx.recv().await {
                Some(item) => sum += item,
                None => w::fail("queue_spsc: the channel closed early"),
            }
        }
        sum
    });
    join(producer).await;
    let sum = join(consumer).await;
    let elapsed = start.elapsed();
    w::check(Workload::QueueSpsc, "sum", sum, w::sum_below(w::SPSC_N));
    w::ns_per(elapsed, w::SPSC_N)
}

/// tokio's bounded channel has one receiver (`mpsc`): the four consumers share it
/// behind a `tokio::sync::Mutex`, each holding the mutex while it waits for its next
/// item — tokio's own answer to "several consumers" without another crate.
async fn queue_mpmc() -> f64 {
    let (tx, rx) = tokio::sync::mpsc::channel(w::QUEUE_CAPACITY);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let start = Instant::now();
    let producers: Vec<_> = (0..w::MPMC_PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let first = p * w::MPMC_PER_PRODUCER;
                for i in first..first + w::MPMC_PER_PRODUCER {
                    if tx.send(i).await.is_err() {
                        w::fail("queue_mpmc: the receiver is gone");
                    }
                }
            })
        })
        .collect();
    drop(tx); // the channel closes when the last producer's sender is dropped
    let consumers: Vec<_> = (0..w::MPMC_CONSUMERS)
        .map(|_| {
            let rx = Arc::clone(&rx);
            tokio::spawn(async move {
                let (mut sum, mut count) = (0, 0);
                // Ends once every sender is gone and the channel is drained.
                while let Some(item) = rx.lock().await.recv().await {
                    sum += item;
                    count += 1;
                }
                (sum, count)
            })
        })
        .collect();
    for producer in producers {
        join(producer).await;
    }
    let (mut sum, mut count) = (0, 0);
    for consumer in consumers {
        let (s, c) = join(consumer).await;
        sum += s;
        count += c;
    }
    let elapsed = start.elapsed();
    w::check(Workload::QueueMpmc, "items", count, w::MPMC_N);
    w::check(Workload::QueueMpmc, "sum", sum, w::sum_below(w::MPMC_N));
    w::ns_per(elapsed, w::MPMC_N)
}

/// How many idle_memory tasks have started (and are now parked for good).
static IDLE_STARTED: AtomicU64 = AtomicU64::new(0);

async fn blocking() -> Report {
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::BLOCKING_TASKS)
        .map(|t| {
            tokio::spawn(async move {
                let mut sum = 0;
                for k in 0..w::BLOCKING_PER_TASK {
                    let i = t * w::BLOCKING_PER_TASK + k;
                    sum += join(tokio::task::spawn_blocking(move || i)).await;
                }
                sum
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += join(task).await;
    }
    let elapsed = start.elapsed();
    let threads = w::threads_alive();
    w::check(Workload::Blocking, "sum", sum, w::sum_below(w::BLOCKING_N));
    Report {
        figure: w::us_per(elapsed, w::BLOCKING_N),
        threads: Some(threads),
    }
}

/// echo and echo_wide: an echo server and `clients` connections to it, all in this
/// runtime. Every client connects first; the clock then runs from spawning the
/// clients' tasks (each does `rounds` round trips) until every socket is closed.
async fn echo(workload: Workload) -> f64 {
    let (clients, rounds) = workload.echo_shape().expect("an echo workload");
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap_or_else(|e| w::net_error(workload, "bind", e));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| w::net_error(workload, "local_addr", e));

    // The server: accept exactly `clients` connections, one echo task for each, then
    // wait for them all to end (each ends when its client closes).
    let server = tokio::spawn(async move {
        let mut handlers = Vec::with_capacity(clients as usize);
        for _ in 0..clients {
            let (stream, _) = listener
                .accept()
                .await
                .unwrap_or_else(|e| w::net_error(workload, "accept", e));
            stream
                .set_nodelay(true)
                .unwrap_or_else(|e| w::net_error(workload, "set_nodelay", e));
            handlers.push(tokio::spawn(echo_back(workload, stream)));
        }
        drop(listener);
        let mut echoed = 0;
        for handler in handlers {
            echoed += join(handler).await;
        }
        echoed
    });

    let mut streams = Vec::with_capacity(clients as usize);
    for _ in 0..clients {
        let stream = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| w::net_error(workload, "connect", e));
        stream
            .set_nodelay(true)
            .unwrap_or_else(|e| w::net_error(workload, "set_nodelay", e));
        streams.push(stream);
    }

    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .zip(streams)
        .map(|(client, mut stream)| {
            tokio::spawn(async move {
                let mut back = [0; w::ECHO_MESSAGE];
                let mut matched = 0;
                for round in 0..rounds {
                    let message = w::echo_message(client, round);
                    stream
                        .write_all(&message)
                        .await
                        .unwrap_or_else(|e| w::net_error(workload, "write", e));
                    stream
                        .read_exact(&mut back)
                        .await
                        .unwrap_or_else(|e| w::net_error(workload, "read", e));
                    matched += (back == message) as u64;
                }
                drop(stream); // closed: the server's echo task reads the end of file
                matched
            })
        })
        .collect();
    let mut matched = 0;
    for task in tasks {
        matched += join(task).await;
    }
    let echoed = join(server).await;
    let elapsed = start.elapsed();
    let round_trips = clients * rounds;
    w::check(workload, "echoes that matched", matched, round_trips);
    let bytes = round_trips * w::ECHO_MESSAGE as u64;
    w::check(workload, "bytes the server echoed", echoed, bytes);
    w::per_second(elapsed, round_trips)
}

/// The server's side of one connection: write back whatever arrives, until the end of
/// file; returns the bytes echoed. Dropping `stream` closes it.
async fn echo_back(workload: Workload, mut stream: TcpStream) -> u64 {
    let mut buf = [0; w::ECHO_BUFFER];
    let mut echoed = 0;
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .unwrap_or_else(|e| w::net_error(workload, "server read", e));
        if n == 0 {
            return echoed;
        }
        stream
            .write_all(&buf[..n])
            .await
            .unwrap_or_else(|e| w::net_error(workload, "server write", e));
        echoed += n as u64;
    }
}

async fn idle_memory() -> f64 {
    let before = w::rss_bytes();
    for _ in 0..w::IDLE_N {
        // Detached: the runtime's shutdown drops the tasks.
        // TODO(glass::sync): wait on an `Event` that is never set, as BENCHMARKS.md says,
        // once glass has one (tokio: `Notify`); until then every runtime's tasks await
        // `pending()`, a future that never completes.
        drop(tokio::spawn(async {
            IDLE_STARTED.fetch_add(1, Ordering::Relaxed);
            pending::<()>().await;
        }));
    }
    // Let every task run up to its first await, so that each is really parked.
    while IDLE_STARTED.load(Ordering::Relaxed) < w::IDLE_N {
        tokio::task::yield_now().await;
    }
    let after = w::rss_bytes();
    w::check(
        Workload::IdleMemory,
        "tasks started",
        IDLE_STARTED.load(Ordering::Relaxed),
        w::IDLE_N,
    );
    after.saturating_sub(before) as f64 / w::IDLE_N as f64
}
