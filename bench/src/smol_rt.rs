//! The workloads on smol's pieces, put together the way `smol::LocalExecutor` users do:
//! an `async_executor::LocalExecutor` driven by `async_io::block_on` (which also drives
//! async-io's reactor and timers), `async_io::Timer` for sleeping,
//! `futures_lite::future::yield_now`, `async_lock::Mutex`, `async_channel::bounded`,
//! `blocking::unblock`, and `async_io::Async<std::net::TcpListener / TcpStream>` (what
//! `smol::net` wraps) read and written with `futures_lite`'s `AsyncReadExt` /
//! `AsyncWriteExt`.

use std::future::{pending, ready, Future};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::{Async, Timer};
use futures_lite::future::{yield_now, FutureExt};
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

use crate::workload::{self as w, Report, Workload};

/// Runs `workload` once on a fresh executor and returns its figure.
pub fn run(workload: Workload) -> Report {
    // In an `Rc`, so that a task can hold the executor and spawn more tasks (the echo
    // server spawns one per connection); the other workloads borrow it as before.
    let ex: Rc<LocalExecutor<'static>> = Rc::new(LocalExecutor::new());
    async_io::block_on(ex.run(async {
        match workload {
            Workload::Spawn => spawn(&ex).await.into(),
            Workload::Yield => yield_switch(&ex).await.into(),
            Workload::Timers => timers(&ex).await.into(),
            Workload::TimeoutCancel => timeout_cancel(&ex).await.into(),
            Workload::TimerArmCancel => timer_arm_cancel(&ex).await.into(),
            Workload::Lock => lock(&ex).await.into(),
            Workload::QueueSpsc => queue_spsc(&ex).await.into(),
            Workload::QueueMpmc => queue_mpmc(&ex).await.into(),
            Workload::Blocking => blocking(&ex).await,
            Workload::Echo | Workload::EchoWide => echo(&ex, workload).await.into(),
            Workload::IdleMemory => idle_memory(&ex).await.into(),
        }
    }))
}

/// smol has no `timeout` of its own: race the future against a `Timer`, the inner
/// future first (so a ready future wins, as with tokio's and glass's `timeout`).
///
/// The `Timer` is made here, not inside the racing `async` block, so that the deadline
/// is fixed when `timeout` is called (reading the clock), as tokio and glass fix it;
/// it registers with the reactor only if it is polled.
fn timeout<F: Future>(duration: Duration, future: F) -> impl Future<Output = Option<F::Output>> {
    let timer = Timer::after(duration);
    async { Some(future.await) }.or(async {
        timer.await;
        None
    })
}

