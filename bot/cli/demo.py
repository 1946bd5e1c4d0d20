"""`dlf-bot demo`: cards of seeded sandbox instances, then a channel watching a job and the alert it gets.

Offline and without credentials: the embedded DLF sandbox, an in-process fake Slack and a temporary database.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.cli.preview import preview, print_preview
from bot.cli.wiring import EmbeddedSandbox, embedded_sandbox, temporary_store
from bot.render.limits import problems
from bot.render.preview import to_text
from bot.watcher.deliver import make_delivery_client
from bot.watcher.demo import DEMO_OPERATOR, run_watch_demo
from bot.watcher.demo import DEMO_USER as WATCH_DEMO_USER

# Seeded sandbox instances the demo shows (keys of dlf_sandbox.SEEDED), in order.
DEMO_INSTANCES = ("seed", "running", "succeeded", "failed_node", "large")
SIX_MINUTES_MS = 6 * 60_000
# Who speaks in the demo's channel.
DEMO_USER = "alice"
DEMO_OPERATOR_NAME = "bob"
# The demo channel as Slack shows it: by its name, and people by their names rather than their user ids.
CHANNEL_NAME = "data-alerts"
BOT_NAME = "dlf-bot"


async def demo_main(out: TextIO, *, links: bool = False) -> int:
    """Print each seeded instance's card, then the watch demo, as the channel would show them: who wrote what,
    then the bot's answer; `links`: a Block Kit Builder link under each card. 1 when Slack would refuse any of it."""
    from dlf_sandbox import SEEDED

    status = 0
    async with embedded_sandbox() as embedded:
        for key in DEMO_INSTANCES:
            seeded = SEEDED[key]
            line = f"/dlf instance {seeded.job} {seeded.instance_id}"
            result = await preview(line, clients=embedded.clients)
            print(f"\n{DEMO_USER}: {line}    ({key}: {seeded.status})", file=out)
            print(f"{BOT_NAME} (only visible to you):\n", file=out)
            print_preview(result, as_json=False, out=out, links=links)
            status = status or (1 if result.problems else 0)
        status = status or await _watch_demo(embedded, out)
    return status


async def _watch_demo(embedded: EmbeddedSandbox, out: TextIO) -> int:
    """A channel watches a job, an instance of it fails, and the alert arrives (on a fake Slack, temp database)."""
    from slack_fake import FakeSlack

    def fail_instance(job: str) -> int:
        # A run that started six minutes ago and fails now, scripted on the sandbox's timeline like the tests do.
        sandbox = embedded.sandbox
        now = sandbox.clock()
        instance_id = sandbox.timeline.appear(job, at=now - SIX_MINUTES_MS)
        sandbox.timeline.fail(job, instance_id, at=now)
        sandbox.timeline.step_until(now)
        return int(instance_id)

    def rerun_succeeds(job: str, instance_id: int) -> None:
        embedded.sandbox.timeline.on_rerun("success", after_ms=20_000, job=job, instance_id=instance_id)

    def finish_node() -> bool:
        # The next scripted event on the sandbox's timeline: one node of the rerun finishing.
        return embedded.sandbox.timeline.step() is not None

    fake = FakeSlack(validator=problems)
    async with temporary_store("dlf-bot-demo-") as store, fake.serve() as slack_url:
        demo = await run_watch_demo(
            store=store,
            clients=embedded.clients,
            slack=make_delivery_client(token="xoxb-demo", base_url=slack_url),
            fail_instance=fail_instance,
            rerun_succeeds=rerun_succeeds,
            finish_node=finish_node,
        )
    print(
        f"\n{DEMO_USER} in #{CHANNEL_NAME}: /dlf watch {demo.job} --mention @{DEMO_USER}"
        f"    (then instance {demo.instance_id} fails)",
        file=out,
    )
    for message in demo.messages:
        print(f"\n{BOT_NAME}, posted in #{CHANNEL_NAME}:\n", file=out)
        print(as_slack_shows(to_text(message)), file=out)
    for scene in demo.scenes:
        if scene.act is not None:
            who = DEMO_OPERATOR_NAME if "operator" in scene.act else DEMO_USER
            print(f"\n{who} {scene.act}", file=out)
        else:
            print(
                "\n(the rerun runs; each poll cycle looks at it — the progress is one reply, edited in place)", file=out
            )
        for reply in scene.replies:
            print(f"\n{BOT_NAME}, in the alert's thread:\n", file=out)
            print(as_slack_shows(to_text(reply)), file=out)
    if demo.card is not None:
        print(f"\nThe alert card in #{CHANNEL_NAME}, redrawn in place at every change — as it stands now:\n", file=out)
        print(as_slack_shows(to_text(demo.card)), file=out)
    for method, found in fake.rejected:
        print(f"Slack would refuse a {method}: {'; '.join(found)}", file=sys.stderr)
    return 1 if fake.rejected or not demo.messages else 0


def as_slack_shows(text: str) -> str:
    """The demo's user ids as Slack's client draws mentions: by the person's name."""
    return text.replace(f"@{WATCH_DEMO_USER}", f"@{DEMO_USER}").replace(f"@{DEMO_OPERATOR}", f"@{DEMO_OPERATOR_NAME}")


__all__ = ["DEMO_INSTANCES", "as_slack_shows", "demo_main"]
