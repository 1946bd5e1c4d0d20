"""Action ids of the bot's buttons and the values they carry, encoded and decoded in one place.

A button's `value` is compact JSON (`{"job": ..., "instance": ..., "profile": ...}`, profile only when set) of at most
2000 characters; the Slack handlers decode it with `decode_instance_ref` and never trust it further than that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeGuard

from bot.dlf.identifiers import INT64_MAX
from bot.render.mrkdwn import slack_len

INSTANCE_REFRESH = "dlf.instance.refresh"
INSTANCE_SHARE = "dlf.instance.share"
# `/dlf instances`: open one listed instance's card; another page of the list.
INSTANCES_OPEN = "dlf.instances.open"
INSTANCES_PAGE = "dlf.instances.page"
# `/dlf audit`: another page of the audit entries.
AUDIT_PAGE = "dlf.audit.page"
# App Home: read the tab again; a link button opening a channel (Slack still reports its click: acknowledged).
HOME_REFRESH = "dlf.home.refresh"
HOME_OPEN = "dlf.home.open"
# App Home: remove one of the user's own subscriptions (the value is its id; the store checks who created it).
HOME_UNWATCH = "dlf.home.unwatch"
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


@dataclass(frozen=True, kw_only=True)
class ListPageRef:
    """Which page of a list a button brings: `/dlf instances` (`job` set) or `/dlf audit` (`job` optional).

    `since_ms`/`until_ms` fix the window when the command ran; `before_id` (audit) is the last entry shown.
    `status`, `profile`, `since_midnight`: the instance list's filter, profile and whether its window is DLF's
    default. Decoded values are only shaped right: the handler validates them as it validates typed commands."""

    page: int
    since_ms: int
    until_ms: int | None = None
    job: str | None = None
    status: str | None = None
    profile: str | None = None
    since_midnight: bool = False
    before_id: int | None = None


def encode_list_page(ref: ListPageRef) -> str | None:
    """The button value for `ref` (defaults left out), or None when it cannot fit Slack's 2000 characters."""
    data: dict[str, object] = {"page": ref.page, "since": ref.since_ms}
    optional: dict[str, object | None] = {
        "until": ref.until_ms,
        "job": ref.job,
        "status": ref.status,
        "profile": ref.profile,
        "before": ref.before_id,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    if ref.since_midnight:
        data["today"] = True
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return value if slack_len(value) <= MAX_VALUE_LENGTH else None


def decode_list_page(value: str) -> ListPageRef:
    """Parse a value made by `encode_list_page`; ValueError when it is not one."""
    try:
        data = json.loads(value)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError("button value is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("button value is not an object")
    page, since = data.get("page"), data.get("since")
    if not _is_int(page) or not 0 <= page <= 10_000:
        raise ValueError("button value has no valid page")
    if not _is_int(since) or since < 0:
        raise ValueError("button value has no valid window")
    until, before = data.get("until"), data.get("before")
    for number in (until, before):
        if number is not None and (not _is_int(number) or not 0 <= number <= INT64_MAX):
            raise ValueError("button value has a malformed number")
    texts = {key: data.get(key) for key in ("job", "status", "profile")}
    if any(text is not None and not isinstance(text, str) for text in texts.values()):
        raise ValueError("button value has a malformed name")
    return ListPageRef(
        page=page,
        since_ms=since,
        until_ms=until,
        job=texts["job"],
        status=texts["status"],
        profile=texts["profile"],
        since_midnight=data.get("today") is True,
        before_id=before,
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


__all__ = [
    "AUDIT_PAGE",
    "HOME_OPEN",
    "HOME_REFRESH",
    "HOME_UNWATCH",
    "INSTANCES_OPEN",
    "INSTANCES_PAGE",
    "INSTANCE_REFRESH",
    "INSTANCE_SHARE",
    "InstanceRef",
    "ListPageRef",
    "decode_instance_ref",
    "decode_list_page",
    "encode_instance_ref",
    "encode_list_page",
]
