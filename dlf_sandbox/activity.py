"""Background activity for a sandbox people watch by hand: instances that keep appearing, running and ending.

`python -m dlf_sandbox --activity 60` schedules it, so a bot watching `etl_orders_daily` or `dws_load_customers`
sees a failure (and a recovery) every few minutes without anyone scripting the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlf_sandbox.timeline import Timeline


@dataclass(frozen=True)
class Beat:
    """One recurring story: an instance of `job` appears, runs for half the period, then ends in `outcome`."""

    job: str
    outcome: str
    failed_node: str | None = None


DEFAULT_BEATS = (
    Beat("etl_orders_daily", "success"),
    Beat("dws_load_customers", "fail", "load_dim_customer"),
    Beat("etl_orders_daily", "fail", "load_dws"),
    Beat("dws_load_customers", "success"),
)


def schedule_activity(
    timeline: Timeline,
    *,
    start_ms: int,
    every_ms: int,
    cycles: int,
    beats: tuple[Beat, ...] = DEFAULT_BEATS,
) -> list[int]:
    """Script `cycles` beats, one every `every_ms` from `start_ms` (taking `beats` in turn); returns the ids."""
    if every_ms < 2 or cycles < 0:
        raise ValueError("every_ms must be at least 2 and cycles not negative")
    ids = []
    for i in range(cycles):
        beat = beats[i % len(beats)]
        at = start_ms + i * every_ms
        iid = timeline.appear(beat.job, at=at, status="running")
        timeline.set_status(beat.job, iid, beat.outcome, at=at + every_ms // 2, failed_node=beat.failed_node)
        ids.append(iid)
    return ids
