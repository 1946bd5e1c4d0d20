"""Every error the bot raises on purpose, in one tree.

    BotError
    ├── DlfError                      anything that went wrong talking to DLF (request_id, status, code attached)
    │   ├── DlfNotFound               DLF.0100 job / DLF.0137 instance does not exist   (kind = "job" | "instance")
    │   ├── DlfAuthError              credentials rejected: bad AK/SK signature, expired or invalid token (401)
    │   ├── DlfPermissionDenied       authenticated, but not allowed (403, DLF.6888)
    │   ├── DlfRequestRejected        DLF refused the request as invalid (other 4xx, e.g. DLF.3051, DLF.3018)
    │   │   └── DlfActionRefused      DLF refused a rerun or stop (e.g. the instance's status forbids it)
    │   ├── DlfThrottled              429 / APIG throttling, still throttled after retries (retry_after seconds)
    │   ├── DlfUnavailable            timeout, connection error, 5xx, still failing after retries
    │   │   └── DlfOutcomeUnknown     a rerun or stop may have reached DLF but got no answer: not resent
    │   └── DlfBadResponse            non-JSON or malformed body where JSON of a known shape was expected
    ├── CommandError                  the user's command text is wrong; nothing was sent to DLF
    │   └── UnknownSubcommand         with the closest known subcommand, if any
    ├── StoreUnavailable              the bot's database did not do it: locked, read-only or unreachable (kind);
    │                                 the transaction rolled back, so nothing was changed
    ├── SlackLookupFailed             reading Slack's directory (users.list, usergroups.list) failed (method, error)
    └── ConfigError                   a setting is missing or malformed at start-up

Known business failures are shown plainly to the user; anything else is a crash: logged with its traceback and a
reference id, and the user sees one calm line quoting that id.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class DlfError(BotError):
    """A DLF call failed. Carries what the log needs; `str()` never contains credentials."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        operation: str | None = None,
        dlf_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.operation = operation
        # DLF's own words (`error_msg`), untrusted: escape before showing them.
        self.dlf_message = dlf_message

    def log_details(self) -> dict[str, object]:
        """Structured details for the log line (never secrets)."""
        return {
            "error": type(self).__name__,
            "operation": self.operation,
            "status": self.status_code,
            "code": self.code,
            "request_id": self.request_id,
            "message": self.message,
        }


class DlfNotFound(DlfError):
    """DLF.0100 (job) or DLF.0137 (instance) does not exist."""

    def __init__(self, message: str, *, kind: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.kind = kind


class DlfAuthError(DlfError):
    """The gateway rejected the credentials (signature, token)."""


class DlfPermissionDenied(DlfError):
    """Authenticated, but the account may not do this."""


class DlfRequestRejected(DlfError):
    """DLF answered 4xx for a reason other than the ones above."""


class DlfActionRefused(DlfRequestRejected):
    """DLF refused a rerun or stop: `code` and `dlf_message` are DLF's (e.g. DLF.0812, the status forbids it)."""


class DlfThrottled(DlfError):
    """Still throttled after the client's retries."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class DlfUnavailable(DlfError):
    """Timeouts, connection failures and 5xx answers, after the client's retries."""


class DlfOutcomeUnknown(DlfUnavailable):
    """A rerun or stop was (or may have been) received by DLF and no answer came: it is not sent again, since a
    second rerun is a second run; the instance's status tells what happened."""


class DlfBadResponse(DlfError):
    """The body was not JSON, or not of the shape the operation returns."""


class CommandError(BotError):
    """The command text cannot be run. `message` says what is wrong, `usage` how to write it right."""

    def __init__(self, message: str, *, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class UnknownSubcommand(CommandError):
    """The first word is not a subcommand; `suggestion` is the closest one, if any is close."""

    def __init__(self, message: str, *, word: str, suggestion: str | None, usage: str | None = None) -> None:
        super().__init__(message, usage=usage)
        self.word = word
        self.suggestion = suggestion


class StoreUnavailable(BotError):
    """The database could not run a unit of work; it rolled back, so nothing of it was saved.

    `kind` says what a person can do about it:
    - "locked": another program holds the SQLite file's write lock (or a PostgreSQL lock) for longer than we wait;
    - "read_only": the database refuses writes (a read-only file, directory or disk; a PostgreSQL standby);
    - "unwritable": writing failed on the disk itself (I/O error, disk full);
    - "unreachable": no connection (server down, restarting, network) or the connection broke mid-transaction.
    `detail` is the driver's one-line reason (never the URL or a password).
    """

    KINDS = ("locked", "read_only", "unwritable", "unreachable")

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"database {kind.replace('_', '-')}: {detail}")
        self.kind = kind
        self.detail = detail


class SlackLookupFailed(BotError):
    """Slack's directory could not be read: `method` (e.g. "usergroups.list") answered `error` (Slack's code, e.g.
    `missing_scope`, or the kind of transport failure); `needed` is the scope Slack says is missing, if any."""

    def __init__(self, method: str, error: str, *, needed: str | None = None) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error
        self.needed = needed


class ConfigError(BotError):
    """A setting is missing or malformed."""
