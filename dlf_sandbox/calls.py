"""The record of every DLF API request the sandbox received, so tests and benchmarks can count calls."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request: decoded path, decoded query, the operation it addressed and the status it got (None: dropped);
    `body` is the JSON body it carried (a rerun's `retry_location`), None when it had none or it was not JSON."""

    method: str
    path: str
    query: dict[str, str]
    operation: str
    at_ms: int
    status: int | None = None
    body: dict[str, object] | None = None


class CallLog:
    """A thread-safe list of Calls; iterate it, `len()` it, `count(...)` it, `reset()` it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def __iter__(self) -> Iterator[Call]:
        with self._lock:
            return iter(list(self._calls))

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def __getitem__(self, index: int) -> Call:
        with self._lock:
            return self._calls[index]

    def count(self, operation: str | None = None) -> int:
        """How many calls (of one operation, if given)."""
        with self._lock:
            return sum(1 for c in self._calls if operation is None or c.operation == operation)

    def by_operation(self) -> dict[str, int]:
        """Call counts per operation."""
        with self._lock:
            return dict(Counter(c.operation for c in self._calls))

    def reset(self) -> None:
        """Forget every recorded call."""
        with self._lock:
            self._calls.clear()
