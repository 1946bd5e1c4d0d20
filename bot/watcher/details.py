"""Instance details for one poll cycle, each fetched at most once, with what a failure of the call means per use.

A cycle needs details for three reasons, in this order: instances the lists do not show (followed ones, remembered
unfinished ones that ended late: `lookup`), the new failures its alerts show (`stream`, as they arrive), and the
failed instances whose incidents recover, to redraw their cards as resolved (`cards`). What one of them fetched, the
others reuse; the calls run side by side under one concurrency bound, paced by the client's rate limit.

What a failed call means depends on the use:
    lookup   gone from DLF -> remembered as gone; anything else -> left out, asked again next cycle
    alert    DLF as a whole in trouble (`TRANSIENT_DLF_ERRORS`) -> raised: the cycle fails, the cursor stays;
             an error specific to the instance -> the alert goes out with the list row's card, saying why
    card     anything -> the card is redrawn from what the recovery knows
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.dlf.client import DlfClient
from bot.dlf.models import Instance
from bot.errors import DlfAuthError, DlfError, DlfNotFound, DlfThrottled, DlfUnavailable
from bot.render.errors import dlf_details_reason, unrequestable_reason
from bot.watcher.inputs import InstanceKey

log = logging.getLogger(__name__)

# DLF as a whole is in trouble (not one instance): the cycle fails and the cursor stays until it is back.
TRANSIENT_DLF_ERRORS = (DlfUnavailable, DlfThrottled, DlfAuthError)

FetchResult = tuple[Instance | None, str | None]
WriteBatch = Callable[
    [Sequence[InstanceKey], Mapping[InstanceKey, Instance], Mapping[InstanceKey, str]], Awaitable[None]
]


def log_extra(error: DlfError, *, profile: str) -> dict[str, object]:
    """The error's details for structured logs, under names a LogRecord does not already use ("message"...)."""
    return {"profile": profile, **{f"dlf_{name}": value for name, value in error.log_details().items()}}


class CycleDetails:
    """The details one cycle fetched, by (job, instance id); `calls` counts the calls made."""

    def __init__(self, *, client: DlfClient, profile: str, concurrency: int) -> None:
        self._client = client
        self._profile = profile
        self._gate = asyncio.Semaphore(concurrency)
        self.fetched: dict[InstanceKey, Instance] = {}
        self.calls = 0

    async def _get(self, key: InstanceKey) -> Instance:
        """The instance's details: fetched unless this cycle has them already. Raises what the client raises."""
        if key in self.fetched:
            return self.fetched[key]
        async with self._gate:
            self.calls += 1
            instance = await self._client.get_instance(*key)
        self.fetched[key] = instance
        return instance

    async def lookup(self, keys: Sequence[InstanceKey]) -> tuple[dict[InstanceKey, Instance], set[InstanceKey]]:
        """Details of instances the lists do not show (followed, or remembered unfinished ones that ended late), and
        those DLF no longer has. Any other failure leaves an instance out: it is looked up again next cycle."""
        found: dict[InstanceKey, Instance] = {}
        gone: set[InstanceKey] = set()

        async def fetch(key: InstanceKey) -> None:
            try:
                found[key] = await self._get(key)
            except DlfNotFound:
                log.info("watcher: instance %s/%s is gone from DLF", *key, extra={"profile": self._profile})
                gone.add(key)
            except DlfError as exc:
                log.warning(
                    "watcher: details of %s/%s unavailable; asking again next cycle",
                    *key,
                    extra=log_extra(exc, profile=self._profile),
                )
            except (ValueError, TypeError) as exc:
                log.error(
                    "watcher: details of %r/%r cannot be requested (%s: %s)",
                    *key,
                    type(exc).__name__,
                    exc,
                    extra={"profile": self._profile},
                )
                gone.add(key)

        await asyncio.gather(*(fetch(key) for key in dict.fromkeys(keys)))
        return found, gone

    async def for_alert(self, key: InstanceKey) -> FetchResult:
        """Details for an alert: DLF as a whole in trouble (`TRANSIENT_DLF_ERRORS`) raises, so the cycle fails and the
        cursor stays (the alerts wait for complete cards); an error specific to this instance (bad answer, refused,
        gone, or a name the client will not send) is logged and returned as the reason, and the alert goes out with
        the list row's card — it must not hold back every other alert of the profile cycle after cycle."""
        try:
            return await self._get(key), None
        except (ValueError, TypeError) as exc:
            # The client refuses to send this name or id (".." as a job name, a negative id): an odd row of DLF's own
            # list. It concerns this instance only and must not crash the cycle.
            log.error(
                "watcher: details of %r/%r cannot be requested (%s: %s); alerting with the list row",
                *key,
                type(exc).__name__,
                exc,
                extra={"profile": self._profile},
            )
            return None, unrequestable_reason(exc)
        except DlfError as exc:
            if isinstance(exc, TRANSIENT_DLF_ERRORS):
                raise
            log.error(
                "watcher: details of %s/%s could not be fetched (%s); alerting with the list row",
                *key,
                type(exc).__name__,
                extra=log_extra(exc, profile=self._profile),
            )
            return None, dlf_details_reason(exc)

    async def cards(self, keys: Sequence[InstanceKey]) -> dict[InstanceKey, Instance]:
        """Details of the failed instances whose incidents recover, to redraw their cards as resolved; a missing one
        is redrawn from what the recovery knows."""
        found: dict[InstanceKey, Instance] = {}

        async def fetch(key: InstanceKey) -> None:
            try:
                found[key] = await self._get(key)
            except DlfError as exc:
                log.warning(
                    "watcher: details of %s/%s unavailable; its card is redrawn without them",
                    *key,
                    extra=log_extra(exc, profile=self._profile),
                )
            except (ValueError, TypeError):
                log.warning("watcher: details of %r/%r cannot be requested", *key, extra={"profile": self._profile})

        await asyncio.gather(*(fetch(key) for key in dict.fromkeys(keys)))
        return found

    async def stream(self, order: Sequence[InstanceKey], write: WriteBatch, *, batch: int, flush_s: float) -> None:
        """Fetch the details of the new failures `order` names side by side and hand them to `write` oldest first, as
        soon as they are in: the first at once, then in batches of `batch` or every `flush_s`. DLF as a whole failing
        stops it (what was written stays; the rest is redone by the next cycle)."""
        stream = _Stream(order, write, batch=batch, flush_s=flush_s)
        stream.details.update({key: self.fetched[key] for key in order if key in self.fetched})
        tasks = {key: asyncio.create_task(self.for_alert(key)) for key in order if key not in stream.details}
        try:
            await stream.run(tasks)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)


