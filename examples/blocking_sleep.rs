//! blocking_sleep — the gevent lesson: a blocking call inside a task stalls everyone.
//!
//! The lesson: task A does two steps of "work" and task B three; each step is one unit
//! of waiting.
//! - With `std::thread::sleep`, the wait blocks the whole thread, and so the loop: while
//!   one task sleeps, no other task can run. A's steps and then B's run one after the
//!   other, and the whole takes 2 + 3 = five units. (gevent's lesson exactly:
//!   `time.sleep` without monkey-patching serialises the greenlets.)
//! - With `glass::sleep`, a task that waits returns `Pending` and the loop runs the
//!   other: the steps interleave, A, B, A, B, B, and the whole takes three units — the
//!   longer task's time.
//!
//! The fix for a blocking call you cannot avoid is `run_in_executor` (chapter 8), and
//! `GLASS_DEBUG=1` (chapter 10) warns about every poll that blocks the loop too long.
//!
//! The book explains it in chapter 4, "The event loop".
//!
//! Run it with `cargo run --example blocking_sleep`. One unit is 1 s; set
//! `GLASS_EXAMPLE_UNIT_MS` to make it shorter, e.g. `GLASS_EXAMPLE_UNIT_MS=100`. Lines
//! that start with `time:` are real-time measurements; they change from run to run.

use std::time::Duration;

/// The two tasks and how many steps each takes.
const TASKS: [(&str, u32); 2] = [("A", 2), ("B", 3)];

/// One unit of work: 1 s, or `GLASS_EXAMPLE_UNIT_MS` milliseconds.
fn unit() -> Duration {
    let millis = std::env::var("GLASS_EXAMPLE_UNIT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(millis)
}

/// Each step blocks the thread for one unit: nothing else on this loop runs meanwhile.
async fn work_blocking(name: &str, steps: u32, unit: Duration) {
    for step in 1..=steps {
        std::thread::sleep(unit);
        println!("task {name} step {step}");
    }
}

/// Each step waits one unit on the loop's timer: the loop runs the other task meanwhile.
async fn work_cooperating(name: &str, steps: u32, unit: Duration) {
    for step in 1..=steps {
        glass::sleep(unit).await;
        println!("task {name} step {step}");
    }
}

fn main() {
    let unit = unit();
    let in_units = |elapsed: Duration| elapsed.as_secs_f64() / unit.as_secs_f64();

    glass::run(async {
        println!("-- two tasks with std::thread::sleep");
        let began = std::time::Instant::now();
        let tasks = TASKS.map(|(name, steps)| glass::spawn(work_blocking(name, steps, unit)));
        glass::gather_all(tasks).await;
        println!("time: {:.2} units of real time", in_units(began.elapsed()));
        println!(
            "serial: about 5 units; each sleep blocked the loop (GLASS_DEBUG=1 will warn about it)"
        );

        println!("-- two tasks with glass::sleep");
        let began = std::time::Instant::now();
        let on_the_loop_clock = glass::time::Instant::now();
        let tasks = TASKS.map(|(name, steps)| glass::spawn(work_cooperating(name, steps, unit)));
        glass::gather_all(tasks).await;
        println!("time: {:.2} units of real time", in_units(began.elapsed()));
        println!(
            "interleaved: {:.2} units on the loop's clock; the sleeps overlapped",
            in_units(on_the_loop_clock.elapsed())
        );
    });
}
