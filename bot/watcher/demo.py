"""The watcher's part of `dlf-bot demo`: a channel watches a job, the job fails, the alert arrives.

The entry point hands in what stands for the outside world (a DLF client on the sandbox, a Slack client on the
fake Slack, a store on a temporary SQLite file, and a way to make an instance fail on the sandbox's timeline), so
this module imports neither the sandbox nor the fake: they stay Huawei's and Slack's side of the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.model import WatchCommand
from bot.dlf.client import DlfClient
from bot.render.message import Message
from bot.services.subscriptions import Refused, SubscriptionService
from bot.store import Store
from bot.watcher.scheduler import WatcherOptions, build_watcher

DEMO_CHANNEL = "C0DEMO"
DEMO_JOB = "job_batch"
DEMO_USER = "U0DEMO"


@dataclass(frozen=True, kw_only=True)
class WatchDemo:
    """What the demo channel received after the watched job failed."""

    channel: str
    job: str
    instance_id: int
    messages: tuple[Message, ...]
    keys: tuple[str, ...]  # the outbox key each message carries in its metadata


async def run_watch_demo(
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    slack: AsyncWebClient,
    fail_instance: Callable[[str], int],
    channel: str = DEMO_CHANNEL,
    job: str = DEMO_JOB,
    mention: str = f"<@{DEMO_USER}>",
) -> WatchDemo:
    """Subscribe `channel` to `job` (as `/dlf watch` does), run a cycle, make an instance of `job` fail
    (`fail_instance(job)` returns its id), run another cycle, deliver, and return what Slack now shows."""
    service = SubscriptionService(store=store, clients=clients)
    watched = await service.watch(WatchCommand(target=job, mention=mention), channel_id=channel, user_id=DEMO_USER)
    match watched:
        case Refused():
            raise RuntimeError(f"the demo could not watch {job!r}: {watched}")
    watcher = build_watcher(store=store, clients=clients, slack=slack, options=WatcherOptions(pace_s=0.0))
    try:
        await watcher.run_cycle_once()
        await watcher.drain()
        instance_id = fail_instance(job)
        await watcher.run_cycle_once()
        await watcher.drain()
    finally:
        await watcher.stop()
    history = await slack.conversations_history(channel=channel, include_all_metadata=True, limit=100)
    posted: list[dict[str, Any]] = list(reversed(history.get("messages") or []))
    return WatchDemo(
        channel=channel,
        job=job,
        instance_id=instance_id,
        messages=tuple(Message(text=m.get("text", ""), blocks=m.get("blocks") or []) for m in posted),
        keys=tuple(((m.get("metadata") or {}).get("event_payload") or {}).get("key", "") for m in posted),
    )


__all__ = ["DEMO_CHANNEL", "DEMO_JOB", "WatchDemo", "run_watch_demo"]
