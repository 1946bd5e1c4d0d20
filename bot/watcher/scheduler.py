"""`Watcher`: the poll cycle (an APScheduler job), the outbox delivery loop and the replica's heartbeat, in the Slack
app's own event loop.

- Poll job every `poll_interval_s` (`max_instances=1`, `coalesce=True`): one cycle at a time, missed runs merged.
- Delivery is the deliverer's own loop (`OutboxDeliverer.run`): it sleeps until the earliest channel is due (at
  most `delivery_interval_s`) and is woken right after a poll queued rows.
- The replica's heartbeat (`bot.watcher.heartbeat`) is renewed every few seconds beside them; other replicas take
  over this one's poll lease and outbox claims as soon as it lapses.
- Each tick catches and logs its own exceptions: one bad tick never stops the schedule.
- A run longer than its interval makes APScheduler skip ticks: logged once per streak, not on every tick.
- One replica polls at a time: the poll cycle runs only while this replica holds the store's lease row
  `watcher.poll`. A lease row, not `pg_try_advisory_lock`: it behaves the same on SQLite (two processes on one file)
  and PostgreSQL, needs no connection pinned for the process's lifetime (an advisory lock is lost silently when the
  pool recycles its connection), and a crashed holder's lease is taken over once its heartbeat lapses (or, for a
  holder alive but stuck, after `lease_ttl_s`). Should two cycles
  ever overlap anyway (a cycle longer than the TTL), the outbox's unique keys still allow one message per key.
- Delivery is safe on every replica at once: the deliverer claims rows atomically.
- Every profile's cycle writes its heartbeat (and cursor) in the store; one failing profile does not stop the others.
- Retention job every `retention.options.interval_s` (when given): the poll lease holder prunes old rows in small
  batches (`bot.watcher.retention`).
- The database not answering (`StoreUnavailable`) is one WARNING when it starts and one INFO when it is over, not a
  traceback per tick: each tick still tries, and nothing is lost (what failed rolled back and is redone).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from slack_sdk.web.async_client import AsyncWebClient

from bot.dlf.client import DlfClient
from bot.errors import StoreUnavailable
from bot.store import Store
from bot.watcher.deliver import DEFAULT_CLAIM_TTL_S, DeliveryReport, OutboxDeliverer
from bot.watcher.heartbeat import Heartbeat
from bot.watcher.metrics import DeliveryMetrics
from bot.watcher.outage import StoreOutage
from bot.watcher.outbox import DEFAULT_HEARTBEAT_TTL_S, Liveness
from bot.watcher.poller import CycleReport, PollOptions, ProfilePoller
from bot.watcher.retention import Retention

log = logging.getLogger(__name__)

POLL_LEASE = "watcher.poll"
DEFAULT_POLL_INTERVAL_S = 60.0
DEFAULT_DELIVERY_INTERVAL_S = 1.0
POLL_JOB = "dlf.watcher.poll"
RETENTION_JOB = "dlf.watcher.retention"
# The scheduler's own logger: under "apscheduler" (its level settings apply), ours alone (so is the filter below).
SCHEDULER_LOGGER = "apscheduler.scheduler.dlf_watcher"
# How long stop() waits for a poll cycle or delivery pass in flight (an unfinished cycle commits nothing).
STOP_GRACE_S = 30.0


@dataclass(frozen=True, kw_only=True)
class WatcherOptions:
    """How often to poll and deliver. `lease_ttl_s` defaults to two poll intervals plus 30 s.

    `heartbeat_ttl_s` is how soon a dead replica's poll lease and claims are taken over; `lease_ttl_s` and
    `claim_ttl_s` are only the backstops for a replica alive (heartbeat renewed) but stuck."""

    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    delivery_interval_s: float = DEFAULT_DELIVERY_INTERVAL_S  # longest sleep of the delivery loop
    lease_ttl_s: float | None = None
    pace_s: float = 1.0  # per channel, between two messages (Slack allows about one a second)
    claim_ttl_s: float = DEFAULT_CLAIM_TTL_S  # a stuck deliverer's claimed rows wait this long for another
    heartbeat_ttl_s: float = DEFAULT_HEARTBEAT_TTL_S
    poll: PollOptions = field(default_factory=PollOptions)

    def __post_init__(self) -> None:
        if self.poll_interval_s <= 0 or self.delivery_interval_s <= 0:
            raise ValueError("intervals must be positive")

    @property
    def liveness(self) -> Liveness:
        """The heartbeat's timing and the fence derived from `heartbeat_ttl_s`."""
        return Liveness(self.heartbeat_ttl_s)

    @property
    def effective_lease_ttl_s(self) -> float:
        """How long a replica keeps the poll lease without renewing it."""
        return self.lease_ttl_s if self.lease_ttl_s is not None else 2 * self.poll_interval_s + 30


