"""Outages: Slack failing for a while, DLF throttled or down for one profile, two cycles overlapping."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from watcher_rig import (
    JOB_NODES,
    Rig,
    blocks_text,
    dlf_client,
    metadata_of,
    slack_client,
)

from bot.render.limits import problems
from bot.store import Store
from bot.watcher.poller import ProfilePoller
from bot.watcher.scheduler import WatcherOptions, build_watcher
from dlf_sandbox import Sandbox
from slack_fake import FakeSlack


async def deliver_everything(rig: Rig, *, timeout: float = 60.0) -> None:
    """Delivery passes until the outbox is empty, waiting out back-offs (Retry-After, 5xx back-off)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await rig.watcher.drain()
        async with rig.store.transaction() as tx:
            if await tx.outbox.pending_count() == 0:
                return
        await asyncio.sleep(0.2)
    raise AssertionError("the outbox did not empty")


def posted_keys(slack: FakeSlack) -> Counter[str]:
    return Counter(
        metadata_of(c.params).get("key", "") for c in slack.calls_to("chat.postMessage") if c.outcome == "ok"
    )


@pytest.mark.slow
async def test_slack_429_500_and_resets_then_recovery_deliver_every_alert_once(rig: Rig) -> None:
    for job in ("job_a", "job_b", "job_c"):
        rig.add_job(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    await rig.subscribe("C2", "job_a")
    failed = [rig.fail("job_a"), rig.fail("job_b"), rig.fail("job_c")]
    rig.slack.faults.ratelimit("chat.postMessage", n=2, retry_after=1)
    rig.slack.faults.server_error("chat.postMessage", n=2, status=503)
    rig.slack.faults.reset("chat.postMessage", n=2)

    await rig.watcher.run_cycle_once()
    await rig.watcher.drain()
    outcomes = [c.outcome for c in rig.slack.calls_to("chat.postMessage")]
    assert "http:429" in outcomes  # the outage did happen, and nothing was given up on
    await deliver_everything(rig)

    keys = posted_keys(rig.slack)
    assert set(keys.values()) == {1}
    expected = {f"alert:default:C1:job_a:{failed[0]}:failure", f"alert:default:C2:job_a:{failed[0]}:failure"}
    assert expected <= set(keys)
    # C1: one card for job_a, one for job_b, one for job_c (separate jobs, separate incidents).
    assert len(rig.top_level("C1")) == 3 and len(rig.top_level("C2")) == 1


@pytest.fixture
async def two_sandboxes(database_url: str) -> AsyncIterator[tuple[Sandbox, Sandbox, FakeSlack, Store, str, str]]:
    """Two DLF projects (profiles "alpha" and "beta"), each its own sandbox, and one fake Slack."""
    alpha, beta = Sandbox(seed=False), Sandbox(seed=False)
    for sandbox in (alpha, beta):
        sandbox.state.add_job("job_a", nodes=JOB_NODES)
    slack = FakeSlack(validator=problems)
    async with alpha.serve() as alpha_url, beta.serve() as beta_url, slack.serve() as slack_url:
        store = await Store.open(database_url)
        try:
            yield alpha, beta, slack, store, alpha_url + "|" + beta_url, slack_url
        finally:
            await store.aclose()


@pytest.mark.parametrize("outage", ["throttled", "down"])
async def test_one_profile_failing_does_not_block_the_other_and_catches_up(
    two_sandboxes: tuple[Sandbox, Sandbox, FakeSlack, Store, str, str], outage: str
) -> None:
    alpha, beta, slack, store, urls, slack_url = two_sandboxes
    alpha_url, beta_url = urls.split("|")
    clients = {"alpha": dlf_client(alpha_url), "beta": dlf_client(beta_url)}
    watcher = build_watcher(
        store=store, clients=clients, slack=slack_client(slack_url), options=WatcherOptions(pace_s=0.0)
    )
    try:
        async with store.transaction() as tx:
            for profile in ("alpha", "beta"):
                await tx.subscriptions.subscribe(
                    channel=f"C_{profile}", profile=profile, target="job_a", created_by="U1"
                )
        failures = {}
        for name, sandbox in (("alpha", alpha), ("beta", beta)):
            now = sandbox.clock()
            iid = sandbox.timeline.appear("job_a", at=now - 10_000)
            sandbox.timeline.fail("job_a", iid, at=now - 1_000)
            sandbox.timeline.step_until(now)
            failures[name] = iid
        # Alpha's DLF answers nothing but 429 (or 503) for this cycle, retries included.
        if outage == "throttled":
            alpha.faults.throttle(n=1000, retry_after=1.0)
        else:
            alpha.faults.server_error(n=1000, status=503)

        reports = {r.profile: r for r in await watcher.run_cycle_once()}
        await watcher.drain()

        assert not reports["alpha"].ok and reports["beta"].ok
        assert [m["metadata"]["event_payload"]["instance_id"] for m in slack.channel_messages("C_beta")] == [
            failures["beta"]
        ]
        assert slack.channel_messages("C_alpha") == []
        async with store.transaction() as tx:
            state = await tx.watcher_state.get("alpha")
        assert state is not None and state.last_error and state.cursor is None  # cursor kept: catch up next time

        alpha.faults.clear()
        reports = {r.profile: r for r in await watcher.run_cycle_once()}
        await watcher.drain()

        assert reports["alpha"].ok
        assert [metadata_of(m)["instance_id"] for m in slack.channel_messages("C_alpha")] == [failures["alpha"]]
        assert len(slack.channel_messages("C_beta")) == 1
    finally:
        await watcher.stop()
        for client in clients.values():
            await client.aclose()


async def test_overlapping_cycles_of_two_replicas_still_alert_once(rig: Rig, database_url: str) -> None:
    """The lease normally keeps cycles apart; if it did not (a cycle longer than the lease), the outbox keys do."""
    for job in ("job_a", "job_b"):
        rig.add_job(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    ids = [rig.fail("job_a"), rig.fail("job_b"), rig.fail("job_a")]
    other_store = await Store.open(database_url, run_migrations=False)
    clients = [dlf_client(rig.dlf_url), dlf_client(rig.dlf_url)]
    try:
        pollers = [
            ProfilePoller(profile="default", client=clients[0], store=rig.store),
            ProfilePoller(profile="default", client=clients[1], store=other_store),
        ]
        await asyncio.gather(*(p.run_cycle() for p in pollers))
        await rig.watcher.drain()
    finally:
        for client in clients:
            await client.aclose()
        await other_store.aclose()

    keys = posted_keys(rig.slack)
    assert set(keys.values()) == {1}
    about = sorted(metadata_of(m)["instance_id"] for m in rig.slack.channel_messages("C1"))
    assert about == sorted(ids)  # two cards (job_a, job_b) and job_a's second failure in its thread


async def test_an_instance_whose_details_fail_is_alerted_from_its_list_row_and_blocks_nothing(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    for job in ("job_a", "job_b"):
        rig.add_job(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    odd = rig.fail("job_a")
    # DLF answers this instance's details with JSON of the wrong shape (every time it is asked).
    rig.sandbox.faults.malformed(n=100, kind="wrong_shape", operation="show_instance")

    reports = await rig.cycle()

    assert all(report.ok for report in reports)  # the cursor advanced: the odd instance holds nothing back
    [card] = rig.posts("C1")
    text = blocks_text(card)
    assert metadata_of(card)["instance_id"] == odd
    assert "Details could not be fetched from DLF" in text and "not an instance" in text
    assert "Node load failed." in text  # DLF's errorMessage from the list row
    errors = [r for r in caplog.records if r.levelname == "ERROR" and "could not be fetched" in r.getMessage()]
    assert len(errors) == 1 and f"job_a/{odd}" in errors[0].getMessage()

    rig.sandbox.faults.clear()
    other = rig.fail("job_b")
    await rig.cycle()

    posts = rig.posts("C1")
    assert [metadata_of(p)["instance_id"] for p in posts] == [odd, other]  # job_a is not alerted twice
    assert "Details could not be fetched" not in blocks_text(posts[1]) and "`load`" in blocks_text(posts[1])


async def test_dlf_down_while_fetching_details_keeps_the_cursor_and_alerts_later(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    failed = rig.fail("job_a")
    rig.sandbox.faults.server_error(n=100, status=503, operation="show_instance")

    reports = await rig.cycle()

    assert {report.error for report in reports if report.profile == "default"} == {"DlfUnavailable"}
    assert rig.posts("C1") == []
    rig.sandbox.faults.clear()
    await rig.cycle()
    [card] = rig.posts("C1")
    assert metadata_of(card)["instance_id"] == failed
    assert "Details could not be fetched" not in blocks_text(card)
