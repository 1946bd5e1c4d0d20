"""Action ids of the bot's buttons and the values they carry, encoded and decoded in one place.

A button's `value` is compact JSON (`{"job": ..., "instance": ..., "profile": ...}`, profile only when set) of at most
2000 characters; the Slack handlers decode it with `decode_instance_ref` and never trust it further than that.
"""

from __future__ import annotations

import hashlib
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
# An incident card's buttons (the value names the incident by its card key, `encode_incident_ref`) and the
# confirmation dialogs of Rerun and Stop (their callback ids).
INCIDENT_ACK = "dlf.incident.ack"
INCIDENT_RERUN = "dlf.incident.rerun"  # a static_select: error_node (default) | first_node
INCIDENT_STOP = "dlf.incident.stop"
INCIDENT_MUTE = "dlf.incident.mute"  # a static_select: 1h | 4h | 24h | forever
INCIDENT_UNMUTE = "dlf.incident.unmute"
INCIDENT_RESOLVE = "dlf.incident.resolve"
INCIDENT_REFRESH = "dlf.incident.refresh"
INCIDENT_RERUN_CONFIRM = "dlf.incident.rerun.confirm"
INCIDENT_STOP_CONFIRM = "dlf.incident.stop.confirm"
INCIDENT_ACTIONS = (
    INCIDENT_ACK,
    INCIDENT_RERUN,
    INCIDENT_STOP,
    INCIDENT_MUTE,
    INCIDENT_UNMUTE,
    INCIDENT_RESOLVE,
    INCIDENT_REFRESH,
)
RETRY_LOCATIONS = ("error_node", "first_node")
MUTE_CHOICES = {"1h": 3600, "4h": 4 * 3600, "24h": 24 * 3600, "forever": None}
# A select menu's option value holds 150 characters: a long card key is named there by a digest of it.
MAX_OPTION_VALUE_LENGTH = 150
_CARD_DIGEST_PREFIX = "~"


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


@dataclass(frozen=True, kw_only=True)
class IncidentRef:
    """Which incident a button, a menu choice or a dialog is about: its card key (or `card_digest(key)` when the key
    is too long for a menu option), and the choice made (`choice`: a retry location or a mute duration)."""

    card: str
    choice: str | None = None


def card_digest(card_key: str) -> str:
    """A short stand-in for a long card key (menu options hold 150 characters)."""
    return _CARD_DIGEST_PREFIX + hashlib.sha256(card_key.encode()).hexdigest()[:40]


def names_card(ref: IncidentRef, card_key: str) -> bool:
    """Whether `ref` names the card `card_key` (by the key itself, or by its digest)."""
    return ref.card == card_key or (ref.card.startswith(_CARD_DIGEST_PREFIX) and ref.card == card_digest(card_key))


def encode_incident_ref(ref: IncidentRef, *, limit: int = MAX_VALUE_LENGTH) -> str:
    """The compact JSON value `{"card": ..., "choice": ...}`; the card key becomes its digest when the value would not
    fit `limit` (a button's 2000 characters, an option's 150)."""
    data: dict[str, object] = {"card": ref.card}
    if ref.choice is not None:
        data["choice"] = ref.choice
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if slack_len(value) <= limit:
        return value
    return encode_incident_ref(IncidentRef(card=card_digest(ref.card), choice=ref.choice), limit=limit)


def decode_incident_ref(value: str) -> IncidentRef:
    """Parse a value made by `encode_incident_ref`; ValueError when it is not one (only its shape is checked: the
    incident service checks it against the store)."""
    try:
        data = json.loads(value)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError("button value is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("button value is not an object")
    card, choice = data.get("card"), data.get("choice")
    if not isinstance(card, str) or not 0 < len(card) <= 255:
        raise ValueError("button value names no incident card")
    if choice is not None and (not isinstance(choice, str) or len(choice) > 16):
        raise ValueError("button value has a malformed choice")
    return IncidentRef(card=card, choice=choice)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


__all__ = [
    "AUDIT_PAGE",
    "HOME_OPEN",
    "HOME_REFRESH",
    "HOME_UNWATCH",
    "INCIDENT_ACK",
    "INCIDENT_ACTIONS",
    "INCIDENT_MUTE",
    "INCIDENT_REFRESH",
    "INCIDENT_RERUN",
    "INCIDENT_RERUN_CONFIRM",
    "INCIDENT_RESOLVE",
    "INCIDENT_STOP",
    "INCIDENT_STOP_CONFIRM",
    "INCIDENT_UNMUTE",
    "MAX_OPTION_VALUE_LENGTH",
    "MUTE_CHOICES",
    "RETRY_LOCATIONS",
    "IncidentRef",
    "card_digest",
    "decode_incident_ref",
    "encode_incident_ref",
    "names_card",
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
