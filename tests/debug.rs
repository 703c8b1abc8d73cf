//! Seeing inside the loop (layer 9): the trace, the slow-poll warning, `task::dump()`,
//! the deadlock report, the timeline file and the seeded shuffle of ready tasks.
//!
//! The trace and the warnings go to the process's stderr, so the tests that read them
//! run a small fixed program in a child process: the test binary re-runs itself with
//! `GLASS_DEBUG_TEST_CHILD=<scenario>` and just the one test, whose child branch runs
//! the program; the parent reads the child's stderr, strips what varies (how long a
//! poll took), and compares it with the transcript written in the test. A failing test
//! prints both.
//!
//! Timing is on the paused clock, except where the subject is the real clock (the
//! deadlock grace period): those tests sleep a few tens of milliseconds for real. Every
//! test runs under a real-time watchdog, so that a hang fails instead of hanging CI.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::panic::{self, Location};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use futures::channel::oneshot;
use glass::io::AsyncReadExt;
use glass::net::UnixStream;
use glass::sync::Queue;
use glass::time::Instant;
use glass::{sleep, yield_now, Event, EventLoop, Lock, OnDeadlock, Semaphore, Task};

// ---------------------------------------------------------------------------------------
// Helpers

/// A real-time limit far above what any test here needs: only a hang trips it.
const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs `body` on a thread of its own and fails the test if it has not finished after
/// [`WATCHDOG`] of real time. Returns what the body returned, or the message it
/// panicked with.
fn watchdog_result<T: Send + 'static>(
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let name = std::thread::current().name().unwrap_or("test").to_owned();
    let (done, finished) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            // Sent on drop, so that a panicking body is noticed at once too.
            let _done = SignalOnDrop(done);
            body()
        })
        .expect("could not start the test's thread");
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(WATCHDOG) {
        panic!("the test did not finish within {WATCHDOG:?} of real time: the loop hangs");
    }
    thread.join().map_err(|payload| {
        if let Some(message) = payload.downcast_ref::<String>() {
            message.clone()
        } else if let Some(message) = payload.downcast_ref::<&str>() {
            (*message).to_owned()
        } else {
            "<non-string panic payload>".to_owned()
        }
    })
}

/// Tells the watchdog that the body has ended, returning or panicking.
struct SignalOnDrop(mpsc::Sender<()>);

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Runs `body` under the watchdog; re-raises its panic.
fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog_result(body).unwrap_or_else(|message| panic::resume_unwind(Box::new(message)))
}

/// Runs `body` under the watchdog, expects it to panic, and returns the panic message.
fn expect_panic<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> String {
    match watchdog_result(body) {
        Ok(_) => panic!("expected a panic, but the program finished"),
        Err(message) => message,
    }
}

/// Spawns a named task, and returns it with the place it was spawned from (the caller
/// of this function): what the trace and the dump should show.
#[track_caller]
fn spawn_named<F>(name: &str, future: F) -> (Task<F::Output>, &'static Location<'static>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let task = glass::task::Builder::new().name(name).spawn(future);
    (task, Location::caller())
}

/// `glass::spawn`, returning the place it was called from as well.
#[track_caller]
fn spawn_here<F>(future: F) -> (Task<F::Output>, &'static Location<'static>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    (glass::spawn(future), Location::caller())
}

// ---------------------------------------------------------------------------------------
// Child processes

/// The environment variable that tells a re-run test binary which program to run.
const CHILD: &str = "GLASS_DEBUG_TEST_CHILD";

/// In a child process started for `scenario`, runs `program` and returns true; in the
/// parent (the variable is unset) returns false. A child started for another scenario
/// runs nothing (and never starts children of its own).
fn in_child(scenario: &str, program: impl FnOnce()) -> bool {
    match std::env::var(CHILD) {
        Ok(wanted) => {
            if wanted == scenario {
                program();
            }
            true
        }
        Err(_) => false,
    }
}

/// What a child process printed, and how it ended.
struct ChildOutput {
    success: bool,
    stdout: String,
    stderr: String,
}

impl ChildOutput {
    /// The lines the child's program printed on stdout that start with `prefix`
    /// (without the prefix).
    fn said(&self, prefix: &str) -> Vec<String> {
        self.stdout
            .lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(str::to_owned)
            .collect()
    }

    /// The one value the program printed as `"{key} {value}"`.
    fn value(&self, key: &str) -> String {
        let values = self.said(&format!("{key} "));
        assert_eq!(
            values.len(),
            1,
            "no single `{key}` in stdout:\n{}",
            self.stdout
        );
        values[0].clone()
    }

    fn show(&self) -> String {
        format!(
            "--- child stdout ---\n{}--- child stderr ---\n{}--- end ---",
            self.stdout, self.stderr
        )
    }
}

