//! The driver: runs every (workload, runtime) pair as a separate worker process, `runs`
//! times, and prints the medians as a markdown table with the glass / tokio_ct ratio.
//! A workload that also reports the threads alive at the end (`blocking`) shows both
//! medians in its cell, `9.6; 342`. Most figures are costs (the target is a ratio to
//! stay at or under); the echo workloads' are rates, round trips per second, where the
//! target is a ratio to reach (`≥ 1.0`).
//!
//! Within each repetition the runtimes take turns, and the order rotates from one
//! repetition to the next, so that a noisy moment on the machine does not always land
//! on the same runtime. A worker that fails (wrong result, panic, non-zero exit, no
//! number, too slow) stops the whole run with its stderr: a wrong figure is worse than
//! none. A worker that exits with [`SKIP_STATUS`] and a `SKIPPED:` reason (echo_wide
//! when the open-files limit is too low) is not a failure: that workload is measured no
//! further, and its row shows the reason.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::workload::{Report, Workload, SKIP_STATUS};
use crate::RUST_RUNTIMES;

/// The asyncio twin of the workloads, next to this crate's Cargo.toml.
const ASYNCIO_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/asyncio_bench.py");

/// A worker that takes longer than this is killed and the run fails.
const WORKER_TIME_LIMIT: Duration = Duration::from_secs(120);

const USAGE: &str = "\
usage: glass-bench [--runs N] [--python | --no-python] [--runtimes a,b,...] [workload ...]

  --runs N          repetitions; the table shows medians (default 5)
  --python          require python3 and add the asyncio column (and uvloop, if it imports)
  --no-python       leave the Python columns out
                    (default: add them when python3 is on PATH)
  --runtimes LIST   only these columns, e.g. glass,tokio_ct
  workload ...      only these workloads (default: all)

workloads: ";

/// Whether to add the Python columns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PythonChoice {
    /// When `python3` runs.
    IfPresent,
    /// Always; fail if `python3` does not run.
    Required,
    /// Never.
    Never,
}

struct Options {
    runs: usize,
    python: PythonChoice,
    runtimes: Option<Vec<String>>,
    workloads: Vec<Workload>,
}

/// One column of the table: a runtime and how to start its worker.
struct Column {
    name: &'static str,
    kind: ColumnKind,
}

enum ColumnKind {
    /// This binary, `worker <name> <workload>`.
    Rust,
    /// `python3 asyncio_bench.py [--uvloop] <workload>`.
    Python { uvloop: bool },
}

impl Column {
    fn command(&self, workload: Workload) -> Command {
        let mut command = match self.kind {
            ColumnKind::Rust => {
                let exe = std::env::current_exe()
                    .unwrap_or_else(|e| die(format_args!("cannot find this binary: {e}")));
                let mut command = Command::new(exe);
                command.args(["worker", self.name]);
                command
            }
            ColumnKind::Python { uvloop } => {
                let mut command = Command::new("python3");
                command.arg(ASYNCIO_SCRIPT);
                if uvloop {
                    command.arg("--uvloop");
                }
                command
            }
        };
        command.arg(workload.name());
        // Measure real time, quietly: no paused clock, no tracing.
        for var in ["GLASS_PAUSED_CLOCK", "GLASS_TRACE", "GLASS_DEBUG"] {
            command.env_remove(var);
        }
        command
    }
}

/// Entry point of driver mode.
pub fn main(args: &[String]) {
    let options = parse(args);
    let columns = columns(&options);
    if columns.is_empty() {
        die("no runtime left to measure; check --runtimes");
    }

    // results[workload][column] = one report per repetition.
    let mut results = vec![vec![Vec::new(); columns.len()]; options.workloads.len()];
    // skipped[workload] = why a worker could not run it here.
    let mut skipped: Vec<Option<String>> = vec![None; options.workloads.len()];
    let started = Instant::now();
    for run in 0..options.runs {
        for (wi, &workload) in options.workloads.iter().enumerate() {
            for k in 0..columns.len() {
                if skipped[wi].is_some() {
                    break;
                }
                let ci = (k + run) % columns.len();
                let column = &columns[ci];
                let report = match measure(column, workload) {
                    Measured::Report(report) => report,
                    Measured::Skipped(reason) => {
                        eprintln!(
                            "run {}/{} {workload:>16} {:>8}: SKIPPED: {reason}",
                            run + 1,
                            options.runs,
                            column.name
                        );
                        skipped[wi] = Some(reason);
                        break;
                    }
                };
                let threads = match report.threads {
                    Some(threads) => format!(", {threads} threads at end"),
                    None => String::new(),
                };
                eprintln!(
                    "run {}/{} {workload:>16} {:>8}: {:>12.1} {}{threads}",
                    run + 1,
                    options.runs,
                    column.name,
                    report.figure,
                    workload.unit()
                );
                results[wi][ci].push(report);
            }
        }
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());

    print_table(&options, &columns, &results, &skipped);
}

