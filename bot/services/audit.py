"""The audit trail for operators: the use case behind `/dlf audit [job] [--since 7d]` and its "Older" button.

Only operators (`Operators.check`) may read it; anyone else gets `OperatorsOnly` (who may, or how to enable it).
The entries are this channel's, newest first, `PAGE_SIZE` at a time, paged by the last id shown (a new entry never
shifts a page). A database that cannot be read gets `DatabaseUnavailable` and one log line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot import messages
from bot.commands.model import AuditCommand
from bot.commands.parse import AUDIT_SINCE_BOUNDS
from bot.errors import StoreUnavailable
from bot.services.operators import OperatorCheck, Operators
from bot.services.outcomes import DatabaseUnavailable
from bot.store import Store
from bot.store.engine import COMMAND_LOCK_WAIT_S
from bot.store.records import AuditEntry

log = logging.getLogger(__name__)

PAGE_SIZE = 15
NOT_CONFIGURED = OperatorCheck(allowed=False, configured=False, who=())


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """Which entries: of one job (None: every target) since `since_ms`, older than entry `before_id` (None: the
    newest); `page` counts pages shown before (0: the first)."""

    job: str | None
    since_ms: int
    before_id: int | None = None
    page: int = 0


@dataclass(frozen=True)
class AuditShown:
    """One page of the channel's entries, newest first; `has_more` when older ones match too."""

    query: AuditQuery
    entries: Sequence[AuditEntry]
    has_more: bool


@dataclass(frozen=True)
class OperatorsOnly:
    """The user may not read the audit here: the check says who may, or that nobody is configured."""

    check: OperatorCheck


AuditOutcome = AuditShown | OperatorsOnly | DatabaseUnavailable


class AuditService:
    """Reads the audit trail for operators."""

    def __init__(self, *, store: Store, operators: Operators | None, lock_wait_s: float = COMMAND_LOCK_WAIT_S) -> None:
        self._store = store
        self._operators = operators
        self._lock_wait_s = lock_wait_s

    def query(self, command: AuditCommand) -> AuditQuery:
        """The first page of what `/dlf audit` asks for."""
        return AuditQuery(job=command.job, since_ms=max(0, self._store.now() - command.since_s * 1000))

    async def show(self, query: AuditQuery, *, user: str, channel: str) -> AuditOutcome:
        """The page, if `user` is an operator of `channel`."""
        check = await self._operators.check(user=user, channel=channel) if self._operators else NOT_CONFIGURED
        if not check.allowed:
            return OperatorsOnly(check=check)
        # A button's window is the sender's to choose: never further back than `--since` may go.
        since = max(query.since_ms, self._store.now() - AUDIT_SINCE_BOUNDS[1] * 1000)
        try:
            async with self._store.transaction(read_only=True, lock_wait_s=self._lock_wait_s) as tx:
                rows = await tx.audit.query(
                    since=since,
                    target=query.job,
                    channel=channel,
                    before_id=query.before_id,
                    limit=PAGE_SIZE + 1,
                )
        except StoreUnavailable as err:
            log.warning(messages.log_command_store_unavailable("/dlf audit", channel, err))
            return DatabaseUnavailable(kind=err.kind, wait_s=self._lock_wait_s)
        return AuditShown(query=query, entries=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE)


__all__ = ["PAGE_SIZE", "AuditOutcome", "AuditQuery", "AuditService", "AuditShown", "OperatorsOnly"]
