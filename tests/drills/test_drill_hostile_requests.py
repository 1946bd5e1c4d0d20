"""A stranger's requests to the shipped `dlf-bot run`: forged, unsigned, malformed, stale, oversized and replayed.

Every forged request names a stranger's server on loopback as its response_url and a channel as its target; the
drill proves that nothing leaves the bot because of any of them (no request reaches the stranger, no Web API call
reaches Slack, no DLF call is made), that each is refused with one log line without its body, that memory stays
bounded under bodies of several MB, and that Slack's own retries and replays are answered once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from rig import SIGNING_SECRET, BotProcess, World, rss_bytes, stranger, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.slow]

MARKER = "hostile-body-5c1e"
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
MB = 1024 * 1024


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 signature over the raw bytes."""
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def command(target: str, *, text: str = f"instance job_batch 34765 {MARKER}", channel: str = "C0TARGET") -> bytes:
    return urlencode(
        {
            "team_id": "T0DRILL",
            "channel_id": channel,
            "user_id": "U0DRILL",
            "command": "/dlf",
            "text": text,
            "response_url": f"{target}/admin/{MARKER}",
            "trigger_id": "1.2.3",
            "api_app_id": "A0DRILL",
        }
    ).encode()


def click(target: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0DRILL"},
        "team": {"id": "T0DRILL"},
        "api_app_id": "A0DRILL",
        "container": {"type": "message", "channel_id": "C0TARGET", "is_ephemeral": False},
        "channel": {"id": "C0TARGET"},
        "trigger_id": "1.2.3",
        "response_url": f"{target}/admin/{MARKER}",
        "actions": [
            {
                "action_id": "dlf.instance.share",
                "block_id": "b",
                "type": "button",
                "value": json.dumps({"job": "job_batch", "instance": 34765}),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def mention(event_id: str, *, channel: str = "C0TARGET", ts: str = "1700000000.000100") -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0DRILL",
            "api_app_id": "A0DRILL",
            "event_id": event_id,
            "event": {
                "type": "app_mention",
                "channel": channel,
                "user": "U0DRILL",
                "ts": ts,
                "text": f"<@U0BOT> instance job_batch 34765 {MARKER}",
            },
        }
    ).encode()


def headers(kind: str, body: bytes, now: int) -> dict[str, str]:
    """Signature headers of one kind of request: forged, missing, stale, or genuinely signed."""
    zeros = "v0=" + "0" * 64
    return {
        "timestamp-abc": {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": zeros},
        "timestamp-1.5": {"X-Slack-Request-Timestamp": "1.5", "X-Slack-Signature": zeros},
        "forged": {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sign(body, str(now), "guessed")},
        "signature-only": {"X-Slack-Signature": zeros},
        "missing": {},
        "stale": {"X-Slack-Request-Timestamp": str(now - 301), "X-Slack-Signature": sign(body, str(now - 301))},
        "signed": {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sign(body, str(now))},
    }[kind]


# (what, body given the stranger's URL, content type, signature kind, expected status)
HOSTILE = [
    *[
        (f"{what} with {kind}", body, ctype, kind, 401)
        for what, body, ctype in [
            ("command", command, FORM),
            ("block_actions", click, FORM),
            ("event", lambda _t: mention("Ev0FORGED"), JSON),
        ]
        for kind in ("timestamp-abc", "timestamp-1.5", "forged", "signature-only", "missing", "stale")
    ],
    ("unsigned {not json", lambda _t: b"{not json " + MARKER.encode(), JSON, "missing", 401),
    ("unsigned [1,2]", lambda _t: b"[1,2]", JSON, "missing", 401),
    ("unsigned payload=%7Bnot-json", lambda _t: b"payload=%7Bnot-json" + MARKER.encode(), FORM, "missing", 401),
    ("forged {not json", lambda _t: b"{not json " + MARKER.encode(), JSON, "timestamp-abc", 401),
    ("unsigned, wrong content type", command, "text/plain", "missing", 401),
    ("signed {not json", lambda _t: b"{not json " + MARKER.encode(), JSON, "signed", 400),
    ("signed [1,2]", lambda _t: b"[1,2]", JSON, "signed", 400),
    ("signed payload=%7Bnot-json", lambda _t: b"payload=%7Bnot-json" + MARKER.encode(), FORM, "signed", 400),
    ("signed, wrong content type", command, "text/plain", "signed", 400),
    ("signed, not UTF-8", lambda _t: b"text=\xff" + MARKER.encode(), FORM, "signed", 400),
    ("signed, a 5,000-digit number", lambda _t: b'{"n": ' + b"9" * 5000 + b"}", JSON, "signed", 400),
]


@pytest.fixture
async def bot(world: World, sqlite_db: str, tmp_path: Path) -> AsyncIterator[BotProcess]:
    started = await world.start_bot(sqlite_db, log=tmp_path / "bot.log")
    yield started
    assert await started.stop() == 0


async def _refused_lines(bot: BotProcess, count: int) -> list[str]:
    """The bot's log lines about refused requests, once there are `count` of them."""

    def lines() -> list[str]:
        return [line for line in bot.log_text().splitlines() if "refused a Slack request" in line]

    await wait_for(lambda: len(lines()) >= count, timeout=10, what=f"{count} refusals in the log")
    return lines()


async def test_nothing_leaves_the_bot_for_a_request_it_cannot_verify(world: World, bot: BotProcess) -> None:
    async with stranger() as other, httpx.AsyncClient(timeout=30) as http:
        for what, body_of, content_type, kind, status in HOSTILE:
            body = body_of(other.url)
            sent = {"Content-Type": content_type, **headers(kind, body, int(time.time()))}
            answer = await http.post(f"{bot.base_url}/slack/events", content=body, headers=sent)
            assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text}"
            assert MARKER not in answer.text
        lines = await _refused_lines(bot, len(HOSTILE))
        # A good request afterwards is answered (the bot is fine, and was able to send all along): had any refused
        # request made the bot send something, it would have been sent before this answer arrived.
        await world.watch(bot, "C0GOOD", "job_batch")
    assert other.hits == []  # not the forged response_url
    # Slack heard only what the good request caused: Bolt's auth.test and the answer to the watch.
    assert {call.method for call in world.slack.calls} <= {"auth.test", "response_url"}
    assert not [call for call in world.slack.calls if "C0TARGET" in json.dumps(call.params)]
    assert world.sandbox.calls.count("show_instance") == 0
    log = bot.log_text()
    assert len(lines) == len(HOSTILE)  # one line per refused request ...
    assert MARKER not in log and "/admin/" not in log  # ... and never its body
    assert "Traceback" not in log
    refused = sum(
        float(line.rsplit(" ", 1)[1])
        for line in (await bot.metrics()).splitlines()
        if line.startswith("dlf_bot_refused_requests_total{")
    )
    assert refused == len(HOSTILE)


async def test_bodies_of_several_megabytes_are_refused_fast_with_bounded_memory(bot: BotProcess) -> None:
    big = b"payload=" + b"x" * (8 * MB)
    before = rss_bytes(bot.process.pid)
    async with httpx.AsyncClient(timeout=60) as http:
        for round_ in range(5):
            now = str(int(time.time()))
            answers = await asyncio.gather(
                http.post(f"{bot.base_url}/slack/events", content=big, headers={"Content-Type": FORM}),
                http.post(
                    f"{bot.base_url}/slack/events",
                    content=big,
                    headers={
                        "Content-Type": FORM,
                        "X-Slack-Request-Timestamp": now,
                        "X-Slack-Signature": sign(big, now),
                    },
                ),
                http.post(
                    f"{bot.base_url}/slack/events",
                    content=_chunks(big),
                    headers={
                        "Content-Type": FORM,
                        "X-Slack-Request-Timestamp": now,
                        "X-Slack-Signature": "v0=" + "0" * 64,
                    },
                ),
            )
            assert [a.status_code for a in answers] == [401, 413, 413], round_
    grown = rss_bytes(bot.process.pid) - before
    print(f"oversized bodies: 15 of 8 MB refused; the bot's RSS grew by {grown / MB:.1f} MB")
    # 120 MB was sent; what the bot may hold is bounded by aiohttp's 1 MB read limit per request.
    assert grown < 30 * MB
    await _refused_lines(bot, 15)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), MB):
        yield body[start : start + MB]


