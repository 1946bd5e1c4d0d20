"""Endurance benchmark: thousands of watcher cycles on a hand-moved clock; does anything creep? (prints figures)

    nice .venv/bin/python bench/endurance.py [--cycles 10000] [--warmup 2880] [--jobs 10000] [--step-s 60]
                                            [--retention-days 2] [--retention-hook module:function]

Two processes. This one plays DLF and Slack: the DLF sandbox (its clock moved by hand) and the fake Slack, plus a
simulated project of `--jobs` daily jobs, each watched by one of 50 channels (10,000 subscriptions by default): every
simulated minute a few instances are planned, most run a few minutes, some hours, some wait on an upstream for up
to 15 hours first; 5 % fail (a trickle: about one every three cycles), half of those are rerun later and mostly
succeed. The other process is the bot as deployed, measured on its own: the real poller, outbox deliverer and
SQLite store (`build_watcher`), its clock set to the simulated time before each cycle; after each cycle it delivers
the outbox to the fake Slack and, every simulated hour, prunes with retention (`--retention-days`).

Retention: the store's own pruning (`bot.store.retention.prune`, with the cutoffs the watcher computes from
`DLF_RETENTION_DAYS`), every simulated hour. `--retention-hook module:function` names another one to compare (called
as `await function(store, now_ms=..., retention_days=...)`).

Figures at the end of the warm-up ("start": the retention horizon is reached, everything that accumulates is at its
steady state), in the middle and at the end of the measured cycles: RSS, open files, database size (file + WAL),
Python objects, median and p95 cycle time over the previous `--window` cycles, instances listed per cycle, and
unfinished instances followed. Flat means the bot's cost does not grow with its history.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ctypes
import gc
import heapq
import importlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
CHANNELS = 50
FAIL_RATE = 0.05
RERUN_RATE = 0.5
START_MS = 1_798_761_600_000  # 2027-01-01 00:00 UTC


# ------------------------------------------------------------------------------------------------ the bot's side
def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _heap_kb() -> tuple[int, int] | None:
    """glibc's malloc heap: (in use, free but kept) in kB — which of the two an RSS growth is (None off glibc)."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) // 1024, info.fordblks // 1024


def _sqlite_kb() -> int | None:
    """What SQLite itself holds (page caches, statements, schema) in this process, kB."""
    try:
        import _sqlite3

        memory_used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    except (ImportError, OSError, AttributeError):
        return None
    memory_used.restype = ctypes.c_int64
    return int(memory_used()) // 1024


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


async def _store_retention(store: Any, *, now_ms: int, retention_days: float) -> None:
    """The store's own retention, as the watcher runs it (`bot.store.retention.prune` with the watcher's cutoffs)."""
    from bot.store.retention import prune
    from bot.watcher.retention import RetentionOptions

    await prune(store, cutoffs=RetentionOptions(days=retention_days).cutoffs(now_ms))


def _retention(hook: str | None) -> tuple[str, Callable[..., Awaitable[None]]]:
    if hook:
        module, _, name = hook.partition(":")
        return hook, getattr(importlib.import_module(module), name)
    return "the store's own (bot.store.retention.prune)", _store_retention


