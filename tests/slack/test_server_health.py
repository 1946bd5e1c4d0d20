"""`run_bot`'s `/healthz`: a background service (the watcher) that died makes it answer 503, while commands go on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from botwire import dlf_client
from prometheus_client import CollectorRegistry

from bot.services.instances import InstanceService
from bot.slack import AppDeps, BackgroundService, SlackMetrics, build_app, build_web_client, run_bot
from bot.slack.ingress import SlackGate
from bot.slack.server import HealthReport
from slack_fake import FakeSlack


async def test_healthz_is_503_once_a_background_service_died(sandbox: Any) -> None:
    registry = CollectorRegistry()
    fake = FakeSlack()
    died = asyncio.Event()
    release = asyncio.Event()

    async def watcher(stop: asyncio.Event) -> None:
        await release.wait()
        died.set()
        raise RuntimeError("the watcher broke")

    async def healthy_probe() -> HealthReport:
        return HealthReport(details={"watcher": {"profiles": {}}})

    async with fake.serve() as slack_url, dlf_client(sandbox.url) as client:
        app = build_app(
            AppDeps(
                client=build_web_client(token="xoxb-health-test", base_url=slack_url),
                signing_secret="health-secret",
                instances=InstanceService(clients={"default": client}, clock=lambda: 0),
                subscriptions=None,
                metrics=SlackMetrics(registry=registry),
            )
        )
        stop = asyncio.Event()
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(
            run_bot(
                bolt=app,
                registry=registry,
                stop=stop,
                port=0,
                host="127.0.0.1",
                health=healthy_probe,
                background=[BackgroundService(name="watcher", run=watcher)],
                on_ready=ready.set_result,
                gate=SlackGate(signing_secret="health-secret"),
            )
        )
        try:
            url = f"http://127.0.0.1:{await asyncio.wait_for(ready, 10)}/healthz"
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.get(url)
                assert answer.status_code == 200 and answer.json()["status"] == "ok"

                release.set()
                await died.wait()
                await asyncio.sleep(0)  # let the task finish
                answer = await http.get(url)
                assert answer.status_code == 503
                assert answer.json()["status"] == "unhealthy"
                assert answer.json()["reasons"] == ["background service 'watcher' is not running"]
        finally:
            stop.set()
            await asyncio.wait_for(server, 15)
