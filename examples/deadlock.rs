//! deadlock — two tasks take two locks in opposite orders.
//!
//! The lesson: the classic threading deadlock, retold with tasks. Bob takes lock A and
//! then lock B; Alice takes lock B and then lock A. Each holds her or his first lock a
//! moment (a sleep, as the threading lesson's `time.sleep(0.1)`) and then asks for the
//! second, which the other one holds. Neither can go on, and neither will let go. With
//! threads the program just hangs; asyncio hangs the same way, its loop asleep in
//! `select()` with nothing left that could wake it.
//!
//! glass notices: when no task is ready, no timer is armed, no socket is registered and
//! no blocking job runs for a grace period, the loop reports who waits on what. Part 1
//! asks for that report as a panic (`OnDeadlock::Panic`, after 200 ms), catches it and
//! prints it: it names both tasks, the lock each one waits on, and the task that holds
//! that lock. The addresses of the locks change from run to run, so the program prints
//! `lock A` / `lock B` in their place, in the order they first appear in the report.
//! Part 2 is the cure the threading lesson teaches: every task takes the locks in the
//! same order, A before B, and both finish.
//!
//! The book explains it in chapter 10, "Seeing inside".
//!
//! Run it with `cargo run --example deadlock`. It prints the same with and without
//! `GLASS_PAUSED_CLOCK=1`; the report comes after 200 ms of real time either way.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use glass::Lock;

/// How long each task holds its first lock before it asks for the second.
const HOLD: Duration = Duration::from_millis(100);

/// Takes `first`, holds it a moment, then takes `second`, and releases both.
async fn take_both(
    who: &'static str,
    (first_name, first): (&'static str, Arc<Lock>),
    (second_name, second): (&'static str, Arc<Lock>),
) {
    let _first = first.acquire().await;
    println!("{who} takes lock {first_name}");
    glass::sleep(HOLD).await;
    println!("{who} asks for lock {second_name}");
    let _second = second.acquire().await;
    println!("{who} takes lock {second_name}, and releases both");
}

/// Replaces each distinct `0x…` address in `report` by `lock A`, `lock B`, ... in the
/// order of first appearance, so that the report reads the same on every run.
fn name_the_locks(report: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    let mut rest = report;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        let digits = rest[at + 2..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - at - 2);
        let address = &rest[at..at + 2 + digits];
        let index = seen.iter().position(|a| *a == address).unwrap_or_else(|| {
            seen.push(address);
            seen.len() - 1
        });
        out.push_str(&format!("lock {}", char::from(b'A' + index as u8)));
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

fn main() {
    println!("-- part 1: Bob takes A then B, Alice takes B then A");
    let mut event_loop = glass::EventLoop::builder()
        .debug(true)
        .on_deadlock(glass::OnDeadlock::Panic)
        .deadlock_grace(Duration::from_millis(200))
        .build();
    // The report comes as a panic: silence the default hook, which would print it on
    // stderr, and print it ourselves below.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        event_loop.run_until_complete(async {
            let a = Arc::new(Lock::new(()));
            let b = Arc::new(Lock::new(()));
            let alice = take_both("alice", ("B", Arc::clone(&b)), ("A", Arc::clone(&a)));
            let bob = take_both("bob", ("A", a), ("B", b));
            let alice = glass::task::Builder::new().name("alice").spawn(alice);
            // Alice's first poll comes before Bob is even spawned, whatever the order
            // of a turn (GLASS_SEED shuffles it): so the report lists her first, and
            // the lock she waits on, A, is the first address in it.
            glass::yield_now().await;
            let bob = glass::task::Builder::new().name("bob").spawn(bob);
            alice.await;
            bob.await;
        })
    }));
    panic::set_hook(default_hook);
    // Cancels alice and bob: dropping their futures releases the locks they hold.
    drop(event_loop);
    match outcome {
        Ok(()) => println!("no deadlock?"),
        Err(payload) => {
            let report = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .unwrap_or("(a panic without a message)");
            println!("the loop panicked with this report:");
            print!("{}", name_the_locks(report));
        }
    }

    println!("-- part 2: both take A then B");
    glass::run(async {
        let a = Arc::new(Lock::new(()));
        let b = Arc::new(Lock::new(()));
        let alice = take_both("alice", ("A", Arc::clone(&a)), ("B", Arc::clone(&b)));
        let bob = take_both("bob", ("A", a), ("B", b));
        let alice = glass::task::Builder::new().name("alice").spawn(alice);
        let bob = glass::task::Builder::new().name("bob").spawn(bob);
        alice.await;
        bob.await;
        println!("both finished: one lock order for everyone, no deadlock");
    });
}