fn parse(args: &[String]) -> Options {
    let mut options = Options {
        runs: 5,
        python: PythonChoice::IfPresent,
        runtimes: None,
        workloads: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                options.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| usage("--runs needs a positive number"));
            }
            "--python" => options.python = PythonChoice::Required,
            "--no-python" => options.python = PythonChoice::Never,
            "--runtimes" => {
                let list = args
                    .next()
                    .unwrap_or_else(|| usage("--runtimes needs a list"));
                options.runtimes = Some(list.split(',').map(str::to_owned).collect());
            }
            "-h" | "--help" => usage(""),
            name => match Workload::from_name(name) {
                Some(workload) => options.workloads.push(workload),
                None => usage(&format!("unknown workload or option {name:?}")),
            },
        }
    }
    if options.workloads.is_empty() {
        options.workloads = Workload::ALL.to_vec();
    }
    options
}

fn usage(problem: &str) -> ! {
    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    if problem.is_empty() {
        println!("{USAGE}{}", names.join(" "));
        std::process::exit(0);
    }
    eprintln!("glass-bench: {problem}\n{USAGE}{}", names.join(" "));
    std::process::exit(64);
}

/// The columns to measure, in table order.
fn columns(options: &Options) -> Vec<Column> {
    let wanted = |name: &str| match &options.runtimes {
        None => true,
        Some(list) => list.iter().any(|n| n == name),
    };
    let mut columns: Vec<Column> = RUST_RUNTIMES
        .into_iter()
        .filter(|name| wanted(name))
        .map(|name| Column {
            name,
            kind: ColumnKind::Rust,
        })
        .collect();

    let python = match options.python {
        PythonChoice::Never => false,
        PythonChoice::IfPresent => python_runs(&[]),
        PythonChoice::Required => {
            if !python_runs(&[]) {
                die("--python was given but `python3 --version` does not run");
            }
            true
        }
    };
    if python {
        if !Path::new(ASYNCIO_SCRIPT).is_file() {
            die(format_args!("{ASYNCIO_SCRIPT} is missing"));
        }
        if wanted("asyncio") {
            columns.push(Column {
                name: "asyncio",
                kind: ColumnKind::Python { uvloop: false },
            });
        }
        if wanted("uvloop") && python_runs(&["-c", "import uvloop"]) {
            columns.push(Column {
                name: "uvloop",
                kind: ColumnKind::Python { uvloop: true },
            });
        }
    } else if let Some(list) = &options.runtimes {
        if list.iter().any(|n| n == "asyncio" || n == "uvloop") {
            die("--runtimes names a Python column but Python is off or missing");
        }
    }
    if let Some(list) = &options.runtimes {
        for name in list {
            let known = RUST_RUNTIMES.contains(&name.as_str()) || name == "asyncio";
            if !known && name != "uvloop" {
                usage(&format!("unknown runtime {name:?}"));
            }
        }
    }
    columns
}

