"""Several DLF profiles (projects/workspaces): `--profile` picks one, the card and its buttons remember it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from botwire import BOT_TOKEN, SIGNING_SECRET, BotUnderTest, button_value, dlf_client
from prometheus_client import CollectorRegistry

from bot.render.actions import INSTANCE_REFRESH, decode_instance_ref
from bot.render.limits import problems
from bot.services.instances import InstanceService
from bot.slack import AppDeps, build_app, build_web_app, build_web_client, serve_http
from bot.slack.ingress import SlackGate
from dlf_sandbox import ANALYTICS_WORKSPACE_ID
from slack_fake import FakeSlack


@contextlib.asynccontextmanager
async def two_profile_bot(sandbox: Any, fake: FakeSlack) -> AsyncIterator[BotUnderTest]:
    async with (
        dlf_client(sandbox.url) as default_client,
        dlf_client(sandbox.url, workspace=ANALYTICS_WORKSPACE_ID) as analytics_client,
    ):
        service = InstanceService(
            clients={"default": default_client, "analytics": analytics_client}, clock=lambda: int(time.time() * 1000)
        )
        assert fake.base_url is not None
        app = build_app(
            AppDeps(
                client=build_web_client(token=BOT_TOKEN, base_url=fake.base_url),
                signing_secret=SIGNING_SECRET,
                instances=service,
            )
        )
        registry = CollectorRegistry()
        async with (
            serve_http(
                build_web_app(bolt=app, registry=registry, gate=SlackGate(signing_secret=SIGNING_SECRET)),
                host="127.0.0.1",
                port=0,
            ) as port,
            httpx.AsyncClient(timeout=30) as http,
        ):
            yield BotUnderTest(url=f"http://127.0.0.1:{port}", http=http, fake=fake, dlf=sandbox, registry=registry)


async def test_profile_selects_the_workspace_and_buttons_remember_it(sandbox: Any, fake_slack: FakeSlack) -> None:
    async with two_profile_bot(sandbox, fake_slack) as bot:
        await bot.command("instance analytics_ws_job 40100", "p1")
        (missing,) = await bot.fake.wait_for_responses("p1")
        await bot.command("instance analytics_ws_job 40100 --profile analytics", "p2")
        (card,) = await bot.fake.wait_for_responses("p2")
        ref = decode_instance_ref(button_value(card, INSTANCE_REFRESH))
        await bot.click(INSTANCE_REFRESH, button_value(card, INSTANCE_REFRESH), "p3")
        (refreshed,) = await bot.fake.wait_for_responses("p3")
        await bot.command("instance job_batch 34765 --profile nope", "p4")
        (unknown,) = await bot.fake.wait_for_responses("p4")

    assert "no job" in missing["text"].lower() or "no instance" in missing["text"].lower()  # default workspace
    assert card["text"].startswith("analytics_ws_job instance 40100")
    assert "analytics" in str(card["blocks"])  # the card says which profile it came from
    assert ref.profile == "analytics"
    assert refreshed["replace_original"] is True and refreshed["text"] == card["text"]
    assert "`nope`" in unknown["text"] and "analytics" in unknown["text"] and "default" in unknown["text"]
    for answer in (missing, card, refreshed, unknown):
        assert problems(answer) == []