async def bot_process(args: argparse.Namespace) -> None:
    """The measured process: reads {"now": ms} lines, runs one cycle + delivery each, answers one JSON line."""
    from pydantic import SecretStr

    from bot.dlf.auth import AkSk
    from bot.dlf.client import DlfClient
    from bot.dlf.config import DlfConfig
    from bot.store import Store
    from bot.store.testing import ManualClock
    from bot.watcher.deliver import make_delivery_client
    from bot.watcher.poller import PollOptions
    from bot.watcher.scheduler import WatcherOptions, build_watcher
    from dlf_sandbox import SANDBOX_CREDENTIALS

    clock = ManualClock(start_ms=args.start_ms)
    db = Path(args.db)
    store = await Store.open(f"sqlite:///{db}", clock=clock)
    client = DlfClient(
        config=DlfConfig(endpoint=args.dlf, project_id=SANDBOX_CREDENTIALS.project_id),
        credentials=AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SecretStr(SANDBOX_CREDENTIALS.sk)),
        clock=lambda: datetime.fromtimestamp(clock() / 1000, UTC),
    )
    watcher = build_watcher(
        store=store,
        clients={"default": client},
        slack=make_delivery_client(token="xoxb-endurance", base_url=args.slack),
        options=WatcherOptions(pace_s=0.0, poll_interval_s=args.step_s, poll=PollOptions(digest_threshold=20)),
        holder="endurance",
        clock=clock,
    )
    async with store.transaction() as tx:
        for n in range(args.jobs):
            await tx.subscriptions.subscribe(
                channel=f"C{n % CHANNELS:02d}", profile="default", target=_job(n), created_by="bench"
            )
    retention_name, prune = _retention(args.retention_hook)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True, "retention": retention_name}), flush=True)
    cycles = 0
    requests = client.stats.requests
    profiler = cProfile.Profile() if args.profile else None
    try:
        while line := await reader.readline():
            clock.now_ms = json.loads(line)["now"]
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            reports = await watcher.run_cycle_once()
            if profiler is not None:
                profiler.disable()
            cycle_s = time.perf_counter() - started
            await watcher.drain()
            cycles += 1
            if cycles % max(1, round(HOUR_MS / (args.step_s * 1000))) == 0:
                await prune(store, now_ms=clock(), retention_days=args.retention_days)
            (report,) = reports
            calls, requests = client.stats.requests - requests, client.stats.requests
            heap = _heap_kb()
            print(
                json.dumps(
                    {
                        "heap_used_kb": heap[0] if heap else None,
                        "heap_free_kb": heap[1] if heap else None,
                        "threads": len(os.listdir("/proc/self/task")),
                        "sqlite_kb": _sqlite_kb(),
                        "cycle_s": cycle_s,
                        "rss_kb": _rss_kb(),
                        "fds": len(os.listdir("/proc/self/fd")),
                        "db_bytes": _db_bytes(db),
                        "objects": len(gc.get_objects()) if args.count_objects else None,
                        "listed": report.listed,
                        "tracked": getattr(report, "tracked", None),
                        "error": report.error,
                        "late": getattr(report, "late_lookups", None) or 0,
                        "calls": calls,
                        "new_failures": report.new_failures,
                        "enqueued": report.enqueued,
                    }
                ),
                flush=True,
            )
    finally:
        if profiler is not None:
            profiler.dump_stats(args.profile)
        await watcher.stop()
        await client.aclose()
        await store.aclose()


# --------------------------------------------------------------------------------------- DLF's and Slack's side
def _job(n: int) -> str:
    return f"etl_{n:05d}"


@dataclass(order=True)
class _Event:
    at: int
    seq: int
    action: str = field(compare=False)
    job: str = field(compare=False)
    instance_id: int = field(compare=False, default=0)


