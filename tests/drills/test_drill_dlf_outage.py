"""DLF in trouble while `dlf-bot run` polls and people use it: 503, 429, an HTML error page, a body that is not JSON,
answers slower than `DLF_TIMEOUT` — one after another, for as long as it takes `/healthz` to say so — then healthy.

Every failure that happened during the outage reaches its channels afterwards, exactly once; every `/dlf instance`
asked meanwhile (a signed slash command through the bot's HTTP endpoint) gets a clear line about DLF, never the crash
line; `/healthz` reports the outage while it lasts ("polling fails") and is healthy again after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rig import BotProcess, World, wait_for

from dlf_sandbox.faults import Faults

pytestmark = [pytest.mark.drill, pytest.mark.slow]

DLF_TIMEOUT_S = 2
PHASE_S = 600.0  # each fault stays until the drill moves on (it waits on conditions, not on this)
# (what DLF does, how the sandbox does it, what a person asking during it must read)
OUTAGES: list[tuple[str, Callable[[Faults], None], str]] = [
    ("503", lambda f: f.server_error(status=503, for_s=PHASE_S), "DLF is not answering"),
    ("429", lambda f: f.throttle(retry_after=1, for_s=PHASE_S), "DLF is throttling requests"),
    ("HTML error page", lambda f: f.server_error(status=502, html=True, for_s=PHASE_S), "DLF is not answering"),
    ("200 with HTML", lambda f: f.malformed(kind="not_json", for_s=PHASE_S), "could not read"),
    ("cut-off JSON", lambda f: f.malformed(kind="truncated", for_s=PHASE_S), "could not read"),
    ("slower than DLF_TIMEOUT", lambda f: f.slow(DLF_TIMEOUT_S + 3, for_s=PHASE_S), "DLF is not answering"),
]
CRASH_LINE = "Something went wrong on the bot's side"


async def _ask(world: World, bot: BotProcess, job: str, instance_id: int, tag: str) -> str:
    """`/dlf instance <job> <id>` in C_ASK; the answer's text."""
    response_id = f"ask-{tag}-{time.monotonic_ns()}"
    ack = await bot.command(
        f"instance {job} {instance_id}", channel="C_ASK", response_url=world.slack.response_url(response_id)
    )
    assert ack.status_code == 200, ack.text
    (answer,) = await world.slack.wait_for_responses(response_id, timeout=90)
    return str(answer.get("text", "")) + str(answer.get("blocks", ""))


async def test_a_dlf_outage_of_every_kind_loses_no_alert_and_every_command_answers_clearly(
    world: World, database: str, tmp_path: Path
) -> None:
    jobs = [f"etl_{n}" for n in range(4)]
    world.add_jobs(jobs)
    bot = await world.start_bot(database, log=tmp_path / "bot.log", DLF_TIMEOUT=str(DLF_TIMEOUT_S))
    await world.watch(bot, "C1", "etl_*")
    await world.watch(bot, "C2", "etl_0")
    known = world.fail("etl_0")
    await world.wait_until_all_said(timeout=60)
    await wait_for(lambda: _healthy(bot), timeout=60, what="/healthz at 200 before the outage")

    outage_began = time.monotonic()
    answers: dict[str, str] = {}
    for n, (what, inject, _) in enumerate(OUTAGES):
        world.sandbox.faults.clear()
        inject(world.sandbox.faults)
        calls_before = len(world.sandbox.calls)
        world.fail(jobs[n % len(jobs)])  # fails while DLF is down: must be alerted once DLF is back
        answers[what] = await _ask(world, bot, "etl_0", known, what)
        # At least one poll cycle met this fault too (beyond the command's own requests).
        await wait_for(
            lambda before=calls_before: len(world.sandbox.calls) - before >= 6,
            timeout=90,
            what=f"poll cycles meeting DLF's {what}",
        )
    # The outage goes on (503) until /healthz says so: its first failed cycle was long ago, within the start-up
    # grace or not.
    world.sandbox.faults.clear()
    world.sandbox.faults.server_error(status=503, for_s=PHASE_S)
    reported = await wait_for(lambda: _reports_outage(bot), timeout=120, what="/healthz reporting the outage")
    status, health = await bot.healthz()
    print(
        f"outage reported by /healthz {time.monotonic() - outage_began:.1f} s after it began "
        f"(the last {reported:.1f} s of waiting after the six kinds)"
    )
    world.fail("etl_3")

    world.sandbox.faults.clear()
    recovered_at = time.monotonic()
    await world.wait_until_all_said(timeout=120)
    print(f"every failure of the outage in its channels {time.monotonic() - recovered_at:.1f} s after DLF was back")
    await wait_for(lambda: _healthy(bot), timeout=90, what="/healthz at 200 after the outage")
    after = await _ask(world, bot, "etl_0", known, "after")

    world.assert_exactly_once()
    assert status == 503 and any("polling fails" in r for r in health["reasons"]), health
    for what, _, expected in OUTAGES:
        assert CRASH_LINE not in answers[what], (what, answers[what])
        assert expected in answers[what], (what, answers[what])
    assert str(known) in after and "not answering" not in after
    assert bot.running
    assert "unexpected error while handling a Slack request" not in bot.log_text()
    assert await bot.stop() == 0


async def _healthy(bot: BotProcess) -> bool:
    status, _ = await bot.healthz()
    return status == 200


async def _reports_outage(bot: BotProcess) -> bool:
    status, body = await bot.healthz()
    return status == 503 and any("polling fails" in reason for reason in body.get("reasons", []))
