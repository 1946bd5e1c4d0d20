"""Every user-facing line that is not a card, and every log line of the Slack side and the entry point.

Kept in one place so wording is reviewed in one place. User-facing lines are plain text that the renderers escape;
log lines never include secret values (only names of settings, ids and error kinds).
"""

from __future__ import annotations

from collections.abc import Iterable


# ---- user-facing (shown through bot.render's command-error card, which escapes it)
def unknown_profile(name: str, known: Iterable[str]) -> str:
    """`--profile NAME` names a profile the bot has not been configured with."""
    names = ", ".join(f"`{profile}`" for profile in sorted(known))
    return f"DLF profile `{name}` is not configured here. The configured profiles are {names}."


_HANDLE_FORMS = (
    "Type `@` and pick the person or group from Slack's list (the command then carries the mention itself), or write"
    " a person as `<@U…>` (their member ID, from their profile's ⋮ menu) or a user group as `<!subteam^S…>`;"
    " `--mention none` for no mention. Nothing was changed."
)


def handle_unknown(handle: str) -> str:
    """`--mention @x`: no user group has that handle and no person that username or display name."""
    return f"`{handle}` is not a user group's handle, nor a person's username or display name, in this workspace. {_HANDLE_FORMS}"


def handle_ambiguous(handle: str, count: int) -> str:
    """`--mention @x`: several people have that display name."""
    return (
        f"`{handle}` is the display name of {count} people here, so the bot cannot tell whom you mean. {_HANDLE_FORMS}"
    )


def handle_lookup_failed(handle: str, error: str, *, needed: str | None) -> str:
    """`--mention @x`: Slack's directory could not be read."""
    if error == "missing_scope":
        scope = f"the `{needed}` scope" if needed else "the `usergroups:read` and `users:read` scopes"
        why = f"the bot's Slack app lacks {scope} (see manifest.yml; reinstall the app after adding it)"
    else:
        why = f"Slack answered `{error}`; try again in a minute"
    return f"The bot could not look `{handle}` up in Slack: {why}. {_HANDLE_FORMS}"


def bad_button() -> str:
    """A button's value could not be decoded (an old card from another version of the bot)."""
    return "This button belongs to a card the bot can no longer read. Run the command again, e.g. `/dlf instance job_batch 34765`."


def watching_unavailable() -> str:
    """`watch`/`unwatch`/`watches` on a bot started without the subscription store."""
    return "Watching jobs is not available on this bot: it runs without its database. Ask its operators to enable it."


def not_available(subcommand: str) -> str:
    """A subcommand this bot was started without (preview and tests build only what they need)."""
    return f"`/dlf {subcommand}` is not available on this bot. `/dlf help` lists what works."


def audit_only_privately() -> str:
    """`@dlf audit` in a channel: its answer would be posted for everyone, and the audit is for operators."""
    return "The audit trail is shown only to operators, privately: type `/dlf audit` (only you see the answer)."


def not_active_yet(subcommand: str) -> str:
    """A subcommand the parser knows whose action is not in this version yet (it comes with incident actions)."""
    return (
        f"`/dlf {subcommand}` is written right, but this version of the bot does not do it yet: it comes with "
        "the incident actions. Nothing was changed. `/dlf help` lists what works today."
    )


def preview_read_only(subcommand: str) -> str:
    """`dlf-bot preview` runs only commands that need no channel and change nothing."""
    what = {
        "watches": "lists a channel's subscriptions",
        "mute": "changes a channel's mutes",
        "unmute": "changes a channel's mutes",
        "audit": "reads a channel's audit entries",
    }.get(subcommand, "changes a channel's subscriptions")
    return (
        f"`{subcommand}` {what}, so preview (which has no channel) does not run it; use it in Slack."
        " Preview shows commands such as `/dlf instance job_batch 34765` or `/dlf help`."
    )


_DATABASE_ANSWERS = {
    "locked": (
        "The bot's database is busy: another program has kept it locked for more than {wait} seconds."
        " Nothing was changed. Try again in a minute; if it keeps happening, tell the bot's admin."
    ),
    "read_only": (
        "The bot cannot save anything right now: its database is read-only. Nothing was changed."
        " Tell the bot's admin (the database file, its folder and its disk must be writable), then try again."
    ),
    "unwritable": (
        "The bot cannot save anything right now: writing to its database failed (a disk error, or the disk is full)."
        " Nothing was changed. Tell the bot's admin, then try again."
    ),
    "unreachable": (
        "The bot cannot reach its database right now. Nothing was changed."
        " Try again in a minute; if it keeps happening, tell the bot's admin."
    ),
}
# What the database's state is, for /healthz and start-up errors.
_DATABASE_STATES = {
    "locked": "is locked by another program",
    "read_only": "refuses writes: it is read-only",
    "unwritable": "refuses writes: the disk failed or is full",
    "unreachable": "is unreachable",
}


def database_unavailable(kind: str, *, wait_s: float) -> str:
    """A command could not use the bot's database (`kind` of `bot.errors.StoreUnavailable`); nothing was saved.
    `wait_s`: how long the command waited for a lock."""
    template = _DATABASE_ANSWERS.get(kind, _DATABASE_ANSWERS["unreachable"])
    return template.format(wait=f"{wait_s:g}")


def health_database(kind: str, detail: str) -> str:
    """`/healthz`: the database probe failed."""
    return f"database not answering: the database {_DATABASE_STATES.get(kind, 'is unreachable')} ({detail})"


def health_timeout(seconds: float) -> str:
    """`/healthz`: the health probe did not finish in time (a database that hangs)."""
    return f"database not answering: the health check did not finish within {seconds:g} s"


