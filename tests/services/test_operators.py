"""The operator check against the fake Slack over HTTP: named users, user groups (cached, bounded), Slack failures."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.services.operators import OperatorCheck, Operators
from bot.slack.web_client import build_web_client
from slack_fake import FakeSlack

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
ONCALL, DBA = "S0ONCALL", "S0DBA"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def operators(fake: FakeSlack, **kwargs: object) -> Operators:
    assert fake.base_url is not None
    return Operators(slack=build_web_client(token="xoxb-test", base_url=fake.base_url), **kwargs)  # type: ignore[arg-type]


async def test_nobody_is_an_operator_without_configuration(fake_slack: FakeSlack) -> None:
    check = await operators(fake_slack).check(user=ALICE, channel="C1")
    assert check == OperatorCheck(allowed=False, configured=False, who=())
    assert not fake_slack.calls_to("usergroups.users.list")


async def test_a_named_user_may_act_in_every_channel_and_nobody_else(fake_slack: FakeSlack) -> None:
    ops = operators(fake_slack, everywhere=[ALICE])
    assert (await ops.check(user=ALICE, channel="C1")).allowed
    assert (await ops.check(user=ALICE, channel="C2")).allowed
    refused = await ops.check(user=BOB, channel="C1")
    assert refused == OperatorCheck(allowed=False, configured=True, who=(ALICE,))


async def test_a_channels_operators_are_added_to_the_global_ones_there_only(fake_slack: FakeSlack) -> None:
    ops = operators(fake_slack, everywhere=[ALICE], per_channel={"C1": [BOB]})
    assert (await ops.check(user=BOB, channel="C1")).allowed
    assert (await ops.check(user=ALICE, channel="C1")).allowed  # the global operator keeps the channel too
    elsewhere = await ops.check(user=BOB, channel="C2")
    assert not elsewhere.allowed and elsewhere.who == (ALICE,)
    assert (await ops.check(user=CAROL, channel="C1")).who == (ALICE, BOB)


async def test_a_channel_with_operators_while_no_global_ones_leaves_others_unconfigured(fake_slack: FakeSlack) -> None:
    ops = operators(fake_slack, per_channel={"C1": [BOB]})
    assert (await ops.check(user=BOB, channel="C1")).allowed
    assert await ops.check(user=BOB, channel="C2") == OperatorCheck(allowed=False, configured=False, who=())


async def test_a_user_groups_members_are_operators_read_once_then_cached(fake_slack: FakeSlack) -> None:
    fake_slack.seed_usergroup(ONCALL, [BOB, CAROL])
    clock = ManualClock()
    ops = operators(fake_slack, everywhere=[ALICE, ONCALL], clock=clock, group_ttl_s=300)
    assert (await ops.check(user=BOB, channel="C1")).allowed
    assert (await ops.check(user=CAROL, channel="C2")).allowed
    refused = await ops.check(user="U0MALLORY", channel="C1")
    assert not refused.allowed and refused.who == (ALICE, ONCALL) and refused.unchecked == ()
    calls = fake_slack.calls_to("usergroups.users.list")
    assert [call.params["usergroup"] for call in calls] == [ONCALL]
    # A member removed from the group keeps the permission until the cached list expires, then loses it.
    fake_slack.seed_usergroup(ONCALL, [CAROL])
    clock.now += 299
    assert (await ops.check(user=BOB, channel="C1")).allowed
    clock.now += 2
    assert not (await ops.check(user=BOB, channel="C1")).allowed
    assert len(fake_slack.calls_to("usergroups.users.list")) == 2


async def test_a_named_user_needs_no_group_lookup(fake_slack: FakeSlack) -> None:
    ops = operators(fake_slack, everywhere=[ONCALL, ALICE])
    assert (await ops.check(user=ALICE, channel="C1")).allowed
    assert not fake_slack.calls_to("usergroups.users.list")


async def test_the_group_cache_is_bounded(fake_slack: FakeSlack) -> None:
    fake_slack.seed_usergroup(ONCALL, [BOB])
    fake_slack.seed_usergroup(DBA, [CAROL])
    ops = operators(fake_slack, per_channel={"C1": [ONCALL], "C2": [DBA]}, max_groups=1)
    for _ in range(2):
        assert (await ops.check(user=BOB, channel="C1")).allowed
        assert (await ops.check(user=CAROL, channel="C2")).allowed
    # Room for one group: each channel's lookup pushed the other's out.
    assert len(fake_slack.calls_to("usergroups.users.list")) == 4


async def test_a_group_slack_does_not_know_refuses_says_so_and_logs_one_line(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ops = operators(fake_slack, everywhere=[ALICE, "S0GONE"])
    with caplog.at_level(logging.WARNING, logger="bot.services.operators"):
        check = await ops.check(user=BOB, channel="C1")
    assert check == OperatorCheck(allowed=False, configured=True, who=(ALICE, "S0GONE"), unchecked=("S0GONE",))
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.services.operators"]
    assert lines == [
        "could not check the members of user group S0GONE (Slack answered no_such_subteam); the operator check refused"
    ]
    assert "xoxb-test" not in caplog.text


async def test_a_slack_outage_refuses_and_is_not_cached(fake_slack: FakeSlack) -> None:
    fake_slack.seed_usergroup(ONCALL, [BOB])
    ops = operators(fake_slack, everywhere=[ONCALL], lookup_timeout_s=1)
    fake_slack.faults.outage("server_error", seconds=60, methods=["usergroups.users.list"])
    check = await ops.check(user=BOB, channel="C1")
    assert not check.allowed and check.configured and check.unchecked == (ONCALL,)
    fake_slack.faults.clear()
    assert (await ops.check(user=BOB, channel="C1")).allowed


async def test_a_slack_that_does_not_answer_is_not_waited_for(fake_slack: FakeSlack) -> None:
    fake_slack.seed_usergroup(ONCALL, [BOB])
    fake_slack.answer_delay_s = 5
    ops = operators(fake_slack, everywhere=[ONCALL], lookup_timeout_s=0.2)
    check = await asyncio.wait_for(ops.check(user=BOB, channel="C1"), timeout=3)
    assert not check.allowed and check.unchecked == (ONCALL,)


async def test_membership_in_another_group_still_counts_when_one_group_cannot_be_read(fake_slack: FakeSlack) -> None:
    fake_slack.seed_usergroup(DBA, [CAROL])
    ops = operators(fake_slack, everywhere=["S0GONE", DBA])
    assert (await ops.check(user=CAROL, channel="C1")).allowed
