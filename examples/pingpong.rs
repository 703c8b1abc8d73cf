//! pingpong — the generator producer/consumer that hands values over with `send`.
//!
//! The lesson: a Python generator is a function that can stop at `yield` and be resumed
//! later with `send(value)`. The classic exercise:
//!
//! ```python
//! def consumer():
//!     reply = ""
//!     while True:
//!         item = yield reply          # stop here until the producer sends
//!         if item is None:
//!             return
//!         print(f"[CONSUMER] consuming {item}")
//!         reply = "200 OK"
//!
//! def produce(c):
//!     c.send(None)                    # run the consumer to its first yield
//!     for item in range(1, 4):
//!         print(f"[PRODUCER] producing {item}")
//!         reply = c.send(item)
//!         print(f"[PRODUCER] consumer replied {reply}")
//!     c.close()
//! ```
//!
//! A generator remembers where it stopped; so does a Rust future. This program tells
//! the same dialogue twice: first by hand, with the consumer as an enum of the places it
//! can stop and the producer as a hand-made `Future` whose every `poll` is one turn of
//! the dialogue; then as two glass tasks that talk through a one-slot mailbox, where
//! `async`/`await` write the state machines for us.
//!
//! The book explains it in chapter 1, "Futures".
//!
//! Run it with `cargo run --example pingpong`.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

const ITEMS: u32 = 3;

// ANCHOR: state_machine
/// Python's `consumer()` generator, by hand: each variant is a place it can stop.
enum Consumer {
    /// Created, not yet run to its first `yield`.
    NotStarted,
    /// Stopped at `item = yield reply`, waiting for the next `send`.
    AtYield,
    /// Returned; sending again is an error, as in Python.
    Finished,
}

impl Consumer {
    /// Like `generator.send(item)`: run from where it stopped to the next `yield`,
    /// and give back what that `yield` hands out.
    fn send(&mut self, item: Option<u32>) -> &'static str {
        match (&*self, item) {
            // The first send only runs it up to `yield ""`.
            (Consumer::NotStarted, _) => {
                *self = Consumer::AtYield;
                ""
            }
            (Consumer::AtYield, Some(item)) => {
                println!("[CONSUMER] consuming {item}");
                "200 OK"
            }
            (Consumer::AtYield, None) => {
                *self = Consumer::Finished;
                ""
            }
            (Consumer::Finished, _) => panic!("send() on a finished generator"),
        }
    }
}

/// Python's `produce(c)` as a hand-made future: each variant is a place it can stop,
/// and each `poll` runs it to the next one.
enum Producer {
    Start,
    Producing { consumer: Consumer, sent: u32 },
    Done,
}

impl Future for Producer {
    type Output = &'static str;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Producer` holds no self-references, so it is `Unpin` and we may reach in.
        let this = self.get_mut();
        match this {
            Producer::Start => {
                let mut consumer = Consumer::NotStarted;
                consumer.send(None);
                *this = Producer::Producing { consumer, sent: 0 };
            }
            Producer::Producing { consumer, sent } if *sent < ITEMS => {
                *sent += 1;
                println!("[PRODUCER] producing {sent}");
                let reply = consumer.send(Some(*sent));
                println!("[PRODUCER] consumer replied {reply}");
            }
            Producer::Producing { consumer, .. } => {
                consumer.send(None); // `c.close()`
                *this = Producer::Done;
                return Poll::Ready("all items delivered");
            }
            Producer::Done => panic!("a finished future was polled again"),
        }
        // Give the thread back between turns, as a generator does at `yield`. Waking
        // ourselves first is what makes the executor poll us again; without it we
        // would sleep forever.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
// ANCHOR_END: state_machine

// ANCHOR: as_tasks
/// A one-slot mailbox: the smallest channel two tasks on one loop can share.
/// `send` puts a value in and wakes the receiver; `recv` waits until one is there.
struct Mailbox<T> {
    slot: RefCell<Option<T>>,
    receiver: RefCell<Option<Waker>>,
}

impl<T> Mailbox<T> {
    fn new() -> Rc<Self> {
        Rc::new(Mailbox {
            slot: RefCell::new(None),
            receiver: RefCell::new(None),
        })
    }

    fn send(&self, value: T) {
        *self.slot.borrow_mut() = Some(value);
        if let Some(receiver) = self.receiver.take() {
            receiver.wake();
        }
    }

    async fn recv(&self) -> T {
        poll_fn(|cx| match self.slot.take() {
            Some(value) => Poll::Ready(value),
            None => {
                // Leave our waker where `send` will find it, then stop here.
                *self.receiver.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// The consumer task: `None` plays the part of `close()`.
async fn consumer(items: Rc<Mailbox<Option<u32>>>, replies: Rc<Mailbox<&'static str>>) {
    while let Some(item) = items.recv().await {
        println!("[CONSUMER] consuming {item}");
        replies.send("200 OK");
    }
}

/// The producer task: `send` + `recv` together are Python's `c.send(item)`.
async fn producer(items: Rc<Mailbox<Option<u32>>>, replies: Rc<Mailbox<&'static str>>) {
    for item in 1..=ITEMS {
        println!("[PRODUCER] producing {item}");
        items.send(Some(item));
        let reply = replies.recv().await;
        println!("[PRODUCER] consumer replied {reply}");
    }
    items.send(None);
}

async fn talk_as_tasks() {
    let items = Mailbox::new();
    let replies = Mailbox::new();
    // `Rc`, not `Arc`: glass tasks stay on their loop's thread.
    let consumer = glass::spawn(consumer(items.clone(), replies.clone()));
    let producer = glass::spawn(producer(items, replies));
    producer.await;
    consumer.await;
}
// ANCHOR_END: as_tasks

fn main() {
    println!("-- by hand: a generator and a Future, both enums");
    let outcome = glass::block_on(Producer::Start);
    println!("producer: {outcome}");

    println!("-- as two glass tasks");
    glass::run(talk_as_tasks());
    println!("both tasks finished");
}
