"""The incident rig: the real watcher raises an incident (a failed sandbox instance → an alert card in the fake
Slack), and the real Bolt app, over signed HTTP, acts on it — both on one SQLite file (or PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from botwire import CHANNEL, BotUnderTest, dlf_client, running_bot
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.render.actions import IncidentRef, encode_incident_ref
from bot.render.limits import problems
from bot.services.operators import Operators
from bot.store import Store
from bot.store.records import AuditEntry, Incident
from bot.store.tables import audit, outbox
from bot.watcher.poller import PollOptions
from bot.watcher.scheduler import Watcher, WatcherOptions, build_watcher
from dlf_sandbox import Sandbox
from slack_fake import TEAM_ID, FakeSlack

OPERATOR = "U0OPS"
ALICE = "U0ALICE"
BOB = "U0BOB"
JOB = "job_batch"
NODES = [("extract", "DLIScript"), ("transform", "DLISQL"), ("load", "DWSSQL")]


@dataclass
class _Sandboxed:
    sandbox: Sandbox
    url: str


@dataclass
class IncidentRig:
    """Sandbox, fake Slack, store, watcher and bot, with helpers that speak Slack's wire format."""

    sandbox: Sandbox
    slack: FakeSlack
    store: Store
    watcher: Watcher
    bot: BotUnderTest

    # ------------------------------------------------------------------ the incident
    async def alert(self, job: str = JOB, channel: str = CHANNEL, *, failed_node: str = "load") -> dict[str, Any]:
        """Watch `job` in `channel`, fail an instance of it on the sandbox, run a poll cycle: the alert card."""
        if job not in {j.name for j in self.sandbox.state.jobs()}:
            self.sandbox.state.add_job(job, None, nodes=NODES)
        async with self.store.transaction() as tx:
            await tx.subscriptions.subscribe(
                channel=channel, profile="default", target=job, created_by=ALICE, team=TEAM_ID
            )
        self.fail(job, failed_node=failed_node)
        await self.cycle()
        return self.card(channel, job)

    def fail(self, job: str = JOB, *, failed_node: str = "load") -> int:
        """An instance of `job` that appears, runs and fails (now), on the sandbox timeline; its id."""
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - 60_000, status="running")
        self.sandbox.timeline.fail(job, iid, at=now - 1_000, failed_node=failed_node)
        self.sandbox.timeline.step_until(now)
        return iid

    async def cycle(self) -> None:
        await self.watcher.run_cycle_once()
        await self.watcher.drain()

    def card(self, channel: str = CHANNEL, job: str = JOB) -> dict[str, Any]:
        """The incident card of `job` (a top-level message of the channel), as Slack shows it now."""
        (card,) = [
            m
            for m in self.slack.channel_messages(channel)
            if m.get("thread_ts") in (None, m["ts"])
            and ((m.get("metadata") or {}).get("event_payload") or {}).get("job") == job
        ]
        return card

    def replies(self, card: dict[str, Any], channel: str = CHANNEL) -> list[str]:
        """The texts of the replies in the card's thread, in order."""
        return [m["text"] for m in self.slack.thread(channel, card["ts"]) if m["ts"] != card["ts"]]

    async def incident(self) -> Incident:
        async with self.store.transaction(read_only=True) as tx:
            found = await tx.incidents.in_channels([CHANNEL], unresolved_only=False)
            (incident,) = [i for i in found if i.job_name == JOB]
            return incident

    async def audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        async with self.store.transaction(read_only=True) as tx:
            return list(reversed(await tx.audit.recent(200)))

    # ------------------------------------------------------------------ Slack's requests
    async def click(
        self,
        card: dict[str, Any],
        action_id: str,
        *,
        user: str = ALICE,
        choice: str | None = None,
        value: str | None = None,
        team: str = TEAM_ID,
        channel: str = CHANNEL,
        message_ts: str | None = None,
        home: bool = False,
    ) -> str:
        """Press `action_id` on `card` (a button, or the menu option `choice`) as `user`; returns the response id.

        The value is the card's own unless `value` forges one."""
        response_id = uuid.uuid4().hex[:10]
        value = value if value is not None else card_value(card, action_id, choice)
        element: dict[str, Any] = {"action_id": action_id, "block_id": "b1", "action_ts": "1700000001.000000"}
        if choice is not None:
            element |= {
                "type": "static_select",
                "selected_option": {"value": value, "text": {"type": "plain_text", "text": choice}},
            }
        else:
            element |= {"type": "button", "value": value, "text": {"type": "plain_text", "text": "x"}}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": "A0DLFBOT",
            "token": "legacy-verification-token",
            "team": {"id": team, "domain": "fake"},
            "trigger_id": f"trigger.{response_id}",
            "actions": [element],
        }
        if home:
            payload["container"] = {"type": "view", "view_id": "V0HOME"}
            payload["view"] = {"id": "V0HOME", "type": "home"}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts or card["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": "data"}
            payload["message"] = card
            payload["response_url"] = self.slack.response_url(response_id)
        await self.post_payload(payload)
        return response_id

    async def submit(self, opened: dict[str, Any], *, user: str = OPERATOR, team: str = TEAM_ID) -> httpx.Response:
        """Submit a dialog the bot opened (an entry of the fake's `opened_views`)."""
        view = opened["view"]
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": "A0DLFBOT",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger.{uuid.uuid4().hex[:8]}",
            "view": {**view, "id": opened["id"], "state": {"values": {}}, "hash": "1.abc"},
        }
        return await self.post_payload(payload)

    async def post_payload(self, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST an interaction payload, signed now (or with `headers` signed before: a replay of that request)."""
        body = urlencode({"payload": json.dumps(payload)})
        answer = await self.bot.http.post(
            f"{self.bot.url}/slack/events", content=body, headers=headers or self.bot.signed_headers(body)
        )
        assert answer.status_code == 200, answer.text
        return answer

    async def mention(
        self,
        text: str,
        *,
        thread_ts: str | None,
        user: str = ALICE,
        channel: str = CHANNEL,
        event_id: str | None = None,
    ) -> str:
        """`@dlf <text>` said in the thread of `thread_ts` (None: at the top of the channel); returns its event id."""
        event_id = event_id or f"Ev{uuid.uuid4().hex[:16].upper()}"
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": f"<@U0FAKEBOT> {text}",
            "ts": f"{time.time():.6f}",
            "channel": channel,
            "team": TEAM_ID,
            "event_ts": f"{time.time():.6f}",
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        answer = await self.bot.event(event, event_id=event_id)
        assert answer.status_code == 200
        return event_id

    # ------------------------------------------------------------------ waiting for the bot
    async def outbox_rows(self) -> int:
        async with self.store.transaction(read_only=True) as tx:
            return int((await tx.conn.execute(select(func.count()).select_from(outbox))).scalar_one())

    async def audit_rows(self) -> int:
        async with self.store.transaction(read_only=True) as tx:
            return int((await tx.conn.execute(select(func.count()).select_from(audit))).scalar_one())

    async def until(self, condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not await condition():
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not get there in time")
            await asyncio.sleep(0.02)

    async def acted(self, act: Callable[[], Awaitable[Any]], *, audited: bool = True) -> Any:
        """Do `act`, wait until the bot has written what it does (an audit row, or outbox rows), deliver."""
        audit_before, rows_before = await self.audit_rows(), await self.outbox_rows()
        result = await act()
        if audited:
            await self.until(lambda: _grew(self.audit_rows, audit_before))
        else:
            await self.until(lambda: _grew(self.outbox_rows, rows_before))
        await self.watcher.drain()
        return result

    async def answer(self, response_id: str) -> str:
        """The text of the private answer at `response_id`."""
        (response,) = await self.slack.wait_for_responses(response_id)
        return str(response.get("text", "")) + "\n" + json.dumps(response.get("blocks", []))

    def dlf_actions(self) -> list[Any]:
        """The rerun and stop calls the sandbox received."""
        return [c for c in self.sandbox.calls if c.operation in ("restart_instance", "stop_instance")]


async def _grew(count: Callable[[], Awaitable[int]], before: int) -> bool:
    return await count() > before


def card_value(card: dict[str, Any], action_id: str, choice: str | None = None) -> str:
    """The value the card's element `action_id` carries (the menu option `choice`); a card drawn before it had
    incident buttons is named by its outbox key, as its buttons would name it."""
    for block in card.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") != action_id:
                continue
            if choice is None:
                return str(element["value"])
            for option in element.get("options", []):
                if json.loads(option["value"]).get("choice") == choice:
                    return str(option["value"])
    key = ((card.get("metadata") or {}).get("event_payload") or {}).get("key")
    assert key, "the card carries no outbox key"
    return encode_incident_ref(IncidentRef(card=key, choice=choice))


def element_ids(message: dict[str, Any]) -> list[str]:
    """The action ids a reader can press on a message."""
    return [
        str(e.get("action_id"))
        for b in message.get("blocks", [])
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    ]


def blocks_text(message: dict[str, Any]) -> str:
    """Every text of a message's blocks, joined."""
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

    walk(message.get("blocks") or [])
    return "\n".join(found)


@contextlib.asynccontextmanager
async def incident_rig(database_url: str, *, operators: tuple[str, ...] = (OPERATOR,)) -> AsyncIterator[IncidentRig]:
    sandbox = Sandbox(seed=False)
    slack = FakeSlack(validator=problems)
    async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
        store = await Store.open(database_url)
        watcher = build_watcher(
            store=store,
            clients={"default": dlf_client(dlf_url)},
            slack=AsyncWebClient(token="xoxb-watcher", base_url=slack_url, retry_handlers=[]),
            options=WatcherOptions(pace_s=0.0, poll=PollOptions(digest_threshold=5)),
        )
        try:
            async with running_bot(
                _Sandboxed(sandbox=sandbox, url=dlf_url),
                slack,
                database_url=database_url,
                operators=Operators(everywhere=operators) if operators else None,
            ) as bot:
                yield IncidentRig(sandbox=sandbox, slack=slack, store=store, watcher=watcher, bot=bot)
        finally:
            await watcher.stop()
            for poller in watcher.pollers:
                await poller.client.aclose()
            await store.aclose()
