"""A client-side token bucket that keeps the bot below DLF's per-user limit (30 requests/s for the APIs it uses)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEFAULT_RATE = 20.0
DEFAULT_BURST = 5


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `acquire()` waits for one.

    The clock and the sleep are injected so tests can drive time by hand. Waiters are served in arrival order
    (the lock is held while one waits), so no caller starves.
    """

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()
        self.waits = 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    async def acquire(self) -> None:
        """Take one token, sleeping until one is there."""
        async with self._lock:
            self._refill()
            # Take the token on credit and sleep off the debt once: a loop re-checking a float clock could spin.
            self._tokens -= 1
            if self._tokens < 0:
                self.waits += 1
                await self._sleep(-self._tokens / self._rate)


class NoRateLimit:
    """Stands in for a bucket when rate limiting is switched off (e.g. a benchmark of the sandbox itself)."""

    waits = 0

    async def acquire(self) -> None:
        """Return at once."""
