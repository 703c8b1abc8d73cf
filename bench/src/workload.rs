//! The workloads: their names, parameters, units and targets, and the small pieces every
//! runtime's version of them shares (the SplitMix64 durations, `poll_once`, reading RSS,
//! counting threads, failing loudly).
//!
//! Every runtime module (`glass_rt`, `tokio_rt`, `smol_rt`) and `asyncio_bench.py` writes
//! each workload out in full with its own runtime's ordinary API, so that a reader can put
//! the three versions side by side. The parameters live here, once.
//!
//! Adding a workload:
//! 1. add a variant to [`Workload`] and a row to its tables below (name, unit, target);
//! 2. add its parameters as constants here;
//! 3. add one `async fn` per runtime module and its arm in that module's `run` (the
//!    compiler points at every `match` that misses it);
//! 4. add the same workload to `asyncio_bench.py`.
//!
//! A worker prints one number, the figure; a workload for which
//! [`Workload::reports_threads`] is true prints a second one, the threads alive in the
//! process at the end (`blocking`). [`Report`] carries both.
//!
//! Most figures are costs (ns per op, lower is better); the echo workloads' figure is a
//! rate (round trips per second, higher is better): [`Workload::higher_is_better`]
//! tells the driver which way to compare. A worker that cannot run its workload on
//! this machine (echo_wide with too few file descriptors allowed) calls [`skip`]: the
//! driver leaves that row out with the reason instead of failing.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

/// One benchmark workload. Each worker process runs exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Spawn n tasks returning their index, keep every handle, await them in order.
    Spawn,
    /// 1 000 tasks each yield 1 000 times.
    Yield,
    /// n tasks each sleep a pseudo-random 0–200 ms.
    Timers,
    /// One task: n × a 1 s timeout around an already-ready future.
    TimeoutCancel,
    /// One task: n × a 1 s sleep polled once (so it registers), then dropped.
    TimerArmCancel,
    /// 1 000 tasks × 1 000 increments of a counter behind one async lock.
    Lock,
    /// One producer, one consumer, n items through a bounded queue.
    QueueSpsc,
    /// 4 producers, 4 consumers, n items through one bounded queue.
    QueueMpmc,
    /// 100 tasks each offload 200 trivial closures to a thread pool, one after another.
    Blocking,
    /// 50 clients × 10 000 round trips of 64 bytes through a TCP echo server.
    Echo,
    /// 10 000 clients × 20 round trips of 64 bytes through a TCP echo server.
    EchoWide,
    /// n tasks that wait forever; bytes of RSS per task.
    IdleMemory,
}

impl Workload {
    /// Every workload, in the order the table prints them.
    pub const ALL: [Workload; 12] = [
        Workload::Spawn,
        Workload::Yield,
        Workload::Timers,
        Workload::TimeoutCancel,
        Workload::TimerArmCancel,
        Workload::Lock,
        Workload::QueueSpsc,
        Workload::QueueMpmc,
        Workload::Blocking,
        Workload::Echo,
        Workload::EchoWide,
        Workload::IdleMemory,
    ];

