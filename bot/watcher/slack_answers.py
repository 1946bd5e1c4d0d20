"""Slack's side of a delivery: the Web API client the deliverer uses, and what an error from it says (status, error
code, Retry-After) in the terms of the outbox policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.watcher.outbox import Failure, Liveness, classify_slack_error

DEFAULT_SLACK_TIMEOUT_S = Liveness().slack_timeout_s

# The connection was never opened: nothing reached Slack.
NOT_SENT_ERRORS = (aiohttp.ClientConnectorError,)
NETWORK_ERRORS = (TimeoutError, aiohttp.ClientError, OSError, SlackRequestError)


def make_delivery_client(
    *,
    token: str,
    base_url: str = "https://slack.com/api/",
    timeout: float = DEFAULT_SLACK_TIMEOUT_S,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """An AsyncWebClient for the deliverer: no built-in retries, because a retry inside one request could post a
    message twice; the deliverer retries itself, after checking what Slack already has. `session`: the process's
    shared aiohttp session (connections reused); the deliverer bounds each call by `timeout` itself as well."""
    return AsyncWebClient(
        token=token, base_url=base_url, timeout=max(1, int(timeout)), retry_handlers=[], session=session
    )


def status_of(exc: SlackApiError) -> int | None:
    """The HTTP status of Slack's answer, when there was one."""
    status = getattr(exc.response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def retry_after_of(exc: SlackApiError) -> str | None:
    """Slack's Retry-After header, as given."""
    headers: Mapping[str, Any] = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    return None if value is None else str(value)


def classify(exc: SlackApiError, attempts: int) -> Failure:
    """What the policy makes of this answer (`bot.watcher.outbox.classify_slack_error`)."""
    return classify_slack_error(
        status=status_of(exc), error=error_code(exc), retry_after=retry_after_of(exc), attempts=attempts
    )


def error_code(exc: SlackApiError) -> str | None:
    """The `error` code of Slack's answer body."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, Mapping):
        error = data.get("error")
        return str(error) if error is not None else None
    return None


def details(exc: Exception | None) -> str:
    """Slack's list of what is wrong with a message (`errors`), for the log line."""
    data = getattr(getattr(exc, "response", None), "data", None)
    if isinstance(data, Mapping) and data.get("errors"):
        return f" {data['errors']}"
    return ""


__all__ = [
    "DEFAULT_SLACK_TIMEOUT_S",
    "NETWORK_ERRORS",
    "NOT_SENT_ERRORS",
    "classify",
    "details",
    "error_code",
    "make_delivery_client",
    "retry_after_of",
    "status_of",
]
