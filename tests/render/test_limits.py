"""The validator must catch every violation it claims to: one broken message per rule, and a good one passes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from bot.render.limits import InvalidMessage, assert_valid, mrkdwn_problems, problems
from bot.render.message import Message


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def pt(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def btn(action_id: str = "dlf.instance.refresh", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": pt("Refresh"), "action_id": action_id, "value": "{}", **extra}


GOOD: dict[str, Any] = {
    "text": "job_batch instance 34765 failed",
    "blocks": [
        {"type": "header", "text": pt(":x: job_batch · instance 34765 · failed")},
        {
            "type": "section",
            "fields": [md("*Planned*\n<!date^1551425326^{date_short_pretty} {time}|2019-03-01 07:28 UTC>")],
        },
        {
            "type": "section",
            "text": md("<@U024BE7LH> <!subteam^S0123ABC> `a &amp; b &lt;c&gt;` <https://example.com/x|docs>"),
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [md("as of now"), {"type": "image", "image_url": "https://x/y.png", "alt_text": "y"}],
        },
        {
            "type": "actions",
            "block_id": "instance-actions",
            "elements": [
                btn(),
                btn(
                    "dlf.instance.rerun",
                    style="danger",
                    confirm={"title": pt("Rerun?"), "text": md("Really?"), "confirm": pt("Yes"), "deny": pt("No")},
                ),
            ],
        },
    ],
}


def test_a_good_message_has_no_problems() -> None:
    assert problems(GOOD) == []
    assert_valid(Message(text=GOOD["text"], blocks=GOOD["blocks"]))


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(message: dict[str, Any]) -> None:
        target = message
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _append_blocks(count: int) -> Callable[[dict[str, Any]], None]:
    return lambda message: message["blocks"].extend({"type": "divider"} for _ in range(count))


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("51 blocks", _append_blocks(45), "51 blocks, limit 50"),
    ("no fallback text", lambda m: m.pop("text"), "fallback text must be present"),
    ("blank fallback text", _set(["text"], "   "), "fallback text must be present"),
    ("long fallback text", _set(["text"], "x" * 3001), "text: 3001 characters"),
    ("raw < in fallback", _set(["text"], "a <b"), "text: unescaped '<'"),
    ("header too long", _set(["blocks", 0, "text", "text"], "h" * 151), "151 characters, limit 150"),
    ("header as mrkdwn", _set(["blocks", 0, "text"], md("x")), "must be plain_text"),
    ("empty header", _set(["blocks", 0, "text", "text"], ""), "must not be empty"),
    ("section text too long", _set(["blocks", 2, "text"], md("s" * 3001)), "3001 characters, limit 3000"),
    ("whitespace section", _set(["blocks", 2, "text"], md(" \n ")), "only whitespace"),
    ("section without text", _set(["blocks", 2], {"type": "section"}), "needs text or fields"),
    ("11 fields", _set(["blocks", 1, "fields"], [md("f")] * 11), "11 fields, limit 10"),
    ("field too long", _set(["blocks", 1, "fields"], [md("f" * 2001)]), "2001 characters, limit 2000"),
    ("11 context elements", _set(["blocks", 4, "elements"], [md("c")] * 11), "11 elements, limit 10"),
    ("empty context", _set(["blocks", 4, "elements"], []), "context needs"),
    ("26 buttons", _set(["blocks", 5, "elements"], [btn(f"a{i}") for i in range(26)]), "26 elements, limit 25"),
    ("button text too long", _set(["blocks", 5, "elements", 0, "text", "text"], "b" * 76), "76 characters, limit 75"),
    ("button text mrkdwn", _set(["blocks", 5, "elements", 0, "text"], md("b")), "must be plain_text"),
    ("action_id too long", _set(["blocks", 5, "elements", 0, "action_id"], "a" * 256), "256 characters, limit 255"),
    ("duplicate action_id", _set(["blocks", 5, "elements", 1, "action_id"], "dlf.instance.refresh"), "repeated within"),
    ("value too long", _set(["blocks", 5, "elements", 0, "value"], "v" * 2001), "2001 characters, limit 2000"),
    ("url too long", _set(["blocks", 5, "elements", 0, "url"], "https://" + "u" * 2993), "3001 characters, limit 3000"),
    ("bad style", _set(["blocks", 5, "elements", 0, "style"], "green"), "not primary or danger"),
    ("confirm title", _set(["blocks", 5, "elements", 1, "confirm", "title", "text"], "t" * 101), "limit 100"),
    ("confirm text", _set(["blocks", 5, "elements", 1, "confirm", "text", "text"], "t" * 301), "limit 300"),
    ("confirm button", _set(["blocks", 5, "elements", 1, "confirm", "confirm", "text"], "t" * 31), "limit 30"),
    ("confirm deny", _set(["blocks", 5, "elements", 1, "confirm", "deny", "text"], "t" * 31), "limit 30"),
    ("block_id too long", _set(["blocks", 5, "block_id"], "b" * 256), "256 characters, limit 255"),
    ("duplicate block_id", _set(["blocks", 3, "block_id"], "instance-actions"), "repeated in the message"),
    ("unknown block type", _set(["blocks", 3, "type"], "video"), "block type 'video'"),
    ("unknown element type", _set(["blocks", 5, "elements", 0, "type"], "datepicker"), "element type 'datepicker'"),
    ("unknown text type", _set(["blocks", 2, "text", "type"], "markdown"), "not plain_text or mrkdwn"),
    ("mrkdwn not verbatim", _set(["blocks", 2, "text", "verbatim"], False), "must be verbatim"),
    ("emoji on mrkdwn", _set(["blocks", 2, "text", "emoji"], True), "only allowed on plain_text"),
    ("raw <!channel>", _set(["blocks", 2, "text", "text"], "hi <!channel>"), "broadcast mention '<!channel>'"),
    ("raw <!here|here>", _set(["blocks", 2, "text", "text"], "<!here|here>"), "broadcast mention"),
    ("raw <!everyone>", _set(["blocks", 1, "fields", 0, "text"], "<!everyone>"), "broadcast mention"),
    ("raw <", _set(["blocks", 2, "text", "text"], "a < b"), "unescaped '<'"),
    ("raw >", _set(["blocks", 2, "text", "text"], "a > b"), "unescaped '>'"),
    ("bare &", _set(["blocks", 2, "text", "text"], "a & b"), "bare '&'"),
    ("entity-looking &", _set(["blocks", 2, "text", "text"], "&amp &quot;"), "bare '&'"),
    ("http link", _set(["blocks", 2, "text", "text"], "<http://plain.example|x>"), "unescaped '<'"),
    ("javascript link", _set(["blocks", 2, "text", "text"], "<javascript:alert(1)|x>"), "unescaped '<'"),
    ("lowercase user id", _set(["blocks", 2, "text", "text"], "<@u123>"), "unescaped '<'"),
    ("bare & in date label", _set(["blocks", 2, "text", "text"], "<!date^1^{date}|a & b>"), "bare '&'"),
    ("raw < in context", _set(["blocks", 4, "elements", 0, "text"], "<x>"), "unescaped '<'"),
    ("raw < in confirm text", _set(["blocks", 5, "elements", 1, "confirm", "text", "text"], "<x>"), "unescaped"),
    ("link_names", _set(["link_names"], True), "link_names"),
    ("parse full", _set(["parse"], "full"), "parse"),
    ("budget", _set(["blocks"], [{"type": "section", "text": md("w" * 2900)} for _ in range(4)]), "budget 10000"),
    ("lone surrogate", _set(["blocks", 2, "text", "text"], "a \ud800 b"), "lone surrogate"),
    ("emoji counted as two", _set(["blocks", 0, "text", "text"], "😀" * 76), "152 characters, limit 150"),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[case for case, _, _ in CASES])
def test_each_violation_is_caught(case: str, mutate: Callable[[dict[str, Any]], None], expected: str) -> None:
    message = copy.deepcopy(GOOD)
    mutate(message)
    found = problems(message)
    assert any(expected in problem for problem in found), f"{case}: {found}"
    with pytest.raises(InvalidMessage) as raised:
        assert_valid(message)
    assert raised.value.problems == found


def test_allowed_tokens_are_not_flagged_and_their_neighbours_are() -> None:
    assert mrkdwn_problems("<@U1AB> and <!subteam^SABC|@oncall> no: <!subteam^SABC|@on<call>", "x") != []
    assert mrkdwn_problems("<!date^1551425326^{date_short_pretty} {time}|2019-03-01 07:28 UTC>", "x") == []
    assert mrkdwn_problems("&lt;!channel&gt; &amp;amp;", "x") == []
