"""Who may rerun and stop: `Operators.check(user=, channel=)` against the configured user and user-group ids.

The ids come from `DLF_BOT_OPERATORS` and the config file (`bot.settings.operators.OperatorConfig`: the global ones
plus the channel's own). A user-group id (`S…`) counts its members, read with Slack's `usergroups.users.list`
(scope `usergroups:read`) and kept `DEFAULT_GROUP_TTL_S` (bounded to `DEFAULT_MAX_GROUPS` groups). When Slack cannot
say who is in a group, the check refuses (a permission is never granted on a failure), names the group in
`OperatorCheck.unchecked` and logs one line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot import messages

log = logging.getLogger(__name__)

DEFAULT_GROUP_TTL_S = 300.0
DEFAULT_MAX_GROUPS = 256
# A person waits for the answer: a Slack that does not say who is in a group within this refuses, it is not waited for.
DEFAULT_LOOKUP_TIMEOUT_S = 5.0


class UsergroupReader(Protocol):
    """What this service needs of the Slack Web API client (slack_sdk's `AsyncWebClient` fits)."""

    async def usergroups_users_list(self, *, usergroup: str) -> Any: ...


@dataclass(frozen=True)
class OperatorCheck:
    """Whether `user` may rerun and stop in the channel.

    `configured`: operators are named for this channel (globally or for it); without, nobody may, and the answer
    says how to enable it. `who`: the ids that may (users `U…`/`W…` and groups `S…`), to tell a refused user.
    `unchecked`: groups whose members Slack could not give (the user might be one of them: refused, and said so)."""

    allowed: bool
    configured: bool
    who: tuple[str, ...]
    unchecked: tuple[str, ...] = ()


class Operators:
    """The operator check, built by the entry point from the settings' operators and the Slack Web API client."""

    def __init__(
        self,
        *,
        everywhere: Sequence[str] = (),
        per_channel: Mapping[str, Sequence[str]] | None = None,
        slack: UsergroupReader | None = None,
        group_ttl_s: float = DEFAULT_GROUP_TTL_S,
        max_groups: int = DEFAULT_MAX_GROUPS,
        lookup_timeout_s: float = DEFAULT_LOOKUP_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._everywhere = tuple(everywhere)
        self._per_channel = {channel: tuple(ids) for channel, ids in (per_channel or {}).items()}
        self._slack = slack
        self._ttl_s = group_ttl_s
        self._max_groups = max(1, max_groups)
        self._lookup_timeout_s = lookup_timeout_s
        self._clock = clock
        self._groups: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()

    def who(self, channel: str) -> tuple[str, ...]:
        """The ids that may act in `channel`: the global ones, then the channel's own, each once."""
        return tuple(dict.fromkeys((*self._everywhere, *self._per_channel.get(channel, ()))))

    async def check(self, *, user: str, channel: str) -> OperatorCheck:
        """Whether `user` is an operator in `channel`: named, or a member of a named user group."""
        who = self.who(channel)
        if not who:
            return OperatorCheck(allowed=False, configured=False, who=())
        if user in who:
            return OperatorCheck(allowed=True, configured=True, who=who)
        unchecked: list[str] = []
        # The ids were checked at start-up: a user group's starts with S, a user's with U or W.
        for group in (entry for entry in who if entry.startswith("S")):
            members = await self._members(group)
            if members is None:
                unchecked.append(group)
            elif user in members:
                return OperatorCheck(allowed=True, configured=True, who=who)
        return OperatorCheck(allowed=False, configured=True, who=who, unchecked=tuple(unchecked))

    async def _members(self, group: str) -> frozenset[str] | None:
        now = self._clock()
        cached = self._groups.get(group)
        if cached is not None and cached[0] > now:
            self._groups.move_to_end(group)
            return cached[1]
        if self._slack is None:
            log.warning(messages.log_usergroup_unchecked(group, "no Slack client"))
            return None
        try:
            response = await asyncio.wait_for(
                self._slack.usergroups_users_list(usergroup=group), timeout=self._lookup_timeout_s
            )
            users = response.get("users")
        except Exception as error:  # noqa: BLE001 — any failure refuses the permission; it never grants it
            log.warning(messages.log_usergroup_unchecked(group, _reason(error)))
            return None
        if not isinstance(users, list):
            log.warning(messages.log_usergroup_unchecked(group, "no member list in Slack's answer"))
            return None
        members = frozenset(str(user) for user in users)
        self._groups[group] = (now + self._ttl_s, members)
        self._groups.move_to_end(group)
        while len(self._groups) > self._max_groups:
            self._groups.popitem(last=False)
        return members


def _reason(error: Exception) -> str:
    """What went wrong, for the log: Slack's error code when it answered, else the exception's kind."""
    response = getattr(error, "response", None)
    code = response.get("error") if response is not None and hasattr(response, "get") else None
    if code:
        return f"Slack answered {code}"
    return "no answer in time" if isinstance(error, TimeoutError) else type(error).__name__


__all__ = [
    "DEFAULT_GROUP_TTL_S",
    "DEFAULT_LOOKUP_TIMEOUT_S",
    "DEFAULT_MAX_GROUPS",
    "OperatorCheck",
    "Operators",
    "UsergroupReader",
]
