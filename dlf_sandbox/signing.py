"""Verification of `SDK-HMAC-SHA256` signatures, recomputed the way API Gateway does it (pure functions).

The canonical request follows Huawei's signing guide and the reference signer in `huaweicloudsdkcore`:

    METHOD \\n CANONICAL_URI \\n CANONICAL_QUERY \\n CANONICAL_HEADERS \\n SIGNED_HEADERS \\n hex(sha256(body))

- CANONICAL_URI: the path as sent, percent-decoded, split on `/`, each segment encoded with `quote(s, safe="~")`,
  joined, with a trailing `/` added for signing only.
- CANONICAL_QUERY: the query pairs as sent, decoded, sorted, each part encoded with `quote(s, safe="~")`.
- CANONICAL_HEADERS: the headers the client listed in `SignedHeaders`, `name:value` (value stripped), one a line.
- String to sign: `SDK-HMAC-SHA256 \\n X-Sdk-Date \\n hex(sha256(canonical request))`.

Nothing here is imported from the SDK: the sandbox checks a client independently of the code it is compared with.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
CONTENT_SHA256_HEADER = "x-sdk-content-sha256"
MAX_CLOCK_SKEW_MS = 15 * 60 * 1000


class SignatureRejected(Exception):
    """The request's signature cannot be accepted; `str()` is the reason API Gateway would give."""


@dataclass(frozen=True)
class Authorization:
    """The parts of an `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization:
    """Split an Authorization header into its parts, or raise SignatureRejected."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureRejected(f"unsupported signing algorithm {algorithm[:32]!r}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key.strip()] = val.strip()
    missing = [k for k in ("Access", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise SignatureRejected(f"authorization header lacks {', '.join(missing)}")
    return Authorization(
        access_key=parts["Access"],
        signed_headers=tuple(parts["SignedHeaders"].split(";")),
        signature=parts["Signature"],
    )


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(raw_path: str) -> str:
    """The path as signed: decoded, each segment re-encoded, with a trailing slash."""
    uri = "/".join(_encode(segment) for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into (key, value) pairs as sent (no `+`-as-space: clients encode spaces as %20)."""
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def canonical_query(raw_query: str) -> str:
    """The query as signed: pairs sorted, each part encoded with `quote(x, safe="~")`, joined with `&`."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query_pairs(raw_query)))


def body_hash(body: bytes, headers: Mapping[str, str]) -> str:
    """hex(sha256(body)); an explicit `X-Sdk-Content-Sha256` (e.g. UNSIGNED-PAYLOAD) wins for non-empty bodies."""
    if not body:
        return EMPTY_BODY_SHA256
    declared = headers.get(CONTENT_SHA256_HEADER)
    return declared if declared else hashlib.sha256(body).hexdigest()


def canonical_request(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    body: bytes,
) -> str:
    """The canonical request string; `headers` keys must be lower-case. Raises if a signed header is absent."""
    lines = []
    for name in signed_headers:
        if name not in headers:
            raise SignatureRejected(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}:{headers[name].strip()}")
    return "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(raw_query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            body_hash(body, headers),
        ]
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    """`SDK-HMAC-SHA256\\n{X-Sdk-Date}\\nhex(sha256(canonical request))`."""
    return f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(secret_key: str, to_sign: str) -> str:
    """hex(hmac_sha256(SK, string to sign))."""
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_sdk_date(value: str) -> int:
    """`X-Sdk-Date` (UTC, `%Y%m%dT%H%M%SZ`) as epoch milliseconds, or raise SignatureRejected."""
    try:
        parsed = datetime.strptime(value.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRejected("x-sdk-date is not in the format YYYYMMDDTHHMMSSZ") from None
    return int(parsed.timestamp() * 1000)


def verify(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Mapping[str, str],
    now_ms: int,
) -> Authorization:
    """Check a signed request the way API Gateway does; return its Authorization or raise SignatureRejected.

    `headers` keys must be lower-case; `secret_for` maps access keys to secret keys.
    """
    auth_value = headers.get("authorization")
    if not auth_value:
        raise SignatureRejected("no authentication information")
    auth = parse_authorization(auth_value)
    secret = secret_for.get(auth.access_key)
    if secret is None:
        raise SignatureRejected(f"Get secretKey failed,ak:{auth.access_key[:4]}******,err:ak not exist")
    if "host" not in auth.signed_headers:
        raise SignatureRejected("host is not among the signed headers")
    sdk_date = headers.get("x-sdk-date")
    if not sdk_date:
        raise SignatureRejected("x-sdk-date is missing")
    if abs(now_ms - parse_sdk_date(sdk_date)) > MAX_CLOCK_SKEW_MS:
        raise SignatureRejected("x-sdk-date expired (more than 15 minutes from the gateway's clock)")
    canonical = canonical_request(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        signed_headers=auth.signed_headers,
        body=body,
    )
    expected = signature(secret, string_to_sign(canonical, sdk_date.strip()))
    if not hmac.compare_digest(expected, auth.signature):
        raise SignatureRejected("verify aksk signature fail")
    return auth
