"""Signing requests with huaweicloudsdkcore's own Signer (the reference), for the sandbox's tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import httpx
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from dlf_sandbox import SANDBOX_CREDENTIALS

PROJECT = SANDBOX_CREDENTIALS.project_id


@dataclass(frozen=True)
class _Keys:
    ak: str
    sk: str


@dataclass(frozen=True)
class Signed:
    """A request signed by the SDK, ready for httpx."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def sdk_sign(
    *,
    base_url: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, object]] = (),
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    ak: str = SANDBOX_CREDENTIALS.ak,
    sk: str = SANDBOX_CREDENTIALS.sk,
    project_header: bool = True,
    sdk_date: str | None = None,
) -> Signed:
    """Sign like huaweicloudsdkcore does (`path` already percent-encoded, as the SDK builds it)."""
    header_params = dict(headers or {})
    if project_header:
        header_params["X-Project-Id"] = PROJECT
    if body:
        header_params.setdefault("Content-Type", "application/json")
    if sdk_date is not None:
        header_params["X-Sdk-Date"] = sdk_date
    request = SdkRequest(
        method=method,
        schema="http",
        host=urlsplit(base_url).netloc,
        resource_path=path,
        query_params=list(query),
        header_params=header_params,
        body=body,
    )
    Signer(_Keys(ak, sk)).sign(request)
    return Signed(method, base_url + request.uri, dict(request.header_params), body)


def dlf_path(*segments: str | int) -> str:
    """`/v1/{project}/jobs/...` with every segment percent-encoded as a careful client does."""
    return "/v1/" + PROJECT + "/jobs" + "".join("/" + quote(str(s), safe="") for s in segments)


async def send(client: httpx.AsyncClient, signed: Signed) -> httpx.Response:
    """Send a signed request exactly as signed."""
    return await client.request(signed.method, signed.url, headers=signed.headers, content=signed.body)


def clock_date(clock: Callable[[], int], offset: timedelta = timedelta(0)) -> str:
    """An X-Sdk-Date value for the time `clock()` (+ offset)."""
    moment = datetime.fromtimestamp(clock() / 1000, tz=UTC) + offset
    return moment.strftime("%Y%m%dT%H%M%SZ")
