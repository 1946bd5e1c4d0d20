"""A replica's heartbeat: the lease `replica:<holder>`, renewed every few seconds, and the fence it gives the deliverer.

Other replicas (and this process's successor after a crash) take over the poll lease and the outbox claims of a
holder whose heartbeat lease has lapsed, at once instead of after those leases' own TTLs. For that to be safe, a
replica must have stopped sending before its heartbeat can be seen lapsed: `may_send()` is False once the last
successful renewal began more than `Liveness.fence_s` ago, or once a renewal found the lease had lapsed (someone may
have taken over what this replica claimed before: `generation` moves on and every claim taken earlier is abandoned).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.errors import StoreUnavailable
from bot.store import Store
from bot.store.leases import replica_lease
from bot.watcher.outbox import Liveness

log = logging.getLogger(__name__)

# Replicas gone this long lose their heartbeat rows (every start is a new holder).
FORGET_DEAD_AFTER_S = 24 * 3600.0
FORGET_EVERY_S = 3600.0


class Heartbeat:
    """Renews `holder`'s heartbeat lease and says whether this replica may still start a Slack call."""

    def __init__(
        self,
        *,
        store: Store,
        holder: str,
        liveness: Liveness | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.holder = holder
        self.liveness = liveness or Liveness()
        self._clock = clock
        self._started = False
        self._last_renewed: float | None = None
        self.generation = 0
        self._failing_since: float | None = None

    @property
    def started(self) -> bool:
        """True once a renewal was attempted: from then on the lease may exist and others judge this replica by it."""
        return self._started

    @property
    def last_renewed(self) -> float | None:
        """When (this clock) the last successful renewal began; None before the first."""
        return self._last_renewed

    async def beat(self) -> bool:
        """Renew the lease once. True if it ran on without a gap; False if it had lapsed (or never existed) — then
        `generation` moves on when this replica had been alive before, so older claims are abandoned."""
        self._started = True
        began = self._clock()
        continuous = await self.store.heartbeat(self.holder, self.liveness.ttl_s)
        ended = self._clock()
        previous = self._last_renewed
        # The renewal must have been committed before anyone could see the previous one lapse (allowing for skew).
        in_time = previous is None or ended < previous + self.liveness.ttl_s - self.liveness.margin_s
        if previous is not None and not (continuous and in_time):
            self.generation += 1
            log.warning(
                "heartbeat of %s lapsed (%.1f s since the last renewal): claims taken before are abandoned",
                self.holder,
                ended - previous,
            )
        self._last_renewed = began
        return continuous

    def may_send(self, generation: int | None = None) -> bool:
        """Whether a Slack call may start now: always before the heartbeat starts (nobody can take over a holder
        without a heartbeat lease but by the claim TTL); afterwards only while the last successful renewal is fresh
        and, for a claim taken in `generation`, no lapse has happened since."""
        if not self._started:
            return True
        if self._last_renewed is None or self._clock() - self._last_renewed >= self.liveness.fence_s:
            return False
        return generation is None or generation == self.generation

    async def run(self, stop: asyncio.Event) -> None:
        """Renew every `renew_every_s` until `stop` is set. A failing renewal is logged (once per streak) and retried;
        meanwhile `may_send()` turns False when the fence closes."""
        next_forget = self._clock()
        while not stop.is_set():
            try:
                await self.beat()
                if self._failing_since is not None:
                    log.info("heartbeat of %s renewed again", self.holder)
                    self._failing_since = None
                if self._clock() >= next_forget:
                    next_forget = self._clock() + FORGET_EVERY_S
                    await self.store.forget_dead_replicas(older_than=FORGET_DEAD_AFTER_S)
            except Exception as exc:
                if self._failing_since is None:
                    self._failing_since = self._clock()
                    # The database not answering is said in a line; anything else with its traceback.
                    log.warning(
                        "heartbeat of %s failed (%s); sending stops %.0f s after the last renewal until it works",
                        self.holder,
                        exc,
                        self.liveness.fence_s,
                        exc_info=not isinstance(exc, StoreUnavailable),
                    )
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.liveness.renew_every_s)
            except TimeoutError:
                pass

    async def release(self) -> None:
        """Delete the lease (a clean stop with nothing in flight): nothing is left to take over."""
        try:
            await self.store.release_lease(replica_lease(self.holder), self.holder)
        except Exception:
            log.warning("could not release the heartbeat of %s; it lapses by itself", self.holder, exc_info=True)


__all__ = ["Heartbeat"]
