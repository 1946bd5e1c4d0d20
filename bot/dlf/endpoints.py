"""Where DLF and IAM live: region → endpoint, with explicit overrides for other clouds and new regions."""

from __future__ import annotations

import httpx

from bot.errors import ConfigError

# The regions huaweicloudsdkdlf lists for DLF (DlfRegion); anything else needs an endpoint override.
DLF_REGIONS: tuple[str, ...] = (
    "cn-north-1",
    "cn-north-4",
    "cn-east-3",
    "cn-east-2",
    "cn-south-1",
    "ap-southeast-3",
    "ap-southeast-1",
    "ru-northwest-2",
    "cn-north-11",
)


def _checked_override(url: str, *, setting: str) -> str:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigError(f"{setting} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{setting} must be an http(s) URL with a host, e.g. https://dayu-dlf.example.com")
    if parsed.query or parsed.fragment:
        raise ConfigError(f"{setting} must not carry a query or fragment")
    return str(parsed).rstrip("/")


def _known_region(region: str | None, *, override_setting: str) -> str:
    name = (region or "").strip()
    if not name:
        raise ConfigError(f"set DLF_REGION (one of {', '.join(DLF_REGIONS)}) or {override_setting}")
    if name not in DLF_REGIONS:
        raise ConfigError(
            f"DLF_REGION {name!r} is not a region the DLF SDK knows ({', '.join(DLF_REGIONS)}); "
            f"set {override_setting} to its endpoint"
        )
    return name


def dlf_endpoint(*, region: str | None, override: str | None = None) -> str:
    """`https://dayu-dlf.{region}.myhuaweicloud.com`, or the `DLF_ENDPOINT` override (without a trailing `/`)."""
    if override:
        return _checked_override(override, setting="DLF_ENDPOINT")
    return f"https://dayu-dlf.{_known_region(region, override_setting='DLF_ENDPOINT')}.myhuaweicloud.com"


def iam_endpoint(*, region: str | None, override: str | None = None) -> str:
    """`https://iam.{region}.myhuaweicloud.com`, or the `DLF_IAM_ENDPOINT` override (without a trailing `/`)."""
    if override:
        return _checked_override(override, setting="DLF_IAM_ENDPOINT")
    return f"https://iam.{_known_region(region, override_setting='DLF_IAM_ENDPOINT')}.myhuaweicloud.com"
