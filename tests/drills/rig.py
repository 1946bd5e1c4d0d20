"""The drill rig: the shipped `dlf-bot run` as a real process, against the DLF sandbox and the fake Slack on loopback.

A drill starts one or more bot processes on a real database (a SQLite file, the machine's PostgreSQL, or a throwaway
PostgreSQL server of the drill's own), makes instances fail on the sandbox, injects faults into the peers or kills
processes, and then counts what reached Slack by the outbox key each message carries in its metadata:

    world = World(sandbox=..., slack=...)              # fixtures in conftest.py serve both in the test's loop
    bot = await world.start_bot(db_url, log=tmp_path / "bot.log", DLF_POLL_INTERVAL="1")
    await world.watch(bot, "C1", "job_*")              # a signed `/dlf watch` through the bot's HTTP endpoint
    iid = world.fail("job_1")                           # scripted on the sandbox's timeline; expected in C1
    await world.wait_until_all_said(timeout=60)
    world.assert_exactly_once()                         # 0 lost, 0 duplicated, per failure per channel
    bot.kill()                                          # SIGKILL

Nothing here imports the bot's own modules beyond what a Slack request or the database needs: the process under
test is the installed `dlf-bot` console script, as users run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox
from slack_fake import FakeSlack

DLF_BOT = str(Path(sys.executable).parent / "dlf-bot")
SIGNING_SECRET = "drill-signing-secret"
BOT_TOKEN = "xoxb-drill-token"
JOB_NODES = [("extract", "DLIScript"), ("transform", "DLISQL"), ("load", "DWSSQL")]
# Events of the messages that tell a channel about one failure: the alert card, or a reply in an open incident.
FAILURE_EVENTS = ("failure", "running-exception", "failed_again")
_OUR_SETTINGS = re.compile(r"^(SLACK_|DLF_|HUAWEICLOUD_|DATABASE_URL$|PORT$|LOG_LEVEL$|ALERT_)")
_LISTENING = re.compile(rb"(?:serving Slack events on|health and metrics on) http://[^:]+:(\d+)/")


def metadata_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """The outbox metadata a message carries (its key, job, instance id and event), or {}."""
    metadata = message.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return dict(metadata.get("event_payload") or {})


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the bot's settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not _OUR_SETTINGS.match(key)}
    return {**env, **extra}


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float, every: float = 0.1, what: str = "condition"
) -> float:
    """Wait until `condition()` holds; returns the seconds it took. Raises AssertionError after `timeout`."""
    started = time.monotonic()
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(every)


@dataclass
class BotProcess:
    """One `dlf-bot run` process (HTTP mode), with its log file and the port it serves on."""

    process: asyncio.subprocess.Process
    log: Path
    port: int
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease released, whatever was in flight stays in flight."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self, *, timeout: float = 40) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code (SIGKILL if it does not stop in time)."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError("dlf-bot run did not stop on SIGTERM:\n" + self.log_text()[-3000:]) from None

    async def wait(self) -> int:
        return await self.process.wait()

    async def healthz(self, *, timeout: float = 10) -> tuple[int, dict[str, Any]]:
        """GET /healthz: (status, body)."""
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(f"{self.base_url}/healthz")
        return response.status_code, response.json()

    async def metrics(self) -> str:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(f"{self.base_url}/metrics")).text

    async def post(self, body: str | bytes, *, headers: Mapping[str, str], timeout: float = 10) -> httpx.Response:
        """POST anything to /slack/events (signed or not: the caller builds the headers)."""
        async with httpx.AsyncClient(timeout=timeout) as http:
            return await http.post(f"{self.base_url}/slack/events", content=body, headers=dict(headers))

    async def command(
        self, text: str, *, channel: str, response_url: str, user: str = "U0DRILL", team: str = "T0DRILL"
    ) -> httpx.Response:
        """A signed `/dlf <text>` slash command, as Slack sends it."""
        body = urlencode(
            {
                "team_id": team,
                "channel_id": channel,
                "user_id": user,
                "command": "/dlf",
                "text": text,
                "response_url": response_url,
                "trigger_id": "0.0.0",
                "api_app_id": "A0DRILL",
            }
        )
        return await self.post(body, headers=signed_headers(body, "application/x-www-form-urlencoded"))


async def lease_holder_pid(database_url: str, name: str = "watcher.poll") -> int | None:
    """The pid of the process holding lease `name` (holders are named host:pid:suffix), or None."""
    from sqlalchemy import text

    from bot.store import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            holder = (await conn.execute(text("SELECT holder FROM leases WHERE name = :name"), {"name": name})).scalar()
    finally:
        await engine.dispose()
    if holder is None:
        return None
    return int(str(holder).split(":")[1])


async def outbox_rows(database_url: str) -> list[dict[str, Any]]:
    """Every outbox row (key, channel, kind, status, parent_key, sent_ts, sent_thread_ts, last_error, text), oldest
    first."""
    from sqlalchemy import select

    from bot.store import create_engine
    from bot.store.tables import outbox

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    finally:
        await engine.dispose()
    return [
        {
            **{
                k: row[k]
                for k in ("key", "channel", "kind", "status", "parent_key", "sent_ts", "sent_thread_ts", "last_error")
            },
            "text": (row["payload"] or {}).get("text"),
        }
        for row in rows
    ]


def metric(text: str, name: str) -> float | None:
    """The value of an unlabelled Prometheus sample `name` in a /metrics answer, or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def signed_headers(
    body: str | bytes, content_type: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers Slack would send with `body`: content type, timestamp and a valid v0 signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    text = body.decode() if isinstance(body, bytes) else body
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=text)
    assert signature is not None
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


