"""`dlf-bot run`: the Slack app, the health/metrics server and the watcher, in one event loop, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry
from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.cli.health import bot_health, combined_health, outbox_health, watcher_health
from bot.cli.wiring import (
    build_dlf_clients,
    build_incident_service,
    build_operators,
    close_all,
    epoch_ms,
    open_store,
)
from bot.dlf.client import DlfClient
from bot.dlf.metrics import DlfMetrics
from bot.dlf.ratelimit import Priority
from bot.services.audit import AuditService
from bot.services.home import HomeService
from bot.services.instance_list import InstanceListService
from bot.services.instances import InstanceService
from bot.services.request_ledger import StoreRequestLedger
from bot.services.subscriptions import SubscriptionService
from bot.settings import Settings
from bot.slack import AppDeps, BackgroundService, SlackMetrics, build_app, build_web_client, run_bot
from bot.slack.ingress import SlackGate
from bot.store import Store
from bot.watcher.deliver import make_delivery_client
from bot.watcher.health import WatcherHealthProbe
from bot.watcher.metrics import DeliveryMetrics
from bot.watcher.outbox_health import OutboxHealthProbe
from bot.watcher.poll_options import PollOptions
from bot.watcher.retention import Retention, RetentionMetrics, RetentionOptions
from bot.watcher.scheduler import Watcher, WatcherOptions, build_watcher

log = logging.getLogger("bot")

# The Web API session's own bound on a call (Bolt's clients; the deliverer bounds its calls more tightly itself).
SLACK_SESSION_TIMEOUT_S = 30.0
HOUR_MS = 3_600_000


async def run(settings: Settings, *, host: str = "0.0.0.0", stop: asyncio.Event | None = None) -> None:
    """The bot: Slack app + health/metrics server + background services, in one event loop, until stopped."""
    registry = CollectorRegistry()
    clients = build_dlf_clients(settings, metrics=DlfMetrics(registry=registry))
    stop = stop or asyncio.Event()
    store: Store | None = None
    # One connection pool for every Slack Web API call of this process (Bolt's clients and the deliverer's).
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_SESSION_TIMEOUT_S))
    try:
        # Opening the store applies the migrations (safe from several replicas at once).
        store = await open_store(settings.database_url.get_secret_value())
        delivery_metrics = DeliveryMetrics(registry=registry)
        watcher = _watcher(
            settings, store=store, clients=clients, session=session, registry=registry, metrics=delivery_metrics
        )
        signing_secret = None if settings.socket_mode else _secret(settings.slack_signing_secret)
        slack_metrics = SlackMetrics(registry=registry)
        app = _slack_app(
            settings,
            store=store,
            clients=clients,
            session=session,
            signing_secret=signing_secret,
            metrics=slack_metrics,
            wake=watcher.deliverer.wake,
        )
        _stop_on_signals(stop)
        settle_heap()
        await run_bot(
            bolt=app,
            registry=registry,
            stop=stop,
            port=settings.port,
            host=host,
            app_token=_secret(settings.slack_app_token),
            health=bot_health(
                store,
                combined_health(
                    watcher_health(WatcherHealthProbe(watcher=watcher, clock=epoch_ms)),
                    outbox_health(OutboxHealthProbe(store=store, metrics=delivery_metrics)),
                ),
            ),
            # Started with the app and stopped with it.
            background=[BackgroundService(name="watcher", run=watcher.run)],
            gate=SlackGate(signing_secret=signing_secret) if signing_secret else None,
            metrics=slack_metrics,
        )
    finally:
        await close_all(clients)
        await session.close()
        if store is not None:
            await store.aclose()


def watcher_options(settings: Settings) -> WatcherOptions:
    """The watcher's timing from the settings (poll interval, leases, heartbeat, lookback, digest threshold,
    escalation delay)."""
    return WatcherOptions(
        poll_interval_s=settings.dlf_poll_interval,
        lease_ttl_s=settings.dlf_watcher_lease_ttl,
        claim_ttl_s=settings.dlf_outbox_claim_ttl,
        heartbeat_ttl_s=settings.dlf_heartbeat_ttl,
        poll=PollOptions(
            lookback_ms=settings.dlf_lookback_hours * HOUR_MS,
            digest_threshold=settings.alert_digest_threshold,
            escalate_after_ms=None if settings.dlf_escalate_after is None else settings.dlf_escalate_after * 1000,
        ),
    )


def _watcher(
    settings: Settings,
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    session: aiohttp.ClientSession,
    registry: CollectorRegistry,
    metrics: DeliveryMetrics,
) -> Watcher:
    assert settings.slack_bot_token is not None
    options = watcher_options(settings)
    return build_watcher(
        store=store,
        # The watcher's DLF calls queue behind people's in the shared rate limit.
        clients={name: client.with_priority(Priority.BACKGROUND) for name, client in clients.items()},
        slack=make_delivery_client(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=options.liveness.slack_timeout_s,
            session=session,
        ),
        retention=Retention(
            store=store,
            options=RetentionOptions(days=settings.dlf_retention_days),
            metrics=RetentionMetrics(registry=registry),
        ),
        options=options,
        metrics=metrics,
    )


def _slack_app(
    settings: Settings,
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    session: aiohttp.ClientSession,
    signing_secret: str | None,
    metrics: SlackMetrics,
    wake: Callable[[], None] | None = None,
) -> AsyncApp:
    assert settings.slack_bot_token is not None
    # Bolt's per-request clients reuse this client's session (connection pool), retries and base URL.
    client = build_web_client(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, session=session
    )
    operators = build_operators(settings, slack=client)
    return build_app(
        AppDeps(
            client=client,
            signing_secret=signing_secret,
            instances=InstanceService(clients=clients, clock=epoch_ms),
            subscriptions=SubscriptionService(store=store, clients=clients),
            instance_lists=InstanceListService(clients=clients, clock=epoch_ms),
            metrics=metrics,
            ledger=StoreRequestLedger(store=store),
            audit=AuditService(store=store, operators=operators),
            home=HomeService(store=store),
            operators=operators,
            incidents=build_incident_service(store=store, clients=clients, operators=operators, wake=wake),
        )
    )


def settle_heap() -> None:
    """Keep the garbage collector off what start-up built: it lives as long as the process.

    After the imports and the wiring the bot holds ~120k objects (a bare Bolt app ~46k), and every full collection
    walked all of them — 0.1–0.2 s in which no request was acknowledged. Frozen, they are never scanned again; the
    collector then only walks what requests and cycles create."""
    gc.collect()
    gc.freeze()


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        log.info(messages.log_stopping(name))
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signal.Signals(signum).name)


__all__ = ["run", "settle_heap", "watcher_options"]
