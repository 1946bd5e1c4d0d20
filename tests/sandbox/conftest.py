"""Fixtures for the sandbox's tests: a seeded sandbox on loopback with a hand-moved clock, and a signer.

Requests are signed with huaweicloudsdkcore's own Signer (the reference implementation), so the sandbox's
verification is checked against the SDK rather than against itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sandbox_sdk_signing import clock_date, sdk_sign, send

from dlf_sandbox import ManualClock, Sandbox

Call = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sb(clock: ManualClock) -> Sandbox:
    return Sandbox(seed=True, clock=clock)


@pytest.fixture
async def base_url(sb: Sandbox) -> AsyncIterator[str]:
    async with sb.serve(host="127.0.0.1", port=0) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def call(base_url: str, http: httpx.AsyncClient, clock: ManualClock) -> Call:
    """`await call("GET", path, query=[...], headers={...}, body=b"")`: sign with the SDK (dated by the sandbox
    clock) and send."""

    async def _call(method: str, path: str, **kwargs: object) -> httpx.Response:
        kwargs.setdefault("sdk_date", clock_date(clock))
        return await send(http, sdk_sign(base_url=base_url, method=method, path=path, **kwargs))  # type: ignore[arg-type]

    return _call
