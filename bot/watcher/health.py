"""Is the watcher alive? What `/healthz` (and so the container's HEALTHCHECK) answers about it.

Unhealthy when the watcher is not running (its task died, or it never started), and per profile — the store holds
each profile's cycles (heartbeat, last success, the streak of failures), so with several replicas every one of them
judges the cycles of whichever replica holds the lease — in three different situations:

- polling fails: cycles are attempted and fail (DLF down, throttled, answering garbage, the database refusing).
  Unhealthy once the stale limit has passed since the streak's first failed attempt, start-up grace or not: an
  outage that begins just after start-up is reported as soon as one that begins later.
- stale: the last cycle succeeded, but too long ago (a hung cycle, a holder that stopped polling): unhealthy once the
  last success is older than the stale limit.
- not yet polled: no cycle of the profile has run to its end yet (another replica holds the poll lease — a crashed
  one's lease must expire first —, or the first cycle is still running). Healthy within the start-up grace, then
  unhealthy.

The start-up grace (stale limit + the poll lease's TTL, counted from this process's start) applies to the last two
only.
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


NOT_YET_POLLED = "not yet polled"
POLLING = "polling"
POLLING_FAILS = "polling fails"
STALE = "stale"


def _age_s(now_ms: int, at_ms: int | None) -> float | None:
    return round((now_ms - at_ms) / 1000, 1) if at_ms is not None else None


def profile_condition(state: WatcherState | None) -> str:
    """What the store says of one profile's cycles: `NOT_YET_POLLED`, `POLLING_FAILS` or `POLLING` (the last
    cycle succeeded; whether it is recent enough is the caller's question)."""
    if state is None or (state.last_success_at is None and state.failing_since is None):
        return NOT_YET_POLLED
    if state.failing_since is not None:
        return POLLING_FAILS
    return POLLING


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
    limit_s = limits.stale_after_ms / 1000
    profiles: dict[str, Any] = {}
    for profile, state in states.items():
        condition = profile_condition(state)
        success = state.last_success_at if state is not None else None
        heartbeat = state.heartbeat_at if state is not None else None
        failing_since = state.failing_since if state is not None else None
        error = state.last_error if state is not None else None
        stale = success is not None and now_ms - success > limits.stale_after_ms
        if condition == POLLING_FAILS:
            assert failing_since is not None
            if now_ms - failing_since > limits.stale_after_ms:
                since = f"; last success {_age_s(now_ms, success):.0f} s ago" if success is not None else ""
                reasons.append(
                    f"profile {profile}: polling fails for {_age_s(now_ms, failing_since):.0f} s "
                    f"(allowed: {limit_s:.0f} s){since}; last error: {error}"
                )
            elif stale and not in_grace:
                reasons.append(
                    f"profile {profile}: last successful poll cycle {_age_s(now_ms, success):.0f} s ago "
                    f"(allowed: {limit_s:.0f} s); last error: {error}"
                )
        elif condition == NOT_YET_POLLED and not in_grace:
            reasons.append(
                f"profile {profile}: not yet polled {_age_s(now_ms, started_ms):.0f} s after start-up "
                f"(allowed: {limits.startup_grace_ms / 1000:.0f} s): another replica may hold the poll lease "
                "without polling, or the first cycle is stuck"
            )
        elif condition == POLLING and stale and not in_grace:
            reasons.append(
                f"profile {profile}: last successful poll cycle {_age_s(now_ms, success):.0f} s ago "
                f"(allowed: {limit_s:.0f} s)"
            )
        if condition == POLLING and stale:
            condition = STALE
        profiles[profile] = {
            "state": condition,
            "last_heartbeat_ms": heartbeat,
            "heartbeat_age_s": _age_s(now_ms, heartbeat),
            "last_success_ms": success,
            "last_success_age_s": _age_s(now_ms, success),
            "failing_since_ms": failing_since,
            "failing_for_s": _age_s(now_ms, failing_since),
            "last_error": error,
        }
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


__all__ = [
    "NOT_YET_POLLED",
    "POLLING",
    "POLLING_FAILS",
    "STALE",
    "HealthLimits",
    "WatcherHealth",
    "WatcherHealthProbe",
    "judge_watcher",
    "profile_condition",
]
