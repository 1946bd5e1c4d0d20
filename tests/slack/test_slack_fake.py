"""The fake Slack Web API answers slack_sdk's real clients the way Slack does, faults included."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import (
    FixedValueRetryIntervalCalculator,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slack_fake import BOT_USER_ID, FakeSlack

_QUICK = FixedValueRetryIntervalCalculator(fixed_internal=0.01)


def _client(base_url: str, *, retries: bool = False, token: str = "xoxb-test") -> AsyncWebClient:
    handlers = (
        # the SDK counts attempts across handlers: each must allow as many as the faults queued in one test
        [
            AsyncConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=_QUICK),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=3, interval_calculator=_QUICK),
        ]
        if retries
        else []
    )
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=handlers)


def _no_shouting(message: dict) -> list[str]:
    return ["text: no shouting"] if "LOUD" in str(message.get("text", "")) else []


async def test_post_thread_update_history_and_metadata() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        client = _client(base_url)
        assert (await client.auth_test())["user_id"] == BOT_USER_ID
        root = await client.chat_postMessage(
            channel="C1",
            text="alert",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
            metadata={"event_type": "dlf_alert", "event_payload": {"key": "k1"}},
        )
        reply = await client.chat_postMessage(channel="C1", text="reply", thread_ts=root["ts"])
        # a reply to a reply is filed under the thread's parent, as Slack does
        nested = await client.chat_postMessage(channel="C1", text="reply 2", thread_ts=reply["ts"])
        assert nested["message"]["thread_ts"] == root["ts"]
        await client.chat_update(channel="C1", ts=root["ts"], text="alert (acknowledged)")

        history = await client.conversations_history(channel="C1", include_all_metadata=True)
        assert [m["text"] for m in history["messages"]] == ["alert (acknowledged)"]
        assert history["messages"][0]["metadata"]["event_payload"] == {"key": "k1"}
        assert history["messages"][0]["reply_count"] == 2
        without = await client.conversations_history(channel="C1")
        assert "metadata" not in without["messages"][0]

        replies = await client.conversations_replies(channel="C1", ts=root["ts"])
        assert [m["text"] for m in replies["messages"]] == ["alert (acknowledged)", "reply", "reply 2"]
        assert [m["text"] for m in fake.thread("C1", root["ts"])] == ["reply", "reply 2"]


async def test_history_pages_newest_first_within_the_window() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        client = _client(base_url)
        stamps = [(await client.chat_postMessage(channel="C1", text=f"m{i}"))["ts"] for i in range(5)]
        first = await client.conversations_history(channel="C1", limit=2, oldest=stamps[0])
        assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
        assert first["has_more"] is True
        second = await client.conversations_history(
            channel="C1", limit=2, oldest=stamps[0], cursor=first["response_metadata"]["next_cursor"]
        )
        assert [m["text"] for m in second["messages"]] == ["m2", "m1"]  # oldest is exclusive
        assert second["has_more"] is False


async def test_validator_refuses_like_slack_and_nothing_is_stored() -> None:
    fake = FakeSlack(validator=_no_shouting)
    async with fake.serve() as base_url:
        with pytest.raises(SlackApiError) as caught:
            await _client(base_url).chat_postMessage(channel="C1", text="LOUD")
        assert caught.value.response["error"] == "invalid_blocks"
        assert caught.value.response["errors"] == ["text: no shouting"]
        assert fake.channel_messages("C1") == []
        assert fake.rejected == [("chat.postMessage", ["text: no shouting"])]


async def test_rate_limit_server_error_and_reset_are_retried_by_sdk_handlers() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        fake.faults.ratelimit("chat.postMessage", n=1, retry_after=0)
        fake.faults.server_error("chat.postMessage", n=1, status=503)
        fake.faults.reset("chat.postMessage", n=1)
        answer = await _client(base_url, retries=True).chat_postMessage(channel="C1", text="hello")
        assert answer["ok"]
        outcomes = [call.outcome for call in fake.calls_to("chat.postMessage")]
        assert outcomes == ["http:429", "http:503", "reset", "ok"]
        assert len(fake.channel_messages("C1")) == 1


async def test_without_retry_handlers_a_429_reaches_the_caller_with_retry_after() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        fake.faults.ratelimit("chat.postMessage", n=1, retry_after=7)
        with pytest.raises(SlackApiError) as caught:
            await _client(base_url).chat_postMessage(channel="C1", text="hello")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] in ("7", ["7"])


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_permanent_channel_errors(error: str) -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        fake.faults.channel_error("C9", error)
        with pytest.raises(SlackApiError) as caught:
            await _client(base_url, retries=True).chat_postMessage(channel="C9", text="x")
        assert caught.value.response["error"] == error
        assert len(fake.calls_to("chat.postMessage")) == 1  # permanent: the SDK does not retry it
        assert (await _client(base_url).chat_postMessage(channel="C1", text="x"))["ok"]


async def test_invalid_auth_per_token() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        fake.faults.invalid_auth("xoxb-revoked")
        with pytest.raises(SlackApiError) as caught:
            await _client(base_url, token="xoxb-revoked").auth_test()
        assert caught.value.response["error"] == "invalid_auth"
        assert (await _client(base_url).auth_test())["ok"]


async def test_per_channel_pacing() -> None:
    now = [100.0]
    fake = FakeSlack(post_interval_per_channel=1.0, clock=lambda: now[0])
    async with fake.serve() as base_url:
        client = _client(base_url)
        await client.chat_postMessage(channel="C1", text="1")
        await client.chat_postMessage(channel="C2", text="other channel is fine")
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C1", text="2")
        assert caught.value.response.status_code == 429
        now[0] += 1.0
        assert (await client.chat_postMessage(channel="C1", text="2"))["ok"]


async def test_response_url_records_and_validates() -> None:
    fake = FakeSlack(validator=_no_shouting)
    async with fake.serve():
        webhook = AsyncWebhookClient(fake.response_url("r1"))
        ok = await webhook.send(text="card", response_type="ephemeral")
        bad = await webhook.send(text="LOUD")
        assert (ok.status_code, bad.status_code, bad.body) == (200, 400, "invalid_blocks")
        assert fake.responses_for("r1") == [{"text": "card", "response_type": "ephemeral"}]
        assert [m["text"] for m in await fake.wait_for_responses("r1")] == ["card"]


def test_serves_from_a_thread_for_sync_code() -> None:
    from slack_sdk import WebClient

    fake = FakeSlack()
    with fake.serve_in_thread() as base_url:
        assert WebClient(token="xoxb-t", base_url=base_url).chat_postMessage(channel="C1", text="x")["ok"]
    assert [call.method for call in fake.calls] == ["chat.postMessage"]


async def test_answer_delay_holds_the_answer_after_the_message_is_stored() -> None:
    fake = FakeSlack(answer_delay_s=1.0)
    async with fake.serve() as base_url:
        posting = asyncio.create_task(_client(base_url).chat_postMessage(channel="C1", text="alert"))
        for _ in range(500):
            if fake.channel_messages("C1"):
                break
            await asyncio.sleep(0.01)
        assert [m["text"] for m in fake.channel_messages("C1")] == ["alert"]
        assert not posting.done()  # stored, but the caller has not heard "ok" yet
        assert (await posting)["ok"]


async def test_a_bot_outside_a_public_channel_posts_and_updates_but_cannot_read_history() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        client = _client(base_url)
        fake.faults.not_a_member("CPUB")
        root = await client.chat_postMessage(channel="CPUB", text="alert")  # chat:write.public
        await client.chat_postMessage(channel="CPUB", text="reply", thread_ts=root["ts"])
        await client.chat_update(channel="CPUB", ts=root["ts"], text="alert (resolved)")
        for read in (
            client.conversations_history(channel="CPUB"),
            client.conversations_replies(channel="CPUB", ts=root["ts"]),
        ):
            with pytest.raises(SlackApiError) as refused:
                await read
            assert refused.value.response["error"] == "not_in_channel"
        assert (await client.conversations_history(channel="C1"))["ok"]  # other channels are unaffected
        fake.faults.clear()
        assert len((await client.conversations_history(channel="CPUB"))["messages"]) == 1


async def test_a_deleted_message_refuses_replies_and_updates_like_slack() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        client = _client(base_url)
        root = await client.chat_postMessage(channel="C1", text="alert")
        await client.chat_postMessage(channel="C1", text="reply", thread_ts=root["ts"])
        assert fake.delete_message("C1", root["ts"]) and not fake.delete_message("C1", root["ts"])
        for call, error in (
            (client.chat_postMessage(channel="C1", text="again", thread_ts=root["ts"]), "thread_not_found"),
            (client.chat_update(channel="C1", ts=root["ts"], text="edited"), "message_not_found"),
            (client.conversations_replies(channel="C1", ts=root["ts"]), "thread_not_found"),
        ):
            with pytest.raises(SlackApiError) as refused:
                await call
            assert refused.value.response["error"] == error
        assert [m["text"] for m in fake.channel_messages("C1")] == ["reply"]  # the thread's replies stay


async def test_an_outage_fails_every_call_for_a_while_then_ends_by_itself() -> None:
    now = [0.0]
    fake = FakeSlack(clock=lambda: now[0])
    async with fake.serve() as base_url:
        client = _client(base_url)
        fake.faults.outage("server_error", seconds=60, status=503)
        fake.faults.outage("ratelimited", seconds=10, methods=("chat.postMessage",), retry_after=7)
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel="C1", text="hi")
        with pytest.raises(SlackApiError) as down:
            await client.conversations_history(channel="C1")
        await client.auth_test()  # auth.test is spared unless named
        now[0] = 30.0
        with pytest.raises(SlackApiError) as still_down:
            await client.chat_postMessage(channel="C1", text="hi")
        now[0] = 60.0
        await client.chat_postMessage(channel="C1", text="hi")

    assert (limited.value.response.status_code, limited.value.response.headers["Retry-After"]) == (429, "7")
    assert down.value.response.status_code == still_down.value.response.status_code == 503
    assert [m["text"] for m in fake.channel_messages("C1")] == ["hi"]


async def test_a_reset_outage_cuts_every_connection_and_does_nothing() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        fake.faults.outage("reset", seconds=60, methods=("chat.postMessage",))
        with pytest.raises(Exception):  # noqa: B017 — aiohttp's own error for a connection reset
            await _client(base_url).chat_postMessage(channel="C1", text="hi")
    assert fake.channel_messages("C1") == [] and [c.outcome for c in fake.calls] == ["reset"]


async def test_a_slow_outage_posts_at_once_and_answers_late_or_posts_only_after_the_delay() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        client = _client(base_url)
        fake.faults.outage("slow", seconds=60, delay_s=0.5)
        late = asyncio.create_task(client.chat_postMessage(channel="C1", text="first"))
        for _ in range(50):
            if fake.channel_messages("C1"):
                break
            await asyncio.sleep(0.01)
        stored_before_answer = bool(fake.channel_messages("C1")) and not late.done()
        await late
        fake.faults.clear()
        fake.faults.outage("slow", seconds=60, delay_s=0.3, before=True)
        pending = asyncio.create_task(client.chat_postMessage(channel="C2", text="second"))
        await asyncio.sleep(0.1)
        nothing_yet = fake.channel_messages("C2") == []
        await pending

    assert stored_before_answer and nothing_yet
    assert [m["text"] for m in fake.channel_messages("C2")] == ["second"]


async def test_joining_a_public_channel_makes_its_history_readable_unless_refused() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        client = _client(base_url)
        fake.faults.not_a_member("C1")
        fake.faults.not_a_member("C2")
        fake.faults.refuse_join("C2", "missing_scope")
        await client.conversations_join(channel="C1")
        await client.conversations_history(channel="C1")
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_join(channel="C2")
        with pytest.raises(SlackApiError) as unreadable:
            await client.conversations_history(channel="C2")

    assert refused.value.response["error"] == "missing_scope"
    assert unreadable.value.response["error"] == "not_in_channel"


async def test_connections_counts_how_many_tcp_connections_carried_calls() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        for _ in range(3):
            await _client(base_url).auth_test()  # slack_sdk without a session: a new connection per call
    assert fake.connections == 3
