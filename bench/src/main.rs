//! glass-bench: the same workloads on glass, tokio's current-thread runtime, smol, and
//! (when python3 is there) CPython's asyncio, each measured in a process of its own.
//!
//! ```text
//! cargo run --release -p glass-bench -- [--runs 5] [--python | --no-python]
//!                                       [--runtimes glass,tokio_ct,...] [workload ...]
//! glass-bench worker <glass|tokio_ct|smol> <workload>     (what the driver runs)
//! ```
//!
//! The driver (`driver.rs`) re-executes this binary once per (repetition, workload,
//! runtime), so that no runtime inherits another's heap, threads or warm caches; a
//! worker runs one workload once, checks its result, and prints one number (two for
//! `blocking`: the figure, then the threads alive at the end), or exits with status 3
//! and a `SKIPPED:` reason when the machine cannot run it (echo_wide's file
//! descriptors). See
//! README.md for what each workload measures and how to read the table.

mod driver;
mod glass_rt;
mod smol_rt;
mod tokio_rt;
mod workload;

use workload::Workload;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("worker") => worker(&args[1..]),
        _ => driver::main(&args),
    }
}

/// The Rust runtimes a worker can run, by the names the table uses.
pub const RUST_RUNTIMES: [&str; 3] = ["glass", "tokio_ct", "smol"];

/// `glass-bench worker RUNTIME WORKLOAD`: run one workload once, print its figure (and,
/// for `blocking`, the threads alive at the end after a space).
fn worker(args: &[String]) {
    let [runtime, workload] = args else {
        eprintln!("usage: glass-bench worker <glass|tokio_ct|smol> <workload>");
        std::process::exit(64);
    };
    let Some(workload) = Workload::from_name(workload) else {
        eprintln!("glass-bench worker: unknown workload {workload:?}");
        std::process::exit(64);
    };
    // The paused clock would make every sleep instant: the timers figure would be a lie.
    if std::env::var_os("GLASS_PAUSED_CLOCK").is_some_and(|v| !v.is_empty() && v != "0") {
        eprintln!("glass-bench worker: GLASS_PAUSED_CLOCK is set; unset it to measure");
        std::process::exit(64);
    }
    // echo_wide needs more open files than a default soft limit allows: say so (the
    // driver then skips the row) rather than fail halfway with EMFILE.
    workload::check_open_files(workload);
    let report = match runtime.as_str() {
        "glass" => glass_rt::run(workload),
        "tokio_ct" => tokio_rt::run(workload),
        "smol" => smol_rt::run(workload),
        other => {
            eprintln!("glass-bench worker: unknown runtime {other:?}");
            std::process::exit(64);
        }
    };
    match report.threads {
        None => println!("{:.3}", report.figure),
        Some(threads) => println!("{:.3} {threads}", report.figure),
    }
}
