"""What each Slack answer means for an outbox row: a commented table, plus back-off and key matching."""

from __future__ import annotations

import pytest

from bot.watcher.outbox import (
    OUTBOX_EVENT_TYPE,
    UNKNOWN_ERROR_ATTEMPTS,
    Failure,
    backoff_s,
    classify_slack_error,
    find_posted,
    lookup_failure_is_transient,
    message_metadata,
)


@pytest.mark.parametrize(
    ("status", "error", "retry_after", "attempts", "expected"),
    [
        # Slack's rate limit: wait exactly as long as it says, never drop.
        (429, "ratelimited", "30", 1, Failure("transient", "ratelimited", 30.0)),
        # A 429 with an unreadable Retry-After still waits (our own back-off decides how long).
        (429, None, "soon", 1, Failure("transient", "ratelimited", None)),
        # Slack down or a proxy in the way: try again later.
        (503, None, None, 1, Failure("transient", "http_503")),
        (500, "internal_error", None, 9, Failure("transient", "internal_error")),
        # Slack's own "try again" codes on a 200 answer.
        (200, "service_unavailable", None, 1, Failure("transient", "service_unavailable")),
        # The bot can no longer post to the channel: retrying never helps, the subscription is broken.
        (200, "channel_not_found", None, 1, Failure("broken", "channel_not_found")),
        (200, "not_in_channel", None, 1, Failure("broken", "not_in_channel")),
        (200, "is_archived", None, 1, Failure("broken", "is_archived")),
        (200, "invalid_auth", None, 1, Failure("broken", "invalid_auth")),
        (200, "token_revoked", None, 1, Failure("broken", "token_revoked")),
        (200, "account_inactive", None, 1, Failure("broken", "account_inactive")),
        # The message itself is wrong: a renderer bug, sending it again gives the same answer.
        (200, "invalid_blocks", None, 1, Failure("rejected", "invalid_blocks")),
        (200, "msg_too_long", None, 1, Failure("rejected", "msg_too_long")),
        # The alert a reply threads under or an update edits was deleted: the row is fine, its place is gone
        # (the deliverer posts a reply in the channel instead, and drops an update).
        (200, "thread_not_found", None, 1, Failure("parent_gone", "thread_not_found")),
        (200, "message_not_found", None, 1, Failure("parent_gone", "message_not_found")),
        (200, "cant_update_message", None, 1, Failure("parent_gone", "cant_update_message")),
        # A code we do not know: a few more tries, then give up so the channel is not blocked for ever.
        (200, "something_new", None, 1, Failure("transient", "something_new")),
        (200, "something_new", None, UNKNOWN_ERROR_ATTEMPTS, Failure("rejected", "something_new")),
    ],
)
def test_slack_answers_are_classified(
    status: int, error: str | None, retry_after: str | None, attempts: int, expected: Failure
) -> None:
    assert classify_slack_error(status=status, error=error, retry_after=retry_after, attempts=attempts) == expected


def test_backoff_doubles_up_to_a_cap_and_retry_after_wins() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_s(30) == 300.0
    assert backoff_s(5, retry_after_s=1.0) == 1.0


def test_a_posted_message_is_recognised_by_its_key_only() -> None:
    metadata = message_metadata("alert:C1:job_a:7", {"text": "x", "metadata": {"job": "job_a", "key": "forged"}})
    messages = [
        {"ts": "1.1", "metadata": {"event_type": "someone_else", "event_payload": {"key": "alert:C1:job_a:7"}}},
        {"ts": "1.2", "text": "no metadata"},
        {"ts": "1.3", "metadata": metadata},
    ]
    assert metadata["event_type"] == OUTBOX_EVENT_TYPE
    assert metadata["event_payload"] == {"job": "job_a", "key": "alert:C1:job_a:7"}  # the row's key wins
    assert find_posted(messages, "alert:C1:job_a:7") == "1.3"
    assert find_posted(messages, "alert:C1:job_a:8") is None


@pytest.mark.parametrize(
    ("status", "error", "network", "transient"),
    [
        # Slack down, rate limiting, or the connection failing: check again later rather than risk a duplicate.
        (500, None, False, True),
        (503, "service_unavailable", False, True),
        (429, "ratelimited", False, True),
        (200, "internal_error", False, True),
        (None, None, True, True),
        # The history cannot be read at all: post (only the post's answer may break the channel).
        (200, "not_in_channel", False, False),  # a public channel posted to via chat:write.public
        (200, "channel_not_found", False, False),
        (200, "missing_scope", False, False),
        (200, "not_allowed_token_type", False, False),
        (200, "thread_not_found", False, False),  # the thread's parent was deleted
        (200, "something_new", False, False),
    ],
)
def test_a_failed_duplicate_check_is_retried_only_when_slack_is_down(
    status: int | None, error: str | None, network: bool, transient: bool
) -> None:
    assert lookup_failure_is_transient(status=status, error=error, network=network) is transient
