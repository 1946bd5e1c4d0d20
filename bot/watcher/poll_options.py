"""How a poll cycle looks back and how hard it pulls (`PollOptions`), and the time windows it asks DLF for. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from bot.watcher.inputs import DEFAULT_DIGEST_THRESHOLD, DEFAULT_ESCALATE_AFTER_MS

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
DLF_MAX_RANGE_MS = 7 * 24 * HOUR_MS
DEFAULT_LOOKBACK_MS = 24 * HOUR_MS
# The failure list reaches this far before the cursor: instances DLF creates a little after their planned time
# (scheduler lag) and clocks that disagree. Anything later is found through the unfinished lists (or the sweep).
DEFAULT_OVERLAP_MS = 15 * MINUTE_MS
DEFAULT_SWEEP_INTERVAL_MS = 10 * MINUTE_MS
DEFAULT_PAGE_SIZE = 1000
DEFAULT_DETAIL_CONCURRENCY = 8
DEFAULT_DETAIL_BATCH = 25
DEFAULT_DETAIL_FLUSH_S = 1.0
DEFAULT_RERUN_START_WAIT_MS = 10 * MINUTE_MS
# How many one-job queries a full page of the instance list is worth (rows to send and parse, one after another).
FULL_PAGE_WEIGHT = 3


@dataclass(frozen=True, kw_only=True)
class PollOptions:
    """How far back to look and how hard to pull. Times in ms."""

    lookback_ms: int = DEFAULT_LOOKBACK_MS
    overlap_ms: int = DEFAULT_OVERLAP_MS
    sweep_interval_ms: int = DEFAULT_SWEEP_INTERVAL_MS
    page_size: int = DEFAULT_PAGE_SIZE
    detail_concurrency: int = DEFAULT_DETAIL_CONCURRENCY
    detail_batch: int = DEFAULT_DETAIL_BATCH
    detail_flush_s: float = DEFAULT_DETAIL_FLUSH_S
    digest_threshold: int = DEFAULT_DIGEST_THRESHOLD  # ALERT_DIGEST_THRESHOLD
    escalate_after_ms: int | None = DEFAULT_ESCALATE_AFTER_MS  # DLF_ESCALATE_AFTER (None: "off")
    # A rerun DLF has not been seen to start this long after it was asked for is given up (a reply says so).
    rerun_start_wait_ms: int = DEFAULT_RERUN_START_WAIT_MS

    def __post_init__(self) -> None:
        if not 0 < self.lookback_ms <= DLF_MAX_RANGE_MS:
            raise ValueError("lookback must be more than 0 and at most 7 days (DLF's query limit)")
        if self.overlap_ms < 0 or self.sweep_interval_ms < 0:
            raise ValueError("overlap and sweep interval must not be negative")
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page size must be between 1 and 1000")
        if self.detail_concurrency < 1 or self.digest_threshold < 1 or self.detail_batch < 1:
            raise ValueError("detail concurrency, detail batch and digest threshold must be at least 1")
        if self.escalate_after_ms is not None and self.escalate_after_ms <= 0:
            raise ValueError("the escalation delay must be positive (or None: off)")
        if self.detail_flush_s <= 0:
            raise ValueError("the detail flush interval must be positive")


def time_windows(start_ms: int, end_ms: int, max_span_ms: int = DLF_MAX_RANGE_MS) -> list[tuple[int, int]]:
    """Split [start, end] into consecutive windows DLF accepts (at most `max_span_ms` each)."""
    if end_ms <= start_ms:
        return [(end_ms, end_ms)]
    windows: list[tuple[int, int]] = []
    lower = start_ms
    while lower < end_ms:
        upper = min(lower + max_span_ms, end_ms)
        windows.append((lower, upper))
        lower = upper
    return windows


def window_for(*, cursor: int | None, now_ms: int, options: PollOptions, sweep: bool = False) -> tuple[int, int]:
    """The planned-time window of this cycle's failure list: from the cursor minus the overlap, never before the
    lookback; the whole lookback at a sweep (and before the first cycle ever)."""
    oldest = now_ms - options.lookback_ms
    if cursor is None or sweep:
        return oldest, now_ms
    return max(oldest, min(cursor, now_ms) - options.overlap_ms), now_ms


__all__ = [
    "DEFAULT_LOOKBACK_MS",
    "DEFAULT_OVERLAP_MS",
    "DLF_MAX_RANGE_MS",
    "FULL_PAGE_WEIGHT",
    "HOUR_MS",
    "MINUTE_MS",
    "PollOptions",
    "time_windows",
    "window_for",
]
