"""`DlfConfig`: where DLF is and how carefully to talk to it. Built by the entry point; no settings are read here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.dlf.ratelimit import DEFAULT_BURST, DEFAULT_RATE

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_CAP = 8.0
DEFAULT_MAX_RETRY_AFTER = 30.0
DEFAULT_TOKEN_REFRESH_MARGIN = 300.0
DEFAULT_USER_AGENT = "dlf-bot/0.1"


class DlfConfig(BaseModel):
    """One DLF project (and optionally workspace) and the client's manners towards it.

    `endpoint` comes from `bot.dlf.endpoints.dlf_endpoint(region=..., override=...)`. Retries: at most `max_retries`
    more attempts, waiting `backoff_base * 2**attempt` (capped at `backoff_cap`, with jitter) or what `Retry-After`
    asks when that is at most `max_retry_after` seconds. `rate_limit` requests per second (None: unlimited) with
    `rate_burst` saved up — DLF allows 30/s per user.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = Field(min_length=1)
    project_id: str = Field(min_length=1)
    workspace: str | None = None
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0)
    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0)
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=10)
    backoff_base: float = Field(default=DEFAULT_BACKOFF_BASE, ge=0)
    backoff_cap: float = Field(default=DEFAULT_BACKOFF_CAP, ge=0)
    max_retry_after: float = Field(default=DEFAULT_MAX_RETRY_AFTER, ge=0)
    rate_limit: float | None = Field(default=DEFAULT_RATE, gt=0)
    rate_burst: int = Field(default=DEFAULT_BURST, ge=1)
    token_refresh_margin: float = Field(default=DEFAULT_TOKEN_REFRESH_MARGIN, ge=0)
    user_agent: str = DEFAULT_USER_AGENT

    @field_validator("endpoint")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @field_validator("workspace")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("project_id", "workspace", "user_agent")
    @classmethod
    def _header_safe(cls, value: str | None) -> str | None:
        # These travel in HTTP headers: printable ASCII only, or the request could not even be built.
        if value is not None and not (value.isascii() and value.isprintable()):
            raise ValueError("must be printable ASCII (it is sent in an HTTP header)")
        return value
