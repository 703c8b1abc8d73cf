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

impl<T, E, F: Future<Output = Result<T, E>>> MaybeDone<F> {
    /// Takes the error of a future that is done and failed; `None` otherwise.
    #[doc(hidden)]
    pub fn take_err(mut self: Pin<&mut Self>) -> Option<E> {
        if !matches!(&*self, MaybeDone::Done { output: Err(_) }) {
            return None;
        }
        match self.as_mut().project_replace(MaybeDone::Taken) {
            MaybeDoneReplace::Done { output: Err(error) } => Some(error),
            _ => unreachable!("just checked: done with an error"),
        }
    }

    /// Takes the value of a future that is done and succeeded.
    #[doc(hidden)]
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.take_output() {
            Ok(value) => value,
            Err(_) => unreachable!("try_gather! returns the first error before taking values"),
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

// ANCHOR: try_gather_macro
/// Like [`gather!`](crate::gather), for futures that return `Result`s with the same
/// error type: evaluates to `Ok((A, B, …))` when all succeed, or to the first `Err` —
/// and then the other futures are dropped (cancelled) at once. Like tokio's
/// `try_join!`; asyncio's `gather` raises the first exception the same way (but leaves
/// the other awaitables running).
///
/// # Examples
///
/// ```
/// glass::run(async {
///     let ok: Result<(i32, &str), String> = glass::try_gather!(async { Ok(1) }, async { Ok("two") });
///     assert_eq!(ok, Ok((1, "two")));
///     let failed: Result<(i32, i32), String> =
///         glass::try_gather!(async { Ok(1) }, async { Err("no".to_string()) });
///     assert_eq!(failed, Err("no".to_string()));
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__try_gather_pin!([] $($future,)+)
    };
}

/// `try_gather!`'s steps; see `__gather_pin!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __try_gather_pin {
    ([$($pinned:ident)*] $head:expr, $($tail:expr,)*) => {{
        let mut future = ::core::pin::pin!($crate::combine::MaybeDone::new($head));
        $crate::__try_gather_pin!([$($pinned)* future] $($tail,)*)
    }};
    ([$($pinned:ident)*]) => {
        ::core::future::poll_fn(|cx| {
            let mut all_done = true;
            $(
                if $pinned.as_mut().poll_done(cx).is_ready() {
                    if let ::core::option::Option::Some(error) = $pinned.as_mut().take_err() {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(error));
                    }
                } else {
                    all_done = false;
                }
            )*
            if !all_done {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(::core::result::Result::Ok(($( $pinned.as_mut().take_ok(), )*)))
        })
        .await
    };
}
// ANCHOR_END: try_gather_macro

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

// ANCHOR: try_gather_all
/// Like [`gather_all`], for futures that return `Result`s: `Ok` with every value in
/// input order, or the first error to happen — and then the other futures are dropped
/// at once.
///
/// # Examples
///
/// ```
/// glass::run(async {
///     let all = glass::try_gather_all((1..=3).map(|n| async move { Ok::<_, String>(n) })).await;
///     assert_eq!(all, Ok(vec![1, 2, 3]));
///     let failed = glass::try_gather_all((1..=3).map(|n| async move {
///         if n == 2 { Err(format!("{n} failed")) } else { Ok(n) }
///     }))
///     .await;
///     assert_eq!(failed, Err("2 failed".to_string()));
/// });
/// ```
pub async fn try_gather_all<I, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let mut running: FuturesUnordered<_> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| async move { (index, future.await) })
        .collect();
    let mut values: Vec<Option<T>> = std::iter::repeat_with(|| None)
        .take(running.len())
        .collect();
    while let Some((index, result)) = running.next().await {
        values[index] = Some(result?); // the first error returns, dropping the rest
    }
    Ok(values
        .into_iter()
        .map(|value| value.expect("every future of try_gather_all completes once"))
        .collect())
}

// ANCHOR_END: try_gather_all

// ANCHOR: as_completed
/// The outputs of `futures` in the order they complete; like `asyncio.as_completed`.
///
/// The futures run concurrently inside the task that polls the stream. Use it with
/// `futures::StreamExt::next` (re-exported as `glass::stream::StreamExt`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use glass::stream::StreamExt;
///
/// glass::EventLoop::builder().paused_clock(true).build().run_until_complete(async {
///     let mut done = glass::as_completed([3, 1, 2].map(|secs| async move {
///         glass::sleep(Duration::from_secs(secs)).await;
///         secs
///     }));
///     let mut order = Vec::new();
///     while let Some(secs) = done.next().await {
///         order.push(secs);
///     }
///     assert_eq!(order, [1, 2, 3]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        running: futures.into_iter().collect(),
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    running: FuturesUnordered<F>,
}

impl<F: Future> futures::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.running.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.running.len(), Some(self.running.len()))
    }
}

impl<F> AsCompleted<F> {
    /// How many futures have not completed yet.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// True when every future has completed.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }
}
// ANCHOR_END: as_completed
