"""The watcher rig: DLF sandbox and fake Slack on loopback, a real SQLite file (or PostgreSQL), the real watcher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.store import Store, Subscription
from bot.watcher.outbox import REQUEUE_ON_REPAIR
from bot.watcher.poller import CycleReport, PollOptions
from bot.watcher.scheduler import Watcher, WatcherOptions, build_watcher
from dlf_sandbox import ANALYTICS_WORKSPACE_ID, SANDBOX_CREDENTIALS, ManualClock, Sandbox
from slack_fake import FakeSlack

TOKEN = "xoxb-watcher-test"
JOB_NODES = [("extract", "DLIScript"), ("transform", "DLISQL"), ("load", "DWSSQL")]


def dlf_client(
    base_url: str,
    *,
    workspace: str | None = None,
    rate_limit: float | None = 20.0,
    client_class: type[DlfClient] = DlfClient,
) -> DlfClient:
    """A real client on the sandbox, AK/SK-signed, quick to give up (tests must not sit in backoff)."""
    config = DlfConfig(
        endpoint=base_url,
        project_id=SANDBOX_CREDENTIALS.project_id,
        workspace=workspace,
        max_retries=1,
        backoff_base=0.01,
        backoff_cap=0.05,
        max_retry_after=0.05,
        rate_limit=rate_limit,
        rate_burst=50,
    )
    credentials = AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SANDBOX_CREDENTIALS.sk)
    return client_class(config=config, credentials=credentials)


def slack_client(base_url: str) -> AsyncWebClient:
    """A Web API client on the fake Slack, without slack_sdk's own retries: the outbox is what must cope."""
    return AsyncWebClient(token=TOKEN, base_url=base_url, retry_handlers=[])


@dataclass
class Rig:
    """Everything one scenario needs, wired the way `dlf-bot run` wires it."""

    sandbox: Sandbox
    slack: FakeSlack
    store: Store
    watcher: Watcher
    dlf_url: str
    slack_url: str
    clock: ManualClock | None = None  # the store's (and so the watcher's) clock, when the test moves it by hand

    def advance(self, ms: int) -> None:
        """Move the store's manual clock (`clocked_rig`); DLF's side keeps real time (its signatures are dated)."""
        assert self.clock is not None, "a rig with a manual clock (clocked_rig)"
        self.clock.advance(ms)

    async def subscribe(self, channel: str, target: str, **options: Any) -> Subscription:
        """Subscribe as `/dlf watch` does (the store's idempotent subscribe)."""
        options.setdefault("profile", "default")
        options.setdefault("requeue_on_repair", REQUEUE_ON_REPAIR)
        async with self.store.transaction() as tx:
            subscription, _ = await tx.subscriptions.subscribe(
                channel=channel, target=target, created_by="U_TEST", **options
            )
        return subscription

    def add_job(self, name: str, workspace: str | None = None) -> None:
        self.sandbox.state.add_job(name, workspace, nodes=JOB_NODES)

    def fail(self, job: str, *, failed_node: str | None = "load", workspace: str | None = None) -> int:
        """Script an instance of `job` that appears, runs and fails (now), on the sandbox timeline; its id."""
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - 60_000, status="running", workspace=workspace)
        self.sandbox.timeline.fail(job, iid, at=now - 1_000, failed_node=failed_node, workspace=workspace)
        self.sandbox.timeline.step_until(now)
        return iid

    def succeed(self, job: str, *, workspace: str | None = None) -> int:
        """Script an instance of `job` that runs and succeeds (now)."""
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - 30_000, status="running", workspace=workspace)
        self.sandbox.timeline.succeed(job, iid, at=now - 500, workspace=workspace)
        self.sandbox.timeline.step_until(now)
        return iid

    async def cycle(self) -> list[CycleReport]:
        """One poll cycle, then deliver until nothing more is due."""
        reports = await self.watcher.run_cycle_once()
        await self.watcher.drain()
        return reports

    async def replace_watcher(self, **options: Any) -> None:
        """Stop this watcher and build another on the same store (other options, or a restart)."""
        await self.close_watcher()
        self.watcher = build_rig_watcher(self.store, self.dlf_url, self.slack_url, **options)

    async def close_watcher(self) -> None:
        await self.watcher.stop()
        for poller in self.watcher.pollers:
            await poller.client.aclose()

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """chat.postMessage calls Slack accepted (to `channel`, or any)."""
        return [
            call.params
            for call in self.slack.calls_to("chat.postMessage")
            if call.outcome == "ok" and (channel is None or call.params.get("channel") == channel)
        ]

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        """Messages at the top level of `channel` (not thread replies)."""
        return [m for m in self.slack.channel_messages(channel) if m.get("thread_ts") in (None, m["ts"])]


def build_rig_watcher(store: Store, dlf_url: str, slack_url: str, **options: Any) -> Watcher:
    """The watcher over two profiles: "default" (default workspace) and "analytics" (another workspace)."""
    poll_options = {k: options.pop(k) for k in ("escalate_after_ms", "rerun_start_wait_ms") if k in options}
    poll = PollOptions(digest_threshold=options.pop("digest_threshold", 5), **poll_options)
    clients = {
        "default": dlf_client(dlf_url),
        "analytics": dlf_client(dlf_url, workspace=ANALYTICS_WORKSPACE_ID),
    }
    return build_watcher(
        store=store,
        clients=clients,
        slack=slack_client(slack_url),
        options=WatcherOptions(pace_s=0.0, poll=poll, **options),
    )


def blocks_text(message: dict[str, Any]) -> str:
    """Every text of a message's blocks, joined (what a reader sees on the card)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    blocks = message.get("blocks") or []
    walk(json.loads(blocks) if isinstance(blocks, str) else blocks)
    return "\n".join(found)


def metadata_of(message: dict[str, Any]) -> dict[str, Any]:
    """The event payload of a message's metadata (as posted or as stored by the fake)."""
    metadata = message.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return metadata.get("event_payload") or {}


def alert_keys(messages: list[dict[str, Any]]) -> list[str]:
    """The outbox keys the messages carry in their metadata."""
    return [metadata_of(m).get("key", "") for m in messages]
