"""`/dlf instances`: one page of a job's recent instances, newest first, each with a button opening its card.

A page shows `PAGE_SIZE` rows (status, instance id, planned time, duration) — one section each, its Open button
beside it — and Newer / Older buttons carrying the same window, so every page is a page of the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slack_sdk.models.blocks import ButtonElement, SectionBlock

from bot.commands.parse import INSTANCES_SINCE_BOUNDS
from bot.commands.values import human
from bot.dlf.models import InstanceSummary
from bot.render.actions import (
    INSTANCES_OPEN,
    INSTANCES_PAGE,
    InstanceRef,
    ListPageRef,
    encode_instance_ref,
    encode_list_page,
)
from bot.render.blocks import Block, actions, button, context, header, mrkdwn_text, section
from bot.render.message import Message
from bot.render.mrkdwn import code, date_token, escape_truncated, human_duration, one_line, plural, truncate
from bot.render.status import RUNNING_INSTANCE_STATUSES, instance_look

JOB_LIMIT = 120
STATUS_LIMIT = 60
HEADER_LIMIT = 150
_STATUS_WORDS = {"fail": "failed", "success": "succeeded", "running": "running"}
# The `--since` an empty list suggests: the first of these at least twice its window, up to DLF's 7 days.
_LONGER_SINCE_S = tuple(m * 60 for m in (60, 120, 360, 720)) + tuple(d * 86400 for d in (1, 2, 3, 4, 7))


class ListQueryLike(Protocol):
    """What the renderer reads of the query (the service's `InstanceListQuery` fits)."""

    @property
    def job(self) -> str: ...
    @property
    def status(self) -> str | None: ...
    @property
    def since_ms(self) -> int: ...
    @property
    def until_ms(self) -> int: ...
    @property
    def page(self) -> int: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def since_midnight(self) -> bool: ...


class InstanceListLike(Protocol):
    """What the renderer reads of one page (the service's `InstancesListed` fits)."""

    @property
    def query(self) -> ListQueryLike: ...
    @property
    def instances(self) -> Sequence[InstanceSummary]: ...
    @property
    def total(self) -> int: ...
    @property
    def capped(self) -> bool: ...
    @property
    def read_at_ms(self) -> int: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def page_size(self) -> int: ...


def _time(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def duration_text(row: InstanceSummary, *, now_ms: int) -> str:
    """How long it ran: end − start, so far while running, else DLF's executeTime, else "—"."""
    start, end = _time(row.start_time), _time(row.end_time)
    if start is not None and end is not None and end >= start:
        return human_duration(end - start)
    if start is not None and end is None and row.status in RUNNING_INSTANCE_STATUSES and now_ms >= start:
        return human_duration(now_ms - start) + " so far"
    if row.execute_time is not None and row.execute_time >= 0 and start is not None:
        return human_duration(row.execute_time)
    return "—"


def instance_row(row: InstanceSummary, *, now_ms: int) -> str:
    """`:x: *failed* · instance `34765` · planned <date> · ran 1m 0s`, every untrusted part escaped."""
    look = instance_look(row.status)
    word = escape_truncated(look.word, STATUS_LIMIT) if look.known else code(row.status, STATUS_LIMIT)
    plan = _time(row.plan_time)
    parts = [
        f"{look.emoji} *{word}*" if look.known else f"{look.emoji} {word}",
        f"instance {code(str(row.instance_id), 30)}",
        f"planned {date_token(plan)}" if plan is not None else "no planned time",
        f"ran {duration_text(row, now_ms=now_ms)}",
    ]
    if row.force_success or row.ignore_success:
        parts.append("_forced to success_" if row.force_success else "_failure ignored_")
    return " · ".join(parts)


def _window(query: ListQueryLike) -> str:
    if query.since_midnight:
        return f"planned today (since {date_token(query.since_ms)}, DLF's default)"
    return f"planned since {date_token(query.since_ms)}"


def _what(query: ListQueryLike) -> str:
    if query.status is None:
        return "instances"
    word = _STATUS_WORDS.get(query.status) or query.status
    return f"{escape_truncated(word, STATUS_LIMIT)} instances"


def _row_block(row: InstanceSummary, *, now_ms: int, profile: str | None) -> Block:
    text = instance_row(row, now_ms=now_ms)
    value = encode_instance_ref(InstanceRef(job=row.job_name, instance_id=row.instance_id, profile=profile))
    if value is None:
        return section(text)
    accessory = ButtonElement(text="Open", action_id=INSTANCES_OPEN, value=value)
    return SectionBlock(text=mrkdwn_text(text), accessory=accessory).to_dict()


def _page_value(query: ListQueryLike, page: int) -> str | None:
    return encode_list_page(
        ListPageRef(
            page=page,
            since_ms=query.since_ms,
            until_ms=query.until_ms,
            job=query.job,
            status=query.status,
            profile=query.profile,
            since_midnight=query.since_midnight,
        )
    )


def render_instance_list(listing: InstanceListLike) -> Message:
    """One page of the job's instances, newest planned first, with Open buttons and Newer / Older buttons."""
    query = listing.query
    job_text = one_line(query.job, JOB_LIMIT)
    what = _what(query)
    if not listing.instances:
        line = f":mag: No {what} of job {code(query.job, JOB_LIMIT)} {_window(query)}."
        if listing.total:
            line = f":mag: No more {what} of job {code(query.job, JOB_LIMIT)}: this list has {listing.total:,}."
        hint = _empty_hint(query, total=listing.total)
        said = [section(line), context(hint)] if hint else [section(line)]
        return Message(text=f"No {what} of {job_text}", blocks=said)
    title = truncate(f":clipboard: {' '.join(query.job.split())} · recent instances", HEADER_LIMIT)
    blocks: list[Block] = [header(title), context(_summary(listing))]
    blocks.extend(_row_block(row, now_ms=listing.read_at_ms, profile=listing.profile) for row in listing.instances)
    buttons = []
    newer = _page_value(query, query.page - 1) if query.page > 0 else None
    if newer is not None:
        buttons.append(button("Newer", action_id=f"{INSTANCES_PAGE}.newer", value=newer))
    older = _page_value(query, query.page + 1) if listing.has_more else None
    if older is not None:
        buttons.append(button("Older", action_id=f"{INSTANCES_PAGE}.older", value=older))
    if buttons:
        blocks.append(actions(buttons))
    if listing.capped:
        blocks.append(
            context(
                f":warning: DLF has more {what} in this window than the {listing.total:,} read:"
                " narrow it with `--since` or `--status`."
            )
        )
    text = f"{plural(listing.total, 'instance')} of {job_text}, newest first"
    return Message(text=text, blocks=blocks)


def _empty_hint(query: ListQueryLike, *, total: int) -> str:
    """What else to type, from what was typed: a longer `--since` while one is allowed, and `--status fail` when
    no status was given and there are instances to narrow."""
    hints = []
    window_s = max(0, query.until_ms - query.since_ms) // 1000
    longer = next((s for s in _LONGER_SINCE_S if s >= 2 * window_s), INSTANCES_SINCE_BOUNDS[1])
    if window_s < INSTANCES_SINCE_BOUNDS[1] - 60:  # DLF lists at most 7 days back: none further then
        hints.append(f"`--since {human(longer)}` looks further back (at most 7 days)")
    if query.status is None and total:
        hints.append("`--status fail` keeps only the failed ones")
    return "; ".join(hints) + "." if hints else ""


def _summary(listing: InstanceListLike) -> str:
    query = listing.query
    first = query.page * listing.page_size + 1
    last = first + len(listing.instances) - 1
    parts = [f"{listing.total:,} {_what(query)} {_window(query)}, newest first"]
    parts.append(f"{first:,}–{last:,} shown" if listing.total > len(listing.instances) else "all shown")
    if listing.profile:
        parts.append(f"profile {code(listing.profile, 60)}")
    return " · ".join(parts)


__all__ = ["InstanceListLike", "ListQueryLike", "duration_text", "instance_row", "render_instance_list"]
