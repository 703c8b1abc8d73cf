//! wait_for — a 4 s job under a 1 s timeout.
//!
//! The lesson: `asyncio.wait_for(job, 1)` gives up on `job` after one second and raises
//! `TimeoutError`. In glass, `wait_for(job, Duration)` returns `Err(TimeoutError)`
//! instead, and drops the job: a future that is dropped never runs again, so the job's
//! destructor runs at that moment (the `Drop` below prints when it does). A job that
//! finishes in time comes back as `Ok`.
//!
//! The book explains it in chapter 5, "Timers".
//!
//! Run it with `cargo run --example wait_for`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::time::Duration;

use glass::time::Instant;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Says so when dropped: lets us see the moment a job is abandoned.
struct DropAlarm {
    start: Instant,
    job: &'static str,
}

impl Drop for DropAlarm {
    fn drop(&mut self) {
        log(self.start, format!("{} dropped", self.job));
    }
}

/// A job that needs `seconds` to finish.
async fn job(start: Instant, name: &'static str, seconds: u64) -> &'static str {
    let _alarm = DropAlarm { start, job: name };
    log(start, format!("{name} begins, needs {seconds} s"));
    glass::sleep(Duration::from_secs(seconds)).await;
    log(start, format!("{name} ends"));
    "finished"
}

fn main() {
    glass::run(async {
        let start = Instant::now();

        log(start, "main gives a 4 s job 1 s");
        match glass::wait_for(job(start, "long job", 4), Duration::from_secs(1)).await {
            Ok(result) => log(start, format!("long job {result}")),
            Err(timeout) => log(start, format!("time is out! {timeout}")),
        }

        log(start, "main gives a 1 s job 2 s");
        match glass::wait_for(job(start, "short job", 1), Duration::from_secs(2)).await {
            Ok(result) => log(start, format!("short job {result} in time")),
            Err(timeout) => log(start, format!("time is out! {timeout}")),
        }

        log(start, "main end");
    });
}
