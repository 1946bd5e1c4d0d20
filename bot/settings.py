"""Configuration: environment variables (and a `.env` file), plus an optional YAML file adding named DLF profiles.

Only the entry point (`bot.cli`) builds settings (`load_settings`); nothing reads them at import time. Start-up fails with ONE
`ConfigError` naming every missing or malformed setting; messages name settings, never their values, and every
secret is a `SecretStr`.

The YAML file (`DLF_BOT_CONFIG=path`) adds profiles beside the one the environment describes ("default"):

    profiles:
      prod-eu:
        region: eu-west-101            # or endpoint: https://dayu-dlf.example.com
        endpoint: https://dayu-dlf.eu-west-101.myhuaweicloud.eu
        project_id: 0123456789abcdef
        workspace: a1b2c3               # optional
        ak: ...                         # and sk (+ security_token); or iam_username/iam_password/iam_domain;
        sk: ...                         # or auth_token
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.dlf.endpoints import dlf_endpoint, iam_endpoint
from bot.errors import ConfigError
from bot.profiles import DEFAULT_PROFILE
from bot.store.url import DEFAULT_DATABASE_URL, parse_database_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Needs:
    """What a CLI subcommand needs configured; `load_settings` reports whatever it lacks."""

    dlf: bool = False
    slack: bool = False


RUN = Needs(dlf=True, slack=True)
DLF_ONLY = Needs(dlf=True)
NOTHING = Needs()


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


class Settings(BaseSettings):
    """Every setting of the bot. Field names are the environment names, lower-cased."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL

    dlf_region: str | None = None
    dlf_endpoint: str | None = None
    dlf_iam_endpoint: str | None = None
    huaweicloud_sdk_project_id: str | None = None
    dlf_workspace: str | None = None
    huaweicloud_sdk_ak: SecretStr | None = None
    huaweicloud_sdk_sk: SecretStr | None = None
    huaweicloud_sdk_security_token: SecretStr | None = None
    dlf_iam_username: str | None = None
    dlf_iam_password: SecretStr | None = None
    dlf_iam_domain: str | None = None
    dlf_auth_token: SecretStr | None = None

    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    dlf_poll_interval: float = Field(default=60.0, ge=1, le=3600)
    # After a crash, how long a replica's poll lease and its claimed outbox rows wait before another process (or the
    # restarted one) takes them over. Default lease: two poll intervals plus 30 s.
    dlf_watcher_lease_ttl: float | None = Field(default=None, ge=1, le=86400)
    dlf_outbox_claim_ttl: float = Field(default=120.0, ge=1, le=3600)
    # A replica's heartbeat lease: once it lapses (the process died), its poll lease and claimed outbox rows are taken
    # over at once; the two TTLs above only bound a replica that is alive but stuck. Also sets the deliverer's Slack
    # timeout (a third of it) and fence (it sends nothing once its last renewal is older than 40 % of it).
    dlf_heartbeat_ttl: float = Field(default=15.0, ge=3, le=600)
    dlf_lookback_hours: int = Field(default=24, ge=1, le=168)
    # How long finished outbox rows, resolved incidents, seen instances and audit entries are kept (pruned by the
    # poll lease holder in small batches). Longer than the lookback, so a failure DLF still lists is still known.
    dlf_retention_days: int = Field(default=30, ge=1, le=3650)
    dlf_rate_limit: float = Field(default=20.0, gt=0, le=1000)
    dlf_timeout: float = Field(default=10.0, gt=0, le=300)
    alert_digest_threshold: int = Field(default=5, ge=1, le=1000)
    log_level: str = "INFO"
    port: int = Field(default=3000, ge=0, le=65535)
    dlf_bot_config: Path | None = None

    profiles: dict[str, DlfProfile] = Field(default_factory=dict, description="from the YAML file, by name")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `load_settings` merges the environment and the .env file itself, so a caller (a test, the CLI) says
        # exactly which environment counts; reading os.environ behind its back would make that impossible.
        return (init_settings,)

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL, e.g. https://slack.com/api/")
        # slack_sdk joins method names onto the base URL: it must end with a slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr) -> SecretStr:
        try:
            parse_database_url(value.get_secret_value())
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("DATABASE_URL").lstrip(": ")) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is given; HTTP mode otherwise."""
        return self.slack_app_token is not None

    def default_profile(self) -> DlfProfile:
        """The DLF profile the environment describes."""
        return DlfProfile(
            name=DEFAULT_PROFILE,
            **{field: getattr(self, _env_field(env)) for field, env in ENV_PROFILE_NAMES.items()},
        )

    def dlf_profiles(self) -> dict[str, DlfProfile]:
        """Every DLF profile: "default" (when the environment sets any of it, or no file adds others) + the file's."""
        default = self.default_profile()
        described = any(getattr(default, field) for field in ENV_PROFILE_NAMES)
        found = {DEFAULT_PROFILE: default} if described or not self.profiles else {}
        found.update(self.profiles)
        return found

    def problems(self, needs: Needs) -> list[str]:
        """Everything missing for `needs` (cross-field rules the field validators cannot see)."""
        found: list[str] = []
        if self.dlf_retention_days * 24 <= self.dlf_lookback_hours:
            found.append(
                f"DLF_RETENTION_DAYS ({self.dlf_retention_days} d) must be longer than DLF_LOOKBACK_HOURS"
                f" ({self.dlf_lookback_hours} h): a failure DLF still lists would be forgotten and alerted again"
            )
        if needs.dlf:
            for name, profile in self.dlf_profiles().items():
                if name == DEFAULT_PROFILE and name not in self.profiles:
                    found.extend(profile.problems(ENV_PROFILE_NAMES))
                else:
                    keys = {field: field for field in ENV_PROFILE_NAMES}
                    where = f"profile {name!r} in {self.dlf_bot_config}"
                    found.extend(f"{where}: {problem}" for problem in profile.problems(keys))
        if needs.slack:
            if self.slack_bot_token is None:
                found.append("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")
            if not self.socket_mode and self.slack_signing_secret is None:
                found.append(
                    "SLACK_SIGNING_SECRET is not set: HTTP mode verifies Slack's request signatures"
                    " (or set SLACK_APP_TOKEN, xapp-…, for Socket Mode)"
                )
        return found

    def secret_values(self) -> list[str]:
        """Every secret's plain value, for the log filter that redacts them should one ever reach a log line."""
        values: list[SecretStr | None] = [self.slack_bot_token, self.slack_app_token, self.slack_signing_secret]
        for profile in self.dlf_profiles().values():
            values += [profile.ak, profile.sk, profile.security_token, profile.iam_password, profile.auth_token]
        plain = {value.get_secret_value() for value in values if value is not None}
        database = parse_database_url(self.database_url.get_secret_value()).password
        if database:
            plain.add(database)
        return sorted((value for value in plain if len(value) >= 4), key=len, reverse=True)


