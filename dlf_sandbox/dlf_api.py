"""The DLF v1 operations on the sandbox state: validated parameters in, DLF's JSON bodies out (no HTTP here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dlf_sandbox import apierrors, wire
from dlf_sandbox.state import Instance, State

MAX_WINDOW_MS = 7 * 24 * 3600 * 1000
INSTANCE_LIMIT_RANGE = (1, 1000)
JOB_LIMIT_RANGE = (1, 100)
DEFAULT_LIMIT = 10
INT64_MAX = 2**63 - 1


def int_param(query: dict[str, str], name: str, default: int, low: int = 0, high: int = INT64_MAX) -> int:
    """An integer query parameter within [low, high], or DLF.3051."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.lstrip("-").isdigit() and text.isascii()):
        raise apierrors.invalid_parameter(f"{name} must be an integer.")
    value = int(text)
    if not low <= value <= high:
        raise apierrors.invalid_parameter(f"{name} must be between {low} and {high}.")
    return value


def bool_param(query: dict[str, str], name: str) -> bool:
    """`true` / `false` (any case), or DLF.3051."""
    raw = query.get(name, "false").strip().lower()
    if raw not in ("true", "false"):
        raise apierrors.invalid_parameter(f"{name} must be true or false.")
    return raw == "true"


def instance_id_param(text: str | None) -> int:
    """The instance id path parameter as a whole number, or DLF.3051."""
    if text is None or not (text.isascii() and text.isdigit()) or int(text) > INT64_MAX:
        raise apierrors.invalid_parameter("instance_id must be a whole number.")
    return int(text)


def start_of_day_ms(now_ms: int) -> int:
    """00:00 UTC of the day `now_ms` falls in (the default `minPlanTime`)."""
    day = datetime.fromtimestamp(now_ms / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp() * 1000)


def list_instances(state: State, *, workspace: str | None, query: dict[str, str], now_ms: int) -> dict[str, Any]:
    """GET /v1/{project_id}/jobs/instances/detail: `offset` is the page NUMBER, as documented."""
    limit = int_param(query, "limit", DEFAULT_LIMIT, *INSTANCE_LIMIT_RANGE)
    page = int_param(query, "offset", 0)
    min_plan = int_param(query, "minPlanTime", start_of_day_ms(now_ms))
    max_plan = int_param(query, "maxPlanTime", now_ms)
    if max_plan - min_plan > MAX_WINDOW_MS:
        raise apierrors.invalid_parameter("The time range between minPlanTime and maxPlanTime exceeds 7 days.")
    instance_type = int_param(query, "instanceType", -1, 0, 100) if query.get("instanceType") else None
    precise = bool_param(query, "preciseQuery")
    with state.lock:
        total, rows = state.list_instances(
            workspace=workspace,
            min_plan_time=min_plan,
            max_plan_time=max_plan,
            job_name=query.get("jobName") or None,
            precise=precise,
            status=query.get("status") or None,
            instance_type=instance_type,
            limit=limit,
            page=page,
        )
        return {"total": total, "instances": [wire.instance_row(row) for row in rows]}


def list_jobs(state: State, *, workspace: str | None, query: dict[str, str]) -> dict[str, Any]:
    """GET /v1/{project_id}/jobs: filters jobType and jobName (substring); `offset` is a page number here too."""
    limit = int_param(query, "limit", DEFAULT_LIMIT, *JOB_LIMIT_RANGE)
    page = int_param(query, "offset", 0)
    job_type = query.get("jobType") or None
    if job_type is not None and job_type not in ("BATCH", "REAL_TIME"):
        raise apierrors.invalid_parameter("jobType must be BATCH or REAL_TIME.")
    needle = (query.get("jobName") or "").lower()
    jobs = [
        job
        for job in state.jobs(workspace)
        if (job_type is None or job.job_type == job_type) and (not needle or needle in job.name.lower())
    ]
    start = page * limit
    with state.lock:
        rows = [wire.job_row(job, state.latest_instance(job)) for job in jobs[start : start + limit]]
    return {"total": len(jobs), "jobs": rows}


def show_job(state: State, *, workspace: str | None, job_name: str) -> dict[str, Any]:
    """GET /v1/{project_id}/jobs/{job_name}."""
    return wire.job_details(state.job(job_name, workspace))


def show_instance(state: State, *, workspace: str | None, job_name: str, instance_id: str | None) -> dict[str, Any]:
    """GET /v1/{project_id}/jobs/{job_name}/instances/{instance_id} (the seed page)."""
    state.job(job_name, workspace)
    with state.lock:
        return wire.instance_details(state.instance(job_name, instance_id_param(instance_id), workspace))


RETRY_LOCATIONS = ("error_node", "first_node", "specified_node")


def restart_instance(
    state: State, *, workspace: str | None, job_name: str, instance_id: str | None, now_ms: int, body: bytes = b""
) -> tuple[Instance, int]:
    """POST .../restart: only from success, fail or manual-stop; returns the instance and the index of the node the
    rerun starts from.

    The optional JSON body (API reference "Rerunning a Job Instance"): `retry_location` `error_node` | `first_node`
    | `specified_node` (default `first_node`), `node_name` (with `specified_node`), `job_param_version`
    `original_version` | `latest_version`, `ignore_obs_monitor` (bool). Anything else is DLF.3051.
    """
    state.job(job_name, workspace)
    options = _rerun_options(body)
    location = options.get("retry_location", "first_node")
    if location not in RETRY_LOCATIONS:
        raise apierrors.invalid_parameter(f"retry_location must be one of {', '.join(RETRY_LOCATIONS)}.")
    version = options.get("job_param_version", "original_version")
    if version not in ("original_version", "latest_version"):
        raise apierrors.invalid_parameter("job_param_version must be original_version or latest_version.")
    if not isinstance(options.get("ignore_obs_monitor", False), bool):
        raise apierrors.invalid_parameter("ignore_obs_monitor must be a boolean.")
    node_name = options.get("node_name")
    if location == "specified_node" and not (isinstance(node_name, str) and node_name):
        raise apierrors.invalid_parameter("node_name is required with retry_location specified_node.")
    return state.restart(
        job_name,
        instance_id_param(instance_id),
        workspace,
        at=now_ms,
        location=str(location),
        node_name=node_name if isinstance(node_name, str) else None,
    )


def _rerun_options(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        options = json.loads(body)
    except ValueError:
        raise apierrors.invalid_parameter("The request body is not valid JSON.") from None
    if not isinstance(options, dict):
        raise apierrors.invalid_parameter("The request body must be a JSON object.")
    return options


def stop_instance(
    state: State, *, workspace: str | None, job_name: str, instance_id: str | None, now_ms: int
) -> Instance:
    """POST .../stop: only from running."""
    state.job(job_name, workspace)
    return state.stop(job_name, instance_id_param(instance_id), workspace, at=now_ms)
