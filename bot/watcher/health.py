"""Is the watcher alive? What `/healthz` (and so the container's HEALTHCHECK) answers about it.

Unhealthy when the watcher is not running (its task died, or it never started) or when a profile's last successful
cycle is older than `stale_after_s` — a hung cycle, or DLF failing for that long. Right after start-up the profiles
get a grace period: the first cycle may wait for a crashed replica's poll lease to expire and then catch up. The
store holds each profile's heartbeat, so with several replicas every one of them judges the cycles of whichever
replica holds the lease.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.store import WatcherState
from bot.store.engine import HEALTH_LOCK_WAIT_S
from bot.watcher.scheduler import Watcher, WatcherOptions

STALE_INTERVALS = 3
# Room for one slow cycle (many failures' details at DLF's rate limit) on top of the intervals.
STALE_SLACK_S = 30.0


@dataclass(frozen=True, kw_only=True)
class HealthLimits:
    """How old a last successful cycle may be, and how long after start-up nobody is judged on that."""

    stale_after_ms: int
    startup_grace_ms: int

    @classmethod
    def for_options(cls, options: WatcherOptions) -> HealthLimits:
        """About three poll intervals (plus slack for a slow cycle); at start-up the poll lease's TTL on top."""
        stale_s = STALE_INTERVALS * options.poll_interval_s + STALE_SLACK_S
        return cls(
            stale_after_ms=round(stale_s * 1000),
            startup_grace_ms=round((stale_s + options.effective_lease_ttl_s) * 1000),
        )


@dataclass(frozen=True, kw_only=True)
class WatcherHealth:
    """The verdict: healthy or not, why not, and per profile what the store knows."""

    healthy: bool
    reasons: tuple[str, ...]
    details: dict[str, Any]


def _age_s(now_ms: int, at_ms: int | None) -> float | None:
    return round((now_ms - at_ms) / 1000, 1) if at_ms is not None else None


def judge_watcher(
    *,
    running: bool,
    ever_started: bool,
    states: Mapping[str, WatcherState | None],
    now_ms: int,
    started_ms: int,
    limits: HealthLimits,
) -> WatcherHealth:
    """Pure verdict over the watcher's state. `started_ms`: when this process started (the grace counts from it)."""
    in_grace = now_ms - started_ms < limits.startup_grace_ms
    reasons: list[str] = []
    if not running and (ever_started or not in_grace):
        reasons.append("the watcher is not running: no alerts are being sent")
    profiles: dict[str, Any] = {}
    for profile, state in states.items():
        success = state.last_success_at if state is not None else None
        heartbeat = state.heartbeat_at if state is not None else None
        profiles[profile] = {
            "last_heartbeat_ms": heartbeat,
            "heartbeat_age_s": _age_s(now_ms, heartbeat),
            "last_success_ms": success,
            "last_success_age_s": _age_s(now_ms, success),
            "last_error": state.last_error if state is not None else None,
        }
        if in_grace:
            continue
        limit_s = limits.stale_after_ms / 1000
        if success is None:
            reasons.append(f"profile {profile}: no successful poll cycle yet (allowed: {limit_s:.0f} s)")
        elif now_ms - success > limits.stale_after_ms:
            error = state.last_error if state is not None else None
            why = f"; last error: {error}" if error else ""
            reasons.append(
                f"profile {profile}: last successful poll cycle {_age_s(now_ms, success):.0f} s ago "
                f"(allowed: {limit_s:.0f} s){why}"
            )
    return WatcherHealth(
        healthy=not reasons,
        reasons=tuple(reasons),
        details={"running": running, "profiles": profiles},
    )


class WatcherHealthProbe:
    """Reads the watcher's state from the store and judges it (`judge_watcher`); the clock is injected."""

    def __init__(
        self,
        *,
        watcher: Watcher,
        clock: Callable[[], int],
        limits: HealthLimits | None = None,
        profiles: Sequence[str] | None = None,
    ) -> None:
        self.watcher = watcher
        self.clock = clock
        self.limits = limits or HealthLimits.for_options(watcher.options)
        self.profiles = tuple(profiles) if profiles is not None else tuple(p.profile for p in watcher.pollers)
        self.started_ms = clock()

    async def check(self) -> WatcherHealth:
        """The verdict now."""
        # Reads only, with health's short wait: on SQLite a reader then waits for no writer.
        async with self.watcher.store.transaction(read_only=True, lock_wait_s=HEALTH_LOCK_WAIT_S) as tx:
            states = {profile: await tx.watcher_state.get(profile) for profile in self.profiles}
        return judge_watcher(
            running=self.watcher.running,
            ever_started=self.watcher.ever_started,
            states=states,
            now_ms=self.clock(),
            started_ms=self.started_ms,
            limits=self.limits,
        )


__all__ = ["HealthLimits", "WatcherHealth", "WatcherHealthProbe", "judge_watcher"]
