"""What a one-off follow (`/dlf watch job 123`) says when its instance finishes, and when it ends. Pure."""

from __future__ import annotations

from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance
from bot.watcher.inputs import (
    EVENT_RUNNING_EXCEPTION,
    EVENT_SUCCESS,
    FAILURE_EVENTS,
    OPERATOR_OVERRIDES,
    STATUS_SUCCESS,
    CycleInput,
    InstanceKey,
    instance_from_summary,
)
from bot.watcher.intents import FollowOutcome
from bot.watcher.keys import follow_exception_key, follow_key


def follow_event(status: str) -> str | None:
    """The `--on` event a followed instance's status is, if any (stopped by hand, say, is none)."""
    if status == STATUS_SUCCESS or status in OPERATOR_OVERRIDES:
        return EVENT_SUCCESS
    return FAILURE_EVENTS.get(status)


def follow_outcomes(
    cycle: CycleInput, told: set[tuple[str, InstanceKey, str]]
) -> tuple[list[FollowOutcome], list[int]]:
    """Per follow: the outcome message if it asked for it and no alert of this cycle says it already (`told`), and
    the follows that end (their instance finished)."""
    latest: dict[InstanceKey, Instance] = {(s.job_name, s.instance_id): instance_from_summary(s) for s in cycle.listed}
    latest.update(cycle.details)
    outcomes: list[FollowOutcome] = []
    finished: list[int] = []
    for watch in cycle.watches:
        if not watch.is_follow or watch.instance_id is None:
            continue
        instance = latest.get((watch.target, watch.instance_id))
        if instance is None:
            continue
        ends = instance.status in FINISHED_INSTANCE_STATUSES
        event = follow_event(instance.status)
        if not ends and (event != EVENT_RUNNING_EXCEPTION or event not in watch.events):
            continue
        said_by_alert = event is not None and (watch.channel, (watch.target, watch.instance_id), event) in told
        if (event is None or event in watch.events) and not said_by_alert:
            outcomes.append(_follow_outcome(cycle.profile, watch.channel, watch.mention, instance, event, ends))
        if ends and watch.subscription_id is not None:
            finished.append(watch.subscription_id)
    return outcomes, finished


def _follow_outcome(
    profile: str, channel: str, mention: str | None, instance: Instance, event: str | None, ends: bool
) -> FollowOutcome:
    if ends:
        key = follow_key(profile=profile, channel=channel, job_name=instance.job_name, instance_id=instance.instance_id)
    else:
        # A running exception: said once per run; the follow goes on, and a later run may hit it again.
        key = follow_exception_key(profile=profile, channel=channel, instance=instance, event=event or "")
    return FollowOutcome(
        key=key, channel=channel, profile=profile, instance=instance, mentions=(mention,) if mention else ()
    )


__all__ = ["follow_event", "follow_outcomes"]
