"""A decision cut into what the poller writes one transaction after another. Pure.

The digests first (the storm threads the alerts go in); then each new failure's part as soon as its details arrive
(`complete()` puts them on the card); then the rest with the cursor. Each part holds everything that concerns its
failure (intents, seen status, incident change), so a crash between stages leaves nothing half said.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.dlf.models import Instance
from bot.watcher.inputs import InstanceKey
from bot.watcher.intents import (
    Alert,
    Decision,
    Digest,
    IncidentChange,
    IncidentResolved,
    Intent,
    RepeatFailure,
    intent_order,
)

Seen = tuple[str, int, str, int | None, int | None]


@dataclass(frozen=True, kw_only=True)
class Staged:
    """A decision cut into what the poller writes one transaction after another (see the module docstring)."""

    digests: tuple[Digest, ...]  # first: the storm threads the alerts go in (each digest card alone, no alerts)
    failures: tuple[InstanceKey, ...]  # the new failures said this cycle, oldest first: their details are wanted
    parts: Mapping[InstanceKey, Decision]  # per failure: its alerts / thread replies, seen status, incident changes
    rest: Decision  # last, with the cursor: recoveries, follow outcomes, every other seen status, finished follows


def _failure_key(intent: Alert | RepeatFailure) -> InstanceKey:
    return intent.instance.job_name, intent.instance.instance_id


def _split_intents(
    decision: Decision,
) -> tuple[list[Digest], dict[InstanceKey, list[Intent]], list[Intent]]:
    """(digests, each failure's alerts and repeats — a digest's alerts among them —, every other intent)."""
    per_failure: dict[InstanceKey, list[Intent]] = {}
    digests: list[Digest] = []
    rest: list[Intent] = []
    for intent in decision.intents:
        if isinstance(intent, Digest):
            digests.append(intent)
            for alert in intent.alerts:
                per_failure.setdefault(_failure_key(alert), []).append(alert)
        elif isinstance(intent, Alert | RepeatFailure):
            per_failure.setdefault(_failure_key(intent), []).append(intent)
        else:
            rest.append(intent)
    return digests, per_failure, rest


def _split_seen(
    decision: Decision, failures: Mapping[InstanceKey, object]
) -> tuple[dict[InstanceKey, list[Seen]], list[Seen]]:
    per_failure: dict[InstanceKey, list[Seen]] = {}
    rest: list[Seen] = []
    for item in decision.seen:
        if (item[0], item[1]) in failures:
            per_failure.setdefault((item[0], item[1]), []).append(item)
        else:
            rest.append(item)
    return per_failure, rest


def _split_changes(
    decision: Decision, failures: Mapping[InstanceKey, object]
) -> tuple[dict[InstanceKey, list[IncidentChange]], list[IncidentChange]]:
    """Openings and repeat counts go with their failure; resolutions (and changes of no failure) with the rest —
    except a resolution the decision made before a later failure of the same job in the same channel: that one
    goes first in the later failure's part, so the incident it closes is closed before the next one opens (written
    after it, the opening would find the old incident still open and the resolution would then close both)."""
    per_failure: dict[InstanceKey, list[IncidentChange]] = {}
    unattached: dict[tuple[str, str], list[IncidentChange]] = {}
    rest: list[IncidentChange] = []
    for change in decision.incident_changes:
        key = (change.job_name, change.instance_id)
        incident = (change.channel, change.job_name)
        if isinstance(change, IncidentResolved):
            unattached.setdefault(incident, []).append(change)
        elif key in failures:
            per_failure.setdefault(key, []).extend([*unattached.pop(incident, []), change])
        else:
            rest.append(change)
    rest.extend(change for changes in unattached.values() for change in changes)
    return per_failure, rest


def stage(decision: Decision) -> Staged:
    """Cut `decision` into its stages. Nothing is lost or repeated: the parts and the rest hold every intent and
    store change exactly once (a digest's alerts are in their failures' parts)."""
    digests, intents, rest_intents = _split_intents(decision)
    failures = tuple(sorted(intents, key=lambda key: (key[1], key[0])))
    seen, rest_seen = _split_seen(decision, intents)
    changes, rest_changes = _split_changes(decision, intents)
    parts = {
        key: Decision(
            intents=tuple(intent_order(intents[key])),
            seen=tuple(seen.get(key, ())),
            incident_changes=tuple(changes.get(key, ())),
        )
        for key in failures
    }
    rest = Decision(
        intents=tuple(rest_intents),
        seen=tuple(rest_seen),
        incident_changes=tuple(rest_changes),
        finished_follows=decision.finished_follows,
    )
    return Staged(digests=tuple(digests), failures=failures, parts=parts, rest=rest)


def merge(parts: Iterable[Decision]) -> Decision:
    """Several parts as one decision (their order kept; new cards before the replies that need them)."""
    chosen = list(parts)
    return Decision(
        intents=tuple(intent_order([i for p in chosen for i in p.intents])),
        seen=tuple(item for p in chosen for item in p.seen),
        incident_changes=tuple(c for p in chosen for c in p.incident_changes),
        finished_follows=tuple(f for p in chosen for f in p.finished_follows),
    )


def complete(
    part: Decision, details: Mapping[InstanceKey, Instance], detail_errors: Mapping[InstanceKey, str]
) -> Decision:
    """`part` with the details fetched for its failure on its cards, or the reason they could not be (the card is
    then built from the list row and says why)."""

    def completed(intent: Intent) -> Intent:
        if not isinstance(intent, Alert | RepeatFailure):
            return intent
        key = _failure_key(intent)
        if key in details:
            return replace(intent, instance=details[key], details_error=None)
        if key in detail_errors:
            return replace(intent, details_error=detail_errors[key])
        return intent

    return replace(part, intents=tuple(completed(i) for i in part.intents))


__all__ = ["Staged", "complete", "merge", "stage"]
