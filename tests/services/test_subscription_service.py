"""`/dlf watch`, `/dlf unwatch`, `/dlf watches` against the DLF sandbox (real HTTP, signed) and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.commands import parse_command
from bot.commands.model import UnwatchCommand, WatchCommand, WatchesCommand
from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.render.limits import problems
from bot.render.message import Message
from bot.services.subscriptions import Refused, SubscriptionOutcome, SubscriptionService, WatchResult
from bot.slack.answers import subscription_message
from bot.store import Store
from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox


@dataclass
class Setup:
    service: SubscriptionService
    store: Store
    sandbox: Sandbox
    client: DlfClient


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    sandbox = Sandbox(seed=True)
    async with sandbox.serve() as base_url:
        client = DlfClient(
            config=DlfConfig(
                endpoint=base_url, project_id=SANDBOX_CREDENTIALS.project_id, max_retries=0, backoff_base=0.01
            ),
            credentials=AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SANDBOX_CREDENTIALS.sk),
        )
        store = await Store.open(f"sqlite:///{tmp_path}/bot.db")
        try:
            yield Setup(
                service=SubscriptionService(store=store, clients={"default": client}),
                store=store,
                sandbox=sandbox,
                client=client,
            )
        finally:
            await store.aclose()
            await client.aclose()


def text_of(outcome: SubscriptionOutcome) -> str:
    message: Message = subscription_message(outcome)
    assert problems(message) == []  # every answer is a message Slack accepts
    return message.text + " " + str(message.blocks)


async def test_watching_a_job_dlf_knows_subscribes_and_audits(setup: Setup) -> None:
    answer = await setup.service.handle(
        WatchCommand(target="job_batch", mention="<!subteam^S123>"), channel_id="C1", user_id="U1", team_id="T1"
    )

    assert "job_batch" in text_of(answer)
    async with setup.store.transaction() as tx:
        (sub,) = await tx.subscriptions.list_for_channel("C1")
        (entry,) = await tx.audit.recent()
    assert (sub.target, sub.profile, sub.mention, sub.created_by, sub.team) == (
        "job_batch",
        "default",
        "<!subteam^S123>",
        "U1",
        "T1",
    )
    assert (entry.actor, entry.action, entry.channel, entry.target) == ("U1", "watch", "C1", "job_batch")
    assert entry.outcome == "ok"


async def test_watching_a_job_dlf_does_not_know_is_refused_with_the_reason_and_saves_nothing(setup: Setup) -> None:
    result = await setup.service.watch(WatchCommand(target="no_such_job"), channel_id="C1", user_id="U1")
    answer = await setup.service.handle(WatchCommand(target="no_such_job"), channel_id="C1", user_id="U1", team_id=None)

    assert isinstance(result, Refused) and result.dlf_error is not None
    assert "no job named" in text_of(answer)
    assert await setup.service.watches("C1") == []


async def test_subscribing_twice_is_harmless_and_says_nothing_changed(setup: Setup) -> None:
    first = await setup.service.watch(WatchCommand(target="job_batch"), channel_id="C1", user_id="U1")
    again = await setup.service.watch(WatchCommand(target="job_batch"), channel_id="C1", user_id="U2")
    changed = await setup.service.watch(
        WatchCommand(target="job_batch", events=("failure", "running-exception")), channel_id="C1", user_id="U2"
    )

    assert isinstance(first, WatchResult) and isinstance(again, WatchResult) and isinstance(changed, WatchResult)
    assert (first.already, again.already, changed.already) == (False, True, False)
    assert len(await setup.service.watches("C1")) == 1
    async with setup.store.transaction() as tx:
        assert [e.action for e in await tx.audit.recent()] == ["watch", "watch"]  # the no-op is not a change


async def test_a_pattern_is_not_checked_against_dlf(setup: Setup) -> None:
    setup.sandbox.calls.reset()
    result = await setup.service.watch(WatchCommand(target="etl_*", is_pattern=True), channel_id="C1", user_id="U1")

    assert isinstance(result, WatchResult) and result.subscription.is_pattern
    assert setup.sandbox.calls.count("get_job") == 0


async def test_following_one_instance_checks_that_it_exists(setup: Setup) -> None:
    ok = await setup.service.watch(
        WatchCommand(target="etl_orders_daily", instance_id=40001, events=("failure", "success")),
        channel_id="C1",
        user_id="U1",
    )
    missing = await setup.service.handle(
        WatchCommand(target="job_batch", instance_id=99999999), channel_id="C1", user_id="U1", team_id=None
    )

    assert isinstance(ok, WatchResult) and ok.subscription.instance_id == 40001
    assert "no instance" in text_of(missing)
    assert [s.instance_id for s in await setup.service.watches("C1")] == [40001]


async def test_dlf_being_down_refuses_the_watch_instead_of_guessing(setup: Setup) -> None:
    setup.sandbox.faults.server_error(n=5, status=503)
    answer = await setup.service.handle(WatchCommand(target="job_batch"), channel_id="C1", user_id="U1", team_id=None)

    assert "not answering" in text_of(answer)
    assert await setup.service.watches("C1") == []


async def test_unwatch_removes_and_audits_and_unwatching_again_changes_nothing(setup: Setup) -> None:
    await setup.service.watch(WatchCommand(target="job_batch"), channel_id="C1", user_id="U1")
    await setup.service.watch(WatchCommand(target="etl_*", is_pattern=True), channel_id="C1", user_id="U1")

    removed = await setup.service.handle(
        UnwatchCommand(target="job_batch"), channel_id="C1", user_id="U2", team_id=None
    )
    again = await setup.service.handle(UnwatchCommand(target="job_batch"), channel_id="C1", user_id="U2", team_id=None)

    assert "no longer watches" in text_of(removed)
    assert "was not watching" in text_of(again)
    assert [s.target for s in await setup.service.watches("C1")] == ["etl_*"]
    async with setup.store.transaction() as tx:
        assert [(e.actor, e.action, e.outcome) for e in await tx.audit.recent()][0] == ("U2", "unwatch", "ok")


async def test_watches_lists_the_channels_subscriptions_with_broken_ones_explained(setup: Setup) -> None:
    await setup.service.watch(WatchCommand(target="job_batch"), channel_id="C1", user_id="U1")
    await setup.service.watch(WatchCommand(target="job_batch"), channel_id="C2", user_id="U1")
    async with setup.store.transaction() as tx:
        await tx.subscriptions.mark_broken("C1", "not_in_channel")

    listing = text_of(await setup.service.handle(WatchesCommand(), channel_id="C1", user_id="U1", team_id=None))
    empty = text_of(await setup.service.handle(WatchesCommand(), channel_id="C3", user_id="U1", team_id=None))

    assert "job_batch" in listing and "broken" in listing and "invite" in listing
    assert "watches no DLF job" in empty


async def test_an_unknown_profile_is_refused(setup: Setup) -> None:
    answer = await setup.service.handle(
        WatchCommand(target="job_batch", profile="nope"), channel_id="C1", user_id="U1", team_id=None
    )
    assert "nope" in text_of(answer)
    assert await setup.service.watches("C1") == []


async def test_watching_again_without_options_keeps_the_mention_and_events_and_says_so(setup: Setup) -> None:
    await setup.service.watch(
        parse_watch("watch job_batch --on failure,running-exception --mention <!subteam^S123|@oncall>"),
        channel_id="C1",
        user_id="U1",
    )

    again = await setup.service.watch(parse_watch("watch job_batch"), channel_id="C1", user_id="U2")
    answer = await setup.service.handle(parse_watch("watch job_batch"), channel_id="C1", user_id="U2", team_id=None)

    assert isinstance(again, WatchResult) and again.already
    assert (again.subscription.events, again.subscription.mention) == (
        ("failure", "running-exception"),
        "<!subteam^S123>",
    )
    assert "fails or runs into an exception, mentioning <!subteam^S123>" in text_of(answer)


async def test_watching_again_changes_only_the_options_given(setup: Setup) -> None:
    await setup.service.watch(parse_watch("watch job_batch --mention <@U999|bob>"), channel_id="C1", user_id="U1")

    events_only = await setup.service.handle(
        parse_watch("watch job_batch --on running-exception"), channel_id="C1", user_id="U1", team_id=None
    )
    (sub,) = await setup.service.watches("C1")
    assert (sub.events, sub.mention) == (("running-exception",), "<@U999>")
    assert "Updated" in text_of(events_only) and "mentioning <@U999>" in text_of(events_only)

    cleared = await setup.service.handle(
        parse_watch("watch job_batch --mention none"), channel_id="C1", user_id="U1", team_id=None
    )
    (sub,) = await setup.service.watches("C1")
    assert (sub.events, sub.mention) == (("running-exception",), None)
    assert "It no longer mentions <@U999>" in text_of(cleared)
    async with setup.store.transaction() as tx:
        details = [e.details for e in await tx.audit.recent()]
    assert {"events": ["running-exception"], "mention": None}.items() <= details[0].items()  # newest first


async def test_a_new_subscription_without_options_takes_the_defaults(setup: Setup) -> None:
    result = await setup.service.watch(parse_watch("watch job_batch --mention none"), channel_id="C1", user_id="U1")

    assert isinstance(result, WatchResult) and not result.already and result.previous is None
    assert (result.subscription.events, result.subscription.mention) == (("failure",), None)


def parse_watch(text: str) -> WatchCommand:
    command = parse_command(text)
    assert isinstance(command, WatchCommand)
    return command


async def test_watches_with_a_profile_lists_only_that_profiles_subscriptions(setup: Setup) -> None:
    # Two profiles on the same sandbox: what matters is which profile a subscription was made for.
    service = SubscriptionService(
        store=setup.store,
        clients={"default": setup.client, "prod": setup.client},
    )
    for line in ("watch job_batch", "watch 'etl_*' --profile prod"):
        assert isinstance(
            await service.handle(parse_command(line), channel_id="C1", user_id="U1", team_id="T1"), WatchResult
        )

    prod = text_of(
        await service.handle(parse_command("watches --profile prod"), channel_id="C1", user_id="U1", team_id="T1")
    )
    assert "etl_*" in prod and "job_batch" not in prod and "of profile prod" in prod
    default = text_of(
        await service.handle(parse_command("watches --profile default"), channel_id="C1", user_id="U1", team_id="T1")
    )
    assert "job_batch" in default and "etl_*" not in default
    every = text_of(await service.handle(parse_command("watches"), channel_id="C1", user_id="U1", team_id="T1"))
    assert "job_batch" in every and "etl_*" in every
    none_here = text_of(
        await service.handle(parse_command("watches --profile prod"), channel_id="C2", user_id="U1", team_id="T1")
    )
    assert "watches no DLF job of profile" in none_here and "prod" in none_here


async def test_watches_with_an_unknown_profile_names_the_known_ones(setup: Setup) -> None:
    await setup.service.handle(parse_command("watch job_batch"), channel_id="C1", user_id="U1", team_id="T1")
    answer = await setup.service.handle(
        parse_command("watches --profile nope"), channel_id="C1", user_id="U1", team_id="T1"
    )
    assert isinstance(answer, Refused)
    shown = text_of(answer)
    assert "nope" in shown and "is not configured" in shown and "`default`" in shown
    assert "job_batch" not in shown


@pytest.mark.parametrize(
    ("job", "instance_id", "how"),
    [("job_batch", 34765, "failed"), ("etl_orders_daily", 40000, "succeeded"), ("etl_orders_daily", 40002, "stopped")],
)
async def test_following_an_instance_that_has_ended_says_how_it_ended_and_follows_nothing(
    setup: Setup, job: str, instance_id: int, how: str
) -> None:
    answer = await setup.service.handle(
        parse_command(f"watch {job} {instance_id}"), channel_id="C1", user_id="U1", team_id="T1"
    )

    shown = text_of(answer)
    assert "has already ended" in shown and how in shown and "<!date^" in shown  # the end time, in each reader's zone
    assert "will hear" not in shown
    assert await setup.service.watches("C1") == []
    async with setup.store.transaction(read_only=True) as tx:
        assert await tx.audit.recent() == []  # nothing was changed
