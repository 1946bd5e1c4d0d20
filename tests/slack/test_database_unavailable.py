"""The bot's database locked, read-only or unreachable: a command says what is wrong and that nothing was changed
(logged once, no crash reference), and `/healthz` answers "database not answering" within the container's
health-check timeout whatever the database does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botwire import BOT_TOKEN, SIGNING_SECRET, BotUnderTest, dlf_client
from prometheus_client import CollectorRegistry
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli import bot_health, watcher_health
from bot.services.instances import InstanceService
from bot.services.subscriptions import SubscriptionService
from bot.slack import AppDeps, SlackMetrics, build_app, build_web_app, build_web_client, serve_http
from bot.slack.ingress import SlackGate
from bot.slack.server import HEALTH_TIMEOUT_S, HealthReport
from bot.store import Store, create_engine
from bot.watcher.health import WatcherHealthProbe
from bot.watcher.scheduler import build_watcher
from slack_fake import FakeSlack

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"
LOCK_WAIT_S = 0.3


def healthcheck_timeout_s() -> float:
    """The shortest of the Dockerfile HEALTHCHECK's `--timeout` and its probe's own urlopen timeout."""
    text = DOCKERFILE.read_text()
    docker = float(re.search(r"HEALTHCHECK[^\n]*--timeout=(\d+)s", text).group(1))  # type: ignore[union-attr]
    urlopen = float(re.search(r"urlopen\(.*, timeout=(\d+)\)", text).group(1))  # type: ignore[union-attr]
    return min(docker, urlopen)


@contextlib.contextmanager
def write_locked(database: Path) -> Iterator[sqlite3.Connection]:
    """Another program holding the SQLite file's write lock (a `sqlite3` shell in `BEGIN IMMEDIATE`, a backup)."""
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


@contextlib.asynccontextmanager
async def bot_on(sandbox: Any, fake: FakeSlack, database_url: str) -> AsyncIterator[tuple[BotUnderTest, Store]]:
    """The Bolt app in HTTP mode with the subscription service on `database_url`, and `/healthz` as `run` has it."""
    registry = CollectorRegistry()
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(dlf_client(sandbox.url))
        store = await Store.open(database_url)
        stack.push_async_callback(store.aclose)
        assert fake.base_url is not None
        app = build_app(
            AppDeps(
                client=build_web_client(token=BOT_TOKEN, base_url=fake.base_url),
                signing_secret=SIGNING_SECRET,
                instances=InstanceService(clients={"default": client}, clock=lambda: int(time.time() * 1000)),
                subscriptions=SubscriptionService(store=store, clients={"default": client}, lock_wait_s=LOCK_WAIT_S),
                metrics=SlackMetrics(registry=registry),
            )
        )
        watcher = build_watcher(store=store, clients={"default": client}, slack=app.client)
        health = bot_health(
            store, watcher_health(WatcherHealthProbe(watcher=watcher, clock=lambda: int(time.time() * 1000)))
        )
        port = await stack.enter_async_context(
            serve_http(
                build_web_app(
                    bolt=app, registry=registry, health=health, gate=SlackGate(signing_secret=SIGNING_SECRET)
                ),
                host="127.0.0.1",
                port=0,
            )
        )
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        bot = BotUnderTest(url=f"http://127.0.0.1:{port}", http=http, fake=fake, dlf=sandbox, registry=registry)
        yield bot, store


async def healthz(bot: BotUnderTest) -> tuple[int, dict[str, Any]]:
    """GET /healthz as the container's HEALTHCHECK does: giving up after its timeout."""
    answer = await bot.http.get(f"{bot.url}/healthz", timeout=healthcheck_timeout_s())
    return answer.status_code, answer.json()


async def test_a_command_on_a_locked_database_says_so_and_changes_nothing(
    sandbox: Any, fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "bot.db"
    async with bot_on(sandbox, fake_slack, f"sqlite:///{database}") as (bot, store):
        with write_locked(database), caplog.at_level(logging.INFO):
            await bot.command("watch job_batch", "w1")
            (answer,) = await bot.fake.wait_for_responses("w1")
            # A reader waits for no writer: listing works while another program writes.
            await bot.command("watches", "w2")
            (listed,) = await bot.fake.wait_for_responses("w2")
            status, health = await healthz(bot)

        text = answer["text"]
        assert "database is busy" in text and "Nothing was changed" in text and "Try again" in text
        assert "reference" not in text
        assert listed["text"] == "This channel watches no DLF job yet."
        assert status == 503 and health["database"] == {
            "ok": False,
            "problem": "locked",
            "detail": "OperationalError: database is locked",
        }
        assert health["reasons"] == [
            "database not answering: the database is locked by another program (OperationalError: database is locked)"
        ]
        lines = [r for r in caplog.records if "database is unavailable" in r.getMessage()]
        assert len(lines) == 1 and lines[0].levelno == logging.WARNING and lines[0].exc_info is None
        assert "/dlf watch in C0DATA" in lines[0].getMessage()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

        # The lock is gone: the same command works, and it had saved nothing before.
        async with store.transaction() as tx:
            assert await tx.subscriptions.list_for_channel("C0DATA") == []
            assert await tx.audit.recent() == []
        await bot.command("watch job_batch", "w3")
        (done,) = await bot.fake.wait_for_responses("w3")
        assert "job_batch" in done["text"] and "database" not in done["text"]
        assert (await healthz(bot))[1]["database"] == {"ok": True}


async def test_healthz_answers_in_time_whatever_the_probe_does() -> None:
    # The bound itself must sit inside the HEALTHCHECK's, or the container is marked unhealthy with no reason.
    assert HEALTH_TIMEOUT_S < healthcheck_timeout_s()
    never = asyncio.Event()

    async def hung_probe() -> HealthReport:
        await never.wait()  # a database that accepts the connection and never answers
        return HealthReport()

    app = build_web_app(bolt=None, registry=CollectorRegistry(), health=hung_probe)
    async with serve_http(app, host="127.0.0.1", port=0) as port, httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{port}/healthz", timeout=healthcheck_timeout_s())
    assert answer.status_code == 503
    assert answer.json()["reasons"] == [
        f"database not answering: the health check did not finish within {HEALTH_TIMEOUT_S:g} s"
    ]


async def test_healthz_says_an_unreachable_postgresql_is_not_answering(sandbox: Any) -> None:
    # The server went away: its port is closed now.
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    store = Store(engine=create_engine(f"postgresql://postgres@127.0.0.1:{port}/gone"))
    try:
        async with dlf_client(sandbox.url) as client:
            slack = AsyncWebClient(token=BOT_TOKEN, base_url="http://127.0.0.1:9/")
            watcher = build_watcher(store=store, clients={"default": client}, slack=slack)
            report = await bot_health(store, watcher_health(WatcherHealthProbe(watcher=watcher, clock=lambda: 0)))()
    finally:
        await store.aclose()
    assert report.details["database"]["problem"] == "unreachable"
    assert report.problems[0].startswith("database not answering: the database is unreachable (")
