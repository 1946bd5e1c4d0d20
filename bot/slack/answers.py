"""Service results → the messages that answer them: the one place a use case's outcome meets a renderer.

The services return dataclasses (`InstanceShown`, `WatchResult`, `Refused`, …); the listeners (and so `preview`,
which goes through them) turn each into a `Message` here, with the pure renderers of `bot.render`.
"""

from __future__ import annotations

from bot import messages
from bot.render.audit import render_audit
from bot.render.errors import render_command_error, render_dlf_error, render_notice
from bot.render.instance_card import render_instance
from bot.render.instance_list import render_instance_list
from bot.render.message import Message
from bot.render.operators import render_operators_only
from bot.render.watches import render_follow_ended, render_subscribed, render_unsubscribed, render_watches
from bot.services.audit import PAGE_SIZE as AUDIT_PAGE_SIZE
from bot.services.audit import AuditOutcome, AuditShown, OperatorsOnly
from bot.services.instance_list import InstancesListed
from bot.services.instances import InstanceShown
from bot.services.outcomes import DatabaseUnavailable, Refused
from bot.services.subscriptions import ChannelWatches, InstanceEnded, SubscriptionOutcome, UnwatchResult, WatchResult


def instance_message(
    outcome: InstanceShown | Refused, *, shareable: bool = True, shared_by: str | None = None
) -> Message:
    """The instance's card (`shareable`: with a Share button; `shared_by`: who shared it), or why there is none."""
    if isinstance(outcome, Refused):
        return refusal_message(outcome)
    return render_instance(
        outcome.instance,
        now_ms=outcome.read_at_ms,
        profile=outcome.profile,
        shareable=shareable,
        shared_by=shared_by,
    )


def instance_list_message(outcome: InstancesListed | Refused) -> Message:
    """One page of a job's recent instances, or why there is none (DLF's answer, an unknown profile)."""
    if isinstance(outcome, Refused):
        return refusal_message(outcome)
    return render_instance_list(outcome)


def audit_message(outcome: AuditOutcome) -> Message:
    """A page of the audit trail; who may read it (or how to enable operators); or that the database is away."""
    if isinstance(outcome, AuditShown):
        return render_audit(outcome.entries, query=outcome.query, has_more=outcome.has_more, page_size=AUDIT_PAGE_SIZE)
    if isinstance(outcome, OperatorsOnly):
        check = outcome.check
        return render_operators_only(
            action="read the audit trail", configured=check.configured, who=check.who, unchecked=check.unchecked
        )
    return render_notice(messages.database_unavailable(outcome.kind, wait_s=outcome.wait_s))


def subscription_message(outcome: SubscriptionOutcome) -> Message:
    """The answer to `/dlf watch`, `/dlf unwatch` or `/dlf watches`."""
    if isinstance(outcome, WatchResult):
        return render_subscribed(
            outcome.subscription, already=outcome.already, previous=outcome.previous, resumed=outcome.resumed
        )
    if isinstance(outcome, UnwatchResult):
        return render_unsubscribed(
            outcome.target, is_pattern=outcome.is_pattern, instance_id=outcome.instance_id, removed=outcome.removed
        )
    if isinstance(outcome, InstanceEnded):
        return render_follow_ended(
            outcome.job, instance_id=outcome.instance_id, status=outcome.status, ended_at_ms=outcome.ended_at_ms
        )
    if isinstance(outcome, ChannelWatches):
        return render_watches(outcome.subscriptions, outcome.mutes, now_ms=outcome.now_ms, profile=outcome.profile)
    if isinstance(outcome, DatabaseUnavailable):
        return render_notice(messages.database_unavailable(outcome.kind, wait_s=outcome.wait_s))
    return refusal_message(outcome)


def refusal_message(refused: Refused) -> Message:
    """Why nothing was done: the command's mistake, or DLF's answer as one line."""
    if refused.command_error is not None:
        return render_command_error(refused.command_error)
    assert refused.dlf_error is not None
    return render_dlf_error(refused.dlf_error, job=refused.job, instance_id=refused.instance_id)


__all__ = ["audit_message", "instance_list_message", "instance_message", "refusal_message", "subscription_message"]