@dataclass
class Stranger:
    """Someone else's HTTP server on loopback: answers 200 to anything on any path and records every request. Put in
    a forged request's response_url, it shows whether the bot sent anything there."""

    url: str
    hits: list[tuple[str, str]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def stranger() -> AsyncIterator[Stranger]:
    """Serve a `Stranger` on a free loopback port until the block ends."""
    from aiohttp import web

    found = Stranger(url="")

    async def record(request: web.Request) -> web.Response:
        found.hits.append((request.method, request.path_qs))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield found
    finally:
        await runner.cleanup()


def rss_bytes(pid: int) -> int:
    """The resident memory of process `pid` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class World:
    """The peers of the bot (sandbox, fake Slack) and what the drill expects the channels to have heard."""

    sandbox: Sandbox
    slack: FakeSlack
    dlf_url: str
    slack_url: str
    # channel -> [(target, is_pattern)]: what each channel watches (set by `watch`), to know who hears what.
    watching: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    failures: list[tuple[str, int]] = field(default_factory=list)
    # Every scripted outcome in order, ("fail" | "success", job, instance id): what incidents must open and close.
    history: list[tuple[str, str, int]] = field(default_factory=list)
    bots: list[BotProcess] = field(default_factory=list)

    # ---------------------------------------------------------------- DLF's side
    def add_jobs(self, names: Iterable[str]) -> None:
        for name in names:
            self.sandbox.state.add_job(name, nodes=JOB_NODES)

    def fail(self, job: str, *, failed_node: str | None = "load", ran_s: float = 5.0) -> int:
        """An instance of `job` that ran for `ran_s` and failed just now; returns its id (expected in channels)."""
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - int(ran_s * 1000), status="running")
        self.sandbox.timeline.fail(job, iid, at=now - 100, failed_node=failed_node)
        self.sandbox.timeline.step_until(now)
        self.failures.append((job, iid))
        self.history.append(("fail", job, int(iid)))
        return int(iid)

    def succeed(self, job: str) -> int:
        """An instance of `job` that succeeded just now (it resolves the job's open incidents)."""
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - 5_000, status="running")
        self.sandbox.timeline.succeed(job, iid, at=now - 100)
        self.sandbox.timeline.step_until(now)
        self.history.append(("success", job, int(iid)))
        return int(iid)

    # ---------------------------------------------------------------- the bot
    def bot_env(self, database_url: str, **settings: str) -> dict[str, str]:
        """The environment of a `dlf-bot run` on these peers: HTTP mode, AK/SK on the sandbox, `settings` on top."""
        base = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack_url,
            "DLF_ENDPOINT": self.dlf_url,
            "HUAWEICLOUD_SDK_PROJECT_ID": SANDBOX_CREDENTIALS.project_id,
            "HUAWEICLOUD_SDK_AK": SANDBOX_CREDENTIALS.ak,
            "HUAWEICLOUD_SDK_SK": SANDBOX_CREDENTIALS.sk,
            "PORT": "0",
            "LOG_LEVEL": "INFO",
            "DATABASE_URL": database_url,
            "DLF_POLL_INTERVAL": "1",
        }
        return clean_env(**{**base, **settings})

    async def start_bot(
        self, database_url: str, *, log: Path, startup_timeout: float = 60, **settings: str
    ) -> BotProcess:
        """Start `dlf-bot run --host 127.0.0.1`; returns once it serves HTTP (its port read from its log)."""
        env = self.bot_env(database_url, **settings)
        sink = log.open("wb")
        try:
            process = await asyncio.create_subprocess_exec(
                DLF_BOT,
                "run",
                "--host",
                "127.0.0.1",
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=sink,
            )
        finally:
            sink.close()
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(log.read_bytes())
            if found:
                bot = BotProcess(process=process, log=log, port=int(found.group(1)), env=env)
                self.bots.append(bot)
                return bot
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise AssertionError("dlf-bot run did not start:\n" + log.read_text(errors="replace")[-3000:])

    async def watch(self, bot: BotProcess, channel: str, target: str, *options: str) -> dict[str, Any]:
        """`/dlf watch <target> [options]` in `channel` through the bot; returns the answer it posted."""
        response_id = f"watch-{channel}-{len(self.slack.responses)}-{time.monotonic_ns()}"
        quoted = f"'{target}'" if any(c in target for c in "*?[") else target
        ack = await bot.command(
            " ".join(["watch", quoted, *options]), channel=channel, response_url=self.slack.response_url(response_id)
        )
        assert ack.status_code == 200, ack.text
        answers = await self.slack.wait_for_responses(response_id, timeout=30)
        self.watching.setdefault(channel, []).append((target, any(c in target for c in "*?[")))
        return answers[0]

    async def close(self) -> None:
        """Kill every bot process still running (a drill that failed half-way must not leave them behind)."""
        for bot in self.bots:
            if bot.running:
                bot.kill()
                with contextlib.suppress(ProcessLookupError):
                    await bot.wait()

    # ---------------------------------------------------------------- what Slack received
    def channels(self) -> list[str]:
        return sorted(self.watching)

    def expected(self) -> Counter[tuple[str, str, int]]:
        """(channel, job, instance id) for every failure, once per channel watching its job."""
        return Counter(
            (channel, job, iid)
            for job, iid in self.failures
            for channel, targets in self.watching.items()
            if any((fnmatch.fnmatchcase(job, t) if pattern else job == t) for t, pattern in targets)
        )

    def said(self) -> Counter[tuple[str, str, int]]:
        """(channel, job, instance id) of every message that told a channel about a failure."""
        return Counter(
            (channel, meta["job"], int(meta["instance_id"]))
            for channel in self.channels()
            for meta in map(metadata_of, self.slack.channel_messages(channel))
            if meta.get("event") in FAILURE_EVENTS
        )

    def _watches(self, channel: str, job: str) -> bool:
        return any((fnmatch.fnmatchcase(job, t) if pattern else job == t) for t, pattern in self.watching[channel])

    def expected_recoveries(self) -> Counter[tuple[str, str]]:
        """(channel, job) once per incident a later success must close: a success after failures since the last."""
        recoveries: Counter[tuple[str, str]] = Counter()
        for channel in self.channels():
            open_jobs: set[str] = set()
            for outcome, job, _ in self.history:
                if not self._watches(channel, job):
                    continue
                if outcome == "fail":
                    open_jobs.add(job)
                elif job in open_jobs:
                    open_jobs.discard(job)
                    recoveries[(channel, job)] += 1
        return recoveries

    def recoveries_said(self) -> Counter[tuple[str, str]]:
        """(channel, job) of every "resolved" reply in an incident's thread."""
        return Counter(
            (channel, meta["job"])
            for channel in self.channels()
            for meta in map(metadata_of, self.slack.channel_messages(channel))
            if meta.get("event") == "resolved"
        )

    def cards(self, channel: str) -> list[dict[str, Any]]:
        """The alert cards at the top of `channel`, as they look now (after every chat.update)."""
        return [
            m
            for m in self.slack.channel_messages(channel)
            if m.get("thread_ts") in (None, m["ts"]) and metadata_of(m).get("event") in FAILURE_EVENTS
        ]

    def duplicated_keys(self) -> list[tuple[str, str]]:
        """(channel, outbox key) of every key that is in a channel more than once."""
        keys = Counter(
            (channel, metadata_of(m).get("key"))
            for channel in self.channels()
            for m in self.slack.channel_messages(channel)
            if metadata_of(m).get("key")
        )
        return sorted(key for key, n in keys.items() if n > 1)

    def lost(self) -> Counter[tuple[str, str, int]]:
        return self.expected() - self.said()

    def all_said(self) -> bool:
        return not self.lost()

    async def wait_until_all_said(self, *, timeout: float) -> float:
        """Wait until every expected failure is in its channels; the seconds it took."""
        try:
            return await wait_for(self.all_said, timeout=timeout, what="every failure reaching its channels")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still missing: {sorted(self.lost())[:20]}") from None

    def assert_cards_and_threads_complete(self, rows: list[dict[str, Any]]) -> None:
        """Every outbox row sent; every thread reply in Slack exactly once, under its card; every card showing the
        last update queued for it (`rows`: `outbox_rows(database_url)` once everything is delivered)."""
        assert [r["key"] for r in rows if r["status"] != "sent"] == [], "messages not delivered"
        by_key = {r["key"]: r for r in rows}
        for channel in self.channels():
            messages = {m["ts"]: m for m in self.slack.channel_messages(channel)}
            keys = Counter(metadata_of(m).get("key") for m in messages.values())
            for row in (r for r in rows if r["channel"] == channel and r["kind"] == "thread_reply"):
                assert keys[row["key"]] == 1, f"reply {row['key']} is in {channel} {keys[row['key']]} times"
                reply = messages[row["sent_ts"]]
                parent = by_key.get(row["parent_key"] or "")
                if parent is not None:
                    # Under the parent's thread: a card that is itself a reply in a digest's thread has that one.
                    thread = parent["sent_thread_ts"] or parent["sent_ts"]
                    assert reply.get("thread_ts") == thread, f"reply {row['key']} is not in its thread"
            last_update: dict[str, dict[str, Any]] = {}
            for row in (r for r in rows if r["channel"] == channel and r["kind"] == "update"):
                last_update[row["parent_key"]] = row
            for parent_key, update in last_update.items():
                card = messages[by_key[parent_key]["sent_ts"]]
                assert card["text"] == update["text"], f"card {parent_key} does not show its last update"

    def assert_exactly_once(self) -> None:
        """Every failure in every channel that watches its job exactly once; no outbox key posted twice."""
        assert self.duplicated_keys() == [], "a message was posted twice"
        said, expected = self.said(), self.expected()
        assert said - expected == Counter(), f"said more than once (or never expected): {sorted(said - expected)[:20]}"
        assert expected - said == Counter(), f"lost: {sorted(expected - said)[:20]}"


__all__ = [
    "BOT_TOKEN",
    "DLF_BOT",
    "JOB_NODES",
    "SIGNING_SECRET",
    "BotProcess",
    "Stranger",
    "World",
    "clean_env",
    "lease_holder_pid",
    "metadata_of",
    "rss_bytes",
    "metric",
    "outbox_rows",
    "signed_headers",
    "stranger",
    "wait_for",
]
