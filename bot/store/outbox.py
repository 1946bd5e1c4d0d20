"""The outbox: every Slack message to send, with a unique key, written with the state change that caused it.

The watcher only enqueues; the deliverer (`bot.watcher.deliver`) claims, sends and records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import insert_for
from bot.store.records import OUTBOX_KINDS, OutboxRow
from bot.store.tables import incidents, outbox, subscriptions

_ERROR_MAX = 512

# Slack errors that say the bot can no longer post to a channel (or with this token): retrying never helps, the
# channel's subscriptions are marked broken, and the rows they failed are queued again when the channel is re-watched.
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "not_authed",
    }
)
_RECORD_COLUMNS = [c for c in outbox.c if c.name not in ("claimed_by", "claim_expires_at")]


def _to_record(row: RowMapping) -> OutboxRow:
    return OutboxRow(**{c.name: row[c.name] for c in _RECORD_COLUMNS})


class Outbox:
    """Outbox rows inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def enqueue(
        self,
        *,
        key: str,
        channel: str,
        kind: str,
        payload: dict[str, Any],
        parent_key: str | None = None,
        thread_ts: str | None = None,
        profile: str | None = None,
        job_name: str | None = None,
    ) -> bool:
        """Queue one message; False (and nothing changes) if a row with `key` already exists.

        `payload` is `{"text": ..., "blocks": [...], "metadata": {...}}` (metadata optional, merged into the message
        metadata next to the key). `parent_key`: for kind "update", the key of the row whose message to edit; for
        other kinds, the key of the row in whose thread to reply. `thread_ts`: a parent ts known already.
        `profile` / `job_name`: what the message is about (None for a digest), so `/dlf unwatch` can cancel it.
        """
        if kind not in OUTBOX_KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        if kind == "update" and parent_key is None:
            raise ValueError("an update row needs the parent_key of the message it edits")
        insert = (
            insert_for(self._dialect, outbox)
            .values(
                key=key,
                channel=channel,
                kind=kind,
                payload=payload,
                parent_key=parent_key,
                thread_ts=thread_ts,
                profile=profile,
                job_name=job_name,
                status="pending",
                attempts=0,
                next_attempt_at=self._now,
                created_at=self._now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(outbox.c.id)
        )
        return (await self._conn.execute(insert)).first() is not None

    async def get(self, key: str) -> OutboxRow | None:
        """One row by key."""
        row = (await self._conn.execute(select(outbox).where(outbox.c.key == key))).mappings().first()
        return _to_record(row) if row else None

    async def pending_count(self, channel: str | None = None) -> int:
        """How many rows still wait to be sent (of one channel, or all)."""
        query = select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
        if channel is not None:
            query = query.where(outbox.c.channel == channel)
        return int((await self._conn.execute(query)).scalar_one())

    async def requeue_failed(self, channel: str, *, errors: Iterable[str], since: int) -> int:
        """Queue again the rows of `channel` that failed for good with one of `errors` (the channel could not be
        posted to) and were queued at or after `since` (ms); returns how many.

        They become pending, due now, with their attempts counted afresh. They keep their ids, so an alert card goes
        out before the thread replies and updates queued after it.
        """
        result = await self._conn.execute(
            update(outbox)
            .where(
                outbox.c.channel == channel,
                outbox.c.status == "failed_permanent",
                outbox.c.last_error.in_(list(errors)),
                outbox.c.created_at >= since,
            )
            .values(status="pending", attempts=0, next_attempt_at=self._now, claimed_by=None, claim_expires_at=None)
        )
        return int(result.rowcount)

    async def purge_before(self, cutoff: int) -> int:
        """Delete finished rows (sent or failed for good) queued before `cutoff` (ms); returns how many.

        Rows still needed are kept: the card of an unresolved incident (its thread and updates refer to it) and any
        parent of a row still pending. Keep a cutoff well past DLF's 7-day query limit, so a key can never be
        enqueued again once its row is gone.
        """
        pending_children = select(outbox.c.parent_key).where(
            outbox.c.status == "pending", outbox.c.parent_key.is_not(None)
        )
        open_cards = select(incidents.c.root_key).where(incidents.c.state != "resolved")
        result = await self._conn.execute(
            delete(outbox).where(
                outbox.c.status.in_(("sent", "failed_permanent")),
                outbox.c.created_at < cutoff,
                outbox.c.key.not_in(pending_children),
                outbox.c.key.not_in(open_cards),
            )
        )
        return int(result.rowcount)

    # ---- the deliverer's side -----------------------------------------------------------------------------------

    def _claimable(self) -> Any:
        return (
            outbox.c.status == "pending",
            or_(outbox.c.claim_expires_at.is_(None), outbox.c.claim_expires_at <= self._now),
        )

    async def claim_heads(self, *, holder: str, limit: int, claim_ttl_ms: int) -> list[OutboxRow]:
        """Claim the oldest pending row of up to `limit` channels, where that row is due and not claimed.

        A held channel (see `_held_channels`) is skipped: its rows stay pending, in order, until someone re-watches it.

        One row per channel per call keeps per-channel pacing and order; a channel whose oldest row is backing off
        waits without holding up the others. The claim (holder + expiry) is taken with one atomic UPDATE (and
        `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two deliverers never hold the same row; a claim left by a crashed
        deliverer expires after `claim_ttl_ms`. Each claim counts as an attempt.
        """
        heads = select(func.min(outbox.c.id)).where(outbox.c.status == "pending").group_by(outbox.c.channel)
        candidates = (
            select(outbox.c.id)
            .where(
                outbox.c.id.in_(heads),
                outbox.c.next_attempt_at <= self._now,
                *self._claimable(),
                outbox.c.channel.not_in(_held_channels()),
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        return await self._claim(outbox.c.id.in_(candidates), holder=holder, claim_ttl_ms=claim_ttl_ms)

    async def claim_key(self, key: str, *, holder: str, claim_ttl_ms: int) -> OutboxRow | None:
        """Claim one pending row by key (a parent that must go out before its reply); None if not claimable."""
        claimed = await self._claim(outbox.c.key == key, holder=holder, claim_ttl_ms=claim_ttl_ms)
        return claimed[0] if claimed else None

    async def _claim(self, where: Any, *, holder: str, claim_ttl_ms: int) -> list[OutboxRow]:
        result = await self._conn.execute(
            update(outbox)
            .where(where, *self._claimable())
            .values(claimed_by=holder, claim_expires_at=self._now + claim_ttl_ms, attempts=outbox.c.attempts + 1)
            .returning(*outbox.c)
        )
        return sorted((_to_record(r) for r in result.mappings()), key=lambda r: r.id)

    async def mark_sent(self, row_id: int, *, ts: str, thread_ts: str | None) -> None:
        """Record the message ts (and the thread it went to); an incident whose card this is learns its root ts."""
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(
                status="sent",
                sent_ts=ts,
                sent_thread_ts=thread_ts,
                sent_at=self._now,
                claimed_by=None,
                claim_expires_at=None,
                last_error=None,
            )
            .returning(outbox.c.key, outbox.c.kind)
        )
        key, kind = result.one()
        if kind != "update":
            await self._conn.execute(
                update(incidents).where(incidents.c.root_key == key, incidents.c.root_ts.is_(None)).values(root_ts=ts)
            )

    async def mark_retry(self, row_id: int, *, error: str, next_attempt_at: int) -> None:
        """Leave the row pending, to be tried again at `next_attempt_at`."""
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(
                last_error=error[:_ERROR_MAX], next_attempt_at=next_attempt_at, claimed_by=None, claim_expires_at=None
            )
        )

    async def release(self, row_id: int, *, next_attempt_at: int) -> None:
        """Give a claimed row back without having tried to send it (its attempt is not counted)."""
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(
                attempts=outbox.c.attempts - 1,
                next_attempt_at=next_attempt_at,
                claimed_by=None,
                claim_expires_at=None,
            )
        )

    async def mark_failed(self, row_id: int, *, error: str) -> None:
        """Give up on the row: Slack will never accept it (a permanent error)."""
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(status="failed_permanent", last_error=error[:_ERROR_MAX], claimed_by=None, claim_expires_at=None)
        )


def _held_channels() -> Any:
    """Channels whose rows are held: every subscription is broken (at least one, and none active). Slack refused
    to post there; sending the rest of the backlog would only fail it too, so it waits for `/dlf watch` to repair the
    channel (which also re-queues the rows that failed for that reason: `requeue_failed`)."""
    active = select(subscriptions.c.channel).where(subscriptions.c.state == "active")
    return select(subscriptions.c.channel).where(
        subscriptions.c.state == "broken", subscriptions.c.channel.not_in(active)
    )


__all__ = ["CHANNEL_ERRORS", "Outbox"]
