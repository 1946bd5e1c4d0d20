"""AK/SK request signing (`SDK-HMAC-SHA256`), as Huawei Cloud's API Gateway checks it.

Pure functions: give the request's parts and the keys, get back the headers to send and the exact query string to put
in the URL. `huaweicloudsdkcore.signer.signer.Signer` is the reference; tests compare our `Authorization` header with
its output byte for byte.

Why each step is the way it is (see ../shared/facts/huawei-dlf.md):
- the canonical URI decodes the path, splits it on `/` and encodes each segment with `quote(segment, safe="~")`
  (exactly as the SDK and the gateway do, so an encoded `%2F` counts as a separator), and ends with `/`, which is
  added for signing only — the request goes out without it;
- the canonical query is sorted (key, value) pairs, each encoded with `quote(x, safe="~")`, booleans `true`/`false`;
  the same string is sent, so what the gateway hashes is what we hashed;
- every header whose name has no `_` is signed; `Host`, `X-Project-Id` and, for temporary credentials,
  `X-Security-Token` are added before signing because DataArts refuses calls without the project header;
- the body hash covers exactly the bytes sent (the empty body hashes to `e3b0c442…b855`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
HEADER_SDK_DATE = "X-Sdk-Date"
HEADER_PROJECT_ID = "X-Project-Id"
HEADER_SECURITY_TOKEN = "X-Security-Token"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

QueryValue = str | int | bool


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What to send: every header (Authorization included) and the query string, without the leading `?`."""

    headers: dict[str, str]
    query_string: str

    def __repr__(self) -> str:
        # The Authorization header carries the access key and the security token a secret: never show values.
        return f"SignedRequest(headers=<{len(self.headers)} headers>, query_string={self.query_string!r})"


def format_sdk_date(moment: datetime) -> str:
    """`X-Sdk-Date` value for a moment (naive datetimes are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(SDK_DATE_FORMAT)


def _encode(text: str) -> str:
    return quote(text, safe="~")


def _query_text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_uri(path: str) -> str:
    """The path decoded, split on `/`, each segment encoded with `quote(segment, safe="~")`, plus a trailing `/`."""
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(params: Iterable[tuple[str, QueryValue]]) -> str:
    """Sorted `k=v&k=v`, keys and values encoded with `quote(x, safe="~")`; also the query string to send."""
    pairs = sorted((key, _query_text(value)) for key, value in params)
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in pairs)


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Lowercased names of every header without `_`, sorted."""
    return sorted(name.lower() for name in headers if "_" not in name)


def canonical_headers(headers: Mapping[str, str], names: Iterable[str]) -> str:
    """`name:value\\n` for each signed name, values stripped."""
    by_name = {name.lower(): str(value).strip() for name, value in headers.items()}
    return "".join(f"{name}:{by_name[name]}\n" for name in names)


def payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    """sha256 of the body as hex, unless the request declares an unsigned payload."""
    declared = _get_ignore_case(headers, HEADER_CONTENT_SHA256)
    if body and declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    *, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes
) -> tuple[str, list[str]]:
    """The canonical request text and the signed header names."""
    names = signed_header_names(headers)
    text = "\n".join(
        (
            method.upper(),
            canonical_uri(path),
            query_string,
            canonical_headers(headers, names),
            ";".join(names),
            payload_hash(body, headers),
        )
    )
    return text, names


def string_to_sign(canonical: str, sdk_date: str) -> str:
    """`SDK-HMAC-SHA256\\n{X-Sdk-Date}\\nhex(sha256(canonical request))`."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def _get_ignore_case(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _set_unless_present(headers: dict[str, str], name: str, value: str) -> None:
    if _get_ignore_case(headers, name) is None:
        headers[name] = value


def sign(
    *,
    method: str,
    host: str,
    path: str,
    query: Iterable[tuple[str, QueryValue]] = (),
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    access_key: str,
    secret_key: str,
    now: datetime,
    project_id: str | None = None,
    security_token: str | None = None,
) -> SignedRequest:
    """Sign one request.

    `host` is the `Host` header value the HTTP client will send (`name` or `name:port`); `path` is the path as sent,
    already percent-encoded, without a query. An `X-Sdk-Date` already present in `headers` is kept (as the SDK does),
    otherwise `now` gives it. Returns every header to send, `Authorization` included, and the query string to send.
    """
    out: dict[str, str] = dict(headers or {})
    content_type = _get_ignore_case(out, "Content-Type")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        out[HEADER_CONTENT_SHA256] = UNSIGNED_PAYLOAD
    _set_unless_present(out, HEADER_SDK_DATE, format_sdk_date(now))
    _set_unless_present(out, "Host", host)
    if project_id:
        out[HEADER_PROJECT_ID] = project_id
    if security_token:
        out[HEADER_SECURITY_TOKEN] = security_token
    out = {name: str(value).strip() for name, value in out.items()}

    query_string = canonical_query(query)
    canonical, names = canonical_request(method=method, path=path, query_string=query_string, headers=out, body=body)
    sdk_date = _get_ignore_case(out, HEADER_SDK_DATE) or ""
    signature = hmac.new(
        secret_key.encode("utf-8"), string_to_sign(canonical, sdk_date).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    out["Authorization"] = f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, Signature={signature}"
    return SignedRequest(headers=out, query_string=query_string)
