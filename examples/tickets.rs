//! tickets — ten buyers race for the last ticket.
//!
//! The lesson: the `atm` race again, with more tasks. Ten buyers arrive 0.1 s apart.
//! Each checks that a ticket is left, pays (which takes 0.35 s: an `await`), and then
//! takes the ticket. Without a lock, every buyer who checks while the first one is
//! still paying sees the ticket too: several "buy" the same seat and the count goes
//! negative. With a `Lock` held from the check to the sale, the buyers queue up behind
//! the first one, and when their turn comes the ticket is gone: exactly one buys it.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example tickets`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::cell::Cell;
use std::fmt::Display;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Lock;

/// Ten buyers, one ticket.
const BUYERS: u32 = 10;
const TICKETS: i32 = 1;

/// A buyer arrives every `ARRIVAL`; paying takes `PAYMENT`.
const ARRIVAL: Duration = Duration::from_millis(100);
const PAYMENT: Duration = Duration::from_millis(350);

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Buyer `n` (from 1) arrives, checks, pays, and takes a ticket; returns whether it
/// bought one.
async fn buy_racy(start: Instant, n: u32, tickets: Rc<Cell<i32>>) -> bool {
    glass::sleep(ARRIVAL * (n - 1)).await;
    if tickets.get() <= 0 {
        log(start, format!("buyer {n}: sold out"));
        return false;
    }
    log(start, format!("buyer {n}: {} left, pays", tickets.get()));
    glass::sleep(PAYMENT).await; // the other buyers run here
    tickets.set(tickets.get() - 1);
    let left = tickets.get();
    log(start, format!("buyer {n}: bought one, {left} left"));
    true
}

/// The same, holding the lock from the check to the sale.
async fn buy_locked(start: Instant, n: u32, tickets: Arc<Lock<i32>>) -> bool {
    glass::sleep(ARRIVAL * (n - 1)).await;
    if tickets.locked() {
        log(start, format!("buyer {n}: waits for the lock"));
    }
    let mut tickets = tickets.acquire().await;
    if *tickets <= 0 {
        log(start, format!("buyer {n}: sold out"));
        return false;
    }
    log(start, format!("buyer {n}: {} left, pays", *tickets));
    glass::sleep(PAYMENT).await; // the other buyers wait for the lock
    *tickets -= 1;
    log(start, format!("buyer {n}: bought one, {} left", *tickets));
    true
}

/// How many of the `bought` flags are set.
fn count(bought: &[bool]) -> usize {
    bought.iter().filter(|&&bought| bought).count()
}

fn main() {
    glass::run(async {
        println!("-- without a lock");
        let start = Instant::now();
        let tickets = Rc::new(Cell::new(TICKETS));
        let buyers =
            (1..=BUYERS).map(|n| glass::create_task(buy_racy(start, n, Rc::clone(&tickets))));
        let bought = glass::gather_all(buyers).await;
        log(
            start,
            format!(
                "{} buyers bought the {TICKETS} ticket; {} left",
                count(&bought),
                tickets.get()
            ),
        );

        println!("-- with a Lock");
        let start = Instant::now();
        let tickets = Arc::new(Lock::new(TICKETS));
        let buyers =
            (1..=BUYERS).map(|n| glass::create_task(buy_locked(start, n, Arc::clone(&tickets))));
        let bought = glass::gather_all(buyers).await;
        log(
            start,
            format!(
                "{} buyer bought the {TICKETS} ticket; {} left",
                count(&bought),
                *tickets.acquire().await
            ),
        );
    });
}
