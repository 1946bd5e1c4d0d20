"""The watcher's pure decision, as a table: every row says why it should or should not notify."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from bot.dlf.models import Instance, InstanceSummary, Node
from bot.watcher.decide import decide, relevant_failures
from bot.watcher.inputs import CycleInput, KnownIncident, Watch
from bot.watcher.intents import (
    Alert,
    Decision,
    Digest,
    FollowOutcome,
    IncidentFailedAgain,
    IncidentOpened,
    IncidentResolved,
    MuteCounted,
    Recovery,
    RepeatFailure,
)

P = "default"


def inst(job: str, instance_id: int, status: str = "fail", **extra: object) -> InstanceSummary:
    extra.setdefault("planTime", 900 * instance_id)
    return InstanceSummary(
        job_name=job, instance_id=instance_id, status=status, start_time=1_000 * instance_id, **extra
    )


def watch(channel: str, target: str, **extra: object) -> Watch:
    return Watch(channel=channel, target=target, **extra)


def incident(channel: str, job: str, last: int, count: int = 1) -> KnownIncident:
    return KnownIncident(
        channel=channel,
        job_name=job,
        root_key=f"alert:{P}:{channel}:{job}:{last}:failure",
        last_instance_id=last,
        failure_count=count,
        incident_id=7,
    )


def said(decision: Decision) -> list[str]:
    """Each intent as one short line, so a table row can spell out what must be said."""
    lines: list[str] = []
    for intent in decision.intents:
        match intent:
            case Alert():
                mention = f" {' '.join(intent.mentions)}" if intent.mentions else ""
                lines.append(
                    f"alert {intent.channel} {intent.instance.job_name}/{intent.instance.instance_id}"
                    f" {intent.event}{mention}"
                )
            case Digest():
                lines.append(f"digest {intent.channel} x{len(intent.alerts)}")
            case RepeatFailure():
                lines.append(
                    f"repeat {intent.channel} {intent.instance.job_name}/{intent.instance.instance_id}"
                    f" count={intent.failure_count}"
                )
            case Recovery():
                lines.append(
                    f"recovered {intent.channel} {intent.recovered_by.job_name}"
                    f" by {intent.recovered_by.instance_id} ({intent.reason})"
                )
            case FollowOutcome():
                lines.append(
                    f"follow {intent.channel} {intent.instance.job_name}/{intent.instance.instance_id}"
                    f" {intent.instance.status}"
                )
    return lines


@dataclass
class Row:
    watches: list[Watch]
    listed: list[InstanceSummary]
    expected: list[str]
    known: dict[tuple[str, int], str] = field(default_factory=dict)
    incidents: list[KnownIncident] = field(default_factory=list)
    threshold: int = 5
    runs: dict[tuple[str, int], int | None] = field(default_factory=dict)  # recorded start time of the known status
    ended: tuple[int, ...] = ()  # subscription ids of follows that end


ROWS = {
    # A watched job's instance fails and the store has never seen it: the one thing the product exists for.
    "new failure alerts": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101)],
        expected=["alert C1 job_a/101 failure"],
    ),
    # Same failure seen in an earlier cycle (the time windows overlap on purpose): a repeat would be spam.
    "known failure stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101)],
        known={("job_a", 101): "fail"},
        expected=[],
    ),
    # Nobody subscribed to job_b: DLF lists every failure of the project, only watched jobs may speak.
    "unwatched job stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_b", 101)],
        expected=[],
    ),
    # An operator already forced the instance to success: telling people about it is noise.
    "force-success not alerted": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, forceSuccess=True)],
        expected=[],
    ),
    # Same for ignore-failure: an operator accepted the failure.
    "ignore-failure not alerted": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, ignoreSuccess=True)],
        expected=[],
    ),
    # A running exception is news only to subscriptions that asked for it (the default is failure only).
    "running-exception without opt-in stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, "running-exception")],
        expected=[],
    ),
    # ...and alerts the channel that opted in.
    "running-exception with opt-in alerts": Row(
        watches=[watch("C1", "job_a", events=("failure", "running-exception"))],
        listed=[inst("job_a", 101, "running-exception")],
        expected=["alert C1 job_a/101 running-exception"],
    ),
    # The failure-only channel never heard of the running exception, so the final failure is news to it.
    "fail after unannounced running-exception alerts": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101)],
        known={("job_a", 101): "running-exception"},
        expected=["alert C1 job_a/101 failure"],
    ),
    # The opted-in channel already has the incident: the final failure goes in its thread, same count.
    "fail after announced running-exception replies": Row(
        watches=[watch("C1", "job_a", events=("failure", "running-exception"))],
        listed=[inst("job_a", 101)],
        known={("job_a", 101): "running-exception"},
        incidents=[incident("C1", "job_a", 101)],
        expected=["repeat C1 job_a/101 count=1"],
    ),
    # Broken (bot removed from the channel): the alert is still queued — the deliverer holds it until the channel is
    # re-watched, so a failure of the broken period is not lost.
    "broken subscription's alert is queued for when the channel is repaired": Row(
        watches=[watch("C1", "job_a", state="broken")],
        listed=[inst("job_a", 101)],
        expected=["alert C1 job_a/101 failure"],
    ),
    # Glob subscriptions match by fnmatch, case-sensitively, like DLF's job names.
    "glob matches": Row(
        watches=[watch("C1", "etl_*", is_pattern=True)],
        listed=[inst("etl_orders", 101), inst("ETL_upper", 102), inst("report", 103)],
        expected=["alert C1 etl_orders/101 failure"],
    ),
    # An exact name is not a pattern: "etl_*" typed without pattern intent only matches a job literally so named.
    "exact name is not a glob": Row(
        watches=[watch("C1", "etl_*")],
        listed=[inst("etl_orders", 101)],
        expected=[],
    ),
    # Two subscriptions of one channel match one job: one alert, both mentions.
    "overlapping subscriptions alert once": Row(
        watches=[watch("C1", "job_a", mention="<@U1>"), watch("C1", "job_*", is_pattern=True, mention="<!subteam^S1>")],
        listed=[inst("job_a", 101)],
        expected=["alert C1 job_a/101 failure <@U1> <!subteam^S1>"],
    ),
    # Each subscribed channel gets its own alert.
    "two channels alert each": Row(
        watches=[watch("C1", "job_a"), watch("C2", "job_a")],
        listed=[inst("job_a", 101)],
        expected=["alert C1 job_a/101 failure", "alert C2 job_a/101 failure"],
    ),
    # The job failed again while its incident is open: the thread grows, the channel is not flooded.
    "repeat failure replies in the thread": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 102)],
        known={("job_a", 101): "fail"},
        incidents=[incident("C1", "job_a", 101)],
        expected=["repeat C1 job_a/102 count=2"],
    ),
    # Two failures of one job in one cycle: one card, the second in its thread.
    "two failures in one cycle: alert then reply": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 102), inst("job_a", 101)],
        expected=["alert C1 job_a/101 failure", "repeat C1 job_a/102 count=2"],
    ),
    # The failed instance was rerun and succeeded: the incident is over, say so in the thread.
    "successful rerun recovers": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, "success")],
        known={("job_a", 101): "fail"},
        incidents=[incident("C1", "job_a", 101)],
        expected=["recovered C1 job_a by 101 (rerun)"],
    ),
    # A later instance of the job succeeded: the job works again.
    "later success recovers": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 105, "success")],
        known={("job_a", 101): "fail"},
        incidents=[incident("C1", "job_a", 101)],
        expected=["recovered C1 job_a by 105 (later_success)"],
    ),
    # A success older than the failure says nothing about the current state.
    "earlier success does not recover": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 99, "success")],
        incidents=[incident("C1", "job_a", 101)],
        expected=[],
    ),
    # Successes of jobs without an incident are the normal case: silence.
    "success without incident stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, "success")],
        expected=[],
    ),
    # A rerun failed again after its recovery was announced: a new state change, a new alert.
    "re-failure after recovery alerts again": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101)],
        known={("job_a", 101): "success"},
        expected=["alert C1 job_a/101 failure"],
    ),
    # The channel broke (bot removed) after the failure: the recovery is queued with the held card, so the repaired
    # channel sees the whole story, not an incident left open forever.
    "recovery in a broken channel is queued for when the channel is repaired": Row(
        watches=[watch("C1", "job_a", state="broken")],
        listed=[inst("job_a", 102, "success")],
        incidents=[incident("C1", "job_a", 101)],
        expected=["recovered C1 job_a by 102 (later_success)"],
    ),
    # fail -> rerun -> fail again: the status stays "fail" but the run (start time) is another one. The incident is
    # still open: a reply in its thread, and the counter grows (two failures of the job).
    "rerun that failed again replies in the open incident": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, startTime=205_000)],
        known={("job_a", 101): "fail"},
        runs={("job_a", 101): 101_000},
        incidents=[incident("C1", "job_a", 101)],
        expected=["repeat C1 job_a/101 count=2"],
    ),
    # ...and when that incident was resolved meanwhile (someone clicked Resolve), the new failure is a new alert.
    "rerun that failed again after the incident was resolved alerts anew": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, startTime=205_000)],
        known={("job_a", 101): "fail"},
        runs={("job_a", 101): 101_000},
        expected=["alert C1 job_a/101 failure"],
    ),
    # The same run listed again (the windows overlap on purpose) is old news.
    "same run of a known failure stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101)],
        known={("job_a", 101): "fail"},
        runs={("job_a", 101): 101_000},
        expected=[],
    ),
    # Recorded before runs were kept: no way to tell a rerun; a second alert for an old failure would be worse.
    "known failure recorded without its run stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, startTime=205_000)],
        known={("job_a", 101): "fail"},
        runs={("job_a", 101): None},
        expected=[],
    ),
    # A row DLF lists without a start time says nothing about its run: same run.
    "known failure listed without a start time stays quiet": Row(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101, startTime=None)],
        known={("job_a", 101): "fail"},
        runs={("job_a", 101): 101_000},
        expected=[],
    ),
    # A followed instance finished: the follower asked to hear how it ended, success included.
    "follow outcome success": Row(
        watches=[watch("C1", "job_a", instance_id=101, events=("success", "failure"), subscription_id=3)],
        listed=[inst("job_a", 101, "success")],
        expected=["follow C1 job_a/101 success"],
        ended=(3,),
    ),
    # `--on success`: the follower asked to hear only of success. A failure is not said, but the follow ends (the
    # instance finished; following it longer would hear nothing).
    "follow --on success stays quiet on failure and ends": Row(
        watches=[watch("C1", "job_a", instance_id=101, events=("success",), subscription_id=3)],
        listed=[inst("job_a", 101, "fail")],
        expected=[],
        ended=(3,),
    ),
    # `--on failure`: the success is not said, the follow ends.
    "follow --on failure stays quiet on success and ends": Row(
        watches=[watch("C1", "job_a", instance_id=101, events=("failure",), subscription_id=3)],
        listed=[inst("job_a", 101, "success")],
        expected=[],
        ended=(3,),
    ),
    # A running exception is not the end: said if asked for, and the follow goes on to the real outcome.
    "follow --on running-exception is told and keeps following": Row(
        watches=[watch("C1", "job_a", instance_id=101, events=("running-exception",), subscription_id=3)],
        listed=[inst("job_a", 101, "running-exception")],
        expected=["follow C1 job_a/101 running-exception"],
    ),
    # Not asked for: a running exception is not said to the follower.
    "follow without running-exception stays quiet on it": Row(
        watches=[watch("C1", "job_a", instance_id=101, events=("success", "failure"), subscription_id=3)],
        listed=[inst("job_a", 101, "running-exception")],
        expected=[],
    ),
    # Stopped by hand is no event anyone can ask for: it is said whatever `--on` was, because the follow ends and
    # silence would leave the channel waiting for a success that will never come.
    "follow of an instance stopped by hand is told and ends": Row(
        watches=[watch("C1", "job_a", instance_id=101, events=("success",), subscription_id=3)],
        listed=[inst("job_a", 101, "manual-stop")],
        expected=["follow C1 job_a/101 manual-stop"],
        ended=(3,),
    ),
    # A broken follow's outcome is queued like any alert of a broken channel (held until repair).
    "broken follow's outcome is queued for when the channel is repaired": Row(
        watches=[watch("C1", "job_a", instance_id=101, state="broken", subscription_id=3)],
        listed=[inst("job_a", 101, "fail")],
        expected=["follow C1 job_a/101 fail"],
        ended=(3,),
    ),
    # The channel follows the instance and watches its job: the failure is one message (the alert card, which pings
    # the follower's mention too), not an alert and a follow outcome saying the same thing; the follow ends.
    "follow and watch of the job in one channel: one alert with both mentions": Row(
        watches=[
            watch("C1", "job_a", mention="<@U1>"),
            watch("C1", "job_a", instance_id=101, events=("success", "failure"), mention="<@U2>", subscription_id=3),
        ],
        listed=[inst("job_a", 101, "fail")],
        expected=["alert C1 job_a/101 failure <@U1> <@U2>"],
        ended=(3,),
    ),
    # ...and when the job's incident is already open, the failure is its thread reply: still no second message.
    "follow and watch with an open incident: the thread reply only": Row(
        watches=[watch("C1", "job_a"), watch("C1", "job_a", instance_id=102, events=("failure",), subscription_id=3)],
        listed=[inst("job_a", 102, "fail")],
        known={("job_a", 101): "fail"},
        incidents=[incident("C1", "job_a", 101)],
        expected=["repeat C1 job_a/102 count=2"],
        ended=(3,),
    ),
    # The watch is in another channel: the follower's channel hears of the failure only through its follow.
    "follow in one channel, watch in another: each told once": Row(
        watches=[watch("C2", "job_a"), watch("C1", "job_a", instance_id=101, events=("failure",), subscription_id=3)],
        listed=[inst("job_a", 101, "fail")],
        expected=["alert C2 job_a/101 failure", "follow C1 job_a/101 fail"],
        ended=(3,),
    ),
    # The watch asked for failures only, the follow for the success: the success is the follow's to say.
    "follow's success is said beside a failure-only watch": Row(
        watches=[watch("C1", "job_a"), watch("C1", "job_a", instance_id=101, events=("success",), subscription_id=3)],
        listed=[inst("job_a", 101, "success")],
        expected=["follow C1 job_a/101 success"],
        ended=(3,),
    ),
    # A followed instance that is still running: nothing to tell yet.
    "follow still running stays quiet": Row(
        watches=[watch("C1", "job_a", instance_id=101, subscription_id=3)],
        listed=[inst("job_a", 101, "running")],
        expected=[],
    ),
    # A follow is not a watch of the whole job: another instance of it failing is not the follower's business.
    "follow ignores other instances": Row(
        watches=[watch("C1", "job_a", instance_id=101, subscription_id=3)],
        listed=[inst("job_a", 102)],
        expected=[],
    ),
    # Six new failures with a threshold of five: one digest at top level instead of six cards.
    "storm becomes a digest": Row(
        watches=[watch("C1", "job_*", is_pattern=True)],
        listed=[inst(f"job_{n}", 100 + n) for n in range(6)],
        expected=["digest C1 x6"],
        threshold=5,
    ),
    # Exactly at the threshold: still individual cards (the digest is for more than the threshold).
    "at the threshold no digest": Row(
        watches=[watch("C1", "job_*", is_pattern=True)],
        listed=[inst(f"job_{n}", 100 + n) for n in range(5)],
        expected=[f"alert C1 job_{n}/{100 + n} failure" for n in range(5)],
        threshold=5,
    ),
    # The storm is per channel: a channel watching one of the jobs still gets its single card.
    "storm in one channel, single card in another": Row(
        watches=[watch("C1", "job_*", is_pattern=True), watch("C2", "job_0")],
        listed=[inst(f"job_{n}", 100 + n) for n in range(3)],
        expected=["digest C1 x3", "alert C2 job_0/100 failure"],
        threshold=2,
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_decision_table(row: Row) -> None:
    cycle = CycleInput(
        profile=P,
        watches=row.watches,
        known=row.known,
        runs=row.runs,
        incidents=row.incidents,
        listed=row.listed,
        digest_threshold=row.threshold,
    )
    decision = decide(cycle)
    assert said(decision) == row.expected
    assert decision.finished_follows == row.ended


def cycle_of(**kwargs: object) -> CycleInput:
    defaults: dict[str, object] = {"profile": P, "watches": [], "known": {}, "incidents": [], "listed": []}
    defaults.update(kwargs)
    return CycleInput(**defaults)  # type: ignore[arg-type]


def test_keys_are_deterministic_and_distinct_per_channel() -> None:
    cycle = cycle_of(watches=[watch("C1", "job_a"), watch("C2", "job_a")], listed=[inst("job_a", 101)])
    first, second = decide(cycle), decide(cycle)
    assert [i.key for i in first.intents] == [i.key for i in second.intents]
    assert [i.key for i in first.intents] == [
        "alert:default:C1:job_a:101:failure",
        "alert:default:C2:job_a:101:failure",
    ]


def test_re_failure_after_recovery_gets_a_new_key() -> None:
    """The outbox ignores a known key: the second failure of a rerun instance must not reuse the first alert's."""
    first = decide(cycle_of(watches=[watch("C1", "job_a")], listed=[inst("job_a", 101)]))
    again = decide(
        cycle_of(
            watches=[watch("C1", "job_a")],
            listed=[inst("job_a", 101, startTime=9_999)],
            known={("job_a", 101): "success"},
        )
    )
    assert first.intents[0].key != again.intents[0].key


