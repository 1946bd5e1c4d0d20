"""The outbox deliverer's policy, pure: what a Slack answer means for a row, how long to back off, how a sent
message is recognised by its outbox key, whether an attempt may have posted, and the liveness bounds.

    transient  429 (honour Retry-After), 5xx, network errors, Slack's own "try again" errors  -> stay pending
    broken     the channel (or the token) can no longer be posted to                          -> failed_permanent,
               and the channel's subscriptions are marked broken with the reason
    rejected   Slack will never accept this message (invalid_blocks, msg_too_long, ...)       -> failed_permanent,
               logged loudly: a bug in a renderer, not a condition to wait out
    parent_gone  the message a reply threads under, or an update edits, is gone (deleted)    -> a reply is posted
               at the top of the channel instead; an update is dropped (its card no longer exists)
    unknown    an error code we have not classified: retried a few times, then rejected, so one odd row cannot
               hold up its channel for ever

Repair (`REQUEUE_ON_REPAIR`): a `/dlf watch` that re-activates a broken channel queues again the rows Slack refused
with a channel error in the last 7 days; the store applies the rule it is given (`Subscriptions.subscribe`).

Whether an attempt may have posted (`answer_settles`): Slack *answering* with an error (HTTP 200 `ok: false`, a 429,
any other 4xx) says the message was not posted; so does a connection that could not be opened. A 5xx (a proxy may
answer it after Slack posted), a timeout, a connection reset mid-request or a crash leave the outcome unknown: the row
is *in doubt*, and before anything is posted again the channel's history (or the thread's replies) is searched for the
row's key in message metadata. While that history cannot be read the row is held (`classify_lookup_error`), never
posted: an unreadable history is never taken for "not posted".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

# The `event_type` of the message metadata that carries the outbox key, so a crash between Slack's "ok" and the
# database write is recognised in channel history instead of posting twice.
OUTBOX_EVENT_TYPE = "dlf_bot_outbox"

# Slack errors that say the bot can no longer post to a channel (or with this token): retrying never helps, the
# channel's subscriptions are marked broken, and the rows they failed are queued again when the channel is re-watched.
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "not_authed",
    }
)

# Messages Slack refused because the channel was broken are queued again on repair when they are this recent: an
# older alert is stale news (DLF itself keeps instances 7 days).
REQUEUE_WINDOW_MS = 7 * 24 * 3600 * 1000

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
BACKOFF_CAP_S = 60.0

# A replica's heartbeat lease lives this long without renewal (DLF_HEARTBEAT_TTL); see `Liveness`.
DEFAULT_HEARTBEAT_TTL_S = 15.0
MIN_HEARTBEAT_TTL_S = 3.0


@dataclass(frozen=True)
class RequeueOnRepair:
    """Which rows a channel's repair (a `/dlf watch` that re-activates it) queues again: those that failed for good
    with one of `errors` and were queued no more than `window_ms` ago. The store applies it as given."""

    errors: frozenset[str]
    window_ms: int


REQUEUE_ON_REPAIR = RequeueOnRepair(errors=CHANNEL_ERRORS, window_ms=REQUEUE_WINDOW_MS)


def holds_follow(*, row_status: str, last_error: str | None, channel_broken: bool) -> bool:
    """Whether an ended follow's outcome row still waits to be said: pending, or refused by a broken channel (it is
    re-queued when someone repairs the channel, so the follow must stay until then)."""
    return row_status == "pending" or (
        row_status == "failed_permanent" and last_error in CHANNEL_ERRORS and channel_broken
    )


@dataclass(frozen=True)
class Liveness:
    """The heartbeat's timing, and the two bounds that keep a takeover from ever overlapping a send in flight.

    A replica renews its heartbeat lease every `renew_every_s`; others take over its claims once the lease is
    `ttl_s` old. It starts no Slack call when its last successful renewal began more than `fence_s` ago, and every
    Slack call gives up after `slack_timeout_s`. So every call it makes has ended `ttl_s - fence_s - slack_timeout_s`
    (the margin, 4 s at the default 15 s) before anyone may take over: room for clock skew between replicas.
    """

    ttl_s: float = DEFAULT_HEARTBEAT_TTL_S

    def __post_init__(self) -> None:
        if self.ttl_s < MIN_HEARTBEAT_TTL_S:
            raise ValueError(f"the heartbeat TTL must be at least {MIN_HEARTBEAT_TTL_S:.0f} s")

    @property
    def renew_every_s(self) -> float:
        """How often the lease is renewed: several renewals may fail before the fence closes."""
        return self.ttl_s / 7.5

    @property
    def fence_s(self) -> float:
        """No Slack call starts when the last successful renewal began longer ago than this."""
        return self.ttl_s * 0.4

    @property
    def slack_timeout_s(self) -> float:
        """Each Slack Web API call of the deliverer gives up after this long."""
        return self.ttl_s / 3

    @property
    def margin_s(self) -> float:
        """Between the end of the last possible call of a replica and the earliest takeover of its claims."""
        return self.ttl_s - self.fence_s - self.slack_timeout_s


def answer_settles(status: int | None) -> bool:
    """Whether an HTTP answer from Slack to a post says it was not posted: every error answer below 500 (an
    `ok: false` body, a 429, a 4xx). A 5xx may come from a proxy after Slack posted: the outcome is unknown."""
    return status is not None and status < 500


@dataclass(frozen=True)
class LookupProblem:
    """Why the history lookup of a row in doubt could not say whether it was posted, and what to do.

    join        not a member of a public channel (posting through chat:write.public): join it, then read again
    broken      the channel is gone for the bot: like a post's channel error, its subscriptions are marked broken
                (the row keeps its doubt, so a re-watch looks it up again before posting)
    held        anything else (Slack down or rate limiting, a missing scope, ...): the row stays in doubt and is
                tried again later; it is never posted meanwhile
    """

    kind: Literal["join", "broken", "held"]
    reason: str
    retry_after_s: float | None = None


def classify_lookup_error(*, status: int | None, error: str | None, retry_after: str | None) -> LookupProblem:
    """What a failed conversations.history / .replies answer means for a row in doubt."""
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return LookupProblem("held", "history_ratelimited", _seconds(retry_after))
    if error == "not_in_channel":
        return LookupProblem("join", error)
    if error in ("channel_not_found", "is_archived"):
        return LookupProblem("broken", error)
    code = error or (f"http_{status}" if status is not None else "unknown_error")
    return LookupProblem("held", f"history_{code}", _seconds(retry_after))


def classify_join_error(error: str | None) -> LookupProblem:
    """What a failed conversations.join means: the channel is gone, or the history stays unreadable (held)."""
    if error in ("channel_not_found", "is_archived"):
        return LookupProblem("broken", error or "channel_not_found")
    return LookupProblem("held", f"not_in_channel (cannot join: {error or 'unknown_error'})")


def doubt_backoff_s(attempts: int, *, settle_s: float, retry_after_s: float | None = None) -> float:
    """Seconds before a row in doubt is looked up again: the usual back-off, but never sooner than `settle_s` (the
    Slack timeout) after an attempt whose outcome is unknown, so a request Slack received late has landed."""
    return max(backoff_s(attempts, retry_after_s=retry_after_s), settle_s)


@dataclass(frozen=True)
class Failure:
    """What to do with a row whose delivery failed."""

    kind: Literal["transient", "broken", "rejected", "parent_gone"]
    reason: str  # a short code for the row's last_error and the subscription's broken_reason
    retry_after_s: float | None = None  # transient only: Slack's Retry-After, when it gave one


def classify_slack_error(*, status: int | None, error: str | None, retry_after: str | None, attempts: int) -> Failure:
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


def backoff_s(attempts: int, *, retry_after_s: float | None = None) -> float:
    """Seconds to wait before the next attempt: Slack's Retry-After when given, else doubling from 2 s to 1 min."""
    if retry_after_s is not None:
        return max(retry_after_s, 0.0)
    return min(BACKOFF_BASE_S * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_S)


