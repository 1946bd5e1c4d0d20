"""The Slack Web API client the Slack app answers with: built by the entry point, handed to `build_app`.

Retry handlers for connection errors, 429 (honouring Retry-After) and 5xx, and `base_url=SLACK_API_URL` (GovSlack,
tests); Bolt copies both into the clients it makes per request. With `session`, every call goes over the process's
one aiohttp connection pool.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

# Retries inside one request; the SDK counts attempts across handlers, so each allows the same total.
MAX_SLACK_RETRIES = 3


def slack_retry_handlers() -> list[AsyncRetryHandler]:
    """Connection errors, 429 (sleeps Retry-After) and 500/503 are retried; nothing else is."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=MAX_SLACK_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_SLACK_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=MAX_SLACK_RETRIES),
    ]


def build_web_client(*, token: str, base_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Slack Web API client every part of the bot uses; with `session`, over that session's connection pool."""
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=slack_retry_handlers(), session=session)


__all__ = ["MAX_SLACK_RETRIES", "build_web_client", "slack_retry_handlers"]
