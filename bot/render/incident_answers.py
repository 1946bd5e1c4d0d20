"""What the person who acted is told (privately, or in the thread for a mention), and the Rerun / Stop dialogs.

Pure. The service's results (`bot.services.incidents`: done, refused with a reason, already handled) are read
structurally; a refusal says why and that nothing was done. What everyone sees goes into the incident's thread
(`bot.render.incident_replies`), not here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from bot.render.blocks import context, section
from bot.render.incident_replies import dlf_words, person, rerun_location
from bot.render.message import Message
from bot.render.mrkdwn import code, date_token, escape_truncated, plural
from bot.render.operators import render_operators_only

JOB_LIMIT = 120
_ACTION_WORDS = {
    "ack": "acknowledge",
    "rerun": "rerun",
    "stop": "stop",
    "mute": "mute",
    "unmute": "unmute",
    "resolve": "resolve",
    "refresh": "refresh",
}
# Slack's limits of a modal: title 24 characters, private_metadata 3000.
TITLE_LIMIT = 24


class CheckLike(Protocol):
    @property
    def configured(self) -> bool: ...
    @property
    def who(self) -> tuple[str, ...]: ...
    @property
    def unchecked(self) -> tuple[str, ...]: ...


def _line(text: str) -> Message:
    return Message(text=text, blocks=[section(text)])


def render_done(result: Any) -> Message:
    """A done action, for the one who did it (the thread has the story; this only confirms)."""
    job = code(result.job, JOB_LIMIT)
    if result.action == "mute":
        until = f"until {date_token(result.until_ms)}" if result.until_ms is not None else "until `/dlf unmute`"
        return _line(f":no_bell: Muted {job} in this channel {until}: its failures are recorded, not posted.")
    if result.action == "unmute":
        held = plural(result.held_back, "failure") if result.held_back else "no failure"
        return _line(f":bell: Unmuted {job}: {held} held back while muted.")
    if result.action == "refresh":
        return _line(f":arrows_counterclockwise: The card of {job} shows what DLF says now.")
    if result.outcome == "unknown":
        return _line(f":grey_question: DLF's answer about {job} was lost; the thread will say what happened.")
    return _line(f":white_check_mark: Done ({_ACTION_WORDS.get(result.action, result.action)} {job}); see the thread.")


def render_already(result: Any) -> Message:
    """Somebody did it first (or this was the same click twice): nothing more was done."""
    who = person(result.by) if result.by else "someone"
    if result.reason == "acknowledged":
        return _line(f":eyes: {who} acknowledged this incident already.")
    if result.reason == "resolved":
        return _line(f":white_check_mark: This incident is resolved already (by {who}).")
    if result.reason == "stopping":
        return _line(":octagonal_sign: A stop of this instance was asked for already; DLF is asked once.")
    if result.reason == "rerunning":
        return _line(f":arrows_counterclockwise: A rerun asked by {who} is in flight; DLF is asked once.")
    job = code(result.job, JOB_LIMIT) if getattr(result, "job", None) else "This job"
    if result.reason == "muted":
        until_ms = getattr(result, "until_ms", None)
        until = f"until {date_token(until_ms)}" if until_ms is not None else "until someone unmutes it"
        return _line(f":no_bell: {job} is already muted here {until}, by {who}; nothing more was done.")
    if result.reason == "not_muted":
        return _line(f":bell: {job} is not muted here (any more); nothing was changed.")
    return _line("That was done already; nothing more was sent.")


def render_refused(result: Any) -> Message:
    """Why nothing was done."""
    what = _ACTION_WORDS.get(result.action, "do that")
    job = code(result.job, JOB_LIMIT) if result.job else "this job"
    reason = result.reason
    if reason == "operators_only":
        check: CheckLike = result.check
        return render_operators_only(action=what, configured=check.configured, who=check.who, unchecked=check.unchecked)
    lines = {
        "unknown_incident": "The bot no longer knows the incident of this card (it may have been resolved and "
        "forgotten). Nothing was done; `/dlf instance <job> <id>` shows an instance.",
        "forged": f":no_entry: This action does not belong to this card's incident, so the bot did not {what} "
        "anything. It has been recorded.",
        "no_incident": f"There is no open incident of {job} here." if result.job else "",
        "resolved": f":white_check_mark: This incident is resolved already (by {person(result.by) if result.by else 'a success'}), "
        f"so the bot did not {what} it.",
        "rerun_in_flight": f":arrows_counterclockwise: A rerun is running already (asked by "
        f"{person(result.by) if result.by else 'someone'}): nothing was sent to DLF. Stop it first, or wait for it.",
        "not_running": f"Instance {code(str(result.instance_id))} is not running (status {code(str(result.status), 40)}): "
        "there is nothing to stop.",
        "not_rerunnable": f"Instance {code(str(result.instance_id))} is {code(str(result.status), 40)}: DLF reruns only "
        "a finished instance (success, fail, manual-stop). Nothing was sent to DLF.",
        "dlf_refused": f":x: DLF refused to {what} {job}: {dlf_words(result.dlf_code, result.dlf_message)}",
        "dlf_failed": f":warning: DLF could not be asked to {what} {job} ({escape_truncated(result.dlf_message or '', 300)}). "
        "Nothing was done; try again.",
        "no_profile": f"The bot has no DLF profile for {job} any more; nothing was done.",
        "unavailable": ":warning: The bot cannot use its database right now; nothing was done. Try again in a minute.",
    }
    text = lines.get(reason) or thread_usage_text()
    if reason == "no_incident" and not result.job:
        return render_thread_usage()
    return _line(text)


def render_unknown_action() -> Message:
    """A button the bot does not know (another version's card): calm, nothing done."""
    return _line("This button is not one the bot knows (perhaps from an older card). Nothing was done.")


def thread_usage_text() -> str:
    return (
        "In an alert's thread, mention the bot with `ack`, `rerun` (`rerun from first`), `stop`, `resolve`, "
        "`refresh`, `nodes`, `logs` or `help`: they act on that thread's incident. Elsewhere they have no "
        "incident to act on; `/dlf help` lists the commands."
    )


def render_thread_usage() -> Message:
    """How the thread verbs are used (asked outside an incident's thread, in a DM, or `help`)."""
    return Message(text="How to act on an incident from its thread", blocks=[section(thread_usage_text())])


# ---------------------------------------------------------------------------------------------------- dialogs
def confirmation_metadata(confirmation: Any) -> str:
    """What the dialog's submission brings back: the card, its channel and message, and the choice."""
    data = {
        "card": confirmation.card,
        "channel": confirmation.channel,
        "ts": confirmation.message_ts,
        "choice": confirmation.retry_location,
    }
    return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))