def test_store_changes_follow_the_intents() -> None:
    decision = decide(
        cycle_of(
            watches=[watch("C1", "job_a"), watch("C1", "job_b")],
            listed=[inst("job_a", 102), inst("job_b", 103), inst("job_c", 104), inst("job_b", 110, "success")],
            known={("job_a", 101): "fail"},
            incidents=[incident("C1", "job_a", 101)],
        )
    )
    assert decision.incident_changes == (
        IncidentFailedAgain(channel="C1", job_name="job_a", instance_id=102),
        IncidentOpened(
            channel="C1",
            job_name="job_b",
            instance_id=103,
            root_key="alert:default:C1:job_b:103:failure",
            escalate_after_ms=15 * 60_000,  # DLF_ESCALATE_AFTER's default
        ),
        IncidentResolved(channel="C1", job_name="job_b", instance_id=110, reason="later_success"),
    )
    # Every failure is remembered, watched or not, so a later subscription never alerts on old news; the success
    # is remembered because it resolved an incident.
    # Each with its run (start time), so a rerun that fails again is told apart, and its planned time.
    assert set(decision.seen) == {
        ("job_a", 102, "fail", 102_000, 91_800),
        ("job_b", 103, "fail", 103_000, 92_700),
        ("job_c", 104, "fail", 104_000, 93_600),
        ("job_b", 110, "success", 110_000, 99_000),
    }


