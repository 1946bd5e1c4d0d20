"""The parts the subcommands assemble: DLF clients from the settings' profiles, the embedded sandbox, the store.

Only the entry point builds clients; these are its building blocks (`run`, `preview` and `demo` use them).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from bot import messages
from bot.dlf.auth import AkSk, Credentials, IamPassword, StaticToken
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.dlf.endpoints import dlf_endpoint, iam_endpoint
from bot.dlf.metrics import DlfMetrics
from bot.errors import ConfigError, StoreUnavailable
from bot.profiles import DEFAULT_PROFILE
from bot.services.incidents import IncidentService
from bot.services.operators import Operators, UsergroupReader
from bot.settings import DlfProfile, Settings
from bot.store import Store, redacted_database_url


def epoch_ms() -> int:
    """The wall clock in epoch milliseconds, DLF's unit."""
    return int(time.time() * 1000)


def dlf_credentials(profile: DlfProfile) -> Credentials:
    """The client's credentials for a profile that `Settings.problems` found complete."""
    if profile.auth_kind == "aksk":
        assert profile.ak is not None and profile.sk is not None
        return AkSk(
            access_key=profile.ak.get_secret_value(), secret_key=profile.sk, security_token=profile.security_token
        )
    if profile.auth_kind == "iam":
        assert profile.iam_username and profile.iam_password and profile.iam_domain
        return IamPassword(
            username=profile.iam_username,
            password=profile.iam_password,
            domain=profile.iam_domain,
            iam_endpoint=iam_endpoint(region=profile.region, override=profile.iam_endpoint),
        )
    assert profile.auth_token is not None
    return StaticToken(token=profile.auth_token)


def build_dlf_clients(settings: Settings, *, metrics: DlfMetrics | None = None) -> dict[str, DlfClient]:
    """One DLF client per configured profile."""
    clients: dict[str, DlfClient] = {}
    for name, profile in settings.dlf_profiles().items():
        assert profile.project_id is not None
        config = DlfConfig(
            endpoint=dlf_endpoint(region=profile.region, override=profile.endpoint),
            project_id=profile.project_id,
            workspace=profile.workspace,
            timeout=settings.dlf_timeout,
            rate_limit=settings.dlf_rate_limit,
        )
        clients[name] = DlfClient(config=config, credentials=dlf_credentials(profile), metrics=metrics)
    return clients


def build_operators(settings: Settings, *, slack: UsergroupReader | None) -> Operators:
    """Who may rerun and stop: `DLF_BOT_OPERATORS` and the config file's operators, user groups read through
    `slack` (the Web API client the app answers with)."""
    config = settings.operator_config()
    return Operators(everywhere=config.everywhere, per_channel=config.per_channel, slack=slack)


def build_incident_service(
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    operators: Operators | None,
    wake: Callable[[], None] | None = None,
) -> IncidentService:
    """The incident actions (buttons, dialogs, thread verbs, `/dlf mute`): on the store and people's DLF clients;
    `wake` tells the deliverer that rows were queued (it sends them at once)."""
    return IncidentService(store=store, clients=clients, operators=operators, wake=wake)


async def close_all(clients: Mapping[str, DlfClient]) -> None:
    """Close every client's connection pool."""
    for client in clients.values():
        await client.aclose()


@dataclass(frozen=True)
class EmbeddedSandbox:
    """The embedded DLF sandbox (`sandbox` is a `dlf_sandbox.Sandbox`) and a client for it as the default profile."""

    sandbox: Any
    clients: dict[str, DlfClient]


@contextlib.asynccontextmanager
async def embedded_sandbox(*, metrics: DlfMetrics | None = None) -> AsyncIterator[EmbeddedSandbox]:
    """The seeded DLF sandbox, served in this event loop, with a client for it."""
    from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox

    sandbox = Sandbox(seed=True)
    async with sandbox.serve() as url:
        config = DlfConfig(endpoint=url, project_id=SANDBOX_CREDENTIALS.project_id)
        credentials = AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SecretStr(SANDBOX_CREDENTIALS.sk))
        async with DlfClient(config=config, credentials=credentials, metrics=metrics) as client:
            yield EmbeddedSandbox(sandbox=sandbox, clients={DEFAULT_PROFILE: client})


async def open_store(database_url: str) -> Store:
    """The store, migrated and checked writable; a database that is locked, read-only or cannot be reached is a
    start-up error saying so and naming it (password masked)."""
    try:
        return await Store.open(database_url)
    except ConfigError:
        raise
    except StoreUnavailable as exc:
        raise ConfigError(
            messages.database_unavailable_at_start(redacted_database_url(database_url), exc.kind, exc.detail)
        ) from None
    except (OSError, SQLAlchemyError) as exc:
        raise ConfigError(messages.database_unreachable(redacted_database_url(database_url), exc)) from None


@contextlib.asynccontextmanager
async def temporary_store(prefix: str) -> AsyncIterator[Store]:
    """A migrated store in a temporary SQLite file, deleted when the block ends (preview, demo)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'bot.sqlite3'}")
        try:
            yield store
        finally:
            await store.aclose()


__all__ = [
    "EmbeddedSandbox",
    "build_dlf_clients",
    "build_incident_service",
    "build_operators",
    "close_all",
    "dlf_credentials",
    "embedded_sandbox",
    "epoch_ms",
    "open_store",
    "temporary_store",
]