class _Stream:
    """The failures' details as they arrive, and how far they have been handed on (in order)."""

    def __init__(self, order: Sequence[InstanceKey], write: WriteBatch, *, batch: int, flush_s: float) -> None:
        self.order = list(order)
        self.write = write
        self.batch = batch
        self.flush_s = flush_s
        self.details: dict[InstanceKey, Instance] = {}
        self.errors: dict[InstanceKey, str] = {}
        self.written = 0

    def _collect(self, tasks: Mapping[InstanceKey, asyncio.Task[FetchResult]]) -> None:
        for key, task in tasks.items():
            if task.done() and key not in self.details and key not in self.errors:
                instance, reason = task.result()
                if instance is not None:
                    self.details[key] = instance
                else:
                    self.errors[key] = reason or "DLF gave no details."

    def _ready(self) -> int:
        """How many of `order`, from the start, have their details (or the reason they have none)."""
        ready = self.written
        while ready < len(self.order) and (self.order[ready] in self.details or self.order[ready] in self.errors):
            ready += 1
        return ready

    async def run(self, tasks: Mapping[InstanceKey, asyncio.Task[FetchResult]]) -> None:
        loop = asyncio.get_running_loop()
        wrote_once, last_write = False, loop.time()
        while self.written < len(self.order):
            running = [task for task in tasks.values() if not task.done()]
            if running:
                await asyncio.wait(running, timeout=self.flush_s, return_when=asyncio.FIRST_COMPLETED)
            self._collect(tasks)
            ready = self._ready()
            due = (
                not wrote_once
                or ready == len(self.order)
                or ready - self.written >= self.batch
                or loop.time() - last_write >= self.flush_s
            )
            if ready > self.written and due:
                await self.write(self.order[self.written : ready], self.details, self.errors)
                self.written, wrote_once, last_write = ready, True, loop.time()


__all__ = ["TRANSIENT_DLF_ERRORS", "CycleDetails", "FetchResult", "log_extra"]
