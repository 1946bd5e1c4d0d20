"""The outbox deliverer's policy, pure: what a Slack answer means for a row, how long to back off, how a sent
message is recognised by its outbox key.

    transient  429 (honour Retry-After), 5xx, network errors, Slack's own "try again" errors  -> stay pending
    broken     the channel (or the token) can no longer be posted to                          -> failed_permanent,
               and the channel's subscriptions are marked broken with the reason
    rejected   Slack will never accept this message (invalid_blocks, msg_too_long, ...)       -> failed_permanent,
               logged loudly: a bug in a renderer, not a condition to wait out
    parent_gone  the message a reply threads under, or an update edits, is gone (deleted)    -> a reply is posted
               at the top of the channel instead; an update is dropped (its card no longer exists)
    unknown    an error code we have not classified: retried a few times, then rejected, so one odd row cannot
               hold up its channel for ever
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.store.outbox import CHANNEL_ERRORS

# The `event_type` of the message metadata that carries the outbox key, so a crash between Slack's "ok" and the
# database write is recognised in channel history instead of posting twice.
OUTBOX_EVENT_TYPE = "dlf_bot_outbox"

# CHANNEL_ERRORS (imported from the store, which queues the rows they failed again when the channel is re-watched):
# the bot can no longer post to the channel; retrying never helps; the subscription is broken.

# Slack's own "the problem is on our side, try again".
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

# Errors about the message itself: the same message will never be accepted.
MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "metadata_must_be_sent_from_app",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "edit_window_closed",
    }
)

# Errors that say the message a reply or an update refers to is gone (someone deleted the alert): the row itself is
# fine, its place is not.
PARENT_GONE_ERRORS = frozenset({"thread_not_found", "message_not_found", "cant_update_message"})

UNKNOWN_ERROR_ATTEMPTS = 5
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0


@dataclass(frozen=True)
class Failure:
    """What to do with a row whose delivery failed."""

    kind: Literal["transient", "broken", "rejected", "parent_gone"]
    reason: str  # a short code for the row's last_error and the subscription's broken_reason
    retry_after_s: float | None = None  # transient only: Slack's Retry-After, when it gave one


def classify_slack_error(
    *, status: int | None, error: str | None, retry_after: str | None, attempts: int
) -> Failure:
    """Classify a Slack Web API failure (HTTP `status`, the body's `error` code, the Retry-After header).

    `attempts` counts this row's attempts including this one; it bounds retries of unclassified errors.
    """
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return Failure("transient", "ratelimited", _seconds(retry_after))
    if error in CHANNEL_ERRORS:
        return Failure("broken", error)
    if error in MESSAGE_ERRORS:
        return Failure("rejected", error)
    if error in PARENT_GONE_ERRORS:
        return Failure("parent_gone", error)
    if error in TRANSIENT_ERRORS:
        return Failure("transient", error, _seconds(retry_after))
    if status is not None and status >= 500:
        return Failure("transient", f"http_{status}", _seconds(retry_after))
    code = error or (f"http_{status}" if status is not None else "unknown_error")
    if attempts >= UNKNOWN_ERROR_ATTEMPTS:
        return Failure("rejected", code)
    return Failure("transient", code)


def lookup_failure_is_transient(*, status: int | None, error: str | None, network: bool = False) -> bool:
    """Whether a failed history lookup (the duplicate check before re-posting a row) is worth retrying later.

    Only Slack being down or rate limiting is: the lookup is retried with the row's back-off. Any other answer
    (`not_in_channel` for a public channel the bot posts to through chat:write.public, `channel_not_found`,
    `missing_scope`, `thread_not_found`, an unknown code) means the history cannot be read: the caller posts
    anyway, and only the post's own answer may say the channel is broken. A possible duplicate beats a lost alert.
    """
    if network or status == 429 or (status is not None and status >= 500):
        return True
    return error in TRANSIENT_ERRORS or error in ("ratelimited", "rate_limited")


def backoff_s(attempts: int, *, retry_after_s: float | None = None) -> float:
    """Seconds to wait before the next attempt: Slack's Retry-After when given, else doubling from 2 s to 5 min."""
    if retry_after_s is not None:
        return max(retry_after_s, 0.0)
    return min(BACKOFF_BASE_S * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_S)


def message_metadata(key: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The `metadata` argument of chat.postMessage: the row's own metadata plus its outbox key."""
    about = payload.get("metadata") or {}
    return {"event_type": OUTBOX_EVENT_TYPE, "event_payload": {**about, "key": key}}


def find_posted(messages: Iterable[Mapping[str, Any]], key: str) -> str | None:
    """The ts of the message among `messages` (conversations.history / .replies, with metadata) that carries
    outbox `key`, or None."""
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == OUTBOX_EVENT_TYPE and (metadata.get("event_payload") or {}).get("key") == key:
            ts = message.get("ts")
            if isinstance(ts, str):
                return ts
    return None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


__all__ = [
    "CHANNEL_ERRORS",
    "MESSAGE_ERRORS",
    "OUTBOX_EVENT_TYPE",
    "PARENT_GONE_ERRORS",
    "TRANSIENT_ERRORS",
    "Failure",
    "backoff_s",
    "classify_slack_error",
    "find_posted",
    "lookup_failure_is_transient",
    "message_metadata",
]
