"""Socket Mode, the default transport: the real AsyncSocketModeHandler against the fake Slack's websocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from botwire import BOT_TOKEN, CHANNEL, USER, button_value, dlf_client
from prometheus_client import CollectorRegistry

from bot.render.actions import INSTANCE_SHARE
from bot.render.limits import problems
from bot.services.instances import InstanceService
from bot.slack import AppDeps, build_app, build_web_client, run_bot
from slack_fake import TEAM_ID, FakeSlack


@contextlib.asynccontextmanager
async def socket_bot(sandbox: Any, fake: FakeSlack) -> AsyncIterator[int]:
    """`run_bot` in Socket Mode; yields the health server's port once the socket is connected."""
    async with dlf_client(sandbox.url) as client:
        assert fake.base_url is not None
        app = build_app(
            AppDeps(
                client=build_web_client(token=BOT_TOKEN, base_url=fake.base_url),
                signing_secret=None,
                instances=InstanceService(clients={"default": client}, clock=lambda: int(time.time() * 1000)),
            )
        )
        stop = asyncio.Event()
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            run_bot(
                bolt=app,
                registry=CollectorRegistry(),
                stop=stop,
                port=0,
                host="127.0.0.1",
                app_token="xapp-test-app-token",
                on_ready=ready.set_result,
            )
        )
        try:
            port = await asyncio.wait_for(ready, timeout=30)
            await fake.wait_for_socket()
            yield port
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


def _command(fake: FakeSlack, text: str, response_id: str) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "channel_id": CHANNEL,
        "user_id": USER,
        "command": "/dlf",
        "text": text,
        "api_app_id": "A0FAKEAPP",
        "response_url": fake.response_url(response_id),
        "trigger_id": "1.2.3",
    }


async def test_slash_command_over_the_socket(sandbox: Any, fake_slack: FakeSlack) -> None:
    async with socket_bot(sandbox, fake_slack) as port:
        envelope = await fake_slack.socket_send(
            "slash_commands", _command(fake_slack, "instance job_batch 34765", "s1")
        )
        ack = await fake_slack.wait_for_socket_ack(envelope)
        assert not ack.get("payload")  # an empty ack; the card follows on the response_url
        (card,) = await fake_slack.wait_for_responses("s1")
        assert "job_batch" in card["text"] and problems(card) == []

        envelope = await fake_slack.socket_send("slash_commands", _command(fake_slack, "instance job_batch x", "s2"))
        usage = (await fake_slack.wait_for_socket_ack(envelope))["payload"]
        assert "not a number" in usage["text"] and usage["response_type"] == "ephemeral"

        async with httpx.AsyncClient() as http:
            health = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
            events = await http.post(f"http://127.0.0.1:{port}/slack/events", content="{}")
        assert health["mode"] == "socket"
        assert events.status_code in (404, 405)  # no unsigned HTTP entrance in Socket Mode
    assert [call.token for call in fake_slack.calls_to("apps.connections.open")] == ["xapp-test-app-token"]


async def test_buttons_and_mentions_over_the_socket(sandbox: Any, fake_slack: FakeSlack) -> None:
    async with socket_bot(sandbox, fake_slack):
        await fake_slack.socket_send("slash_commands", _command(fake_slack, "instance job_batch 34765", "s1"))
        (card,) = await fake_slack.wait_for_responses("s1")
        click = {
            "type": "block_actions",
            "user": {"id": USER},
            "team": {"id": TEAM_ID},
            "api_app_id": "A0FAKEAPP",
            "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL, "is_ephemeral": True},
            "channel": {"id": CHANNEL},
            "response_url": fake_slack.response_url("s2"),
            "trigger_id": "1.2.3",
            "actions": [
                {
                    "action_id": INSTANCE_SHARE,
                    "block_id": "b",
                    "type": "button",
                    "value": button_value(card, INSTANCE_SHARE),
                    "action_ts": "1.2",
                }
            ],
        }
        await fake_slack.wait_for_socket_ack(await fake_slack.socket_send("interactive", click))
        shared, deleted = await fake_slack.wait_for_responses("s2", count=2)
        assert shared["response_type"] == "in_channel" and deleted["delete_original"] is True

        fake_slack.messages[CHANNEL] = [{"type": "message", "ts": "1700000000.000100", "text": "x", "user": USER}]
        mention = {
            "team_id": TEAM_ID,
            "api_app_id": "A0FAKEAPP",
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": 1700000001,
            "event": {
                "type": "app_mention",
                "user": USER,
                "channel": CHANNEL,
                "ts": "1700000000.000100",
                "text": "<@U0FAKEBOT> help",
                "event_ts": "1700000000.000100",
            },
        }
        await fake_slack.socket_send("events_api", mention)
        (reply,) = await fake_slack.wait_for_calls("chat.postMessage")
        assert reply.params["thread_ts"] == "1700000000.000100" and reply.outcome == "ok"


@pytest.mark.parametrize(
    ("frame", "envelope_id"),
    [
        pytest.param("{not json", None, id="not-json"),
        pytest.param("[1,2]", None, id="json-array"),
        pytest.param('{"envelope_id": "e1", "type": "events_api", "payload": [1, 2]}', "e1", id="payload-array"),
        pytest.param('{"envelope_id": "e2", "type": "slash_commands", "payload": "text=x"}', "e2", id="payload-string"),
        pytest.param(
            '{"envelope_id": "e3", "type": "events_api", "payload": {"enterprise": 5}}', "e3", id="odd-fields"
        ),
        # Unreadable, so its envelope id cannot be read to acknowledge it either.
        pytest.param(
            '{"envelope_id": "e4", "type": "events_api", "payload": {"n": ' + "9" * 5000 + "}}", None, id="huge-number"
        ),
    ],
)
async def test_a_malformed_envelope_is_one_log_line_and_the_socket_goes_on(
    sandbox: Any, fake_slack: FakeSlack, frame: str, envelope_id: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with socket_bot(sandbox, fake_slack):
        caplog.clear()
        await fake_slack.socket_send_raw(frame)
        if envelope_id:
            # Acknowledged, so Slack does not send it again.
            assert not (await fake_slack.wait_for_socket_ack(envelope_id)).get("payload")
        # The socket still works, and the refusal came before the next envelope was handled.
        envelope = await fake_slack.socket_send("slash_commands", _command(fake_slack, "instance job_batch x", "s1"))
        await fake_slack.wait_for_socket_ack(envelope)
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, bool(r.exc_info)) for r in loud] == [("bot.slack.ingress", False)], [r.getMessage() for r in loud]
    assert "9999" not in loud[0].getMessage() and "text=x" not in loud[0].getMessage()
    assert fake_slack.calls_to("chat.postMessage") == []
