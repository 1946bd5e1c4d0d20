"""Show one DLF job instance: the use case behind `/dlf instance`, the Refresh and Share buttons, and `preview`.

DLF client → `InstanceShown` (the instance, when it was read, the profile to name) for the caller to render. A
`DlfError` is logged with its details (request id, code, status; never credentials) and becomes a `Refused`;
anything else propagates to the Slack error hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot import messages
from bot.dlf.models import Instance
from bot.errors import CommandError, DlfError
from bot.profiles import DEFAULT_PROFILE
from bot.services.outcomes import Refused

log = logging.getLogger(__name__)


class InstanceReader(Protocol):
    """What this service needs of a DLF client."""

    async def get_instance(self, job_name: str, instance_id: int) -> Instance: ...


@dataclass(frozen=True)
class InstanceShown:
    """The instance as DLF has it now: `read_at_ms` is the clock when it arrived (the card's "now"); `profile` is
    the profile to name on the card, None when only one is configured (there is no choice to show)."""

    instance: Instance
    read_at_ms: int
    profile: str | None


class InstanceService:
    """Fetches instances from the DLF client of the chosen profile."""

    def __init__(
        self,
        *,
        clients: Mapping[str, InstanceReader],
        clock: Callable[[], int],
        default_profile: str = DEFAULT_PROFILE,
    ) -> None:
        if not clients:
            raise ValueError("at least one DLF client is needed")
        self._clients = dict(clients)
        self._clock = clock
        self._default = default_profile if default_profile in clients else next(iter(clients))

    @property
    def profiles(self) -> tuple[str, ...]:
        """The configured profile names."""
        return tuple(self._clients)

    def resolve_profile(self, profile: str | None) -> str:
        """The profile a command means (its `--profile`, or the default); `CommandError` for an unknown one."""
        name = profile or self._default
        if name not in self._clients:
            raise CommandError(messages.unknown_profile(name, self._clients), usage=None)
        return name

    async def show(self, *, job: str, instance_id: int, profile: str | None = None) -> InstanceShown | Refused:
        """One instance, or why it cannot be shown (an unknown profile, or DLF's answer)."""
        try:
            name = self.resolve_profile(profile)
        except CommandError as err:
            return Refused(command_error=err)
        try:
            instance = await self._clients[name].get_instance(job, instance_id)
        except DlfError as err:
            log.warning(
                messages.log_dlf_error(err.operation or "get_instance"),
                extra={"dlf": err.log_details(), "job": job, "instance_id": instance_id, "profile": name},
            )
            return Refused(dlf_error=err, job=job, instance_id=instance_id)
        # The profile is named on the card (and carried by its buttons) only when there is a choice of profiles.
        shown_profile = name if len(self._clients) > 1 else None
        return InstanceShown(instance=instance, read_at_ms=self._clock(), profile=shown_profile)


__all__ = ["InstanceReader", "InstanceService", "InstanceShown", "Refused"]
