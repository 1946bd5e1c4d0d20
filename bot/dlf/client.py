"""`DlfClient`: DataArts Factory's job-instance operations, answering with `bot.dlf.models` or a `DlfError`.

Bad arguments from the caller (an empty job name, an instance id that is not an int) raise `ValueError`/`TypeError`
before anything is sent; everything that goes wrong on the wire raises a `bot.errors.DlfError` subclass.

List pages are read one row at a time: a row that cannot be a valid instance or job (no usable job name, a negative or
fractional instance id, ...) is left out of its page, named in the page's `skipped`, counted, and logged at ERROR
once per row. One odd row never fails a page, and every row handed out can be passed back to `get_instance`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bot.dlf import paths
from bot.dlf.auth import Clock, Credentials, build_authenticator, utc_now
from bot.dlf.config import DlfConfig
from bot.dlf.failures import bad_response
from bot.dlf.metrics import DlfMetrics
from bot.dlf.models import Instance, InstancePage, InstanceSummary, Job, JobPage
from bot.dlf.ratelimit import NoRateLimit, Priority, TokenBucket
from bot.dlf.session import ClientStats, DlfSession, Sleep
from bot.dlf.signer import QueryValue
from bot.errors import DlfNotFound

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_PAGE_SIZE = 1000
# Where a rerun starts (DLF v1 `retry_location`); `specified_node` is DLF's too but nothing here asks for it.
RETRY_LOCATIONS = ("error_node", "first_node")
DEFAULT_MAX_PAGES = 1000
# Skipped rows already logged, remembered so that a row staying in the polling window is logged once, not per cycle.
MAX_REMEMBERED_SKIPS = 4096
INSTANCE_ROW_KEYS = (("jobName", "job_name"), ("instanceId", "instancesId", "instance_id"))
JOB_ROW_KEYS = (("name", "jobName", "job_name"),)

logger = logging.getLogger("bot.dlf")


def _row_key(row: object, keys: tuple[tuple[str, ...], ...]) -> str:
    """A short text naming a list row by what it says of its identity (job name, instance id), for logs."""
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__} row"
    parts = []
    for spellings in keys:
        found = next((spelling for spelling in spellings if spelling in row), spellings[0])
        parts.append(f"{found}={row.get(found)!r:.80}")
    return " ".join(parts)


def _instance_query(
    *,
    job_name: str | None,
    status: str | None,
    min_plan_time: int | None,
    max_plan_time: int | None,
    precise: bool,
    instance_type: int | None,
) -> list[tuple[str, QueryValue]]:
    query: list[tuple[str, QueryValue]] = []
    if job_name:
        query.append(("jobName", job_name))
    if status:
        query.append(("status", status))
    if min_plan_time is not None:
        query.append(("minPlanTime", int(min_plan_time)))
    if max_plan_time is not None:
        query.append(("maxPlanTime", int(max_plan_time)))
    if precise:
        query.append(("preciseQuery", True))
    if instance_type is not None:
        query.append(("instanceType", int(instance_type)))
    return query


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(root)"
    return f"{exc.error_count()} problem(s), first at {where}: {first['msg']}"


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if offset < 0:
        raise ValueError("offset must not be negative")


class DlfClient:
    """Talks to one DLF project (and workspace) with one set of credentials.

    `transport` is the seam for tests (an `httpx.MockTransport`) — integration tests use the sandbox over HTTP.
    `clock` dates signatures and judges token expiry; `sleep` and `rng` drive the retry backoff.
    """

    def __init__(
        self,
        *,
        config: DlfConfig,
        credentials: Credentials,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        limiter: TokenBucket | NoRateLimit | None = None,
        metrics: DlfMetrics | None = None,
    ) -> None:
        self.config = config
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            follow_redirects=False,
            trust_env=False,
        )
        if limiter is None:
            limiter = (
                TokenBucket(rate=config.rate_limit, burst=config.rate_burst) if config.rate_limit else NoRateLimit()
            )
        authenticator = build_authenticator(
            credentials,
            project_id=config.project_id,
            http=self._http,
            clock=clock,
            refresh_margin=timedelta(seconds=config.token_refresh_margin),
        )
        self._session = DlfSession(
            config=config,
            http=self._http,
            authenticator=authenticator,
            limiter=limiter,
            sleep=sleep,
            rng=rng,
            metrics=metrics,
        )
        self._metrics = metrics
        self._reported_skips: dict[tuple[str, str], None] = {}
        self._priority = Priority.INTERACTIVE

    def with_priority(self, priority: Priority) -> DlfClient:
        """This client (same connections, credentials and rate limit) with its requests queued at `priority`: the
        watcher's view is `with_priority(Priority.BACKGROUND)`, so a person's request goes ahead of it."""
        view = copy.copy(self)
        view._priority = priority
        return view

    @property
    def priority(self) -> Priority:
        """Where this client's requests queue in the rate limiter."""
        return self._priority

    @property
    def stats(self) -> ClientStats:
        """Requests sent, retries, credential refreshes."""
        return self._session.stats

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> DlfClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @staticmethod
    def _json_object(response: httpx.Response, *, operation: str) -> dict[str, Any]:
        try:
            data: Any = response.json()
        except ValueError:
            raise bad_response(
                "DLF answered with a body that is not JSON", response=response, operation=operation
            ) from None
        if not isinstance(data, dict):
            raise bad_response(
                f"DLF answered JSON {type(data).__name__} where an object was expected",
                response=response,
                operation=operation,
            )
        return data

    @staticmethod
    def _validate(data: dict[str, Any], model: type[ModelT], *, response: httpx.Response, operation: str) -> ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise bad_response(
                f"DLF answered an unexpected shape: {_describe(exc)}", response=response, operation=operation
            ) from None

    def _parse(self, response: httpx.Response, model: type[ModelT], *, operation: str) -> ModelT:
        return self._validate(
            self._json_object(response, operation=operation), model, response=response, operation=operation
        )

    def _parse_page(
        self,
        response: httpx.Response,
        page: type[ModelT],
        row: type[BaseModel],
        *,
        rows_field: str,
        row_keys: tuple[tuple[str, ...], ...],
        operation: str,
    ) -> ModelT:
        """A list page whose rows are validated one at a time; unreadable rows are skipped, counted and logged."""
        data = self._json_object(response, operation=operation)
        raw = data.get(rows_field)
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise bad_response(
                f"DLF answered {rows_field!r} as JSON {type(raw).__name__} where a list was expected",
                response=response,
                operation=operation,
            )
        rows: list[BaseModel] = []
        skipped: list[str] = []
        for item in raw:
            try:
                rows.append(row.model_validate(item))
            except ValidationError as exc:
                key = _row_key(item, row_keys)
                skipped.append(key)
                self._report_skip(key, exc, response=response, operation=operation)
        return self._validate(
            {**data, rows_field: rows, "skipped": skipped}, page, response=response, operation=operation
        )

    def _report_skip(self, key: str, exc: ValidationError, *, response: httpx.Response, operation: str) -> None:
        if self._metrics is not None:
            self._metrics.rows_skipped.labels(operation=operation).inc()
        remembered = (operation, key)
        if remembered in self._reported_skips:
            return
        if len(self._reported_skips) >= MAX_REMEMBERED_SKIPS:
            del self._reported_skips[next(iter(self._reported_skips))]
        self._reported_skips[remembered] = None
        logger.error(
            "DLF %s: skipped a row the bot cannot use (%s): %s; request id %s",
            operation,
            key,
            _describe(exc),
            response.headers.get("x-request-id"),
        )

    async def get_instance(self, job_name: str, instance_id: int) -> Instance:
        """Details of one instance, nodes included (the seed page)."""
        path = paths.instance_path(self.config.project_id, job_name, instance_id)
        response = await self._session.call(
            operation="get_instance", method="GET", path=path, idempotent=True, priority=self._priority
        )
        return self._parse(response, Instance, operation="get_instance")

    async def list_instances(
        self,
        *,
        job_name: str | None = None,
        status: str | None = None,
        min_plan_time: int | None = None,
        max_plan_time: int | None = None,
        limit: int = 100,
        offset: int = 0,
        precise: bool = False,
        instance_type: int | None = None,
    ) -> InstancePage:
        """One page of the instance list. `offset` is DLF's: documented as a page number. Times are epoch ms.

        `instances: null` is an empty page; a row without a usable job name or instance id is left out and named in
        `skipped` (logged at ERROR once, with the request id); a `total` that is not a usable count is None.
        """
        _check_page(limit, offset)
        query = _instance_query(
            job_name=job_name,
            status=status,
            min_plan_time=min_plan_time,
            max_plan_time=max_plan_time,
            precise=precise,
            instance_type=instance_type,
        )
        query += [("limit", limit), ("offset", offset)]
        path = paths.instance_list_path(self.config.project_id)
        response = await self._session.call(
            operation="list_instances", method="GET", path=path, query=query, idempotent=True, priority=self._priority
        )
        return self._parse_page(
            response,
            InstancePage,
            InstanceSummary,
            rows_field="instances",
            row_keys=INSTANCE_ROW_KEYS,
            operation="list_instances",
        )

    async def iter_instances(
        self,
        *,
        job_name: str | None = None,
        status: str | None = None,
        min_plan_time: int | None = None,
        max_plan_time: int | None = None,
        precise: bool = False,
        instance_type: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> AsyncIterator[InstanceSummary]:
        """Every matching instance once, page after page (offset = page number, as documented).

        Rows the bot cannot use are left out (see `list_instances`), so every row yielded names an instance
        `get_instance` accepts; they still count as rows of their page for paging. Stops on a short or empty page,
        when `total` instances have been seen, when a page brings nothing new (a server that ignores `offset` would
        otherwise loop forever) or after `max_pages` requests. Should the server
        read `offset` as a row offset after all (offset 1 answering the first page shifted by one row), the rest is
        fetched by row offset instead of one new row per request.
        """
        seen: set[int] = set()
        skipped: set[str] = set()
        first_page: list[int] = []
        offset, by_rows = 0, False
        for number in range(max_pages):
            page = await self.list_instances(
                job_name=job_name,
                status=status,
                min_plan_time=min_plan_time,
                max_plan_time=max_plan_time,
                limit=page_size,
                offset=offset,
                precise=precise,
                instance_type=instance_type,
            )
            ids = [item.instance_id for item in page.instances]
            fresh = [item for item in page.instances if item.instance_id not in seen]
            newly_skipped = set(page.skipped) - skipped
            skipped |= newly_skipped
            for item in fresh:
                seen.add(item.instance_id)
                yield item
            if len(page.instances) + len(page.skipped) < page_size or not (fresh or newly_skipped):
                return
            if page.total is not None and len(seen) + len(skipped) >= page.total:
                return
            if number == 0:
                first_page = ids
            elif number == 1 and page_size > 1 and ids[:-1] == first_page[1:]:
                by_rows = True
            offset = offset + len(page.instances) + len(page.skipped) if by_rows else offset + 1

    async def _act(
        self, operation: str, action: str, job_name: str, instance_id: int, body: dict[str, object] | None = None
    ) -> None:
        path = paths.instance_path(self.config.project_id, job_name, instance_id, action)
        await self._session.call(
            operation=operation, method="POST", path=path, idempotent=False, priority=self._priority, json_body=body
        )

    async def rerun(self, job_name: str, instance_id: int, *, retry_location: str = "error_node") -> None:
        """Rerun a finished instance (success, fail or manual-stop) as a new run of the same instance id, from the
        failed node (`error_node`) or from the first (`first_node`).

        Sent once: a 429 or a connection that never opened is retried (DLF did nothing); a timeout, a broken
        connection or a 5xx after sending raise `DlfOutcomeUnknown` (read the instance: running again means DLF took
        it). DLF's refusal (the status forbids it, DLF.3051, ...) raises `DlfActionRefused` with its code and words.
        """
        if retry_location not in RETRY_LOCATIONS:
            raise ValueError(f"retry_location must be one of {', '.join(RETRY_LOCATIONS)}")
        await self._act("rerun_instance", "restart", job_name, instance_id, {"retry_location": retry_location})

    async def stop(self, job_name: str, instance_id: int) -> None:
        """Stop a running instance; sent once, failures as for `rerun`."""
        await self._act("stop_instance", "stop", job_name, instance_id)

    async def rerun_instance(self, job_name: str, instance_id: int) -> None:
        """Rerun from the first node (DLF's default; what the watcher's tests script): `rerun(..., "first_node")`."""
        await self.rerun(job_name, instance_id, retry_location="first_node")

    async def stop_instance(self, job_name: str, instance_id: int) -> None:
        """The same as `stop` (the name the architecture notes give)."""
        await self.stop(job_name, instance_id)

    async def list_jobs(
        self, *, job_name: str | None = None, job_type: str | None = None, offset: int = 0, limit: int = 100
    ) -> JobPage:
        """One page of the job list, optionally filtered by name and type (e.g. BATCH, REAL_TIME)."""
        _check_page(limit, offset)
        query: list[tuple[str, QueryValue]] = [("limit", limit), ("offset", offset)]
        if job_name:
            query.append(("jobName", job_name))
        if job_type:
            query.append(("jobType", job_type))
        path = paths.job_list_path(self.config.project_id)
        response = await self._session.call(
            operation="list_jobs", method="GET", path=path, query=query, idempotent=True, priority=self._priority
        )
        return self._parse_page(response, JobPage, Job, rows_field="jobs", row_keys=JOB_ROW_KEYS, operation="list_jobs")

    async def get_job(self, job_name: str) -> Job:
        """One job's details (name and type; the rest of the definition is ignored)."""
        path = paths.job_path(self.config.project_id, job_name)
        response = await self._session.call(
            operation="get_job", method="GET", path=path, idempotent=True, priority=self._priority
        )
        return self._parse(response, Job, operation="get_job")

    async def job_exists(self, job_name: str) -> bool:
        """True when DLF knows the job; False on DLF.0100; other failures raise."""
        try:
            await self.get_job(job_name)
        except DlfNotFound as exc:
            if exc.kind == "job":
                return False
            raise
        return True
