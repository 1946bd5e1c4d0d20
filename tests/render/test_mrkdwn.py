"""Text helpers: escaping, code spans, date tokens, durations, truncation that never cuts an entity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.limits import mrkdwn_problems
from bot.render.mrkdwn import (
    MIN_CODE_LIMIT,
    and_more,
    code,
    date_token,
    escape,
    escape_truncated,
    human_duration,
    mention,
    mention_or_text,
    one_line,
    plural,
    slack_len,
    truncate,
)

HOSTILE = st.text(alphabet=st.sampled_from(list("<>&*_~`!@#^|:;\n aé节😀")) | st.characters(), max_size=400)


def test_escape_exactly_three_characters_ampersand_first() -> None:
    assert escape("a & <b> \"c\" 'd'") == "a &amp; &lt;b&gt; \"c\" 'd'"
    assert escape("&lt;") == "&amp;lt;"  # already-escaped-looking text stays what it was


def test_code_span_cannot_be_broken_out_of() -> None:
    assert code("job_batch") == "`job_batch`"
    assert code("a`b*c_d") == "`aˋb*c_d`"
    assert code("line\nbreak") == "`line break`"
    assert code("<!channel>") == "`&lt;!channel&gt;`"
    assert code("") == "_(empty)_"


def test_date_token_uses_seconds_and_a_utc_fallback() -> None:
    assert date_token(1551425327000) == "<!date^1551425327^{date_short_pretty} {time}|2019-03-01 07:28 UTC>"
    assert date_token(-5) == "-5 ms since 1970"
    assert date_token(9223372036854775807) == "9223372036854775807 ms since 1970"


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0 ms"),
        (1, "1 ms"),
        (999, "999 ms"),
        (1000, "1s"),
        (59_999, "59s"),
        (60_000, "1m 0s"),
        (3_599_000, "59m 59s"),
        (7_380_000, "2h 3m"),
        (90_000_000, "1d 1h"),
        (10**12, "11,574d 1h"),
    ],
)
def test_human_duration(ms: int, text: str) -> None:
    assert human_duration(ms) == text


def test_truncate_counts_emoji_as_two_and_marks_the_cut() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("😀😀😀", 4) == "😀…"
    assert slack_len(truncate("😀" * 100, 150)) <= 150


def test_escape_truncated_never_cuts_an_entity() -> None:
    assert escape_truncated("a&b", 10) == "a&amp;b"
    assert escape_truncated("&&&&", 8) == "&amp;…"
    assert escape_truncated("<<<<", 9) == "&lt;&lt;…"


@settings(max_examples=200)
@given(text=HOSTILE, limit=st.integers(min_value=3, max_value=300))
def test_escaped_and_coded_text_is_always_safe_and_within_limit(text: str, limit: int) -> None:
    code_limit = max(limit, MIN_CODE_LIMIT)
    inner = code(text, code_limit)
    for rendered, allowed in (
        (escape_truncated(text, limit), limit),
        (one_line(text, limit), limit),
        (inner, code_limit),
    ):
        assert slack_len(rendered) <= allowed
        assert mrkdwn_problems(rendered, "t") == []
    if inner != code(""):  # a name with nothing visible is shown as empty, not as a code span
        assert inner.startswith("`") and inner.endswith("`") and "`" not in inner[1:-1]
        # Printable text keeps every character, so a long one must be cut (line breaks and invisible characters
        # are folded or dropped first, which may make it fit).
        if text.isprintable() and slack_len(escape(text)) + 2 > code_limit:
            assert inner.endswith("…`")


def test_mentions_pass_only_when_well_formed() -> None:
    assert mention("<@U024BE7LH>") == "<@U024BE7LH>"
    assert mention("<@U024BE7LH|alice>") == "<@U024BE7LH>"
    assert mention("<!subteam^S0123ABC|@oncall>") == "<!subteam^S0123ABC>"
    for bad in (
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "@alice",
        "<@U1>",
        "<@U024BE7LH> <!channel>",
        "<#C123ABC>",
        None,
    ):
        assert mention(bad) is None
    assert mention_or_text("<!channel>") == "`&lt;!channel&gt;`"


def test_counts_read_naturally() -> None:
    assert and_more(1204, "nodes") == "…and 1,204 more nodes"
    assert and_more(3) == "…and 3 more"
    assert plural(1, "node") == "1 node" and plural(12, "node") == "12 nodes"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("rtl\u202egnp.exe", "rtlgnp.exe"),  # a right-to-left override would show it as "rtlexe.png"
        ("pay\u200broll", "payroll"),  # a zero-width space hides inside a look-alike name
        ("bell\x07job", "belljob"),
        ("family \U0001f468\u200d\U0001f469", "family \U0001f468\u200d\U0001f469"),  # emoji joiners are kept
    ],
)
def test_disguising_characters_never_reach_names(name: str, shown: str) -> None:
    assert one_line(name, 100) == shown
    assert code(name) == f"`{shown}`"


def test_a_name_of_only_invisible_characters_is_shown_as_empty() -> None:
    assert code("\u202e\u200b") == code("")