class Project:
    """The simulated DLF project: daily jobs, their runs, failures and reruns, on the sandbox's state."""

    def __init__(self, sandbox: Any, *, jobs: int, seed: int = 13) -> None:
        self.sandbox = sandbox
        self.jobs = jobs
        self.rng = random.Random(seed)
        self.events: list[_Event] = []
        self.seq = 0
        self.failures = 0
        sandbox.state.add_jobs([_job(n) for n in range(jobs)])

    def _at(self, at: int, action: str, job: str, instance_id: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.events, _Event(at, self.seq, action, job, instance_id))

    def advance(self, start: int, end: int) -> None:
        """Everything planned or due in (start, end]."""
        minute = start // MINUTE_MS + 1
        while minute * MINUTE_MS <= end:
            plan = minute * MINUTE_MS
            slot = minute % (DAY_MS // MINUTE_MS)
            for n in range(slot * self.jobs // 1440, (slot + 1) * self.jobs // 1440):
                self._plan(_job(n), plan)
            minute += 1
        while self.events and self.events[0].at <= end:
            self._apply(heapq.heappop(self.events))

    def _duration(self) -> int:
        roll = self.rng.random()
        if roll < 0.90:
            return self.rng.randint(1, 20) * MINUTE_MS
        if roll < 0.98:
            return self.rng.randint(20, 120) * MINUTE_MS
        return self.rng.randint(12 * 60, 18 * 60) * MINUTE_MS  # a long backfill

    def _plan(self, job: str, plan: int) -> None:
        waits = self.rng.random() < 0.05
        iid = self.sandbox.state.add_instance(job, status="waiting" if waits else "running", plan_time=plan, at=plan)
        started = plan + (self.rng.randint(60, 900) * MINUTE_MS if waits else 0)
        if waits:
            self._at(started, "run", job, iid)
        self._at(started + self._duration(), "fail" if self.rng.random() < FAIL_RATE else "success", job, iid)

    def _apply(self, event: _Event) -> None:
        state = self.sandbox.state
        if event.action == "run":
            state.set_status(event.job, event.instance_id, "running", at=event.at)
        elif event.action == "rerun":
            state.restart(event.job, event.instance_id, at=event.at)
            outcome = "success" if self.rng.random() < 0.8 else "fail"
            self._at(event.at + self.rng.randint(1, 10) * MINUTE_MS, outcome, event.job, event.instance_id)
        else:
            state.set_status(event.job, event.instance_id, event.action, at=event.at)
            if event.action == "fail":
                self.failures += 1
                if self.rng.random() < RERUN_RATE:
                    self._at(event.at + self.rng.randint(10, 180) * MINUTE_MS, "rerun", event.job, event.instance_id)


@dataclass
class Checkpoint:
    label: str
    cycle: int
    simulated: str
    rss_mb: float
    heap_used_mb: float | None
    heap_free_mb: float | None
    threads: int
    sqlite_mb: float | None
    fds: int
    db_mb: float
    objects: int | None
    median_ms: float
    p95_ms: float
    listed: float
    tracked: float
    calls: float
    late: float
    failures: int


def _checkpoint(label: str, cycle: int, now: int, window: list[dict[str, Any]], failures: int) -> Checkpoint:
    last = window[-1]
    times = sorted(r["cycle_s"] * 1000 for r in window)
    return Checkpoint(
        label=label,
        cycle=cycle,
        simulated=datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m-%d %H:%M"),
        rss_mb=last["rss_kb"] / 1024,
        fds=last["fds"],
        threads=last["threads"],
        sqlite_mb=last["sqlite_kb"] / 1024 if last["sqlite_kb"] is not None else None,
        heap_used_mb=last["heap_used_kb"] / 1024 if last["heap_used_kb"] is not None else None,
        heap_free_mb=last["heap_free_kb"] / 1024 if last["heap_free_kb"] is not None else None,
        db_mb=last["db_bytes"] / 1e6,
        objects=last["objects"],
        median_ms=statistics.median(times),
        p95_ms=times[int(0.95 * (len(times) - 1))],
        listed=statistics.mean(r["listed"] for r in window),
        tracked=statistics.mean(r["tracked"] or 0 for r in window),
        calls=statistics.mean(r["calls"] for r in window),
        late=statistics.mean(r["late"] for r in window),
        failures=failures,
    )


async def driver(args: argparse.Namespace) -> None:
    from bot.render.limits import problems
    from dlf_sandbox import ManualClock, Sandbox
    from slack_fake import FakeSlack

    clock = ManualClock(start_ms=START_MS)
    sandbox = Sandbox(seed=False, clock=clock)
    slack = FakeSlack(validator=problems)
    project = Project(sandbox, jobs=args.jobs)
    step = int(args.step_s * 1000)
    total = args.warmup + args.cycles
    marks = {args.warmup: "start", args.warmup + args.cycles // 2: "middle", total: "end"}
    checkpoints: list[Checkpoint] = []
    errors = 0
    with tempfile.TemporaryDirectory() as workdir:
        async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--bot",
                "--dlf",
                dlf_url,
                "--slack",
                slack_url,
                "--db",
                f"{workdir}/endurance.db",
                "--start-ms",
                str(START_MS),
                "--jobs",
                str(args.jobs),
                "--step-s",
                str(args.step_s),
                "--retention-days",
                str(args.retention_days),
            ]
            if args.retention_hook:
                command += ["--retention-hook", args.retention_hook]
            if args.count_objects:
                command.append("--count-objects")
            if args.profile:
                command += ["--profile", args.profile]
            bot = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**20
            )
            assert bot.stdin is not None and bot.stdout is not None
            hello = json.loads(await asyncio.wait_for(bot.stdout.readline(), timeout=600))
            window: list[dict[str, Any]] = []
            started = time.monotonic()
            for cycle in range(1, total + 1):
                now = clock.advance(step)
                project.advance(now - step, now)
                bot.stdin.write(json.dumps({"now": now}).encode() + b"\n")
                await bot.stdin.drain()
                answer = json.loads(await bot.stdout.readline())
                errors += answer["error"] is not None
                window = [*window[-(args.window - 1) :], answer]
                if cycle in marks:
                    checkpoints.append(_checkpoint(marks[cycle], cycle, now, window, project.failures))
                    print(
                        f"... {marks[cycle]}: cycle {cycle:,} ({time.monotonic() - started:.0f} s)",
                        file=sys.stderr,
                        flush=True,
                    )
                if cycle % 1000 == 0:
                    sandbox.calls.reset()
            bot.stdin.close()
            await bot.wait()
    posted = sum(1 for c in slack.calls_to("chat.postMessage") if c.outcome == "ok")
    _print(args, hello["retention"], checkpoints, posted=posted, errors=errors, failures=project.failures)


def _print(
    args: argparse.Namespace, retention: str, points: list[Checkpoint], *, posted: int, errors: int, failures: int
) -> None:
    print(f"machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, {platform.platform()}")
    print(
        f"{args.jobs:,} daily jobs, {args.jobs:,} subscriptions over {CHANNELS} channels; one cycle per simulated "
        f"{args.step_s:.0f} s; {args.warmup:,} warm-up + {args.cycles:,} measured cycles; SQLite store; "
        f"retention {args.retention_days:g} days ({retention})\n"
    )
    header = (
        f"{'':>7} {'cycle':>7} {'simulated':>17} | {'RSS MB':>7} {'heap used/free':>14} {'SQLite':>6} "
        f"{'threads':>7} "
        f"{'open files':>10} {'DB MB':>6} "
        f"{'objects':>8} | {'median ms':>9} {'p95 ms':>7} | {'DLF calls':>9} {'late':>5} {'listed':>7} "
        f"{'followed':>8} {'failures':>8}"
    )
    print(header)
    print("-" * len(header))
    for p in points:
        objects = f"{p.objects:,}" if p.objects is not None else "-"
        heap = f"{p.heap_used_mb:.1f}/{p.heap_free_mb:.1f}" if p.heap_used_mb is not None else "-"
        sqlite_mb = f"{p.sqlite_mb:.1f}" if p.sqlite_mb is not None else "-"
        print(
            f"{p.label:>7} {p.cycle:>7,} {p.simulated:>17} | {p.rss_mb:>7.1f} {heap:>14} {sqlite_mb:>6} "
            f"{p.threads:>7} "
            f"{p.fds:>10} {p.db_mb:>6.2f} "
            f"{objects:>8} | {p.median_ms:>9.1f} {p.p95_ms:>7.1f} | {p.calls:>9.1f} {p.late:>5.2f} {p.listed:>7.1f} "
            f"{p.tracked:>8.1f} {p.failures:>8,}"
        )
    print(
        f"\nmedian / p95: cycle time over the {args.window} cycles before each point; averaged over the same cycles:"
        " DLF calls per cycle (the client's count: lists, probes, details), late: instances looked up because they"
        " ended after the failure list's window, listed: instance-list rows read (unfinished + recent failures +"
        " incident successes), followed: unfinished instances remembered in the store; failures: simulated so far."
        " heap: glibc malloc's bytes in use / free but kept by the process (fragmentation), MB; SQLite: what"
        " SQLite holds of it (page caches of the pooled connections, statements), MB."
        "\n"
        f"{failures:,} failures simulated, {posted:,} messages posted to Slack, {errors} cycles failed."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=2_880, help="cycles before the 'start' figures (2 days)")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--step-s", type=float, default=60.0, help="simulated seconds per cycle")
    parser.add_argument("--retention-days", type=float, default=2.0)
    parser.add_argument("--retention-hook", help="module:function of another retention to compare")
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--count-objects", action="store_true", help="also count Python objects (slower)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the bot's cycles into FILE (pstats)")
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dlf", help=argparse.SUPPRESS)
    parser.add_argument("--slack", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--start-ms", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(bot_process(args) if args.bot else driver(args))


if __name__ == "__main__":
    main()
