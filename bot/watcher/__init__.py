"""The watcher: poll DLF per profile, decide what must be said (pure), write it to the outbox, deliver it to Slack.

The decision (pure, light to import):
    inputs.py     what it reads: CycleInput, Watch, KnownIncident, the statuses and events
    decide.py     the decision itself: given what the store knows and what DLF returned, what must be said
    matching.py   who hears about a job (exact names, globs, follows); follows.py: what a follow says when it ends
    intents.py    what it says (Alert, Digest, RepeatFailure, Recovery, FollowOutcome) and the store changes
    keys.py       the outbox key scheme (every key format)
    staging.py    a decision cut into the transactions the poller writes one after another
    compose.py    intents -> outbox rows (an incident's rows through bot.incidents.outbox)

Doing it:
    scheduler.py  Watcher: APScheduler jobs (poll cycle, delivery), heartbeat, one poller at a time (lease)
    poller.py     one poll cycle for one DLF profile: list, diff against the store, decide, write
    listing.py    what one cycle asks DLF for (the lists, the windows); details.py: instance details, once each
    writer.py     a cycle's decision written to the store: seen statuses, incidents, outbox rows
    deliver.py    outbox -> Slack: claims, paces, sends, retries, never re-posts a message in doubt
    outbox.py     the deliverer's policy (pure): what a Slack answer means, back-off, re-queue on repair
    heartbeat.py  the replica's heartbeat lease and the fence it gives the deliverer
    metrics.py    outbox and delivery metrics; outbox_health.py: what /healthz says about the outbox
    demo.py       the `dlf-bot demo` scenario

This front re-exports nothing: importing `bot.watcher.decide` must not load the scheduler, the store or Slack.
Import what you need from its module (`bot.watcher.scheduler.build_watcher`, `bot.watcher.poller.PollOptions`).
"""
