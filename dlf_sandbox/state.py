"""Jobs and instances the sandbox serves, with the indexes that keep the list query fast at 100k instances.

Every method is thread-safe (one re-entrant lock): tests and the demo mutate the state from their own thread while
the server answers from its loop. Times are epoch milliseconds from the injected clock unless given.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from dlf_sandbox import apierrors

Clock = Callable[[], int]

FINISHED_STATUSES = frozenset({"success", "fail", "manual-stop"})
RERUNNABLE_STATUSES = frozenset({"success", "fail", "manual-stop"})
STOPPABLE_STATUSES = frozenset({"running"})
DEFAULT_NODE_TEMPLATES: tuple[tuple[str, str], ...] = (("extract", "CDM Job"), ("transform", "DLI SQL"))
FIRST_GENERATED_INSTANCE_ID = 1_000_000
FIRST_GENERATED_JOB_ID = 900_000
NODE_TYPES = ("DLI SQL", "DWS SQL", "CDM Job", "Shell", "MRS Spark", "Python", "Dummy")


@dataclass(slots=True, kw_only=True)
class Node:
    """One node of one instance, field for field what DLF returns (None = field absent)."""

    name: str
    type: str = "Dummy"
    status: str = "waiting"
    plan_time: int = 0
    start_time: int | None = None
    end_time: int | None = None
    retry_times: int | None = 0
    input_row_count: int | None = None
    speed: float | None = None
    log_path: str | None = None
    queue: str | None = None


@dataclass(slots=True, kw_only=True)
class Instance:
    """One job instance. `sdk_spelling` makes its details use the SDK's field names (`instancesId`, `nodeType`)."""

    job_name: str
    workspace: str
    instance_id: int
    job_id: int | str
    status: str
    plan_time: int
    start_time: int | None = None
    end_time: int | None = None
    execute_time: int | None = None
    submit_time: int | None = None
    nodes: list[Node] = field(default_factory=list)
    instance_type: int | None = 0
    force_success: bool = False
    ignore_success: bool = False
    version: int = 1
    error_message: str | None = None
    sdk_spelling: bool = False
    runs: int = 1


@dataclass(slots=True, kw_only=True)
class Job:
    """One job (a DLF batch or real-time job) in one workspace."""

    name: str
    workspace: str
    job_id: int
    job_type: str = "BATCH"
    status: str = "NORMAL"
    owner: str = "sandbox"
    priority: int = 0
    created_time: int = 0
    node_templates: tuple[tuple[str, str], ...] = DEFAULT_NODE_TEMPLATES
    instance_ids: list[int] = field(default_factory=list)


