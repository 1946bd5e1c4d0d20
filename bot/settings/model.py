"""`Settings`: every setting of the bot, validated field by field, and what a subcommand lacks (`Needs`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError
from bot.profiles import DEFAULT_PROFILE
from bot.settings.dlf_profile import ENV_PROFILE_NAMES, DlfProfile
from bot.settings.operators import OperatorConfig, operator_ids
from bot.store.url import DEFAULT_DATABASE_URL, parse_database_url

DEFAULT_ESCALATE_AFTER_S = 15 * 60
ESCALATE_AFTER_MAX_S = 7 * 24 * 3600
_OFF_WORDS = frozenset({"off", "none", "never", "no", "false"})
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def escalate_after_s(value: object) -> int | None:
    """DLF_ESCALATE_AFTER as seconds: `900` (seconds), `15m`, `1h30m`, `2d`; `off` (None: no reminders)."""
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        text = str(value).strip().lower()
        if text in _OFF_WORDS:
            return None
        if text.isdigit():
            seconds = int(text)
        else:
            match = _DURATION.fullmatch(text)
            if not text or match is None:
                raise ValueError("must be a duration such as 15m, 1h or 900 (seconds), or off")
            days, hours, minutes, secs = (int(part or 0) for part in match.groups())
            seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    if seconds is not None and not 60 <= seconds <= ESCALATE_AFTER_MAX_S:
        raise ValueError("must be from 1 minute to 7 days (or off)")
    return seconds


DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# The prefixes Slack gives each kind of token (`xoxe.` marks a rotating token of the same kind). A token of the
# wrong kind (a user token `xoxp-` as the bot token, the bot token as the app token) or a pasted placeholder is
# caught at start-up, named without its value, instead of failing as `invalid_auth` on the first message.
TOKEN_PREFIXES = {
    "slack_bot_token": (("xoxb-", "xoxe.xoxb-"), "the Bot User OAuth Token (OAuth & Permissions)"),
    "slack_app_token": (("xapp-",), "an app-level token (Basic Information → App-Level Tokens)"),
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Needs:
    """What a CLI subcommand needs configured; `load_settings` reports whatever it lacks."""

    dlf: bool = False
    slack: bool = False


RUN = Needs(dlf=True, slack=True)
DLF_ONLY = Needs(dlf=True)
NOTHING = Needs()


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
    # Seconds after an incident opens that it gets one reminder if nobody acknowledged it; None ("off"): never.
    # Written as `900`, `15m`, `1h30m` or `off`. A subscription's `--escalate` overrides it.
    dlf_escalate_after: int | None = DEFAULT_ESCALATE_AFTER_S
    log_level: str = "INFO"
    port: int = Field(default=3000, ge=0, le=65535)
    dlf_bot_config: Path | None = None

    # Who may rerun and stop (Slack user ids U…/W…, user-group ids S…), comma-separated, in every channel.
    dlf_bot_operators: tuple[str, ...] = ()

    profiles: dict[str, DlfProfile] = Field(default_factory=dict, description="from the YAML file, by name")
    # From the YAML file: `operators:` (every channel) and `channels: {C…: {operators: [...]}}` (added there).
    file_operators: tuple[str, ...] = ()
    channel_operators: dict[str, tuple[str, ...]] = Field(default_factory=dict)

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

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _slack_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        prefixes, kind = TOKEN_PREFIXES[str(info.field_name)]
        token = value.get_secret_value().strip()
        # Never quote the value: only its shape is described.
        if not token.startswith(prefixes) or len(token) <= len(prefixes[0]) or any(c.isspace() for c in token):
            raise ValueError(f"is malformed: {kind} starts with {prefixes[0]} (the value is not shown)")
        return SecretStr(token)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr) -> SecretStr:
        try:
            parse_database_url(value.get_secret_value())
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("DATABASE_URL").lstrip(": ")) from None
        return value

    @field_validator("dlf_escalate_after", mode="before")
    @classmethod
    def _escalate_after(cls, value: object) -> object:
        return escalate_after_s(value)

    @field_validator("dlf_bot_operators", mode="before")
    @classmethod
    def _operators(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids, problems = operator_ids(value, where="")
        if problems:
            raise ValueError("; ".join(problems) + " (write ids comma-separated, e.g. U0123ABCD,S0456EFGH)")
        return ids

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

    def operator_config(self) -> OperatorConfig:
        """Who may rerun and stop: `DLF_BOT_OPERATORS` and the file's `operators:` everywhere, plus each channel's."""
        everywhere = tuple(dict.fromkeys((*self.dlf_bot_operators, *self.file_operators)))
        return OperatorConfig(everywhere=everywhere, per_channel=dict(self.channel_operators))

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


__all__ = ["DEFAULT_SLACK_API_URL", "DLF_ONLY", "LOG_LEVELS", "NOTHING", "RUN", "TOKEN_PREFIXES", "Needs", "Settings"]
