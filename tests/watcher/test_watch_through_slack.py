"""The whole loop: a signed `/dlf watch` through the real Bolt app, a failure on the sandbox, the alert in Slack."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
from prometheus_client import CollectorRegistry
from slack_sdk.signature import SignatureVerifier
from watcher_rig import Rig, blocks_text, dlf_client

from bot.services.instances import InstanceService
from bot.services.subscriptions import SubscriptionService
from bot.slack import AppDeps, SlackMetrics, build_app, build_web_app, build_web_client, serve_http
from bot.slack.ingress import SlackGate
from slack_fake import TEAM_ID

SECRET = "watcher-test-signing-secret"


def signed_command(text: str, *, channel: str, response_url: str) -> tuple[str, dict[str, str]]:
    """A slash command as Slack sends it, signed with the app's signing secret."""
    body = urlencode(
        {
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": "data",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": "/dlf",
            "text": text,
            "api_app_id": "A0DLFBOT",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return body, headers


async def test_signed_watch_then_failure_posts_one_alert_card_per_channel(rig: Rig) -> None:
    rig.add_job("job_a")
    client = dlf_client(rig.dlf_url)
    registry = CollectorRegistry()
    app = build_app(
        AppDeps(
            client=build_web_client(token="xoxb-watcher-test", base_url=rig.slack_url),
            signing_secret=SECRET,
            instances=InstanceService(clients={"default": client}, clock=lambda: int(time.time() * 1000)),
            subscriptions=SubscriptionService(store=rig.store, clients={"default": client}),
            metrics=SlackMetrics(registry=registry),
        )
    )
    try:
        web_app = build_web_app(bolt=app, registry=registry, gate=SlackGate(signing_secret=SECRET))
        async with serve_http(web_app, host="127.0.0.1", port=0) as port, httpx.AsyncClient(timeout=30) as http:
            for channel, text in (("C0DATA", "watch job_a --mention <@U0ONCALL|oncall>"), ("C0OPS", "watch 'job_*'")):
                body, headers = signed_command(text, channel=channel, response_url=rig.slack.response_url(channel))
                answer = await http.post(f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers)
                assert answer.status_code == 200
                await rig.slack.wait_for_responses(channel)
            iid = rig.fail("job_a")

            await rig.cycle()
    finally:
        await client.aclose()

    data, ops = rig.posts("C0DATA"), rig.posts("C0OPS")
    assert len(data) == 1 and len(ops) == 1
    assert "<@U0ONCALL>" in data[0]["text"] + blocks_text(data[0])
    for post in (data[0], ops[0]):
        card = blocks_text(post)
        assert "job_a" in card and str(iid) in card and "load" in card