class State:
    """The sandbox's jobs and instances (see the module docstring)."""

    def __init__(self, *, clock: Clock, workspaces: dict[str, str], default_workspace: str) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self.lock = self._lock  # held by readers that serialize instances while another thread may mutate them
        self.workspaces = dict(workspaces)
        self.default_workspace = default_workspace
        self._jobs: dict[tuple[str, str], Job] = {}
        self._instances: dict[int, Instance] = {}
        self._by_plan: list[tuple[int, int]] = []
        self._by_plan_sorted = True
        self._by_status: dict[str, dict[int, None]] = {}
        self._instance_ids = itertools.count(FIRST_GENERATED_INSTANCE_ID)
        self._job_ids = itertools.count(FIRST_GENERATED_JOB_ID)

    # ----------------------------------------------------------------------------------------------- jobs
    def add_job(
        self,
        name: str,
        workspace: str | None = None,
        *,
        job_type: str = "BATCH",
        nodes: Sequence[tuple[str, str]] | int | None = None,
        owner: str = "sandbox",
        job_id: int | None = None,
    ) -> Job:
        """Create a job; `nodes` are (name, type) templates its instances get, or a count of generated ones."""
        ws = self._workspace(workspace)
        with self._lock:
            if (ws, name) in self._jobs:
                raise ValueError(f"job {name!r} already exists in workspace {ws}")
            job = Job(
                name=name,
                workspace=ws,
                job_id=job_id if job_id is not None else next(self._job_ids),
                job_type=job_type,
                owner=owner,
                created_time=self._clock(),
                node_templates=_templates(nodes),
            )
            self._jobs[(ws, name)] = job
            return job

    def add_jobs(self, names: Iterable[str], workspace: str | None = None) -> int:
        """Create many jobs with default nodes at once (benchmarks); returns how many were created."""
        count = 0
        for name in names:
            self.add_job(name, workspace)
            count += 1
        return count

    def job(self, name: str, workspace: str | None = None) -> Job:
        """The job, or ApiError DLF.0100."""
        with self._lock:
            found = self._jobs.get((self._workspace(workspace), name))
        if found is None:
            raise apierrors.job_not_found()
        return found

    def jobs(self, workspace: str | None = None) -> list[Job]:
        """Every job of a workspace, in creation order."""
        ws = self._workspace(workspace)
        with self._lock:
            return [job for (job_ws, _), job in self._jobs.items() if job_ws == ws]

    # ------------------------------------------------------------------------------------------ instances
    def add_instance(
        self,
        job: str,
        instance_id: int | None = None,
        *,
        status: str = "running",
        nodes: int | Sequence[str | tuple[str, str] | Node] | None = None,
        plan_time: int | None = None,
        workspace: str | None = None,
        failed_node: str | None = None,
        at: int | None = None,
        instance_type: int | None = 0,
        sdk_spelling: bool = False,
        job_id: int | str | None = None,
        error_message: str | None = None,
    ) -> int:
        """Create an instance of `job` in `status` and return its id.

        `nodes`: a count, names, (name, type) pairs, or ready Node objects (kept exactly as given, with the times
        you set: how the seed's own inconsistent example is reproduced). Otherwise the job's node templates. Times
        and node statuses are made consistent with `status` as of `at` (default: the clock).
        """
        now = self._clock() if at is None else at
        with self._lock:
            owner = self.job(job, workspace)
            new_id = instance_id if instance_id is not None else next(self._instance_ids)
            if new_id in self._instances:
                raise ValueError(f"instance {new_id} already exists")
            plan = now if plan_time is None else plan_time
            verbatim = _all_nodes(nodes)
            instance = Instance(
                job_name=owner.name,
                workspace=owner.workspace,
                instance_id=new_id,
                job_id=owner.job_id if job_id is None else job_id,
                status=status,
                plan_time=plan,
                submit_time=plan,
                nodes=list(verbatim) if verbatim is not None else _build_nodes(nodes, owner, plan),
                instance_type=instance_type,
                sdk_spelling=sdk_spelling,
                error_message=error_message,
            )
            if verbatim is None:
                shape(instance, status, now=now, failed_node=failed_node)
            self._instances[new_id] = instance
            owner.instance_ids.append(new_id)
            if self._by_plan and (plan, new_id) < self._by_plan[-1]:
                self._by_plan_sorted = False
            self._by_plan.append((plan, new_id))
            self._by_status.setdefault(status, {})[new_id] = None
            return new_id

    def instance(self, job: str, instance_id: int, workspace: str | None = None) -> Instance:
        """The instance of that job, or ApiError DLF.0100 / DLF.0137."""
        with self._lock:
            owner = self.job(job, workspace)
            found = self._instances.get(instance_id)
            if found is None or found.job_name != owner.name or found.workspace != owner.workspace:
                raise apierrors.instance_not_found()
            return found

    def set_status(
        self,
        job: str,
        instance_id: int,
        status: str,
        *,
        failed_node: str | None = None,
        at: int | None = None,
        workspace: str | None = None,
        error_message: str | None = None,
    ) -> Instance:
        """Move an instance to `status`, keeping its nodes and times consistent (see `shape`)."""
        now = self._clock() if at is None else at
        with self._lock:
            instance = self.instance(job, instance_id, workspace)
            self._reindex_status(instance, status)
            shape(instance, status, now=now, failed_node=failed_node)
            if error_message is not None:
                instance.error_message = error_message
            return instance

    def restart(
        self,
        job: str,
        instance_id: int,
        workspace: str | None = None,
        *,
        at: int | None = None,
        location: str = "first_node",
        node_name: str | None = None,
    ) -> tuple[Instance, int]:
        """Rerun: a new run of the same instance (same id), from `location`. Only from success/fail/manual-stop.

        `first_node` runs every node again; `error_node` keeps the nodes that succeeded before the first one that
        did not (the failed or stopped one) and runs from there (from the first node when every node succeeded);
        `specified_node` runs from `node_name` (DLF.3051 if the instance has no such node). Returns the instance
        and the index of the node the rerun starts from.
        """
        now = self._clock() if at is None else at
        with self._lock:
            instance = self.instance(job, instance_id, workspace)
            if instance.status not in RERUNNABLE_STATUSES:
                raise apierrors.status_forbids("rerun", instance.status)
            start = _restart_index(instance.nodes, location, node_name)
            self._reindex_status(instance, "running")
            instance.runs += 1
            instance.version += 1
            instance.start_time = now
            instance.end_time = instance.execute_time = None
            instance.error_message = None
            instance.status = "running"
            for node in instance.nodes[start:]:
                node.status, node.start_time, node.end_time, node.log_path = "waiting", None, None, None
            if start < len(instance.nodes):
                instance.nodes[start].status, instance.nodes[start].start_time = "running", now
            return instance, start

    def advance(self, job: str, instance_id: int, workspace: str | None = None, *, at: int | None = None) -> Instance:
        """A running instance's current node succeeds and the next one starts (a rerun making progress)."""
        now = self._clock() if at is None else at
        with self._lock:
            instance = self.instance(job, instance_id, workspace)
            if instance.status != "running":
                return instance
            nodes = instance.nodes
            current = next((i for i, n in enumerate(nodes) if n.status == "running"), None)
            if current is None:
                return instance
            nodes[current].status, nodes[current].end_time = "success", now
            following = next((n for n in nodes[current + 1 :] if n.status == "waiting"), None)
            if following is not None:
                following.status, following.start_time = "running", now
            return instance

    def stop(self, job: str, instance_id: int, workspace: str | None = None, *, at: int | None = None) -> Instance:
        """Stop a running instance (manual-stop). Only from running."""
        with self._lock:
            instance = self.instance(job, instance_id, workspace)
            if instance.status not in STOPPABLE_STATUSES:
                raise apierrors.status_forbids("stop", instance.status)
            return self.set_status(job, instance_id, "manual-stop", at=at, workspace=workspace)

    def list_instances(
        self,
        *,
        workspace: str | None = None,
        min_plan_time: int,
        max_plan_time: int,
        job_name: str | None = None,
        precise: bool = False,
        status: str | None = None,
        instance_type: int | None = None,
        limit: int = 10,
        page: int = 0,
    ) -> tuple[int, list[Instance]]:
        """Instances matching every filter, newest plan time first: (total, the rows of page number `page`)."""
        ws = self._workspace(workspace)
        with self._lock:
            if not self._by_plan_sorted:
                self._by_plan.sort()
                self._by_plan_sorted = True
            lo = bisect.bisect_left(self._by_plan, (min_plan_time, -1))
            hi = bisect.bisect_right(self._by_plan, (max_plan_time, 2**63))
            candidates: list[tuple[int, int]] | None = None
            sources: list[list[int] | dict[int, None]] = []
            if job_name is not None and precise:
                owner = self._jobs.get((ws, job_name))
                sources.append(owner.instance_ids if owner else [])
            if status is not None:
                sources.append(self._by_status.get(status, {}))
            smallest = min(sources, key=len, default=None)
            if smallest is None or len(smallest) >= hi - lo:
                candidates = self._by_plan[lo:hi]
                candidates.reverse()
                ordered = True
            else:
                candidates = [(self._instances[i].plan_time, i) for i in smallest]
                ordered = False
            needle = job_name.lower() if job_name is not None and not precise else None
            matches: list[tuple[int, int]] = []
            for plan, iid in candidates:
                inst = self._instances[iid]
                if (
                    inst.workspace == ws
                    and min_plan_time <= plan <= max_plan_time
                    and (status is None or inst.status == status)
                    and (instance_type is None or inst.instance_type == instance_type)
                    and (
                        job_name is None
                        or (
                            inst.job_name.lower().find(needle) >= 0 if needle is not None else inst.job_name == job_name
                        )
                    )
                ):
                    matches.append((plan, iid))
            if not ordered:
                matches.sort(reverse=True)
            start = page * limit
            return len(matches), [self._instances[i] for _, i in matches[start : start + limit]]

    def instance_count(self) -> int:
        """How many instances exist (all jobs, all workspaces)."""
        with self._lock:
            return len(self._instances)

    def latest_instance(self, job: Job) -> Instance | None:
        """The job's most recently created instance."""
        with self._lock:
            return self._instances[job.instance_ids[-1]] if job.instance_ids else None

    def reserve_instance_id(self) -> int:
        """An id no instance has yet, for scripts that name an instance before it appears."""
        with self._lock:
            return next(self._instance_ids)

    # ---------------------------------------------------------------------------------------------- helpers
    def _workspace(self, workspace: str | None) -> str:
        ws = self.default_workspace if workspace is None else workspace
        if ws not in self.workspaces:
            raise apierrors.workspace_not_found()
        return ws

    def _reindex_status(self, instance: Instance, status: str) -> None:
        self._by_status.get(instance.status, {}).pop(instance.instance_id, None)
        self._by_status.setdefault(status, {})[instance.instance_id] = None


