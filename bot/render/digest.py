"""The digest: one top-level message when many instances fail at once (an alert storm), the cards in its thread."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.dlf.models import Instance, InstanceSummary
from bot.render.blocks import context, header, section
from bot.render.layout import pack_lines
from bot.render.message import Message
from bot.render.mrkdwn import (
    and_more,
    code,
    date_token,
    one_line,
    plural,
    valid_mentions,
)

JOB_LIMIT = 120
IDS_PER_JOB = 5
JOBS_BUDGET = 6000
JOBS_IN_TEXT = 5
MAX_MENTIONS = 10


def render_digest(
    failures: Sequence[Instance | InstanceSummary],
    *,
    now_ms: int,
    profile: str | None = None,
    mentions: Sequence[str] = (),
) -> Message:
    """Counts, the jobs (most failures first) with their instance ids, and where the details are (the thread)."""
    by_job: dict[str, list[int]] = defaultdict(list)
    for failure in failures:
        by_job[failure.job_name].append(failure.instance_id)
    jobs = sorted(by_job.items(), key=lambda item: (-len(item[1]), item[0]))
    title = f"{plural(len(failures), 'failure')} in {plural(len(jobs), 'job')}"
    lines = []
    for job, ids in jobs:
        shown = ", ".join(str(instance_id) for instance_id in sorted(ids)[:IDS_PER_JOB])
        more = f" {and_more(len(ids) - IDS_PER_JOB)}" if len(ids) > IDS_PER_JOB else ""
        lines.append(f"• {code(job, JOB_LIMIT)} — {len(ids):,} failed (instance {shown}{more})")
    intro = ":rotating_light: Many instances failed at once. Each one's card, with its failed nodes, is in this thread."
    valid = valid_mentions(mentions, MAX_MENTIONS)
    if valid:
        intro += "\ncc " + " ".join(valid)
    blocks = [header(f":rotating_light: {title}"), section(intro)]
    blocks.extend(section(text) for text in pack_lines(lines, heading="*Jobs*", budget=JOBS_BUDGET, noun="jobs"))
    where = f"DLF profile {code(profile, 60)} · " if profile is not None else ""
    blocks.append(context(f"{where}as of {date_token(now_ms)}"))
    names = ", ".join(one_line(job, 60) for job, _ in jobs[:JOBS_IN_TEXT])
    if len(jobs) > JOBS_IN_TEXT:
        names += f" {and_more(len(jobs) - JOBS_IN_TEXT)}"
    ping = " ".join(valid) + " " if valid else ""
    text = f"{ping}{title}: {names} — details in the thread" if jobs else f"{ping}{title}"
    return Message(text=text, blocks=blocks)


__all__ = ["render_digest"]
