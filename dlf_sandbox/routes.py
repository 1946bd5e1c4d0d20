"""Which DLF operation a request addresses: method + percent-decoded path segments → operation name and params."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

SHOW_INSTANCE = "show_instance"
LIST_INSTANCES = "list_instances"
RESTART_INSTANCE = "restart_instance"
STOP_INSTANCE = "stop_instance"
LIST_JOBS = "list_jobs"
SHOW_JOB = "show_job"
CREATE_TOKEN = "create_token"
UNKNOWN = "unknown"

OPERATIONS = (SHOW_INSTANCE, LIST_INSTANCES, RESTART_INSTANCE, STOP_INSTANCE, LIST_JOBS, SHOW_JOB)


@dataclass(frozen=True)
class Route:
    """The operation a request addresses and its decoded path parameters."""

    operation: str
    project_id: str = ""
    job_name: str | None = None
    instance_id: str | None = None


def split_raw_path(raw_path: str) -> tuple[str, str]:
    """A raw request target → (path as sent, query string as sent)."""
    path, _, query = raw_path.partition("?")
    return path, query


def decoded_segments(path: str) -> list[str]:
    """Path segments, each percent-decoded on its own (so an encoded `/` stays inside its segment)."""
    return [unquote(segment) for segment in path.strip("/").split("/")]


def match(method: str, path: str) -> Route:
    """The DLF operation for `method path`, or Route(UNKNOWN)."""
    seg = decoded_segments(path)
    method = method.upper()
    if len(seg) < 3 or seg[0] != "v1" or seg[2] != "jobs" or any(s == "" for s in seg):
        return Route(UNKNOWN)
    project = seg[1]
    rest = seg[3:]
    if method == "GET" and not rest:
        return Route(LIST_JOBS, project)
    if method == "GET" and rest == ["instances", "detail"]:
        return Route(LIST_INSTANCES, project)
    if method == "GET" and len(rest) == 1:
        return Route(SHOW_JOB, project, rest[0])
    if len(rest) >= 3 and rest[1] == "instances":
        job, iid, tail = rest[0], rest[2], rest[3:]
        if method == "GET" and not tail:
            return Route(SHOW_INSTANCE, project, job, iid)
        if method == "POST" and tail == ["restart"]:
            return Route(RESTART_INSTANCE, project, job, iid)
        if method == "POST" and tail == ["stop"]:
            return Route(STOP_INSTANCE, project, job, iid)
    return Route(UNKNOWN)