def _templates(nodes: Sequence[tuple[str, str]] | int | None) -> tuple[tuple[str, str], ...]:
    if nodes is None:
        return DEFAULT_NODE_TEMPLATES
    if isinstance(nodes, int):
        return _generated_templates(nodes)
    return tuple((name, node_type) for name, node_type in nodes)


@functools.lru_cache(maxsize=64)
def _generated_templates(count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"node_{i:04d}", NODE_TYPES[i % len(NODE_TYPES)]) for i in range(count))


def _all_nodes(nodes: object) -> list[Node] | None:
    """The nodes as given when every one is a ready Node object (kept verbatim), else None."""
    if isinstance(nodes, Sequence) and not isinstance(nodes, str) and nodes:
        ready = [n for n in nodes if isinstance(n, Node)]
        if len(ready) == len(nodes):
            return ready
    return None


def _build_nodes(nodes: int | Sequence[object] | None, job: Job, plan: int) -> list[Node]:
    if nodes is None:
        specs: Sequence[tuple[str, str]] = job.node_templates
    elif isinstance(nodes, int):
        specs = _templates(nodes)
    else:
        specs = [(n, "Dummy") if isinstance(n, str) else n for n in nodes]  # type: ignore[misc]
    return [Node(name=name, type=node_type, plan_time=plan) for name, node_type in specs]


