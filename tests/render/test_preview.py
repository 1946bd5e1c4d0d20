"""The terminal rendering and the Block Kit Builder link."""

from __future__ import annotations

import json
from urllib.parse import unquote

from render_fixtures import NOW_MS, load_instance

from bot.render.instance_card import render_instance
from bot.render.message import Message
from bot.render.preview import BUILDER_URL, builder_url, mrkdwn_to_text, to_text


def test_card_reads_in_a_terminal() -> None:
    text = to_text(render_instance(load_instance("seed"), now_ms=NOW_MS, profile="prod"))
    lines = text.splitlines()
    assert lines[0] == ":x: job_batch · instance 34765 · failed"
    assert "Planned: 2019-03-01 07:28 UTC" in lines
    assert "Duration: 1m 0s · _DLF's executeTime says 1 ms_" in lines
    assert "[Refresh] [Share in channel]" in lines
    assert "<!date^" not in text


def test_tokens_show_as_labels_and_entities_decode() -> None:
    assert mrkdwn_to_text("cc <@U1AB> <!subteam^S1AB|@oncall> `a &amp; &lt;b&gt;` <https://x.example/p|docs>") == (
        "cc @U1AB @oncall `a & <b>` docs (https://x.example/p)"
    )


def test_a_message_without_blocks_shows_its_text() -> None:
    assert to_text(Message(text="only &lt;text&gt;")) == "only <text>"


def test_builder_url_carries_the_blocks() -> None:
    message = render_instance(load_instance("hostile_names"), now_ms=NOW_MS)
    url = builder_url(message)
    assert url.startswith(BUILDER_URL)
    fragment = url.removeprefix(BUILDER_URL)
    assert all(char not in fragment for char in ' #&<>"{}')
    assert json.loads(unquote(fragment)) == {"blocks": message.blocks}
