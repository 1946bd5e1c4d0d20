"""Alert card, thread replies, follow outcomes, digest, subscription messages: content users rely on, golden
files, and validity."""

from __future__ import annotations

from render_fixtures import NOW_MS, check_golden, load_instance

from bot.dlf.models import InstanceSummary
from bot.render.actions import INSTANCE_REFRESH, INSTANCE_SHARE
from bot.render.alert import (
    render_alert,
    render_follow_outcome,
    render_recovery,
    render_repeat_failure,
)
from bot.render.digest import render_digest
from bot.render.limits import problems
from bot.render.preview import to_text
from bot.render.watches import (
    SubscriptionView,
    render_subscribed,
    render_unsubscribed,
    render_watches,
)

ONCALL = "<!subteam^S0123ABC|@data-oncall>"


def action_ids(message) -> set[str]:
    return {e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]}


def test_alert_is_the_card_with_mentions_and_state() -> None:
    message = render_alert(
        load_instance("failed_nodes"), now_ms=NOW_MS, profile="prod", mentions=[ONCALL, "<@U024BE7LH>"]
    )
    assert problems(message) == []
    # The mention rides in the notification text so the people are actually pinged.
    assert message.text == (
        "<!subteam^S0123ABC> <@U024BE7LH> job_nightly_dws instance 775533 failed: 1 of 12 nodes failed"
    )
    top = message.blocks[1]["text"]["text"]
    assert top == ":rotating_light: *Failure alert* · Open\ncc <!subteam^S0123ABC> <@U024BE7LH>"
    text = to_text(message)
    assert "merge_customers" in text and "obs://dlf-log/job_nightly_dws" in text
    # Posted in the channel already: Refresh, no Share.
    assert action_ids(message) == {INSTANCE_REFRESH}
    check_golden("alert_failed_nodes", message.to_dict())


def test_a_mention_that_is_not_a_token_pings_no_one() -> None:
    message = render_alert(load_instance("seed"), now_ms=NOW_MS, mentions=["<!channel>", "@here", "<@U024BE7LH>"])
    assert problems(message) == []
    assert message.text.startswith("<@U024BE7LH> job_batch")
    assert "<!channel>" not in str(message.to_dict())
    assert "cc <@U024BE7LH> `&lt;!channel&gt;` `@here`" in message.blocks[1]["text"]["text"]


def test_alert_counts_repeats_and_shows_resolution() -> None:
    instance = load_instance("seed")
    repeated = render_alert(instance, now_ms=NOW_MS, failure_count=3, event="running-exception", state="acknowledged")
    assert repeated.blocks[1]["text"]["text"].startswith(
        ":warning: *Running with an exception* · failed 3 times in a row (latest instance shown) · :eyes: Acknowledged"
    )
    later = InstanceSummary(jobName="job_batch", instanceId=34790, status="success", endTime=1551430000000)
    resolved = render_alert(instance, now_ms=NOW_MS, mentions=[ONCALL], resolved_by=later)
    assert problems(resolved) == []
    top = resolved.blocks[1]["text"]["text"]
    assert top.startswith(
        ":rotating_light: *Failure alert* · :white_check_mark: Resolved\nA later instance, 34790, succeeded"
    )
    assert "\ncc " not in top  # nobody is pinged about a resolution
    assert resolved.text == "Resolved: job_batch instance 34765 failed"
    rerun = InstanceSummary(jobName="job_batch", instanceId=34765, status="success")
    assert (
        "The rerun of instance 34765 succeeded."
        in render_alert(instance, now_ms=NOW_MS, resolved_by=rerun).blocks[1]["text"]["text"]
    )


