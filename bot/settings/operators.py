"""Who may rerun and stop: Slack user ids and user-group ids, from `DLF_BOT_OPERATORS` and the config file.

`DLF_BOT_OPERATORS=U0123ABCD,S0456EFGH` names the operators of every channel. The config file may name more, for
every channel (`operators:`) and for one channel (`channels: {C0123ABCD: {operators: [...]}}`); a channel's
operators are ADDED to the global ones (whoever may act everywhere may act in every channel too). Entries are
checked at start-up; a malformed one is named with where it was written and how to write it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Slack's ids: users U…/W… (W: Enterprise Grid), user groups S…, channels C… (public), G… (private), D… (DM).
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,40}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,40}")
_SHOWN = 40


@dataclass(frozen=True)
class OperatorConfig:
    """The operators as configured: `everywhere` (every channel) and `per_channel` (added in that channel)."""

    everywhere: tuple[str, ...] = ()
    per_channel: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def for_channel(self, channel: str) -> tuple[str, ...]:
        """The ids that may act in `channel`: the global ones, then the channel's own, each once."""
        return tuple(dict.fromkeys((*self.everywhere, *self.per_channel.get(channel, ()))))

    @property
    def configured(self) -> bool:
        """Whether any operator is named anywhere."""
        return bool(self.everywhere) or any(self.per_channel.values())


def is_user_id(value: str) -> bool:
    """A Slack user id (`U…`, or `W…` on Enterprise Grid)."""
    return bool(_USER_ID.fullmatch(value))


def is_group_id(value: str) -> bool:
    """A Slack user-group id (`S…`)."""
    return bool(_GROUP_ID.fullmatch(value))


def operator_ids(value: Any, *, where: str) -> tuple[tuple[str, ...], list[str]]:
    """The ids in `value` (a comma-separated text, or a list of texts) and what is wrong with it, each problem
    starting with `where` (the setting's name as the user wrote it; "" for none). Blank entries are ignored;
    duplicates are kept once."""
    prefix = f"{where}: " if where else ""
    if value is None:
        return (), []
    if isinstance(value, str):
        entries: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        entries = value
    else:
        return (), [f"{prefix}must be a list of Slack user or user-group ids, e.g. [U0123ABCD, S0456EFGH]"]
    ids: list[str] = []
    problems: list[str] = []
    for position, entry in enumerate(entries, start=1):
        text = str(entry).strip() if isinstance(entry, str | int) and not isinstance(entry, bool) else None
        if text == "":
            continue
        if text is not None and (is_user_id(text) or is_group_id(text)):
            ids.append(text)
            continue
        problems.append(f"{prefix}entry {position}, {_quoted(entry)}, {_why(text)}")
    return tuple(dict.fromkeys(ids)), problems


def channel_operators(value: Any, *, source: str) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """`channels:` of the config file (channel id -> `{operators: [...]}`): the ids per channel and what is wrong,
    each problem naming the key and then `source` (e.g. "in /etc/dlf-bot.yaml")."""
    if value is None:
        return {}, []
    if not isinstance(value, dict):
        return {}, [
            f"`channels` {source}: must map channel ids to settings, e.g. `C0123ABCD: {{operators: [U0123ABCD]}}`"
        ]
    found: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    for channel, body in value.items():
        name = str(channel)
        if not _CHANNEL_ID.fullmatch(name):
            problems.append(
                f"`channels` {source}: {_quoted(channel)} is not a Slack channel id (C…, or G… for a private"
                " channel; the channel's details show it at the bottom)"
            )
            continue
        if not isinstance(body, dict) or set(body) - {"operators"}:
            problems.append(
                f"`channels.{name}` {source}: takes one setting, `operators:` (a list of user or user-group ids)"
            )
            continue
        ids, wrong = operator_ids(body.get("operators"), where=f"`channels.{name}.operators` {source}")
        problems.extend(wrong)
        if ids:
            found[name] = ids
    return found, problems


def _why(text: str | None) -> str:
    if text is None:
        return "is not a Slack id"
    if text.startswith("@") or text.startswith("<"):
        return (
            "is a handle or mention, not an id: write the member's id (their profile → ⋮ → Copy member ID, U…)"
            " or the user group's id (S…)"
        )
    if text.upper() != text and (is_user_id(text.upper()) or is_group_id(text.upper())):
        return "must be written in capitals, as Slack shows it"
    if text[:1] in "CGD" and _CHANNEL_ID.fullmatch(text):
        return "is a channel id: operators are users (U…) or user groups (S…)"
    return "is not a Slack user id (U…/W…) or user-group id (S…), e.g. U0123ABCD or S0456EFGH"


def _quoted(entry: object) -> str:
    text = str(entry)
    return f"`{text[:_SHOWN]}…`" if len(text) > _SHOWN else f"`{text}`"


__all__ = ["OperatorConfig", "channel_operators", "is_group_id", "is_user_id", "operator_ids"]
