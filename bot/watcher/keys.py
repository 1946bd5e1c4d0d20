"""The outbox key scheme: every key the watcher writes, in one place. Pure.

A key is computed from the data alone, so replaying a cycle after a crash, or a second replica running the same
cycle, yields the same keys, and the outbox's unique index turns the repeat into nothing.

    alert:{profile}:{channel}:{job}:{instance}:{event}[:run{start}]     a failure's card (a rerun's: its run start)
    digest:{profile}:{channel}:{hash of its alert keys}                   an alert storm's summary
    repeat:{root}:{job}:{instance}:{event}[:run{start}]                   "failed again" in the incident's thread
    update:{root}:{job}:{instance}:{event}[:run{start}]                   ... and the card redrawn with the count
    recovered:{root}   update:{root}:resolved                             the resolution reply, the resolved card
    follow:{profile}:{channel}:{job}:{instance}[:{event}:run{start}]      a follow's outcome (or running exception)
    rerun:{root}:{seq}:progress   rerun:{root}:{seq}:progress:{done/total}   a rerun's progress reply, its edits
    rerun:{root}:{seq}:ended      update:{root}:rerun{seq}                    how rerun {seq} ended, the card redrawn
    update:{root}:rerun{seq}:running                                          the card, when the cycle finds it running
    escalation:{root}                                                         the escalation reminder (one per incident)
    heldback:{root}                                                           "held back while muted", under a late card

A rerun's success is the incident's resolution: `recovered:{root}`, whichever path (the rerun follower or the
decision) sees it first — the outbox keeps one.

`{root}` is the incident card's own key (its `alert:` key). Keys longer than the outbox column are shortened to a
prefix plus a digest of the whole (`bounded_key`), still deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from bot.dlf.models import Instance, InstanceSummary

# The outbox's key column holds 255 characters; a long job name must not make a key unstorable.
MAX_KEY_LENGTH = 255


def bounded_key(key: str) -> str:
    """`key` itself when it fits the outbox column, else a prefix plus a digest of the whole (still deterministic)."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{key[: MAX_KEY_LENGTH - len(digest) - 1]}~{digest}"


def _run_suffix(instance: InstanceSummary | Instance, rerun: bool) -> str:
    return f":run{instance.start_time or 0}" if rerun else ""


def alert_key(*, profile: str, channel: str, instance: InstanceSummary | Instance, event: str, rerun: bool) -> str:
    """The outbox key of a failure alert. A failure of a rerun (a new run of a known instance) gets its run's start."""
    key = f"alert:{profile}:{channel}:{instance.job_name}:{instance.instance_id}:{event}"
    return bounded_key(key + _run_suffix(instance, rerun))


def digest_key(*, profile: str, channel: str, alert_keys: Iterable[str]) -> str:
    """The outbox key of a digest: a digest of the alert keys it gathers, so a replayed cycle yields the same."""
    digest = hashlib.sha256("\n".join(sorted(alert_keys)).encode()).hexdigest()[:16]
    return f"digest:{profile}:{channel}:{digest}"


def repeat_keys(*, root_key: str, instance: InstanceSummary | Instance, event: str, rerun: bool) -> tuple[str, str]:
    """The outbox keys of a repeat failure: its "failed again" reply and the update of the incident's card."""
    suffix = f"{instance.job_name}:{instance.instance_id}:{event}{_run_suffix(instance, rerun)}"
    return bounded_key(f"repeat:{root_key}:{suffix}"), bounded_key(f"update:{root_key}:{suffix}")


def recovery_keys(*, root_key: str) -> tuple[str, str]:
    """The outbox keys of a resolution: its reply in the incident's thread and the update of the card."""
    return bounded_key(f"recovered:{root_key}"), bounded_key(f"update:{root_key}:resolved")


def follow_key(*, profile: str, channel: str, job_name: str, instance_id: int) -> str:
    """The outbox key of a follow's outcome message (its instance finished)."""
    return bounded_key(f"follow:{profile}:{channel}:{job_name}:{instance_id}")


def follow_exception_key(*, profile: str, channel: str, instance: InstanceSummary | Instance, event: str) -> str:
    """The outbox key of a follow's running-exception message: once per run (the follow goes on)."""
    key = f"follow:{profile}:{channel}:{instance.job_name}:{instance.instance_id}"
    return bounded_key(f"{key}:{event}:run{instance.start_time or 0}")


def rerun_progress_keys(*, root_key: str, seq: int, progress: str) -> tuple[str, str]:
    """(the key of rerun `seq`'s one progress reply, the key of its edit showing `progress`)."""
    reply = bounded_key(f"rerun:{root_key}:{seq}:progress")
    return reply, bounded_key(f"rerun:{root_key}:{seq}:progress:{progress}")


def rerun_end_keys(*, root_key: str, seq: int) -> tuple[str, str]:
    """(the reply saying how rerun `seq` ended — or that it was not seen to start —, the card's redraw)."""
    return bounded_key(f"rerun:{root_key}:{seq}:ended"), bounded_key(f"update:{root_key}:rerun{seq}")


def held_back_key(*, root_key: str) -> str:
    """The note under a card a mute held back and that is posted late."""
    return bounded_key(f"heldback:{root_key}")


def rerun_running_key(*, root_key: str, seq: int) -> str:
    """The card redrawn when the cycle finds rerun `seq` running (DLF's acceptance was never recorded)."""
    return bounded_key(f"update:{root_key}:rerun{seq}:running")


def escalation_key(*, root_key: str) -> str:
    """The escalation reminder of an incident: one, ever."""
    return bounded_key(f"escalation:{root_key}")


__all__ = [
    "escalation_key",
    "held_back_key",
    "rerun_end_keys",
    "rerun_progress_keys",
    "rerun_running_key",
    "MAX_KEY_LENGTH",
    "alert_key",
    "bounded_key",
    "digest_key",
    "follow_exception_key",
    "follow_key",
    "recovery_keys",
    "repeat_keys",
]
