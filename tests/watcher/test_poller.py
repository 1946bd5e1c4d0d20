"""What one poll cycle costs DLF, and the time window it asks about."""

from __future__ import annotations

import pytest
from watcher_rig import Rig, blocks_text, dlf_client, metadata_of

from bot.dlf.client import DlfClient
from bot.dlf.models import Instance
from bot.watcher.poller import (
    DLF_MAX_RANGE_MS,
    HOUR_MS,
    PollOptions,
    ProfilePoller,
    time_windows,
    window_for,
)


async def test_calls_per_cycle_do_not_grow_with_subscriptions(rig: Rig) -> None:
    for n in range(300):
        rig.add_job(f"job_{n}")
    await rig.subscribe("C1", "job_1")
    rig.fail("job_1")
    rig.fail("job_2")
    await rig.cycle()
    few = rig.sandbox.calls.by_operation()

    for n in range(300):
        await rig.subscribe(f"C{n % 7}", f"job_{n}")
    rig.sandbox.calls.reset()
    rig.fail("job_1")
    rig.fail("job_2")
    await rig.cycle()
    many = rig.sandbox.calls.by_operation()

    # 1 subscription: the failure list of each of the two profiles, and for the profile with a watch its three lists
    # of unfinished instances (waiting, running, running-exception: what is still going, however long ago it was
    # planned); the success probe for the jobs failing now (a success listed with its failure resolves it in the
    # same cycle; none in the window: nothing more to ask); details of the one new watched failure.
    assert few == {"list_instances": 2 + 3 + 1, "show_instance": 1}
    # 301 subscriptions in 7 channels: the same lists, the one success probe (for job_1's open incident and the
    # jobs failing now alike), and details of the two new failures (once each, however many channels hear of them).
    assert many == {"list_instances": 2 + 3 + 1, "show_instance": 2}


async def test_details_only_for_failures_new_to_the_store(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    rig.fail("job_a")
    await rig.cycle()
    rig.sandbox.calls.reset()

    await rig.cycle()  # the same failure again, already known

    assert rig.sandbox.calls.count("show_instance") == 0


async def test_recoveries_are_asked_per_job_when_the_success_list_is_longer(rig: Rig) -> None:
    rig.add_job("job_a")
    rig.add_job("busy")
    await rig.subscribe("C1", "job_a")
    rig.fail("job_a")
    await rig.cycle()
    for _ in range(5):
        rig.succeed("busy")  # many successes of a job nobody is worried about
    fixed = rig.succeed("job_a")
    poller = ProfilePoller(
        profile="default", client=dlf_client(rig.dlf_url), store=rig.store, options=PollOptions(page_size=2)
    )
    rig.sandbox.calls.reset()
    try:
        await poller.run_cycle()
    finally:
        await poller.client.aclose()
    await rig.watcher.drain()

    queries = [c.query for c in rig.sandbox.calls if c.operation == "list_instances"]
    assert [q.get("jobName") for q in queries if q.get("status") == "success"] == [None, "job_a"]  # probe, then one
    (card,) = rig.top_level("C1")
    assert str(fixed) in rig.slack.thread("C1", card["ts"])[0]["text"]


class _RefusingClient(DlfClient):
    """The real client, refusing to send one job's name or id the way DlfClient refuses what its URL paths cannot
    carry (a ".." name, a negative id). The models now keep such rows out of the list, so only a client like this
    one can still bring the poller the refusal it must survive."""

    refused_job = "job_odd"
    error: type[Exception] = ValueError

    async def get_instance(self, job_name: str, instance_id: int) -> Instance:
        if job_name == self.refused_job:
            raise self.error(f"{job_name!r} is not a job name")
        return await super().get_instance(job_name, instance_id)


class _TypeRefusingClient(_RefusingClient):
    error = TypeError


@pytest.mark.parametrize("client_class", [_RefusingClient, _TypeRefusingClient], ids=["ValueError", "TypeError"])
async def test_a_listed_failure_the_client_refuses_to_ask_about_is_alerted_from_its_row_and_blocks_nothing(
    rig: Rig, caplog: pytest.LogCaptureFixture, client_class: type[DlfClient]
) -> None:
    for job in ("job_a", "job_odd"):
        rig.add_job(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    good, odd = rig.fail("job_a"), rig.fail("job_odd")
    poller = ProfilePoller(
        profile="default", client=dlf_client(rig.dlf_url, client_class=client_class), store=rig.store
    )
    try:
        report = await poller.run_cycle()
        await rig.watcher.drain()
        again = await poller.run_cycle()
        await rig.watcher.drain()
    finally:
        await poller.client.aclose()

    assert report.ok and again.ok  # the cursor advanced: the odd row crashed nothing
    cards = {metadata_of(p)["job"]: p for p in rig.posts("C1")}
    assert set(cards) == {"job_a", "job_odd"} and len(rig.posts("C1")) == 2  # each once, the replay said nothing
    assert metadata_of(cards["job_a"])["instance_id"] == good and "`load`" in blocks_text(cards["job_a"])
    assert metadata_of(cards["job_odd"])["instance_id"] == odd
    assert "cannot ask DLF about this instance" in blocks_text(cards["job_odd"])
    errors = [r for r in caplog.records if r.levelname == "ERROR" and "cannot be requested" in r.getMessage()]
    assert len(errors) == 1 and "job_odd" in errors[0].getMessage()


def test_the_window_starts_at_the_cursor_minus_the_overlap_and_never_before_the_lookback() -> None:
    options = PollOptions(lookback_ms=24 * HOUR_MS, overlap_ms=HOUR_MS)
    now = 1_000 * HOUR_MS
    assert window_for(cursor=None, now_ms=now, options=options) == (now - 24 * HOUR_MS, now)  # first start
    assert window_for(cursor=now - 60_000, now_ms=now, options=options) == (now - 60_000 - HOUR_MS, now)
    # Down for three days: catch up as far as the lookback allows.
    assert window_for(cursor=now - 72 * HOUR_MS, now_ms=now, options=options) == (now - 24 * HOUR_MS, now)


def test_spans_longer_than_dlf_accepts_are_split() -> None:
    assert time_windows(0, 10) == [(0, 10)]
    windows = time_windows(0, 2 * DLF_MAX_RANGE_MS + 5)
    assert windows == [
        (0, DLF_MAX_RANGE_MS),
        (DLF_MAX_RANGE_MS, 2 * DLF_MAX_RANGE_MS),
        (2 * DLF_MAX_RANGE_MS, 2 * DLF_MAX_RANGE_MS + 5),
    ]


@pytest.mark.parametrize("lookback_hours", [0, 24 * 7 + 1])
def test_lookback_must_fit_dlfs_seven_days(lookback_hours: int) -> None:
    with pytest.raises(ValueError, match="7 days"):
        PollOptions(lookback_ms=lookback_hours * HOUR_MS)
