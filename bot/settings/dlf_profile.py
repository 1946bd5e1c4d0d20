"""One DLF profile's settings (`DlfProfile`) and what is missing or wrong in them, named as the user wrote them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from bot.dlf.endpoints import dlf_endpoint, iam_endpoint
from bot.errors import ConfigError


class DlfProfile(BaseModel):
    """One DLF project to talk to, and how to authenticate there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    region: str | None = None
    endpoint: str | None = None
    iam_endpoint: str | None = None
    project_id: str | None = None
    workspace: str | None = None
    ak: SecretStr | None = None
    sk: SecretStr | None = None
    security_token: SecretStr | None = None
    iam_username: str | None = None
    iam_password: SecretStr | None = None
    iam_domain: str | None = None
    auth_token: SecretStr | None = None

    @property
    def auth_kind(self) -> Literal["aksk", "iam", "token", "none"]:
        """Which way of authenticating this profile is set up for (`problems()` says whether it is complete)."""
        if self.ak or self.sk:
            return "aksk"
        if self.iam_username or self.iam_password or self.iam_domain:
            return "iam"
        if self.auth_token:
            return "token"
        return "none"

    def problems(self, names: Mapping[str, str]) -> list[str]:
        """What is missing or wrong; `names` maps field names to what the user calls them (env names or YAML keys)."""
        found: list[str] = []
        if not self.project_id:
            found.append(f"{names['project_id']} is not set (the DLF project id)")
        try:
            dlf_endpoint(region=self.region, override=self.endpoint)
        except ConfigError as exc:
            found.append(_renamed(str(exc), names))
        found.extend(self._credential_problems(names))
        return found

    def _credential_problems(self, names: Mapping[str, str]) -> list[str]:
        ways = {
            "aksk": bool(self.ak or self.sk),
            "iam": bool(self.iam_username or self.iam_password or self.iam_domain),
            "token": bool(self.auth_token),
        }
        if sum(ways.values()) > 1:
            chosen = ", ".join(kind for kind, used in ways.items() if used)
            return [
                (
                    f"DLF credentials of several kinds are set ({chosen}): set only one of {names['ak']}+{names['sk']},"
                    f" {names['iam_username']}+{names['iam_password']}+{names['iam_domain']}, or {names['auth_token']}"
                )
            ]
        kind = self.auth_kind
        if kind == "none":
            return [
                (
                    f"no DLF credentials: set {names['ak']} and {names['sk']}, or {names['iam_username']},"
                    f" {names['iam_password']} and {names['iam_domain']}, or {names['auth_token']}"
                )
            ]
        if kind == "aksk":
            missing = [names[key] for key in ("ak", "sk") if not getattr(self, key)]
            return [f"{' and '.join(missing)} not set (AK and SK go together)"] if missing else []
        if kind == "iam":
            found = [
                f"{names[key]} not set (IAM password login needs user, password and domain)"
                for key in ("iam_username", "iam_password", "iam_domain")
                if not getattr(self, key)
            ]
            try:
                iam_endpoint(region=self.region, override=self.iam_endpoint)
            except ConfigError as exc:
                found.append(_renamed(str(exc), names))
            return found
        if self.security_token:
            return [f"{names['security_token']} is set without {names['ak']} and {names['sk']}"]
        return []


# The environment names of the default profile's fields.
ENV_PROFILE_NAMES: dict[str, str] = {
    "region": "DLF_REGION",
    "endpoint": "DLF_ENDPOINT",
    "iam_endpoint": "DLF_IAM_ENDPOINT",
    "project_id": "HUAWEICLOUD_SDK_PROJECT_ID",
    "workspace": "DLF_WORKSPACE",
    "ak": "HUAWEICLOUD_SDK_AK",
    "sk": "HUAWEICLOUD_SDK_SK",
    "security_token": "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "iam_username": "DLF_IAM_USERNAME",
    "iam_password": "DLF_IAM_PASSWORD",
    "iam_domain": "DLF_IAM_DOMAIN",
    "auth_token": "DLF_AUTH_TOKEN",
}


def _renamed(message: str, names: Mapping[str, str]) -> str:
    """The endpoint helpers speak env names; a YAML profile's problems must speak its keys."""
    for field, env in ENV_PROFILE_NAMES.items():
        message = message.replace(env, names[field])
    return message


__all__ = ["ENV_PROFILE_NAMES", "DlfProfile"]