    /// The name used on the command line, by the workers and by `asyncio_bench.py`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Spawn => "spawn",
            Workload::Yield => "yield",
            Workload::Timers => "timers",
            Workload::TimeoutCancel => "timeout_cancel",
            Workload::TimerArmCancel => "timer_arm_cancel",
            Workload::Lock => "lock",
            Workload::QueueSpsc => "queue_spsc",
            Workload::QueueMpmc => "queue_mpmc",
            Workload::Blocking => "blocking",
            Workload::Echo => "echo",
            Workload::EchoWide => "echo_wide",
            Workload::IdleMemory => "idle_memory",
        }
    }

    /// The unit of the (first) number a worker prints.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::Spawn => "ns/task",
            Workload::Yield => "ns/switch",
            Workload::Timers => "ns/timer",
            Workload::TimeoutCancel => "ns/op",
            Workload::TimerArmCancel => "ns/op",
            Workload::Lock => "ns/lock",
            Workload::QueueSpsc => "ns/item",
            Workload::QueueMpmc => "ns/item",
            Workload::Blocking => "µs/offload",
            Workload::Echo | Workload::EchoWide => "round trips/s",
            Workload::IdleMemory => "B/task",
        }
    }

    /// The glass / tokio_ct ratio glass aims for: at or under it for a cost, at or over
    /// it for a rate (see [`higher_is_better`](Self::higher_is_better)).
    pub fn target(self) -> f64 {
        match self {
            Workload::Spawn => 0.6,
            Workload::Yield => 1.0,
            Workload::Timers => 1.0,
            Workload::TimeoutCancel => 1.0,
            Workload::TimerArmCancel => 0.5,
            Workload::Lock => 1.0,
            Workload::QueueSpsc => 1.0,
            Workload::QueueMpmc => 1.0,
            Workload::Blocking => 1.0,
            Workload::Echo => 1.0,
            Workload::EchoWide => 1.0,
            Workload::IdleMemory => 0.6,
        }
    }

    /// Whether the figure is a rate (more is better) rather than a cost (less is
    /// better); it turns the target from "≤" into "≥".
    pub fn higher_is_better(self) -> bool {
        matches!(self, Workload::Echo | Workload::EchoWide)
    }

    /// The echo workloads' shape: (clients, round trips per client).
    pub fn echo_shape(self) -> Option<(u64, u64)> {
        match self {
            Workload::Echo => Some((ECHO_CLIENTS, ECHO_ROUNDS)),
            Workload::EchoWide => Some((ECHO_WIDE_CLIENTS, ECHO_WIDE_ROUNDS)),
            _ => None,
        }
    }

    /// The open file descriptors the workload needs, when that can exceed a usual
    /// soft limit (1 024): both ends of every connection live in the one process.
    pub fn open_files_needed(self) -> Option<u64> {
        self.echo_shape()
            .map(|(clients, _)| 2 * clients + FD_HEADROOM)
    }

    /// Whether the worker also prints the threads alive at the end, after the figure.
    pub fn reports_threads(self) -> bool {
        self.max_threads().is_some()
    }

    /// The most threads glass may leave alive at the end, part of the target.
    pub fn max_threads(self) -> Option<u64> {
        match self {
            Workload::Blocking => Some(BLOCKING_MAX_THREADS),
            _ => None,
        }
    }

    /// Looks a workload up by its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

// ---- parameters (asyncio_bench.py repeats them) ----

