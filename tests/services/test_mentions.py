"""`--mention @handle` typed as text → a mention token, read from the fake Slack's directory over HTTP."""

from __future__ import annotations

from bot.services.mentions import MentionResolver, Resolved, Unresolved
from bot.slack import build_web_client
from bot.slack.directory import SlackDirectory
from slack_fake import FakeSlack


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_directory_is_read_again_only_once_the_cache_has_expired(fake_slack: FakeSlack) -> None:
    assert fake_slack.base_url is not None
    clock = ManualClock()
    resolver = MentionResolver(
        directory=SlackDirectory(build_web_client(token="xoxb-test-token", base_url=fake_slack.base_url)),
        ttl_s=60,
        clock=clock,
    )
    assert isinstance(await resolver.resolve("@oncall"), Unresolved)  # not created yet

    fake_slack.add_user_group("S0ONCALL", "OnCall")
    clock.now += 59
    assert isinstance(await resolver.resolve("@oncall"), Unresolved)  # still the cached read
    clock.now += 1
    assert await resolver.resolve("@oncall") == Resolved(token="<!subteam^S0ONCALL>")  # handles match any case
    assert len(fake_slack.calls_to("usergroups.list")) == 2
    assert len(fake_slack.calls_to("users.list")) == 1  # looked for a person only when no group had the handle


async def test_a_display_name_several_people_share_is_refused_as_ambiguous(fake_slack: FakeSlack) -> None:
    assert fake_slack.base_url is not None
    fake_slack.add_user("U0A", "alex.one", display_name="alex")
    fake_slack.add_user("U0B", "alex.two", display_name="alex")
    fake_slack.add_user("U0C", "alex", display_name="Alexandra")
    resolver = MentionResolver(
        directory=SlackDirectory(build_web_client(token="xoxb-test-token", base_url=fake_slack.base_url))
    )

    assert await resolver.resolve("@alex") == Resolved(token="<@U0C>")  # the username is unique: it wins
    assert await resolver.resolve("@alex.two") == Resolved(token="<@U0B>")
    fake_slack.add_user("U0D", "dee", display_name="Sam")
    fake_slack.add_user("U0E", "sam.e", display_name="sam")
    ambiguous = MentionResolver(
        directory=SlackDirectory(build_web_client(token="xoxb-test-token", base_url=fake_slack.base_url))
    )
    answer = await ambiguous.resolve("@sam")
    assert isinstance(answer, Unresolved) and "2 people" in answer.message
