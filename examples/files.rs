//! files — the aiofiles lesson: write a file, then read it back, without blocking the
//! loop.
//!
//! The lesson: a plain `open(...).read()` blocks, and there is no portable way to wait
//! for a disk the way the loop waits for a socket. So `aiofiles` runs every file
//! operation on a thread pool and lets the coroutine await it:
//! `async with aiofiles.open(path, "w") as f: await f.write(line)`, then
//! `async for line in f:` to read it back. `glass::fs` does the same on the blocking
//! pool of chapter 8: `fs::write` and `fs::read_to_string` for a whole file at once,
//! `fs::File` with `write_all` / `close` and a `BufReader`'s `lines()` for a piece at a
//! time, and errors that name the file. Since every operation is a future, several
//! files can be written at once with `gather_all`.
//!
//! Everything happens in a directory of its own under the system's temp directory,
//! removed at the end. Its path changes from run to run, so it is never printed.
//!
//! The book explains it in chapter 8, "Work that blocks".
//!
//! Run it with `cargo run --example files`.

use std::io;
use std::path::Path;

use glass::fs::{self, File};
use glass::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use glass::stream::StreamExt;

const HAIKU: &str = "an old silent pond\na frog jumps into the pond\nsplash! silence again\n";

/// Writes and reads files in `dir`, and removes them.
async fn lesson(dir: &Path) -> io::Result<()> {
    println!("-- fs::write and fs::read_to_string: a whole file at once");
    let haiku = dir.join("haiku.txt");
    fs::write(&haiku, HAIKU).await?;
    println!(
        "wrote haiku.txt: {} bytes",
        fs::metadata(&haiku).await?.len()
    );
    let text = fs::read_to_string(&haiku).await?;
    for line in text.lines() {
        println!("  | {line}");
    }

    println!("-- File: write a line at a time, read a line at a time");
    let squares = dir.join("squares.txt");
    let mut file = File::create(&squares).await?; // like `aiofiles.open(path, "w")`
    for n in 1..=5 {
        file.write_all(format!("{n} squared is {}\n", n * n).as_bytes())
            .await?;
    }
    // A write runs on the pool while the task goes on: `close` waits for the last one
    // and reports its error, if any. (Leaving `async with` does this in Python.)
    file.close().await?;
    println!("wrote squares.txt: 5 lines");
    let mut lines = BufReader::new(File::open(&squares).await?).lines();
    while let Some(line) = lines.next().await {
        println!("read back: {}", line?);
    }

    println!("-- three files at once with gather_all");
    let names = ["one.txt", "two.txt", "three.txt"];
    let writes = names.map(|name| fs::write(dir.join(name), name.repeat(3)));
    for written in glass::gather_all(writes).await {
        written?;
    }
    let reads = names.map(|name| fs::read_to_string(dir.join(name)));
    for (name, text) in names.iter().zip(glass::gather_all(reads).await) {
        println!("{name} holds {:?}", text?);
    }

    println!("-- an error names the file");
    let error = fs::read_to_string(dir.join("missing.txt"))
        .await
        .expect_err("missing.txt was never written");
    let message = error
        .to_string()
        .replace(&dir.display().to_string(), "<dir>");
    println!("{:?}: {message}", error.kind());

    println!("-- remove the files");
    for name in ["haiku.txt", "squares.txt"].iter().chain(&names) {
        fs::remove_file(dir.join(name)).await?;
    }
    println!("removed 5 files");
    Ok(())
}

fn main() -> io::Result<()> {
    glass::run(async {
        let dir = std::env::temp_dir().join(format!("glass-files-example-{}", std::process::id()));
        fs::create_dir_all(&dir).await?;
        let result = lesson(&dir).await;

        // glass::fs has no `remove_dir_all`: run std's on the blocking pool, as
        // glass::fs does for every operation.
        let removing = dir.clone();
        glass::run_in_executor(move || std::fs::remove_dir_all(removing)).await?;
        let gone = fs::metadata(&dir).await.is_err();
        println!("the example's directory is gone: {gone}");
        result
    })
}
