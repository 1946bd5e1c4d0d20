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


def state(*, success: int | None, error: str | None = None, failing_since: int | None = None) -> WatcherState:
    return WatcherState(
        profile="default",
        cursor=success,
        heartbeat_at=success,
        last_success_at=success,
        last_error=error,
        last_error_at=failing_since,
        failing_since=failing_since,
    )


def test_limits_follow_the_poll_interval() -> None:
    from bot.watcher.scheduler import WatcherOptions

    limits = HealthLimits.for_options(WatcherOptions(poll_interval_s=60))
    assert limits.stale_after_ms == (3 * 60 + 30) * 1000
    assert limits.startup_grace_ms == limits.stale_after_ms + (2 * 60 + 30) * 1000  # + the poll lease's TTL


def test_verdicts() -> None:
    def judge(*, running: bool = True, ever: bool = True, success: int | None, now: int) -> tuple[str, ...]:
        return judge_watcher(
            running=running,
            ever_started=ever,
            states={"default": state(success=success)},
            now_ms=now,
            started_ms=START,
            limits=LIMITS,
        ).reasons

    assert judge(success=None, now=START + 1_000) == ()  # start-up: nothing polled yet, within the grace
    assert judge(running=False, ever=False, success=None, now=START + 1_000) == ()  # not started yet
    assert judge(success=START + 200_000, now=START + 400_000) == ()  # 200 s old: fine
    assert judge(success=START + 100_000, now=START + 400_000) == (
        "profile default: last successful poll cycle 300 s ago (allowed: 210 s)",
    )
    assert judge(success=None, now=START + 400_000) == (
        "profile default: not yet polled 400 s after start-up (allowed: 360 s): another replica may hold the poll "
        "lease without polling, or the first cycle is stuck",
    )
    assert judge(running=False, ever=True, success=START, now=START + 1_000) == (
        "the watcher is not running: no alerts are being sent",
    )  # it died: no grace for that
    assert judge(running=False, ever=False, success=START + 390_000, now=START + 400_000) == (
        "the watcher is not running: no alerts are being sent",
    )  # never started, and the grace is over


def test_failing_cycles_are_judged_from_their_first_failure_without_the_start_up_grace() -> None:
    """A DLF outage that begins right after start-up is reported as soon as one that begins later (defect 9)."""

    def judge(watcher_state: WatcherState | None, now: int) -> tuple[str, ...]:
        return judge_watcher(
            running=True,
            ever_started=True,
            states={"default": watcher_state},
            now_ms=now,
            started_ms=START,
            limits=LIMITS,
        ).reasons

    first_failure = START + 5_000  # the very first cycle failed: DLF was already down
    failing = state(success=None, error="DlfUnavailable: 503 Backend unavailable", failing_since=first_failure)
    assert judge(failing, first_failure + 200_000) == ()  # 200 s of failures: within the stale limit
    assert judge(failing, first_failure + 215_000) == (
        "profile default: polling fails for 215 s (allowed: 210 s); last error: DlfUnavailable: 503 Backend "
        "unavailable",
    )  # 220 s after start-up: well within the 360 s grace, and reported all the same
    # After a success, the outage counts from its own first failure, and the last success is named.
    after_success = state(success=START + 10_000, error="DlfThrottled: 429", failing_since=START + 70_000)
    assert judge(after_success, START + 200_000) == ()
    assert judge(after_success, START + 290_000) == (
        "profile default: polling fails for 220 s (allowed: 210 s); last success 280 s ago; last error: "
        "DlfThrottled: 429",
    )
    # Nothing attempted yet (the poll lease is another replica's, or the first cycle is still running): no verdict
    # within the grace, a clear one after it.
    assert judge(None, START + 300_000) == ()
    assert judge(None, START + 361_000)[0].startswith("profile default: not yet polled 361 s after start-up")


def test_health_details_say_which_of_the_situations_each_profile_is_in() -> None:
    states = {
        "fresh": None,
        "ok": state(success=START + 100_000),
        "down": state(success=START, error="DlfUnavailable: 503", failing_since=START + 50_000),
        "hung": state(success=START),
    }
    verdict = judge_watcher(
        running=True, ever_started=True, states=states, now_ms=START + 300_000, started_ms=START, limits=LIMITS
    )
    details = verdict.details["profiles"]
    assert {name: p["state"] for name, p in details.items()} == {
        "fresh": "not yet polled",
        "ok": "polling",
        "down": "polling fails",
        "hung": "stale",
    }
    assert details["down"]["failing_for_s"] == 250.0 and details["down"]["last_error"] == "DlfUnavailable: 503"
    assert [r.split(":")[0] for r in verdict.reasons] == ["profile down"]  # "hung" is still within the grace


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
                for _ in range(400):
                    # While the first cycle holds SQLite's writer, a loaded machine may see /healthz answer its
                    # time-out (no "watcher" part): that is "not yet", not a verdict.
                    profiles = (await health())[1].get("watcher", {}).get("profiles", {})
                    if profiles and all(p["last_success_ms"] for p in profiles.values()):
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