async def test_a_redelivered_event_and_a_replayed_command_are_answered_once(world: World, bot: BotProcess) -> None:
    world.slack.messages["C0REPLY"] = [{"type": "message", "ts": "1700000000.000100", "text": "x", "user": "U0"}]
    world.sandbox.state.add_job("job_batch", nodes=[("load", "DWSSQL")])
    event = mention("Ev0SLACKRETRY", channel="C0REPLY")
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{bot.base_url}/slack/events"
        # The first delivery, then the same signed body again (a replay), then Slack's retries, signed anew.
        first = {"Content-Type": JSON, **headers("signed", event, int(time.time()))}
        for sent in (first, first):
            assert (await http.post(url, content=event, headers=sent)).status_code == 200
        for retry in (1, 2):
            sent = {
                "Content-Type": JSON,
                **headers("signed", event, int(time.time()) - retry),
                "X-Slack-Retry-Num": str(retry),
                "X-Slack-Retry-Reason": "http_timeout",
            }
            assert (await http.post(url, content=event, headers=sent)).status_code == 200
        # A slash command replayed within the signature's window: handled once. Sent again by the user, it is a new
        # request (a new signature) and answered again.
        body = urlencode(
            {
                "team_id": "T0DRILL",
                "channel_id": "C0REPLY",
                "user_id": "U0DRILL",
                "command": "/dlf",
                "text": "instance job_batch 1",
                "response_url": world.slack.response_url("replayed"),
                "trigger_id": "1.2.3",
                "api_app_id": "A0DRILL",
            }
        ).encode()
        stamp = int(time.time())
        replay = {"Content-Type": FORM, **headers("signed", body, stamp)}
        for _ in range(3):
            assert (await http.post(url, content=body, headers=replay)).status_code == 200
        await world.slack.wait_for_responses("replayed", timeout=30)
        await world.slack.wait_for_calls("chat.postMessage", timeout=30)
        again = {"Content-Type": FORM, **headers("signed", body, stamp - 1)}  # another second, another signature
        assert (await http.post(url, content=body, headers=again)).status_code == 200
        await world.slack.wait_for_responses("replayed", count=2, timeout=30)
        # Whatever else the bot would have sent for the copies was on its way before this answer came back.
        await world.watch(bot, "C0REPLY", "job_batch")
    assert len(world.slack.responses_for("replayed")) == 2
    replies = [c for c in world.slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0REPLY"]
    assert len(replies) == 1
    metrics = await bot.metrics()
    assert 'dlf_bot_redeliveries_total{kind="event"} 3.0' in metrics
    assert 'dlf_bot_redeliveries_total{kind="command"} 2.0' in metrics