def message_metadata(key: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The `metadata` argument of chat.postMessage: the row's own metadata plus its outbox key."""
    about = payload.get("metadata") or {}
    return {"event_type": OUTBOX_EVENT_TYPE, "event_payload": {**about, "key": key}}


def find_posted(messages: Iterable[Mapping[str, Any]], key: str) -> str | None:
    """The ts of the oldest message among `messages` (conversations.history / .replies, with metadata) that carries
    outbox `key`, or None. The oldest: should two copies ever exist, replies and updates go to the first one."""
    found: list[str] = []
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == OUTBOX_EVENT_TYPE and (metadata.get("event_payload") or {}).get("key") == key:
            ts = message.get("ts")
            if isinstance(ts, str):
                found.append(ts)
    return oldest_ts(found) if found else None


def oldest_ts(timestamps: Iterable[str]) -> str:
    """The earliest of Slack message timestamps ("seconds.micros"), compared as numbers."""
    return min(timestamps, key=_ts_order)


def _ts_order(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return (0, 0)


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


__all__ = [
    "CHANNEL_ERRORS",
    "DEFAULT_HEARTBEAT_TTL_S",
    "MESSAGE_ERRORS",
    "OUTBOX_EVENT_TYPE",
    "PARENT_GONE_ERRORS",
    "REQUEUE_ON_REPAIR",
    "REQUEUE_WINDOW_MS",
    "TRANSIENT_ERRORS",
    "Failure",
    "Liveness",
    "LookupProblem",
    "RequeueOnRepair",
    "answer_settles",
    "backoff_s",
    "classify_join_error",
    "classify_lookup_error",
    "classify_slack_error",
    "doubt_backoff_s",
    "find_posted",
    "holds_follow",
    "message_metadata",
    "oldest_ts",
]
