"""The client-side token bucket, driven by a hand-moved clock (no wall-clock assertions)."""

from __future__ import annotations

import asyncio

import pytest

from bot.dlf.ratelimit import TokenBucket


class ManualClock:
    """A clock that only moves when the bucket sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_burst_then_steady_rate():
    clock = ManualClock()
    bucket = TokenBucket(rate=20, burst=5, clock=clock, sleep=clock.sleep)
    for _ in range(25):
        await bucket.acquire()
    # 5 come from the burst at once, the other 20 at 20 per second.
    assert clock.now == pytest.approx(1.0)
    assert clock.slept[:1] == [pytest.approx(0.05)]


async def test_no_wait_within_burst():
    clock = ManualClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await bucket.acquire()
    assert clock.slept == [] and bucket.waits == 0


async def test_idle_time_refills_up_to_burst_only():
    clock = ManualClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock, sleep=clock.sleep)
    await bucket.acquire()
    await bucket.acquire()
    clock.now += 100  # a long idle period saves up at most `burst` tokens
    for _ in range(3):
        await bucket.acquire()
    assert clock.slept == [pytest.approx(0.1)]


async def test_concurrent_callers_never_exceed_the_rate():
    clock = ManualClock()
    bucket = TokenBucket(rate=30, burst=1, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        times.append(clock.now)

    await asyncio.gather(*(one() for _ in range(61)))
    assert len(times) == 61
    # In any window of one second at most burst + rate requests went out.
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 31
    assert clock.now == pytest.approx(2.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_settings_are_refused(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, burst=burst)