/// spawn: tasks spawned and joined.
pub const SPAWN_N: u64 = 200_000;
/// yield: tasks.
pub const YIELD_TASKS: u64 = 1_000;
/// yield: yields per task.
pub const YIELD_ROUNDS: u64 = 1_000;
/// timers: tasks, each sleeping once.
pub const TIMERS_N: u64 = 100_000;
/// timers: the longest possible sleep, in µs (durations are 0..=this).
pub const TIMERS_MAX_US: u64 = 200_000;
/// timers: no sleep may end more than this before its deadline.
pub const TIMERS_EARLY_TOLERANCE: Duration = Duration::from_millis(1);
/// timeout_cancel: timeouts created and won by the inner future.
pub const TIMEOUT_N: u64 = 1_000_000;
/// timer_arm_cancel: sleeps armed and dropped.
pub const ARM_N: u64 = 1_000_000;
/// timeout_cancel, timer_arm_cancel: the one task yields after this many operations,
/// so that the loop gets its turns as it would in a real program.
pub const YIELD_EVERY: u64 = 1_000;
/// The timeout / sleep used by timeout_cancel and timer_arm_cancel: it never fires.
pub const LONG: Duration = Duration::from_secs(1);
/// lock: tasks sharing the one lock.
pub const LOCK_TASKS: u64 = 1_000;
/// lock: times each task takes the lock (and adds 1 to the counter behind it).
pub const LOCK_ROUNDS: u64 = 1_000;
/// lock: every this many rounds, a task yields while it holds the lock, so that the
/// others pile up behind it and the lock really changes hands.
pub const LOCK_YIELD_EVERY: u64 = 100;
/// queue_spsc: items sent from the one producer to the one consumer.
pub const SPSC_N: u64 = 2_000_000;
/// queue_mpmc: producer tasks.
pub const MPMC_PRODUCERS: u64 = 4;
/// queue_mpmc: items each producer puts; producer `p` puts
/// `p * MPMC_PER_PRODUCER .. (p + 1) * MPMC_PER_PRODUCER`, so all of them together put
/// `0..MPMC_N` once each.
pub const MPMC_PER_PRODUCER: u64 = 500_000;
/// queue_mpmc: items in all.
pub const MPMC_N: u64 = MPMC_PRODUCERS * MPMC_PER_PRODUCER;
/// queue_mpmc: consumer tasks.
pub const MPMC_CONSUMERS: u64 = 4;
/// queue_spsc, queue_mpmc: the queue's bound (items it holds before `put` waits).
pub const QUEUE_CAPACITY: usize = 1_024;
/// blocking: tasks, each offloading its closures one after another (so this many
/// offloads are in flight at once).
pub const BLOCKING_TASKS: u64 = 100;
/// blocking: closures each task offloads, in turn.
pub const BLOCKING_PER_TASK: u64 = 200;
/// blocking: offloads in all.
pub const BLOCKING_N: u64 = BLOCKING_TASKS * BLOCKING_PER_TASK;
/// blocking: the most threads glass may leave alive at the end, counting every entry
/// of /proc/self/task (the main thread too). glass's shared pool stops at
/// `glass::blocking::DEFAULT_MAX_THREADS` (32), well under it.
pub const BLOCKING_MAX_THREADS: u64 = 64;
/// echo: client connections, each its own task, all open at once.
pub const ECHO_CLIENTS: u64 = 50;
/// echo: round trips per client (write a message, read its echo back).
pub const ECHO_ROUNDS: u64 = 10_000;
/// echo_wide: client connections; 2 × this many sockets are open at once.
pub const ECHO_WIDE_CLIENTS: u64 = 10_000;
/// echo_wide: round trips per client.
pub const ECHO_WIDE_ROUNDS: u64 = 20;
/// echo, echo_wide: the bytes of each message.
pub const ECHO_MESSAGE: usize = 64;
/// echo, echo_wide: the server's read buffer (a message always fits).
pub const ECHO_BUFFER: usize = 1_024;
/// echo, echo_wide: file descriptors allowed beyond the connections' (listener,
/// epoll, eventfd, stdio, pipes, the blocking pool's, ...).
pub const FD_HEADROOM: u64 = 64;
/// The exit status of a worker that [skips](skip) its workload.
pub const SKIP_STATUS: i32 = 3;
/// idle_memory: tasks left waiting.
pub const IDLE_N: u64 = 100_000;

/// The sum of `0..n`: what spawn's tasks return, added up.
pub fn sum_below(n: u64) -> u64 {
    n * (n - 1) / 2
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator, easy to write
/// the same way in Python, so that every runtime sleeps the same durations.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The timers workload's sleeps, in µs: `TIMERS_N` draws from SplitMix64(42), each
/// `% (TIMERS_MAX_US + 1)`.
pub fn timer_durations_us() -> Vec<u64> {
    let mut rng = SplitMix64::new(42);
    (0..TIMERS_N)
        .map(|_| rng.next_u64() % (TIMERS_MAX_US + 1))
        .collect()
}

/// The message client `client` sends in round trip `round`: 64 bytes that differ from
/// one client and one round to the next, so that an echo delivered to the wrong
/// connection, or out of order, fails the check.
pub fn echo_message(client: u64, round: u64) -> [u8; ECHO_MESSAGE] {
    let seed = client.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ round.wrapping_mul(0xBF58_476D);
    std::array::from_fn(|i| (seed >> ((i % 8) * 8)) as u8 ^ i as u8)
}

/// Round trips per second.
pub fn per_second(elapsed: Duration, ops: u64) -> f64 {
    ops as f64 / elapsed.as_secs_f64()
}

/// The soft limit on open file descriptors (`Max open files` in /proc/self/limits);
/// `None` when unlimited or unreadable.
pub fn open_files_soft_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Skips `workload` (exit status [`SKIP_STATUS`]) when the soft limit on open files is
/// below what it needs. A worker cannot raise the limit itself (that needs `setrlimit`,
/// which std does not offer): the shell that starts the benchmark must.
pub fn check_open_files(workload: Workload) {
    let (Some(needed), Some(soft)) = (workload.open_files_needed(), open_files_soft_limit()) else {
        return;
    };
    if soft < needed {
        skip(format_args!(
            "{workload} needs {needed} open files (both ends of every connection), the soft \
             limit is {soft}: run `ulimit -n 65536` in this shell first"
        ));
    }
}

/// Prints why the workload cannot run here on stderr and exits with [`SKIP_STATUS`]:
/// the driver leaves its row out with this reason.
pub fn skip(reason: impl fmt::Display) -> ! {
    eprintln!("glass-bench worker: SKIPPED: {reason}");
    std::process::exit(SKIP_STATUS)
}

/// Polls `future` exactly once and reports whether it was still pending.
///
/// timer_arm_cancel uses it to make a sleep register its timer (timers register lazily,
/// on their first poll) without waiting for it; the caller then drops the sleep, which
/// must unregister it.
pub async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> bool {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_pending())).await
}