/// Re-runs this test binary with only `test` (which must call [`in_child`] with
/// `scenario`), and returns what it printed. `env` adds variables. Kills the child and
/// fails if it runs longer than [`WATCHDOG`].
fn run_child(test: &str, scenario: &str, env: &[(&str, &str)]) -> ChildOutput {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        // `--include-ignored`: a test marked as a known bug still runs its program.
        .args([test, "--exact", "--nocapture", "--include-ignored"])
        .env(CHILD, scenario)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for variable in [
        "GLASS_TRACE",
        "GLASS_DEBUG",
        "GLASS_TIMELINE",
        "GLASS_SEED",
        "GLASS_PAUSED_CLOCK",
    ] {
        command.env_remove(variable);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("could not start the child process");
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("could not wait for the child") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the child process ({scenario}) did not finish within {WATCHDOG:?}: the loop \
                 hangs;\nstderr so far:\n{}",
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = ChildOutput {
        success: status.success(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    // Guards against a misspelt test name: then the child would run no test at all.
    assert!(
        output.stdout.contains("1 passed") || output.stdout.contains("1 failed"),
        "the child did not run the test `{test}`:\n{}",
        output.show()
    );
    output
}

/// The child's trace lines, with what varies stripped: the time a poll took.
fn trace_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.starts_with("glass: "))
        .map(
            |line| match (line.contains(" polled "), line.rfind(" after ")) {
                (true, Some(at)) => line[..at].to_owned(),
                _ => line.to_owned(),
            },
        )
        .collect()
}

/// Compares a transcript line by line; on a mismatch prints both whole.
fn assert_transcript(seen: &[String], expected: &[String]) {
    if seen != expected {
        panic!(
            "the trace differs from the expected transcript\n--- expected ---\n{}\n--- seen \
             ---\n{}\n",
            expected.join("\n"),
            seen.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------
// Trace

/// Two tasks sleep 1 s and 2 s; the main future awaits both.
fn two_sleepers_program() {
    let mut event_loop = EventLoop::builder().paused_clock(true).trace(true).build();
    event_loop.run_until_complete(async {
        let (first, first_at) = spawn_here(sleep(Duration::from_secs(1)));
        let (second, second_at) = spawn_here(sleep(Duration::from_secs(2)));
        println!("first-spawned-at {first_at}");
        println!("second-spawned-at {second_at}");
        first.await;
        second.await;
    });
}

#[test]
fn the_trace_of_two_sleepers_matches_the_transcript() {
    const TEST: &str = "the_trace_of_two_sleepers_matches_the_transcript";
    if in_child("two_sleepers", two_sleepers_program) {
        return;
    }
    let output = run_child(TEST, "two_sleepers", &[]);
    assert!(output.success, "the program failed:\n{}", output.show());
    let one = output.value("first-spawned-at");
    let two = output.value("second-spawned-at");
    assert!(one.starts_with("tests/debug.rs:"), "{one}");
    let expected: Vec<String> = [
        "glass: turn    0     0.000s  the main future woken by the loop".into(),
        format!("glass: turn    1     0.000s  task 'Task-1' (#1) spawned at {one}"),
        format!("glass: turn    1     0.000s  task 'Task-2' (#2) spawned at {two}"),
        "glass: turn    1     0.000s  polled task 'main' (#0): Pending".into(),
        "glass: turn    2     0.000s  polled task 'Task-1' (#1): Pending".into(),
        "glass: turn    2     0.000s  polled task 'Task-2' (#2): Pending".into(),
        "glass: turn    3     1.000s  every task waits: the clock jumps".into(),
        "glass: turn    3     1.000s  timer fired".into(),
        "glass: turn    3     1.000s  task #1 woken by a timer".into(),
        "glass: turn    3     1.000s  the main future woken by task #1".into(),
        "glass: turn    3     1.000s  polled task 'Task-1' (#1): Ready".into(),
        "glass: turn    4     1.000s  polled task 'main' (#0): Pending".into(),
        "glass: turn    5     2.000s  every task waits: the clock jumps".into(),
        "glass: turn    5     2.000s  timer fired".into(),
        "glass: turn    5     2.000s  task #2 woken by a timer".into(),
        "glass: turn    5     2.000s  the main future woken by task #2".into(),
        "glass: turn    5     2.000s  polled task 'Task-2' (#2): Ready".into(),
        "glass: turn    6     2.000s  polled task 'main' (#0): Ready".into(),
    ]
    .into();
    assert_transcript(&trace_lines(&output.stderr), &expected);
    // Every polled line really had a duration, which the comparison stripped.
    for line in output.stderr.lines().filter(|l| l.contains(" polled ")) {
        assert!(line.contains(" after "), "no duration in {line:?}");
    }
}

/// A task waits on a oneshot channel; a thread named "waker" sends on it.
fn wake_from_thread_program() {
    let mut event_loop = EventLoop::builder()
        .paused_clock(true)
        .trace(true)
        .deadlock_grace(Duration::from_secs(10))
        .build();
    event_loop.run_until_complete(async {
        let (sender, receiver) = oneshot::channel::<u32>();
        let waiter = glass::spawn(receiver);
        let thread = std::thread::Builder::new()
            .name("waker".into())
            .spawn(move || {
                // Late enough that the task waits by then.
                std::thread::sleep(Duration::from_millis(20));
                sender.send(5).unwrap();
            })
            .unwrap();
        assert_eq!(waiter.await, Ok(5));
        thread.join().unwrap();
    });
}

#[test]
fn a_wake_from_another_thread_is_traced_with_the_threads_name() {
    const TEST: &str = "a_wake_from_another_thread_is_traced_with_the_threads_name";
    if in_child("wake_from_thread", wake_from_thread_program) {
        return;
    }
    let output = run_child(TEST, "wake_from_thread", &[]);
    assert!(output.success, "the program failed:\n{}", output.show());
    let lines = trace_lines(&output.stderr);
    let woken = lines
        .iter()
        .position(|l| l == "glass: task #1 woken from thread 'waker'");
    let ready = lines
        .iter()
        .position(|l| l.ends_with("polled task 'Task-1' (#1): Ready"));
    assert!(
        matches!((woken, ready), (Some(w), Some(r)) if w < r),
        "no wake from thread 'waker' before the task's last poll:\n{}",
        output.show()
    );
}

/// The default loop, with only `GLASS_TRACE=1` in the environment.
fn trace_from_env_program() {
    let mut event_loop = EventLoop::builder().paused_clock(true).build();
    event_loop.run_until_complete(async {
        glass::spawn(sleep(Duration::from_millis(5))).await;
    });
}

#[test]
fn glass_trace_in_the_environment_turns_the_trace_on() {
    const TEST: &str = "glass_trace_in_the_environment_turns_the_trace_on";
    if in_child("trace_from_env", trace_from_env_program) {
        return;
    }
    let output = run_child(TEST, "trace_from_env", &[("GLASS_TRACE", "1")]);
    assert!(output.success, "the program failed:\n{}", output.show());
    let lines = trace_lines(&output.stderr);
    assert!(
        lines.contains(&"glass: turn    3     0.005s  timer fired".to_owned()),
        "{}",
        output.show()
    );
    let quiet = run_child(TEST, "trace_from_env", &[]);
    assert!(
        trace_lines(&quiet.stderr).is_empty(),
        "traced without GLASS_TRACE:\n{}",
        quiet.show()
    );
}

// ---------------------------------------------------------------------------------------
// Slow-poll warning

/// One task blocks the loop for 30 ms in one poll, another is quick; the threshold is
/// 20 ms.
fn slow_poll_program() {
    let mut event_loop = EventLoop::builder()
        .paused_clock(true)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(20))
        .build();
    event_loop.run_until_complete(async {
        let (blocker, blocker_at) = spawn_named("blocker", async {
            std::thread::sleep(Duration::from_millis(30));
        });
        let (quick, _) = spawn_named("quick", async {
            yield_now().await;
        });
        println!("blocker-spawned-at {blocker_at}");
        blocker.await;
        quick.await;
    });
}

#[test]
fn a_poll_that_blocks_past_the_threshold_is_warned_about_and_a_quick_one_is_not() {
    const TEST: &str =
        "a_poll_that_blocks_past_the_threshold_is_warned_about_and_a_quick_one_is_not";
    if in_child("slow_poll", slow_poll_program) {
        return;
    }
    let output = run_child(TEST, "slow_poll", &[]);
    assert!(output.success, "the program failed:\n{}", output.show());
    let blocker_at = output.value("blocker-spawned-at");
    assert!(blocker_at.starts_with("tests/debug.rs:"), "{blocker_at}");
    let warnings: Vec<&str> = output
        .stderr
        .lines()
        .filter(|line| line.contains("held the loop"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning expected:\n{}",
        output.show()
    );
    let warning = warnings[0];
    for part in [
        format!("task 'blocker' (#1), spawned at {blocker_at}, held the loop for "),
        "more than 20ms".to_owned(),
        "std::thread::sleep".to_owned(),
        "glass::run_in_executor".to_owned(),
    ] {
        assert!(
            warning.contains(&part),
            "{part:?} missing:\n{}",
            output.show()
        );
    }
    assert!(
        !output.stderr.contains("'quick'") && !output.stderr.contains("'main'"),
        "a quick poll was warned about:\n{}",
        output.show()
    );
}

// ---------------------------------------------------------------------------------------
// task::dump()

/// The dump line of the task `name`.
fn dump_line<'a>(dump: &'a str, name: &str) -> &'a str {
    let needle = format!("task '{name}' (");
    dump.lines()
        .find(|line| line.contains(&needle))
        .unwrap_or_else(|| panic!("no line for task '{name}' in the dump:\n{dump}"))
}

/// The `0x...` address after `prefix` in `line`.
fn address_after<'a>(line: &'a str, prefix: &str) -> &'a str {
    let start = line
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} not in {line:?}"))
        + prefix.len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_hexdigit() && c != 'x')
        .unwrap_or(rest.len());
    let address = &rest[..end];
    assert!(
        address.starts_with("0x") && address.len() > 2,
        "no address after {prefix:?} in {line:?}"
    );
    address
}