def test_thread_replies() -> None:
    again = render_repeat_failure(load_instance("failed_nodes"), failure_count=2, now_ms=NOW_MS, mentions=[ONCALL])
    assert problems(again) == []
    assert again.blocks[0]["text"]["text"].startswith(
        ":repeat: Failed again: instance 775533 of `job_nightly_dws` — 2 failures in a row (ended <!date^"
    )
    assert again.blocks[1]["text"]["text"].startswith(":x: *`merge_customers`* failed")
    assert again.text == "<!subteam^S0123ABC> job_nightly_dws failed again (instance 775533, 2 in a row)"
    later = InstanceSummary(jobName="job_batch", instanceId=34790, status="success")
    for reason, expected in [
        ("rerun", ":white_check_mark: Resolved: the rerun of instance 34765 of `job_batch` succeeded."),
        (
            "later_success",
            (
                ":white_check_mark: Resolved: a later instance of `job_batch`, 34790, "
                "succeeded after instance 34765 failed."
            ),
        ),
        ("<!here>", ":white_check_mark: Resolved (&lt;!here&gt;): instance 34790 of `job_batch` succeeded."),
    ]:
        message = render_recovery(later, failed_instance_id=34765, reason=reason, now_ms=NOW_MS)
        assert problems(message) == []
        assert message.blocks[0]["text"]["text"] == expected


def test_many_failed_nodes_in_a_reply_point_to_the_card() -> None:
    reply = render_repeat_failure(load_instance("large_5000_nodes"), failure_count=4, now_ms=NOW_MS)
    assert problems(reply) == []
    assert "more failed nodes — on the card above" in to_text(reply)


def test_follow_outcome_for_success_and_failure() -> None:
    ok = render_follow_outcome(load_instance("succeeded"), now_ms=NOW_MS, mentions=["<@U024BE7LH|alice>"])
    assert problems(ok) == []
    assert ok.blocks[1]["text"]["text"] == (
        ":checkered_flag: The instance you followed ended: 990017 of `report_weekly`\ncc <@U024BE7LH>"
    )
    assert ok.text == "<@U024BE7LH> report_weekly instance 990017 succeeded"
    failed = render_follow_outcome(load_instance("seed"), now_ms=NOW_MS)
    assert failed.blocks[1]["text"]["text"].startswith(":rotating_light: The instance you followed ended")
    assert INSTANCE_SHARE not in action_ids(failed)
    check_golden("follow_outcome_succeeded", ok.to_dict())


def test_digest_counts_jobs_and_points_to_the_thread() -> None:
    failures = [InstanceSummary(jobName=f"job_{n % 7}", instanceId=1000 + n, status="fail") for n in range(23)]
    message = render_digest(failures, now_ms=NOW_MS, profile="prod", mentions=[ONCALL])
    assert problems(message) == []
    assert message.blocks[0]["text"]["text"] == ":rotating_light: 23 failures in 7 jobs"
    assert "is in this thread" in message.blocks[1]["text"]["text"]
    jobs = message.blocks[2]["text"]["text"]
    assert jobs.splitlines()[1] == "• `job_0` — 4 failed (instance 1000, 1007, 1014, 1021)"
    assert message.text.startswith(
        "<!subteam^S0123ABC> 23 failures in 7 jobs: job_0, job_1, job_2, job_3, job_4 …and 2 more"
    )
    check_golden("digest_23", message.to_dict())


def test_digest_of_a_storm_stays_within_limits() -> None:
    failures = [
        InstanceSummary(jobName=f"<!channel>_{'x' * 200}_{n}", instanceId=n, status="fail") for n in range(2000)
    ]
    message = render_digest(failures, now_ms=NOW_MS)
    assert problems(message) == []
    assert "more jobs" in to_text(message)
    assert render_digest([], now_ms=NOW_MS).text == "0 failures in 0 jobs"


