#!/usr/bin/env python3
"""The glass-bench workloads in plain asyncio, for the table's `asyncio` column.

    python3 bench/asyncio_bench.py [--uvloop] <workload>

runs one workload once, checks its result (exit status 2 and a message on stderr when
it is wrong) and prints one number: the same figure, in the same unit, as
`glass-bench worker <runtime> <workload>` (for `blocking`, two: the figure, then the
threads alive at the end). The parameters are those of
bench/src/workload.rs. `--uvloop` runs the same code on uvloop's event loop. A workload
that cannot run here (echo_wide with too low a limit on open files) exits with status
3 and a `SKIPPED:` reason on stderr, as the Rust workers do.
"""

import asyncio
import os
import resource
import socket
import sys
import time

SPAWN_N = 200_000
YIELD_TASKS = 1_000
YIELD_ROUNDS = 1_000
TIMERS_N = 100_000
TIMERS_MAX_US = 200_000
TIMERS_EARLY_TOLERANCE_S = 0.001
# CPython is ~100 times slower per operation than the Rust runtimes: a quarter of the
# Rust n keeps these two workloads at a few seconds. Their figures are per operation,
# so they stay comparable.
TIMEOUT_N = 250_000
ARM_N = 250_000
YIELD_EVERY = 1_000
LONG_S = 1.0
LOCK_TASKS = 1_000
# asyncio's lock costs ~5-15 µs per acquire here (up to 20 s for the Rust workload's
# 1 000 rounds): a quarter of the rounds, still behind the same 1 000 tasks piling up,
# keeps it at a few seconds. The figure is per lock, so it stays comparable.
LOCK_ROUNDS = 250
LOCK_YIELD_EVERY = 100
SPSC_N = 2_000_000
MPMC_PRODUCERS = 4
MPMC_PER_PRODUCER = 500_000
MPMC_N = MPMC_PRODUCERS * MPMC_PER_PRODUCER
MPMC_CONSUMERS = 4
QUEUE_CAPACITY = 1_024
BLOCKING_TASKS = 100
BLOCKING_PER_TASK = 200
BLOCKING_N = BLOCKING_TASKS * BLOCKING_PER_TASK
ECHO_CLIENTS = 50
# asyncio's streams take ~40-60 µs per round trip here (25 s or more for the Rust
# workload's 10 000 rounds): a fifth of the rounds, over the same 50 connections, keeps
# it at a few seconds. The figure is per second, so it stays comparable.
ECHO_ROUNDS = 2_000
ECHO_WIDE_CLIENTS = 10_000
# The same 10 000 connections, but 5 round trips each instead of 20: 20 took ~30 s
# here (plus ~7 s to connect them one by one, outside the clock). Closing the sockets
# weighs more per round trip with fewer rounds, so this figure is a little low.
ECHO_WIDE_ROUNDS = 5
ECHO_MESSAGE = 64
ECHO_BUFFER = 1_024
FD_HEADROOM = 64
SKIP_STATUS = 3
IDLE_N = 100_000

MASK64 = (1 << 64) - 1
# Byte i is i: XORed into each echo message, as workload.rs's `echo_message` does.
ECHO_INDEX = int.from_bytes(bytes(range(ECHO_MESSAGE)), "little")


def fail(message):
    print(f"asyncio_bench: WRONG RESULT: {message}", file=sys.stderr)
    sys.exit(2)


def skip(reason):
    print(f"asyncio_bench: SKIPPED: {reason}", file=sys.stderr)
    sys.exit(SKIP_STATUS)


def check(workload, what, got, expected):
    if got != expected:
        fail(f"{workload}: {what} was {got}, expected {expected}")


def splitmix64(seed):
    """SplitMix64, as in workload.rs: the same durations on every runtime."""
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def timer_durations_us():
    rng = splitmix64(42)
    return [next(rng) % (TIMERS_MAX_US + 1) for _ in range(TIMERS_N)]


def threads_alive():
    """The threads alive in this process, the main thread included."""
    return len(os.listdir("/proc/self/task"))


def rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    fail("no VmRSS line in /proc/self/status")


async def spawn():
    async def job(i):
        return i

    start = time.perf_counter_ns()
    tasks = [asyncio.create_task(job(i)) for i in range(SPAWN_N)]
    total = 0
    for task in tasks:
        total += await task
    elapsed = time.perf_counter_ns() - start
    check("spawn", "sum", total, SPAWN_N * (SPAWN_N - 1) // 2)
    return elapsed / SPAWN_N


async def yield_switch():
    async def job():
        yields = 0
        for _ in range(YIELD_ROUNDS):
            await asyncio.sleep(0)
            yields += 1
        return yields

    start = time.perf_counter_ns()
    tasks = [asyncio.create_task(job()) for _ in range(YIELD_TASKS)]
    yields = 0
    for task in tasks:
        yields += await task
    elapsed = time.perf_counter_ns() - start
    check("yield", "yields", yields, YIELD_TASKS * YIELD_ROUNDS)
    return elapsed / (YIELD_TASKS * YIELD_ROUNDS)


async def timers():
    durations = timer_durations_us()
    longest_ns = max(durations) * 1_000

    # time.monotonic() is the clock asyncio's loop uses.
    start_s = time.monotonic()

    async def job(us):
        await asyncio.sleep(us / 1_000_000)
        early = time.monotonic() - start_s + TIMERS_EARLY_TOLERANCE_S < us / 1_000_000
        return us, int(early)

    start = time.perf_counter_ns()
    tasks = [asyncio.create_task(job(us)) for us in durations]
    slept = early = 0
    for task in tasks:
        us, was_early = await task
        slept += us
        early += was_early
    elapsed = time.perf_counter_ns() - start
    check("timers", "µs slept", slept, sum(durations))
    check("timers", "sleeps that ended early", early, 0)
    return max(elapsed - longest_ns, 0) / TIMERS_N


async def timeout_cancel():
    async def ready(i):
        return i

    async def one_task():
        start = time.perf_counter_ns()
        total = 0
        for i in range(TIMEOUT_N):
            # asyncio.timeout (3.11+) is the twin of `timeout(d, fut)`: it arms a timer
            # around the await and cancels it when the block exits. (wait_for, before
            # 3.12, would also wrap the coroutine in a task of its own.)
            async with asyncio.timeout(LONG_S):
                total += await ready(i)
            if (i + 1) % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return total, time.perf_counter_ns() - start

    total, elapsed = await asyncio.create_task(one_task())
    check("timeout_cancel", "sum", total, TIMEOUT_N * (TIMEOUT_N - 1) // 2)
    return elapsed / TIMEOUT_N


async def timer_arm_cancel():
    async def one_task():
        start = time.perf_counter_ns()
        armed = 0
        for i in range(ARM_N):
            # A coroutine is driven by send(), the twin of poll(): the first send runs
            # asyncio.sleep up to its `await future`, after it has armed its timer with
            # loop.call_later; close() is the twin of drop: its `finally` cancels the
            # timer handle.
            sleep = asyncio.sleep(LONG_S)
            try:
                sleep.send(None)
                armed += 1
            except StopIteration:
                pass
            sleep.close()
            if (i + 1) % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return armed, time.perf_counter_ns() - start

    armed, elapsed = await asyncio.create_task(one_task())
    check("timer_arm_cancel", "sleeps pending after one step", armed, ARM_N)
    return elapsed / ARM_N


async def lock():
    lk = asyncio.Lock()
    counter = 0

    async def job():
        nonlocal counter
        for i in range(LOCK_ROUNDS):
            async with lk:
                counter += 1
                if (i + 1) % LOCK_YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # still holding the lock

    start = time.perf_counter_ns()
    tasks = [asyncio.create_task(job()) for _ in range(LOCK_TASKS)]
    for task in tasks:
        await task
    elapsed = time.perf_counter_ns() - start
    check("lock", "counter", counter, LOCK_TASKS * LOCK_ROUNDS)
    return elapsed / (LOCK_TASKS * LOCK_ROUNDS)


async def queue_spsc():
    queue = asyncio.Queue(QUEUE_CAPACITY)

    async def producer():
        for i in range(SPSC_N):
            await queue.put(i)

    async def consumer():
        total = 0
        for _ in range(SPSC_N):
            total += await queue.get()
        return total

    start = time.perf_counter_ns()
    produce = asyncio.create_task(producer())
    consume = asyncio.create_task(consumer())
    await produce
    total = await consume
    elapsed = time.perf_counter_ns() - start
    check("queue_spsc", "sum", total, SPSC_N * (SPSC_N - 1) // 2)
    return elapsed / SPSC_N


async def queue_mpmc():
    queue = asyncio.Queue(QUEUE_CAPACITY)

    async def producer(p):
        first = p * MPMC_PER_PRODUCER
        for i in range(first, first + MPMC_PER_PRODUCER):
            await queue.put(i)

    async def consumer():
        total = count = 0
        # Queue.shutdown is Python 3.13+: one sentinel per consumer ends the loop.
        while (item := await queue.get()) is not None:
            total += item
            count += 1
        return total, count

    start = time.perf_counter_ns()
    producers = [asyncio.create_task(producer(p)) for p in range(MPMC_PRODUCERS)]
    consumers = [asyncio.create_task(consumer()) for _ in range(MPMC_CONSUMERS)]
    for task in producers:
        await task
    for _ in consumers:
        await queue.put(None)
    total = count = 0
    for task in consumers:
        s, c = await task
        total += s
        count += c
    elapsed = time.perf_counter_ns() - start
    check("queue_mpmc", "items", count, MPMC_N)
    check("queue_mpmc", "sum", total, MPMC_N * (MPMC_N - 1) // 2)
    return elapsed / MPMC_N
async def blocking():
    loop = asyncio.get_running_loop()

    async def job(t):
        total = 0
        for k in range(BLOCKING_PER_TASK):
            i = t * BLOCKING_PER_TASK + k
            # None: the loop's default executor, a ThreadPoolExecutor of
            # min(32, cpus + 4) threads. The lambda's default argument binds this i.
            total += await loop.run_in_executor(None, lambda i=i: i)
        return total

    start = time.perf_counter_ns()
    tasks = [asyncio.create_task(job(t)) for t in range(BLOCKING_TASKS)]
    total = 0
    for task in tasks:
        total += await task
    elapsed = time.perf_counter_ns() - start
    threads = threads_alive()
    check("blocking", "sum", total, BLOCKING_N * (BLOCKING_N - 1) // 2)
    return elapsed / 1_000 / BLOCKING_N, threads


def echo_message(client, rnd):
    """The 64 bytes client `client` sends in round trip `rnd` (workload.rs's
    `echo_message`): byte i is byte i % 8 of a 64-bit seed, XOR i."""
    seed = ((client * 0x9E3779B97F4A7C15) & MASK64) ^ ((rnd * 0xBF58476D) & MASK64)
    repeated = int.from_bytes(seed.to_bytes(8, "little") * (ECHO_MESSAGE // 8), "little")
    return (repeated ^ ECHO_INDEX).to_bytes(ECHO_MESSAGE, "little")


def check_open_files(name, clients):
    """Skips the workload when the soft limit on open files is below what it needs:
    both ends of every connection live in this process."""
    needed = 2 * clients + FD_HEADROOM
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        skip(
            f"{name} needs {needed} open files (both ends of every connection), the "
            f"soft limit is {soft}: run `ulimit -n 65536` in this shell first"
        )


async def echo_with(name, clients, rounds):
    """An echo server (start_server) and `clients` connections to it (open_connection).
    Every client connects first; the clock then runs from starting the clients' tasks
    (each does `rounds` round trips) until every socket is closed."""
    loop = asyncio.get_running_loop()
    echoed = 0
    handlers_done = 0
    all_done = loop.create_future()

    async def echo_back(reader, writer):
        # start_server runs this in a task of its own for each connection.
        nonlocal echoed, handlers_done
        writer.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        while data := await reader.read(ECHO_BUFFER):
            writer.write(data)
            await writer.drain()
            echoed += len(data)
        writer.close()
        await writer.wait_closed()
        handlers_done += 1
        if handlers_done == clients:
            all_done.set_result(None)

    server = await asyncio.start_server(echo_back, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    streams = []
    for _ in range(clients):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        streams.append((reader, writer))

    async def client(c, reader, writer):
        matched = 0
        for rnd in range(rounds):
            message = echo_message(c, rnd)
            writer.write(message)
            await writer.drain()
            back = await reader.readexactly(ECHO_MESSAGE)
            matched += back == message
        writer.close()  # the server's echo_back reads the end of file
        await writer.wait_closed()
        return matched

    start = time.perf_counter_ns()
    tasks = [
        asyncio.create_task(client(c, reader, writer))
        for c, (reader, writer) in enumerate(streams)
    ]
    matched = 0
    for task in tasks:
        matched += await task
    await all_done
    elapsed = time.perf_counter_ns() - start
    server.close()
    await server.wait_closed()
    round_trips = clients * rounds
    check(name, "echoes that matched", matched, round_trips)
    check(name, "bytes the server echoed", echoed, round_trips * ECHO_MESSAGE)
    return round_trips / (elapsed / 1e9)


async def echo():
    return await echo_with("echo", ECHO_CLIENTS, ECHO_ROUNDS)


async def echo_wide():
    return await echo_with("echo_wide", ECHO_WIDE_CLIENTS, ECHO_WIDE_ROUNDS)


async def idle_memory():
    loop = asyncio.get_running_loop()
    started = 0

    async def idle():
        nonlocal started
        started += 1
        # TODO(glass::sync): wait on an asyncio.Event that is never set, as
        # BENCHMARKS.md says, once glass has an Event; until then every runtime's tasks
        # await a future that never completes (Rust: std::future::pending()).
        await loop.create_future()

    before = rss_bytes()
    # The loop keeps only weak references to tasks: keep them alive in a list.
    tasks = [asyncio.create_task(idle()) for _ in range(IDLE_N)]
    # Let every task run up to its first await, so that each is really parked.
    while started < IDLE_N:
        await asyncio.sleep(0)
    after = rss_bytes()
    check("idle_memory", "tasks started", started, IDLE_N)
    for task in tasks:
        task.cancel()
    return max(after - before, 0) / IDLE_N


WORKLOADS = {
    "spawn": spawn,
    "yield": yield_switch,
    "timers": timers,
    "timeout_cancel": timeout_cancel,
    "timer_arm_cancel": timer_arm_cancel,
    "lock": lock,
    "queue_spsc": queue_spsc,
    "queue_mpmc": queue_mpmc,
    "blocking": blocking,
    "echo": echo,
    "echo_wide": echo_wide,
    "idle_memory": idle_memory,
}


def main(argv):
    if sys.version_info < (3, 11):
        fail("needs Python 3.11 or later (asyncio.timeout)")
    use_uvloop = "--uvloop" in argv
    args = [a for a in argv if a != "--uvloop"]
    if len(args) != 1 or args[0] not in WORKLOADS:
        print(
            f"usage: asyncio_bench.py [--uvloop] <{'|'.join(WORKLOADS)}>",
            file=sys.stderr,
        )
        sys.exit(64)
    workload = WORKLOADS[args[0]]
    if args[0] == "echo_wide":
        check_open_files("echo_wide", ECHO_WIDE_CLIENTS)
    if use_uvloop:
        import uvloop

        report = uvloop.run(workload())
    else:
        report = asyncio.run(workload())
    # blocking returns (figure, threads at end); the others, the figure alone.
    if isinstance(report, tuple):
        figure, threads = report
        print(f"{figure:.3f} {threads}")
    else:
        print(f"{report:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
