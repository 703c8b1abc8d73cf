//! switch_cost — the greenlet exercise: what does a switch between tasks cost?
//!
//! The lesson: two computations, a sum of 1..=10 000 and a product of 1..=10 000
//! (modulo a prime, so it does not overflow), are run twice:
//! - interleaved: each is a task that calls `yield_now().await` after every step, so the
//!   loop switches between them 20 000 times (greenlet's `switch()` after every step);
//! - one after the other: the same tasks without the yields, so each runs to the end in
//!   one poll.
//!
//! The results are the same; only the time differs. Dividing the difference by the
//! number of switches gives the cost of one switch: the task returns `Pending`, goes to
//! the back of the ready queue, and the loop polls the next one. That is cheap (tens of
//! nanoseconds), but not free: a switch per step costs far more than the step itself
//! when the step is one addition.
//!
//! The book explains it in chapter 3, "Tasks".
//!
//! Run it with `cargo run --release --example switch_cost` (a debug build measures the
//! debug build). Lines that start with `time:` are measurements; they change from run to
//! run.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant; // real time: we measure the CPU, not the loop's clock

const STEPS: u64 = 10_000;
const PRIME: u64 = 1_000_000_007;

/// Notes which task ran each step, and counts the switches between them.
#[derive(Default)]
struct SwitchCounter {
    last: Cell<Option<&'static str>>,
    steps: Cell<u64>,
    switches: Cell<u64>,
}

impl SwitchCounter {
    fn step(&self, task: &'static str) {
        self.steps.set(self.steps.get() + 1);
        let previous = self.last.replace(Some(task));
        if previous.is_some_and(|last| last != task) {
            self.switches.set(self.switches.get() + 1);
        }
    }
}

/// 1 + 2 + … + STEPS, yielding to the loop after every step if `interleave`.
async fn sum(counter: Rc<SwitchCounter>, interleave: bool) -> u64 {
    let mut total = 0;
    for i in 1..=STEPS {
        total += i;
        counter.step("sum");
        if interleave {
            glass::yield_now().await;
        }
    }
    total
}

/// 1 × 2 × … × STEPS modulo PRIME, yielding to the loop after every step if `interleave`.
async fn product(counter: Rc<SwitchCounter>, interleave: bool) -> u64 {
    let mut total = 1;
    for i in 1..=STEPS {
        total = total * i % PRIME;
        counter.step("product");
        if interleave {
            glass::yield_now().await;
        }
    }
    total
}

/// Runs both computations as two tasks and prints what they found.
/// Returns the real time taken and the number of switches.
async fn race(interleave: bool) -> (f64, u64) {
    let counter = Rc::new(SwitchCounter::default());
    let began = Instant::now();
    let sum_task = glass::spawn(sum(counter.clone(), interleave));
    let product_task = glass::spawn(product(counter.clone(), interleave));
    let (total, factorial) = (sum_task.await, product_task.await);
    let seconds = began.elapsed().as_secs_f64();

    println!("sum = {total}, product mod {PRIME} = {factorial}");
    println!("steps: {}", counter.steps.get());
    println!("switches between the tasks: {}", counter.switches.get());
    println!("time: {:.3} ms", seconds * 1e3);
    (seconds, counter.switches.get())
}

fn main() {
    glass::run(async {
        println!("-- interleaved: yield_now() after every step");
        let (interleaved, switches) = race(true).await;

        println!("-- one after the other: no yields");
        let (serial, _) = race(false).await;

        // The same work both times: the difference is what the switches cost.
        let per_switch = (interleaved - serial) / switches as f64;
        println!("time: one switch costs about {:.0} ns", per_switch * 1e9);
        let ratio = interleaved / serial;
        println!("time: interleaved took {ratio:.1}x as long");
    });
}