def test_watches_list_states_and_reasons() -> None:
    subs = [
        SubscriptionView(target="job_batch", mention="<@U024BE7LH>"),
        SubscriptionView(target="etl_*", is_pattern=True, events=("failure", "running-exception")),
        SubscriptionView(target="job_batch", instance_id=34765, events=("success", "failure"), profile="prod"),
        SubscriptionView(target="old_job", state="broken", broken_reason="not_in_channel"),
        SubscriptionView(target="<!here>", state="broken", broken_reason="weird & <new> error"),
    ]
    message = render_watches(subs)
    assert problems(message) == []
    lines = message.blocks[1]["text"]["text"].splitlines()
    assert lines == [
        "• job `job_batch` · when it fails · mentions <@U024BE7LH> · :large_green_circle: active",
        "• every job matching `etl_*` · when it fails or runs into an exception · :large_green_circle: active",
        "• instance 34765 of `job_batch` · when it succeeds or fails · profile `prod` · :large_green_circle: active",
        (
            "• job `old_job` · when it fails · :red_circle: broken — the bot is not in this channel: invite it with "
            "`/invite @DLF bot`"
        ),
        "• job `&lt;!here&gt;` · when it fails · :red_circle: broken — weird &amp; &lt;new&gt; error",
    ]
    assert message.text == "This channel has 5 DLF subscriptions (2 broken)"
    check_golden("watches", message.to_dict())


def test_no_watches_explains_how_to_start() -> None:
    message = render_watches([])
    assert problems(message) == []
    assert "`/dlf watch job_batch`" in message.blocks[0]["text"]["text"]


def test_many_watches_are_cut_with_a_count() -> None:
    subs = [SubscriptionView(target=f"job_{n:04d}_" + "y" * 100) for n in range(500)]
    message = render_watches(subs)
    assert problems(message) == []
    assert "more subscriptions" in to_text(message)


def test_subscribe_and_unsubscribe_answers() -> None:
    job = render_subscribed(SubscriptionView(target="job_batch", mention=ONCALL))
    assert job.blocks[0]["text"]["text"] == (
        ":white_check_mark: This channel gets an alert when job `job_batch` fails, mentioning <!subteam^S0123ABC>."
    )
    pattern = render_subscribed(SubscriptionView(target="etl_*", is_pattern=True), already=True)
    assert pattern.blocks[0]["text"]["text"] == (
        ":information_source: Already set up, nothing changed: this channel gets an alert when every job matching "
        "`etl_*` fails."
    )
    follow = render_subscribed(SubscriptionView(target="job_batch", instance_id=34765, events=("success", "failure")))
    assert follow.blocks[0]["text"]["text"] == (
        ":white_check_mark: This channel will hear how instance 34765 of `job_batch` ends (succeeds or fails)."
    )
    assert follow.text == "Watching job_batch instance 34765"
    gone = render_unsubscribed("job_batch")
    assert gone.blocks[0]["text"]["text"] == ":wave: This channel no longer watches job `job_batch`."
    never = render_unsubscribed("etl_*", is_pattern=True, removed=False)
    assert never.blocks[0]["text"]["text"].startswith(
        ":information_source: This channel was not watching every job matching `etl_*`, so nothing changed."
    )
    for message in (job, pattern, follow, gone, never):
        assert problems(message) == []


def test_an_updated_subscription_says_what_it_now_is_and_which_mention_it_lost() -> None:
    before = SubscriptionView(target="job_batch", mention=ONCALL)
    dropped = render_subscribed(
        SubscriptionView(target="job_batch", events=("failure", "running-exception")), previous=before
    )
    assert dropped.blocks[0]["text"]["text"] == (
        ":white_check_mark: Updated: this channel gets an alert when job `job_batch` fails or runs into an exception."
        " It no longer mentions <!subteam^S0123ABC>."
    )
    kept = render_subscribed(
        SubscriptionView(target="job_batch", events=("failure", "running-exception"), mention=ONCALL), previous=before
    )
    assert kept.blocks[0]["text"]["text"] == (
        ":white_check_mark: Updated: this channel gets an alert when job `job_batch` fails or runs into an exception,"
        " mentioning <!subteam^S0123ABC>."
    )
    assert "`--mention none` removes the mention" in kept.blocks[1]["elements"][0]["text"]
    assert "--mention none" not in str(dropped.blocks)
    for message in (dropped, kept):
        assert problems(message) == []
