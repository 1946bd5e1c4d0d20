"""The outbox: every Slack message to send, with a unique key, written with the state change that caused it.

The watcher only enqueues; the deliverer (`bot.watcher.deliver`) claims, sends and records. What a Slack answer means
(which errors break a channel, which rows a repair queues again) is the deliverer's policy (`bot.watcher.outbox`):
the store records the outcome it is told and re-queues the rows it is asked to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import chunks, constant, insert_for, one_of, unindexed
from bot.store.leases import holder_is_dead
from bot.store.records import OUTBOX_KINDS, OutboxRow
from bot.store.tables import channel_pace, incidents, outbox, subscriptions

_ERROR_MAX = 512

_RECORD_COLUMNS = [c for c in outbox.c if c.name not in ("claimed_by", "claim_expires_at")]


def _to_record(row: RowMapping) -> OutboxRow:
    return OutboxRow(**{c.name: row[c.name] for c in _RECORD_COLUMNS})


class QueuedMessage(Protocol):
    """A message to queue, as `bot.incidents.outbox.OutboxMessage` builds it (read structurally)."""

    @property
    def key(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def parent_key(self) -> str | None: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def job_name(self) -> str | None: ...


class Outbox:
    """Outbox rows inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def enqueue_message(self, message: QueuedMessage) -> bool:
        """`enqueue` of a built message (its key, channel, kind, payload, parent, profile and job)."""
        return await self.enqueue(
            key=message.key,
            channel=message.channel,
            kind=message.kind,
            payload=message.payload,
            parent_key=message.parent_key,
            profile=message.profile,
            job_name=message.job_name,
        )

    async def enqueue_messages(self, messages: Iterable[QueuedMessage]) -> int:
        """Queue each of `messages` in order (parents before the replies that need them); how many were new."""
        return sum([await self.enqueue_message(message) for message in messages])

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

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have a row (any status): e.g. which incident cards are queued or sent."""
        found: set[str] = set()
        for batch in chunks(dict.fromkeys(keys)):
            rows = await self._conn.execute(select(outbox.c.key).where(one_of(self._dialect, outbox.c.key, batch)))
            found.update(str(key) for key in rows.scalars())
        return found

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
                one_of(self._dialect, outbox.c.last_error, sorted(errors)),
                outbox.c.created_at >= since,
            )
            .values(
                status="pending",
                # An attempt whose outcome is still unknown stays counted, so the row is looked up before posting.
                attempts=case((outbox.c.attempts > outbox.c.settled_attempts, 1), else_=0),
                settled_attempts=0,
                failing_since=None,
                next_attempt_at=self._now,
                claimed_by=None,
                claim_expires_at=None,
            )
        )
        return int(result.rowcount)

    async def purge_before(self, cutoff: int, *, limit: int | None = None) -> int:
        """Delete finished rows (sent or failed for good) queued before `cutoff` (ms), at most `limit` of them
        (oldest first); returns how many.

        Rows still needed are kept: the card of an unresolved incident (its thread and updates refer to it) and any
        parent of a row still pending. Keep a cutoff well past the watcher's window (retention is validated longer
        than DLF_LOOKBACK_HOURS), so a key can never be enqueued again once its row is gone.
        """
        row, child = outbox.alias("row"), outbox.alias("child")
        # The parents of pending rows as one list (few rows; built once per statement, where a correlated NOT EXISTS
        # on the unindexed parent_key scanned them again for every candidate). Never NULL: NOT IN stays meaningful.
        pending_parents = select(child.c.parent_key).where(
            child.c.status == constant("pending"), child.c.parent_key.is_not(None)
        )
        open_card = select(incidents.c.id).where(
            incidents.c.root_key == row.c.key, incidents.c.state != constant("resolved")
        )
        doomed = (
            select(row.c.id)
            .where(
                _finished(unindexed(self._dialect, row.c.status)),
                row.c.created_at < cutoff,
                row.c.key.not_in(pending_parents),
                ~open_card.exists(),
            )
            # Oldest first through the created_at index: the scan stops at the cutoff (and at the LIMIT), never
            # walks the recent rows that stay.
            .order_by(row.c.created_at)
        )
        if limit is not None:
            doomed = doomed.limit(limit)
        # The row's own conditions again on the DELETE: PostgreSQL re-checks those (not the subquery's) on a row
        # that changed meanwhile — a failed row `/dlf watch` just queued again must stay.
        result = await self._conn.execute(
            delete(outbox).where(
                outbox.c.id.in_(doomed),
                _finished(unindexed(self._dialect, outbox.c.status)),
                outbox.c.created_at < cutoff,
            )
        )
        return int(result.rowcount)

    # ---- the deliverer's side -----------------------------------------------------------------------------------

    def _claimable(self) -> Any:
        """Pending and not held by a live claim: unclaimed, the claim expired, or its holder's heartbeat lapsed."""
        return (
            outbox.c.status == "pending",
            or_(
                outbox.c.claimed_by.is_(None),
                outbox.c.claim_expires_at <= self._now,
                holder_is_dead(outbox.c.claimed_by, self._now),
            ),
        )

    def _paced_out(self) -> Any:
        """The channel may not get a chat.postMessage yet (its pace, or a 429's Retry-After). Updates are another
        method with another limit (chat.update, Tier 3 per workspace): the channel's post budget does not apply."""
        return and_(
            outbox.c.kind != "update",
            exists().where(channel_pace.c.channel == outbox.c.channel, channel_pace.c.next_post_at > self._now),
        )

    async def claim_heads(self, *, holder: str, limit: int, claim_ttl_ms: int, paced: bool = True) -> list[OutboxRow]:
        """Claim the oldest pending row of up to `limit` channels, where that row is due and not claimed.

        A held channel (see `_held_channels`) is skipped: its rows stay pending, in order, until someone re-watches it.
        `paced`: a channel whose `channel_pace.next_post_at` is still ahead gives no row to post (its update rows
        still go); `paced=False` ignores the pace (tests, the demo).

        One row per channel per call keeps per-channel order; a channel whose oldest row is backing off
        waits without holding up the others. The claim (holder + expiry) is taken with one atomic UPDATE (and
        `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two deliverers never hold the same row. A claim is taken over
        once its holder's heartbeat lease (`replica:<holder>`) has lapsed, or else after `claim_ttl_ms`. Each claim
        counts as an attempt.
        """
        heads = select(func.min(outbox.c.id)).where(outbox.c.status == "pending").group_by(outbox.c.channel)
        conditions = [
            outbox.c.id.in_(heads),
            outbox.c.next_attempt_at <= self._now,
            *self._claimable(),
            outbox.c.channel.not_in(_held_channels()),
        ]
        if paced:
            conditions.append(~self._paced_out())
        candidates = select(outbox.c.id).where(*conditions).order_by(outbox.c.id).limit(limit)
        if self._dialect == "postgresql":
            # A materialised CTE: as a plain `IN (subquery)` PostgreSQL may run the subquery again per row it
            # updates, and then LIMIT no longer bounds how many rows one call claims.
            chosen = candidates.with_for_update(skip_locked=True).cte("claimable").prefix_with("MATERIALIZED")
            return await self._claim(outbox.c.id.in_(select(chosen.c.id)), holder=holder, claim_ttl_ms=claim_ttl_ms)
        return await self._claim(outbox.c.id.in_(candidates), holder=holder, claim_ttl_ms=claim_ttl_ms)

    async def next_due(self, *, paced: bool = True) -> int | None:
        """When (ms) the earliest channel head that nobody live holds becomes claimable; None when there is none.
        A time in the past means now. What the deliverer sleeps until."""
        due = _due_at() if paced else outbox.c.next_attempt_at
        heads = select(func.min(outbox.c.id)).where(outbox.c.status == "pending").group_by(outbox.c.channel)
        claim_ends = case(
            (outbox.c.claimed_by.is_(None), due),
            (holder_is_dead(outbox.c.claimed_by, self._now), due),
            (outbox.c.claim_expires_at > due, outbox.c.claim_expires_at),
            else_=due,
        )
        query = select(func.min(claim_ends)).where(outbox.c.id.in_(heads), outbox.c.channel.not_in(_held_channels()))
        found = (await self._conn.execute(query)).scalar()
        return int(found) if found is not None else None

    async def claim_key(self, key: str, *, holder: str, claim_ttl_ms: int) -> OutboxRow | None:
        """Claim one pending row by key; None if not claimable."""
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

    def _ours(self, row_id: int, holder: str | None) -> Any:
        """The row, still pending and (when `holder` is given) still claimed by `holder`: a deliverer whose claim was
        taken over writes nothing over the new holder's work."""
        conditions = [outbox.c.id == row_id, outbox.c.status == "pending"]
        if holder is not None:
            conditions.append(outbox.c.claimed_by == holder)
        return and_(*conditions)

    async def mark_sent(self, row_id: int, *, ts: str, thread_ts: str | None, holder: str | None = None) -> bool:
        """Record the message ts (and the thread it went to); an incident whose card this is learns its root ts.

        Only a pending row is recorded: a row already sent keeps the ts it has (the first copy), so thread replies
        and card updates never move to a later one. False when nothing was recorded.
        """
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.status == "pending")
            .values(
                status="sent",
                sent_ts=ts,
                sent_thread_ts=thread_ts,
                sent_at=self._now,
                claimed_by=None,
                claim_expires_at=None,
                last_error=None,
                settled_attempts=outbox.c.attempts,
                in_doubt_since=None,
                failing_since=None,
            )
            .returning(outbox.c.key, outbox.c.kind)
        )
        recorded = result.first()
        if recorded is None:
            return False
        key, kind = recorded
        if kind != "update":
            await self._conn.execute(
                update(incidents).where(incidents.c.root_key == key, incidents.c.root_ts.is_(None)).values(root_ts=ts)
            )
        return True

    async def mark_retry(
        self,
        row_id: int,
        *,
        error: str,
        next_attempt_at: int,
        holder: str | None = None,
        settled_attempts: int | None = None,
    ) -> bool:
        """Leave the row pending, to be tried again at `next_attempt_at`.

        `settled_attempts`: how many of its attempts are now known not to have posted (None: unchanged). While
        fewer than its attempts, the row is in doubt (`in_doubt_since` set) and is looked up before any post.
        """
        settled = outbox.c.settled_attempts if settled_attempts is None else literal(settled_attempts)
        result = await self._conn.execute(
            update(outbox)
            .where(self._ours(row_id, holder))
            .values(
                last_error=error[:_ERROR_MAX],
                next_attempt_at=next_attempt_at,
                claimed_by=None,
                claim_expires_at=None,
                settled_attempts=settled,
                in_doubt_since=case(
                    (outbox.c.attempts > settled, func.coalesce(outbox.c.in_doubt_since, self._now)), else_=None
                ),
                failing_since=func.coalesce(outbox.c.failing_since, self._now),
            )
        )
        return bool(result.rowcount)

    async def release(
        self, row_id: int, *, next_attempt_at: int, holder: str | None = None, settled_attempts: int | None = None
    ) -> bool:
        """Give a claimed row back without having tried to send it (its attempt is not counted).

        `settled_attempts`: attempts now known not to have posted (a history lookup found nothing), else unchanged.
        """
        settled = outbox.c.settled_attempts if settled_attempts is None else literal(settled_attempts)
        result = await self._conn.execute(
            update(outbox)
            .where(self._ours(row_id, holder))
            .values(
                attempts=outbox.c.attempts - 1,
                next_attempt_at=next_attempt_at,
                claimed_by=None,
                claim_expires_at=None,
                settled_attempts=settled,
                in_doubt_since=case((outbox.c.attempts - 1 > settled, outbox.c.in_doubt_since), else_=None),
            )
        )
        return bool(result.rowcount)

    async def mark_failed(self, row_id: int, *, error: str, holder: str | None = None, in_doubt: bool = False) -> bool:
        """Give up on the row: Slack will never accept it (a permanent error).

        Slack's answer settles the attempt (nothing was posted) unless `in_doubt`: the channel could not be read to
        learn whether an earlier attempt posted, so if the row is ever queued again it is looked up first.
        """
        result = await self._conn.execute(
            update(outbox)
            .where(self._ours(row_id, holder))
            .values(
                status="failed_permanent",
                last_error=error[:_ERROR_MAX],
                claimed_by=None,
                claim_expires_at=None,
                settled_attempts=outbox.c.settled_attempts if in_doubt else outbox.c.attempts,
            )
        )
        return bool(result.rowcount)

    async def release_claims(self, holder: str) -> int:
        """Give back every row `holder` still claims (a clean shutdown with nothing in flight); returns how many."""
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.claimed_by == holder, outbox.c.status == "pending")
            .values(attempts=outbox.c.attempts - 1, claimed_by=None, claim_expires_at=None)
        )
        return int(result.rowcount)

    async def hold_channel(self, channel: str, *, until: int) -> None:
        """No chat.postMessage to `channel` before `until` (ms), shared by every replica: its pace after a post, or a
        429's Retry-After. Never moves an existing hold earlier."""
        insert = insert_for(self._dialect, channel_pace).values(channel=channel, next_post_at=until)
        await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=["channel"],
                set_={
                    "next_post_at": case(
                        (insert.excluded.next_post_at > channel_pace.c.next_post_at, insert.excluded.next_post_at),
                        else_=channel_pace.c.next_post_at,
                    )
                },
            )
        )

    async def snapshot(self) -> OutboxSnapshot:
        """How the outbox stands now (for /healthz and /metrics): pending and held rows, the oldest channel head that
        is due and not sent, the rows in doubt and the oldest failing row."""
        held = _held_channels()
        pending = outbox.c.status == "pending"
        counts = (
            await self._conn.execute(
                select(
                    func.count(),
                    func.sum(case((outbox.c.channel.in_(held), 1), else_=0)),
                    func.sum(case((outbox.c.in_doubt_since.is_not(None), 1), else_=0)),
                    func.min(outbox.c.in_doubt_since),
                    func.min(case((outbox.c.channel.not_in(held), outbox.c.failing_since), else_=None)),
                ).where(pending)
            )
        ).one()
        heads = select(func.min(outbox.c.id)).where(pending).group_by(outbox.c.channel)
        oldest_due = (
            await self._conn.execute(
                select(func.min(_due_at())).where(outbox.c.id.in_(heads), outbox.c.channel.not_in(held))
            )
        ).scalar()
        total, held_rows, in_doubt, doubt_since, failing_since = counts
        return OutboxSnapshot(
            now=self._now,
            pending=int(total or 0),
            held=int(held_rows or 0),
            in_doubt=int(in_doubt or 0),
            oldest_in_doubt_since=doubt_since,
            oldest_failing_since=failing_since,
            oldest_due_at=int(oldest_due) if oldest_due is not None and oldest_due <= self._now else None,
        )