def test_a_rerun_that_failed_again_is_keyed_by_its_run_and_counted_once() -> None:
    """Replaying the cycle gives the same keys (one message); another rerun gives new ones (another message)."""

    def rerun_failed(start: int) -> Decision:
        return decide(
            cycle_of(
                watches=[watch("C1", "job_a")],
                listed=[inst("job_a", 101, startTime=start)],
                known={("job_a", 101): "fail"},
                runs={("job_a", 101): 101_000},
                incidents=[incident("C1", "job_a", 101)],
            )
        )

    first, replay, later = rerun_failed(205_000), rerun_failed(205_000), rerun_failed(309_000)
    (repeat,) = first.intents
    assert isinstance(repeat, RepeatFailure)
    assert repeat.key.endswith(":run205000") and repeat.update_key.endswith(":run205000")
    assert [i.key for i in replay.intents] == [repeat.key]
    assert [i.key for i in later.intents] != [repeat.key]
    assert first.incident_changes == (IncidentFailedAgain(channel="C1", job_name="job_a", instance_id=101),)
    assert first.seen == (("job_a", 101, "fail", 205_000, 90_900),)


def test_a_known_row_recorded_without_its_run_learns_it_quietly() -> None:
    decision = decide(
        cycle_of(watches=[watch("C1", "job_a")], listed=[inst("job_a", 101)], known={("job_a", 101): "fail"})
    )
    assert decision.intents == ()
    assert decision.seen == (("job_a", 101, "fail", 101_000, 90_900),)


