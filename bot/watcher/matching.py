"""Who hears about a job: the standing watches by exact name or glob, and the follows of single instances. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.watcher.inputs import InstanceKey, Watch


class WatchIndex:
    """The standing watches (broken ones too: their messages are held until repair), found by exact job name or by
    trying each pattern: matching one job costs O(patterns), not O(subscriptions) — 500 failures against 10,000
    subscriptions stay cheap."""

    def __init__(self, watches: Sequence[Watch]) -> None:
        # Channels in first-subscribed order, so intents come out in a stable order.
        self.channels: list[str] = list(dict.fromkeys(w.channel for w in watches))
        self._rank = {channel: n for n, channel in enumerate(self.channels)}
        self._exact: dict[str, list[tuple[int, Watch]]] = {}
        self._patterns: list[tuple[int, Watch]] = []
        for position, watch in enumerate(watches):
            if watch.is_follow:
                continue
            if watch.is_pattern:
                self._patterns.append((position, watch))
            else:
                self._exact.setdefault(watch.target, []).append((position, watch))

    def matching(self, job_name: str) -> list[Watch]:
        """The watches of `job_name`, by channel then in subscription order."""
        found = self._exact.get(job_name, []) + [(p, w) for p, w in self._patterns if w.matches(job_name)]
        found.sort(key=lambda item: (self._rank[item[1].channel], item[0]))
        return [watch for _, watch in found]

    def channel_events(self, job_name: str) -> dict[str, set[str]]:
        """Per channel, the union of events its watches of this job asked for."""
        events: dict[str, set[str]] = {}
        for watch in self.matching(job_name):
            events.setdefault(watch.channel, set()).update(watch.events)
        return events

    def channel_mentions(self, job_name: str) -> dict[str, tuple[str, ...]]:
        """Per channel, the distinct mentions its watches of this job asked for."""
        mentions: dict[str, list[str]] = {}
        for watch in self.matching(job_name):
            found = mentions.setdefault(watch.channel, [])
            if watch.mention and watch.mention not in found:
                found.append(watch.mention)
        return {channel: tuple(found) for channel, found in mentions.items() if found}


def follows_by_instance(watches: Sequence[Watch]) -> dict[InstanceKey, list[Watch]]:
    """The one-off follows, by the instance they follow."""
    found: dict[InstanceKey, list[Watch]] = {}
    for watch in watches:
        if watch.is_follow and watch.instance_id is not None:
            found.setdefault((watch.target, watch.instance_id), []).append(watch)
    return found


def with_follower_mentions(
    mentions: Sequence[str], followers: Iterable[Watch], *, channel: str, event: str
) -> tuple[str, ...]:
    """The alert's mentions plus those of the channel's follows of the instance that asked for this event (the
    alert says what their outcome message would have said)."""
    merged = list(mentions)
    for follow in followers:
        if follow.channel == channel and event in follow.events and follow.mention and follow.mention not in merged:
            merged.append(follow.mention)
    return tuple(merged)


def watched_jobs(watches: Sequence[Watch], job_names: Iterable[str]) -> set[str]:
    """The names among `job_names` a standing watch (not a follow) matches, exactly or by glob."""
    index = WatchIndex(watches)
    return {name for name in set(job_names) if index.matching(name)}


__all__ = ["WatchIndex", "follows_by_instance", "watched_jobs", "with_follower_mentions"]
