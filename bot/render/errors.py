"""What the user sees when something goes wrong: one clear line they can act on, never a secret.

- a command error: what was wrong, how to write it right, the closest subcommand for an unknown one;
- a DLF error: one line per kind (not found job vs instance, credentials, permission, throttled, unavailable, bad
  response, refused), with DLF's request id and error code in a context line when known; on an alert card whose
  instance details DLF would not give, why (`dlf_details_reason`);
- a crash: one calm line with the reference id that is in the log next to the traceback.
"""

from __future__ import annotations

import math

from bot.errors import (
    CommandError,
    DlfAuthError,
    DlfBadResponse,
    DlfError,
    DlfNotFound,
    DlfPermissionDenied,
    DlfRequestRejected,
    DlfThrottled,
    DlfUnavailable,
    UnknownSubcommand,
)
from bot.render.blocks import Block, context, section
from bot.render.message import Message
from bot.render.mrkdwn import code, escape_truncated, one_line

MESSAGE_LIMIT = 1500
NAME_LIMIT = 160
DLF_MESSAGE_LIMIT = 300


def render_command_error(err: CommandError) -> Message:
    """The parser's explanation, the usage of the subcommand concerned, and a pointer to help."""
    said = escape_truncated(err.message, MESSAGE_LIMIT) if err.message.strip() else "That command cannot be run."
    text = f":warning: {said}"
    if isinstance(err, UnknownSubcommand) and err.suggestion and f"`{err.suggestion}`" not in err.message:
        text += f"\nDid you mean {code(err.suggestion, 40)}?"
    blocks: list[Block] = [section(text)]
    if err.usage:
        lines = [code(line, 400) for line in err.usage.splitlines() if line.strip()]
        if lines:
            blocks.append(section("*Usage*\n" + "\n".join(lines)))
    blocks.append(context(f"{code('/dlf help', 20)} explains every subcommand. Nothing was sent to DLF."))
    return Message(text=said, blocks=blocks)


def _subject(*, job: str | None, instance_id: int | None) -> str:
    if job is not None and instance_id is not None:
        return f"instance {code(str(instance_id), 30)} of job {code(job, NAME_LIMIT)}"
    if job is not None:
        return f"job {code(job, NAME_LIMIT)}"
    return "the request"


def _retry_after(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return "in a few seconds"
    whole = math.ceil(seconds)
    if whole < 120:
        return f"in {whole} s"
    return f"in {math.ceil(whole / 60)} min"


def dlf_error_line(err: DlfError, *, job: str | None = None, instance_id: int | None = None) -> str:
    """The one line a user sees for a DLF failure (mrkdwn, every untrusted part escaped)."""
    if isinstance(err, DlfNotFound):
        if err.kind == "instance" and job is not None and instance_id is not None:
            return (
                f":mag: DLF has no instance {code(str(instance_id), 30)} of job {code(job, NAME_LIMIT)}. "
                "Check the instance id in the job's instance list (it is not the job id)."
            )
        if err.kind == "job" and job is not None:
            return (
                f":mag: DLF has no job named {code(job, NAME_LIMIT)} in this project and workspace. "
                "Job names are case-sensitive; check the spelling or the `--profile`."
            )
        return f":mag: DLF could not find {_subject(job=job, instance_id=instance_id)}."
    if isinstance(err, DlfAuthError):
        return (
            ":closed_lock_with_key: DLF rejected the bot's credentials. Ask the bot's admin to check "
            "`HUAWEICLOUD_SDK_AK` / `HUAWEICLOUD_SDK_SK` (or the IAM token settings) and the project id."
        )
    if isinstance(err, DlfPermissionDenied):
        return (
            ":no_entry: The bot's Huawei Cloud account may not do this in DataArts Studio. "
            "Ask the bot's admin to grant it access to this workspace."
        )
    if isinstance(err, DlfThrottled):
        return f":hourglass: DLF is throttling requests right now. Try again {_retry_after(err.retry_after)}."
    if isinstance(err, DlfUnavailable):
        return (
            ":cloud: DLF is not answering (it timed out or reported a server error). Try again in a minute; if it "
            "keeps failing, check Huawei Cloud's service status."
        )
    if isinstance(err, DlfBadResponse):
        return (
            ":jigsaw: DLF answered with something the bot could not read. It is logged; try again, and tell the "
            "bot's admin if it keeps happening."
        )
    if isinstance(err, DlfRequestRejected):
        return (
            f":no_entry_sign: DLF refused the request for {_subject(job=job, instance_id=instance_id)}: {_reason(err)}"
        )
    return f":warning: The call to DLF failed: {_reason(err)}"


def dlf_details_reason(err: DlfError) -> str:
    """Why an alert card has no instance details, as plain text (the card escapes it): what DLF said, and its
    request id. DLF errors carry no secrets."""
    if isinstance(err, DlfNotFound):
        reason = "DLF no longer has this instance"
    elif isinstance(err, DlfBadResponse):
        reason = "DLF's answer was not an instance's details"
    elif isinstance(err, DlfPermissionDenied):
        reason = "the bot's DLF account may not read this instance"
    else:
        reason = "DLF refused the request"
    parts = [f"{reason} ({err.message})"]
    if err.request_id:
        parts.append(f"request id {err.request_id}")
    return "; ".join(parts) + "."


def unrequestable_reason(exc: Exception) -> str:
    """Why an alert card has no instance details when the client would not even ask (an odd name or id in DLF's own
    list), as plain text."""
    return f"the bot cannot ask DLF about this instance ({exc})."


def _reason(err: DlfError) -> str:
    return one_line(err.message, DLF_MESSAGE_LIMIT) if err.message.strip() else "no reason given"


def render_dlf_error(err: DlfError, *, job: str | None = None, instance_id: int | None = None) -> Message:
    """The DLF failure as one line, plus DLF's error code and request id (for the admin) when known."""
    line = dlf_error_line(err, job=job, instance_id=instance_id)
    blocks = [section(line)]
    details = []
    if err.code:
        details.append(f"DLF code {code(err.code, 60)}")
    if err.status_code is not None:
        details.append(f"HTTP {err.status_code}")
    if err.request_id:
        details.append(f"request id {code(err.request_id, 120)}")
    if details:
        blocks.append(context(" · ".join(details)))
    return Message(text=_plain_line(line), blocks=blocks)


def render_notice(line: str) -> Message:
    """A one-line notice of the bot's own (its database cannot be used now, …): the line, escaped, after a warning."""
    said = escape_truncated(line, MESSAGE_LIMIT) if line.strip() else "The bot cannot do that right now."
    return Message(text=said, blocks=[section(f":warning: {said}")])


def render_crash(reference: str) -> Message:
    """One calm line for an unexpected failure; `reference` is what the log line carries next to the traceback."""
    line = (
        f":confused: Something went wrong on the bot's side. It is logged with reference {code(reference, 80)}; "
        "quote it to the bot's admin."
    )
    return Message(text=_plain_line(line), blocks=[section(line)])


def _plain_line(line: str) -> str:
    """The fallback text: the line without its leading emoji shortcode."""
    return line.split(" ", 1)[1] if line.startswith(":") else line


__all__ = [
    "dlf_details_reason",
    "dlf_error_line",
    "render_command_error",
    "render_crash",
    "render_dlf_error",
    "render_notice",
    "unrequestable_reason",
]
