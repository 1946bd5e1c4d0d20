"""Settings: environment + .env + YAML profiles, one start-up error naming everything, never a secret value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import DLF_ONLY, NOTHING, RUN, load_settings

DLF_ENV = {
    "DLF_REGION": "cn-north-4",
    "HUAWEICLOUD_SDK_PROJECT_ID": "b384b9e9ab9b4ee8994c8633aabc9505",
    "HUAWEICLOUD_SDK_AK": "AK-PUBLIC-ID",
    "HUAWEICLOUD_SDK_SK": "sk-very-secret-value",
}
SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-secret-token", "SLACK_SIGNING_SECRET": "signing-secret-value"}


def test_defaults() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.dlf_lookback_hours == 24
    assert settings.dlf_rate_limit == 20
    assert settings.alert_digest_threshold == 5
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url.get_secret_value().startswith("sqlite:///")
    assert settings.log_level == "INFO"
    assert not settings.socket_mode


def test_a_complete_run_configuration_loads() -> None:
    settings = load_settings(
        {**DLF_ENV, **SLACK_ENV, "SLACK_API_URL": "http://127.0.0.1:9/api"}, env_file=None, needs=RUN
    )
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"  # the SDK needs the trailing slash
    profile = settings.dlf_profiles()["default"]
    assert profile.auth_kind == "aksk"
    assert profile.sk is not None and profile.sk.get_secret_value() == "sk-very-secret-value"


def test_one_error_names_every_problem_and_no_value() -> None:
    env = {
        "HUAWEICLOUD_SDK_AK": "AK-PUBLIC-ID",  # SK missing
        "DLF_LOOKBACK_HOURS": "500",
        "DLF_RATE_LIMIT": "fast",
        "DATABASE_URL": "mysql://user:db-password-xyz@db/bot",
        "SLACK_APP_TOKEN": "",  # empty counts as unset
        "DLF_POLL_INTERVAL": "0",  # below its minimum
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None, needs=RUN)
    message = str(caught.value)
    for name in (
        "DLF_LOOKBACK_HOURS",
        "DLF_RATE_LIMIT",
        "DATABASE_URL",
        "DLF_POLL_INTERVAL",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "DLF_REGION",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ):
        assert name in message
    assert "db-password-xyz" not in message
    assert message.count("\n  - ") >= 9


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "no DLF credentials"),
        ({"HUAWEICLOUD_SDK_SK": "s"}, "HUAWEICLOUD_SDK_AK not set"),
        ({"DLF_IAM_USERNAME": "u", "DLF_IAM_DOMAIN": "d"}, "DLF_IAM_PASSWORD not set"),
        ({"DLF_AUTH_TOKEN": "t", "HUAWEICLOUD_SDK_AK": "a", "HUAWEICLOUD_SDK_SK": "s"}, "several kinds"),
        ({"DLF_AUTH_TOKEN": "t", "HUAWEICLOUD_SDK_SECURITY_TOKEN": "st"}, "SECURITY_TOKEN is set without"),
    ],
)
def test_dlf_credentials_must_be_one_complete_kind(env: dict[str, str], expected: str) -> None:
    base = {"DLF_REGION": "cn-north-4", "HUAWEICLOUD_SDK_PROJECT_ID": "p"}
    with pytest.raises(ConfigError, match=expected):
        load_settings({**base, **env}, env_file=None, needs=DLF_ONLY)


@pytest.mark.parametrize(
    "creds",
    [
        {"DLF_AUTH_TOKEN": "token-value"},
        {"DLF_IAM_USERNAME": "u", "DLF_IAM_PASSWORD": "p", "DLF_IAM_DOMAIN": "d"},
        {"HUAWEICLOUD_SDK_AK": "a", "HUAWEICLOUD_SDK_SK": "s", "HUAWEICLOUD_SDK_SECURITY_TOKEN": "t"},
    ],
)
def test_each_credential_kind_is_accepted(creds: dict[str, str]) -> None:
    env = {
        "DLF_ENDPOINT": "http://127.0.0.1:1",
        "DLF_IAM_ENDPOINT": "http://127.0.0.1:2",
        "HUAWEICLOUD_SDK_PROJECT_ID": "p",
        **creds,
    }
    assert load_settings(env, env_file=None, needs=DLF_ONLY).dlf_profiles()["default"].auth_kind != "none"


def test_socket_mode_needs_no_signing_secret() -> None:
    env = {**DLF_ENV, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    assert load_settings(env, env_file=None, needs=RUN).socket_mode


def test_environment_wins_over_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DLF_POLL_INTERVAL=30\nPORT=8080\n# comment\nLOG_LEVEL=debug\n")
    settings = load_settings({"PORT": "9090"}, env_file=env_file)
    assert (settings.dlf_poll_interval, settings.port, settings.log_level) == (30, 9090, "DEBUG")


def test_yaml_profiles_are_added_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text(
        "profiles:\n"
        "  prod-eu:\n"
        "    endpoint: http://127.0.0.1:1\n"
        "    project_id: 123456\n"  # YAML reads digits as an int: still a project id
        "    ak: AK2\n"
        "    sk: yaml-secret-sk\n"
        "  broken:\n"
        "    region: cn-north-4\n"
        "    sk: only-sk\n"
        "    colour: blue\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({**DLF_ENV, "DLF_BOT_CONFIG": str(config)}, env_file=None, needs=DLF_ONLY)
    message = str(caught.value)
    assert "profile 'broken'" in message and "colour: not a known setting" in message
    assert "only-sk" not in message

    config.write_text(config.read_text().split("  broken:")[0])
    settings = load_settings({**DLF_ENV, "DLF_BOT_CONFIG": str(config)}, env_file=None, needs=DLF_ONLY)
    profiles = settings.dlf_profiles()
    assert sorted(profiles) == ["default", "prod-eu"]
    assert profiles["prod-eu"].project_id == "123456"
    assert "yaml-secret-sk" in settings.secret_values()


def test_yaml_profile_problems_use_its_keys(tmp_path: Path) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text("profiles:\n  staging:\n    ak: A\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_BOT_CONFIG": str(config)}, env_file=None, needs=DLF_ONLY)
    message = str(caught.value)
    assert "profile 'staging'" in message and "project_id is not set" in message and "sk not set" in message
    assert "HUAWEICLOUD_SDK" not in message  # a file's profile is described in the file's words


@pytest.mark.parametrize("content", ["profiles: [1, 2]\n", "other: 1\n", "profiles:\n  x: {\n"])
def test_malformed_yaml_is_a_clear_error(tmp_path: Path, content: str) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text(content)
    with pytest.raises(ConfigError, match="DLF_BOT_CONFIG"):
        load_settings({"DLF_BOT_CONFIG": str(config)}, env_file=None)


def test_missing_yaml_file() -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings({"DLF_BOT_CONFIG": "/nonexistent/dlf-bot.yml"}, env_file=None, needs=NOTHING)


@pytest.mark.parametrize("url", ["sqlite:///./x.sqlite3", "postgres://u:p@h/db", "postgresql://u@h:5432/db"])
def test_database_urls_as_users_write_them(url: str) -> None:
    assert load_settings({"DATABASE_URL": url}, env_file=None).database_url.get_secret_value() == url


def test_reprs_hide_secrets() -> None:
    settings = load_settings({**DLF_ENV, **SLACK_ENV}, env_file=None, needs=RUN)
    shown = repr(settings) + repr(settings.dlf_profiles()) + str(settings.model_dump())
    for secret in ("sk-very-secret-value", "xoxb-secret-token", "signing-secret-value"):
        assert secret not in shown
        assert secret in settings.secret_values()


def test_crash_takeover_times() -> None:
    defaults = load_settings({}, env_file=None)
    assert defaults.dlf_watcher_lease_ttl is None and defaults.dlf_outbox_claim_ttl == 120
    tuned = load_settings({"DLF_WATCHER_LEASE_TTL": "5", "DLF_OUTBOX_CLAIM_TTL": "10"}, env_file=None)
    assert tuned.dlf_watcher_lease_ttl == 5 and tuned.dlf_outbox_claim_ttl == 10
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_WATCHER_LEASE_TTL": "0", "DLF_OUTBOX_CLAIM_TTL": "soon"}, env_file=None)
    assert "DLF_WATCHER_LEASE_TTL" in str(caught.value) and "DLF_OUTBOX_CLAIM_TTL" in str(caught.value)


def test_retention_must_outlast_the_lookback() -> None:
    assert load_settings({}, env_file=None).dlf_retention_days == 30
    assert load_settings({"DLF_RETENTION_DAYS": "2", "DLF_LOOKBACK_HOURS": "47"}, env_file=None).dlf_retention_days == 2
    # A failure DLF still lists must still be known when its rows go, or it would be alerted again.
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_RETENTION_DAYS": "2", "DLF_LOOKBACK_HOURS": "48"}, env_file=None)
    assert "DLF_RETENTION_DAYS (2 d) must be longer than DLF_LOOKBACK_HOURS (48 h)" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_RETENTION_DAYS": "0"}, env_file=None)
    assert "DLF_RETENTION_DAYS" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "notatoken"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-a-user-token"}, "SLACK_BOT_TOKEN"),  # a user token where the bot's belongs
        ({"SLACK_BOT_TOKEN": "xoxb-"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-the-bot-token-again"}, "SLACK_APP_TOKEN"),
    ],
)
def test_a_malformed_slack_token_is_named_without_its_value(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**DLF_ENV, "SLACK_SIGNING_SECRET": "s", **env}, env_file=None, needs=RUN)
    message = str(caught.value)
    (line,) = [line for line in message.splitlines() if named in line]
    assert "malformed" in line and "the value is not shown" in line
    assert f"{named} is not set" not in message  # malformed, not missing
    for value in env.values():
        if value not in ("xoxb-1", "xoxb-"):  # the well-formed one, and the bare prefix the message names
            assert value not in message


@pytest.mark.parametrize(
    "env",
    [
        {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "s"},  # what the tests and the fake use
        {"SLACK_BOT_TOKEN": "xoxe.xoxb-1-rotating", "SLACK_APP_TOKEN": "xapp-1-A1-x"},  # a rotating bot token
    ],
)
def test_well_formed_slack_tokens_load(env: dict[str, str]) -> None:
    assert load_settings({**DLF_ENV, **env}, env_file=None, needs=RUN).slack_bot_token is not None
