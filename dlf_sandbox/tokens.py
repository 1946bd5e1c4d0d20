"""IAM tokens: issued by `POST /v3/auth/tokens`, accepted as `X-Auth-Token` while valid, revocable."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dlf_sandbox import apierrors
from dlf_sandbox.credentials import SandboxCredentials

DEFAULT_LIFETIME_MS = 24 * 3600 * 1000
STATIC_TOKEN_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000


@dataclass(frozen=True, kw_only=True)
class TokenRecord:
    """What the sandbox remembers of an issued token."""

    project_id: str
    user: str
    issued_ms: int
    expires_ms: int


class Tokens:
    """Issued tokens with their expiry, the pre-issued static token, and the knobs (lifetime, revoke)."""

    def __init__(self, *, credentials: SandboxCredentials, clock: Callable[[], int]) -> None:
        self._credentials = credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, TokenRecord] = {}
        self._revoked: set[str] = set()
        self.lifetime_ms = DEFAULT_LIFETIME_MS
        self.issued_count = 0
        now = clock()
        self._tokens[credentials.static_token] = TokenRecord(
            project_id=credentials.project_id,
            user=credentials.iam_username,
            issued_ms=now,
            expires_ms=now + STATIC_TOKEN_LIFETIME_MS,
        )

    def issue(self, *, project_id: str, user: str) -> tuple[str, TokenRecord]:
        """A fresh token valid for `lifetime_ms` from now."""
        now = self._clock()
        token = "MIIsandbox" + secrets.token_urlsafe(96)
        record = TokenRecord(project_id=project_id, user=user, issued_ms=now, expires_ms=now + self.lifetime_ms)
        with self._lock:
            self._tokens[token] = record
            self.issued_count += 1
        return token, record

    def check(self, token: str) -> TokenRecord:
        """The token's record if it is valid now; else the ApiError API Gateway answers with."""
        with self._lock:
            record = self._tokens.get(token)
            revoked = token in self._revoked
        if record is None:
            raise apierrors.iam_auth_failed("decrypt token fail")
        if revoked or self._clock() >= record.expires_ms:
            raise apierrors.token_must_be_updated()
        return record

    def revoke_all(self, *, include_static: bool = True) -> None:
        """Invalidate every token issued so far (and the static one unless told otherwise)."""
        with self._lock:
            self._revoked.update(t for t in self._tokens if include_static or t != self._credentials.static_token)

    def revoke(self, token: str) -> None:
        """Invalidate one token."""
        with self._lock:
            self._revoked.add(token)
