"""The poll-cycle lease: one holder at a time, taken over only after it expires."""

from __future__ import annotations

import asyncio

from bot.store import Store
from bot.store.testing import ManualClock


async def test_only_one_holder_at_a_time_until_the_lease_expires(store: Store, clock: ManualClock) -> None:
    assert await store.try_acquire_lease("poll", "replica-a", ttl=30)
    assert not await store.try_acquire_lease("poll", "replica-b", ttl=30)
    assert await store.try_acquire_lease("poll", "replica-a", ttl=30)  # the holder may extend it

    clock.advance(29)
    assert not await store.try_acquire_lease("poll", "replica-b", ttl=30)
    clock.advance(2)
    assert await store.try_acquire_lease("poll", "replica-b", ttl=30)
    assert not await store.renew_lease("poll", "replica-a", ttl=30)  # a lost lease cannot be renewed


async def test_renewing_keeps_the_lease_and_releasing_frees_it(store: Store, clock: ManualClock) -> None:
    assert await store.try_acquire_lease("poll", "replica-a", ttl=10)
    clock.advance(8)
    assert await store.renew_lease("poll", "replica-a", ttl=10)
    clock.advance(8)
    assert not await store.try_acquire_lease("poll", "replica-b", ttl=10)

    await store.release_lease("poll", "replica-b")  # not the holder: nothing happens
    assert not await store.try_acquire_lease("poll", "replica-b", ttl=10)
    await store.release_lease("poll", "replica-a")
    assert await store.try_acquire_lease("poll", "replica-b", ttl=10)


async def test_leases_of_different_names_are_independent(store: Store) -> None:
    assert await store.try_acquire_lease("poll:default", "a", ttl=10)
    assert await store.try_acquire_lease("poll:other", "b", ttl=10)


async def test_contenders_racing_from_two_replicas_get_exactly_one_winner(
    store: Store, second_store: Store, clock: ManualClock
) -> None:
    async def contend(on: Store, holder: str) -> bool:
        return await on.try_acquire_lease("poll", holder, ttl=30)

    # Fresh lease (INSERT race), then an expired one (UPDATE race).
    for _round in range(2):
        results = await asyncio.gather(
            *(contend(store if i % 2 else second_store, f"replica-{_round}-{i}") for i in range(8))
        )
        assert results.count(True) == 1
        clock.advance(31)
