"""A database outage seen by one of the watcher's loops, said once when it starts (WARNING, the reason) and once
when it ends (INFO, how long it lasted) instead of once per tick."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.errors import StoreUnavailable

log = logging.getLogger("bot.watcher.scheduler")


class StoreOutage:
    """For one job: logs a database outage once when it starts (WARNING, the reason) and once when it ends (INFO,
    how long it lasted)."""

    def __init__(self, what: str, clock: Callable[[], int]) -> None:
        self._what = what
        self._clock = clock
        self.since_ms: int | None = None

    def failed(self, error: StoreUnavailable) -> None:
        """A run of the job could not use the database."""
        if self.since_ms is None:
            self.since_ms = self._clock()
            log.warning(
                "watcher: %s failed, the database is not available (%s); each tick tries again", self._what, error
            )

    def answered(self) -> None:
        """A run of the job used the database."""
        if self.since_ms is not None:
            log.info(
                "watcher: %s works again, after %.0f s without the database",
                self._what,
                (self._clock() - self.since_ms) / 1000,
            )
            self.since_ms = None
