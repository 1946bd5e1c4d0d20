"""A script of instance events (appear, run, fail, succeed, stop, any status) applied in time order.

Tests apply it deterministically: `step()` applies the next event, `step_until(ms)` every event due by then.
The demo calls `play()`: from then on, events are applied as the sandbox clock reaches them (checked before every
request and by a ticker while the server runs). Each event is applied with its own time as "now", so start and end
times are those of the script, whatever moment it is applied at.

Reruns requested through the API start a new run (status running); `on_rerun(outcome, after_ms)` makes every
later rerun (of one job, or of one instance: `job=`, `instance_id=`) end in `outcome` `after_ms` later: its nodes
finish one by one as scheduled `advance` events (so progress can be watched — `step()` applies one), then the
instance ends. Without a policy a rerun stays running until scripted.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dlf_sandbox.state import Node, State

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Event:
    """One scripted change; `appear` creates the instance, `advance` finishes a running instance's current node,
    anything else sets its status."""

    at_ms: int
    kind: str
    job: str
    instance_id: int
    status: str
    workspace: str | None = None
    failed_node: str | None = None
    plan_time: int | None = None
    nodes: int | Sequence[str | tuple[str, str] | Node] | None = None


@dataclass(kw_only=True)
class RerunPolicy:
    """What becomes of a rerun: `outcome` (a status) `after_ms` after it started; optionally one job only."""

    outcome: str
    after_ms: int
    job: str | None = None
    failed_node: str | None = None
    instance_id: int | None = None  # only reruns of this instance (None: any of `job`)

    def applies(self, job: str, instance_id: int) -> bool:
        return self.job in (None, job) and self.instance_id in (None, instance_id)


@dataclass(order=True)
class _Queued:
    at_ms: int
    seq: int
    event: Event = field(compare=False)


class Timeline:
    """The scripted events of one sandbox (thread-safe)."""

    def __init__(self, *, state: State, clock: Callable[[], int]) -> None:
        self._state = state
        self._clock = clock
        self._lock = threading.RLock()
        self._queue: list[_Queued] = []
        self._seq = itertools.count()
        self._rerun_policies: list[RerunPolicy] = []
        self.applied: list[Event] = []
        self.playing = False

    # ------------------------------------------------------------------------------------------- scripting
    def appear(
        self,
        job: str,
        *,
        at: int,
        status: str = "running",
        instance_id: int | None = None,
        nodes: int | Sequence[str | tuple[str, str] | Node] | None = None,
        plan_time: int | None = None,
        workspace: str | None = None,
        failed_node: str | None = None,
    ) -> int:
        """At `at`, a new instance of `job` appears in `status`; returns the id it will have (reserved now)."""
        iid = instance_id if instance_id is not None else self._state.reserve_instance_id()
        self._push(
            Event(
                at_ms=at,
                kind="appear",
                job=job,
                instance_id=iid,
                status=status,
                workspace=workspace,
                plan_time=plan_time,
                nodes=nodes,
                failed_node=failed_node,
            )
        )
        return iid

    def set_status(
        self,
        job: str,
        instance_id: int,
        status: str,
        *,
        at: int,
        failed_node: str | None = None,
        workspace: str | None = None,
    ) -> None:
        """At `at`, the instance moves to `status` (nodes and times kept consistent)."""
        self._push(
            Event(
                at_ms=at,
                kind="status",
                job=job,
                instance_id=instance_id,
                status=status,
                workspace=workspace,
                failed_node=failed_node,
            )
        )

    def run(self, job: str, instance_id: int, *, at: int, workspace: str | None = None) -> None:
        """At `at`, the instance is running."""
        self.set_status(job, instance_id, "running", at=at, workspace=workspace)

    def fail(
        self, job: str, instance_id: int, *, at: int, failed_node: str | None = None, workspace: str | None = None
    ) -> None:
        """At `at`, the instance fails (at `failed_node`, default the first unfinished node)."""
        self.set_status(job, instance_id, "fail", at=at, failed_node=failed_node, workspace=workspace)

    def succeed(self, job: str, instance_id: int, *, at: int, workspace: str | None = None) -> None:
        """At `at`, the instance succeeds."""
        self.set_status(job, instance_id, "success", at=at, workspace=workspace)

    def on_rerun(
        self,
        outcome: str,
        *,
        after_ms: int,
        job: str | None = None,
        failed_node: str | None = None,
        instance_id: int | None = None,
    ) -> None:
        """From now on, reruns (of `job`'s instance `instance_id`, of any instance of `job`, or of any job) end in
        `outcome` (success, fail, manual-stop...) `after_ms` after they start. The newest policy that applies wins."""
        with self._lock:
            self._rerun_policies.insert(
                0,
                RerunPolicy(
                    outcome=outcome, after_ms=after_ms, job=job, failed_node=failed_node, instance_id=instance_id
                ),
            )

    def clear_rerun_policies(self) -> None:
        """Reruns stay running until scripted again."""
        with self._lock:
            self._rerun_policies.clear()

    def rerun_started(self, job: str, instance_id: int, workspace: str | None, at: int, *, first_node: int = 0) -> None:
        """Called by the server after an API rerun: if a policy says how it ends, its nodes complete one by one
        over `after_ms` (so progress can be watched) and then the instance ends in the policy's outcome (a failing
        outcome fails at the policy's `failed_node`, or at the last node)."""
        with self._lock:
            policy = next((p for p in self._rerun_policies if p.applies(job, instance_id)), None)
            if policy is None:
                return
            nodes = self._state.instance(job, instance_id, workspace).nodes
            last = len(nodes)
            if policy.outcome == "fail":
                names = [n.name for n in nodes]
                last = names.index(policy.failed_node) if policy.failed_node in names else max(last - 1, 0)
            steps = max(last - first_node, 0)
            for step in range(1, steps + 1):
                if policy.outcome == "success" and step == steps:
                    break  # the last node's success is the instance's success
                self._push(
                    Event(
                        at_ms=at + policy.after_ms * step // (steps + 1),
                        kind="advance",
                        job=job,
                        instance_id=instance_id,
                        status="running",
                        workspace=workspace,
                    )
                )
        self.set_status(
            job,
            instance_id,
            policy.outcome,
            at=at + policy.after_ms,
            failed_node=policy.failed_node,
            workspace=workspace,
        )

    # ------------------------------------------------------------------------------------------- applying
    @property
    def pending(self) -> list[Event]:
        """Events not applied yet, in the order they will be."""
        with self._lock:
            return [q.event for q in sorted(self._queue)]

    def next_at(self) -> int | None:
        """The time of the next pending event."""
        with self._lock:
            return self._queue[0].at_ms if self._queue else None

    def step(self) -> Event | None:
        """Apply the next event (whatever its time); None when the script is exhausted."""
        with self._lock:
            if not self._queue:
                return None
            event = heapq.heappop(self._queue).event
            self._apply(event)
            return event

    def step_until(self, ms: int) -> list[Event]:
        """Apply every event due at or before `ms`, in order."""
        done: list[Event] = []
        with self._lock:
            while self._queue and self._queue[0].at_ms <= ms:
                done.append(self.step())  # type: ignore[arg-type]
        return done

    def play(self) -> None:
        """Apply events in sandbox-clock time from now on (the demo)."""
        self.playing = True
        self.apply_due()

    def pause(self) -> None:
        """Stop applying events by the clock."""
        self.playing = False

    def apply_due(self) -> list[Event]:
        """When playing, apply the events the clock has reached; a bad event is logged and dropped."""
        if not self.playing:
            return []
        done: list[Event] = []
        now = self._clock()
        with self._lock:
            while self._queue and self._queue[0].at_ms <= now:
                event = self._queue[0].event
                try:
                    self.step()
                except Exception:  # a script error must not break the server answering the request
                    logger.exception("timeline event could not be applied: %s", event)
                else:
                    done.append(event)
        return done

    def _push(self, event: Event) -> None:
        with self._lock:
            heapq.heappush(self._queue, _Queued(event.at_ms, next(self._seq), event))

    def _apply(self, event: Event) -> None:
        if event.kind == "appear":
            self._state.add_instance(
                event.job,
                event.instance_id,
                status=event.status,
                nodes=event.nodes,
                plan_time=event.plan_time if event.plan_time is not None else event.at_ms,
                workspace=event.workspace,
                failed_node=event.failed_node,
                at=event.at_ms,
            )
        elif event.kind == "advance":
            self._state.advance(event.job, event.instance_id, workspace=event.workspace, at=event.at_ms)
        else:
            self._state.set_status(
                event.job,
                event.instance_id,
                event.status,
                failed_node=event.failed_node,
                at=event.at_ms,
                workspace=event.workspace,
            )
        self.applied.append(event)
