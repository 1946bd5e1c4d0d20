"""Messages outside Slack: a readable terminal rendering (`dlf-bot preview`, the demo) and a Block Kit Builder link."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from bot.render.message import Message

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"
RULE = "─" * 60

_TOKEN = re.compile(r"<([^<>]*)>")


def _token_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("!date^"):
        return label or target
    if target.startswith("@"):
        return "@" + target[1:]
    if target.startswith("!subteam^"):
        return "@" + (label.lstrip("@") or target.removeprefix("!subteam^"))
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + target[1:]
    return f"{label} ({target})" if label else target


def mrkdwn_to_text(text: str) -> str:
    """mrkdwn as a terminal shows it: tokens as their labels (date tokens as their UTC fallback), entities decoded."""
    text = _TOKEN.sub(_token_text, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    return mrkdwn_to_text(text) if obj.get("type") == "mrkdwn" else text


def _element(element: Mapping[str, Any]) -> str:
    if element.get("type") == "button":
        return f"[{_text(element.get('text'))}]"
    if element.get("type") in ("static_select", "overflow"):
        return f"[{_text(element.get('placeholder')) or 'More'} ▾]"
    if element.get("type") == "image":
        return f"(image: {element.get('alt_text', '')})"
    return _text(element)


def _block_lines(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title, "═" * min(len(title), 60)]
    if kind == "section":
        lines = _text(block.get("text")).splitlines() if block.get("text") else []
        for field in block.get("fields", []):
            label, _, value = _text(field).partition("\n")
            lines.append(f"{label.strip('*')}: {value.replace(chr(10), ' · ')}" if value else label)
        if isinstance(block.get("accessory"), Mapping):
            lines.append(_element(block["accessory"]))
        return lines
    if kind == "context":
        return ["  › " + "  ".join(_element(element) for element in block.get("elements", []))]
    if kind == "actions":
        return [" ".join(_element(element) for element in block.get("elements", []))]
    if kind == "divider":
        return [RULE]
    return [f"({kind} block)"]


def to_text(message: Message | Mapping[str, Any]) -> str:
    """A readable rendering of the message's blocks (or of its text when it has none), one block after another."""
    data = message.to_dict() if isinstance(message, Message) else message
    blocks = data.get("blocks") or []
    if not blocks:
        return mrkdwn_to_text(str(data.get("text", "")))
    chunks = ["\n".join(_block_lines(block)) for block in blocks if isinstance(block, Mapping)]
    return "\n\n".join(chunk for chunk in chunks if chunk)


def builder_url(message: Message | Mapping[str, Any]) -> str:
    """A Block Kit Builder link that opens the message's blocks."""
    data = message.to_dict() if isinstance(message, Message) else message
    payload = json.dumps({"blocks": data.get("blocks") or []}, ensure_ascii=False, separators=(",", ":"))
    return BUILDER_URL + quote(payload, safe="")


__all__ = ["builder_url", "mrkdwn_to_text", "to_text"]
