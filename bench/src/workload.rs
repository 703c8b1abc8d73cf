//! The workloads: their names, parameters, units and targets, and the small pieces every
//! runtime's version of them shares (the SplitMix64 durations, `poll_once`, reading RSS,
//! counting threads, failing loudly).
//!
//! Every runtime module (`glass_rt`, `tokio_rt`, `smol_rt`) and `asyncio_bench.py` writes
//! each workload out in full with its own runtime's ordinary API, so that a reader can put
//! the three versions side by side. The parameters live here, once.
//!
//! Adding a workload (blocking, echo, echo_wide, ...):
//! 1. add a variant to [`Workload`] and a row to its tables below (name, unit, target);
//! 2. add its parameters as constants here;
//! 3. add one `async fn` per runtime module and its arm in that module's `run` (the
//!    compiler points at every `match` that misses it);
//! 4. add the same workload to `asyncio_bench.py`.
//!
//! A worker prints one number, the figure; a workload for which
//! [`Workload::reports_threads`] is true prints a second one, the threads alive in the
//! process at the end (`blocking`). [`Report`] carries both.

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
    /// n tasks that wait forever; bytes of RSS per task.
    IdleMemory,
}

impl Workload {
    /// Every workload, in the order the table prints them.
    pub const ALL: [Workload; 10] = [
        Workload::Spawn,
        Workload::Yield,
        Workload::Timers,
        Workload::TimeoutCancel,
        Workload::TimerArmCancel,
        Workload::Lock,
        Workload::QueueSpsc,
        Workload::QueueMpmc,
        Workload::Blocking,
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
            Workload::IdleMemory => "B/task",
        }
    }

    /// The glass / tokio_ct ratio glass aims to stay at or under (lower is better).
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
            Workload::IdleMemory => 0.6,
        }
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
    fn every_workload_has_a_unique_name() {
        for w in Workload::ALL {
            assert_eq!(Workload::from_name(w.name()), Some(w));
        }
    }
}
