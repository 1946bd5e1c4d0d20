"""Channel subscriptions: the use cases behind `/dlf watch`, `/dlf unwatch` and `/dlf watches`.

A job must exist in DLF to be watched (checked with the profile's client; refused with DLF's reason otherwise); a
glob pattern is not checked, since it also covers jobs created later; a one-off follow checks that the instance
exists. Subscribing twice is harmless: a repeat changes only the options it gives (events, mention) and keeps the
others, and the answer says what the subscription now is. Every change is written with its audit entry in one transaction.
A database that is locked, read-only or unreachable gets a clear answer (what is wrong, that nothing was changed, to
try again) and one log line; its transaction waits `lock_wait_s` (default `COMMAND_LOCK_WAIT_S`, 5 s) for a lock, not
the watcher's 15 s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import messages
from bot.commands.model import UnwatchCommand, WatchCommand, WatchesCommand
from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance
from bot.errors import CommandError, DlfError, DlfNotFound, StoreUnavailable
from bot.profiles import DEFAULT_PROFILE
from bot.services.outcomes import DatabaseUnavailable, Refused
from bot.store import Store, Subscription
from bot.store.engine import COMMAND_LOCK_WAIT_S
from bot.store.records import Mute, watch_repairs_channel
from bot.watcher.outbox import REQUEUE_ON_REPAIR

log = logging.getLogger(__name__)

_GLOB_CHARACTERS = frozenset("*?[")


class JobDirectory(Protocol):
    """What this service needs of a DLF client."""

    async def job_exists(self, job_name: str) -> bool: ...

    async def get_instance(self, job_name: str, instance_id: int) -> Instance: ...


@dataclass(frozen=True)
class WatchResult:
    """`/dlf watch` done: the subscription, whether it was already there exactly like this, and what it was before
    (None when it is new), and how many messages held back while the channel was broken now go out."""

    subscription: Subscription
    already: bool
    previous: Subscription | None = None
    resumed: int = 0  # messages held or failed while the channel was broken, now to be delivered


@dataclass(frozen=True)
class UnwatchResult:
    """`/dlf unwatch` done: whether there was such a subscription to remove."""

    target: str
    is_pattern: bool
    instance_id: int | None
    removed: bool


@dataclass(frozen=True)
class ChannelWatches:
    """`/dlf watches`: the channel's subscriptions, whatever their state (broken ones say why), and its mutes (ended
    ones too, to say so) as of `now_ms`; `profile`: the one profile they were listed for (`--profile`), None for
    every profile."""

    subscriptions: Sequence[Subscription]
    mutes: Sequence[Mute] = ()
    now_ms: int = 0
    profile: str | None = None


@dataclass(frozen=True)
class InstanceEnded:
    """`/dlf watch job 34765` for an instance that has already ended: there is nothing to follow, so no follow was
    made; how it ended (its status, and when, `ended_at_ms`, when DLF says) is the answer instead."""

    job: str
    instance_id: int
    status: str
    ended_at_ms: int | None


# What `SubscriptionService.handle` answers; `bot.slack.answers.subscription_message` renders each.
SubscriptionOutcome = WatchResult | UnwatchResult | ChannelWatches | InstanceEnded | Refused | DatabaseUnavailable


def is_pattern(target: str) -> bool:
    """Whether `target` is a glob (`etl_*`, `job_?`, `job_[ab]`) rather than one job's name."""
    return any(ch in _GLOB_CHARACTERS for ch in target)