/// Whether `python3 ARGS` (default `--version`) runs and exits 0.
fn python_runs(args: &[&str]) -> bool {
    let args = if args.is_empty() {
        &["--version"]
    } else {
        args
    };
    Command::new("python3")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What a worker gave back.
enum Measured {
    /// Its figure (and thread count).
    Report(Report),
    /// It cannot run the workload on this machine, and says why.
    Skipped(String),
}

/// Runs one worker process and returns what it printed, or stops everything.
fn measure(column: &Column, workload: Workload) -> Measured {
    let what = format!("{} {workload}", column.name);
    let mut child = column
        .command(workload)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| die(format_args!("{what}: cannot start the worker: {e}")));

    // Read both pipes on threads, so that a chatty worker cannot block on a full pipe.
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());

    let deadline = Instant::now() + WORKER_TIME_LIMIT;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                // Only the worker this driver started, by its own handle.
                let _ = child.kill();
                let _ = child.wait();
                let err = stderr.join().unwrap_or_default();
                die(format_args!(
                    "{what}: worker still running after {} s; killed it\n{err}",
                    WORKER_TIME_LIMIT.as_secs()
                ));
            }
            Err(e) => die(format_args!("{what}: cannot wait for the worker: {e}")),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if status.code() == Some(SKIP_STATUS) {
        if let Some(reason) = skip_reason(&err) {
            return Measured::Skipped(reason);
        }
    }
    if !status.success() {
        die(format_args!(
            "{what}: worker FAILED ({status})\n--- its stderr ---\n{err}--- its stdout ---\n{out}"
        ));
    }
    let report = parse_report(workload, &out).unwrap_or_else(|| {
        let expected = if workload.reports_threads() {
            "a figure and a thread count"
        } else {
            "one number"
        };
        die(format_args!(
            "{what}: worker printed {:?} instead of {expected}\n{err}",
            out.trim()
        ))
    });
    Measured::Report(report)
}

/// The reason after `SKIPPED: ` on a skipping worker's stderr.
fn skip_reason(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|line| {
        let (_, reason) = line.split_once("SKIPPED: ")?;
        Some(reason.trim().to_owned())
    })
}

/// The glass / tokio_ct ratio and whether it meets `target`: at or under it for a
/// cost, at or over it for a rate ([`Workload::higher_is_better`]).
fn ratio_meets(workload: Workload, glass: f64, tokio: f64) -> (f64, bool) {
    let ratio = glass / tokio;
    let met = if workload.higher_is_better() {
        ratio >= workload.target()
    } else {
        ratio <= workload.target()
    };
    (ratio, met)
}

/// Reads a worker's output: `FIGURE`, or `FIGURE THREADS` for a workload that
/// [reports threads](Workload::reports_threads). Anything else is `None`.
fn parse_report(workload: Workload, out: &str) -> Option<Report> {
    let mut words = out.split_whitespace();
    let figure = words
        .next()?
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)?;
    let threads = if workload.reports_threads() {
        Some(words.next()?.parse::<u64>().ok()?)
    } else {
        None
    };
    words.next().is_none().then_some(Report { figure, threads })
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