def test_a_followed_running_exception_is_said_once_per_run() -> None:
    def seen_running_exception(start: int) -> list[str]:
        follow = watch("C1", "job_a", instance_id=101, events=("running-exception", "success"), subscription_id=3)
        details = {
            ("job_a", 101): Instance(job_name="job_a", instance_id=101, status="running-exception", start_time=start)
        }
        return [i.key for i in decide(cycle_of(watches=[follow], details=details)).intents]

    assert seen_running_exception(5_000) == seen_running_exception(5_000)  # each cycle sees it again: one message
    assert seen_running_exception(5_000) != seen_running_exception(9_000)  # a rerun hit it again: news
    assert seen_running_exception(5_000) != ["follow:default:C1:job_a:101"]  # the final outcome keeps its own key


def test_digest_threads_the_alerts_and_pings_once() -> None:
    decision = decide(
        cycle_of(
            watches=[watch("C1", "job_*", is_pattern=True, mention="<@U1>")],
            listed=[inst(f"job_{n}", 100 + n) for n in range(4)],
            digest_threshold=3,
        )
    )
    (digest,) = decision.intents
    assert isinstance(digest, Digest)
    assert digest.mentions == ("<@U1>",)
    assert all(a.digest_key == digest.key and a.mentions == () for a in digest.alerts)
    # The incidents' cards are the alerts in the digest's thread, so repeats and recoveries land there.
    assert [c.root_key for c in decision.incident_changes] == [a.key for a in digest.alerts]  # type: ignore[union-attr]