def _finished(status: Any) -> Any:
    return status.in_((constant("sent"), constant("failed_permanent")))


@dataclass(frozen=True)
class OutboxSnapshot:
    """The outbox at one moment (`now`, ms). `oldest_due_at`: when the longest-waiting channel head became due (it
    should be sent about then; None when no head is due); `in_doubt`: rows whose last attempt may have posted and
    that wait for the channel's history to say so; `held`: rows of channels Slack refused (waiting for a re-watch)."""

    now: int
    pending: int
    held: int
    in_doubt: int
    oldest_in_doubt_since: int | None
    oldest_failing_since: int | None
    oldest_due_at: int | None


def _due_at() -> Any:
    """SQL: when a row may be sent: its own next attempt, or for a post the channel's pace if that is later."""
    pace = select(channel_pace.c.next_post_at).where(channel_pace.c.channel == outbox.c.channel).scalar_subquery()
    later_pace = and_(outbox.c.kind != "update", pace.is_not(None), pace > outbox.c.next_attempt_at)
    return case((later_pace, pace), else_=outbox.c.next_attempt_at)


def _held_channels() -> Any:
    """Channels whose rows are held: every subscription is broken (at least one, and none active). Slack refused
    to post there; sending the rest of the backlog would only fail it too, so it waits for `/dlf watch` to repair the
    channel (which also re-queues the rows that failed for that reason: `requeue_failed`)."""
    active = select(subscriptions.c.channel).where(subscriptions.c.state == "active")
    return select(subscriptions.c.channel).where(
        subscriptions.c.state == "broken", subscriptions.c.channel.not_in(active)
    )


__all__ = ["Outbox", "OutboxSnapshot"]
