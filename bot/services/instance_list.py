"""A job's recent instances: the use case behind `/dlf instances` and its "More" button.

The window is fixed when the command runs (`InstanceListQuery.since_ms`..`until_ms`, planned times), so the pages a
"More" button brings are pages of the same list. One request to DLF's instance list (exact job name, the status
filter, that window) reads up to `MAX_LISTED` instances (a "More" click reads them again); they are sorted newest planned first here, whatever order
DLF answers in, and cut into pages of `PAGE_SIZE`. A `DlfError` is logged with its details and becomes a `Refused`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot import messages
from bot.commands.model import InstancesCommand
from bot.dlf.models import InstancePage, InstanceSummary
from bot.errors import CommandError, DlfError, DlfNotFound
from bot.profiles import DEFAULT_PROFILE
from bot.services.outcomes import Refused

log = logging.getLogger(__name__)

PAGE_SIZE = 10
MAX_LISTED = 1000  # one page of DLF's instance list at its largest


class InstanceLister(Protocol):
    """What this service needs of a DLF client."""

    async def list_instances(
        self,
        *,
        job_name: str | None = None,
        status: str | None = None,
        min_plan_time: int | None = None,
        max_plan_time: int | None = None,
        limit: int = ...,
        offset: int = ...,
        precise: bool = False,
    ) -> InstancePage: ...

    async def job_exists(self, job_name: str) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class InstanceListQuery:
    """Which instances: one job's, planned in `since_ms`..`until_ms`, of one status (None: all); page `page` (0 first)."""

    job: str
    status: str | None
    since_ms: int
    until_ms: int
    page: int = 0
    profile: str | None = None
    since_midnight: bool = False  # the window is DLF's default (today, since 00:00 UTC), not a `--since`


@dataclass(frozen=True)
class InstancesListed:
    """One page of the list: `instances` newest first, `total` how many matched (at most `MAX_LISTED` read;
    `capped` when DLF has more), `read_at_ms` when it arrived, `profile` to name (None with one profile)."""

    query: InstanceListQuery
    instances: tuple[InstanceSummary, ...]
    total: int
    capped: bool
    read_at_ms: int
    profile: str | None

    @property
    def page_size(self) -> int:
        """Rows on a full page."""
        return PAGE_SIZE

    @property
    def has_more(self) -> bool:
        """Whether a later page exists."""
        return (self.query.page + 1) * PAGE_SIZE < self.total


def start_of_day_ms(now_ms: int) -> int:
    """00:00 UTC of the day `now_ms` falls in: DLF's default start of the instance list's window."""
    day = datetime.fromtimestamp(now_ms / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp() * 1000)


class InstanceListService:
    """Lists a job's instances from the DLF client of the chosen profile."""

    def __init__(
        self,
        *,
        clients: Mapping[str, InstanceLister],
        clock: Callable[[], int],
        default_profile: str = DEFAULT_PROFILE,
    ) -> None:
        if not clients:
            raise ValueError("at least one DLF client is needed")
        self._clients = dict(clients)
        self._clock = clock
        self._default = default_profile if default_profile in clients else next(iter(clients))

    def query(self, command: InstancesCommand) -> InstanceListQuery:
        """The first page of what `/dlf instances` asks for, its window fixed now."""
        now = self._clock()
        since = now - command.since_s * 1000 if command.since_s is not None else start_of_day_ms(now)
        return InstanceListQuery(
            job=command.job,
            status=command.status,
            since_ms=since,
            until_ms=now,
            profile=command.profile,
            since_midnight=command.since_s is None,
        )

    async def list(self, query: InstanceListQuery) -> InstancesListed | Refused:
        """One page of the job's instances, or why not (an unknown profile, or DLF's answer)."""
        name = query.profile or self._default
        if name not in self._clients:
            return Refused(command_error=CommandError(messages.unknown_profile(name, self._clients), usage=None))
        try:
            page = await self._clients[name].list_instances(
                job_name=query.job,
                status=query.status,
                min_plan_time=query.since_ms,
                max_plan_time=query.until_ms,
                limit=MAX_LISTED,
                offset=0,
                precise=True,
            )
        except DlfError as err:
            log.warning(
                messages.log_dlf_error(err.operation or "list_instances"),
                extra={"dlf": err.log_details(), "job": query.job, "profile": name},
            )
            return Refused(dlf_error=err, job=query.job)
        if not page.instances and not page.skipped and query.page == 0:
            # DLF lists nothing for a job it does not have: say which it is, as `/dlf instance` does.
            refusal = await self._missing_job(name, query.job)
            if refusal is not None:
                return refusal
        # `preciseQuery` promises an exact match: a row of another job is left out; one instance is listed once.
        found = {row.instance_id: row for row in page.instances if row.job_name == query.job}
        rows = sorted(found.values(), key=lambda row: (row.plan_time or 0, row.instance_id), reverse=True)
        read = len(page.instances) + len(page.skipped)
        capped = page.total is not None and page.total > read
        start = max(0, query.page) * PAGE_SIZE
        return InstancesListed(
            query=query,
            instances=tuple(rows[start : start + PAGE_SIZE]),
            total=len(rows),
            capped=capped,
            read_at_ms=self._clock(),
            profile=name if len(self._clients) > 1 else None,
        )

    async def _missing_job(self, profile: str, job: str) -> Refused | None:
        try:
            if await self._clients[profile].job_exists(job):
                return None
        except DlfError as err:
            log.warning(
                messages.log_dlf_error(err.operation or "get_job"),
                extra={"dlf": err.log_details(), "job": job, "profile": profile},
            )
            return Refused(dlf_error=err, job=job)
        return Refused(dlf_error=DlfNotFound(f"job {job} does not exist", kind="job"), job=job)


__all__ = [
    "MAX_LISTED",
    "PAGE_SIZE",
    "InstanceListQuery",
    "InstanceListService",
    "InstanceLister",
    "InstancesListed",
    "start_of_day_ms",
]
