"""A seeded DLF sandbox on loopback (hand-moved clock shared with the client) and a factory of clients for it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from dlf_rig import C, MakeClient, RecordingSleep, credentials_of

from bot.dlf.auth import Credentials
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from dlf_sandbox import ManualClock, Sandbox


@pytest.fixture
def sb_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sb(sb_clock: ManualClock) -> Sandbox:
    return Sandbox(seed=True, clock=sb_clock)


@pytest.fixture
async def base_url(sb: Sandbox) -> AsyncIterator[str]:
    async with sb.serve(host="127.0.0.1", port=0) as url:
        yield url


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def make_client(base_url: str, sb_clock: ManualClock, sleep: RecordingSleep) -> AsyncIterator[MakeClient]:
    """`make_client(kind="aksk", credentials=None, **config)`: a client on the sandbox with short backoffs."""
    clients: list[DlfClient] = []

    def clock() -> datetime:
        return datetime.fromtimestamp(sb_clock() / 1000, UTC)

    def make(kind: str = "aksk", *, credentials: Credentials | None = None, **config: object) -> DlfClient:
        settings: dict[str, object] = {
            "endpoint": base_url,
            "project_id": C.project_id,
            "timeout": 5.0,
            "max_retries": 3,
            "backoff_base": 0.001,
            "backoff_cap": 0.01,
            "rate_limit": None,
        }
        settings.update(config)
        client = DlfClient(
            config=DlfConfig(**settings),
            credentials=credentials or credentials_of(kind, base_url),
            clock=clock,
            sleep=sleep,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG (httpx and httpcore included) to prove no secret reaches a log."""
    caplog.set_level(logging.DEBUG)
    return caplog
