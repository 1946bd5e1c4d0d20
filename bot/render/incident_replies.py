"""The thread replies of incident actions: one reply per thing a person did, said in the incident card's thread.

Pure. Who did it (a mention), what, from where (the card, the thread, `/dlf`, the App Home) and, for a rerun or a
stop, DLF's answer — its words escaped, since they are DLF's to write. The replies of the poll cycle (a rerun's
progress and end, recovery, the reminder) live in `bot.render.rerun_replies`.
"""

from __future__ import annotations

from bot.render.blocks import section
from bot.render.incident_actions import RERUN_LABELS
from bot.render.message import Message
from bot.render.mrkdwn import code, date_token, escape_truncated, mention, plural

DLF_TEXT_LIMIT = 500
NODE_NAMES_SHOWN = 5
_WHERE = {
    "button": "from the card",
    "dialog": "from the card",
    "mention": "in this thread",
    "slash": "with `/dlf`",
    "home": "from the App Home",
}


def person(user: str) -> str:
    """A Slack user id as a mention; anything else as code (pings no one)."""
    return mention(f"<@{user}>") or code(user, 60)


def where(via: str) -> str:
    """Where an action came from, as the thread says it."""
    return _WHERE.get(via, "from Slack")


def _reply(text: str) -> Message:
    return Message(text=text, blocks=[section(text)])


def dlf_words(code_: str | None, message: str | None) -> str:
    """DLF's answer, escaped: its message and its error code."""
    words = escape_truncated(message, DLF_TEXT_LIMIT) if message else "no reason given"
    return f"{words} ({code(code_, 40)})" if code_ else words


def acknowledged(user: str, *, via: str) -> Message:
    """`@alice is on it.`"""
    return _reply(f":eyes: {person(user)} is on it (acknowledged {where(via)}).")


def rerun_location(retry_location: str, failed_nodes: tuple[str, ...] = ()) -> str:
    """`from the failed node (`load`)` / `from the first node`."""
    label = RERUN_LABELS.get(retry_location, code(retry_location, 20))
    if retry_location == "error_node" and failed_nodes:
        names = ", ".join(code(name, 80) for name in failed_nodes[:NODE_NAMES_SHOWN])
        more = f" and {len(failed_nodes) - NODE_NAMES_SHOWN} more" if len(failed_nodes) > NODE_NAMES_SHOWN else ""
        label += f" ({names}{more})"
    return label


def rerun_asked(
    user: str,
    *,
    via: str,
    instance_id: int,
    retry_location: str,
    failed_nodes: tuple[str, ...] = (),
    outcome: str,
    dlf_code: str | None = None,
    dlf_message: str | None = None,
) -> Message:
    """Who asked for a rerun, from where, and DLF's answer (`outcome` "ok" | "refused" | "unknown" | "failed": not
    sent)."""
    asked = (
        f"{person(user)} asked {where(via)} for a rerun of instance {code(str(instance_id))} "
        f"{rerun_location(retry_location, failed_nodes)}"
    )
    if outcome == "ok":
        return _reply(f":arrows_counterclockwise: {asked}: DLF accepted it. Its progress follows here.")
    if outcome == "refused":
        return _reply(f":x: {asked}: DLF refused it: {dlf_words(dlf_code, dlf_message)}")
    if outcome == "failed":
        return _reply(
            f":warning: {asked}: DLF could not be asked ({dlf_words(dlf_code, dlf_message)}). Nothing was rerun; try again."
        )
    return _reply(
        f":grey_question: {asked}: DLF's answer was lost. The bot checks the instance and says here whether the "
        "rerun started; it does not ask DLF again."
    )


def stopped(
    user: str,
    *,
    via: str,
    instance_id: int,
    rerun: bool,
    outcome: str,
    dlf_code: str | None = None,
    dlf_message: str | None = None,
) -> Message:
    """Who stopped the instance (its rerun), from where, and DLF's answer."""
    what = f"the rerun of instance {code(str(instance_id))}" if rerun else f"instance {code(str(instance_id))}"
    if outcome == "ok":
        return _reply(f":octagonal_sign: {person(user)} stopped {what} {where(via)}: DLF accepted it.")
    if outcome == "refused":
        return _reply(
            f":x: {person(user)} asked {where(via)} to stop {what}: DLF refused it: {dlf_words(dlf_code, dlf_message)}"
        )
    if outcome == "failed":
        return _reply(
            f":warning: {person(user)} asked {where(via)} to stop {what}: DLF could not be asked "
            f"({dlf_words(dlf_code, dlf_message)}). Nothing was stopped; try again."
        )
    return _reply(
        f":grey_question: {person(user)} asked {where(via)} to stop {what}: DLF's answer was lost. "
        "`refresh` shows whether it stopped."
    )


def muted(user: str, *, via: str, job: str, until_ms: int | None) -> Message:
    """Who muted the job here, until when."""
    until = f"until {date_token(until_ms)}" if until_ms is not None else "until someone unmutes it"
    return _reply(
        f":no_bell: {person(user)} muted {code(job, 120)} in this channel {where(via)}, {until}: "
        "its failures are recorded but not posted."
    )


def unmuted(user: str, *, via: str, job: str, held_back: int) -> Message:
    """Who unmuted the job, and how many failures the mute held back."""
    held = (
        f"{plural(held_back, 'failure')} held back while muted" if held_back else "no failure was held back while muted"
    )
    return _reply(f":bell: {person(user)} unmuted {code(job, 120)} {where(via)}: {held}.")


def resolved(user: str, *, via: str) -> Message:
    """Who resolved the incident by hand."""
    return _reply(f":white_check_mark: {person(user)} resolved this incident {where(via)}.")


__all__ = [
    "acknowledged",
    "dlf_words",
    "muted",
    "person",
    "rerun_asked",
    "rerun_location",
    "resolved",
    "stopped",
    "unmuted",
    "where",
]
