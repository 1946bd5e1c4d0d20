"""Finding an earlier attempt of an outbox row in Slack: the channel's history (or the thread's replies) searched for
the row's key in message metadata, joining a public channel first when the bot is not a member.

Used for a row in doubt (an attempt whose outcome is unknown) before anything is posted again. A history that cannot
be read is a `LookupProblem`, never "not posted".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.store import OutboxRow
from bot.watcher.outbox import LookupProblem, classify_join_error, classify_lookup_error, find_posted, oldest_ts
from bot.watcher.slack_answers import NETWORK_ERRORS, error_code, retry_after_of, status_of

# The deliverer's log: a lookup is a step of a delivery.
logger = logging.getLogger("bot.watcher.deliver")

T = TypeVar("T")

# How far before a row was queued to look for it in channel history (covers clock skew between bot and Slack).
HISTORY_MARGIN_S = 120
HISTORY_PAGES = 10
HISTORY_PAGE_SIZE = 200


@dataclass(frozen=True)
class Found:
    """Where an earlier attempt of a row is in Slack."""

    ts: str
    thread_ts: str | None  # None: found at the top of the channel


class HistoryLookup:
    """Searches Slack for earlier attempts of outbox rows (calls bounded by the Slack timeout)."""

    def __init__(self, *, slack: AsyncWebClient, timeout_s: float, ratelimited: Callable[[str], None]) -> None:
        self._slack = slack
        self._timeout_s = timeout_s
        self._ratelimited = ratelimited

    async def _read(self, call: Awaitable[T]) -> T:
        """A Slack call that cannot post (history, join), bounded by the Slack timeout."""
        async with asyncio.timeout(self._timeout_s):
            return await call

    async def lookup(self, row: OutboxRow, thread_ts: str | None) -> Found | LookupProblem | None:
        """Whether an earlier attempt of `row` reached Slack: where it is (`Found`, the oldest copy), None when the
        history was searched to the end without it, or why the history could not say (`LookupProblem`)."""
        where = thread_ts
        joined = False
        while True:
            try:
                return await self._search(row, where)
            except SlackApiError as exc:
                code = error_code(exc)
                if where is not None and code in ("thread_not_found", "message_not_found"):
                    where = None  # the thread is gone: an earlier attempt posted it in the channel, if at all
                    continue
                problem = classify_lookup_error(status=status_of(exc), error=code, retry_after=retry_after_of(exc))
                if problem.kind != "join":
                    if problem.reason == "history_ratelimited":
                        self._ratelimited("conversations.replies" if where else "conversations.history")
                    return problem
                if joined:
                    return LookupProblem("held", "not_in_channel (after joining)")
                joined = True
                refused = await self._join(row.channel)
                if refused is not None:
                    return refused
            except NETWORK_ERRORS as exc:
                return LookupProblem("held", f"history_network: {type(exc).__name__}")

    async def _search(self, row: OutboxRow, thread_ts: str | None) -> Found | LookupProblem | None:
        """One search of the channel's history since the row was queued (or of the thread), page by page."""
        cursor: str | None = None
        oldest = f"{row.created_at / 1000 - HISTORY_MARGIN_S:.6f}"
        found: list[str] = []
        for _ in range(HISTORY_PAGES):
            if thread_ts is not None:
                page: AsyncSlackResponse = await self._read(
                    self._slack.conversations_replies(
                        channel=row.channel,
                        ts=thread_ts,
                        include_all_metadata=True,
                        limit=HISTORY_PAGE_SIZE,
                        cursor=cursor,
                    )
                )
            else:
                page = await self._read(
                    self._slack.conversations_history(
                        channel=row.channel,
                        oldest=oldest,
                        include_all_metadata=True,
                        limit=HISTORY_PAGE_SIZE,
                        cursor=cursor,
                    )
                )
            ts = find_posted(page.get("messages") or [], row.key)
            if ts is not None:
                found.append(ts)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        else:
            if not found:
                # Not all of it was read: "not there" cannot be said.
                return LookupProblem("held", f"history_too_long (over {HISTORY_PAGES * HISTORY_PAGE_SIZE} messages)")
        if not found:
            return None
        return Found(ts=oldest_ts(found), thread_ts=thread_ts)

    async def _join(self, channel: str) -> LookupProblem | None:
        """Join public `channel` (posting there works without membership, reading its history does not)."""
        try:
            await self._read(self._slack.conversations_join(channel=channel))
        except SlackApiError as exc:
            problem = classify_join_error(error_code(exc))
            logger.warning(
                "cannot join channel %s to read its history (%s); its messages in doubt are held, not "
                "posted: invite the bot to the channel, or grant it channels:join",
                channel,
                error_code(exc),
            )
            return problem
        except NETWORK_ERRORS as exc:
            return LookupProblem("held", f"join_network: {type(exc).__name__}")
        logger.info("joined public channel %s to read its history (an earlier post's outcome is unknown)", channel)
        return None


__all__ = ["HISTORY_MARGIN_S", "HISTORY_PAGES", "HISTORY_PAGE_SIZE", "Found", "HistoryLookup"]
