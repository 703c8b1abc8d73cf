//! atm — two withdrawals of 80 from a balance of 100, with an `await` between the
//! check and the update.
//!
//! The lesson: one thread and no preemption do not make a program free of races. A
//! withdrawal checks the balance, waits for the (slow) bank to approve, then takes the
//! money. The wait is an `await`: there the loop runs the other withdrawal, which checks
//! the same balance of 100. Both checks pass, both take 80, and the balance ends at
//! -60. There is no data race here — the balance is a plain `Cell`, touched by one
//! thread only — the race is between the check and the update, across the `await`,
//! exactly as in asyncio.
//!
//! The fix is to hold a `Lock` from the check to the update, `await` included. The
//! glass `Lock` guards the balance itself, as `std::sync::Mutex` does: there is no way
//! to touch it without holding the lock. The second withdrawal waits, then sees 20, and
//! is refused.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example atm`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::cell::Cell;
use std::fmt::Display;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Lock;

/// What each customer withdraws, from an account that starts at 100.
const START: i64 = 100;
const AMOUNT: i64 = 80;
const CUSTOMERS: [&str; 2] = ["Alice", "Bob"];

/// How long the bank takes to approve a withdrawal.
const BANK_DELAY: Duration = Duration::from_secs(1);

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

// ANCHOR: withdraw_racy
/// Checks, waits for the bank, then updates: another task may run in between.
async fn withdraw_racy(start: Instant, name: &str, balance: Rc<Cell<i64>>) {
    let seen = balance.get();
    if seen < AMOUNT {
        log(start, format!("{name} is refused: balance {seen}"));
        return;
    }
    log(
        start,
        format!("{name} checks: balance {seen}, enough for {AMOUNT}"),
    );
    glass::sleep(BANK_DELAY).await; // the slow bank; the other task runs here
    balance.set(balance.get() - AMOUNT);
    let left = balance.get();
    log(start, format!("{name} takes {AMOUNT}: balance {left}"));
}
// ANCHOR_END: withdraw_racy

// ANCHOR: withdraw_locked
/// The same, holding the lock from the check to the update.
async fn withdraw_locked(start: Instant, name: &str, balance: Arc<Lock<i64>>) {
    log(start, format!("{name} asks for the lock"));
    let mut balance = balance.acquire().await;
    let seen = *balance;
    if seen < AMOUNT {
        log(start, format!("{name} is refused: balance {seen}"));
        return; // the guard is dropped here: the lock is released
    }
    log(
        start,
        format!("{name} checks: balance {seen}, enough for {AMOUNT}"),
    );
    glass::sleep(BANK_DELAY).await; // the other task waits for the lock meanwhile
    *balance -= AMOUNT;
    let left = *balance;
    log(start, format!("{name} takes {AMOUNT}: balance {left}"));
}
// ANCHOR_END: withdraw_locked

fn main() {
    glass::run(async {
        println!("-- without a lock");
        let start = Instant::now();
        let balance = Rc::new(Cell::new(START));
        let tasks = CUSTOMERS
            .map(|name| glass::create_task(withdraw_racy(start, name, Rc::clone(&balance))));
        glass::gather_all(tasks).await;
        log(
            start,
            format!(
                "final balance {}: both checks passed before either update",
                balance.get()
            ),
        );

        println!("-- with a Lock");
        let start = Instant::now();
        let balance = Arc::new(Lock::new(START));
        let tasks = CUSTOMERS
            .map(|name| glass::create_task(withdraw_locked(start, name, Arc::clone(&balance))));
        glass::gather_all(tasks).await;
        log(
            start,
            format!(
                "final balance {}: the second withdrawal was refused",
                *balance.acquire().await
            ),
        );
    });
}
