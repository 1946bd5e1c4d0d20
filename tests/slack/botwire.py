"""Helpers to run the real Bolt app in HTTP mode on loopback, wired to the DLF sandbox and the fake Slack Web API."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from aiohttp import web
from prometheus_client import CollectorRegistry
from slack_sdk.signature import SignatureVerifier

from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.services.audit import AuditService
from bot.services.home import HomeService
from bot.services.incidents import IncidentService
from bot.services.instance_list import InstanceListService
from bot.services.instances import InstanceService
from bot.services.operators import Operators
from bot.services.request_ledger import StoreRequestLedger
from bot.services.subscriptions import SubscriptionService
from bot.slack import AppDeps, SlackMetrics, build_app, build_web_app, build_web_client, serve_http
from bot.slack.ingress import SlackGate
from bot.store import Store
from dlf_sandbox import SANDBOX_CREDENTIALS
from slack_fake import TEAM_ID, FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
USER = "U0ALICE"
CHANNEL = "C0DATA"


@dataclass
class BotUnderTest:
    """The running bot and the two fakes around it, with helpers that speak Slack's wire format."""

    url: str
    http: httpx.AsyncClient
    fake: FakeSlack
    dlf: Any  # tests/conftest.py's RunningSandbox: .sandbox and .url
    registry: CollectorRegistry

    def signed_headers(
        self, body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def command_body(self, text: str, response_id: str) -> str:
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "team_domain": "fake",
                "channel_id": CHANNEL,
                "channel_name": "data",
                "user_id": USER,
                "user_name": "alice",
                "command": "/dlf",
                "text": text,
                "api_app_id": "A0DLFBOT",
                "response_url": self.fake.response_url(response_id),
                "trigger_id": "1.2.3",
            }
        )

    async def command(self, text: str, response_id: str, **sign: Any) -> httpx.Response:
        body = self.command_body(text, response_id)
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=self.signed_headers(body, **sign))

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> httpx.Response:
        """An Events API callback carrying `event` (a fresh `event_id` unless given); `retry` marks it as Slack's
        redelivery number `retry` (`X-Slack-Retry-Num`), signed anew as Slack does."""
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": "A0DLFBOT",
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:16].upper()}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM_ID, "user_id": "U0FAKEBOT", "is_bot": True}],
                "event": event,
            }
        )
        headers = {**self.signed_headers(body), "Content-Type": "application/json"}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    async def click(self, action_id: str, value: str, response_id: str, *, ephemeral: bool = True) -> httpx.Response:
        payload = {
            "type": "block_actions",
            "user": {"id": USER, "username": "alice", "team_id": TEAM_ID},
            "api_app_id": "A0DLFBOT",
            "token": "legacy-verification-token",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": CHANNEL,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": CHANNEL, "name": "data"},
            "trigger_id": "1.2.3",
            "response_url": self.fake.response_url(response_id),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "type": "button",
                    "action_ts": "1700000001.000000",
                    "text": {"type": "plain_text", "text": "x"},
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=self.signed_headers(body))


@dataclass
class Trap:
    """A stranger's HTTP server on loopback: answers 200 to anything on any path and records every request. Put in a
    forged request's response_url, it proves the bot sent nothing there."""

    url: str
    hits: list[tuple[str, str]]


@contextlib.asynccontextmanager
async def trap() -> AsyncIterator[Trap]:
    """Serve a `Trap` on a free loopback port until the block ends."""
    hits: list[tuple[str, str]] = []

    async def record(request: web.Request) -> web.Response:
        hits.append((request.method, request.path_qs))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Trap(url=f"http://127.0.0.1:{runner.addresses[0][1]}", hits=hits)
    finally:
        await runner.cleanup()


def button_value(message: dict[str, Any], action_id: str) -> str:
    """The value of the button with `action_id` in a message's blocks."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in the message")


def dlf_client(url: str, *, sk: str = SANDBOX_CREDENTIALS.sk, workspace: str | None = None) -> DlfClient:
    """A DLF client for the sandbox that gives up quickly (tests of failures need no long back-off)."""
    config = DlfConfig(
        endpoint=url,
        project_id=SANDBOX_CREDENTIALS.project_id,
        workspace=workspace,
        max_retries=1,
        backoff_base=0.01,
        backoff_cap=0.05,
        max_retry_after=0.05,
    )
    return DlfClient(config=config, credentials=AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=sk))


@contextlib.asynccontextmanager
async def running_bot(
    sandbox: Any,
    fake: FakeSlack,
    *,
    sk: str = SANDBOX_CREDENTIALS.sk,
    database_url: str | None = None,
    instances: Any = None,
    operators: Operators | None = None,
    wake: Any = None,
) -> AsyncIterator[BotUnderTest]:
    """The bot serving HTTP on a free loopback port, its DLF client pointed at `sandbox` (with secret key `sk`).

    `database_url` adds the subscription service and the request ledger on a real store; `instances` replaces the
    DLF client behind the instance service (an object with `get_instance`, for failures the sandbox cannot produce).
    `operators` says who may rerun, stop and read the audit (with `database_url`, the audit service uses it).
    With `database_url` the incident actions are wired too (`wake` is told when they queued messages).
    """
    registry = CollectorRegistry()
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(dlf_client(sandbox.url, sk=sk))
        clients = {"default": instances or client}
        subscriptions, ledger, audit, home, incidents = None, None, None, None, None
        if database_url is not None:
            store = await Store.open(database_url)
            stack.push_async_callback(store.aclose)
            subscriptions = SubscriptionService(store=store, clients={"default": client})
            ledger = StoreRequestLedger(store=store)
            audit = AuditService(store=store, operators=operators)
            home = HomeService(store=store)
            incidents = IncidentService(store=store, clients={"default": client}, operators=operators, wake=wake)
        assert fake.base_url is not None
        app = build_app(
            AppDeps(
                client=build_web_client(token=BOT_TOKEN, base_url=fake.base_url),
                signing_secret=SIGNING_SECRET,
                instances=InstanceService(clients=clients, clock=lambda: int(time.time() * 1000)),
                instance_lists=InstanceListService(clients={"default": client}, clock=lambda: int(time.time() * 1000)),
                subscriptions=subscriptions,
                metrics=SlackMetrics(registry=registry),
                ledger=ledger,
                audit=audit,
                home=home,
                operators=operators,
                incidents=incidents,
            )
        )
        port = await stack.enter_async_context(
            serve_http(
                build_web_app(bolt=app, registry=registry, gate=SlackGate(signing_secret=SIGNING_SECRET)),
                host="127.0.0.1",
                port=0,
            )
        )
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        yield BotUnderTest(url=f"http://127.0.0.1:{port}", http=http, fake=fake, dlf=sandbox, registry=registry)
