"""A client-side token bucket that keeps the bot below DLF's per-user limit (30 requests/s for the APIs it uses), and
lets a person's request go ahead of background work.

Interactive commands and the watcher share one budget (one DLF user). When requests wait for a token, an
`INTERACTIVE` one is served before every `BACKGROUND` one, so a `/dlf instance` during an alert storm waits for the
next token, not behind hundreds of details fetches. So that a crowd of people cannot stop the watcher either, a
background request waiting is served at least once every `background_every` tokens. Either way the total stays
within `rate` per second (plus the `burst` saved up).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Awaitable, Callable

DEFAULT_RATE = 20.0
DEFAULT_BURST = 5
# While both kinds wait, one token in this many goes to background work (the watcher keeps a fifth of the budget).
DEFAULT_BACKGROUND_EVERY = 5
# A token counts as whole this close to 1: sleeping off a float remainder of 1e-17 s would not move the clock at all.
_WHOLE = 1 - 1e-9


class Priority(enum.IntEnum):
    """Who a DLF request is for: a person waiting in Slack, or the watcher."""

    INTERACTIVE = 0
    BACKGROUND = 1


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `acquire(priority)` waits for one.

    Waiters of one priority are served in arrival order. The clock and the sleep are injected so tests can drive
    time by hand.
    """

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        background_every: int = DEFAULT_BACKGROUND_EVERY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if background_every < 1:
            raise ValueError("background_every must be at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._background_every = background_every
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._queues: dict[Priority, deque[asyncio.Future[None]]] = {p: deque() for p in Priority}
        self._interactive_in_a_row = 0
        self._pump: asyncio.Task[None] | None = None
        self.waits = 0
        self.waits_by_priority: dict[Priority, int] = dict.fromkeys(Priority, 0)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def _waiting(self, priority: Priority) -> bool:
        queue = self._queues[priority]
        while queue and queue[0].done():  # a caller that gave up (cancelled) is skipped
            queue.popleft()
        return bool(queue)

    async def acquire(self, priority: Priority = Priority.INTERACTIVE) -> None:
        """Take one token, waiting (behind earlier requests of the same or a higher priority) until there is one."""
        self._refill()
        ahead = self._waiting(Priority.INTERACTIVE) or (
            priority is Priority.BACKGROUND and self._waiting(Priority.BACKGROUND)
        )
        if not ahead and self._tokens >= _WHOLE:
            self._tokens -= 1
            return
        self.waits += 1
        self.waits_by_priority[priority] += 1
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues[priority].append(granted)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._serve())
        await granted

    async def _serve(self) -> None:
        """Hand out tokens to the waiters as they come in, by priority, until no one waits."""
        while self._waiting(Priority.INTERACTIVE) or self._waiting(Priority.BACKGROUND):
            self._refill()
            if self._tokens < _WHOLE:
                await self._sleep((1 - self._tokens) / self._rate)
                continue
            self._tokens -= 1
            self._next_waiter().set_result(None)

    def _next_waiter(self) -> asyncio.Future[None]:
        interactive, background = self._waiting(Priority.INTERACTIVE), self._waiting(Priority.BACKGROUND)
        if interactive and background and self._interactive_in_a_row < self._background_every - 1:
            self._interactive_in_a_row += 1
            return self._queues[Priority.INTERACTIVE].popleft()
        # Only one kind waits, or background work's turn has come: the count of people served in a row starts over.
        self._interactive_in_a_row = 0
        return self._queues[Priority.INTERACTIVE if interactive and not background else Priority.BACKGROUND].popleft()


class NoRateLimit:
    """Stands in for a bucket when rate limiting is switched off (e.g. a benchmark of the sandbox itself)."""

    waits = 0

    async def acquire(self, priority: Priority = Priority.INTERACTIVE) -> None:
        """Return at once."""


__all__ = ["DEFAULT_BURST", "DEFAULT_RATE", "NoRateLimit", "Priority", "TokenBucket"]