def test_details_feed_the_alert_and_are_requested_only_for_relevant_new_failures() -> None:
    detailed = Instance(
        job_name="job_a", instance_id=101, status="fail", nodes=(Node(node_name="load", status="fail"),)
    )
    cycle = cycle_of(
        watches=[watch("C1", "job_a")],
        listed=[inst("job_a", 101), inst("job_a", 100), inst("job_b", 102), inst("job_a", 103, forceSuccess=True)],
        known={("job_a", 100): "fail"},
    )
    assert relevant_failures(cycle) == [("job_a", 101)]
    decision = decide(
        cycle_of(watches=cycle.watches, listed=cycle.listed, known=cycle.known, details={("job_a", 101): detailed})
    )
    (alert,) = decision.intents
    assert isinstance(alert, Alert) and alert.instance.nodes == detailed.nodes


def test_finished_follow_ends_the_subscription() -> None:
    decision = decide(
        cycle_of(
            watches=[watch("C1", "job_a", instance_id=101, subscription_id=3)],
            details={("job_a", 101): Instance(job_name="job_a", instance_id=101, status="fail")},
        )
    )
    assert decision.finished_follows == (3,)
    assert [i.key for i in decision.intents] == ["follow:default:C1:job_a:101"]


def test_keys_fit_the_outbox_column_even_for_long_names() -> None:
    job = "j" * 128
    cycle = cycle_of(
        watches=[watch("C" + "1" * 20, job)],
        listed=[inst(job, 10**15), inst(job, 10**15 + 1)],
    )
    alert, repeat = decide(cycle).intents
    assert isinstance(repeat, RepeatFailure)
    keys = [alert.key, repeat.key, repeat.update_key]
    assert len(set(keys)) == 3
    assert all(len(k) <= 255 for k in keys)