class SubscriptionService:
    """Subscriptions of Slack channels to DLF jobs, checked against DLF, stored and audited."""

    def __init__(
        self,
        *,
        store: Store,
        clients: Mapping[str, JobDirectory],
        default_profile: str = DEFAULT_PROFILE,
        lock_wait_s: float = COMMAND_LOCK_WAIT_S,
    ) -> None:
        if not clients:
            raise ValueError("at least one DLF client is needed")
        self._store = store
        self._lock_wait_s = lock_wait_s
        self._clients = dict(clients)
        self._default = default_profile if default_profile in clients else next(iter(clients))

    async def handle(
        self,
        command: WatchCommand | UnwatchCommand | WatchesCommand,
        *,
        channel_id: str,
        user_id: str,
        team_id: str | None,
    ) -> SubscriptionOutcome:
        """Run one subscription command for `channel_id`; what came of it, for the caller to render."""
        try:
            return await self._handle(command, channel_id=channel_id, user_id=user_id, team_id=team_id)
        except StoreUnavailable as err:
            log.warning(messages.log_command_store_unavailable(f"/dlf {_subcommand(command)}", channel_id, err))
            return DatabaseUnavailable(kind=err.kind, wait_s=self._lock_wait_s)

    async def _handle(
        self,
        command: WatchCommand | UnwatchCommand | WatchesCommand,
        *,
        channel_id: str,
        user_id: str,
        team_id: str | None,
    ) -> SubscriptionOutcome:
        if isinstance(command, WatchCommand):
            return await self.watch(command, channel_id=channel_id, user_id=user_id, team_id=team_id)
        if isinstance(command, UnwatchCommand):
            return await self.unwatch(command, channel_id=channel_id, user_id=user_id)
        if command.profile is None:
            return await self.channel_watches(channel_id)
        try:
            profile = self._profile(command.profile)
        except CommandError as err:
            return Refused(command_error=err)
        return await self.channel_watches(channel_id, profile=profile)

    async def watch(
        self, command: WatchCommand, *, channel_id: str, user_id: str, team_id: str | None = None
    ) -> WatchResult | InstanceEnded | Refused:
        """Subscribe the channel after checking the job (or instance) exists; patterns are not checked. An instance
        that has already ended is not followed: the answer says how it ended."""
        try:
            profile = self._profile(command.profile)
        except CommandError as err:
            return Refused(command_error=err)
        pattern = command.is_pattern or is_pattern(command.target)
        if not pattern:
            refusal = await self._check_exists(profile, command.target, command.instance_id)
            if refusal is not None:
                return refusal
        async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
            channel_subscriptions = await tx.subscriptions.list_for_channel(channel_id)
            before = {(s.profile, s.target, s.instance_id): s for s in channel_subscriptions}.get(
                (profile, command.target, command.instance_id)
            )
            # A repeat changes only the options the user gave: an on-call mention is never dropped by accident.
            events = command.events if command.events_given or before is None else before.events
            mention = command.mention if command.mention_given or before is None else before.mention
            escalate_after_s = _escalate_after_s(command, before)
            subscription, created = await tx.subscriptions.subscribe(
                channel=channel_id,
                profile=profile,
                target=command.target,
                is_pattern=pattern,
                instance_id=command.instance_id,
                events=events,
                mention=mention,
                created_by=user_id,
                team=team_id,
                requeue_on_repair=REQUEUE_ON_REPAIR,
                escalate_after_s=escalate_after_s,
            )
            unchanged = before is not None and _same(before, subscription)
            resumed = 0
            if watch_repairs_channel(
                (s.state for s in channel_subscriptions), existing_state=before.state if before else None
            ):
                # Someone fixed the channel (invited the bot, unarchived it, renewed the token) and re-watched:
                # subscribe() queued again what Slack refused meanwhile; with the held messages, all go out now.
                resumed = await tx.outbox.pending_count(channel_id)
                log.info("channel %s repaired by /dlf watch: %d message(s) to deliver", channel_id, resumed)
            if not unchanged:
                await tx.audit.record(
                    actor=user_id,
                    action="watch",
                    channel=channel_id,
                    target=command.target,
                    details={
                        "profile": profile,
                        "is_pattern": pattern,
                        "instance_id": command.instance_id,
                        "events": list(events),
                        "mention": mention,
                        "escalate_after_s": escalate_after_s,
                        "created": created,
                    },
                    outcome="ok",
                )
        return WatchResult(subscription=subscription, already=unchanged, previous=before, resumed=resumed)

    async def unwatch(self, command: UnwatchCommand, *, channel_id: str, user_id: str) -> UnwatchResult | Refused:
        """Remove the channel's subscription to a job, pattern or followed instance (harmless if there is none)."""
        try:
            profile = self._profile(command.profile)
        except CommandError as err:
            return Refused(command_error=err)
        async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
            removed = await tx.subscriptions.unsubscribe(
                channel=channel_id, profile=profile, target=command.target, instance_id=command.instance_id
            )
            if removed:
                await tx.audit.record(
                    actor=user_id,
                    action="unwatch",
                    channel=channel_id,
                    target=command.target,
                    details={"profile": profile, "instance_id": command.instance_id},
                    outcome="ok",
                )
        return UnwatchResult(
            target=command.target,
            is_pattern=is_pattern(command.target),
            instance_id=command.instance_id,
            removed=removed,
        )

    async def unwatch_own(self, subscription_id: int, *, user_id: str) -> bool:
        """Unwatch from App Home: remove subscription `subscription_id` if `user_id` created it (Home lists only
        theirs, so anything else is a forged or stale value: refused and audited). True when it was removed."""
        async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
            sub = await tx.subscriptions.get(subscription_id)
            if sub is None or sub.created_by != user_id:
                await tx.audit.record(
                    actor=user_id,
                    action="unwatch",
                    channel=sub.channel if sub is not None else None,
                    target=sub.target if sub is not None else None,
                    details={"via": "home", "subscription_id": subscription_id, "reason": _not_theirs(sub)},
                    outcome="refused",
                )
                return False
            removed = await tx.subscriptions.unsubscribe(
                channel=sub.channel, profile=sub.profile, target=sub.target, instance_id=sub.instance_id
            )
            if removed:
                await tx.audit.record(
                    actor=user_id,
                    action="unwatch",
                    channel=sub.channel,
                    target=sub.target,
                    details={"via": "home", "profile": sub.profile, "instance_id": sub.instance_id},
                    outcome="ok",
                )
            return removed

    async def channel_watches(self, channel_id: str, *, profile: str | None = None) -> ChannelWatches:
        """The channel's subscriptions and mutes (of `profile` only, when given), read together."""
        async with self._store.transaction(read_only=True, lock_wait_s=self._lock_wait_s) as tx:
            subscriptions = await tx.subscriptions.list_for_channel(channel_id)
            mutes = await tx.mutes.in_channel(channel_id)
            now = tx.now
        if profile is not None:
            subscriptions = [sub for sub in subscriptions if sub.profile == profile]
            mutes = [mute for mute in mutes if mute.profile == profile]
        return ChannelWatches(subscriptions=subscriptions, mutes=mutes, now_ms=now, profile=profile)

    async def watches(self, channel_id: str, *, profile: str | None = None) -> Sequence[Subscription]:
        """The channel's subscriptions (of `profile` only, when given), whatever their state."""
        async with self._store.transaction(read_only=True, lock_wait_s=self._lock_wait_s) as tx:
            found = await tx.subscriptions.list_for_channel(channel_id)
        return found if profile is None else [sub for sub in found if sub.profile == profile]

    def _profile(self, name: str | None) -> str:
        chosen = name or self._default
        if chosen not in self._clients:
            raise CommandError(messages.unknown_profile(chosen, self._clients), usage=None)
        return chosen

    async def _check_exists(self, profile: str, job: str, instance_id: int | None) -> Refused | InstanceEnded | None:
        client = self._clients[profile]
        try:
            if instance_id is not None:
                instance = await client.get_instance(job, instance_id)
                if instance.status in FINISHED_INSTANCE_STATUSES:
                    # Following it would only post this old outcome later as if it were news.
                    return InstanceEnded(
                        job=job, instance_id=instance_id, status=instance.status, ended_at_ms=instance.end_time
                    )
            elif not await client.job_exists(job):
                return Refused(
                    dlf_error=DlfNotFound(f"job {job} does not exist", kind="job"), job=job, instance_id=instance_id
                )
        except DlfError as err:
            log.warning(
                messages.log_dlf_error(err.operation or "check_job"),
                extra={"dlf": err.log_details(), "job": job, "instance_id": instance_id, "profile": profile},
            )
            return Refused(dlf_error=err, job=job, instance_id=instance_id)
        return None


def _not_theirs(sub: Subscription | None) -> str:
    return "no such subscription" if sub is None else "created by someone else"


def _same(before: Subscription, after: Subscription) -> bool:
    return (before.events, before.mention, before.state, before.escalate_after_s) == (
        after.events,
        after.mention,
        after.state,
        after.escalate_after_s,
    )


def _escalate_after_s(command: WatchCommand, before: Subscription | None) -> int | None:
    """What the subscription stores for `--escalate`: seconds, 0 for `off`, None for the bot's default
    (DLF_ESCALATE_AFTER). Not given on a repeat: what it had."""
    if command.escalate is None:
        return before.escalate_after_s if before is not None else None
    return command.escalate.after_s if command.escalate.after_s is not None else 0


def _subcommand(command: WatchCommand | UnwatchCommand | WatchesCommand) -> str:
    return {WatchCommand: "watch", UnwatchCommand: "unwatch", WatchesCommand: "watches"}[type(command)]


__all__ = [
    "ChannelWatches",
    "DatabaseUnavailable",
    "InstanceEnded",
    "JobDirectory",
    "Refused",
    "SubscriptionOutcome",
    "SubscriptionService",
    "UnwatchResult",
    "WatchResult",
    "is_pattern",
]