#[test]
fn dump_names_what_each_waiting_task_waits_on() {
    watchdog(|| {
        let mut event_loop = EventLoop::builder().paused_clock(true).debug(true).build();
        event_loop.run_until_complete(async {
            let lock = Rc::new(Lock::new(()));
            let release = Rc::new(Event::new());
            let never = Rc::new(Event::new());
            let queue = Rc::new(Queue::<u32>::new(0));
            let (std_reader, _std_writer) = std::os::unix::net::UnixStream::pair().unwrap();
            let reader_fd = std_reader.as_raw_fd();
            let mut reader = UnixStream::from_std(std_reader).unwrap();

            let (sleeper, sleeper_at) = spawn_named("sleeper", sleep(Duration::from_secs(60)));
            let sleeper_id = sleeper.id();
            let (holder, holder_at) = spawn_named("holder", {
                let (lock, release) = (Rc::clone(&lock), Rc::clone(&release));
                async move {
                    let _guard = lock.acquire().await;
                    release.wait().await;
                }
            });
            let (locker, locker_at) = spawn_named("locker", {
                let lock = Rc::clone(&lock);
                async move {
                    let _guard = lock.acquire().await;
                }
            });
            let (event_waiter, event_waiter_at) = spawn_named("event-waiter", {
                let never = Rc::clone(&never);
                async move { never.wait().await }
            });
            let (getter, getter_at) = spawn_named("getter", {
                let queue = Rc::clone(&queue);
                async move { queue.get().await.ok() }
            });
            let (joiner, joiner_at) = spawn_named("joiner", sleeper);
            let (socket, socket_at) = spawn_named("reader", async move {
                let mut byte = [0u8; 1];
                reader.read(&mut byte).await.unwrap()
            });
            for _ in 0..3 {
                yield_now().await;
            }

            let dump = glass::task::dump();
            let line = |name: &str, at: &Location<'_>, rest: &str| {
                let line = dump_line(&dump, name);
                let head = format!("  task '{name}' (#");
                assert!(line.starts_with(&head), "{line:?}\n{dump}");
                let spawned = format!("), spawned at {at}: waiting, waiting on {rest}");
                assert!(
                    line.contains(&spawned),
                    "{spawned:?} not in {line:?}\n{dump}"
                );
                line.to_owned()
            };
            line("sleeper", sleeper_at, "a timer (60s from now)");
            line("holder", holder_at, "Event at 0x");
            let locker_line = line("locker", locker_at, "Lock at 0x");
            assert!(
                locker_line.ends_with(&format!(", held by task {}", holder.id())),
                "{locker_line:?}\n{dump}"
            );
            let never_line = line("event-waiter", event_waiter_at, "Event at 0x");
            assert_ne!(
                address_after(&never_line, "Event at "),
                address_after(dump_line(&dump, "holder"), "Event at "),
                "two events, one address:\n{dump}"
            );
            line("getter", getter_at, "Queue (get) at 0x");
            line("joiner", joiner_at, &format!("task {sleeper_id} to finish"));
            line(
                "reader",
                socket_at,
                &format!("fd {reader_fd} to be readable"),
            );
            assert!(dump.contains("  the main future\n"), "{dump}");
            assert!(dump.contains("(7 live tasks)"), "{dump}");
            drop((holder, locker, event_waiter, getter, joiner, socket));
        });
    });
}

