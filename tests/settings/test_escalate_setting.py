"""`DLF_ESCALATE_AFTER`: when an unacknowledged incident gets its reminder (default 15 min), or `off`; reaches the
watcher's poll options."""

from __future__ import annotations

import pytest

from bot.cli.run import watcher_options
from bot.commands import WatchCommand, parse_command
from bot.errors import CommandError, ConfigError
from bot.settings import load_settings


def test_fifteen_minutes_by_default() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.dlf_escalate_after == 900
    assert watcher_options(settings).poll.escalate_after_ms == 900_000


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("600", 600), ("2d", 172_800), ("off", None), ("OFF", None), ("never", None)],
)
def test_written_as_a_duration_seconds_or_off(written: str, seconds: int | None) -> None:
    settings = load_settings({"DLF_ESCALATE_AFTER": written}, env_file=None)
    assert settings.dlf_escalate_after == seconds
    expected = None if seconds is None else seconds * 1000
    assert watcher_options(settings).poll.escalate_after_ms == expected


@pytest.mark.parametrize("written", ["soon", "15x", "10", "30d"])
def test_a_malformed_or_out_of_range_value_is_named(written: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_ESCALATE_AFTER": written}, env_file=None)
    assert "DLF_ESCALATE_AFTER" in str(caught.value)


@pytest.mark.parametrize(
    ("written", "accepted"),
    [("1m", True), ("7d", True), ("6d23h59m", True), ("7d1m", False), ("8d", False)],
)
def test_the_setting_and_watch_escalate_accept_the_same_range(written: str, accepted: bool) -> None:
    try:
        setting = load_settings({"DLF_ESCALATE_AFTER": written}, env_file=None).dlf_escalate_after
    except ConfigError:
        setting = None
    try:
        command = parse_command(f"watch job_batch --escalate {written}")
    except CommandError:
        option = None
    else:
        assert isinstance(command, WatchCommand) and command.escalate is not None
        option = command.escalate.after_s
    assert (setting is not None, option is not None) == (accepted, accepted)
    assert setting == option
