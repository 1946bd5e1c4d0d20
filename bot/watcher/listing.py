"""What a poll cycle lists from DLF: instances by status over a planned-time window, paged, and the successes of the
jobs with open incidents (per job or the whole list, whichever DLF's own count says is cheaper)."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Mapping

from bot.dlf.client import DlfClient
from bot.dlf.models import InstanceSummary
from bot.watcher.inputs import STATUS_SUCCESS, InstanceKey
from bot.watcher.poll_options import FULL_PAGE_WEIGHT, PollOptions, time_windows


class Lister:
    """Lists one profile's instances for a cycle."""

    def __init__(self, *, client: DlfClient, options: PollOptions) -> None:
        self._client = client
        self._options = options

    async def list(self, status: str, window: tuple[int, int], *, job_name: str | None = None) -> list[InstanceSummary]:
        """The instances of `status` planned inside `window` (split into spans DLF accepts), of one job if given."""
        found: dict[InstanceKey, InstanceSummary] = {}
        for lower, upper in time_windows(*window):
            async for summary in self._client.iter_instances(
                status=status,
                min_plan_time=lower,
                max_plan_time=upper,
                page_size=self._options.page_size,
                job_name=job_name,
                precise=job_name is not None,
            ):
                # Filtered by DLF already, but a lenient server may not filter: trust each row's own fields.
                if summary.status == status and job_name in (None, summary.job_name):
                    found[(summary.job_name, summary.instance_id)] = summary
        return list(found.values())

    async def successes(
        self, window: tuple[int, int], plans: Mapping[str, int], jobs: set[str]
    ) -> builtins.list[InstanceSummary]:
        """Successes of `jobs` (those with open incidents). Each job's own query reaches back to its failed
        instance's planned time (`plans`), so a rerun that succeeds long after that instance was planned resolves
        the incident; they run side by side, paced by the client's rate limit. When there are more such jobs than
        the paged list of every success over the same span is worth (one probe call asks DLF how many; a full page
        carries up to 1,000 rows to send and parse, so it weighs `FULL_PAGE_WEIGHT` one-job queries), the paged
        list over the recent window is read instead: a later success still resolves, and a rerun is seen through
        the unfinished lists or by the next sweep."""
        oldest = window[1] - self._options.lookback_ms
        since = {job: max(oldest, min(window[0], plans.get(job, window[0]))) for job in jobs}
        span = (min(since.values(), default=window[0]), window[1])
        probe = await self._client.list_instances(
            status=STATUS_SUCCESS, min_plan_time=span[0], max_plan_time=span[1], limit=1
        )
        if probe.total == 0 and not probe.instances:
            return []
        pages = max(1, -(-(probe.total or 0) // self._options.page_size))
        if probe.total is not None and len(jobs) <= pages * FULL_PAGE_WEIGHT:
            gate = asyncio.Semaphore(self._options.detail_concurrency)

            async def one(job: str) -> builtins.list[InstanceSummary]:
                async with gate:
                    return await self.list(STATUS_SUCCESS, (since[job], window[1]), job_name=job)

            return [s for found in await asyncio.gather(*(one(job) for job in sorted(jobs))) for s in found]
        return [s for s in await self.list(STATUS_SUCCESS, window) if s.job_name in jobs]


__all__ = ["Lister"]
