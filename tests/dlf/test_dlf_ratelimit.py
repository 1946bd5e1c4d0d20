"""The client-side token bucket, driven by a hand-moved clock (no wall-clock assertions)."""

from __future__ import annotations

import asyncio

import pytest

from bot.dlf.ratelimit import Priority, TokenBucket


class ManualClock:
    """A clock that only moves when the bucket sleeps. Like a real sleep, sleeping lets the other tasks run first
    (those a token was just given to see the time they got it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)
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


@pytest.mark.parametrize(("rate", "burst", "every"), [(0, 1, 5), (-1, 1, 5), (1, 0, 5), (1, 1, 0)])
def test_nonsense_settings_are_refused(rate, burst, every):
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, burst=burst, background_every=every)


class Recorder:
    """Callers of one bucket, recording in which order (and at which manual time) they got their token."""

    def __init__(self, bucket: TokenBucket, clock: ManualClock) -> None:
        self.bucket, self.clock = bucket, clock
        self.order: list[str] = []
        self.times: list[float] = []
        self.asked_at: dict[str, int] = {}  # how many had been served when each caller asked

    async def call(self, name: str, priority: Priority) -> None:
        self.asked_at[name] = len(self.order)
        await self.bucket.acquire(priority)
        self.order.append(name)
        self.times.append(self.clock.now)

    def start(self, name: str, priority: Priority) -> asyncio.Task[None]:
        return asyncio.create_task(self.call(name, priority))


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_a_person_goes_ahead_of_every_queued_background_request():
    clock = ManualClock()
    bucket = TokenBucket(rate=20, burst=5, clock=clock, sleep=clock.sleep)
    calls = Recorder(bucket, clock)
    # The watcher queues 100 details fetches at once (a storm)...
    storm = [calls.start(f"bg{n}", Priority.BACKGROUND) for n in range(100)]
    await _until(lambda: len(calls.order) >= 10)
    # ... and a person asks for a card while about 90 of them still wait: theirs is the next request to go (one
    # given its token a moment before may still be on its way).
    person = calls.start("person", Priority.INTERACTIVE)
    await asyncio.gather(person, *storm)
    assert calls.asked_at["person"] < 20
    assert calls.order.index("person") <= calls.asked_at["person"] + 1
    assert [name for name in calls.order if name != "person"] == [f"bg{n}" for n in range(100)]  # FIFO
    assert bucket.waits_by_priority[Priority.INTERACTIVE] <= 1


async def test_the_total_never_exceeds_the_rate_whoever_asks():
    clock = ManualClock()
    bucket = TokenBucket(rate=20, burst=5, clock=clock, sleep=clock.sleep)
    calls = Recorder(bucket, clock)
    tasks = [calls.start(f"r{n}", Priority(n % 3 == 0)) for n in range(205)]
    await asyncio.gather(*tasks)
    assert len(calls.times) == 205
    # In any window of one second at most burst + rate requests went out; 200 beyond the burst take 10 s.
    assert max(sum(1 for t in calls.times if start <= t < start + 1.0) for start in calls.times) <= 25
    assert clock.now == pytest.approx(10.0)


async def test_a_crowd_of_people_cannot_stop_background_work():
    clock = ManualClock()
    bucket = TokenBucket(rate=10, burst=1, background_every=5, clock=clock, sleep=clock.sleep)
    calls = Recorder(bucket, clock)
    await bucket.acquire()  # the burst is spent: everyone below waits
    background = [calls.start(f"bg{n}", Priority.BACKGROUND) for n in range(4)]
    people = [calls.start(f"p{n}", Priority.INTERACTIVE) for n in range(40)]
    await asyncio.gather(*background, *people)
    # While both wait, every fifth token goes to background work; people get the other four.
    positions = [calls.order.index(f"bg{n}") for n in range(4)]
    assert positions == [4, 9, 14, 19]
    assert [name for name in calls.order if name.startswith("p")] == [f"p{n}" for n in range(40)]


async def test_a_caller_that_gives_up_does_not_take_a_token():
    clock = ManualClock()
    bucket = TokenBucket(rate=10, burst=1, clock=clock, sleep=clock.sleep)
    calls = Recorder(bucket, clock)
    await bucket.acquire()
    gone = calls.start("gone", Priority.INTERACTIVE)
    await asyncio.sleep(0)
    gone.cancel()
    waiting = calls.start("waiting", Priority.BACKGROUND)
    await waiting
    assert calls.order == ["waiting"]
    assert clock.now == pytest.approx(0.1)  # the token the cancelled caller would have had went to the next one
