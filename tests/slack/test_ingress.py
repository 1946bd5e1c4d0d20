"""The door of HTTP mode: nothing of a request whose signature is not verified is used, and bad requests are refused
with one log line — through the real aiohttp server and Bolt app, a stranger's server on loopback as the target."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from botwire import CHANNEL, SIGNING_SECRET, USER, BotUnderTest, Trap, trap
from prometheus_client import generate_latest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.render.actions import INSTANCE_REFRESH
from bot.services.instances import InstanceService
from bot.slack import AppDeps, build_app, build_web_client
from bot.slack.ingress import MAX_BODY_BYTES
from slack_fake import TEAM_ID, FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MARKER = "forged-marker-7f3a"  # in every hostile body: it must never show in a log line


def _sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    # Over the raw bytes, as Slack signs (slack_sdk's SignatureVerifier decodes them first, so cannot sign non-UTF-8).
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def command_body(target: str) -> bytes:
    return urlencode(
        {
            "team_id": TEAM_ID,
            "channel_id": "C0TRAP",
            "user_id": USER,
            "command": "/dlf",
            "text": f"instance job_batch 34765 {MARKER}",
            "response_url": f"{target}/admin/{MARKER}",
            "trigger_id": "1.2.3",
            "api_app_id": "A0DLFBOT",
        }
    ).encode()


def action_body(target: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": USER},
        "team": {"id": TEAM_ID},
        "api_app_id": "A0DLFBOT",
        "container": {"type": "message", "channel_id": "C0TRAP", "is_ephemeral": True},
        "channel": {"id": "C0TRAP"},
        "trigger_id": "1.2.3",
        "response_url": f"{target}/admin/{MARKER}",
        "actions": [{"action_id": INSTANCE_REFRESH, "value": MARKER, "block_id": "b", "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(_: str) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A0DLFBOT",
            "event_id": "EvTRAP1",
            "event": {
                "type": "app_mention",
                "channel": "C0TRAP",
                "user": USER,
                "ts": "1.000100",
                "text": f"<@U0FAKEBOT> instance job_batch 34765 {MARKER}",
            },
        }
    ).encode()


@dataclass(frozen=True)
class Hostile:
    """A request: its body (given the trap's URL), content type, signature headers (given body and now), status."""

    body: Callable[[str], bytes]
    content_type: str
    headers: Callable[[bytes, int], dict[str, str]]
    status: int


def forged(timestamp: str) -> Callable[[bytes, int], dict[str, str]]:
    return lambda _body, _now: {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}


def signed(*, skew: int = 0, secret: str = SIGNING_SECRET) -> Callable[[bytes, int], dict[str, str]]:
    def headers(body: bytes, now: int) -> dict[str, str]:
        stamp = str(now + skew)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": _sign(body, stamp, secret)}

    return headers


def unsigned(_body: bytes, _now: int) -> dict[str, str]:
    return {}


def raw(text: str) -> Callable[[str], bytes]:
    return lambda _target: text.encode()


UNVERIFIED = {
    # Defect 4: a timestamp int() cannot read raised inside Bolt's verification, and the error hook answered on the
    # request's own response_url.
    "command-timestamp-abc": Hostile(command_body, FORM, forged("abc"), 401),
    "command-timestamp-1.5": Hostile(command_body, FORM, forged("1.5"), 401),
    "action-timestamp-abc": Hostile(action_body, FORM, forged("abc"), 401),
    "action-timestamp-1.5": Hostile(action_body, FORM, forged("1.5"), 401),
    "event-timestamp-abc": Hostile(event_body, JSON, forged("abc"), 401),
    "command-timestamp-underscore": Hostile(command_body, FORM, forged("1_700_000_000"), 401),
    "command-signature-not-hex": Hostile(
        command_body, FORM, lambda _b, now: {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=zz"}, 401
    ),
    "command-unsigned": Hostile(command_body, FORM, unsigned, 401),
    "command-timestamp-only": Hostile(command_body, FORM, lambda _b, now: {"X-Slack-Request-Timestamp": str(now)}, 401),
    "command-forged-signature": Hostile(command_body, FORM, signed(secret="not-the-signing-secret"), 401),
    "action-forged-signature": Hostile(action_body, FORM, signed(secret="not-the-signing-secret"), 401),
    "event-forged-signature": Hostile(event_body, JSON, signed(secret="not-the-signing-secret"), 401),
    "command-stale": Hostile(command_body, FORM, signed(skew=-301), 401),
    "command-from-the-future": Hostile(command_body, FORM, signed(skew=+301), 401),
    # Malformed bodies sent unsigned: a 500 and ~25 lines of traceback each, before.
    "unsigned-not-json": Hostile(raw("{not json " + MARKER), JSON, unsigned, 401),
    "unsigned-json-array": Hostile(raw("[1,2]"), JSON, unsigned, 401),
    "unsigned-payload-not-json": Hostile(raw("payload=%7Bnot-json" + MARKER), FORM, unsigned, 401),
    "unsigned-wrong-content-type": Hostile(command_body, "text/plain", unsigned, 401),
    "forged-not-json": Hostile(raw("{not json " + MARKER), JSON, forged("abc"), 401),
}

MALFORMED_BUT_SIGNED = {
    "signed-not-json": Hostile(raw("{not json " + MARKER), JSON, signed(), 400),
    "signed-json-array": Hostile(raw("[1,2]"), JSON, signed(), 400),
    "signed-payload-not-json": Hostile(raw("payload=%7Bnot-json" + MARKER), FORM, signed(), 400),
    "signed-payload-array": Hostile(raw("payload=%5B1%2C2%5D"), FORM, signed(), 400),
    "signed-wrong-content-type": Hostile(command_body, "text/plain", signed(), 400),
    "signed-not-utf8": Hostile(lambda _t: b"text=\xff\xfe" + MARKER.encode(), FORM, signed(), 400),
    "signed-huge-number": Hostile(raw('{"type": "event_callback", "n": ' + "9" * 5000 + "}"), JSON, signed(), 400),
    "signed-deep-nesting": Hostile(raw('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"), JSON, signed(), 400),
    "signed-odd-field-types": Hostile(raw('{"type": "event_callback", "enterprise": 5}'), JSON, signed(), 400),
    "signed-too-many-fields": Hostile(raw("&".join(f"f{n}=1" for n in range(100))), FORM, signed(), 400),
}


async def _post(bot: BotUnderTest, target: Trap, case: Hostile) -> Any:
    body = case.body(target.url)
    headers = {"Content-Type": case.content_type, **case.headers(body, int(time.time()))}
    return await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)


def _log_problems(records: list[logging.LogRecord]) -> list[str]:
    """What is wrong with the log of one refused request: it must be one warning of the bot's, without the body."""
    ours = [r for r in records if not r.name.startswith("httpx")]  # the test's own client logs its requests
    loud = [r for r in ours if r.levelno >= logging.WARNING]
    found = []
    if len(loud) != 1 or loud[0].name != "bot.slack.ingress":
        found.append(f"expected one warning of bot.slack.ingress, got {[(r.name, r.getMessage()) for r in loud]}")
    for record in ours:
        if record.exc_info or MARKER in record.getMessage() or "/admin/" in record.getMessage():
            found.append(f"{record.name} logged a traceback or the body: {record.getMessage()[:200]}")
    return found


@pytest.mark.parametrize(
    "case",
    list(UNVERIFIED.values()) + list(MALFORMED_BUT_SIGNED.values()),
    ids=list(UNVERIFIED) + list(MALFORMED_BUT_SIGNED),
)
async def test_a_request_refused_at_the_door_reaches_nothing_and_is_one_log_line(
    bot: BotUnderTest, case: Hostile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with trap() as stranger:
        caplog.clear()
        # Refused before Bolt: when the answer is back, nothing of the request is running anywhere.
        response = await _post(bot, stranger, case)
    assert response.status_code == case.status, response.text
    assert stranger.hits == []  # not its response_url
    assert bot.fake.calls == []  # no Web API call at all: no channel, no auth.test
    assert len(bot.dlf.sandbox.calls) == 0
    assert _log_problems(caplog.records) == []
    assert MARKER not in response.text


async def test_too_large_a_body_is_refused_before_it_is_read(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    big = b"payload=" + b"x" * (5 * MAX_BODY_BYTES)
    async with trap() as stranger:
        for headers, status in [
            ({}, 401),  # unsigned: refused on its headers
            (signed()(big, int(time.time())), 413),  # a good signature does not make 5 MB acceptable
            (forged(str(int(time.time())))(big, 0), 413),  # the length is checked before the signature is computed
        ]:
            caplog.clear()
            response = await bot.http.post(
                f"{bot.url}/slack/events", content=big, headers={"Content-Type": FORM, **headers}
            )
            assert response.status_code == status
            assert _log_problems(caplog.records) == []
        # Without a declared length (chunked), aiohttp stops reading at the limit.
        caplog.clear()

        async def chunks() -> Any:
            for _ in range(5):
                yield b"x" * MAX_BODY_BYTES

        stamp = str(int(time.time()))
        response = await bot.http.post(
            f"{bot.url}/slack/events",
            content=chunks(),
            headers={
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        assert response.status_code == 413
        assert _log_problems(caplog.records) == []
    assert stranger.hits == [] and bot.fake.calls == []


async def test_the_error_hook_never_answers_a_request_that_was_not_verified(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    # Straight into Bolt, past the gate, as defect 4 arrived: Bolt's verifier raises on the timestamp, and the error
    # hook is ours. It must neither answer on the response_url nor log what the request said.
    app = build_app(
        AppDeps(
            client=build_web_client(token="xoxb-test", base_url=fake_slack.base_url or ""),
            signing_secret=SIGNING_SECRET,
            instances=InstanceService(clients={"default": _NoDlf()}, clock=lambda: 0),
        )
    )
    caplog.set_level(logging.DEBUG)
    async with trap() as stranger:
        for body in (command_body(stranger.url), action_body(stranger.url)):
            request = AsyncBoltRequest(
                body=body.decode(),
                headers={
                    "content-type": [FORM],
                    "x-slack-request-timestamp": ["abc"],
                    "x-slack-signature": ["v0=" + "0" * 64],
                },
            )
            caplog.clear()
            # The hook runs inside the dispatch: once it returns, whatever the hook would send has been sent.
            response = await app.async_dispatch(request)
            assert response.status == 401
            assert [r.getMessage() for r in caplog.records if MARKER in r.getMessage() or r.exc_info] == []
    assert stranger.hits == []
    assert fake_slack.calls == []


class _NoDlf:
    async def get_instance(self, job_name: str, instance_id: int) -> Any:
        raise AssertionError("nothing may reach DLF")


async def test_a_good_request_still_gets_its_card_after_hostile_ones(bot: BotUnderTest) -> None:
    async with trap() as stranger:
        for case in UNVERIFIED.values():
            await _post(bot, stranger, case)
    assert (await bot.command("instance job_batch 34765", "r1")).status_code == 200
    (card,) = await bot.fake.wait_for_responses("r1")
    assert "34765" in card["text"]
    assert "dlf_bot_refused_requests_total" in _metrics(bot)


async def test_a_command_whose_text_says_payload_is_answered(bot: BotUnderTest) -> None:
    # Bolt's own body reader takes any form containing the word "payload" for an interaction and reads it as empty:
    # `/dlf instance payload_loader 1` went unanswered (Bolt's 404, "dispatch_failed" in Slack).
    response = await bot.command("instance payload_loader 1", "r1")
    assert response.status_code == 200
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert "payload_loader" in answer["text"]


@pytest.mark.parametrize("digits", [4301, 5000, 100_000])
async def test_huge_instance_ids_get_a_usage_answer_everywhere(bot: BotUnderTest, digits: int) -> None:
    number = "9" * digits
    for text in (f"instance job_batch {number}", f"watch job_batch {number}", f"unwatch job_batch {number}"):
        answer = (await bot.command(text, "r1")).json()
        assert "too large" in answer["text"], text
    bot.fake.messages[CHANNEL] = [{"type": "message", "ts": "1700000000.000200", "text": "x", "user": USER}]
    assert (
        await bot.event(
            {
                "type": "app_mention",
                "channel": CHANNEL,
                "user": USER,
                "ts": "1700000000.000200",
                "text": f"<@U0FAKEBOT> instance job_batch {number}",
            }
        )
    ).status_code == 200
    (reply,) = await bot.fake.wait_for_calls("chat.postMessage")
    assert "too large" in reply.params["text"]
    # A button whose value carries such a number: the "cannot read this button" line, not a crash.
    await bot.click(INSTANCE_REFRESH, '{"job":"job_batch","instance":' + number + "}", "r2")
    (line,) = await bot.fake.wait_for_responses("r2")
    assert "can no longer read" in line["text"]
    assert len(bot.dlf.sandbox.calls) == 0
    assert "dlf_bot_unhandled_errors_total 0.0" in _metrics(bot)


def _metrics(bot: BotUnderTest) -> str:
    return generate_latest(bot.registry).decode()