/// What a worker measured: the figure and, for workloads that
/// [report threads](Workload::reports_threads), the threads alive at the end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    pub figure: f64,
    pub threads: Option<u64>,
}

impl From<f64> for Report {
    fn from(figure: f64) -> Report {
        Report {
            figure,
            threads: None,
        }
    }
}

/// Nanoseconds per operation.
pub fn ns_per(elapsed: Duration, ops: u64) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}

/// Microseconds per operation.
pub fn us_per(elapsed: Duration, ops: u64) -> f64 {
    elapsed.as_nanos() as f64 / 1_000.0 / ops as f64
}

/// The threads alive in this process right now, the main thread included: the entries
/// of /proc/self/task.
pub fn threads_alive() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .unwrap_or_else(|e| fail(format_args!("cannot read /proc/self/task: {e}")))
        .count() as u64
}

/// The resident set size of this process, in bytes (`VmRSS` in /proc/self/status).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| fail(format_args!("cannot read /proc/self/status: {e}")));
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or_else(|| fail("no VmRSS line in /proc/self/status"));
    kib * 1024
}

/// Prints what went wrong on stderr and exits with status 2. A wrong result must never
/// turn into a number in the table.
pub fn fail(message: impl fmt::Display) -> ! {
    eprintln!("glass-bench worker: WRONG RESULT: {message}");
    std::process::exit(2)
}

/// Fails loudly with a socket operation's error: a benchmark whose connections break
/// measures nothing.
pub fn net_error(workload: Workload, what: &str, error: std::io::Error) -> ! {
    fail(format_args!("{workload}: {what} failed: {error}"))
}

/// Fails loudly unless `got == expected`.
pub fn check(workload: Workload, what: &str, got: u64, expected: u64) {
    if got != expected {
        fail(format_args!(
            "{workload}: {what} was {got}, expected {expected}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of SplitMix64 seeded with 0 (from the reference implementation).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn timer_durations_stay_in_range() {
        let durations = timer_durations_us();
        assert_eq!(durations.len() as u64, TIMERS_N);
        assert!(durations.iter().all(|&d| d <= TIMERS_MAX_US));
    }

    #[test]
    fn echo_messages_differ_between_clients_and_rounds() {
        assert_ne!(echo_message(0, 0), echo_message(1, 0));
        assert_ne!(echo_message(0, 0), echo_message(0, 1));
        assert_ne!(echo_message(3, 7), echo_message(7, 3));
        assert_eq!(echo_message(5, 9), echo_message(5, 9));
        // The same bytes as asyncio_bench.py's echo_message(5, 9) and (0, 0).
        let python = [188, 239, 108, 197, 157, 101, 19, 16, 180, 231, 100, 205];
        assert_eq!(echo_message(5, 9)[..12], python);
        assert_eq!(echo_message(0, 0)[..8], [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn only_the_echo_workloads_are_rates() {
        for w in Workload::ALL {
            assert_eq!(w.higher_is_better(), w.echo_shape().is_some());
        }
        assert_eq!(Workload::EchoWide.open_files_needed(), Some(20_064));
    }

    #[test]
    fn every_workload_has_a_unique_name() {
        for w in Workload::ALL {
            assert_eq!(Workload::from_name(w.name()), Some(w));
        }
    }
}
