"""Helpers of the DLF client tests (importable by name, unlike conftest.py, which every test folder has)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.dlf.auth import AkSk, Credentials, IamPassword, StaticToken
from bot.dlf.client import DlfClient
from dlf_sandbox import SANDBOX_CREDENTIALS

C = SANDBOX_CREDENTIALS
SECRETS = (C.sk, C.temp_sk, C.security_token, C.iam_password, C.static_token)

MakeClient = Callable[..., DlfClient]


class RecordingSleep:
    """The client's sleep: remembers each backoff and yields to the loop without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def credentials_of(kind: str, base_url: str) -> Credentials:
    """Sandbox credentials of one kind."""
    if kind == "aksk":
        return AkSk(access_key=C.ak, secret_key=C.sk)
    if kind == "temporary":
        return AkSk(access_key=C.temp_ak, secret_key=C.temp_sk, security_token=C.security_token)
    if kind == "iam":
        return IamPassword(username=C.iam_username, password=C.iam_password, domain=C.iam_domain, iam_endpoint=base_url)
    if kind == "static":
        return StaticToken(token=C.static_token)
    raise ValueError(kind)


def assert_no_secrets(*texts: str) -> None:
    """None of the sandbox's secrets appears in any of the texts."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
