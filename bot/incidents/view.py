"""The one way to draw a stored incident: its record (plus the instance to show) -> the `IncidentView` of its card.

Pure. The watcher (a repeat failure, a recovery, a rerun's progress, a reminder) and the incident actions (a button,
a mention, a slash command) both redraw an incident's card; they all call `incident_view`, so no path can draw an
acknowledged incident as open, or forget the rerun in flight, the mute or the timings.

The record is read structurally (`StoredIncident`), so this module needs nothing of the store.
"""

from __future__ import annotations

from typing import Protocol

from bot.dlf.models import Instance, InstanceSummary
from bot.render.incident_card import STATE_RESOLVED, IncidentView, RerunView


class StoredIncident(Protocol):
    """The fields of a stored incident (`bot.store.records.Incident`) a card shows."""

    @property
    def id(self) -> int: ...
    @property
    def root_key(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def failure_count(self) -> int: ...
    @property
    def opened_at(self) -> int: ...
    @property
    def acknowledged_by(self) -> str | None: ...
    @property
    def acknowledged_at(self) -> int | None: ...
    @property
    def resolved_by(self) -> str | None: ...
    @property
    def resolved_at(self) -> int | None: ...
    @property
    def resolution(self) -> str | None: ...
    @property
    def rerun_state(self) -> str | None: ...
    @property
    def rerun_by(self) -> str | None: ...
    @property
    def rerun_from(self) -> str | None: ...
    @property
    def rerun_progress(self) -> str | None: ...
    @property
    def recovered_by_rerun_of(self) -> str | None: ...


class StoredMute(Protocol):
    """The fields of a mute (`bot.store.records.Mute`) a card shows."""

    @property
    def until_at(self) -> int | None: ...

    def active_at(self, now_ms: int) -> bool: ...


def incident_view(
    incident: StoredIncident,
    instance: Instance,
    *,
    now_ms: int,
    event: str = "failure",
    mute: StoredMute | None = None,
    resolved_by: Instance | InstanceSummary | None = None,
    details_error: str | None = None,
    error_message: str | None = None,
) -> IncidentView:
    """The card of `incident` as it stands, showing `instance` (its latest failed instance, or the rerun's run).

    `resolved_by`: the success that resolved it, when the caller has it (a rerun, a later instance). A mute is
    shown only while it is active at `now_ms`.
    """
    rerun = None
    if incident.rerun_state is not None and incident.state != STATE_RESOLVED:
        rerun = RerunView(
            by=incident.rerun_by or "",
            retry_location=incident.rerun_from or "error_node",
            state=incident.rerun_state,
            progress=incident.rerun_progress,
        )
    muted = mute is not None and mute.active_at(now_ms)
    return IncidentView(
        instance=instance,
        state=incident.state,
        acknowledged_by=incident.acknowledged_by,
        failure_count=incident.failure_count,
        event=event,
        resolved_by=resolved_by,
        resolution=incident.resolution,
        details_error=details_error,
        error_message=error_message,
        incident_id=incident.id,
        card_key=incident.root_key,
        opened_at=incident.opened_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        resolver=incident.resolved_by,
        recovered_by_rerun_of=incident.recovered_by_rerun_of,
        rerun=rerun,
        muted_until=mute.until_at if muted and mute is not None else None,
        muted=muted,
    )


__all__ = ["StoredIncident", "StoredMute", "incident_view"]
