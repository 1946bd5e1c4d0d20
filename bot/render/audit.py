"""`/dlf audit`: one page of the channel's audit entries, newest first — who, what, when, target, outcome, details.

Everything an entry holds is untrusted text (job names, DLF's messages): escaped, in code spans, cut to a budget.
Details read as words: keys (`held back 1`), times as Slack dates, `--escalate` as the reminder it sets, flags as
what they mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.render.actions import AUDIT_PAGE, ListPageRef, encode_list_page
from bot.render.blocks import Block, actions, button, context, header, section
from bot.render.message import Message
from bot.render.mrkdwn import code, date_token, mention, one_line, plural
from bot.render.watches import escalation_text

TARGET_LIMIT = 120
ACTION_LIMIT = 40
DETAIL_VALUE_LIMIT = 120
DETAILS_LIMIT = 600
MAX_DETAILS = 8

# Detail keys that hold epoch milliseconds, shown as a date in each reader's time zone.
_TIMES = frozenset({"until", "until_ms"})
_KEY_WORDS = {"instance_id": "instance", "subscription_id": "subscription", "dlf": "DLF", "until_ms": "until"}
# A flag's words when true and when false (None: not said).
_FLAGS: dict[str, tuple[str | None, str | None]] = {
    "created": ("new subscription", "subscription changed"),
    "was_muted": ("was muted", "was not muted"),
    "is_pattern": ("a pattern", None),
}

_OUTCOMES = {
    "ok": ":white_check_mark: ok",
    "refused": ":no_entry_sign: refused",
    "failed": ":x: failed",
    "unknown": ":grey_question: outcome unknown",
}


class AuditEntryLike(Protocol):
    """What the renderer reads of an entry (the store's audit record fits as it is)."""

    @property
    def id(self) -> int: ...
    @property
    def at(self) -> int: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def target(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any] | None: ...
    @property
    def outcome(self) -> str | None: ...


class AuditQueryLike(Protocol):
    """What the renderer reads of the query (the service's `AuditQuery` fits)."""

    @property
    def job(self) -> str | None: ...
    @property
    def since_ms(self) -> int: ...
    @property
    def page(self) -> int: ...


def _actor(actor: str) -> str:
    if actor == "watcher":
        return "the bot"
    return mention(f"<@{actor}>") or code(actor, 60)


def _outcome(outcome: str | None) -> str:
    if outcome is None:
        return "no outcome recorded"
    return _OUTCOMES.get(outcome) or code(outcome, 40)


def _value(value: Any) -> str | None:
    if value is None or value is False or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    elif isinstance(value, dict):
        value = ", ".join(f"{key}={item}" for key, item in value.items())
    return code(str(value), DETAIL_VALUE_LIMIT)


def _key(key: str) -> str:
    return _KEY_WORDS.get(key) or one_line(key.replace("_", " "), 40)


def _detail(key: str, raw: Any) -> str | None:
    """One detail as words, None when it says nothing."""
    if key == "escalate_after_s":
        return escalation_text(raw)
    if isinstance(raw, bool):
        if key in _FLAGS:
            return _FLAGS[key][0 if raw else 1]
        return f"{_key(key)} {'yes' if raw else 'no'}"
    if key in _TIMES:
        if raw is None:
            return "until unmuted"
        if isinstance(raw, int):
            return f"{_key(key)} {date_token(raw)}"
    if isinstance(raw, int):
        return f"{_key(key)} {raw}"
    shown = _value(raw)
    return None if shown is None else f"{_key(key)} {shown}"


def details_text(details: Mapping[str, Any] | None) -> str:
    """The entry's details (DLF's answer among them) as words, untrusted values in code spans, within a budget."""
    if not details:
        return ""
    parts: list[str] = []
    used = 0
    for key, raw in list(details.items())[:MAX_DETAILS]:
        part = _detail(str(key), raw)
        if part is None:
            continue
        if used + len(part) > DETAILS_LIMIT:
            parts.append("…")
            break
        parts.append(part)
        used += len(part) + 3
    return " · ".join(parts)


def audit_line(entry: AuditEntryLike) -> str:
    """`<date> · @alice · *rerun* · `job_batch` · :white_check_mark: ok`, then its details on a second line."""
    parts = [date_token(entry.at), _actor(entry.actor), f"*{one_line(entry.action, ACTION_LIMIT)}*"]
    if entry.target:
        parts.append(code(entry.target, TARGET_LIMIT))
    parts.append(_outcome(entry.outcome))
    line = " · ".join(parts)
    details = details_text(entry.details)
    return f"{line}\n{details}" if details else line


def render_audit(
    entries: Sequence[AuditEntryLike], *, query: AuditQueryLike, has_more: bool, page_size: int
) -> Message:
    """One page of the audit trail for this channel, with an Older button when more entries match."""
    about = f" about job {code(query.job, TARGET_LIMIT)}" if query.job else ""
    window = f"since {date_token(query.since_ms)}"
    if not entries:
        older = " older" if query.page else ""
        line = f":ledger: No{older} audit entries in this channel{about} {window}."
        return Message(text="No audit entries", blocks=[section(line), context(_hint())])
    first = query.page * page_size + 1
    shown = f"entries {first:,}–{first + len(entries) - 1:,}"
    blocks: list[Block] = [
        header(":ledger: Audit trail"),
        context(f"This channel's entries{about} {window}, newest first · {shown}"),
    ]
    blocks.extend(section(audit_line(entry)) for entry in entries)
    if has_more:
        value = encode_list_page(
            ListPageRef(page=query.page + 1, since_ms=query.since_ms, job=query.job, before_id=entries[-1].id)
        )
        if value is not None:
            blocks.append(actions([button("Older", action_id=AUDIT_PAGE, value=value)]))
    blocks.append(context(_hint()))
    text = f"Audit trail: {plural(len(entries), 'entry', 'entries')}" + (" (more are older)" if has_more else "")
    return Message(text=text, blocks=blocks)


def _hint() -> str:
    return "`/dlf audit job_batch --since 24h` narrows it to one job and a window (at most 90d)."


__all__ = ["AuditEntryLike", "AuditQueryLike", "audit_line", "details_text", "render_audit"]
