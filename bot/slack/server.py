"""Serving the app: HTTP mode (`/slack/events`, verified by `bot.slack.ingress.SlackGate` before Bolt reads
anything) or Socket Mode, with `/healthz` and `/metrics` on `$PORT` in both, and the background services (the
watcher) running in the same event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import messages
from bot.slack.ingress import MAX_BODY_BYTES, Refused, SlackGate, note_refused
from bot.slack.metrics import SlackMetrics

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# /healthz answers within this, whatever the database does: the container's HEALTHCHECK gives up after 5 s.
HEALTH_TIMEOUT_S = 2.0


@dataclass(frozen=True, kw_only=True)
class HealthReport:
    """What a health probe found: details for the JSON body, and the problems that make `/healthz` answer 503."""

    details: Mapping[str, Any] = field(default_factory=dict)
    problems: Sequence[str] = ()


HealthProbe = Callable[[], Awaitable[HealthReport]]


@dataclass(frozen=True, kw_only=True)
class BackgroundService:
    """Something that runs beside the Slack app until `stop` is set (e.g. the watcher's scheduler, the deliverer)."""

    name: str
    run: Callable[[asyncio.Event], Awaitable[None]]


def build_web_app(
    *,
    bolt: AsyncApp | None,
    registry: CollectorRegistry,
    health: HealthProbe | None = None,
    mode: str = "http",
    clock: Callable[[], float] = time.monotonic,
    stopped_services: Callable[[], Sequence[str]] = lambda: (),
    gate: SlackGate | None = None,
    slack_metrics: SlackMetrics | None = None,
    health_timeout_s: float = HEALTH_TIMEOUT_S,
) -> web.Application:
    """The aiohttp application: Slack events (when `bolt` is given, i.e. HTTP mode), health and metrics.

    `/slack/events` lets through to Bolt only what `gate` verified; everything else is refused with one log line.
    `/healthz` answers 503 with `reasons` when the health probe reports problems, does not answer within
    `health_timeout_s`, or a background service (`stopped_services`: the names of those that ended although the bot
    runs on) is not running; 200 otherwise."""
    if bolt is not None and gate is None:
        raise ValueError("HTTP mode needs a SlackGate: nothing reaches the app unverified")
    started = clock()

    async def slack_events(request: web.Request) -> web.Response:
        assert bolt is not None and gate is not None
        try:
            bolt_request = await _verified(gate, request)
        except Refused as refused:
            note_refused(refused, source=request.remote or "an unknown peer", metrics=slack_metrics)
            return web.Response(status=refused.status, text=_REFUSAL_TEXT[refused.status])
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        body: dict[str, Any] = {"status": "ok", "mode": mode, "uptime_s": round(clock() - started, 1)}
        problems = [f"background service {name!r} is not running" for name in stopped_services()]
        if health is not None:
            try:
                report = await asyncio.wait_for(health(), timeout=health_timeout_s)
            except TimeoutError:
                log.warning(messages.health_timeout(health_timeout_s))
                problems.append(messages.health_timeout(health_timeout_s))
            except Exception as exc:
                log.exception("health probe failed")
                problems.append(f"health probe failed: {type(exc).__name__}")
            else:
                body.update(report.details)
                problems.extend(report.problems)
        if problems:
            return web.json_response({**body, "status": "unhealthy", "reasons": problems}, status=503)
        return web.json_response(body)

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    # A larger body is refused by aiohttp as it is read, before it is all in memory.
    app = web.Application(client_max_size=gate.max_body_bytes if gate is not None else MAX_BODY_BYTES)
    if bolt is not None:
        app.router.add_post(EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


_REFUSAL_TEXT = {400: "malformed request", 401: "invalid request", 413: "request too large"}


async def _verified(gate: SlackGate, request: web.Request) -> AsyncBoltRequest:
    # Headers first: an unsigned or stale request, or one that declares too large a body, is refused unread.
    headers = {name.lower(): request.headers.getall(name) for name in request.headers.keys()}
    gate.check_headers(headers)
    gate.check_length(request.content_length)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "too_large", f"the body is over {gate.max_body_bytes} bytes") from None
    return gate.bolt_request(headers=headers, raw=raw, query=request.query_string)


@contextlib.asynccontextmanager
async def serve_http(app: web.Application, *, host: str, port: int) -> AsyncIterator[int]:
    """Serve `app` until the block ends; yields the bound port (useful with port 0)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    try:
        yield bound
    finally:
        await runner.cleanup()


async def run_bot(
    *,
    bolt: AsyncApp,
    registry: CollectorRegistry,
    stop: asyncio.Event,
    port: int,
    host: str = "0.0.0.0",
    app_token: str | None = None,
    health: HealthProbe | None = None,
    background: Sequence[BackgroundService] = (),
    on_ready: Callable[[int], None] | None = None,
    gate: SlackGate | None = None,
    metrics: SlackMetrics | None = None,
) -> None:
    """Run until `stop` is set: Socket Mode when `app_token` is given, else HTTP mode (verified by `gate`); plus the
    background services."""
    socket_mode = app_token is not None
    tasks: dict[str, asyncio.Task[None]] = {}

    def stopped_services() -> list[str]:
        return [] if stop.is_set() else [name for name, task in tasks.items() if task.done()]

    web_app = build_web_app(
        bolt=None if socket_mode else bolt,
        registry=registry,
        health=health,
        mode="socket" if socket_mode else "http",
        stopped_services=stopped_services,
        gate=None if socket_mode else gate,
        slack_metrics=metrics,
    )
    async with serve_http(web_app, host=host, port=port) as bound:
        handler = None
        if app_token is not None:
            from bot.slack.socket_mode import CalmSocketModeHandler

            handler = CalmSocketModeHandler(bolt, app_token=app_token, metrics=metrics)
            await handler.connect_async()  # type: ignore[no-untyped-call]
        tasks.update(
            (service.name, asyncio.create_task(_supervised(service, stop), name=service.name)) for service in background
        )
        log.info(messages.log_listening(host, bound, socket_mode=socket_mode))
        if on_ready is not None:
            on_ready(bound)
        try:
            await stop.wait()
        finally:
            for task in tasks.values():
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
            if handler is not None:
                await handler.close_async()  # type: ignore[no-untyped-call]


async def _supervised(service: BackgroundService, stop: asyncio.Event) -> None:
    # A background service that dies must not take the Slack side down with it; it is logged loudly instead.
    try:
        await service.run(stop)
    except Exception:
        log.exception(messages.log_background_failed(service.name))


__all__ = [
    "EVENTS_PATH",
    "HEALTH_TIMEOUT_S",
    "BackgroundService",
    "HealthProbe",
    "HealthReport",
    "build_web_app",
    "run_bot",
    "serve_http",
]
