"""What makes a job name or an instance id usable in a DLF URL: one rule, shared by the models and the paths.

The models refuse what the paths would refuse, so a row the client hands out can always be asked about again.
"""

from __future__ import annotations

INT64_MAX = 2**63 - 1
DOT_SEGMENTS = (".", "..")


def check_job_name(name: str) -> str:
    """`name` when it can name a job in a URL path; ValueError for an empty name or a dot segment."""
    if not name:
        raise ValueError("a job name must not be empty")
    if name in DOT_SEGMENTS:
        # quote() leaves dots alone, and a dot segment would change which resource the path names.
        raise ValueError(f"{name!r} is not a job name")
    return name


def check_instance_id(instance_id: int) -> int:
    """`instance_id` when it is between 0 and 2**63-1 (DLF's ids are positive int64); ValueError otherwise."""
    if not 0 <= instance_id <= INT64_MAX:
        raise ValueError("an instance id must be between 0 and 2**63-1")
    return instance_id
