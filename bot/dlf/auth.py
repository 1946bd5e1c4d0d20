"""Credentials and how each kind authorises a request.

Three kinds, as real users have them:
- `AkSk`: access key + secret key, optionally a security token (temporary credentials); every request is signed.
- `IamPassword`: an IAM user's password; a project-scoped token is fetched from IAM, cached, refreshed before it
  expires and once more when DLF answers 401 (a revoked token).
- `StaticToken`: a ready token (`DLF_AUTH_TOKEN`); it cannot be refreshed, so a 401 is final.
Secrets are `SecretStr`: reprs, logs and errors show `**********`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bot.dlf.failures import bad_response, error_from_response, error_from_transport
from bot.dlf.signer import QueryValue, SignedRequest, canonical_query, sign

HEADER_AUTH_TOKEN = "X-Auth-Token"
HEADER_SUBJECT_TOKEN = "X-Subject-Token"
IAM_TOKEN_PATH = "/v3/auth/tokens"
DEFAULT_REFRESH_MARGIN = timedelta(minutes=5)
# IAM documents 24 h; used only when an answer leaves `expires_at` out.
DEFAULT_TOKEN_LIFETIME = timedelta(hours=24)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class _Credentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AkSk(_Credentials):
    """Access key / secret key; `security_token` makes them temporary credentials."""

    access_key: str = Field(min_length=1)
    secret_key: SecretStr
    security_token: SecretStr | None = None


class IamPassword(_Credentials):
    """An IAM user's password; the token is scoped to `project_id` (the client's project when left out)."""

    username: str = Field(min_length=1)
    password: SecretStr
    domain: str = Field(min_length=1, description="the account (domain) name")
    iam_endpoint: str = Field(min_length=1, description="e.g. https://iam.cn-north-4.myhuaweicloud.com")
    project_id: str | None = None


class StaticToken(_Credentials):
    """A token obtained elsewhere (`DLF_AUTH_TOKEN`)."""

    token: SecretStr


Credentials = AkSk | IamPassword | StaticToken


class Authenticator(Protocol):
    """Turns a request's parts into the headers and query string to send."""

    can_refresh: bool

    async def authorize(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Iterable[tuple[str, QueryValue]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> SignedRequest:
        """Headers to send (authorisation included) and the exact query string."""
        ...

    async def invalidate(self, sent: SignedRequest) -> None:
        """DLF answered 401 to `sent`: forget what authorised it so the next request gets fresh credentials."""
        ...


class AkSkAuthenticator:
    """Signs each request with `SDK-HMAC-SHA256`; nothing to refresh."""

    can_refresh = False

    def __init__(self, *, credentials: AkSk, project_id: str, clock: Clock = utc_now) -> None:
        self._credentials = credentials
        self._project_id = project_id
        self._clock = clock

    async def authorize(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Iterable[tuple[str, QueryValue]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> SignedRequest:
        """Sign the request as the SDK would."""
        token = self._credentials.security_token
        return sign(
            method=method,
            host=host,
            path=path,
            query=query,
            headers=headers,
            body=body,
            access_key=self._credentials.access_key,
            secret_key=self._credentials.secret_key.get_secret_value(),
            now=self._clock(),
            project_id=self._project_id,
            security_token=token.get_secret_value() if token else None,
        )

    async def invalidate(self, sent: SignedRequest) -> None:
        """A signature cannot be refreshed."""


class TokenProvider(Protocol):
    """Where a token comes from."""

    can_refresh: bool

    async def token(self) -> str:
        """A token believed valid."""
        ...

    async def invalidate(self, token: str) -> None:
        """`token` was refused: do not hand it out again."""
        ...


class StaticTokenProvider:
    """Always the configured token."""

    can_refresh = False

    def __init__(self, *, credentials: StaticToken) -> None:
        self._credentials = credentials

    async def token(self) -> str:
        """The configured token."""
        return self._credentials.token.get_secret_value()

    async def invalidate(self, token: str) -> None:
        """Nothing to refresh: the next 401 is final."""


class IamTokenProvider:
    """Fetches a project-scoped token from IAM with a password, caches it, refreshes it before it expires.

    Refreshes at `expires_at - min(refresh_margin, lifetime / 2)`. Concurrent callers share one fetch (a lock).
    """

    can_refresh = True

    def __init__(
        self,
        *,
        credentials: IamPassword,
        project_id: str,
        http: httpx.AsyncClient,
        clock: Clock = utc_now,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self._credentials = credentials
        self._project_id = credentials.project_id or project_id
        self._http = http
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._token: SecretStr | None = None
        self._refresh_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _fresh(self) -> bool:
        return self._token is not None and self._refresh_at is not None and self._clock() < self._refresh_at

    async def token(self) -> str:
        """The cached token, or a new one when there is none or it is about to expire."""
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._fetch()
        assert self._token is not None
        return self._token.get_secret_value()

    async def invalidate(self, token: str) -> None:
        """Drop the cached token if it is the refused one (another caller may already have replaced it)."""
        async with self._lock:
            if self._token is not None and self._token.get_secret_value() == token:
                self._token = None

    def _request_body(self) -> bytes:
        identity = {
            "methods": ["password"],
            "password": {
                "user": {
                    "name": self._credentials.username,
                    "password": self._credentials.password.get_secret_value(),
                    "domain": {"name": self._credentials.domain},
                }
            },
        }
        body = {"auth": {"identity": identity, "scope": {"project": {"id": self._project_id}}}}
        return json.dumps(body).encode("utf-8")

    async def _fetch(self) -> None:
        operation = "iam_token"
        url = self._credentials.iam_endpoint.rstrip("/") + IAM_TOKEN_PATH
        issued_at = self._clock()
        try:
            response = await self._http.post(
                url, content=self._request_body(), headers={"Content-Type": "application/json;charset=utf8"}
            )
        except httpx.TransportError as exc:
            raise error_from_transport(exc, operation=operation) from None
        if response.status_code not in (200, 201):
            raise error_from_response(
                status=response.status_code, headers=response.headers, body=response.content, operation=operation
            )
        token = response.headers.get(HEADER_SUBJECT_TOKEN)
        if not token:
            raise bad_response("IAM answered without an X-Subject-Token header", response=response, operation=operation)
        expires_at = _expires_at(response) or issued_at + DEFAULT_TOKEN_LIFETIME
        lifetime = max(expires_at - issued_at, timedelta(0))
        self._token = SecretStr(token)
        self._refresh_at = expires_at - min(self._refresh_margin, lifetime / 2)
        self.fetches += 1


def _expires_at(response: httpx.Response) -> datetime | None:
    try:
        text = response.json()["token"]["expires_at"]
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class TokenAuthenticator:
    """Sends `X-Auth-Token` (and `X-Project-Id`, which DataArts needs) from a token provider."""

    def __init__(self, *, provider: TokenProvider, project_id: str) -> None:
        self._provider = provider
        self._project_id = project_id
        self.can_refresh = provider.can_refresh

    async def authorize(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Iterable[tuple[str, QueryValue]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> SignedRequest:
        """Add the token; the query string is the same canonical one the signer would send."""
        token = await self._provider.token()
        out = {**headers, "Host": host, "X-Project-Id": self._project_id, HEADER_AUTH_TOKEN: token}
        return SignedRequest(headers=out, query_string=canonical_query(query))

    async def invalidate(self, sent: SignedRequest) -> None:
        """Make the provider fetch a new token next time."""
        token = sent.headers.get(HEADER_AUTH_TOKEN)
        if token:
            await self._provider.invalidate(token)


def build_authenticator(
    credentials: Credentials,
    *,
    project_id: str,
    http: httpx.AsyncClient,
    clock: Clock = utc_now,
    refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
) -> Authenticator:
    """The authenticator for a kind of credentials."""
    if isinstance(credentials, AkSk):
        return AkSkAuthenticator(credentials=credentials, project_id=project_id, clock=clock)
    if isinstance(credentials, IamPassword):
        provider: TokenProvider = IamTokenProvider(
            credentials=credentials, project_id=project_id, http=http, clock=clock, refresh_margin=refresh_margin
        )
        return TokenAuthenticator(provider=provider, project_id=project_id)
    return TokenAuthenticator(provider=StaticTokenProvider(credentials=credentials), project_id=project_id)