def test_failure_without_details_is_still_alerted_and_says_why() -> None:
    listed = [inst("job_a", 101, error_message="Node load failed."), inst("job_b", 102)]
    details = {("job_b", 102): Instance(job_name="job_b", instance_id=102, status="fail")}
    cycle = cycle_of(
        watches=[watch("C1", "job_*", is_pattern=True)],
        listed=listed,
        details=details,
        detail_errors={("job_a", 101): "DLF's answer was not an instance's details (bad JSON)."},
    )

    by_job = {i.instance.job_name: i for i in decide(cycle).intents if isinstance(i, Alert)}

    assert by_job["job_a"].details_error == "DLF's answer was not an instance's details (bad JSON)."
    assert by_job["job_a"].error_message == "Node load failed."
    assert by_job["job_a"].instance.start_time == 101_000  # the card is built from the list row
    assert by_job["job_b"].details_error is None and by_job["job_b"].error_message is None


def test_staging_cuts_a_decision_into_parts_that_hold_everything_once() -> None:
    from bot.watcher.inputs import STATUS_ENDED
    from bot.watcher.staging import complete, merge, stage

    decision = decide(
        cycle_of(
            watches=[
                watch("C1", "job_*", is_pattern=True),
                watch("C2", "job_a"),
                watch("C2", "job_z", instance_id=300, events=("success",), subscription_id=9),
            ],
            listed=[
                inst("job_a", 102),
                inst("job_b", 103),
                inst("job_a", 101),
                inst("job_c", 110, "success"),
                inst("job_z", 300, "success"),
                *[inst(f"job_s{n}", 200 + n) for n in range(3)],
            ],
            incidents=[incident("C2", "job_c", 104)],
            ended=[("job_q", 5)],
            digest_threshold=4,
        )
    )
    staged = stage(decision)

    # The storm of C1 (5 new cards; job_a's second failure is a reply to its first) is one digest card written
    # first; its alerts are in their failures' parts.
    (digest,) = staged.digests
    assert digest.channel == "C1" and len(digest.alerts) == 5
    assert staged.failures == (
        ("job_a", 101),
        ("job_a", 102),
        ("job_b", 103),
        ("job_s0", 200),
        ("job_s1", 201),
        ("job_s2", 202),
    )
    everything = merge([*staged.parts.values(), staged.rest])
    alerts_in_parts = [i for p in staged.parts.values() for i in p.intents]
    assert sorted(i.key for i in alerts_in_parts) == sorted(
        [a.key for a in digest.alerts] + [i.key for i in decision.intents if isinstance(i, Alert | RepeatFailure)]
    )
    assert sorted(everything.seen) == sorted(decision.seen)
    assert sorted(map(repr, everything.incident_changes)) == sorted(map(repr, decision.incident_changes))
    assert ("job_q", 5, STATUS_ENDED, None, None) in staged.rest.seen
    assert [type(i) for i in staged.rest.intents] == [FollowOutcome]
    assert staged.rest.finished_follows == (9,)
    # Both channels hear job_a twice: the card (101) and, in its thread, the second failure (102) — each failure
    # in its own part, with its incident change.
    assert [(type(i), i.channel) for i in staged.parts[("job_a", 102)].intents] == [
        (RepeatFailure, "C1"),
        (RepeatFailure, "C2"),
    ]
    assert [type(c) for c in staged.parts[("job_a", 102)].incident_changes] == [IncidentFailedAgain] * 2

    detailed = Instance(
        job_name="job_a", instance_id=101, status="fail", nodes=(Node(node_name="load", status="fail"),)
    )
    done = complete(staged.parts[("job_a", 101)], {("job_a", 101): detailed}, {})
    assert {i.instance.nodes for i in done.intents if isinstance(i, Alert)} == {detailed.nodes}
    failed = complete(staged.parts[("job_b", 103)], {}, {("job_b", 103): "DLF refused the request."})
    assert {i.details_error for i in failed.intents if isinstance(i, Alert)} == {"DLF refused the request."}


