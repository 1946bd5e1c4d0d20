"""The process's logging: one handler on the root logger whose formatter removes every secret from each line.

`configure_logging` is called once per process, by the entry point, with the settings' secret values.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

_STANDARD_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Second line of defence for secrets no setting names (e.g. a token pasted into a job name).
_SECRET_PATTERNS = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(signature=)[0-9a-f]{16,}"),
    re.compile(r"(?i)(x-auth-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",]+"),
    # A response_url can post into its conversation for 30 minutes: a credential. Plain, in JSON, form-encoded.
    re.compile(r"(?i)(https?://hooks\.slack(?:-gov)?\.com/)[^\s'\"&<>]+"),
    re.compile(r"(?i)(response_url['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+"),
)
# Loggers that write response_urls at DEBUG ("Sending a request - url: ..."): only their warnings and errors show.
_RESPONSE_URL_LOGGERS = ("slack_sdk.webhook",)


class _NoUnverifiedBodies(logging.Filter):
    """Bolt logs the raw body of every request whose signature fails (at INFO): anyone can send one, and a replayed
    one carries a real response_url and the user's text. The line keeps the signature and timestamp, not the body.
    A handler filter, because Bolt resets its middleware loggers' levels from the app's logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("slack_bolt.") and record.name.endswith("RequestVerification"):
            record.msg = record.getMessage().split(", body:", 1)[0] + ", body not logged)"
            record.args = ()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats a record with its structured extras, then removes every secret value from the whole line.

    Working on the final text (message, extras and traceback together) means a secret cannot leak through any
    of them, even by mistake.
    """

    def __init__(self, *, secrets: Iterable[str], fmt: str) -> None:
        super().__init__(fmt=fmt)
        self._secrets = sorted({value for value in secrets if value}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {key: value for key, value in vars(record).items() if key not in _STANDARD_RECORD_FIELDS}
        if extras:
            shown = (f"{key}={json.dumps(value, default=str, ensure_ascii=False)}" for key, value in extras.items())
            line += " " + " ".join(shown)
        return self.redact(line)

    def redact(self, text: str) -> str:
        """`text` with every known secret and anything shaped like a token replaced."""
        for value in self._secrets:
            text = text.replace(value, "[REDACTED]")
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(lambda match: (match.group(1) if match.groups() else "") + "[REDACTED]", text)
        return text


def configure_logging(*, level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """One handler on the root logger, redacting secrets; called once per process, by the entry point."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets=secrets, fmt="%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_NoUnverifiedBodies())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every job run at INFO (twice a second here); its warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    for name in _RESPONSE_URL_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


__all__ = ["RedactingFormatter", "configure_logging"]