#[test]
fn dump_without_watching_lists_the_tasks_by_id() {
    watchdog(|| {
        let mut event_loop = EventLoop::builder()
            .paused_clock(true)
            .debug(false)
            .trace(false)
            .build();
        event_loop.run_until_complete(async {
            let event = Rc::new(Event::new());
            let sleeper = glass::spawn(sleep(Duration::from_secs(60)));
            let waiter = glass::spawn({
                let event = Rc::clone(&event);
                async move { event.wait().await }
            });
            yield_now().await;
            let dump = glass::task::dump();
            for id in [sleeper.id(), waiter.id()] {
                let line = format!("  task {id}: waiting\n");
                assert!(dump.contains(&line), "{line:?} not in:\n{dump}");
            }
            assert!(!dump.contains("spawned at"), "{dump}");
            assert!(dump.contains("(2 live tasks)"), "{dump}");
        });
    });
}

#[test]
fn dump_outside_a_loop_says_so() {
    assert_eq!(
        glass::task::dump(),
        "no glass event loop is running on this thread\n"
    );
}

// ---------------------------------------------------------------------------------------
// Deadlocks

/// Two tasks each hold one Lock and wait for the other's; the main future awaits both.
async fn two_locks_program() {
    let first = Rc::new(Lock::new(()));
    let second = Rc::new(Lock::new(()));
    let cross = |name: &'static str, mine: &Rc<Lock<()>>, theirs: &Rc<Lock<()>>| {
        let (mine, theirs) = (Rc::clone(mine), Rc::clone(theirs));
        glass::task::Builder::new().name(name).spawn(async move {
            let _mine = mine.acquire().await;
            yield_now().await; // let the other task take its lock
            let _theirs = theirs.acquire().await;
        })
    };
    let a = cross("a", &first, &second);
    let b = cross("b", &second, &first);
    a.await;
    b.await;
}

/// Checks the report of [`two_locks_program`]: both tasks, both locks, who holds them.
fn check_two_locks_report(report: &str) {
    assert!(
        report.contains("glass: all tasks are waiting and nothing in the loop can wake them"),
        "{report}"
    );
    assert!(report.contains("Who waits on what:"), "{report}");
    let a = dump_line(report, "a");
    let b = dump_line(report, "b");
    assert!(
        a.starts_with("  task 'a' (#1), spawned at tests/debug.rs:"),
        "{a:?}\n{report}"
    );
    assert!(a.contains(": waiting, waiting on Lock at 0x"), "{report}");
    assert!(a.ends_with(", held by task #2"), "{a:?}\n{report}");
    assert!(b.contains(": waiting, waiting on Lock at 0x"), "{report}");
    assert!(b.ends_with(", held by task #1"), "{b:?}\n{report}");
    assert_ne!(
        address_after(a, "Lock at "),
        address_after(b, "Lock at "),
        "the two locks have one address:\n{report}"
    );
    assert!(report.contains("(2 live tasks)"), "{report}");
}

#[test]
fn two_tasks_waiting_for_each_others_lock_panic_on_the_paused_clock() {
    let report = expect_panic(|| {
        EventLoop::builder()
            .paused_clock(true)
            .debug(true)
            .deadlock_grace(Duration::from_millis(10))
            .build()
            .run_until_complete(two_locks_program());
    });
    check_two_locks_report(&report);
}

#[test]
fn two_tasks_waiting_for_each_others_lock_panic_on_the_real_clock_when_asked() {
    let report = expect_panic(|| {
        EventLoop::builder()
            .paused_clock(false)
            .debug(true)
            .on_deadlock(OnDeadlock::Panic)
            .deadlock_grace(Duration::from_millis(50))
            .build()
            .run_until_complete(two_locks_program());
    });
    check_two_locks_report(&report);
}

/// A task waits on an Event that nobody holds a way to set.
async fn lonely_event_program() {
    let event = Rc::new(Event::new());
    let (waiter, _) = spawn_named("lonely", {
        let event = Rc::clone(&event);
        async move { event.wait().await }
    });
    drop(event);
    waiter.await;
}

fn check_lonely_event_report(report: &str) {
    assert!(
        report.starts_with("glass: all tasks are waiting and nothing in the loop can wake them"),
        "{report}"
    );
    let line = dump_line(report, "lonely");
    assert!(
        line.starts_with("  task 'lonely' (#1), spawned at tests/debug.rs:"),
        "{report}"
    );
    assert!(
        line.contains(": waiting, waiting on Event at 0x"),
        "{report}"
    );
    assert!(
        report.contains("  the main future, waiting on task #1 to finish"),
        "{report}"
    );
}

