//! hotpot — two friends wait for the signal to eat; main draws a progress bar first.
//!
//! The lesson: one `Event` can hold back any number of tasks. The two friends sit down
//! at once and wait for the hotpot to boil; `main` heats it, drawing a progress bar of
//! ten steps with a short sleep each. While `main` sleeps between steps the friends
//! could run, but they have nothing to do: they wait on the event, so the loop leaves
//! them alone. Only `set()`, after the bar is full, lets them start eating — both of
//! them, with one call.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example hotpot`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Event;

/// How many steps the progress bar has, and how long each takes.
const STEPS: usize = 10;
const STEP: Duration = Duration::from_millis(200);

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// A friend who waits for the hotpot to boil, then eats.
async fn friend(start: Instant, name: &'static str, boiled: Arc<Event>) {
    log(start, format!("{name} sits down and waits for the hotpot"));
    boiled.wait().await;
    log(start, format!("{name} starts eating"));
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let boiled = Arc::new(Event::new());
        let friends = ["Xiao Ming", "Xiao Hong"]
            .map(|name| glass::create_task(friend(start, name, Arc::clone(&boiled))));

        log(start, "main lights the fire");
        for step in 1..=STEPS {
            glass::sleep(STEP).await;
            let bar = format!("{}{}", "#".repeat(step), ".".repeat(STEPS - step));
            log(start, format!("heating [{bar}] {:3}%", step * 100 / STEPS));
        }
        log(start, "main: the hotpot boils, set()");
        boiled.set();

        glass::gather_all(friends).await;
        log(start, "main end: both ate, and only after the bar was full");
    });
}
