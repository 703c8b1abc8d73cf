//! Layer 7 — files, on the blocking pool; like `aiofiles`.
//!
//! Operating systems offer no portable way to *wait* for a file the way `epoll` waits
//! for a socket: a read from disk simply blocks. So glass does what asyncio's
//! `aiofiles` and tokio's `fs` do: every file operation is a blocking call run by
//! [`run_in_executor`] on the blocking pool, and the task awaits its result. Errors are
//! `std::io::Error`s whose message names the path.
//!
//! [`File`] implements `futures::io`'s `AsyncRead`, `AsyncWrite` and `AsyncSeek` with
//! one operation in flight at a time: a read reads a chunk into the file's own buffer
//! on the pool, a write copies the bytes into that buffer and writes them on the pool
//! while the task goes on (so a write error shows at the next operation, or at
//! `flush`/`close`). Chapter 8 of the book, "Work that blocks", explains it.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncSeek, AsyncWrite};

use crate::blocking::run_in_executor;
use crate::task::Task;

/// The most a single read asks the operating system for.
const CHUNK: usize = 64 * 1024;

/// Adds the operation and path to an error, so that it says which file failed.
fn with_path(error: io::Error, operation: &str, path: &Path) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("could not {operation} {}: {error}", path.display()),
    )
}

/// Runs a path operation on the blocking pool.
async fn on_pool<T, F>(path: &Path, operation: &'static str, job: F) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_owned();
    run_in_executor(move || job(&path).map_err(|error| with_path(error, operation, &path))).await
}

// ANCHOR: fs_read
/// Reads a whole file; like `std::fs::read`, on the blocking pool.
///
/// # Examples
///
/// ```
/// glass::run(async {
///     let path = std::env::temp_dir().join("glass-doc-fs-read.txt");
///     glass::fs::write(&path, "hello").await.unwrap();
///     assert_eq!(glass::fs::read(&path).await.unwrap(), b"hello");
///     glass::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_pool(path.as_ref(), "read", |path| fs::read(path)).await
}
// ANCHOR_END: fs_read

/// Reads a whole file as UTF-8 text; like `std::fs::read_to_string`.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_pool(path.as_ref(), "read", |path| fs::read_to_string(path)).await
}

/// Writes `contents` to a file, replacing it; like `std::fs::write`.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_pool(path.as_ref(), "write", move |path| {
        fs::write(path, contents)
    })
    .await
}

/// Creates a directory and its missing parents; like `std::fs::create_dir_all`.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), "create directory", |path| {
        fs::create_dir_all(path)
    })
    .await
}

/// Removes a file; like `std::fs::remove_file`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), "remove", |path| fs::remove_file(path)).await
}

/// Removes an empty directory; like `std::fs::remove_dir`.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), "remove directory", |path| {
        fs::remove_dir(path)
    })
    .await
}

/// Removes a directory and everything in it; like `std::fs::remove_dir_all`.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), "remove directory", |path| {
        fs::remove_dir_all(path)
    })
    .await
}

/// Reads a file's metadata; like `std::fs::metadata`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<fs::Metadata> {
    on_pool(path.as_ref(), "read the metadata of", |path| {
        fs::metadata(path)
    })
    .await
}

/// An open file, read and written asynchronously on the blocking pool.
///
/// Use it through `glass::io`'s extension traits (`AsyncReadExt`, `AsyncWriteExt`,
/// `AsyncSeekExt`). Call `close().await` (or `flush().await`) after writing to learn
/// whether the last write succeeded: dropping the file does not wait for it.
///
/// # Examples
///
/// ```
/// use glass::io::{AsyncReadExt, AsyncWriteExt};
///
/// glass::run(async {
///     let path = std::env::temp_dir().join("glass-doc-file.txt");
///     let mut file = glass::fs::File::create(&path).await.unwrap();
///     file.write_all(b"one line\n").await.unwrap();
///     file.close().await.unwrap();
///
///     let mut text = String::new();
///     glass::fs::File::open(&path).await.unwrap().read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "one line\n");
///     glass::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub struct File {
    path: PathBuf,
    state: State,
    /// True while the operation in flight is a seek that `poll_seek` started.
    seeking: bool,
}

// ANCHOR: file_state
enum State {
    /// No operation in flight: the file and its buffer are here.
    Idle(Option<Buffered>),
    /// An operation runs on the pool; it gives the file back when done.
    Busy(Task<(Buffered, Done)>),
}

struct Buffered {
    file: fs::File,
    /// Bytes read ahead and not yet handed out (`buf[pos..]`), or bytes to write.
    buf: Vec<u8>,
    pos: usize,
    /// The error of a write that ran while the task went on, until it is reported.
    write_error: Option<io::Error>,
}

/// What finished on the pool.
enum Done {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    Flush(io::Result<()>),
}
// ANCHOR_END: file_state