#[test]
fn a_task_waiting_on_an_event_nobody_can_set_panics_on_the_paused_clock() {
    let report = expect_panic(|| {
        EventLoop::builder()
            .paused_clock(true)
            .debug(true)
            .deadlock_grace(Duration::from_millis(10))
            .build()
            .run_until_complete(lonely_event_program());
    });
    check_lonely_event_report(&report);
}

#[test]
fn a_task_waiting_on_an_event_nobody_can_set_panics_on_the_real_clock_when_asked() {
    let report = expect_panic(|| {
        EventLoop::builder()
            .paused_clock(false)
            .debug(true)
            .on_deadlock(OnDeadlock::Panic)
            .deadlock_grace(Duration::from_millis(50))
            .build()
            .run_until_complete(lonely_event_program());
    });
    check_lonely_event_report(&report);
}

#[test]
fn the_report_without_debug_lists_tasks_by_id_and_says_how_to_see_more() {
    let report = expect_panic(|| {
        EventLoop::builder()
            .paused_clock(true)
            .debug(false)
            .trace(false)
            .deadlock_grace(Duration::from_millis(10))
            .build()
            .run_until_complete(lonely_event_program());
    });
    assert!(report.contains("  task #1: waiting\n"), "{report}");
    assert!(report.contains("GLASS_DEBUG=1"), "{report}");
}

/// A real-clock loop that panics on a deadlock after 50 ms.
fn strict_real_loop() -> EventLoop {
    EventLoop::builder()
        .paused_clock(false)
        .debug(true)
        .on_deadlock(OnDeadlock::Panic)
        .deadlock_grace(Duration::from_millis(50))
        .build()
}

#[test]
fn a_task_sleeping_past_the_grace_period_is_not_a_deadlock() {
    watchdog(|| {
        strict_real_loop().run_until_complete(async {
            let sleeper = glass::spawn(sleep(Duration::from_millis(200)));
            sleeper.await;
        });
    });
}

#[test]
fn a_task_reading_a_socket_that_a_thread_writes_to_later_is_not_a_deadlock() {
    watchdog(|| {
        strict_real_loop().run_until_complete(async {
            let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut ours = UnixStream::from_std(ours).unwrap();
            // A plain thread, not a timer: only the registered socket keeps the loop
            // from reporting.
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                theirs.write_all(b"x").unwrap();
            });
            let reader = glass::spawn(async move {
                let mut byte = [0u8; 1];
                ours.read_exact(&mut byte).await.unwrap();
                byte[0]
            });
            assert_eq!(reader.await, b'x');
            writer.join().unwrap();
        });
    });
}

#[test]
fn a_task_awaiting_a_long_blocking_job_is_not_a_deadlock() {
    watchdog(|| {
        strict_real_loop().run_until_complete(async {
            let job = glass::run_in_executor(|| {
                std::thread::sleep(Duration::from_millis(150));
                9
            });
            assert_eq!(job.await, 9);
        });
    });
}

#[test]
fn a_thread_that_wakes_the_task_within_the_grace_period_prevents_the_report() {
    watchdog(|| {
        strict_real_loop().run_until_complete(async {
            let (sender, receiver) = oneshot::channel::<u32>();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                sender.send(3).unwrap();
            });
            let waiter = glass::spawn(receiver);
            assert_eq!(waiter.await, Ok(3));
            thread.join().unwrap();
        });
    });
}

/// Report mode: a task waits on a oneshot channel that a plain thread sends on long
/// after the grace period.
fn report_then_wake_program() {
    let mut event_loop = EventLoop::builder()
        .paused_clock(false)
        .debug(true)
        .on_deadlock(OnDeadlock::Report)
        .deadlock_grace(Duration::from_millis(50))
        .build();
    let answer = event_loop.run_until_complete(async {
        let (sender, receiver) = oneshot::channel::<u32>();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            sender.send(7).unwrap();
        });
        let (waiter, _) = spawn_named("patient", receiver);
        let answer = waiter.await.unwrap();
        thread.join().unwrap();
        answer
    });
    println!("finished with {answer}");
}

#[test]
fn the_report_is_printed_once_and_a_thread_can_still_wake_the_task() {
    const TEST: &str = "the_report_is_printed_once_and_a_thread_can_still_wake_the_task";
    if in_child("report_then_wake", report_then_wake_program) {
        return;
    }
    let output = run_child(TEST, "report_then_wake", &[]);
    assert!(output.success, "the program failed:\n{}", output.show());
    assert_eq!(output.value("finished with"), "7", "{}", output.show());
    let reports = output.stderr.matches("all tasks are waiting").count();
    assert_eq!(reports, 1, "one report expected:\n{}", output.show());
    assert!(
        output
            .stderr
            .contains("task 'patient' (#1), spawned at tests/debug.rs:"),
        "{}",
        output.show()
    );
    assert!(
        output.stderr.contains("glass keeps waiting"),
        "{}",
        output.show()
    );
}

/// Report mode: the task gets stuck twice, a plain thread waking it each time.
fn two_deadlocks_program() {
    let mut event_loop = EventLoop::builder()
        .paused_clock(false)
        .debug(true)
        .on_deadlock(OnDeadlock::Report)
        .deadlock_grace(Duration::from_millis(30))
        .build();
    event_loop.run_until_complete(async {
        for round in 0..2 {
            let (sender, receiver) = oneshot::channel::<u32>();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                sender.send(round).unwrap();
            });
            assert_eq!(glass::spawn(receiver).await, Ok(round));
            thread.join().unwrap();
            println!("round {round} done");
        }
    });
}

