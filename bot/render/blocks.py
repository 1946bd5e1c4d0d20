"""Block builders: thin wrappers over slack_sdk's block classes that return plain dicts.

slack_sdk validates several limits in `to_dict()` (header and button text, action ids, element counts); the project's
own validator (`bot.render.limits`) checks the rest. Every mrkdwn object is `verbatim` so Slack never auto-parses
plain words such as `@here` in untrusted text into mentions or links.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

Block = dict[str, Any]


def mrkdwn_text(text: str) -> MarkdownTextObject:
    """A verbatim mrkdwn text object (the caller has escaped every untrusted part)."""
    return MarkdownTextObject(text=text, verbatim=True)


def header(text: str) -> Block:
    """A header block: plain_text, emoji shortcodes shown as emoji."""
    return HeaderBlock(text=PlainTextObject(text=text, emoji=True)).to_dict()


def section(text: str) -> Block:
    """A section block with one mrkdwn text."""
    return SectionBlock(text=mrkdwn_text(text)).to_dict()


def fields(items: Sequence[str]) -> Block:
    """A section block of up to 10 mrkdwn fields shown in two columns."""
    return SectionBlock(fields=[mrkdwn_text(item) for item in items]).to_dict()


def context(*texts: str) -> Block:
    """A context block (small grey text) of up to 10 mrkdwn elements."""
    return ContextBlock(elements=[mrkdwn_text(text) for text in texts]).to_dict()


def button(text: str, *, action_id: str, value: str | None = None, style: str | None = None) -> ButtonElement:
    """A button element; `text` is plain_text and must be at most 75 characters."""
    return ButtonElement(text=PlainTextObject(text=text, emoji=True), action_id=action_id, value=value, style=style)


def actions(buttons: Sequence[ButtonElement]) -> Block:
    """An actions block of up to 25 elements."""
    return ActionsBlock(elements=list(buttons)).to_dict()
