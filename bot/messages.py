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


def bad_button() -> str:
    """A button's value could not be decoded (an old card from another version of the bot)."""
    return "This button belongs to a card the bot can no longer read. Run the command again, e.g. `/dlf instance job_batch 34765`."


def watching_unavailable() -> str:
    """`watch`/`unwatch`/`watches` on a bot started without the subscription store."""
    return "Watching jobs is not available on this bot: it runs without its database. Ask its operators to enable it."


def preview_read_only(subcommand: str) -> str:
    """`dlf-bot preview` runs only commands that need no channel and change nothing."""
    what = "lists a channel's subscriptions" if subcommand == "watches" else "changes a channel's subscriptions"
    return (
        f"`{subcommand}` {what}, so preview (which has no channel) does not run it; use it in Slack."
        " Preview shows commands such as `/dlf instance job_batch 34765` or `/dlf help`."
    )


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
    "bad_button",
    "database_unreachable",
    "log_background_failed",
    "log_crash",
    "log_dlf_error",
    "log_listening",
    "log_redelivered",
    "log_refused",
    "log_request_keys_unavailable",
    "log_unhandled_request",
    "log_unverified_crash",
    "log_respond_failed",
    "log_respond_unreachable",
    "log_stopping",
    "preview_read_only",
    "unknown_profile",
    "watching_unavailable",
]
