"""Retention: old rows deleted in small batches, so the database stops growing with history.

Each batch is its own short transaction deleting at most `batch_rows` rows of one table, and one `prune` call runs at
most `max_batches` batches per table: no long transaction, no long lock (SQLite has one writer at a time), and a
backlog (a first run on a database that never pruned) is worked off over several calls instead of in one.

What goes, per table (cutoffs in epoch ms, computed by the caller from its settings):
- outbox: finished rows (sent, failed for good) queued before the cutoff — never the card of an unresolved incident
  nor the parent of a row still pending (`Outbox.purge_before`);
- incidents: resolved before the cutoff;
- instances_seen: instances whose status last changed, and that were planned, before the cutoff — older than
  anything the watcher lists or tracks, finished or not (`Instances.forget_before`);
- audit: entries recorded before the cutoff;
- mutes: mutes that ended (their time ran out) before the cutoff — a mute until unmuted stays;
- request_keys: keys seen before their own (much shorter) cutoff: they only recognise Slack's redeliveries;
- channel_pace: channels whose next post was allowed before the cutoff (idle since: a missing row means "may post").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import delete, select

from bot.store.store import Store, Transaction
from bot.store.tables import channel_pace, request_keys

TABLES = ("outbox", "incidents", "instances_seen", "audit", "mutes", "request_keys", "channel_pace")
DEFAULT_BATCH_ROWS = 500
DEFAULT_MAX_BATCHES = 20


@dataclass(frozen=True, kw_only=True)
class Cutoffs:
    """Per table, rows older than this (epoch ms) may go."""

    history: int  # outbox, incidents, instances_seen, audit, mutes
    request_keys: int
    channel_pace: int


async def prune(
    store: Store,
    *,
    cutoffs: Cutoffs,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_batches: int = DEFAULT_MAX_BATCHES,
) -> dict[str, int]:
    """Delete old rows of every table (see the module's docstring); returns how many per table.

    Raises `StoreUnavailable` if the database fails; what earlier batches deleted stays deleted.
    """
    if batch_rows < 1 or max_batches < 1:
        raise ValueError("batch_rows and max_batches must be positive")
    steps: dict[str, Callable[[Transaction], Awaitable[int]]] = {
        "outbox": lambda tx: tx.outbox.purge_before(cutoffs.history, limit=batch_rows),
        "incidents": lambda tx: tx.incidents.purge_resolved_before(cutoffs.history, limit=batch_rows),
        "instances_seen": lambda tx: tx.instances.forget_before(cutoffs.history, limit=batch_rows),
        "audit": lambda tx: tx.audit.purge_before(cutoffs.history, limit=batch_rows),
        "mutes": lambda tx: tx.mutes.purge_ended_before(cutoffs.history, limit=batch_rows),
        "request_keys": lambda tx: _purge_request_keys(tx, cutoffs.request_keys, batch_rows),
        "channel_pace": lambda tx: _purge_channel_pace(tx, cutoffs.channel_pace, batch_rows),
    }
    pruned = dict.fromkeys(TABLES, 0)
    for table, step in steps.items():
        for _ in range(max_batches):
            async with store.transaction() as tx:
                deleted = await step(tx)
            pruned[table] += deleted
            if deleted < batch_rows:
                break
    return pruned


async def _purge_request_keys(tx: Transaction, cutoff: int, limit: int) -> int:
    old = request_keys.alias("old")
    doomed = select(old.c.key).where(old.c.seen_at < cutoff).order_by(old.c.seen_at).limit(limit)
    result = await tx.conn.execute(delete(request_keys).where(request_keys.c.key.in_(doomed)))
    return int(result.rowcount)


async def _purge_channel_pace(tx: Transaction, cutoff: int, limit: int) -> int:
    old = channel_pace.alias("old")
    doomed = select(old.c.channel).where(old.c.next_post_at < cutoff).limit(limit)
    result = await tx.conn.execute(delete(channel_pace).where(channel_pace.c.channel.in_(doomed)))
    return int(result.rowcount)


__all__ = ["DEFAULT_BATCH_ROWS", "DEFAULT_MAX_BATCHES", "TABLES", "Cutoffs", "prune"]