def parse_confirmation_metadata(text: str) -> dict[str, str]:
    """The dialog's private_metadata back (shape only: the service checks it against the store); ValueError."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("card", "channel", "ts")):
        raise ValueError("not a confirmation")
    choice = data.get("choice")
    if choice is not None and not isinstance(choice, str):
        raise ValueError("not a confirmation")
    return {k: str(v) for k, v in data.items() if k in ("card", "channel", "ts", "choice")}


def _nodes_line(names: Sequence[str]) -> str:
    shown = ", ".join(code(name, 80) for name in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return shown + more


def render_confirmation(confirmation: Any, *, callback_id: str) -> dict[str, Any]:
    """The modal asking to confirm a Rerun or a Stop: the job, the instance and what will run again."""
    job = code(confirmation.job, JOB_LIMIT)
    instance = code(str(confirmation.instance_id))
    if confirmation.action == "rerun":
        title, submit = "Rerun this instance?", "Rerun"
        where = rerun_location(confirmation.retry_location or "error_node")
        text = f"Rerun {job}, instance {instance}, {where}."
        if confirmation.retry_location == "error_node" and confirmation.failed_nodes:
            detail = f"Runs again: {_nodes_line(confirmation.failed_nodes)} and the nodes after it."
        elif confirmation.retry_location == "error_node":
            detail = "Runs again from the node that did not succeed, and the nodes after it."
        else:
            detail = "Runs every node of the job again, from the first."
    else:
        title, submit = "Stop this instance?", "Stop"
        what = "the rerun of" if confirmation.rerun else ""
        text = f"Stop {what} {job}, instance {instance} (status {code(confirmation.status, 40)}).".replace("  ", " ")
        detail = "DLF marks it manual-stop; a rerun can start it again."
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:TITLE_LIMIT]},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": confirmation_metadata(confirmation),
        "blocks": [section(text), context(detail)],
    }


__all__ = [
    "confirmation_metadata",
    "parse_confirmation_metadata",
    "render_already",
    "render_confirmation",
    "render_done",
    "render_refused",
    "render_thread_usage",
    "render_unknown_action",
    "thread_usage_text",
]