def shape(instance: Instance, status: str, *, now: int, failed_node: str | None = None) -> None:
    """Set `status` and make the instance's times and nodes agree with it, as of `now`.

    running: started (if not yet), the first unfinished node running, later ones waiting.
    success: every node succeeded, spread over start..now. fail: nodes before the failed one succeeded, the failed
    one failed (log path, retries), the rest skipped. manual-stop: running nodes stopped. waiting: nothing started.
    Other values (pause, running-exception, new ones) only change the status.
    """
    instance.status = status
    nodes = instance.nodes
    if status == "waiting":
        instance.start_time = instance.end_time = instance.execute_time = None
        for node in nodes:
            node.status, node.start_time, node.end_time = "waiting", None, None
        return
    if instance.start_time is None:
        instance.start_time = min(now, max(instance.plan_time, now - 60_000))
    start = instance.start_time
    if status == "running":
        instance.end_time = instance.execute_time = None
        current = next((i for i, n in enumerate(nodes) if n.status != "success"), None)
        for i, node in enumerate(nodes):
            if current is not None and i == current:
                node.status, node.end_time = "running", None
                node.start_time = node.start_time or now
            elif current is not None and i > current:
                node.status, node.start_time, node.end_time = "waiting", None, None
        return
    if status in FINISHED_STATUSES:
        instance.end_time = max(now, start)
        instance.execute_time = instance.end_time - start
    if status == "success":
        _spread(nodes, start, instance.end_time or now, upto=len(nodes))
        for node in nodes:
            node.status = "success"
    elif status == "fail":
        index = _failed_index(nodes, failed_node)
        _spread(nodes, start, instance.end_time or now, upto=index + 1)
        for i, node in enumerate(nodes):
            if i < index:
                node.status = "success"
            elif i == index:
                node.status = "fail"
                node.retry_times = node.retry_times or 2
                node.log_path = node.log_path or _log_path(instance, node)
            else:
                node.status, node.start_time, node.end_time = "skip", None, None
        if nodes and instance.error_message is None:
            instance.error_message = f"Node {nodes[index].name} failed."
    elif status == "manual-stop":
        for node in nodes:
            if node.status == "running":
                node.status, node.end_time = "manual-stop", instance.end_time


def _restart_index(nodes: list[Node], location: str, node_name: str | None) -> int:
    if location == "first_node" or not nodes:
        return 0
    if location == "specified_node":
        for i, node in enumerate(nodes):
            if node.name == node_name:
                return i
        raise apierrors.invalid_parameter(f"The node {node_name} does not exist in the job.")
    return next((i for i, n in enumerate(nodes) if n.status != "success"), 0)


def _failed_index(nodes: list[Node], failed_node: str | None) -> int:
    if failed_node is not None:
        for i, node in enumerate(nodes):
            if node.name == failed_node:
                return i
        raise ValueError(f"no node named {failed_node!r}")
    return next((i for i, n in enumerate(nodes) if n.status != "success"), max(len(nodes) - 1, 0))


def _spread(nodes: list[Node], start: int, end: int, *, upto: int) -> None:
    """Give the first `upto` nodes back-to-back times between start and end (keeping times already set)."""
    if upto <= 0:
        return
    step = max((end - start) // upto, 0)
    for i, node in enumerate(nodes[:upto]):
        if node.start_time is None:
            node.start_time = start + i * step
        if node.end_time is None or node.end_time < node.start_time:
            node.end_time = end if i == upto - 1 else start + (i + 1) * step


def _log_path(instance: Instance, node: Node) -> str:
    return f"obs://dlf-sandbox-log/{instance.job_name}/{instance.instance_id}/{node.name}.log"
