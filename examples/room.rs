//! room — seven people, a room that holds two, each stays 2 s.
//!
//! The lesson: a `Semaphore` bounds how many tasks are inside a section at once. The
//! room is a `Semaphore(2)`: a person takes a permit to enter and gives it back on
//! leaving. Seven people arrive together; two go in, the others wait at the door and
//! go in, in the order they came, as places free up. The program counts who is inside
//! and checks that it is never more than two. Four rounds of 2 s: about 8 s in all.
//!
//! The book explains it in chapter 6, "Waiting together".
//!
//! Run it with `cargo run --example room`. With `GLASS_PAUSED_CLOCK=1` the sleeps are
//! instant and the timestamps are exact.

use std::cell::Cell;
use std::fmt::Display;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glass::time::Instant;
use glass::Semaphore;

/// The room's places, how many people come, and how long each stays.
const PLACES: usize = 2;
const PEOPLE: usize = 7;
const STAY: Duration = Duration::from_secs(2);

/// Prints `message` stamped with the loop's clock, counted from `start`.
fn log(start: Instant, message: impl Display) {
    println!("[{:.3}s] {message}", start.elapsed().as_secs_f64());
}

/// Who is in the room: how many now, and the most there ever were.
#[derive(Default)]
struct Occupancy {
    inside: Cell<usize>,
    most: Cell<usize>,
}

/// Person `n` waits at the door, enters, stays, and leaves.
async fn visit(start: Instant, n: usize, door: Arc<Semaphore>, room: Rc<Occupancy>) {
    let permit = match door.try_acquire() {
        Some(permit) => permit,
        None => {
            log(start, format!("person {n} waits at the door"));
            door.acquire().await
        }
    };
    room.inside.set(room.inside.get() + 1);
    room.most.set(room.most.get().max(room.inside.get()));
    assert!(room.inside.get() <= PLACES, "the room is over-full");
    log(
        start,
        format!("person {n} enters ({} inside)", room.inside.get()),
    );

    glass::sleep(STAY).await;

    room.inside.set(room.inside.get() - 1);
    log(
        start,
        format!("person {n} leaves ({} inside)", room.inside.get()),
    );
    drop(permit); // the place goes to the first person waiting at the door
}

fn main() {
    glass::run(async {
        let start = Instant::now();
        let door = Arc::new(Semaphore::new(PLACES));
        let room = Rc::new(Occupancy::default());
        let people = (1..=PEOPLE)
            .map(|n| glass::create_task(visit(start, n, Arc::clone(&door), Rc::clone(&room))));
        glass::gather_all(people).await;
        let most = room.most.get();
        let rounds = PEOPLE.div_ceil(PLACES);
        let stay = STAY.as_secs();
        log(
            start,
            format!("main end: at most {most} inside at once; {rounds} rounds of {stay} s"),
        );
    });
}
