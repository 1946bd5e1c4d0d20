"""Prometheus metrics of DLF calls, registered in a registry the caller hands in (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class DlfMetrics:
    """`dlf_requests_total{operation,outcome}` (one per call, after retries), the calls' duration, and
    `dlf_rows_skipped_total{operation}`: list rows the bot could not read and left out of a page."""

    def __init__(self, *, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "dlf_requests",
            "DLF API calls by operation and outcome (ok or the error kind), after retries.",
            ("operation", "outcome"),
            registry=registry,
        )
        self.attempts = Counter(
            "dlf_http_requests",
            "HTTP requests sent to DLF by operation (retries and token refreshes included).",
            ("operation",),
            registry=registry,
        )
        self.duration = Histogram(
            "dlf_request_duration_seconds",
            "Duration of DLF API calls, retries included.",
            ("operation",),
            registry=registry,
        )
        self.rows_skipped = Counter(
            "dlf_rows_skipped",
            "Rows of a DLF list the bot could not read (no usable job name or instance id) and left out.",
            ("operation",),
            registry=registry,
        )

    def observe(self, *, operation: str, outcome: str, seconds: float) -> None:
        """Record one finished call."""
        self.calls.labels(operation=operation, outcome=outcome).inc()
        self.duration.labels(operation=operation).observe(seconds)
