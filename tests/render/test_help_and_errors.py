"""Help lists every subcommand; errors give one actionable line, never a secret; every message is valid."""

from __future__ import annotations

import pytest
from render_fixtures import check_golden

from bot.commands.parse import parse_command
from bot.commands.usage import HELP, SUBCOMMANDS
from bot.errors import (
    CommandError,
    DlfAuthError,
    DlfBadResponse,
    DlfError,
    DlfNotFound,
    DlfPermissionDenied,
    DlfRequestRejected,
    DlfThrottled,
    DlfUnavailable,
    UnknownSubcommand,
)
from bot.render.errors import render_command_error, render_crash, render_dlf_error
from bot.render.help import render_help
from bot.render.limits import problems
from bot.render.preview import to_text


def test_help_overview_names_every_subcommand_with_usage_and_example() -> None:
    message = render_help()
    assert problems(message) == []
    text = to_text(message)
    for name, entry in HELP.items():
        assert entry.usage in text, name
        assert entry.examples[0] in text, name
    assert set(SUBCOMMANDS) == {
        "instance",
        "instances",
        "watch",
        "unwatch",
        "watches",
        "mute",
        "unmute",
        "audit",
        "help",
    }
    assert message.text == (
        "/dlf subcommands: instance, instances, watch, unwatch, watches, mute, unmute, audit, help."
        " Try /dlf help watch. In an alert's thread, @dlf: ack, rerun, rerun from first, stop, resolve, refresh,"
        " nodes [page], logs, help."
    )
    for said in ("`@dlf ack`", "`@dlf rerun from first`", "`@dlf nodes [page]`", "`@dlf logs`", "`@dlf help`"):
        assert said in text, said
    assert "*The alert card's buttons*" in text and "*App Home*" in text
    check_golden("help_overview", message.to_dict())


def test_help_on_watch_documents_escalate_in_its_usage_options_and_examples() -> None:
    text = to_text(render_help("watch"))
    assert "[--escalate 30m|off]" in HELP["watch"].usage and HELP["watch"].usage in text
    assert "`--escalate DURATION|off`" in text and "from 1m to 7d, with a unit" in text
    assert "bare number such as `900` is seconds" in text
    assert "`/dlf watch job_batch --mention @data-oncall --escalate 30m`" in text


@pytest.mark.parametrize(("topic", "said"), [("ack", "@dlf ack"), ("rerun", "@dlf rerun"), ("log", "@dlf logs")])
def test_help_on_a_thread_verb_says_where_it_is_said(topic: str, said: str) -> None:
    message = render_help(parse_command(f"help {topic}").topic)  # type: ignore[union-attr]
    assert problems(message) == []
    text = to_text(message)
    assert "not a /dlf subcommand" not in text
    assert f"is said to the bot in an alert's thread (`{said}`)" in text
    assert "`@dlf rerun from first`" in text and "`@dlf stop`" in text


@pytest.mark.parametrize("topic", list(HELP))
def test_help_on_one_subcommand_shows_its_options_and_examples(topic: str) -> None:
    message = render_help(topic)
    assert problems(message) == []
    text = to_text(message)
    entry = HELP[topic]
    assert entry.usage in text
    for option, _ in entry.options:
        assert option in text
    for example in entry.examples:
        assert example in text
    check_golden(f"help_{topic}", message.to_dict())


def test_help_on_an_unknown_topic_says_so_and_lists_the_real_ones() -> None:
    message = render_help("<!channel>")
    assert problems(message) == []
    assert "There is no subcommand `&lt;!channel&gt;`" in message.blocks[1]["text"]["text"]


def test_every_usage_example_parses() -> None:
    """The examples help shows are commands the parser accepts (one source of truth, no drift)."""
    for entry in HELP.values():
        for example in entry.examples:
            # Slack turns a picked "@data-oncall" into a user-group token before the bot sees the text.
            as_sent = example.replace("@data-oncall", "<!subteam^S0DATAONC|@data-oncall>")
            parse_command(as_sent.removeprefix("/dlf").strip())


def test_unknown_subcommand_error_suggests_the_closest_and_shows_usage() -> None:
    with pytest.raises(UnknownSubcommand) as raised:
        parse_command("wacth job_batch")
    message = render_command_error(raised.value)
    assert problems(message) == []
    text = to_text(message)
    assert "Did you mean `watch`?" in text
    assert HELP["watch"].usage in text
    assert "Nothing was sent to DLF" in text


