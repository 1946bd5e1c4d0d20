"""Show one DLF job instance: the use case behind `/dlf instance`, the Refresh and Share buttons, and `preview`.

DLF client → `Instance` → pure renderer. A `DlfError` is logged with its details (request id, code, status; never
credentials) and becomes the rendered one-line answer; anything else propagates to the Slack error hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot import messages
from bot.dlf.models import Instance
from bot.errors import CommandError, DlfError
from bot.render.errors import render_command_error, render_dlf_error
from bot.render.instance_card import render_instance
from bot.profiles import DEFAULT_PROFILE
from bot.render.message import Message

log = logging.getLogger(__name__)


class InstanceReader(Protocol):
    """What this service needs of a DLF client."""

    async def get_instance(self, job_name: str, instance_id: int) -> Instance: ...


@dataclass(frozen=True)
class InstanceAnswer:
    """The message to show, and whether it is the card (`ok`) or an explanation of why there is none."""

    message: Message
    ok: bool


class InstanceService:
    """Fetches instances from the DLF client of the chosen profile and renders them."""

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

    async def show(
        self,
        *,
        job: str,
        instance_id: int,
        profile: str | None = None,
        shareable: bool = True,
        shared_by: str | None = None,
    ) -> InstanceAnswer:
        """The card of one instance, or the one-line answer saying why it cannot be shown."""
        try:
            name = self.resolve_profile(profile)
        except CommandError as err:
            return InstanceAnswer(render_command_error(err), ok=False)
        try:
            instance = await self._clients[name].get_instance(job, instance_id)
        except DlfError as err:
            log.warning(
                messages.log_dlf_error(err.operation or "get_instance"),
                extra={"dlf": err.log_details(), "job": job, "instance_id": instance_id, "profile": name},
            )
            return InstanceAnswer(render_dlf_error(err, job=job, instance_id=instance_id), ok=False)
        # The profile is named on the card (and carried by its buttons) only when there is a choice of profiles.
        shown_profile = name if len(self._clients) > 1 else None
        card = render_instance(
            instance, now_ms=self._clock(), profile=shown_profile, shareable=shareable, shared_by=shared_by
        )
        return InstanceAnswer(card, ok=True)


__all__ = ["InstanceAnswer", "InstanceReader", "InstanceService"]
