"""A seeded DLF sandbox on loopback (hand-moved clock shared with the client) and a factory of clients for it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from bot.dlf import AkSk, DlfClient, DlfConfig, IamPassword, StaticToken
from bot.dlf.auth import Credentials
from dlf_sandbox import SANDBOX_CREDENTIALS, ManualClock, Sandbox

C = SANDBOX_CREDENTIALS
SECRETS = (C.sk, C.temp_sk, C.security_token, C.iam_password, C.static_token)

MakeClient = Callable[..., DlfClient]


class RecordingSleep:
    """The client's sleep: remembers each backoff and yields to the loop without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        import asyncio

        self.delays.append(seconds)
        await asyncio.sleep(0)


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


def credentials_of(kind: str, base_url: str) -> Credentials:
    """Sandbox credentials of one kind."""
    if kind == "aksk":
        return AkSk(access_key=C.ak, secret_key=C.sk)
    if kind == "temporary":
        return AkSk(access_key=C.temp_ak, secret_key=C.temp_sk, security_token=C.security_token)
    if kind == "iam":
        return IamPassword(
            username=C.iam_username, password=C.iam_password, domain=C.iam_domain, iam_endpoint=base_url
        )
    if kind == "static":
        return StaticToken(token=C.static_token)
    raise ValueError(kind)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def make_client(
    base_url: str, sb_clock: ManualClock, sleep: RecordingSleep
) -> AsyncIterator[MakeClient]:
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


def assert_no_secrets(*texts: str) -> None:
    """None of the sandbox's secrets appears in any of the texts."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