def test_suggestion_is_added_when_the_message_lacks_it_and_user_text_is_escaped() -> None:
    err = UnknownSubcommand(
        "`<!here>` is not a subcommand.", word="<!here>", suggestion="watch", usage="/dlf watch <job>"
    )
    message = render_command_error(err)
    assert problems(message) == []
    assert message.blocks[0]["text"]["text"] == ":warning: `&lt;!here&gt;` is not a subcommand.\nDid you mean `watch`?"
    assert message.blocks[1]["text"]["text"] == "*Usage*\n`/dlf watch &lt;job&gt;`"
    assert message.text == "`&lt;!here&gt;` is not a subcommand."


def test_command_error_without_usage() -> None:
    message = render_command_error(CommandError("Instance id `12x` is not a whole number."))
    assert problems(message) == []
    assert [block["type"] for block in message.blocks] == ["section", "context"]


SECRET = "SK-very-secret-value"
DLF_CASES = [
    (
        DlfNotFound(
            "Job instance does not exist.", kind="instance", code="DLF.0137", status_code=400, request_id="r-1"
        ),
        "DLF has no instance `34765` of job `job_batch`",
    ),
    (
        DlfNotFound("Job does not exist.", kind="job", code="DLF.0100", status_code=400),
        "DLF has no job named `job_batch`",
    ),
    (
        DlfAuthError("APIG.0301 signature mismatch", status_code=401, code="APIG.0301"),
        "Ask the bot's admin to check `HUAWEICLOUD_SDK_AK` / `HUAWEICLOUD_SDK_SK`",
    ),
    (DlfPermissionDenied("no permission", status_code=403, code="DLF.6888"), "may not do this"),
    (DlfThrottled("throttled", retry_after=2.2, status_code=429), "Try again in 3 s"),
    (DlfThrottled("throttled", retry_after=None, status_code=429), "Try again in a few seconds"),
    (DlfThrottled("throttled", retry_after=600, status_code=429), "Try again in 10 min"),
    (DlfUnavailable("timeout", operation="get_instance"), "DLF is not answering"),
    (DlfBadResponse("not JSON", status_code=200, request_id="r-2"), "could not read"),
    (
        DlfRequestRejected("Parameter <limit> & more is invalid", code="DLF.3051", status_code=400),
        (
            "DLF refused the request for instance `34765` of job `job_batch`: "
            "Parameter &lt;limit&gt; &amp; more is invalid"
        ),
    ),
    (DlfError("something odd"), "The call to DLF failed: something odd"),
]


@pytest.mark.parametrize(
    ("err", "expected"), DLF_CASES, ids=[type(err).__name__ + str(i) for i, (err, _) in enumerate(DLF_CASES)]
)
def test_each_dlf_error_kind_has_its_own_actionable_line(err: DlfError, expected: str) -> None:
    message = render_dlf_error(err, job="job_batch", instance_id=34765)
    assert problems(message) == []
    assert expected in message.blocks[0]["text"]["text"]
    assert len(message.blocks[0]["text"]["text"].splitlines()) == 1
    assert SECRET not in str(message.to_dict())


def test_request_id_and_code_go_in_a_context_line() -> None:
    err = DlfNotFound(
        "Job instance does not exist.", kind="instance", code="DLF.0137", status_code=400, request_id="5f1e-<x>"
    )
    message = render_dlf_error(err, job="job_batch", instance_id=34765)
    assert message.blocks[1] == {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "DLF code `DLF.0137` · HTTP 400 · request id `5f1e-&lt;x&gt;`", "verbatim": True}
        ],
    }
    assert message.text.startswith("DLF has no instance")


def test_not_found_without_a_job_still_reads() -> None:
    message = render_dlf_error(DlfNotFound("nope", kind="job"))
    assert problems(message) == []
    assert message.text == "DLF could not find the request."
    assert message.blocks[0]["text"]["text"] == ":mag: DLF could not find the request."


def test_crash_is_one_calm_line_with_the_reference() -> None:
    message = render_crash("a1b2c3")
    assert problems(message) == []
    assert message.blocks == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "verbatim": True,
                "text": ":confused: Something went wrong on the bot's side. It is logged with reference `a1b2c3`; "
                "quote it to the bot's admin.",
            },
        }
    ]
