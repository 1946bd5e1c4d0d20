"""What each Slack answer means for an outbox row: a commented table, plus back-off and key matching."""

from __future__ import annotations

import pytest

from bot.watcher.outbox import (
    OUTBOX_EVENT_TYPE,
    UNKNOWN_ERROR_ATTEMPTS,
    Failure,
    Liveness,
    LookupProblem,
    answer_settles,
    backoff_s,
    classify_join_error,
    classify_lookup_error,
    classify_slack_error,
    doubt_backoff_s,
    find_posted,
    message_metadata,
    oldest_ts,
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
    assert backoff_s(30) == 60.0  # one call per channel a minute while Slack is down: recovery within a minute
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


def test_of_two_copies_of_a_message_the_oldest_is_the_one_found() -> None:
    # History comes newest first; should a message ever be in a channel twice, replies and updates must go to the
    # first copy (the one people saw first), not to the newer one.
    copy = {"metadata": message_metadata("alert:1", {})}
    messages = [{**copy, "ts": "1700000100.000002"}, {**copy, "ts": "1700000099.000010"}, {**copy, "ts": "999.9"}]
    assert find_posted(messages, "alert:1") == "999.9"
    assert oldest_ts(["10.000002", "9.999999", "10.000001"]) == "9.999999"


@pytest.mark.parametrize(
    ("status", "settles"),
    [
        # Slack answered with an error: nothing was posted, the next attempt needs no history lookup.
        (200, True),  # ok: false (channel_not_found, invalid_blocks, ...)
        (429, True),  # rate limited: Slack took nothing
        (400, True),
        (404, True),
        # A 5xx can come from a proxy after Slack posted; no answer at all says nothing either.
        (500, False),
        (502, False),
        (503, False),
        (None, False),
    ],
)
def test_which_answers_say_a_post_did_not_happen(status: int | None, settles: bool) -> None:
    assert answer_settles(status) is settles


@pytest.mark.parametrize(
    ("status", "error", "retry_after", "expected"),
    [
        # A public channel posted to through chat:write.public: join it, then read.
        (200, "not_in_channel", None, LookupProblem("join", "not_in_channel")),
        # The channel is gone for the bot: like a post's own channel error (the row keeps its doubt).
        (200, "channel_not_found", None, LookupProblem("broken", "channel_not_found")),
        (200, "is_archived", None, LookupProblem("broken", "is_archived")),
        # Anything else leaves the question open: the row is held, never posted, and looked up again later.
        (429, "ratelimited", "7", LookupProblem("held", "history_ratelimited", 7.0)),
        (500, None, None, LookupProblem("held", "history_http_500")),
        (503, "service_unavailable", None, LookupProblem("held", "history_service_unavailable")),
        (200, "missing_scope", None, LookupProblem("held", "history_missing_scope")),
        (200, "not_allowed_token_type", None, LookupProblem("held", "history_not_allowed_token_type")),
        (200, "something_new", None, LookupProblem("held", "history_something_new")),
    ],
)
def test_an_unreadable_history_is_never_taken_for_not_posted(
    status: int | None, error: str | None, retry_after: str | None, expected: LookupProblem
) -> None:
    assert classify_lookup_error(status=status, error=error, retry_after=retry_after) == expected


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("missing_scope", "held"),  # the app was not granted channels:join: invite the bot, or reinstall it
        ("method_not_supported_for_channel_type", "held"),
        ("channel_not_found", "broken"),
        ("is_archived", "broken"),
    ],
)
def test_a_refused_join_holds_the_row_or_breaks_the_channel(error: str, kind: str) -> None:
    assert classify_join_error(error).kind == kind


def test_a_row_in_doubt_is_looked_up_again_no_sooner_than_a_slack_timeout() -> None:
    assert doubt_backoff_s(1, settle_s=5.0) == 5.0  # the first back-off (2 s) is shorter than the settle time
    assert doubt_backoff_s(4, settle_s=5.0) == 16.0
    assert doubt_backoff_s(1, settle_s=5.0, retry_after_s=30.0) == 30.0


def test_the_fence_and_the_slack_timeout_end_every_call_before_a_takeover() -> None:
    for ttl in (3.0, 15.0, 60.0):
        liveness = Liveness(ttl)
        assert liveness.renew_every_s * 2 < liveness.fence_s  # a missed renewal does not close the fence
        assert liveness.fence_s + liveness.slack_timeout_s + liveness.margin_s == pytest.approx(ttl)
        assert liveness.margin_s > 0
    with pytest.raises(ValueError):
        Liveness(1.0)
