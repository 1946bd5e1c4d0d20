"""DLF API paths, with every untrusted part validated and percent-encoded before it reaches the URL."""

from __future__ import annotations

from urllib.parse import quote

from bot.dlf.identifiers import check_instance_id, check_job_name


def job_segment(job_name: str) -> str:
    """A job name as one path segment: `quote(name, safe="")`; empty names and dot segments refused."""
    if not isinstance(job_name, str):
        raise ValueError("a job name must be a non-empty string")
    return quote(check_job_name(job_name), safe="")


def instance_segment(instance_id: int) -> str:
    """An instance id as a path segment: a whole number from 0 to 2**63-1 (never a string or a bool)."""
    if isinstance(instance_id, bool) or not isinstance(instance_id, int):
        raise TypeError(f"an instance id must be an int, not {type(instance_id).__name__}")
    return str(check_instance_id(instance_id))


def project_prefix(project_id: str) -> str:
    """`/v1/{project_id}`."""
    return f"/v1/{quote(project_id, safe='')}"


def instance_path(project_id: str, job_name: str, instance_id: int, action: str | None = None) -> str:
    """`/v1/{project}/jobs/{job}/instances/{id}[/{action}]`."""
    path = f"{project_prefix(project_id)}/jobs/{job_segment(job_name)}/instances/{instance_segment(instance_id)}"
    return f"{path}/{action}" if action else path


def instance_list_path(project_id: str) -> str:
    """`/v1/{project}/jobs/instances/detail`."""
    return f"{project_prefix(project_id)}/jobs/instances/detail"


def job_list_path(project_id: str) -> str:
    """`/v1/{project}/jobs`."""
    return f"{project_prefix(project_id)}/jobs"


def job_path(project_id: str, job_name: str) -> str:
    """`/v1/{project}/jobs/{job}`."""
    return f"{project_prefix(project_id)}/jobs/{job_segment(job_name)}"
