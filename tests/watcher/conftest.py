"""Watcher fixtures: a rig per test on its own SQLite file; a PostgreSQL database of its own when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from watcher_rig import Rig, build_rig_watcher

from bot.render.limits import problems
from bot.store import Store
from bot.store.testing import create_temporary_database, drop_database
from dlf_sandbox import ManualClock, Sandbox
from slack_fake import FakeSlack


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A SQLite file of this test's own."""
    return f"sqlite:///{tmp_path}/bot.db"


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database of this test's own, or skip (CI sets DLF_BOT_TEST_POSTGRES_URL)."""
    url = await create_temporary_database(postgres_server, prefix="dlfbot_watcher")
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[Rig]:
    sandbox = Sandbox(seed=False)
    slack = FakeSlack(validator=problems)
    async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
        store = await Store.open(database_url)
        watcher = build_rig_watcher(store, dlf_url, slack_url)
        rig = Rig(sandbox=sandbox, slack=slack, store=store, watcher=watcher, dlf_url=dlf_url, slack_url=slack_url)
        try:
            yield rig
        finally:
            await rig.close_watcher()
            await rig.store.aclose()


@pytest.fixture
async def clocked_rig(migrated_database_url: str) -> AsyncIterator[Rig]:
    """A rig whose store and watcher run on a manual clock (`rig.advance(ms)`), on SQLite and on PostgreSQL (when
    configured): for incident timings, mutes, escalations and reruns. The sandbox keeps real time: DLF refuses
    signatures dated more than 15 minutes from its own clock."""
    clock = ManualClock()
    sandbox = Sandbox(seed=False)
    slack = FakeSlack(validator=problems)
    async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
        store = await Store.open(migrated_database_url, clock=clock)
        watcher = build_rig_watcher(store, dlf_url, slack_url)
        rig = Rig(
            sandbox=sandbox,
            slack=slack,
            store=store,
            watcher=watcher,
            dlf_url=dlf_url,
            slack_url=slack_url,
            clock=clock,
        )
        try:
            yield rig
        finally:
            await rig.close_watcher()
            await rig.store.aclose()
