"""The validator every message passes: Slack's Block Kit limits and the bot's escaping rules.

Nothing offline can call Slack's own block validation, and a message Slack refuses is an alert lost, so this checks
what Slack documents (../shared/facts/slack.md) and what the bot promises about untrusted text:

- at most 50 blocks; block ids ≤ 255 characters and unique; only block and element types the bot uses;
- header plain_text ≤ 150; section text 1–3000, ≤ 10 fields of ≤ 2000; context ≤ 10 elements; actions ≤ 25 elements;
  buttons: text ≤ 75, action_id ≤ 255 and unique within the block, value ≤ 2000, url ≤ 3000, style primary/danger;
  confirm dialogs: title ≤ 100, text ≤ 300, confirm/deny ≤ 30; static_select menus: placeholder ≤ 150, 1–100
  options of text ≤ 75 and value ≤ 150, action_id as for buttons;
- every text object non-empty; a total text budget across blocks well under the ~12k where Slack answers
  `msg_blocks_too_long`; the fallback `text` present, non-empty, and short;
- in mrkdwn (and the fallback text): no `<`, `>` or bare `&` except the tokens the bot itself emits — date tokens,
  user and user-group mentions, channel links and https links — and never `<!channel>`, `<!here>`, `<!everyone>`;
  mrkdwn objects are `verbatim` so Slack auto-parses nothing; no `link_names` / `parse=full` on the message.

Lengths are UTF-16 code units (`slack_len`): never less than what Slack counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.render.message import Message
from bot.render.mrkdwn import slack_len

MAX_BLOCKS = 50
MAX_BLOCK_ID = 255
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_SELECT_PLACEHOLDER = 150
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_IMAGE_ALT_TEXT = 2000
# Slack reportedly refuses messages around 12–13k characters of block text even when each block is valid.
TOTAL_TEXT_BUDGET = 10_000
# Slack truncates the fallback at 40,000; the bot keeps its notification text far shorter.
MAX_FALLBACK_TEXT = 3000

_ALLOWED_TOKEN = re.compile(
    r"<!date\^\d{1,12}\^[^|<>&]+(?:\^https://[^|<>\s]+)?\|(?P<date_label>[^<>]*)>"
    r"|<@[UW][A-Z0-9]{2,40}>"
    r"|<!subteam\^S[A-Z0-9]{2,40}>"
    r"|<#C[A-Z0-9]{2,40}>"
    r"|<https://[^|<>\s]+(?:\|(?P<link_label>[^<>]*))?>"
)
_BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^<>]*)?>")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")


def mrkdwn_problems(text: str, where: str) -> list[str]:
    """Escaping problems of one mrkdwn string: raw `<`/`>`, bare `&`, broadcast mentions, unknown tokens."""
    problems = [f"{where}: broadcast mention {match.group(0)!r}" for match in _BROADCAST.finditer(text)]
    labels: list[str] = []

    def keep_label(match: re.Match[str]) -> str:
        labels.append(match.group("date_label") or match.group("link_label") or "")
        return "\0"

    rest = _ALLOWED_TOKEN.sub(keep_label, text)
    for fragment in (rest, *labels):
        for char in "<>":
            position = fragment.find(char)
            if position >= 0:
                problems.append(f"{where}: unescaped {char!r} near {fragment[max(0, position - 20) : position + 20]!r}")
        bare = _BARE_AMPERSAND.search(fragment)
        if bare:
            problems.append(f"{where}: bare '&' near {fragment[max(0, bare.start() - 20) : bare.start() + 20]!r}")
    return problems


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.total_text = 0

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def length(self, value: Any, limit: int, where: str, *, minimum: int = 0) -> None:
        if not isinstance(value, str):
            self.add(f"{where}: expected a string, got {type(value).__name__}")
            return
        size = slack_len(value)
        if size > limit:
            self.add(f"{where}: {size} characters, limit {limit}")
        if size < minimum:
            self.add(f"{where}: must not be empty")

    def text_object(self, obj: Any, where: str, *, limit: int, plain_only: bool = False) -> None:
        if not isinstance(obj, Mapping):
            self.add(f"{where}: expected a text object, got {type(obj).__name__}")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.add(f"{where}: text type {kind!r} is not plain_text or mrkdwn")
            return
        if plain_only and kind != "plain_text":
            self.add(f"{where}: must be plain_text, not {kind}")
        text = obj.get("text")
        self.length(text, limit, f"{where}.text", minimum=1)
        if not isinstance(text, str):
            return
        if not text.strip():
            self.add(f"{where}.text: only whitespace")
        if _LONE_SURROGATE.search(text):
            self.add(f"{where}.text: contains a lone surrogate (not encodable)")
        self.total_text += slack_len(text)
        if kind == "mrkdwn":
            if "emoji" in obj:
                self.add(f"{where}: `emoji` is only allowed on plain_text")
            if obj.get("verbatim") is not True:
                self.add(f"{where}: mrkdwn must be verbatim (no auto-parsing of untrusted text)")
            self.problems.extend(mrkdwn_problems(text, where))
        elif "verbatim" in obj:
            self.add(f"{where}: `verbatim` is only allowed on mrkdwn")

    def confirm(self, obj: Any, where: str) -> None:
        if not isinstance(obj, Mapping):
            self.add(f"{where}: expected a confirm object")
            return
        self.text_object(obj.get("title"), f"{where}.title", limit=MAX_CONFIRM_TITLE, plain_only=True)
        self.text_object(obj.get("text"), f"{where}.text", limit=MAX_CONFIRM_TEXT)
        self.text_object(obj.get("confirm"), f"{where}.confirm", limit=MAX_CONFIRM_BUTTON, plain_only=True)
        self.text_object(obj.get("deny"), f"{where}.deny", limit=MAX_CONFIRM_BUTTON, plain_only=True)

    def button(self, element: Mapping[str, Any], where: str, action_ids: set[str]) -> None:
        self.text_object(element.get("text"), f"{where}.text", limit=MAX_BUTTON_TEXT, plain_only=True)
        action_id = element.get("action_id")
        if action_id is not None:
            self.length(action_id, MAX_ACTION_ID, f"{where}.action_id", minimum=1)
            if action_id in action_ids:
                self.add(f"{where}.action_id: {action_id!r} repeated within the block")
            action_ids.add(action_id)
        if "value" in element:
            self.length(element["value"], MAX_BUTTON_VALUE, f"{where}.value", minimum=1)
        if "url" in element:
            self.length(element["url"], MAX_URL, f"{where}.url", minimum=1)
        if element.get("style") not in (None, "primary", "danger"):
            self.add(f"{where}.style: {element.get('style')!r} is not primary or danger")
        if "confirm" in element:
            self.confirm(element["confirm"], f"{where}.confirm")

    def static_select(self, element: Mapping[str, Any], where: str, action_ids: set[str]) -> None:
        self.text_object(
            element.get("placeholder"), f"{where}.placeholder", limit=MAX_SELECT_PLACEHOLDER, plain_only=True
        )
        action_id = element.get("action_id")
        self.length(action_id, MAX_ACTION_ID, f"{where}.action_id", minimum=1)
        if action_id in action_ids:
            self.add(f"{where}.action_id: {action_id!r} repeated within the block")
        if isinstance(action_id, str):
            action_ids.add(action_id)
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= MAX_SELECT_OPTIONS:
            self.add(f"{where}.options: a menu needs 1–{MAX_SELECT_OPTIONS} options")
            return
        for i, option in enumerate(options):
            if not isinstance(option, Mapping):
                self.add(f"{where}.options[{i}]: expected an option object")
                continue
            self.text_object(option.get("text"), f"{where}.options[{i}].text", limit=MAX_OPTION_TEXT, plain_only=True)
            self.length(option.get("value"), MAX_OPTION_VALUE, f"{where}.options[{i}].value", minimum=1)
        if "confirm" in element:
            self.confirm(element["confirm"], f"{where}.confirm")

    def image(self, element: Mapping[str, Any], where: str) -> None:
        self.length(element.get("image_url"), MAX_URL, f"{where}.image_url", minimum=1)
        self.length(element.get("alt_text"), MAX_IMAGE_ALT_TEXT, f"{where}.alt_text", minimum=1)

    def element(self, element: Any, where: str, action_ids: set[str]) -> None:
        if not isinstance(element, Mapping):
            self.add(f"{where}: expected an element object")
            return
        kind = element.get("type")
        if kind == "button":
            self.button(element, where, action_ids)
        elif kind == "image":
            self.image(element, where)
        elif kind == "static_select":
            self.static_select(element, where, action_ids)
        else:
            self.add(f"{where}: element type {kind!r} is not one the bot uses")

    def block(self, block: Any, where: str) -> None:
        if not isinstance(block, Mapping):
            self.add(f"{where}: expected a block object")
            return
        if "block_id" in block:
            self.length(block["block_id"], MAX_BLOCK_ID, f"{where}.block_id", minimum=1)
        kind = block.get("type")
        if kind == "header":
            self.text_object(block.get("text"), f"{where}.text", limit=MAX_HEADER_TEXT, plain_only=True)
        elif kind == "section":
            self.section(block, where)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.add(f"{where}.elements: a context needs 1–{MAX_CONTEXT_ELEMENTS} elements")
                return
            if len(elements) > MAX_CONTEXT_ELEMENTS:
                self.add(f"{where}.elements: {len(elements)} elements, limit {MAX_CONTEXT_ELEMENTS}")
            for index, element in enumerate(elements):
                if isinstance(element, Mapping) and element.get("type") == "image":
                    self.image(element, f"{where}.elements[{index}]")
                else:
                    self.text_object(element, f"{where}.elements[{index}]", limit=MAX_SECTION_TEXT)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.add(f"{where}.elements: an actions block needs 1–{MAX_ACTIONS_ELEMENTS} elements")
                return
            if len(elements) > MAX_ACTIONS_ELEMENTS:
                self.add(f"{where}.elements: {len(elements)} elements, limit {MAX_ACTIONS_ELEMENTS}")
            action_ids: set[str] = set()
            for index, element in enumerate(elements):
                self.element(element, f"{where}.elements[{index}]", action_ids)
        elif kind == "divider":
            pass
        else:
            self.add(f"{where}: block type {kind!r} is not one the bot uses")

    def section(self, block: Mapping[str, Any], where: str) -> None:
        text, section_fields = block.get("text"), block.get("fields")
        if text is None and not section_fields:
            self.add(f"{where}: a section needs text or fields")
        if text is not None:
            self.text_object(text, f"{where}.text", limit=MAX_SECTION_TEXT)
        if section_fields is not None:
            if not isinstance(section_fields, list):
                self.add(f"{where}.fields: expected a list")
                return
            if len(section_fields) > MAX_FIELDS:
                self.add(f"{where}.fields: {len(section_fields)} fields, limit {MAX_FIELDS}")
            for index, field in enumerate(section_fields):
                self.text_object(field, f"{where}.fields[{index}]", limit=MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], f"{where}.accessory", set())


def problems(message: Mapping[str, Any] | Message) -> list[str]:
    """Everything Slack would refuse in `message`, or that breaks the bot's escaping rules; empty when it is fine."""
    if isinstance(message, Message):
        message = message.to_dict()
    checker = _Checker()
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        checker.add("text: the fallback text must be present and not empty")
    else:
        checker.length(text, MAX_FALLBACK_TEXT, "text")
        checker.problems.extend(mrkdwn_problems(text, "text"))
    if message.get("link_names") not in (None, False, 0):
        checker.add("link_names: must not be set (untrusted names would become mentions)")
    if message.get("parse") == "full":
        checker.add("parse: must not be 'full' (untrusted text would be parsed for mentions and links)")
    blocks = message.get("blocks", [])
    if not isinstance(blocks, list):
        checker.add("blocks: expected a list")
        return checker.problems
    if len(blocks) > MAX_BLOCKS:
        checker.add(f"blocks: {len(blocks)} blocks, limit {MAX_BLOCKS}")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        checker.block(block, f"blocks[{index}]")
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if block_id is not None:
            if block_id in block_ids:
                checker.add(f"blocks[{index}].block_id: {block_id!r} repeated in the message")
            block_ids.add(block_id)
    if checker.total_text > TOTAL_TEXT_BUDGET:
        checker.add(f"blocks: {checker.total_text} characters of text in all, budget {TOTAL_TEXT_BUDGET}")
    return checker.problems


def total_text(message: Mapping[str, Any] | Message) -> int:
    """Characters of text across all blocks' text objects (what the budget counts)."""
    if isinstance(message, Message):
        message = message.to_dict()
    checker = _Checker()
    for index, block in enumerate(message.get("blocks", [])):
        checker.block(block, f"blocks[{index}]")
    return checker.total_text


class InvalidMessage(AssertionError):
    """A message that breaks Slack's limits or the escaping rules; `problems` lists every reason."""

    def __init__(self, found: list[str]) -> None:
        super().__init__("message would be refused or is unsafe:\n- " + "\n- ".join(found))
        self.problems = found


def assert_valid(message: Mapping[str, Any] | Message) -> None:
    """Raise `InvalidMessage` listing all problems, if there are any."""
    found = problems(message)
    if found:
        raise InvalidMessage(found)


__all__ = [
    "MAX_BLOCKS",
    "TOTAL_TEXT_BUDGET",
    "InvalidMessage",
    "assert_valid",
    "mrkdwn_problems",
    "problems",
    "total_text",
]
