"""The Sandbox: state, faults, tokens, timeline and call log behind one aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from aiohttp import web

from dlf_sandbox.admin import add_admin_routes
from dlf_sandbox.calls import CallLog
from dlf_sandbox.credentials import (
    ANALYTICS_WORKSPACE_ID,
    DEFAULT_WORKSPACE_ID,
    SANDBOX_CREDENTIALS,
    SandboxCredentials,
)
from dlf_sandbox.faults import Faults
from dlf_sandbox.seed import SeededInstance, seed_state
from dlf_sandbox.server import REQUEST_ID_HEADER, SandboxServer
from dlf_sandbox.state import State
from dlf_sandbox.timeline import Timeline
from dlf_sandbox.tokens import Tokens

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

WORKSPACES = {DEFAULT_WORKSPACE_ID: "default", ANALYTICS_WORKSPACE_ID: "analytics"}
TICK_SECONDS = 0.1
SHUTDOWN_TIMEOUT_SECONDS = 1.0


def system_clock() -> int:
    """Epoch milliseconds of the system clock."""
    return int(time.time() * 1000)


class ManualClock:
    """A clock tests move by hand: `clock()` → epoch ms; `advance(ms)`, `set(ms)`. Starts at the system time."""

    def __init__(self, *, start_ms: int | None = None) -> None:
        self.now_ms = system_clock() if start_ms is None else start_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> int:
        """Move forward by `ms`; returns the new time."""
        self.now_ms += ms
        return self.now_ms

    def set(self, ms: int) -> None:
        """Jump to `ms`."""
        self.now_ms = ms


class Sandbox:
    """Huawei's side of the wire for the demo, the tests and the benchmarks (see the package docstring)."""

    def __init__(
        self,
        *,
        seed: bool = True,
        clock: Callable[[], int] | None = None,
        credentials: SandboxCredentials = SANDBOX_CREDENTIALS,
    ) -> None:
        self.clock: Callable[[], int] = clock or system_clock
        self.credentials = credentials
        self.state = State(clock=self.clock, workspaces=WORKSPACES, default_workspace=credentials.workspace)
        self.faults = Faults()
        self.calls = CallLog()
        self.iam_calls = CallLog()
        self.tokens = Tokens(credentials=credentials, clock=self.clock)
        self.timeline = Timeline(state=self.state, clock=self.clock)
        self.seeded: dict[str, SeededInstance] = seed_state(self.state, now_ms=self.clock()) if seed else {}

    def build_app(self) -> web.Application:
        """The aiohttp application: admin endpoints, IAM tokens, and everything else as DLF v1."""
        server = SandboxServer(sandbox=self)
        app = web.Application(middlewares=[_request_id_middleware])
        add_admin_routes(app, self)
        app.router.add_post("/v3/auth/tokens", server.handle_iam_token)
        app.router.add_route("*", "/{tail:.*}", server.handle_dlf)
        return app

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve in the caller's event loop; yields the base URL (`http://host:port`)."""
        runner = web.AppRunner(
            self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
        )
        await runner.setup()
        ticker: asyncio.Task[None] | None = None
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound_host, bound_port = runner.addresses[0][:2]
            ticker = asyncio.create_task(self._tick())
            yield f"http://{bound_host}:{bound_port}"
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            await runner.cleanup()

    @contextlib.contextmanager
    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve from a thread with its own event loop (sync callers, the CLI); yields the base URL."""
        runner = _ThreadRunner(self, host, port)
        base_url = runner.start()
        try:
            yield base_url
        finally:
            runner.stop()

    async def _tick(self) -> None:
        """While serving, apply the timeline's due events in wall-clock time once it plays."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.timeline.apply_due()


class _ThreadRunner:
    """One sandbox served from a daemon thread running its own event loop."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self._sandbox, self._host, self._port = sandbox, host, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._url: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dlf-sandbox", daemon=True)

    def start(self) -> str:
        self._thread.start()
        self._ready.wait()
        if self._url is None:
            self._thread.join()
            raise RuntimeError("the DLF sandbox did not start") from self._error
        return self._url

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self._sandbox.serve(self._host, self._port) as url:
            self._url = url
            self._ready.set()
            await self._stop.wait()

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as error:  # handed to the starting thread by start()
            self._error = error
        finally:
            self._ready.set()
            self._loop.close()


@web.middleware
async def _request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer carries X-Request-Id (handlers set their own; this covers aiohttp's own errors)."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.setdefault(REQUEST_ID_HEADER, uuid.uuid4().hex)
        raise
    response.headers.setdefault(REQUEST_ID_HEADER, uuid.uuid4().hex)
    return response
