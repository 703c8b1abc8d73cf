//! # Glass — an async runtime to read
//!
//! Glass is asyncio's model — one event loop per thread, tasks, timers, `gather`,
//! `wait_for` — written in Rust so that it can be read from top to bottom, one layer
//! at a time, beside the book that explains it (`book/`, `mdbook serve book`).
//!
//! ## The map
//!
//! Read the layers in this order; each builds on the ones before it.
//!
//! | layer | file | what it owns | chapter |
//! |---|---|---|---|
//! | 0 futures | (the book, `examples/pingpong.rs`) | a future is a state machine, polled | 1 |
//! | 1 wakers | [`waker.rs`](block_on) | the waker handshake; [`block_on`] | 2 |
//! | 2 tasks | `task.rs`, `executor.rs` | [`spawn`], [`Task`], the ready queue | 3 |
//! | 3 event loop | `event_loop.rs`, `reactor.rs`, `budget.rs` | [`run`], [`EventLoop`], the turn, [`Handle`] | 4 |
//! | 4 timers | [`time`] | [`sleep`], [`wait_for`], [`time::interval`], the paused clock | 5 |
//! | 5 sync | [`sync`] | [`Event`], [`Lock`], [`Semaphore`], [`Condition`], [`Barrier`], [`Queue`] | 6 |
//! | 6 composition | `combine.rs`, `task_group.rs` | [`gather!`], [`gather_all`], [`try_gather!`], [`as_completed`], [`TaskGroup`] | 3, 7 |
//! | 7 blocking | [`blocking`], [`fs`] | [`run_in_executor`], [`ThreadPool`], async files | 8 |
//! | 8 networking | [`net`], `reactor.rs`, [`io`] | [`net::Async`], TCP, UDP, Unix sockets | 9 |
//!
//! Coming next: the tools for seeing inside the loop.
//!
//! ## A first program
//!
//! ```
//! use std::time::Duration;
//!
//! glass::run(async {
//!     let task = glass::spawn(async {
//!         glass::sleep(Duration::from_millis(10)).await;
//!         "world"
//!     });
//!     println!("hello");
//!     println!("{}", task.await);
//! });
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod blocking;
mod budget;
#[doc(hidden)]
pub mod combine;
mod debug;
mod event_loop;
mod executor;
pub mod fs;
pub mod net;
mod reactor;
pub mod sync;
pub mod task;
mod task_group;
pub mod time;
mod waker;

pub use blocking::{run_in_executor, ThreadPool};
pub use combine::{as_completed, gather_all, try_gather_all, AsCompleted};
pub use debug::OnDeadlock;
pub use event_loop::{call_soon, run, Builder as EventLoopBuilder, EventLoop, Handle};
pub use sync::{
    Barrier, BarrierWaitResult, Condition, Event, GetError, LifoQueue, Lock, LockGuard,
    OwnedLockGuard, OwnedSemaphorePermit, PriorityQueue, PutError, Queue, Semaphore,
    SemaphorePermit,
};
pub use task::{create_task, spawn, yield_now, JoinError, Task, TaskId};
pub use task_group::{ChildHandle, TaskGroup};
pub use time::{call_later, sleep, wait_for, MissedTickBehavior, TimeoutError, TimerHandle};
pub use waker::block_on;

/// Asynchronous I/O traits and helpers: `futures::io`'s, re-exported.
pub mod io {
    pub use futures::io::{
        copy, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt,
        AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
    };
}

/// Streams, for [`as_completed`]: `futures`' `Stream` and `StreamExt`.
pub mod stream {
    pub use futures::stream::{Stream, StreamExt};
}
