//! Layer 6 (its first part) — composition: waiting for several futures at once.
//!
//! [`gather!`](crate::gather) and [`gather_all`] run several futures *inside the
//! current task*: one poll of the gather polls every future that is not done yet, so
//! they make progress concurrently without any new task being spawned. This is what
//! `asyncio.gather` does for coroutines (asyncio wraps each in a task first; glass does
//! not need to, because a future can be polled by whoever holds it).
//!
//! The book explains this in chapter 3, "Tasks" (gather over tasks and over plain
//! futures); the rest of the layer — `try_gather!`, `as_completed`, `TaskGroup` — comes
//! in chapter 7.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;

// ANCHOR: maybe_done
pin_project! {
    /// A future, then its output once it is done: one argument of `gather!`.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneReplace]
    pub enum MaybeDone<F: Future> {
        Running { #[pin] future: F },
        Done { output: F::Output },
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    #[doc(hidden)]
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Running { future }
    }

    /// Polls the future unless it is done already; `Ready` once it is done.
    #[doc(hidden)]
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Running { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return Poll::Pending,
            },
            _ => return Poll::Ready(()),
        };
        // Done: drop the future, keep its output.
        self.project_replace(MaybeDone::Done { output });
        Poll::Ready(())
    }

    /// Takes the output of a future that is done.
    #[doc(hidden)]
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneReplace::Done { output } => output,
            _ => unreachable!("gather! takes each output once, after every future is done"),
        }
    }
}

// ANCHOR_END: maybe_done

// ANCHOR: gather_macro
/// Runs several futures concurrently inside the current task, and evaluates to a tuple
/// of their outputs in argument order; like `asyncio.gather`.
///
/// `gather!` awaits implicitly (like `futures::join!`), so it can only be used inside
/// async code. The futures are first polled in argument order; each poll of the gather
/// polls every future that is not yet done. Pass [`Task`](crate::Task)s to gather tasks
/// that run on their own.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use glass::time::Instant;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let start = Instant::now();
///     let slow = async { glass::sleep(Duration::from_secs(2)).await; "slow" };
///     let fast = async { glass::sleep(Duration::from_secs(1)).await; "fast" };
///     let (a, b) = glass::gather!(slow, fast);
///     assert_eq!((a, b), ("slow", "fast"));
///     assert_eq!(start.elapsed(), Duration::from_secs(2)); // the longest, not the sum
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_pin!([] $($future,)+)
    };
}

/// `gather!`'s first step: pin each argument in a local variable of its own. The
/// variables are all called `future`, but each comes from a different expansion of this
/// macro, so macro hygiene keeps them apart; the list in brackets collects them.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_pin {
    ([$($pinned:ident)*] $head:expr, $($tail:expr,)*) => {{
        let mut future = ::core::pin::pin!($crate::combine::MaybeDone::new($head));
        $crate::__gather_pin!([$($pinned)* future] $($tail,)*)
    }};
    ([$($pinned:ident)*]) => {
        ::core::future::poll_fn(|cx| {
            let mut all_done = true;
            $( all_done &= $pinned.as_mut().poll_done(cx).is_ready(); )*
            if !all_done {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(($( $pinned.as_mut().take_output(), )*))
        })
        .await
    };
}
// ANCHOR_END: gather_macro

// ANCHOR: gather_all
/// Runs every future of `futures` concurrently inside the current task, and returns
/// their outputs in input order; like `asyncio.gather(*futures)`.
///
/// Only the futures that were woken are polled again (a `FuturesUnordered` keeps
/// track), so gathering thousands of futures costs no more per wake than gathering two.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let delays = [3, 1, 2];
///     let outputs = glass::gather_all(delays.map(|secs| async move {
///         glass::sleep(Duration::from_secs(secs)).await;
///         secs * 10
///     }))
///     .await;
///     assert_eq!(outputs, [30, 10, 20]); // input order, not completion order
/// });
/// ```
pub async fn gather_all<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut running: FuturesUnordered<_> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| async move { (index, future.await) })
        .collect();
    let mut outputs: Vec<Option<_>> = std::iter::repeat_with(|| None)
        .take(running.len())
        .collect();
    while let Some((index, output)) = running.next().await {
        outputs[index] = Some(output);
    }
    outputs
        .into_iter()
        .map(|output| output.expect("every future of gather_all completes once"))
        .collect()
}
// ANCHOR_END: gather_all