impl File {
    /// Opens a file for reading; like `std::fs::File::open`.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let file = on_pool(&path, "open", |path| fs::File::open(path)).await?;
        Ok(File::from_std(file, path))
    }

    /// Creates (or truncates) a file for writing; like `std::fs::File::create`.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let file = on_pool(&path, "create", |path| fs::File::create(path)).await?;
        Ok(File::from_std(file, path))
    }

    fn from_std(file: fs::File, path: PathBuf) -> File {
        File {
            path,
            seeking: false,
            state: State::Idle(Some(Buffered {
                file,
                buf: Vec::new(),
                pos: 0,
                write_error: None,
            })),
        }
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ANCHOR: file_ops
    /// Waits for the operation in flight, then hands out the idle file.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut Buffered>> {
        if let State::Busy(task) = &mut self.state {
            let (mut buffered, done) = match task.poll_outcome(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(finished)) => finished,
                Poll::Ready(Err(error)) => {
                    return Poll::Ready(Err(io::Error::other(format!(
                        "a file operation on {} did not finish: {error}",
                        self.path.display()
                    ))))
                }
            };
            // Keep a write's error for the next operation: the write already said Ok.
            if let Done::Write(Err(error)) = done {
                buffered.write_error = Some(error);
            }
            self.state = State::Idle(Some(buffered));
        }
        let State::Idle(Some(buffered)) = &mut self.state else {
            unreachable!("a File is idle once its operation is done")
        };
        if let Some(error) = buffered.write_error.take() {
            return Poll::Ready(Err(with_path(error, "write", &self.path)));
        }
        Poll::Ready(Ok(buffered))
    }

    /// Starts `operation` on the pool with the idle file.
    fn start(&mut self, operation: impl FnOnce(&mut Buffered) -> Done + Send + 'static) {
        let State::Idle(buffered) = &mut self.state else {
            unreachable!("an operation starts only when the file is idle")
        };
        let mut buffered = buffered.take().expect("an idle File holds its file");
        self.state = State::Busy(run_in_executor(move || {
            let done = operation(&mut buffered);
            (buffered, done)
        }));
    }

    /// Waits for the operation in flight and returns its result.
    fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Done>> {
        let State::Busy(task) = &mut self.state else {
            unreachable!("poll_done is called while an operation is in flight")
        };
        let (buffered, done) = match task.poll_outcome(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(finished)) => finished,
            Poll::Ready(Err(error)) => {
                return Poll::Ready(Err(io::Error::other(error.to_string())))
            }
        };
        self.state = State::Idle(Some(buffered));
        Poll::Ready(Ok(done))
    }
    // ANCHOR_END: file_ops
}

// ANCHOR: file_read
impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            let buffered = match this.poll_idle(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result?,
            };
            if buffered.pos < buffered.buf.len() {
                // Hand out what an earlier read fetched.
                let ready = &buffered.buf[buffered.pos..];
                let n = ready.len().min(out.len());
                out[..n].copy_from_slice(&ready[..n]);
                buffered.pos += n;
                return Poll::Ready(Ok(n));
            }
            let want = out.len().min(CHUNK);
            this.start(move |buffered| {
                buffered.buf.resize(want, 0);
                buffered.pos = 0;
                let result = buffered.file.read(&mut buffered.buf);
                buffered.buf.truncate(*result.as_ref().unwrap_or(&0));
                Done::Read(result)
            });
            match this.poll_done(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(Done::Read(Err(error)))) => {
                    return Poll::Ready(Err(with_path(error, "read", &this.path)))
                }
                Poll::Ready(Ok(Done::Read(Ok(0)))) => return Poll::Ready(Ok(0)), // end of file
                Poll::Ready(Ok(_)) => continue, // hand the bytes out above
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            }
        }
    }
}
// ANCHOR_END: file_read

// ANCHOR: file_write
impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let buffered = match this.poll_idle(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result?,
        };
        // Bytes read ahead are not in the file's position any more: step back first.
        let unread = buffered.buf.len() - buffered.pos;
        let n = data.len().min(CHUNK);
        buffered.buf.clear();
        buffered.buf.extend_from_slice(&data[..n]);
        buffered.pos = 0;
        this.start(move |buffered| {
            let result = (|| {
                if unread > 0 {
                    buffered.file.seek(SeekFrom::Current(-(unread as i64)))?;
                }
                buffered.file.write_all(&buffered.buf)
            })();
            buffered.buf.clear();
            Done::Write(result)
        });
        // The write goes on while the task does: its error shows at the next operation.
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_idle(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result?,
        };
        this.start(|buffered| Done::Flush(buffered.file.flush()));
        match this.poll_done(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(Done::Flush(result))) => {
                Poll::Ready(result.map_err(|e| with_path(e, "flush", &this.path)))
            }
            Poll::Ready(Ok(_)) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
// ANCHOR_END: file_write

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        to: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        if !this.seeking {
            // Let the operation in flight finish (a write's error is reported here).
            let buffered = match this.poll_idle(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result?,
            };
            // The file's position is past the bytes read ahead: count them back.
            let unread = (buffered.buf.len() - buffered.pos) as i64;
            buffered.buf.clear();
            buffered.pos = 0;
            let to = match to {
                SeekFrom::Current(offset) => SeekFrom::Current(offset - unread),
                other => other,
            };
            this.start(move |buffered| Done::Seek(buffered.file.seek(to)));
            this.seeking = true;
        }
        let done = match this.poll_done(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(done) => done,
        };
        this.seeking = false;
        match done {
            Ok(Done::Seek(result)) => {
                Poll::Ready(result.map_err(|e| with_path(e, "seek in", &this.path)))
            }
            Ok(_) => unreachable!("the operation in flight is our seek"),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("path", &self.path).finish()
    }
}