fn die(message: impl std::fmt::Display) -> ! {
    eprintln!("glass-bench: {message}");
    std::process::exit(1)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// `5711.4` → `5 711`, `45.27` → `45.3`: the style of BENCHMARKS.md.
fn format_figure(value: f64) -> String {
    if value >= 100.0 {
        let digits = format!("{:.0}", value);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    } else {
        format!("{value:.1}")
    }
}

/// The median of the thread counts, rounded down to a whole thread.
fn median_threads(reports: &[Report]) -> Option<u64> {
    let counts: Vec<f64> = reports
        .iter()
        .map(|r| r.threads.map(|t| t as f64))
        .collect::<Option<_>>()?;
    Some(median(&counts) as u64)
}

fn print_table(
    options: &Options,
    columns: &[Column],
    results: &[Vec<Vec<Report>>],
    skipped: &[Option<String>],
) {
    let glass = columns.iter().position(|c| c.name == "glass");
    let tokio = columns.iter().position(|c| c.name == "tokio_ct");

    println!();
    println!(
        "Medians of {} run(s); every figure from its own process. Lower is better, \
         except for rates (a target of `≥`): there higher is better.",
        options.runs
    );
    println!();
    let mut header = String::from("| workload | unit |");
    let mut rule = String::from("|---|---|");
    for column in columns {
        header += &format!(" {} |", column.name);
        rule += "---:|";
    }
    header += " glass/tokio | target |";
    rule += "---:|---|";
    println!("{header}");
    println!("{rule}");

    for (wi, &workload) in options.workloads.iter().enumerate() {
        if let Some(reason) = &skipped[wi] {
            let dashes = " – |".repeat(columns.len() + 1);
            println!(
                "| {workload} | {} |{dashes} skipped: {reason} |",
                workload.unit()
            );
            continue;
        }
        let medians: Vec<f64> = results[wi]
            .iter()
            .map(|runs| median(&runs.iter().map(|r| r.figure).collect::<Vec<_>>()))
            .collect();
        let unit = if workload.reports_threads() {
            format!("{}; threads at end", workload.unit())
        } else {
            workload.unit().to_owned()
        };
        let mut row = format!("| {workload} | {unit} |");
        for (ci, &m) in medians.iter().enumerate() {
            match median_threads(&results[wi][ci]) {
                Some(threads) => row += &format!(" {}; {threads} |", format_figure(m)),
                None => row += &format!(" {} |", format_figure(m)),
            }
        }
        let target = workload.target();
        let sign = if workload.higher_is_better() {
            "≥"
        } else {
            "≤"
        };
        let mut goal = format!("{sign} {target:.1}");
        if let Some(max) = workload.max_threads() {
            goal += &format!(", ≤ {max} threads");
        }
        match (glass, tokio) {
            (Some(g), Some(t)) if medians[t] > 0.0 => {
                let (ratio, ratio_ok) = ratio_meets(workload, medians[g], medians[t]);
                // The thread cap is a cap: glass's largest count over the runs, not
                // its median, must stay under it.
                let most_threads = results[wi][g].iter().filter_map(|r| r.threads).max();
                let threads_ok = match (workload.max_threads(), most_threads) {
                    (Some(max), Some(most)) => most <= max,
                    _ => true,
                };
                let verdict = if ratio_ok && threads_ok {
                    "met"
                } else {
                    "MISSED"
                };
                row += &format!(" {ratio:.2} | {goal} ({verdict}) |");
            }
            _ => row += &format!(" – | {goal} |"),
        }
        println!("{row}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn worker_output_is_one_number_or_a_figure_and_threads() {
        let report = |figure, threads| Some(Report { figure, threads });
        assert_eq!(
            parse_report(Workload::Spawn, "468.125\n"),
            report(468.125, None)
        );
        assert_eq!(parse_report(Workload::Spawn, "468.1 7"), None);
        assert_eq!(
            parse_report(Workload::Blocking, "9.600 342\n"),
            report(9.6, Some(342))
        );
        assert_eq!(parse_report(Workload::Blocking, "9.6"), None);
        assert_eq!(parse_report(Workload::Blocking, "9.6 3.5"), None);
        assert_eq!(parse_report(Workload::Blocking, "9.6 7 8"), None);
        assert_eq!(parse_report(Workload::Spawn, "-1"), None);
    }

    #[test]
    fn median_threads_rounds_down_and_needs_every_count() {
        let r = |threads| Report {
            figure: 1.0,
            threads,
        };
        assert_eq!(median_threads(&[r(Some(7)), r(Some(9))]), Some(8));
        assert_eq!(median_threads(&[r(Some(7)), r(Some(8))]), Some(7));
        assert_eq!(median_threads(&[r(None)]), None);
    }

    #[test]
    fn a_rate_must_reach_its_target_and_a_cost_stay_under_it() {
        // echo: round trips per second, target ≥ 1.0.
        assert_eq!(ratio_meets(Workload::Echo, 120.0, 100.0), (1.2, true));
        assert_eq!(ratio_meets(Workload::Echo, 100.0, 100.0), (1.0, true));
        assert_eq!(ratio_meets(Workload::Echo, 80.0, 100.0), (0.8, false));
        // yield: ns per switch, target ≤ 1.0.
        assert_eq!(ratio_meets(Workload::Yield, 80.0, 100.0), (0.8, true));
        assert_eq!(ratio_meets(Workload::Yield, 120.0, 100.0), (1.2, false));
    }

    #[test]
    fn a_skipping_worker_gives_its_reason() {
        let stderr = "glass-bench worker: SKIPPED: echo_wide needs 20064 open files\n";
        assert_eq!(
            skip_reason(stderr).as_deref(),
            Some("echo_wide needs 20064 open files")
        );
        assert_eq!(skip_reason("glass-bench worker: WRONG RESULT: x\n"), None);
    }

    #[test]
    fn figures_group_thousands_like_the_anchor_table() {
        assert_eq!(format_figure(5711.4), "5 711");
        assert_eq!(format_figure(1_234_567.0), "1 234 567");
        assert_eq!(format_figure(456.0), "456");
        assert_eq!(format_figure(45.27), "45.3");
    }
}
