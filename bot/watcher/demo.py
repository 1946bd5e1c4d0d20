"""The watcher's part of `dlf-bot demo`: a channel watches a job, the job fails, the alert arrives — and then the
incident in the alert's thread: someone acknowledges it, an operator reruns it from the failed node, the poll cycles
follow the rerun (one progress reply, edited in place) until the job has recovered.

The entry point hands in what stands for the outside world (a DLF client on the sandbox, a Slack client on the
fake Slack, a store on a temporary SQLite file, and a way to make an instance fail on the sandbox's timeline), so
this module imports neither the sandbox nor the fake: they stay Huawei's and Slack's side of the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.model import WatchCommand
from bot.dlf.client import DlfClient
from bot.render.actions import IncidentRef as CardRef
from bot.render.message import Message
from bot.services.incidents import Done, IncidentService, Origin, Target
from bot.services.operators import Operators
from bot.services.subscriptions import Refused, SubscriptionService
from bot.store import Store
from bot.watcher.scheduler import Watcher, WatcherOptions, build_watcher

DEMO_CHANNEL = "C0DEMO"
DEMO_JOB = "job_batch"
DEMO_USER = "U0DEMO"
DEMO_OPERATOR = "U0OPERATOR"
# Poll cycles the demo runs at most while the rerun's nodes finish (the sandbox finishes one node per step).
MAX_FOLLOW_CYCLES = 50


@dataclass(frozen=True, kw_only=True)
class Scene:
    """One moment of the incident: what a person did (`act`, None for the poll cycles' own doing) and the replies
    its thread got since the scene before (a reply edited in place shows as it ended)."""

    act: str | None
    replies: tuple[Message, ...]


@dataclass(frozen=True, kw_only=True)
class WatchDemo:
    """What the demo channel received after the watched job failed."""

    channel: str
    job: str
    instance_id: int
    messages: tuple[Message, ...]
    keys: tuple[str, ...]  # the outbox key each message carries in its metadata
    scenes: tuple[Scene, ...] = field(default=())  # the incident in the alert's thread, after the alert
    card: Message | None = None  # the alert card as it stands at the end (redrawn in place at every change)


async def run_watch_demo(
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    slack: AsyncWebClient,
    fail_instance: Callable[[str], int],
    rerun_succeeds: Callable[[str, int], None] | None = None,
    finish_node: Callable[[], bool] | None = None,
    channel: str = DEMO_CHANNEL,
    job: str = DEMO_JOB,
    mention: str = f"<@{DEMO_USER}>",
) -> WatchDemo:
    """Subscribe `channel` to `job` (as `/dlf watch` does), run a cycle, make an instance of `job` fail
    (`fail_instance(job)` returns its id), run another cycle, deliver, and return what Slack now shows.

    With `rerun_succeeds(job, instance_id)` (the sandbox lets a rerun of it succeed) and `finish_node()` (the
    sandbox finishes the next node; False when nothing is left), the incident goes on in the alert's thread: the
    demo user acknowledges it and an operator reruns it from the failed node — through the incident service, as
    the card's buttons do — and poll cycles follow the rerun until the job has recovered."""
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
        history = await slack.conversations_history(channel=channel, include_all_metadata=True, limit=100)
        posted: list[dict[str, Any]] = list(reversed(history.get("messages") or []))
        scenes: tuple[Scene, ...] = ()
        card: Message | None = None
        if rerun_succeeds is not None and finish_node is not None and posted:
            rerun_succeeds(job, instance_id)
            scenes = await _incident_loop(
                store=store,
                clients=clients,
                slack=slack,
                watcher=watcher,
                card=posted[0],
                channel=channel,
                finish_node=finish_node,
            )
            card = await _message(slack, channel, str(posted[0]["ts"]))
    finally:
        await watcher.stop()
    return WatchDemo(
        channel=channel,
        job=job,
        instance_id=instance_id,
        messages=tuple(_as_message(m) for m in posted),
        keys=tuple(((m.get("metadata") or {}).get("event_payload") or {}).get("key", "") for m in posted),
        scenes=scenes,
        card=card,
    )


async def _incident_loop(
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    slack: AsyncWebClient,
    watcher: Watcher,
    card: dict[str, Any],
    channel: str,
    finish_node: Callable[[], bool],
) -> tuple[Scene, ...]:
    """Acknowledge, rerun from the failed node, follow the rerun to its end: the scenes of the alert's thread."""
    service = IncidentService(store=store, clients=clients, operators=Operators(everywhere=(DEMO_OPERATOR,)))
    key = ((card.get("metadata") or {}).get("event_payload") or {}).get("key", "")
    target = Target(card=CardRef(card=str(key)))
    ts = str(card["ts"])
    seen: set[str] = set()
    scenes: list[Scene] = []

    async def scene(act: str | None) -> None:
        await watcher.drain()
        thread = await _thread(slack, channel, ts)
        new = [m for m in thread if m["ts"] not in seen]
        seen.update(m["ts"] for m in new)
        scenes.append(Scene(act=act, replies=tuple(_as_message(m) for m in new)))

    def origin(user: str) -> Origin:
        return Origin(user=user, channel=channel, team=None, message_ts=ts, via="button")

    acknowledged = await service.acknowledge(target, origin(DEMO_USER))
    _expect_done(acknowledged, "acknowledge")
    await scene("presses Acknowledge on the alert card")
    rerun = await service.rerun(target, origin(DEMO_OPERATOR), retry_location="error_node")
    _expect_done(rerun, "rerun")
    await scene("(an operator) picks Rerun → from the failed node, and confirms in the dialog")
    for _ in range(MAX_FOLLOW_CYCLES):
        await watcher.run_cycle_once()
        await watcher.drain()
        if not finish_node():
            await watcher.run_cycle_once()
            break
    await scene(None)
    return tuple(scenes)


def _expect_done(result: object, action: str) -> None:
    if not isinstance(result, Done):
        raise RuntimeError(f"the demo could not {action} its incident: {result}")


async def _thread(slack: AsyncWebClient, channel: str, ts: str) -> list[dict[str, Any]]:
    """The replies in the thread of `ts` (without the message that starts it), oldest first."""
    answer = await slack.conversations_replies(channel=channel, ts=ts, limit=200)
    return [m for m in answer.get("messages") or [] if m.get("ts") != ts]


async def _message(slack: AsyncWebClient, channel: str, ts: str) -> Message | None:
    """The message `ts` as it stands now (after its updates)."""
    answer = await slack.conversations_replies(channel=channel, ts=ts, limit=1)
    found = [m for m in answer.get("messages") or [] if m.get("ts") == ts]
    return _as_message(found[0]) if found else None


def _as_message(posted: dict[str, Any]) -> Message:
    return Message(text=posted.get("text", ""), blocks=posted.get("blocks") or [])


__all__ = ["DEMO_CHANNEL", "DEMO_JOB", "DEMO_OPERATOR", "Scene", "WatchDemo", "run_watch_demo"]