def test_unfinished_instances_are_remembered_only_when_someone_will_care_how_they_end() -> None:
    decision = decide(
        cycle_of(
            watches=[watch("C1", "etl_*", is_pattern=True), watch("C2", "job_f", instance_id=7, subscription_id=3)],
            listed=[
                inst("etl_a", 101, "waiting", startTime=None),
                inst("etl_b", 102, "running"),
                inst("other", 103, "running"),
                inst("job_f", 7, "running"),
                inst("job_i", 104, "running"),
                inst("etl_c", 105, "pause"),
            ],
            incidents=[incident("C1", "job_i", 99)],
        )
    )
    # Watched by a glob, followed, or with an open incident: remembered with their planned time, so the poller can
    # follow them until they end however late. Another job's run, or a status the poller does not list, is not.
    assert set(decision.seen) == {
        ("etl_a", 101, "waiting", None, 90_900),
        ("etl_b", 102, "running", 102_000, 91_800),
        ("job_f", 7, "running", 7_000, 6_300),
        ("job_i", 104, "running", 104_000, 93_600),
    }
    assert decision.intents == ()


def test_a_rerun_seen_running_that_fails_again_counts_as_another_failure_of_the_incident() -> None:
    decision = decide(
        cycle_of(
            watches=[watch("C1", "job_a")],
            listed=[inst("job_a", 101, startTime=205_000)],
            known={("job_a", 101): "running"},  # the store saw the rerun running
            runs={("job_a", 101): 205_000},
            incidents=[incident("C1", "job_a", 101)],
        )
    )
    (repeat,) = decision.intents
    assert isinstance(repeat, RepeatFailure) and repeat.failure_count == 2
    assert decision.incident_changes == (IncidentFailedAgain(channel="C1", job_name="job_a", instance_id=101),)


