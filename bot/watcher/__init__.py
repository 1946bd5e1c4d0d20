"""The watcher: poll DLF per profile, decide what must be said (pure), write it to the outbox, deliver it to Slack.

    scheduler.py  Watcher: APScheduler jobs (poll cycle, delivery), heartbeat, one poller at a time (lease)
    poller.py     one poll cycle for one DLF profile: list, diff against the store, decide, write in one transaction
    decide.py     the pure decision: given what the store knows and what DLF returned, what must be said
    compose.py    intents -> outbox rows (rendered messages with metadata)
    deliver.py    outbox -> Slack: claims, paces, sends, retries, never re-posts a message in doubt (outbox.py: policy)
    heartbeat.py  the replica's heartbeat lease and the fence it gives the deliverer
    metrics.py    outbox and delivery metrics; outbox_health.py: what /healthz says about the outbox
    demo.py       the `dlf-bot demo` scenario
"""

from bot.watcher.decide import (
    Alert,
    CycleInput,
    Decision,
    Digest,
    FollowOutcome,
    KnownIncident,
    Recovery,
    RepeatFailure,
    Watch,
    decide,
)
from bot.watcher.demo import WatchDemo, run_watch_demo
from bot.watcher.poller import CycleReport, PollOptions, ProfilePoller
from bot.watcher.scheduler import Watcher, WatcherOptions, build_watcher

__all__ = [
    "Alert",
    "CycleInput",
    "CycleReport",
    "Decision",
    "Digest",
    "FollowOutcome",
    "KnownIncident",
    "PollOptions",
    "ProfilePoller",
    "Recovery",
    "RepeatFailure",
    "Watch",
    "WatchDemo",
    "Watcher",
    "WatcherOptions",
    "build_watcher",
    "decide",
    "run_watch_demo",
]
