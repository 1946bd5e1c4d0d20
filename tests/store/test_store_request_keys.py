"""Request keys: a key is claimed once across replicas; old keys are forgotten in bounded batches."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import Store
from bot.store.request_keys import KEY_MAX
from bot.store.testing import ManualClock


async def test_a_key_is_claimed_once_and_then_seen(store: Store) -> None:
    async with store.transaction() as tx:
        assert not await tx.request_keys.seen("slack:event:Ev1")
        assert await tx.request_keys.claim("slack:event:Ev1")
    async with store.transaction() as tx:
        assert not await tx.request_keys.claim("slack:event:Ev1")
        assert await tx.request_keys.seen("slack:event:Ev1")
        assert await tx.request_keys.claim("slack:event:Ev2")


async def test_a_claim_rolled_back_is_not_a_claim(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            assert await tx.request_keys.claim("k")
            raise RuntimeError("the unit of work failed")
    async with store.transaction() as tx:
        assert await tx.request_keys.claim("k")


async def test_replicas_racing_for_one_redelivered_event_get_exactly_one_winner(
    store: Store, second_store: Store
) -> None:
    async def claim(on: Store, key: str) -> bool:
        async with on.transaction() as tx:
            return await tx.request_keys.claim(key)

    for key in ("slack:event:EvRace1", "slack:event:EvRace2"):
        results = await asyncio.gather(*(claim(store if i % 2 else second_store, key) for i in range(8)))
        assert results.count(True) == 1


async def test_keys_longer_than_the_column_are_refused_not_cut(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.request_keys.claim("k" * KEY_MAX)
        with pytest.raises(ValueError):
            await tx.request_keys.claim("k" * (KEY_MAX + 1))
        with pytest.raises(ValueError):
            await tx.request_keys.claim("")


async def test_forgetting_old_keys_in_batches_keeps_the_recent_ones(store: Store, clock: ManualClock) -> None:
    for n in range(5):
        async with store.transaction() as tx:
            await tx.request_keys.claim(f"old-{n}")
        clock.advance(1)
    cutoff = clock()
    async with store.transaction() as tx:
        await tx.request_keys.claim("recent")
    async with store.transaction() as tx:
        assert await tx.request_keys.forget_before(cutoff, limit=2) == 2
        # Oldest first.
        assert not await tx.request_keys.seen("old-0") and not await tx.request_keys.seen("old-1")
        assert await tx.request_keys.seen("old-2")
        assert await tx.request_keys.forget_before(cutoff) == 3
        assert await tx.request_keys.seen("recent")
        assert await tx.request_keys.forget_before(cutoff, limit=10) == 0
    async with store.transaction() as tx:
        # A forgotten key can be claimed again (retention keeps far longer than Slack ever redelivers).
        assert await tx.request_keys.claim("old-0")
