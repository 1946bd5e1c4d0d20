"""Retention as `dlf-bot run` schedules it: only the poll lease holder prunes, and the rows pruned are counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry
from watcher_rig import dlf_client, slack_client

from bot.store import Store
from bot.store.testing import ManualClock
from bot.watcher.poller import PollOptions
from bot.watcher.retention import Retention, RetentionMetrics, RetentionOptions
from bot.watcher.scheduler import Watcher, WatcherOptions, build_watcher
from dlf_sandbox import Sandbox
from slack_fake import FakeSlack

DAY_S = 86_400


@dataclass
class Replica:
    watcher: Watcher
    registry: CollectorRegistry

    def pruned(self, table: str) -> float:
        value = self.registry.get_sample_value("dlf_bot_retention_pruned_rows_total", {"table": table})
        return value or 0.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url"))


@pytest.fixture
async def replicas(any_database: str) -> AsyncIterator[tuple[Store, ManualClock, list[Replica]]]:
    clock = ManualClock()
    store = await Store.open(any_database, clock=clock)
    sandbox = Sandbox(seed=False)
    async with sandbox.serve() as dlf_url, FakeSlack().serve() as slack_url:
        made: list[Replica] = []
        for n in range(2):
            registry = CollectorRegistry()
            watcher = build_watcher(
                store=store,
                clients={"default": dlf_client(dlf_url)},
                slack=slack_client(slack_url),
                options=WatcherOptions(pace_s=0.0, poll=PollOptions()),
                holder=f"replica-{n}",
                retention=Retention(
                    store=store,
                    options=RetentionOptions(days=30, interval_s=0.2),
                    metrics=RetentionMetrics(registry=registry),
                ),
            )
            made.append(Replica(watcher=watcher, registry=registry))
        try:
            yield store, clock, made
        finally:
            for replica in made:
                await replica.watcher.stop()
                for poller in replica.watcher.pollers:
                    await poller.client.aclose()
            await store.aclose()


async def _old_history(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        incident, _ = await tx.incidents.open_or_get(
            channel="C1", profile="default", job_name="job_a", instance_id=1, root_key="card"
        )
        await tx.incidents.resolve(incident.id, by=None, reason="later success")
        await tx.audit.record(actor="U1", action="watch")
    clock.advance(31 * DAY_S)


async def test_only_the_poll_lease_holder_prunes_and_the_rows_are_counted(
    replicas: tuple[Store, ManualClock, list[Replica]],
) -> None:
    store, clock, (first, second) = replicas
    await _old_history(store, clock)
    await first.watcher.run_cycle_once()  # first takes the poll lease

    assert await second.watcher.run_retention_once() is None
    async with store.transaction(read_only=True) as tx:
        assert len(await tx.audit.recent()) == 1

    pruned = await first.watcher.run_retention_once()
    assert pruned is not None and (pruned["incidents"], pruned["audit"]) == (1, 1)
    assert (first.pruned("incidents"), first.pruned("audit"), first.pruned("outbox")) == (1.0, 1.0, 0.0)
    assert second.pruned("incidents") == 0.0
    assert first.registry.get_sample_value("dlf_bot_retention_runs_total", {"outcome": "ok"}) == 1.0


async def test_the_scheduler_runs_retention_on_its_own(replicas: tuple[Store, ManualClock, list[Replica]]) -> None:
    store, clock, (replica, _) = replicas
    await _old_history(store, clock)
    replica.watcher.start()  # the first poll cycle at once (it takes the lease), retention every 0.2 s
    for _ in range(200):
        if replica.pruned("audit") == 1.0:
            break
        await asyncio.sleep(0.05)
    assert replica.pruned("audit") == 1.0 and replica.pruned("incidents") == 1.0
    async with store.transaction(read_only=True) as tx:
        assert await tx.audit.recent() == []
