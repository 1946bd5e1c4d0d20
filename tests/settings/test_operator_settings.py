"""Operators in the settings: `DLF_BOT_OPERATORS` and the config file's `operators:` / `channels:`, checked at
start-up with every malformed entry named and how to write it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from bot.settings.operators import OperatorConfig


def test_no_operators_by_default() -> None:
    config = load_settings({}, env_file=None).operator_config()
    assert config == OperatorConfig() and not config.configured


def test_the_environment_names_users_and_groups_comma_separated() -> None:
    settings = load_settings({"DLF_BOT_OPERATORS": " U0ALICE, S0ONCALL,,W0GRID ,U0ALICE"}, env_file=None)
    assert settings.operator_config().everywhere == ("U0ALICE", "S0ONCALL", "W0GRID")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("@alice", "is a handle or mention, not an id"),
        ("<@U0ALICE>", "is a handle or mention, not an id"),
        ("u0alice", "must be written in capitals"),
        ("C0DATA", "is a channel id"),
        ("alice", "is not a Slack user id (U…/W…) or user-group id (S…)"),
    ],
)
def test_a_malformed_entry_is_named_with_how_to_write_it(entry: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_BOT_OPERATORS": f"U0ALICE,{entry}"}, env_file=None)
    message = str(caught.value)
    assert f"DLF_BOT_OPERATORS: entry 2, `{entry}`, {says}" in message
    assert "U0123ABCD,S0456EFGH" in message  # how to write them


def test_every_malformed_entry_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_BOT_OPERATORS": "@alice,U0BOB,bob", "DLF_RATE_LIMIT": "fast"}, env_file=None)
    message = str(caught.value)
    assert "entry 1, `@alice`" in message and "entry 3, `bob`" in message and "DLF_RATE_LIMIT" in message


def test_the_config_file_adds_operators_everywhere_and_per_channel(tmp_path: Path) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text(
        "operators: [U0CAROL, S0ONCALL]\n"
        "channels:\n"
        "  C0DATA:\n"
        "    operators: [U0BOB, S0DBA]\n"
        "  G0PRIVATE: {operators: U0DAVE}\n"
    )
    settings = load_settings({"DLF_BOT_CONFIG": str(config), "DLF_BOT_OPERATORS": "U0ALICE"}, env_file=None)
    operators = settings.operator_config()
    assert operators.everywhere == ("U0ALICE", "U0CAROL", "S0ONCALL")
    assert operators.for_channel("C0DATA") == ("U0ALICE", "U0CAROL", "S0ONCALL", "U0BOB", "S0DBA")
    assert operators.for_channel("G0PRIVATE") == ("U0ALICE", "U0CAROL", "S0ONCALL", "U0DAVE")
    assert operators.for_channel("C0OTHER") == ("U0ALICE", "U0CAROL", "S0ONCALL")


def test_a_file_of_only_profiles_still_loads(tmp_path: Path) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text("profiles:\n  prod:\n    region: cn-north-4\n    project_id: p1\n    auth_token: t\n")
    settings = load_settings({"DLF_BOT_CONFIG": str(config)}, env_file=None)
    assert "prod" in settings.profiles and not settings.operator_config().configured


def test_config_file_mistakes_are_named_by_key(tmp_path: Path) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text(
        "operators: [U0CAROL, '@dba']\n"
        "channels:\n"
        "  data-team: {operators: [U0BOB]}\n"
        "  C0DATA: {operators: [oncall], mention: x}\n"
        "  C0ETL: {operators: [U0BOB, 42]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_BOT_CONFIG": str(config)}, env_file=None)
    message = str(caught.value)
    assert f"`operators` in {config}: entry 2, `@dba`, is a handle or mention" in message
    assert f"`channels` in {config}: `data-team` is not a Slack channel id" in message
    assert f"`channels.C0DATA` in {config}: takes one setting, `operators:`" in message
    assert f"`channels.C0ETL.operators` in {config}: entry 2, `42`, is not a Slack user id" in message


def test_the_file_cannot_smuggle_operators_through_the_environment_names(tmp_path: Path) -> None:
    # Settings only the config file gives are never read from the environment.
    settings = load_settings({"FILE_OPERATORS": "U0MALLORY", "CHANNEL_OPERATORS": "x"}, env_file=None)
    assert not settings.operator_config().configured


def test_an_unknown_top_level_key_says_what_the_file_holds(tmp_path: Path) -> None:
    config = tmp_path / "dlf-bot.yml"
    config.write_text("operator: [U0ALICE]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({"DLF_BOT_CONFIG": str(config)}, env_file=None)
    assert "`profiles:`" in str(caught.value) and "`operators:`" in str(caught.value)
    assert "`channels:`" in str(caught.value)
