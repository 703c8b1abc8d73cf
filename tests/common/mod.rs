//! Helpers shared by the integration tests: a watchdog so that a hang fails the test
//! instead of hanging CI, loops on the paused or the real clock, and a transcript of
//! what happened when. Each test file uses only some of them.
#![allow(dead_code)]

use std::any::Any;
use std::cell::RefCell;
use std::fmt::Display;
use std::future::Future;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use glass::time::Instant;
use glass::EventLoop;

/// A real-time limit far above what any test needs: only a hang trips it.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// Runs `body` on a thread of its own, and fails the test if it has not finished after
/// [`WATCHDOG`] of real time — a runtime bug that hangs fails the test instead of
/// hanging CI. A panic in `body` is re-raised here.
pub fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let name = std::thread::current().name().unwrap_or("test").to_owned();
    let (done, finished) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let output = body();
            let _ = done.send(());
            output
        })
        .expect("could not start the test's thread");
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(WATCHDOG) {
        panic!("the test did not finish within {WATCHDOG:?} of real time: the loop hangs");
    }
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A new loop on the paused clock.
pub fn paused_loop() -> EventLoop {
    EventLoop::builder().paused_clock(true).build()
}

/// Runs the future made by `test` on a new paused-clock loop, under the [`watchdog`].
/// Each test gets a fresh loop, so task ids start at 1.
pub fn paused<F, Fut>(test: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    watchdog(|| paused_loop().run_until_complete(test()))
}

/// Runs the future made by `test` on a new loop on the real clock, under the watchdog.
pub fn real_clock<F, Fut>(test: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    watchdog(|| {
        EventLoop::builder()
            .paused_clock(false)
            .build()
            .run_until_complete(test())
    })
}

/// What happened, and when, counted from the transcript's start on the loop's clock.
#[derive(Clone)]
pub struct Transcript {
    pub start: Instant,
    lines: Rc<RefCell<Vec<String>>>,
}

impl Transcript {
    /// A transcript that counts time from now.
    pub fn new() -> Transcript {
        Transcript {
            start: Instant::now(),
            lines: Rc::default(),
        }
    }

    /// Records `event` with the time since the start, as `"1.5s event"`.
    pub fn log(&self, event: impl Display) {
        let at = self.start.elapsed();
        self.lines.borrow_mut().push(format!("{at:?} {event}"));
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}

pub fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

pub fn millis(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The text of a panic payload (a `&str` or a `String`).
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        panic!("the panic payload is not a string")
    }
}
