"""Plain handles typed after `--mention` (`@oncall`, `@alice`) → the Slack mention token they stand for.

A user group's handle (usergroups.list) gives `<!subteam^S…>`; a person's username or display name (users.list)
gives `<@U…>`. Slack's directory is read through a `Directory` (`bot.slack.directory` pages the Web API) and kept
for `CACHE_TTL_S`, so a burst of commands reads it once. The parser only recognises a handle (it does no I/O);
this resolves it before the subscription service sees the command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import messages
from bot.errors import SlackLookupFailed

log = logging.getLogger(__name__)

# How long a read of Slack's directory is used: a group created a minute ago is found after at most this long.
CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class GroupEntry:
    """A user group: its id (`S…`) and handle (without `@`)."""

    id: str
    handle: str


@dataclass(frozen=True)
class UserEntry:
    """A person: id (`U…`/`W…`), unique username, and the display name people see (not unique)."""

    id: str
    name: str
    display_name: str


class Directory(Protocol):
    """Slack's directory of the workspace (active groups and people only); raises `SlackLookupFailed`."""

    async def user_groups(self) -> Sequence[GroupEntry]: ...

    async def users(self) -> Sequence[UserEntry]: ...


@dataclass(frozen=True)
class Resolved:
    """The handle stands for `token` (`<@U…>` or `<!subteam^S…>`)."""

    token: str


@dataclass(frozen=True)
class Unresolved:
    """The handle could not be turned into a mention; `message` says why and how to write it (plain text)."""

    message: str


class MentionResolver:
    """Looks handles up in Slack's directory, read at most once per `ttl_s`."""

    def __init__(
        self, *, directory: Directory, ttl_s: float = CACHE_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._directory = directory
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._groups: tuple[float, Sequence[GroupEntry]] | None = None
        self._users: tuple[float, Sequence[UserEntry]] | None = None

    async def resolve(self, handle: str) -> Resolved | Unresolved:
        """`@oncall` → its group's token, else `@alice` → the person's; or why not (unknown, ambiguous, Slack down)."""
        wanted = handle.removeprefix("@").casefold()
        try:
            group = next((g for g in await self._user_groups() if g.handle.casefold() == wanted), None)
            if group is not None:
                return Resolved(token=f"<!subteam^{group.id}>")
            users = await self._people()
        except SlackLookupFailed as err:
            log.warning(messages.log_handle_lookup_failed(err.method, err.error))
            return Unresolved(message=messages.handle_lookup_failed(handle, err.error, needed=err.needed))
        by_name = [u for u in users if u.name.casefold() == wanted]
        if len(by_name) == 1:
            return Resolved(token=f"<@{by_name[0].id}>")
        by_display = [u for u in users if u.display_name and u.display_name.casefold() == wanted]
        if len(by_display) == 1:
            return Resolved(token=f"<@{by_display[0].id}>")
        if by_display:
            return Unresolved(message=messages.handle_ambiguous(handle, len(by_display)))
        return Unresolved(message=messages.handle_unknown(handle))

    async def _user_groups(self) -> Sequence[GroupEntry]:
        async with self._lock:
            if self._groups is None or self._clock() - self._groups[0] >= self._ttl_s:
                self._groups = (self._clock(), await self._directory.user_groups())
            return self._groups[1]

    async def _people(self) -> Sequence[UserEntry]:
        async with self._lock:
            if self._users is None or self._clock() - self._users[0] >= self._ttl_s:
                self._users = (self._clock(), await self._directory.users())
            return self._users[1]


__all__ = ["CACHE_TTL_S", "Directory", "GroupEntry", "MentionResolver", "Resolved", "Unresolved", "UserEntry"]