#[test]
fn a_second_deadlock_after_the_first_was_resolved_is_reported_again() {
    const TEST: &str = "a_second_deadlock_after_the_first_was_resolved_is_reported_again";
    if in_child("two_deadlocks", two_deadlocks_program) {
        return;
    }
    let output = run_child(TEST, "two_deadlocks", &[]);
    assert!(output.success, "the program failed:\n{}", output.show());
    let reports = output.stderr.matches("all tasks are waiting").count();
    assert_eq!(reports, 2, "one report per deadlock:\n{}", output.show());
}

// ---------------------------------------------------------------------------------------
// Timeline

/// A minimal JSON validator: true when `text` is one JSON value and nothing else.
fn is_valid_json(text: &str) -> bool {
    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
    }
    impl Parser<'_> {
        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.at).copied()
        }
        fn space(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
                self.at += 1;
            }
        }
        fn eat(&mut self, byte: u8) -> bool {
            self.space();
            let found = self.peek() == Some(byte);
            self.at += usize::from(found);
            found
        }
        fn literal(&mut self, word: &[u8]) -> bool {
            let found = self.bytes[self.at..].starts_with(word);
            self.at += if found { word.len() } else { 0 };
            found
        }
        fn string(&mut self) -> bool {
            if !self.eat(b'"') {
                return false;
            }
            while let Some(byte) = self.peek() {
                self.at += 1;
                match byte {
                    b'"' => return true,
                    b'\\' => self.at += 1,
                    0..=0x1f => return false,
                    _ => {}
                }
            }
            false
        }
        fn number(&mut self) -> bool {
            let start = self.at;
            self.at += usize::from(self.peek() == Some(b'-'));
            while matches!(
                self.peek(),
                Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            ) {
                self.at += 1;
            }
            std::str::from_utf8(&self.bytes[start..self.at]).is_ok_and(|n| n.parse::<f64>().is_ok())
        }
        fn value(&mut self) -> bool {
            self.space();
            match self.peek() {
                Some(b'{') => self.sequence(b'}', |p| p.string() && p.eat(b':') && p.value()),
                Some(b'[') => self.sequence(b']', Parser::value),
                Some(b'"') => self.string(),
                Some(b't') => self.literal(b"true"),
                Some(b'f') => self.literal(b"false"),
                Some(b'n') => self.literal(b"null"),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => false,
            }
        }
        fn sequence(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> bool) -> bool {
            self.at += 1; // the opening bracket
            if self.eat(close) {
                return true;
            }
            loop {
                if !item(self) {
                    return false;
                }
                if self.eat(close) {
                    return true;
                }
                if !self.eat(b',') {
                    return false;
                }
            }
        }
    }
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    let ok = parser.value();
    parser.space();
    ok && parser.at == text.len()
}

#[test]
fn the_json_validator_tells_good_from_bad() {
    for good in [r#"{"a":[1,-2.5e3,"x\"y",true,null,{}]}"#, "[]", " {} "] {
        assert!(is_valid_json(good), "{good}");
    }
    for bad in [
        r#"{"a":1"#,
        r#"{"a" 1}"#,
        "[1,]",
        r#"{"a":"b}"#,
        "{} {}",
        "[tru]",
    ] {
        assert!(!is_valid_json(bad), "{bad}");
    }
}

