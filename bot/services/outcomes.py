"""What a use case answers when it did not do the thing asked: the caller (a Slack handler) renders these.

`Refused`: nothing was done because DLF said no or the command was wrong. `DatabaseUnavailable`: nothing was done
because the bot's database could not be used (locked, read-only, unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import CommandError, DlfError


@dataclass(frozen=True)
class Refused:
    """Nothing was changed, and why: DLF's answer (`dlf_error`) or a wrong command (`command_error`)."""

    dlf_error: DlfError | None = None
    command_error: CommandError | None = None
    job: str | None = None
    instance_id: int | None = None


@dataclass(frozen=True)
class DatabaseUnavailable:
    """The database did not do it (`kind` as `StoreUnavailable.kind`); nothing was changed. `wait_s`: how long the
    command waited for a lock, which the answer mentions."""

    kind: str
    wait_s: float


__all__ = ["DatabaseUnavailable", "Refused"]