async fn spawn(ex: &LocalExecutor<'_>) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::SPAWN_N)
        .map(|i| ex.spawn(async move { i }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await;
    }
    let elapsed = start.elapsed();
    w::check(Workload::Spawn, "sum", sum, w::sum_below(w::SPAWN_N));
    w::ns_per(elapsed, w::SPAWN_N)
}

async fn yield_switch(ex: &LocalExecutor<'_>) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::YIELD_TASKS)
        .map(|_| {
            ex.spawn(async {
                let mut yields = 0;
                for _ in 0..w::YIELD_ROUNDS {
                    yield_now().await;
                    yields += 1;
                }
                yields
            })
        })
        .collect();
    let mut yields = 0;
    for task in tasks {
        yields += task.await;
    }
    let elapsed = start.elapsed();
    let expected = w::YIELD_TASKS * w::YIELD_ROUNDS;
    w::check(Workload::Yield, "yields", yields, expected);
    w::ns_per(elapsed, expected)
}

async fn timers(ex: &LocalExecutor<'_>) -> f64 {
    let durations = w::timer_durations_us();
    let longest = Duration::from_micros(*durations.iter().max().unwrap());
    let start = Instant::now();
    let tasks: Vec<_> = durations
        .iter()
        .map(|&us| {
            ex.spawn(async move {
                let duration = Duration::from_micros(us);
                Timer::after(duration).await;
                let early = start.elapsed() + w::TIMERS_EARLY_TOLERANCE < duration;
                (us, early as u64)
            })
        })
        .collect();
    let (mut slept, mut early) = (0, 0);
    for task in tasks {
        let (us, was_early) = task.await;
        slept += us;
        early += was_early;
    }
    let elapsed = start.elapsed();
    w::check(Workload::Timers, "µs slept", slept, durations.iter().sum());
    w::check(Workload::Timers, "sleeps that ended early", early, 0);
    w::ns_per(elapsed.saturating_sub(longest), w::TIMERS_N)
}

async fn timeout_cancel(ex: &LocalExecutor<'_>) -> f64 {
    let task = ex.spawn(async {
        let start = Instant::now();
        let mut sum = 0;
        for i in 0..w::TIMEOUT_N {
            match timeout(w::LONG, ready(i)).await {
                Some(v) => sum += v,
                None => w::fail("timeout_cancel: a ready future timed out"),
            }
            if (i + 1) % w::YIELD_EVERY == 0 {
                yield_now().await;
            }
        }
        (sum, start.elapsed())
    });
    let (sum, elapsed) = task.await;
    w::check(
        Workload::TimeoutCancel,
        "sum",
        sum,
        w::sum_below(w::TIMEOUT_N),
    );
    w::ns_per(elapsed, w::TIMEOUT_N)
}

async fn timer_arm_cancel(ex: &LocalExecutor<'_>) -> f64 {
    let task = ex.spawn(async {
        let start = Instant::now();
        let mut armed = 0;
        for i in 0..w::ARM_N {
            let sleep = pin!(Timer::after(w::LONG));
            armed += w::poll_once(sleep).await as u64;
            if (i + 1) % w::YIELD_EVERY == 0 {
                yield_now().await;
            }
        }
        (armed, start.elapsed())
    });
    let (armed, elapsed) = task.await;
    w::check(
        Workload::TimerArmCancel,
        "sleeps pending after one poll",
        armed,
        w::ARM_N,
    );
    w::ns_per(elapsed, w::ARM_N)
}

async fn lock(ex: &LocalExecutor<'_>) -> f64 {
    let counter = Arc::new(async_lock::Mutex::new(0u64));
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::LOCK_TASKS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            ex.spawn(async move {
                for i in 0..w::LOCK_ROUNDS {
                    let mut guard = counter.lock().await;
                    *guard += 1;
                    if (i + 1) % w::LOCK_YIELD_EVERY == 0 {
                        yield_now().await; // still holding the lock
                    }
                    drop(guard);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let elapsed = start.elapsed();
    let total = *counter.lock().await;
    let expected = w::LOCK_TASKS * w::LOCK_ROUNDS;
    w::check(Workload::Lock, "counter", total, expected);
    w::ns_per(elapsed, expected)
}

async fn queue_spsc(ex: &LocalExecutor<'_>) -> f64 {
    let (tx, rx) = async_channel::bounded(w::QUEUE_CAPACITY);
    let start = Instant::now();
    let producer = ex.spawn(async move {
        for i in 0..w::SPSC_N {
            if tx.send(i).await.is_err() {
                w::fail("queue_spsc: the receiver is gone");
            }
        }
    });
    let consumer = ex.spawn(async move {
        let mut sum = 0;
        for _ in 0..w::SPSC_N {
            match rx.recv().await {
                Ok(item) => sum += item,
                Err(_) => w::fail("queue_spsc: the channel closed early"),
            }
        }
        sum
    });
    producer.await;
    let sum = consumer.await;
    let elapsed = start.elapsed();
    w::check(Workload::QueueSpsc, "sum", sum, w::sum_below(w::SPSC_N));
    w::ns_per(elapsed, w::SPSC_N)
}

async fn queue_mpmc(ex: &LocalExecutor<'_>) -> f64 {
    let (tx, rx) = async_channel::bounded(w::QUEUE_CAPACITY);
    let start = Instant::now();
    let producers: Vec<_> = (0..w::MPMC_PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            ex.spawn(async move {
                let first = p * w::MPMC_PER_PRODUCER;
                for i in first..first + w::MPMC_PER_PRODUCER {
                    if tx.send(i).await.is_err() {
                        w::fail("queue_mpmc: every receiver is gone");
                    }
                }
            })
        })
        .collect();
    drop(tx); // the channel closes when the last producer's sender is dropped
    let consumers: Vec<_> = (0..w::MPMC_CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            ex.spawn(async move {
                let (mut sum, mut count) = (0, 0);
                // Ends once every sender is gone and the channel is drained.
                while let Ok(item) = rx.recv().await {
                    sum += item;
                    count += 1;
                }
                (sum, count)
            })
        })
        .collect();
    drop(rx);
    for producer in producers {
        producer.await;
    }
    let (mut sum, mut count) = (0, 0);
    for consumer in consumers {
        let (s, c) = consumer.await;
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

async fn blocking(ex: &LocalExecutor<'_>) -> Report {
    let start = Instant::now();
    let tasks: Vec<_> = (0..w::BLOCKING_TASKS)
        .map(|t| {
            ex.spawn(async move {
                let mut sum = 0;
                for k in 0..w::BLOCKING_PER_TASK {
                    let i = t * w::BLOCKING_PER_TASK + k;
                    sum += blocking::unblock(move || i).await;
                }
                sum
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await;
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
async fn echo(ex: &Rc<LocalExecutor<'static>>, workload: Workload) -> f64 {
    let (clients, rounds) = workload.echo_shape().expect("an echo workload");
    let listener = Async::<TcpListener>::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .unwrap_or_else(|e| w::net_error(workload, "bind", e));
    let addr = listener
        .get_ref()
        .local_addr()
        .unwrap_or_else(|e| w::net_error(workload, "local_addr", e));

    // The server: accept exactly `clients` connections, one echo task for each, then
    // wait for them all to end (each ends when its client closes).
    let server = ex.spawn({
        let ex = Rc::clone(ex);
        async move {
            let mut handlers = Vec::with_capacity(clients as usize);
            for _ in 0..clients {
                let (stream, _) = listener
                    .accept()
                    .await
                    .unwrap_or_else(|e| w::net_error(workload, "accept", e));
                stream
                    .get_ref()
                    .set_nodelay(true)
                    .unwrap_or_else(|e| w::net_error(workload, "set_nodelay", e));
                handlers.push(ex.spawn(echo_back(workload, stream)));
            }
            drop(listener);
            let mut echoed = 0;
            for handler in handlers {
                echoed += handler.await;
            }
            echoed
        }
    });

    let mut streams = Vec::with_capacity(clients as usize);
    for _ in 0..clients {
        let stream = Async::<TcpStream>::connect(addr)
            .await
            .unwrap_or_else(|e| w::net_error(workload, "connect", e));
        stream
            .get_ref()
            .set_nodelay(true)
            .unwrap_or_else(|e| w::net_error(workload, "set_nodelay", e));
        streams.push(stream);
    }

    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .zip(streams)
        .map(|(client, mut stream)| {
            ex.spawn(async move {
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
        matched += task.await;
    }
    let echoed = server.await;
    let elapsed = start.elapsed();
    let round_trips = clients * rounds;
    w::check(workload, "echoes that matched", matched, round_trips);
    let bytes = round_trips * w::ECHO_MESSAGE as u64;
    w::check(workload, "bytes the server echoed", echoed, bytes);
    w::per_second(elapsed, round_trips)
}

/// The server's side of one connection: write back whatever arrives, until the end of
/// file; returns the bytes echoed. Dropping `stream` closes it.
async fn echo_back(workload: Workload, mut stream: Async<TcpStream>) -> u64 {
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

async fn idle_memory(ex: &LocalExecutor<'_>) -> f64 {
    let before = w::rss_bytes();
    for _ in 0..w::IDLE_N {
        // Detached: dropping the executor at the end drops the tasks.
        // TODO(glass::sync): wait on an `Event` that is never set, as BENCHMARKS.md says,
        // once glass has one (smol: `event_listener::Event`); until then every runtime's
        // tasks await `pending()`, a future that never completes.
        ex.spawn(async {
            IDLE_STARTED.fetch_add(1, Ordering::Relaxed);
            pending::<()>().await;
        })
        .detach();
    }
    // Let every task run up to its first await, so that each is really parked.
    while IDLE_STARTED.load(Ordering::Relaxed) < w::IDLE_N {
        yield_now().await;
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
