"""The log formatter: structured details shown, secrets never — in the message, the extras or a traceback."""

from __future__ import annotations

import io
import logging

from bot.cli import configure_logging


def _log_through(secrets: list[str], emit) -> str:
    stream = io.StringIO()
    configure_logging(level="DEBUG", secrets=secrets, stream=stream)
    try:
        emit(logging.getLogger("bot.test"))
    finally:
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)
    return stream.getvalue()


def test_secrets_are_redacted_everywhere_and_details_kept() -> None:
    def emit(log: logging.Logger) -> None:
        log.warning(
            "calling with sk=%s", "sk-secret-1234", extra={"dlf": {"request_id": "req-42", "token": "sk-secret-1234"}}
        )
        try:
            raise RuntimeError("boom: sk-secret-1234")
        except RuntimeError:
            log.exception("failed")

    text = _log_through(["sk-secret-1234"], emit)
    assert "sk-secret-1234" not in text
    assert text.count("[REDACTED]") >= 3
    assert "req-42" in text  # the DLF request id stays: it is what support asks for
    assert "Traceback" in text


def test_token_shapes_are_redacted_even_when_no_setting_names_them() -> None:
    text = _log_through([], lambda log: log.info("token xoxb-123-456-abc and xapp-1-A1-xyz, Signature=%s", "ab" * 32))
    assert "xoxb-123" not in text and "xapp-1" not in text and "ab" * 32 not in text
