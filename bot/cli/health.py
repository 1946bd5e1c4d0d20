"""What `/healthz` of `dlf-bot run` asks: the database first, then the watcher's and the outbox's views.

Each function wraps a probe of `bot.watcher` into the `HealthProbe` shape `bot.slack.server` serves.
"""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.slack.server import HealthProbe, HealthReport
from bot.store import Store
from bot.watcher.health import WatcherHealthProbe
from bot.watcher.outbox_health import OutboxHealthProbe


def watcher_health(watcher: WatcherHealthProbe) -> HealthProbe:
    """`/healthz`'s view of the watcher: per profile the last heartbeat, success and error as the store has them;
    unhealthy when the watcher is not running or a profile's last successful cycle is too old."""

    async def probe() -> HealthReport:
        verdict = await watcher.check()
        return HealthReport(details={"watcher": verdict.details}, problems=verdict.reasons)

    return probe


def bot_health(store: Store, inner: HealthProbe) -> HealthProbe:
    """`/healthz`: first whether the database takes a write (bounded: `Store.probe`), then `inner` (the watcher's and
    the outbox's views). A database that does not answer is then the one reason given: both views live in it."""

    async def probe() -> HealthReport:
        failure = await store.probe()
        if failure is not None:
            return HealthReport(
                details={"database": {"ok": False, "problem": failure.kind, "detail": failure.detail}},
                problems=[messages.health_database(failure.kind, failure.detail)],
            )
        report = await inner()
        return HealthReport(details={"database": {"ok": True}, **report.details}, problems=report.problems)

    return probe


def outbox_health(outbox: OutboxHealthProbe) -> HealthProbe:
    """`/healthz`'s view of the outbox: unhealthy when a due message is not taken, or one stays in doubt or failing
    for long (`bot.watcher.outbox_health`)."""

    async def probe() -> HealthReport:
        verdict = await outbox.check()
        return HealthReport(details={"outbox": verdict.details}, problems=verdict.reasons)

    return probe


def combined_health(*probes: HealthProbe) -> HealthProbe:
    """One probe answering with every probe's details and problems."""

    async def probe() -> HealthReport:
        details: dict[str, Any] = {}
        problems: list[str] = []
        for each in probes:
            report = await each()
            details.update(report.details)
            problems.extend(report.problems)
        return HealthReport(details=details, problems=problems)

    return probe


__all__ = ["bot_health", "combined_health", "outbox_health", "watcher_health"]
