"""`/healthz` about the watcher: unhealthy when cycles stop succeeding or the watcher is not running (clock injected)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from watcher_rig import build_rig_watcher

from bot.cli import watcher_health
from bot.render.limits import problems
from bot.slack import build_web_app, serve_http
from bot.store import Store, WatcherState
from bot.store.testing import ManualClock
from bot.watcher.health import HealthLimits, WatcherHealthProbe, judge_watcher
from dlf_sandbox import Sandbox
from slack_fake import FakeSlack

LIMITS = HealthLimits(stale_after_ms=210_000, startup_grace_ms=360_000)
START = 1_790_000_000_000


def state(*, success: int | None, error: str | None = None) -> WatcherState:
    return WatcherState(
        profile="default", cursor=success, heartbeat_at=success, last_success_at=success, last_error=error,
        last_error_at=None,
    )


def test_limits_follow_the_poll_interval() -> None:
    from bot.watcher.scheduler import WatcherOptions

    limits = HealthLimits.for_options(WatcherOptions(poll_interval_s=60))
    assert limits.stale_after_ms == (3 * 60 + 30) * 1000
    assert limits.startup_grace_ms == limits.stale_after_ms + (2 * 60 + 30) * 1000  # + the poll lease's TTL


def test_verdicts() -> None:
    def judge(*, running: bool = True, ever: bool = True, success: int | None, now: int) -> tuple[str, ...]:
        return judge_watcher(
            running=running, ever_started=ever, states={"default": state(success=success)}, now_ms=now,
            started_ms=START, limits=LIMITS,
        ).reasons

    assert judge(success=None, now=START + 1_000) == ()  # start-up: nothing polled yet, within the grace
    assert judge(running=False, ever=False, success=None, now=START + 1_000) == ()  # not started yet
    assert judge(success=START + 200_000, now=START + 400_000) == ()  # 200 s old: fine
    assert judge(success=START + 100_000, now=START + 400_000) == (
        "profile default: last successful poll cycle 300 s ago (allowed: 210 s)",
    )
    assert judge(success=None, now=START + 400_000) == (
        "profile default: no successful poll cycle yet (allowed: 210 s)",
    )
    assert judge(running=False, ever=True, success=START, now=START + 1_000) == (
        "the watcher is not running: no alerts are being sent",
    )  # it died: no grace for that
    assert judge(running=False, ever=False, success=START + 390_000, now=START + 400_000) == (
        "the watcher is not running: no alerts are being sent",
    )  # never started, and the grace is over


async def test_healthz_turns_503_when_cycles_stop_succeeding_and_when_the_watcher_stops(database_url: str) -> None:
    clock = ManualClock(start_ms=START)
    sandbox = Sandbox(seed=False)
    async with sandbox.serve() as dlf_url, FakeSlack(validator=problems).serve() as slack_url:
        store = await Store.open(database_url, clock=clock)
        watcher = build_rig_watcher(store, dlf_url, slack_url, poll_interval_s=60)
        probe = WatcherHealthProbe(watcher=watcher, clock=clock, limits=LIMITS)
        app = build_web_app(bolt=None, registry=CollectorRegistry(), health=watcher_health(probe))
        try:
            async with serve_http(app, host="127.0.0.1", port=0) as port, httpx.AsyncClient() as http:

                async def health() -> tuple[int, dict[str, Any]]:
                    answer = await http.get(f"http://127.0.0.1:{port}/healthz")
                    return answer.status_code, answer.json()

                assert (await health())[0] == 200  # start-up: not polled yet, within the grace
                watcher.start()  # its first cycle runs at once; the next one would be a (real) minute later
                for _ in range(200):
                    if all(p["last_success_ms"] for p in (await health())[1]["watcher"]["profiles"].values()):
                        break
                    await asyncio.sleep(0.05)

                clock.advance(200)
                status, body = await health()
                assert status == 200 and body["status"] == "ok"
                assert body["watcher"]["running"] is True
                assert body["watcher"]["profiles"]["default"]["last_success_age_s"] == 200.0

                # DLF down: the cycle fails (heartbeat, error), the last success ages past the limit.
                sandbox.faults.server_error(n=10_000, status=503)
                await watcher.run_cycle_once()
                clock.advance(200)
                status, body = await health()
                assert status == 503 and body["status"] == "unhealthy"
                [reason, _analytics] = body["reasons"]
                assert reason.startswith("profile default: last successful poll cycle 400 s ago (allowed: 210 s)")
                assert "DlfUnavailable" in reason
                assert "DlfUnavailable" in body["watcher"]["profiles"]["default"]["last_error"]

                sandbox.faults.clear()
                await watcher.run_cycle_once()
                assert (await health())[0] == 200

                await watcher.stop()
                status, body = await health()
                assert status == 503 and body["reasons"] == ["the watcher is not running: no alerts are being sent"]
        finally:
            await watcher.stop()
            for poller in watcher.pollers:
                await poller.client.aclose()
            await store.aclose()
