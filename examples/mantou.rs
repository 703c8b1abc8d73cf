//! mantou — a baker and an eater share a basket that holds five.
//!
//! The lesson: a bounded `Queue` between a producer and a consumer whose speeds change.
//! The baker puts each mantou (a steamed bun) in the basket; the eater takes them out
//! one by one. Both take a random time over each bun, and the eater, hungry at first,
//! slows down as he fills up. While the eater is ahead, the basket is empty and `get`
//! makes him wait; each new bun is promised to him at once. Later the baker gets ahead,
//! the basket fills up, and `put` makes the baker wait for room: when the eater takes a
//! bun, the waiting baker's bun moves into its place at once. Neither checks and
//! retries: the queue parks the waiting task and wakes it when there is a bun, or room.
//! The program looks at `full()` and `empty()` before `put` and `get` only to say that
//! it is about to wait.
//!
//! The "random" times come from a tiny seeded generator (SplitMix64), so every run
//! tells the same story. Pass another seed to see another one:
//! `cargo run --example mantou -- 7`.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example mantou`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Queue;

/// The basket holds five; the baker bakes twenty.
const BASKET: usize = 5;
const MANTOU: u32 = 20;

/// Baking a bun takes 50 ms plus up to `BAKE_SPREAD` ms; eating the n-th bun takes
/// 50 ms plus up to n × `EAT_SPREAD` ms.
const BAKE_SPREAD: u64 = 500;
const EAT_SPREAD: u64 = 100;

/// The seed used when none is given on the command line.
const SEED: u64 = 1;

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// SplitMix64: a tiny pseudo-random generator, good enough for made-up delays.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay of 50 ms plus less than `spread` ms.
    fn delay(&mut self, spread: u64) -> Duration {
        Duration::from_millis(50 + self.next() % spread)
    }
}

/// Bakes `MANTOU` buns, one at a time, and puts each in the basket.
async fn baker(start: Instant, basket: Arc<Queue<u32>>, mut random: SplitMix64) {
    for bun in 1..=MANTOU {
        glass::sleep(random.delay(BAKE_SPREAD)).await;
        if basket.full() {
            log(
                start,
                format!("baker: bun {bun} ready, the basket is full, waits"),
            );
        }
        let eater_waits = basket.statistics().getters > 0;
        basket
            .put(bun)
            .await
            .expect("the basket is never shut down");
        if eater_waits {
            log(start, format!("baker hands bun {bun} to the waiting eater"));
        } else {
            let buns = basket.qsize();
            log(
                start,
                format!("baker puts bun {bun} in the basket ({buns} in it)"),
            );
        }
    }
    log(start, "baker: all baked");
}

/// Takes `MANTOU` buns out of the basket and eats each one.
async fn eater(start: Instant, basket: Arc<Queue<u32>>, mut random: SplitMix64) {
    for eaten in 1..=MANTOU {
        if basket.empty() {
            log(start, "eater: the basket is empty, waits");
        }
        let bun = basket.get().await.expect("the basket is never shut down");
        log(
            start,
            format!("eater takes bun {bun} ({} left)", basket.qsize()),
        );
        // Hungry at first, slower and slower as he fills up.
        glass::sleep(random.delay(EAT_SPREAD * u64::from(eaten))).await;
    }
    log(start, "eater: all eaten");
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .map(|seed| seed.parse().expect("the seed is a whole number, e.g. 7"))
        .unwrap_or(SEED);

    glass::run(async move {
        let start = Instant::now();
        log(start, format!("seed {seed}"));
        let basket = Arc::new(Queue::new(BASKET));
        // Each has its own generator, so its delays do not depend on who runs first.
        let baker = glass::create_task(baker(start, Arc::clone(&basket), SplitMix64(seed)));
        let eater = glass::create_task(eater(start, Arc::clone(&basket), SplitMix64(!seed)));
        glass::gather!(baker, eater);
        log(start, "main end: every bun baked and eaten");
    });
}