class _SkippedTickFilter(logging.Filter):
    """Drops APScheduler's per-tick "skipped: maximum number of running instances reached" warning: while a cycle
    outlasts the interval it fires on every tick. `SkippedTicks` logs each streak once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


_SKIPPED_TICK_FILTER = _SkippedTickFilter()


class SkippedTicks:
    """Counts ticks APScheduler skipped because the job's previous run was still going; logs a streak once when it
    starts (a poll cycle longer than the interval is a WARNING, a long delivery pass only INFO — pacing makes
    those normal) and once when the job runs again."""

    def __init__(self) -> None:
        self.streaks: dict[str, int] = {}

    def on_event(self, event: JobEvent) -> None:
        """APScheduler listener for EVENT_JOB_MAX_INSTANCES and EVENT_JOB_SUBMITTED."""
        if event.code == EVENT_JOB_MAX_INSTANCES:
            skipped = self.streaks.get(event.job_id, 0) + 1
            self.streaks[event.job_id] = skipped
            if skipped == 1:
                level = logging.WARNING if event.job_id == POLL_JOB else logging.INFO
                log.log(
                    level,
                    "watcher: %s is still running at its next tick; skipping ticks until it ends",
                    _JOB_WORDS.get(event.job_id, event.job_id),
                )
        elif (skipped := self.streaks.pop(event.job_id, 0)) > 0:
            log.info(
                "watcher: %s runs again after %d skipped tick(s)", _JOB_WORDS.get(event.job_id, event.job_id), skipped
            )


_JOB_WORDS = {POLL_JOB: "the poll cycle", RETENTION_JOB: "retention"}


def default_holder() -> str:
    """A name for this replica that no other process shares: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Watcher:
    """Polls every DLF profile into the store and delivers the outbox to Slack, on a schedule or on demand."""

    def __init__(
        self,
        *,
        store: Store,
        pollers: Sequence[ProfilePoller],
        deliverer: OutboxDeliverer,
        options: WatcherOptions | None = None,
        holder: str | None = None,
        retention: Retention | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.store = store
        self.pollers = list(pollers)
        self.deliverer = deliverer
        self.options = options or WatcherOptions()
        self.holder = holder or default_holder()
        self.retention = retention
        self.store_outages = {job: StoreOutage(_JOB_WORDS[job], store.now) for job in _JOB_WORDS}
        self.heartbeat = heartbeat
        self.last_reports: list[CycleReport] = []
        self._scheduler: AsyncIOScheduler | None = None
        self._ever_started = False
        self.skipped_ticks = SkippedTicks()
        self._poll_lock = asyncio.Lock()
        self._delivery_lock = asyncio.Lock()
        self._stop_background = asyncio.Event()
        self._background: asyncio.Task[None] | None = None

    # --- on demand -----------------------------------------------------------------------------------------------

    async def run_cycle_once(self) -> list[CycleReport]:
        """One poll cycle over every profile, if this replica holds (or can take) the poll lease; [] otherwise."""
        async with self._poll_lock:
            return await self._cycle()

    async def _cycle(self) -> list[CycleReport]:
        if not await self.store.try_acquire_lease(POLL_LEASE, self.holder, self.options.effective_lease_ttl_s):
            log.debug("watcher: another replica holds the poll lease")
            self.store_outages[POLL_JOB].answered()
            return []
        results = await asyncio.gather(*(p.run_cycle() for p in self.pollers), return_exceptions=True)
        reports: list[CycleReport] = []
        for poller, result in zip(self.pollers, results, strict=True):
            if isinstance(result, StoreUnavailable):
                self.store_outages[POLL_JOB].failed(result)
                continue  # it rolled back; the heartbeat cannot be written either
            if isinstance(result, BaseException):
                # Not a DLF failure (those are reported): the store or a bug. The other profiles went on regardless.
                log.error("watcher: cycle of profile %s crashed", poller.profile, exc_info=result)
                await self._record_crash(poller.profile, result)
                continue
            reports.append(result)
        if not any(isinstance(result, StoreUnavailable) for result in results):
            self.store_outages[POLL_JOB].answered()
        self.last_reports = reports
        return reports

    async def run_retention_once(self) -> dict[str, int] | None:
        """One retention run, if retention is configured and this replica holds the poll lease; None otherwise."""
        if self.retention is None or not await self.store.holds_lease(POLL_LEASE, self.holder):
            return None
        return await self.retention.run_once()

    async def deliver_once(self) -> DeliveryReport:
        """One delivery pass over the outbox (never two at once in this process)."""
        async with self._delivery_lock:
            return await self.deliverer.deliver_once()

    async def drain(self) -> DeliveryReport:
        """Deliver pass after pass, unpaced, until nothing more is due now (tests, the demo, shutdown)."""
        async with self._delivery_lock:
            return await self.deliverer.drain()

    # --- scheduled -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Schedule polling and delivery in the running event loop (call from async code)."""
        if self._scheduler is not None:
            return
        scheduler_logger = logging.getLogger(SCHEDULER_LOGGER)
        scheduler_logger.addFilter(_SKIPPED_TICK_FILTER)  # once: the same filter object is not added twice
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), logger=scheduler_logger)
        scheduler.add_listener(self.skipped_ticks.on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_SUBMITTED)
        scheduler.add_job(
            self._poll_tick,
            "interval",
            seconds=self.options.poll_interval_s,
            id=POLL_JOB,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),  # the first cycle at once, not one interval later
        )
        if self.retention is not None:
            scheduler.add_job(
                self._retention_tick,
                "interval",
                seconds=self.retention.options.interval_s,
                id=RETENTION_JOB,
                max_instances=1,
                coalesce=True,
            )
        scheduler.start()
        self._scheduler = scheduler
        self._stop_background = asyncio.Event()
        self._background = asyncio.create_task(
            self._heartbeat_and_delivery(self._stop_background), name="watcher-delivery"
        )
        self._ever_started = True
        log.info(
            "watcher: started as %s, polling %d profile(s) every %.0f s",
            self.holder,
            len(self.pollers),
            self.options.poll_interval_s,
        )

    async def _heartbeat_and_delivery(self, stop: asyncio.Event) -> None:
        """The heartbeat (renewed first, so claims are only taken while it runs) and the delivery loop."""
        if self.heartbeat is None:
            await self.deliverer.run(stop)
            return
        try:
            await self.heartbeat.beat()
        except Exception:
            log.warning("watcher: first heartbeat failed; delivery waits for one to succeed", exc_info=True)
        await asyncio.gather(self.heartbeat.run(stop), self.deliverer.run(stop))

    async def stop(self) -> None:
        """Stop scheduling, let a cycle or the rows being delivered finish (up to `STOP_GRACE_S`), and hand the poll
        lease (and, with nothing left in flight, the heartbeat) to the next replica at once."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        background, self._background = self._background, None
        if background is not None:
            self._stop_background.set()
            try:
                await asyncio.wait_for(asyncio.shield(background), timeout=STOP_GRACE_S)
            except TimeoutError:
                log.warning("watcher: stopping while messages are still being sent; their claims lapse by themselves")
            except Exception:
                log.warning("watcher: the delivery loop ended with an error", exc_info=True)
        for lock in (self._poll_lock, self._delivery_lock):
            try:
                await asyncio.wait_for(lock.acquire(), timeout=STOP_GRACE_S)
            except TimeoutError:
                log.warning("watcher: stopping while a tick is still running; its work is redone after restart")
            else:
                lock.release()
        try:
            await self.store.release_lease(POLL_LEASE, self.holder)
        except Exception:
            log.warning("watcher: could not release the poll lease; it expires by itself", exc_info=True)
        if self.heartbeat is not None and self.heartbeat.started and self.deliverer.in_flight == 0:
            # Nothing is being sent: give back any claim and the heartbeat, so nobody waits for them to lapse.
            try:
                async with self.store.transaction() as tx:
                    await tx.outbox.release_claims(self.holder)
            except Exception:
                log.warning(
                    "watcher: could not give back claimed messages; they are taken over after the heartbeat lapses",
                    exc_info=True,
                )
            else:
                await self.heartbeat.release()

    async def run(self, stop: asyncio.Event) -> None:
        """Run on the schedule until `stop` is set, then stop (the CLI's BackgroundService entry point)."""
        self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._scheduler is not None

    @property
    def ever_started(self) -> bool:
        """True once `start()` has run (a watcher that is not running now has stopped, or died)."""
        return self._ever_started

    async def _poll_tick(self) -> None:
        try:
            reports = await self.run_cycle_once()
        except asyncio.CancelledError:
            # Shutdown cancels a tick in flight; nothing is lost (the cycle's transaction never committed and the
            # next start redoes it), so this is a normal stop, not an error for APScheduler to report.
            log.info("watcher: poll tick cancelled by shutdown; the next start redoes it")
            return
        except StoreUnavailable as exc:
            self.store_outages[POLL_JOB].failed(exc)
            return
        except Exception:
            log.exception("watcher: poll tick failed; the next tick tries again")
            return
        if any(r.enqueued for r in reports):
            self.deliverer.wake()

    async def _retention_tick(self) -> None:
        try:
            await self.run_retention_once()
        except asyncio.CancelledError:
            log.info("watcher: retention cancelled by shutdown; the next run goes on where it stopped")
        except StoreUnavailable as exc:
            self.store_outages[RETENTION_JOB].failed(exc)
        except Exception:
            log.exception("watcher: retention failed; the next run tries again")
        else:
            self.store_outages[RETENTION_JOB].answered()

    async def _record_crash(self, profile: str, error: BaseException) -> None:
        try:
            async with self.store.transaction() as tx:
                await tx.watcher_state.heartbeat(profile, error=f"{type(error).__name__}: {error}")
        except Exception:
            log.warning("watcher: could not record the failed cycle of %s", profile, exc_info=True)


def build_watcher(
    *,
    store: Store,
    clients: Mapping[str, DlfClient],
    slack: AsyncWebClient,
    options: WatcherOptions | None = None,
    holder: str | None = None,
    clock: Callable[[], int] | None = None,
    retention: Retention | None = None,
    metrics: DeliveryMetrics | None = None,
) -> Watcher:
    """The watcher the CLI runs: one poller per DLF profile (name -> client), one deliverer, one lease holder and its
    heartbeat, and `retention` (None: nothing is ever deleted) run by whichever replica holds the poll lease."""
    options = options or WatcherOptions()
    holder = holder or default_holder()
    clock = clock or store.now
    pollers = [
        ProfilePoller(profile=name, client=client, store=store, options=options.poll, clock=clock)
        for name, client in clients.items()
    ]
    heartbeat = Heartbeat(store=store, holder=holder, liveness=options.liveness)
    deliverer = OutboxDeliverer(
        store=store,
        slack=slack,
        holder=holder,
        pace_s=options.pace_s,
        idle_s=options.delivery_interval_s,
        claim_ttl_s=options.claim_ttl_s,
        slack_timeout_s=options.liveness.slack_timeout_s,
        heartbeat=heartbeat,
        metrics=metrics,
    )
    return Watcher(
        store=store,
        pollers=pollers,
        deliverer=deliverer,
        options=options,
        holder=holder,
        heartbeat=heartbeat,
        retention=retention,
    )


__all__ = [
    "DEFAULT_DELIVERY_INTERVAL_S",
    "DEFAULT_POLL_INTERVAL_S",
    "POLL_LEASE",
    "RETENTION_JOB",
    "StoreOutage",
    "Watcher",
    "WatcherOptions",
    "build_watcher",
    "default_holder",
]