def database_unavailable_at_start(redacted_url: str, kind: str, detail: str) -> str:
    """Start-up could not use the database: locked, read-only or unreachable (`redacted_url` has no password)."""
    state = _DATABASE_STATES.get(kind, "is unreachable")
    hint = {
        "read_only": " Make the file, its folder and its disk writable for the user the bot runs as.",
        "unwritable": " Check the disk (free space, errors).",
        "locked": " Stop the other program holding it, or give the bot a database of its own.",
    }.get(kind, "")
    return f"dlf-bot cannot start: the database at DATABASE_URL ({redacted_url}) {state} ({detail}).{hint}"


def database_unreachable(redacted_url: str, error: Exception) -> str:
    """Start-up could not open the database (`redacted_url` has its password masked)."""
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    return f"dlf-bot cannot start: the database at DATABASE_URL ({redacted_url}) is unreachable: {type(error).__name__} {detail}"


# ---- log lines
def log_dlf_error(operation: str) -> str:
    """A DLF call failed in a way the user was told about; details travel as structured `extra`."""
    return f"DLF {operation} failed"


def log_crash(reference: str) -> str:
    """An unexpected exception in a listener; the user saw only the reference."""
    return f"unexpected error while handling a Slack request (reference {reference})"


def log_respond_failed(status: int, body: str) -> str:
    """Slack refused what the bot posted to a response_url (WebhookClient does not raise)."""
    return f"posting to response_url failed: HTTP {status} {body[:200]!r}"


def log_respond_unreachable(error: str) -> str:
    """The response_url could not be reached at all."""
    return f"posting to response_url failed: {error} (Slack unreachable)"


def log_thread_reply_rerouted(user: str, channel: str, failure: str) -> str:
    """A mention's answer could not be posted in its thread; its author got it privately instead."""
    return f"the answer to a mention by {user} in {channel} could not go in its thread ({failure}); sent to {user} privately"


def log_thread_reply_lost(user: str, channel: str, failure: str, private_failure: str) -> str:
    """A mention's answer could be posted neither in its thread nor privately."""
    return (
        f"the answer to a mention by {user} in {channel} was lost: its thread reply failed ({failure}),"
        f" and chat.postEphemeral failed too ({private_failure})"
    )


def log_handle_lookup_failed(method: str, error: str) -> str:
    """A `--mention @handle` could not be looked up: Slack's directory answered an error."""
    return f"looking a --mention handle up failed: {method} answered {error}"


def log_refused(source: str, why: str, status: int) -> str:
    """A request refused before the app read it: where it came from and why, in the bot's words (never its body)."""
    return f"refused a Slack request from {source}: {why} (HTTP {status})"


def log_unverified_crash(error: str) -> str:
    """The error hook met a request that was not verified (it never answers one, nor logs what it said)."""
    return f"an error ({error}) while handling a request that was not verified; nothing of it was used"


def log_unhandled_request(kind: str) -> str:
    """A verified request no listener takes (e.g. an event the manifest does not subscribe to)."""
    return f"no listener for a Slack request of type {kind!r}; answered 404"


def log_redelivered(kind: str, retry: str | None) -> str:
    """A request already handled once arrived again (Slack's retry of an event, or a replay): not handled twice."""
    what = {"command": "a slash command", "click": "a button click", "event": "an event"}.get(kind, "a request")
    why = f" (Slack's retry {retry})" if retry else ""
    return f"{what} already handled arrived again{why}; not handled twice"


def log_request_keys_unavailable(error: str) -> str:
    """The store could not say whether a request was handled before: it is handled (an answer beats a rare repeat)."""
    return f"could not check whether a Slack request was handled before ({error}); handling it"


def log_command_store_unavailable(what: str, channel: str, error: Exception) -> str:
    """A command was answered "database unavailable, nothing changed" (the reason travels in the line)."""
    return f"{what} in {channel or 'an unknown channel'} answered that the database is unavailable: {error}"


def log_usergroup_unchecked(group: str, reason: str) -> str:
    """Slack could not say who is in an operators' user group: the operator check refused (never granted)."""
    return f"could not check the members of user group {group} ({reason}); the operator check refused"


def log_listening(host: str, port: int, *, socket_mode: bool) -> str:
    """The HTTP server is up (events in HTTP mode; health and metrics in both)."""
    if socket_mode:
        return f"Socket Mode connected; health and metrics on http://{host}:{port}/healthz and /metrics"
    return f"serving Slack events on http://{host}:{port}/slack/events (health: /healthz, metrics: /metrics)"


def log_stopping(signal_name: str) -> str:
    """A stop signal arrived."""
    return f"{signal_name} received: stopping"


def log_background_failed(name: str) -> str:
    """A background service (e.g. the watcher) ended with an exception."""
    return f"background service {name!r} stopped with an error"


__all__ = [
    "audit_only_privately",
    "bad_button",
    "database_unavailable",
    "database_unavailable_at_start",
    "database_unreachable",
    "health_database",
    "health_timeout",
    "log_background_failed",
    "log_command_store_unavailable",
    "log_crash",
    "log_dlf_error",
    "log_listening",
    "log_redelivered",
    "log_refused",
    "log_request_keys_unavailable",
    "log_unhandled_request",
    "log_usergroup_unchecked",
    "not_available",
    "log_unverified_crash",
    "log_respond_failed",
    "log_respond_unreachable",
    "log_stopping",
    "preview_read_only",
    "unknown_profile",
    "watching_unavailable",
]
