"""Action ids of the bot's buttons and the values they carry, encoded and decoded in one place.

A button's `value` is compact JSON (`{"job": ..., "instance": ..., "profile": ...}`, profile only when set) of at most
2000 characters; the Slack handlers decode it with `decode_instance_ref` and never trust it further than that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.dlf.identifiers import INT64_MAX
from bot.render.mrkdwn import slack_len

INSTANCE_REFRESH = "dlf.instance.refresh"
INSTANCE_SHARE = "dlf.instance.share"
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True, kw_only=True)
class InstanceRef:
    """Which instance a button is about."""

    job: str
    instance_id: int
    profile: str | None = None


def encode_instance_ref(ref: InstanceRef) -> str | None:
    """The button value for `ref`, or None when it cannot fit Slack's 2000-character limit."""
    data: dict[str, object] = {"job": ref.job, "instance": ref.instance_id}
    if ref.profile is not None:
        data["profile"] = ref.profile
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return value if slack_len(value) <= MAX_VALUE_LENGTH else None


def decode_instance_ref(value: str) -> InstanceRef:
    """Parse a button value made by `encode_instance_ref`; ValueError when it is not one."""
    try:
        data = json.loads(value)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError("button value is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("button value is not an object")
    job, instance_id, profile = data.get("job"), data.get("instance"), data.get("profile")
    if not isinstance(job, str) or not job:
        raise ValueError("button value has no job name")
    if (
        isinstance(instance_id, bool)
        or not isinstance(instance_id, int)
        or not -INT64_MAX - 1 <= instance_id <= INT64_MAX
    ):
        raise ValueError("button value has no valid instance id")
    if profile is not None and not isinstance(profile, str):
        raise ValueError("button value has a malformed profile")
    return InstanceRef(job=job, instance_id=instance_id, profile=profile)


__all__ = [
    "INSTANCE_REFRESH",
    "INSTANCE_SHARE",
    "InstanceRef",
    "decode_instance_ref",
    "encode_instance_ref",
]
