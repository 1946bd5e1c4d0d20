"""Answering a Slack request: at its response_url (tried twice), else privately with chat.postEphemeral; a mention
in its thread with chat.postMessage, else privately.

A response_url is a credential: nothing here logs one. A lost answer is said in the log with what it answered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.render.message import Message
from bot.slack.metrics import SlackMetrics

log = logging.getLogger(__name__)

# A response_url that answers 5xx or cannot be reached is tried once more after this pause, then the answer goes
# through chat.postEphemeral instead.
RESPOND_RETRY_DELAY_S = 0.5


@dataclass(frozen=True)
class Fallback:
    """Where an answer goes when its response_url fails: privately to `user` in `channel`, through the Web API.
    `what` names the request in the log (never the response_url: it is a credential)."""

    client: AsyncWebClient
    channel: str
    user: str
    what: str


class Replier:
    """Sends answers at response_urls, counting the failures in `metrics`."""

    def __init__(self, *, metrics: SlackMetrics | None = None, retry_delay_s: float = RESPOND_RETRY_DELAY_S) -> None:
        self._metrics = metrics
        self._retry_delay_s = retry_delay_s

    async def send(
        self, respond: AsyncRespond, message: Message, *, fallback: Fallback | None = None, **options: Any
    ) -> bool:
        """Answer at the response_url; a 5xx or network failure is tried once more. When that fails too and a
        `fallback` is given, the answer goes to the user privately with chat.postEphemeral."""
        failure = ""
        for attempt in (1, 2):
            try:
                response = await respond(text=message.text, blocks=message.blocks, **options)
            except (aiohttp.ClientError, TimeoutError) as exc:
                failure, retry = messages.log_respond_unreachable(type(exc).__name__), True
            else:
                if response.status_code == 200:
                    return True
                # WebhookClient does not raise: an answer Slack refused would otherwise vanish silently.
                failure = messages.log_respond_failed(response.status_code, str(response.body))
                retry = response.status_code >= 500
            if self._metrics is not None:
                self._metrics.respond_failures.inc()
            if not retry or attempt == 2:
                break
            log.warning("%s; trying once more", failure)
            await asyncio.sleep(self._retry_delay_s)
        if fallback is None or not fallback.channel or not fallback.user:
            log.error(failure)
            return False
        return await _post_ephemeral(fallback, message, failure)


def ephemeral(message: Message) -> dict[str, Any]:
    """`message` as the arguments of an ack that answers privately."""
    return {"text": message.text, "blocks": message.blocks, "response_type": "ephemeral"}


async def delete_original(respond: AsyncRespond) -> None:
    """Remove the message the response_url belongs to (the private card, once shared)."""
    response = await respond(delete_original=True)
    if response.status_code != 200:
        log.warning(messages.log_respond_failed(response.status_code, str(response.body)))


@dataclass(frozen=True)
class Thread:
    """Where a mention is answered: the thread of `thread_ts` in `channel`; `user` asked (and gets the answer
    privately when the thread refuses it)."""

    client: AsyncWebClient
    channel: str
    thread_ts: str | None
    user: str


async def answer_in_thread(thread: Thread, message: Message) -> bool:
    """Post `message` in the thread with chat.postMessage; when Slack refuses it there (the message was deleted, the
    blocks were refused, Slack stayed down through the client's retries), send it to the user with
    chat.postEphemeral. Never raises for Slack's failures: a reply that could not be sent is one log line."""
    try:
        await thread.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=message.text, blocks=message.blocks
        )
        return True
    except _SLACK_FAILURES as exc:
        failure = _reason(exc)
    if not thread.channel or not thread.user:
        log.error(messages.log_thread_reply_lost(thread.user or "someone", thread.channel or "?", failure, "no user"))
        return False
    try:
        await thread.client.chat_postEphemeral(
            channel=thread.channel, user=thread.user, text=message.text, blocks=message.blocks
        )
    except _SLACK_FAILURES as exc:
        log.error(messages.log_thread_reply_lost(thread.user, thread.channel, failure, _reason(exc)))
        return False
    log.warning(messages.log_thread_reply_rerouted(thread.user, thread.channel, failure))
    return True


_SLACK_FAILURES = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError)


def _reason(exc: BaseException) -> str:
    """Slack's error code, or the kind of transport failure: never the request (it may carry a response_url)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__


async def _post_ephemeral(fallback: Fallback, message: Message, failure: str) -> bool:
    try:
        await fallback.client.chat_postEphemeral(
            channel=fallback.channel, user=fallback.user, text=message.text, blocks=message.blocks
        )
    except _SLACK_FAILURES as exc:
        reason = _reason(exc)
        log.error(
            "the answer to %s for %s in %s was lost: %s, and chat.postEphemeral failed too (%s)",
            fallback.what,
            fallback.user,
            fallback.channel,
            failure,
            reason,
        )
        return False
    log.warning("%s; answered %s with chat.postEphemeral instead", failure, fallback.what)
    return True


__all__ = [
    "RESPOND_RETRY_DELAY_S",
    "Fallback",
    "Replier",
    "Thread",
    "answer_in_thread",
    "delete_original",
    "ephemeral",
]