# --- incidents: mutes, a rerun in flight, escalation ------------------------------------------------------------


def test_a_muted_job_is_recorded_and_counted_but_nothing_is_said() -> None:
    decision = decide(
        cycle_of(
            watches=[watch("C1", "job_a"), watch("C2", "job_a")],
            listed=[inst("job_a", 102)],
            incidents=[],
            mutes={("C1", "job_a"): 41},
        )
    )
    assert said(decision) == ["alert C2 job_a/102 failure"]
    opened = {c.channel: c for c in decision.incident_changes if isinstance(c, IncidentOpened)}
    assert set(opened) == {"C1", "C2"}
    # a muted job's incident keeps its delay: the reminder is held back until the mute ends, then due that long later
    assert (opened["C1"].muted, opened["C1"].escalate_after_ms) == (True, 15 * 60_000)
    assert (opened["C2"].muted, opened["C2"].escalate_after_ms) == (False, 15 * 60_000)
    assert [c for c in decision.incident_changes if isinstance(c, MuteCounted)] == [
        MuteCounted(channel="C1", job_name="job_a", instance_id=102, mute_id=41)
    ]


def test_a_muted_jobs_success_resolves_quietly_and_a_held_card_is_posted_with_the_next_message() -> None:
    held = replace(incident("C1", "job_a", 101), card_queued=False)
    quiet = decide(
        cycle_of(
            watches=[watch("C1", "job_a")],
            listed=[inst("job_a", 110, "success")],
            known={("job_a", 101): "fail"},
            incidents=[held],
            mutes={("C1", "job_a"): 41},
        )
    )
    assert said(quiet) == []
    assert [type(c) for c in quiet.incident_changes] == [IncidentResolved]
    again = decide(
        cycle_of(
            watches=[watch("C1", "job_a")],
            listed=[inst("job_a", 102)],
            known={("job_a", 101): "fail"},
            incidents=[held],
        )
    )
    (repeat,) = again.intents
    assert isinstance(repeat, RepeatFailure) and repeat.card_queued is False


def test_the_end_of_a_rerun_in_flight_is_left_to_the_rerun_follower() -> None:
    rerunning = replace(incident("C1", "job_a", 101), rerun_instance_id=101)
    known = {("job_a", 101): "running"}
    runs = {("job_a", 101): 5_000}
    failed = decide(
        cycle_of(
            watches=[watch("C1", "job_a")], listed=[inst("job_a", 101)], known=known, runs=runs, incidents=[rerunning]
        )
    )
    assert said(failed) == [] and failed.incident_changes == ()
    succeeded = decide(
        cycle_of(
            watches=[watch("C1", "job_a")],
            listed=[inst("job_a", 101, "success")],
            known=known,
            runs=runs,
            incidents=[rerunning],
        )
    )
    assert said(succeeded) == [] and succeeded.incident_changes == ()
    later = decide(
        cycle_of(
            watches=[watch("C1", "job_a")],
            listed=[inst("job_a", 120, "success")],
            known=known,
            runs=runs,
            incidents=[rerunning],
        )
    )
    assert said(later) == ["recovered C1 job_a by 120 (later_success)"]


@pytest.mark.parametrize(
    ("escalations", "default", "expected"),
    [
        ((None,), 900_000, 900_000),
        ((1800,), 900_000, 1_800_000),
        ((0,), 900_000, None),
        ((None,), None, None),
        ((0, 600), 900_000, 600_000),  # several watches of the channel: the soonest reminder
        ((0, None), None, None),
    ],
)
def test_a_new_incidents_reminder_delay(
    escalations: tuple[int | None, ...], default: int | None, expected: int | None
) -> None:
    watches = [
        watch("C1", "job_a" if n == 0 else "job_*", is_pattern=n > 0, escalate_after_s=after, mention=f"<@U{n}>")
        for n, after in enumerate(escalations)
    ]
    decision = decide(cycle_of(watches=watches, listed=[inst("job_a", 102)], escalate_after_ms=default))
    (opened,) = [c for c in decision.incident_changes if isinstance(c, IncidentOpened)]
    assert opened.escalate_after_ms == expected
    assert opened.escalation_mention == "<@U0>"