def _env_field(env: str) -> str:
    return env.lower()


_ENV_NAMES = {name.upper() for name in Settings.model_fields if name != "profiles"}


def load_settings(
    environ: Mapping[str, str],
    *,
    env_file: Path | None = Path(".env"),
    needs: Needs = NOTHING,
) -> Settings:
    """Settings from `environ` over the `.env` file (when it exists) and the YAML profiles file.

    Raises one `ConfigError` listing every missing or malformed setting for `needs`; values are never quoted.
    """
    raw: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        raw.update({key.upper(): value for key, value in dotenv_values(env_file).items() if value is not None})
    raw.update({key.upper(): value for key, value in environ.items()})
    values: dict[str, Any] = {key.lower(): value for key, value in raw.items() if key in _ENV_NAMES and value.strip()}

    problems: list[str] = []
    if values.get("dlf_bot_config"):
        profiles, file_problems = _read_profiles(Path(values["dlf_bot_config"]))
        values["profiles"] = profiles
        problems.extend(file_problems)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()] + problems
        # Leave the malformed ones out and look again, so the one message also names what is missing.
        malformed = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        try:
            settings = Settings(**{key: value for key, value in values.items() if key not in malformed})
        except ValidationError:
            raise ConfigError(_summary(problems)) from None
    problems.extend(problem for problem in settings.problems(needs) if problem not in problems)
    if problems:
        raise ConfigError(_summary(problems))
    return settings


def _read_profiles(path: Path) -> tuple[dict[str, DlfProfile], list[str]]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return {}, [f"DLF_BOT_CONFIG: cannot read {path}: {exc.strerror}"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return {}, [f"DLF_BOT_CONFIG: {path} is not valid YAML{where}"]
    if document is None:
        return {}, []
    if not isinstance(document, dict) or set(document) - {"profiles"}:
        return {}, [f"DLF_BOT_CONFIG: {path} must hold one mapping, `profiles:`, of profile name -> settings"]
    entries = document.get("profiles") or {}
    if not isinstance(entries, dict):
        return {}, [f"DLF_BOT_CONFIG: `profiles` in {path} must map profile names to settings"]
    profiles: dict[str, DlfProfile] = {}
    problems: list[str] = []
    for name, body in entries.items():
        if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
            problems.append(f"DLF_BOT_CONFIG: profile name {str(name)[:40]!r} in {path}: use 1–64 letters, digits, - or _")
            continue
        if not isinstance(body, dict):
            problems.append(f"profile {name!r} in {path}: must be a mapping of settings")
            continue
        try:
            profiles[name] = DlfProfile(name=name, **{str(key): _scalar(value) for key, value in body.items()})
        except ValidationError as exc:
            problems.extend(f"profile {name!r} in {path}: {_describe(error)}" for error in exc.errors())
    return profiles, problems


def _scalar(value: Any) -> Any:
    # YAML reads an all-digit project id or AK as an int: they are text.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _describe(error: Any) -> str:
    """One pydantic error as "NAME: what is wrong" — from its location and message only, never its input."""
    location = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{location}: not a known setting"
    name = location.upper() if location in Settings.model_fields else location
    return f"{name}: {str(error['msg']).removeprefix('Value error, ')}"


def _summary(problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"dlf-bot cannot start; fix these settings:\n{lines}"


__all__ = ["DLF_ONLY", "NOTHING", "RUN", "DlfProfile", "Needs", "Settings", "load_settings"]