#[test]
fn the_timeline_file_is_json_with_a_slice_per_poll_a_name_per_task_and_timer_marks() {
    let path = std::env::temp_dir().join(format!(
        "glass-debug-test-timeline-{}.json",
        std::process::id()
    ));
    let written = path.clone();
    watchdog(move || {
        let mut event_loop = EventLoop::builder()
            .paused_clock(true)
            .timeline(&written)
            .build();
        event_loop.run_until_complete(async {
            let (a, _) = spawn_named("alpha", sleep(Duration::from_secs(1)));
            let (b, _) = spawn_named("beta \"quoted\"", sleep(Duration::from_secs(2)));
            a.await;
            b.await;
        });
        // The file is written when the loop is dropped.
        assert!(
            !written.exists(),
            "the timeline was written before the loop closed"
        );
    });
    let text = std::fs::read_to_string(&path).expect("the timeline file");
    let _ = std::fs::remove_file(&path);
    assert!(is_valid_json(&text), "not valid JSON:\n{text}");
    let body = text
        .strip_prefix("{\"traceEvents\":[")
        .and_then(|rest| rest.trim_end().strip_suffix("]}"))
        .unwrap_or_else(|| panic!("not a traceEvents object:\n{text}"));
    let events: Vec<&str> = body
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.strip_suffix(',').unwrap_or(line))
        .collect();
    for event in &events {
        assert!(
            event.starts_with('{') && event.ends_with('}') && is_valid_json(event),
            "not one event per line: {event:?}\n{text}"
        );
    }
    let count = |parts: &[&str]| {
        events
            .iter()
            .filter(|event| parts.iter().all(|part| event.contains(part)))
            .count()
    };
    // Each task is polled twice (Pending, then Ready), the main future three times.
    for (tid, polls) in [(1, 2), (2, 2), (0, 3)] {
        let tid = format!("\"tid\":{tid},");
        assert_eq!(count(&[r#""ph":"X""#, &tid]), polls, "{tid}\n{text}");
    }
    assert_eq!(count(&[r#""ph":"X""#, r#""result":"Ready""#]), 3, "{text}");
    assert_eq!(
        count(&[
            r#""ph":"M""#,
            r#""thread_name""#,
            r#""tid":1,"#,
            "alpha (#1)"
        ]),
        1,
        "{text}"
    );
    assert_eq!(
        count(&[r#""ph":"M""#, r#""thread_name""#, r#""tid":2,"#, "beta"]),
        1,
        "{text}"
    );
    assert_eq!(count(&[r#""ph":"i""#, r#""name":"timer""#]), 2, "{text}");
}

// ---------------------------------------------------------------------------------------
// Seeded order

/// The order in which eight tasks, all ready in the same turn, run their first poll.
fn ready_order(seed: Option<u64>) -> Vec<usize> {
    let mut builder = EventLoop::builder().paused_clock(true);
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    builder.build().run_until_complete(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<Task<()>> = (0..8)
            .map(|n| {
                let order = Rc::clone(&order);
                glass::spawn(async move { order.borrow_mut().push(n) })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        order.take()
    })
}

#[test]
fn without_a_seed_ready_tasks_run_in_fifo_order() {
    let order = watchdog(|| ready_order(None));
    assert_eq!(order, (0..8).collect::<Vec<_>>());
}

#[test]
fn a_seed_shuffles_ready_tasks_the_same_way_every_time() {
    let orders = watchdog(|| {
        (1..=6u64)
            .map(|seed| (ready_order(Some(seed)), ready_order(Some(seed))))
            .collect::<Vec<_>>()
    });
    for (seed, (first, again)) in (1..).zip(&orders) {
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>(), "seed {seed}: {first:?}");
        assert_eq!(first, again, "seed {seed} gave two orders");
    }
    let mut distinct: Vec<&Vec<usize>> = orders.iter().map(|(first, _)| first).collect();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() >= 2,
        "every seed gave the same order: {orders:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Sync primitives under seeds

const SEEDS: std::ops::RangeInclusive<u64> = 1..=8;

fn seeded_loop(seed: u64) -> EventLoop {
    EventLoop::builder().paused_clock(true).seed(seed).build()
}

#[test]
fn under_every_seed_a_lock_is_handed_to_waiters_in_the_order_they_queued() {
    watchdog(|| {
        for seed in SEEDS {
            let (queued, acquired) = seeded_loop(seed).run_until_complete(async {
                let lock = Rc::new(Lock::new(0usize));
                let queued = Rc::new(RefCell::new(Vec::new()));
                let acquired = Rc::new(RefCell::new(Vec::new()));
                let inside = Rc::new(Cell::new(false));
                let guard = lock.acquire().await;
                let tasks: Vec<Task<()>> = (0..6)
                    .map(|n| {
                        let (lock, queued, acquired, inside) = (
                            Rc::clone(&lock),
                            Rc::clone(&queued),
                            Rc::clone(&acquired),
                            Rc::clone(&inside),
                        );
                        glass::spawn(async move {
                            queued.borrow_mut().push(n);
                            let mut count = lock.acquire().await;
                            assert!(!inside.replace(true), "two holders at once");
                            acquired.borrow_mut().push(n);
                            *count += 1;
                            yield_now().await;
                            inside.set(false);
                        })
                    })
                    .collect();
                sleep(Duration::from_millis(1)).await; // every task queues
                drop(guard);
                for task in tasks {
                    task.await;
                }
                assert_eq!(*lock.acquire().await, 6, "seed {seed}");
                (queued.take(), acquired.take())
            });
            assert_eq!(queued.len(), 6, "seed {seed}");
            assert_eq!(acquired, queued, "seed {seed}: not handed in queue order");
        }
    });
}

/// Six getters wait on an empty queue, then six items are put at once. Returns the
/// order in which the getters queued, and which item each getter got.
fn waiting_getters(seed: u64) -> (Vec<usize>, Vec<(usize, usize)>) {
    seeded_loop(seed).run_until_complete(async {
        let queue = Rc::new(Queue::<usize>::new(0));
        let queued = Rc::new(RefCell::new(Vec::new()));
        let got = Rc::new(RefCell::new(Vec::new()));
        let getters: Vec<Task<()>> = (0..6)
            .map(|n| {
                let (queue, queued, got) = (Rc::clone(&queue), Rc::clone(&queued), Rc::clone(&got));
                glass::spawn(async move {
                    queued.borrow_mut().push(n);
                    let item = queue.get().await.unwrap();
                    got.borrow_mut().push((n, item));
                })
            })
            .collect();
        sleep(Duration::from_millis(1)).await; // every getter waits
        for item in 0..6 {
            queue.put_nowait(item).unwrap();
        }
        // A newcomer cannot take an item promised to a waiting getter.
        assert!(
            queue.get_nowait().is_err(),
            "seed {seed}: a newcomer barged in"
        );
        for getter in getters {
            getter.await;
        }
        assert!(queue.empty(), "seed {seed}");
        (queued.take(), got.take())
    })
}

#[test]
fn under_every_seed_each_waiting_getter_gets_exactly_one_item_and_none_is_lost() {
    watchdog(|| {
        for seed in SEEDS {
            let (queued, mut got) = waiting_getters(seed);
            assert_eq!(queued.len(), 6, "seed {seed}");
            got.sort_unstable();
            let getters: Vec<usize> = got.iter().map(|(getter, _)| *getter).collect();
            let mut items: Vec<usize> = got.iter().map(|(_, item)| *item).collect();
            items.sort_unstable();
            assert_eq!(getters, (0..6).collect::<Vec<_>>(), "seed {seed}: {got:?}");
            assert_eq!(items, (0..6).collect::<Vec<_>>(), "seed {seed}: {got:?}");
        }
    });
}

#[test]
fn under_every_seed_blocked_putters_move_their_items_in_in_the_order_they_queued() {
    watchdog(|| {
        for seed in SEEDS {
            let (queued, taken) = seeded_loop(seed).run_until_complete(async {
                let queue = Rc::new(Queue::<usize>::new(1));
                queue.put_nowait(100).unwrap(); // full: every putter below waits
                let queued = Rc::new(RefCell::new(Vec::new()));
                let putters: Vec<Task<()>> = (0..6)
                    .map(|n| {
                        let (queue, queued) = (Rc::clone(&queue), Rc::clone(&queued));
                        glass::spawn(async move {
                            queued.borrow_mut().push(n);
                            queue.put(n).await.unwrap();
                        })
                    })
                    .collect();
                sleep(Duration::from_millis(1)).await; // every putter waits
                let mut taken = Vec::new();
                for _ in 0..7 {
                    taken.push(queue.get().await.unwrap());
                }
                for putter in putters {
                    putter.await;
                }
                (queued.take(), taken)
            });
            let mut expected = vec![100];
            expected.extend(&queued);
            assert_eq!(taken, expected, "seed {seed}: putters queued as {queued:?}");
        }
    });
}

#[test]
fn under_every_seed_a_bounded_queue_loses_and_duplicates_nothing() {
    watchdog(|| {
        for seed in SEEDS {
            let mut received = seeded_loop(seed).run_until_complete(async {
                let queue = Rc::new(Queue::<u32>::new(2));
                let received = Rc::new(RefCell::new(Vec::new()));
                let producers: Vec<Task<()>> = (0..3u32)
                    .map(|p| {
                        let queue = Rc::clone(&queue);
                        glass::spawn(async move {
                            for j in 0..10 {
                                queue.put(p * 100 + j).await.unwrap();
                                if j % 3 == 0 {
                                    yield_now().await;
                                }
                            }
                        })
                    })
                    .collect();
                let consumers: Vec<Task<()>> = (0..2)
                    .map(|_| {
                        let (queue, received) = (Rc::clone(&queue), Rc::clone(&received));
                        glass::spawn(async move {
                            while let Ok(item) = queue.get().await {
                                received.borrow_mut().push(item);
                                sleep(Duration::from_millis(1)).await;
                            }
                        })
                    })
                    .collect();
                for producer in producers {
                    producer.await;
                }
                queue.shutdown(false);
                for consumer in consumers {
                    consumer.await;
                }
                received.take()
            });
            received.sort_unstable();
            let expected: Vec<u32> = (0..3)
                .flat_map(|p| (0..10).map(move |j| p * 100 + j))
                .collect();
            assert_eq!(received, expected, "seed {seed}");
        }
    });
}

#[test]
fn under_every_seed_a_semaphore_admits_two_at_a_time_in_the_order_they_asked() {
    watchdog(|| {
        for seed in SEEDS {
            let (asked, admitted_at) = seeded_loop(seed).run_until_complete(async {
                let semaphore = Rc::new(Semaphore::new(2));
                let start = Instant::now();
                let asked = Rc::new(RefCell::new(Vec::new()));
                let admitted_at = Rc::new(RefCell::new(vec![Duration::MAX; 6]));
                let inside = Rc::new(Cell::new(0));
                let tasks: Vec<Task<()>> = (0..6)
                    .map(|n| {
                        let (semaphore, asked, admitted_at, inside) = (
                            Rc::clone(&semaphore),
                            Rc::clone(&asked),
                            Rc::clone(&admitted_at),
                            Rc::clone(&inside),
                        );
                        glass::spawn(async move {
                            asked.borrow_mut().push(n);
                            let _permit = semaphore.acquire().await;
                            admitted_at.borrow_mut()[n] = start.elapsed();
                            inside.set(inside.get() + 1);
                            assert!(inside.get() <= 2, "more than two inside");
                            sleep(Duration::from_millis(10)).await;
                            inside.set(inside.get() - 1);
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
                assert_eq!(semaphore.available_permits(), 2, "seed {seed}");
                (asked.take(), admitted_at.take())
            });
            // The k-th to ask gets in with the (k / 2)-th pair: at k / 2 × 10 ms.
            for (k, n) in asked.iter().enumerate() {
                let expected = Duration::from_millis(10 * (k as u64 / 2));
                assert_eq!(
                    admitted_at[*n], expected,
                    "seed {seed}: asked in order {asked:?}, task {n} admitted at the wrong time"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// Named primitives and panics nobody awaited

#[test]
fn dump_uses_the_names_given_to_primitives() {
    watchdog(|| {
        EventLoop::builder()
            .paused_clock(true)
            .debug(true)
            .build()
            .run_until_complete(async {
                let pot = std::rc::Rc::new(glass::Lock::new(()).named("pot"));
                let go = std::rc::Rc::new(glass::Event::new().named("go"));
                let held = pot.acquire().await;
                let (_cook, _) = spawn_named("cook", {
                    let pot = std::rc::Rc::clone(&pot);
                    async move { drop(pot.acquire().await) }
                });
                let (_guest, _) = spawn_named("guest", {
                    let go = std::rc::Rc::clone(&go);
                    async move { go.wait().await }
                });
                yield_now().await;
                let dump = glass::task::dump();
                assert!(
                    dump_line(&dump, "cook").contains("waiting on Lock 'pot'"),
                    "{dump}"
                );
                assert!(
                    dump_line(&dump, "guest").contains("waiting on Event 'go'"),
                    "{dump}"
                );
                drop(held);
                go.set();
            });
    });
}

fn unawaited_panic_program() {
    let mut event_loop = EventLoop::builder().paused_clock(true).debug(true).build();
    event_loop.run_until_complete(async {
        let (task, _) = spawn_named("lost", async { panic!("nobody looks") });
        drop(task); // detached: its panic is never awaited
        glass::sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn a_panic_nobody_awaits_is_reported_under_debug() {
    const TEST: &str = "a_panic_nobody_awaits_is_reported_under_debug";
    if in_child("unawaited_panic", unawaited_panic_program) {
        return;
    }
    let output = run_child(TEST, "unawaited_panic", &[]);
    assert!(output.success, "the program failed:\n{}", output.show());
    assert!(
        output.stderr.contains("was never awaited") && output.stderr.contains("nobody looks"),
        "no warning about the unawaited panic:\n{}",
        output.show()
    );
}
