//! Runs every example program and checks what it prints against its transcript in
//! `tests/expected/NAME.txt`.
//!
//! The examples run on the paused clock (`GLASS_PAUSED_CLOCK=1`), so their sleeps are
//! instant and their timestamps exact. Lines that start with `time:` are real-time
//! measurements; they are dropped before comparing.
//!
//! `cargo test` builds the examples before it runs the tests; this file runs the built
//! binaries, found next to the test binary (`target/<profile>/examples/NAME`). Note that
//! `cargo test --test examples` alone does not rebuild them: after editing an example,
//! run plain `cargo test` (or `cargo build --examples` first).

use std::path::PathBuf;
use std::process::Command;

/// Where cargo put the example `name`: the test binary is
/// `target/<profile>/deps/examples-<hash>`, the examples are in `target/<profile>/examples/`.
fn example_binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary knows its own path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps/");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "example `{name}` is not built (looked for {}); run `cargo test`, which builds \
         the examples before running the tests, or `cargo build --examples`",
        binary.display()
    );
    binary
}

/// The lines worth comparing: everything but the `time:` measurements.
fn stable_lines(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .filter(|line| !line.starts_with("time:"))
        .collect()
}

/// Runs example `name` on the paused clock with the extra environment `env`, and checks
/// that it succeeds and prints `tests/expected/NAME.txt`.
fn check_example(name: &str, env: &[(&str, &str)]) {
    check_example_with_args(name, &[], env);
}

/// Like [`check_example`], passing `args` on the example's command line.
fn check_example_with_args(name: &str, args: &[&str], env: &[(&str, &str)]) {
    let output = Command::new(example_binary(name))
        .args(args)
        .env("GLASS_PAUSED_CLOCK", "1")
        .env_remove("GLASS_DEBUG")
        .env_remove("GLASS_TRACE")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|error| panic!("could not run example `{name}`: {error}"));
    let seen = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "example `{name}` failed ({}).\n--- stdout:\n{seen}--- stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let expected_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(format!("{name}.txt"));
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", expected_path.display()));

    if stable_lines(&expected) != stable_lines(&seen) {
        panic!(
            "example `{name}` printed something other than {}\n\
             --- expected:\n{expected}--- seen:\n{seen}--- end",
            expected_path.display()
        );
    }
}

#[test]
fn hello_prints_its_transcript() {
    check_example("hello", &[]);
}

#[test]
fn sequential_prints_its_transcript() {
    check_example("sequential", &[]);
}

#[test]
fn create_task_prints_its_transcript() {
    check_example("create_task", &[]);
}

#[test]
fn gather_prints_its_transcript() {
    check_example("gather", &[]);
}

#[test]
fn calls_prints_its_transcript() {
    check_example("calls", &[]);
}

#[test]
fn wait_for_prints_its_transcript() {
    check_example("wait_for", &[]);
}

#[test]
fn callbacks_prints_its_transcript() {
    check_example("callbacks", &[]);
}

#[test]
fn pingpong_prints_its_transcript() {
    check_example("pingpong", &[]);
}

#[test]
fn switch_cost_prints_its_transcript() {
    check_example("switch_cost", &[]);
}

#[test]
fn blocking_sleep_prints_its_transcript() {
    // Five blocking sleeps of 2 ms: the only real sleeping any example test does.
    check_example("blocking_sleep", &[("GLASS_EXAMPLE_UNIT_MS", "2")]);
}

#[test]
fn event_prints_its_transcript() {
    check_example("event", &[]);
}

#[test]
fn hotpot_prints_its_transcript() {
    check_example("hotpot", &[]);
}

#[test]
fn lock_prints_its_transcript() {
    check_example("lock", &[]);
}

#[test]
fn atm_prints_its_transcript() {
    check_example("atm", &[]);
}

#[test]
fn tickets_prints_its_transcript() {
    check_example("tickets", &[]);
}

#[test]
fn semaphore_prints_its_transcript() {
    check_example("semaphore", &[]);
}

#[test]
fn room_prints_its_transcript() {
    check_example("room", &[]);
}

#[test]
fn queue_prints_its_transcript() {
    check_example("queue", &[]);
}

#[test]
fn adders_prints_its_transcript() {
    check_example("adders", &[]);
}

#[test]
fn mantou_prints_its_transcript() {
    check_example("mantou", &[]);
}

#[test]
fn shutdown_prints_its_transcript() {
    check_example("shutdown", &[]);
}

#[test]
fn run_in_executor_prints_its_transcript() {
    // Three blocking jobs of 1 ms each, and a CPU job (primes below 100 000).
    check_example("run_in_executor", &[("GLASS_EXAMPLE_UNIT_MS", "1")]);
}

#[test]
fn thread_pool_prints_its_transcript() {
    // Twenty-one jobs of 1 ms on three workers: about 9 ms of real sleeping.
    check_example("thread_pool", &[("GLASS_EXAMPLE_UNIT_MS", "1")]);
}

#[test]
fn files_prints_its_transcript() {
    check_example("files", &[]);
}

#[test]
fn many_loops_prints_its_transcript() {
    check_example("many_loops", &[]);
}

#[test]
fn try_gather_prints_its_transcript() {
    check_example("try_gather", &[]);
}

#[test]
fn as_completed_prints_its_transcript() {
    check_example("as_completed", &[]);
}

#[test]
fn task_group_prints_its_transcript() {
    // The panicking child's report goes to stderr; only stdout is compared.
    check_example("task_group", &[]);
}

#[test]
fn echo_server_prints_its_transcript() {
    // The server and a hundred clients in one process, over loopback: 500 echoed
    // messages (about 4.6 MB each way) and one client that hangs up mid-message.
    check_example_with_args("echo_server", &["--clients", "100"], &[]);
}

#[test]
fn http_get_prints_its_transcript() {
    check_example("http_get", &[]);
}

#[test]
fn deadlock_prints_its_transcript() {
    // Part 1 waits out a grace period of 200 ms of real time before the report.
    check_example("deadlock", &[]);
}
