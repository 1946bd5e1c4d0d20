"""The watcher's view of a DLF client queues its requests as background work in the shared rate limiter."""

from __future__ import annotations

import asyncio

from dlf_rig import C, credentials_of

from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.dlf.ratelimit import Priority, TokenBucket
from dlf_sandbox import SEEDED


class RecordingBucket(TokenBucket):
    """The real bucket, noting the priority of every request that takes a token."""

    def __init__(self) -> None:
        super().__init__(rate=1000, burst=1000)
        self.asked: list[Priority] = []

    async def acquire(self, priority: Priority = Priority.INTERACTIVE) -> None:
        self.asked.append(priority)
        await super().acquire(priority)


async def test_a_background_view_shares_the_connections_and_the_budget(base_url: str) -> None:
    bucket = RecordingBucket()
    config = DlfConfig(endpoint=base_url, project_id=C.project_id, rate_limit=None)
    async with DlfClient(config=config, credentials=credentials_of("aksk", base_url), limiter=bucket) as client:
        watcher = client.with_priority(Priority.BACKGROUND)
        seed = SEEDED["seed"]
        await asyncio.gather(
            client.get_instance(seed.job, seed.instance_id),
            watcher.get_instance(seed.job, seed.instance_id),
            watcher.list_instances(limit=10),
        )
        await client.job_exists(seed.job)
        # Retries and every operation keep the view's priority; the person's client is untouched by the view.
        assert sorted(bucket.asked) == [Priority.INTERACTIVE] * 2 + [Priority.BACKGROUND] * 2
        assert (client.priority, watcher.priority) == (Priority.INTERACTIVE, Priority.BACKGROUND)
        assert watcher.stats is client.stats  # one session: one connection pool, one rate limit
