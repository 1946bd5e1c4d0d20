"""manifest.yml is a valid Slack app manifest and declares what the bot's code relies on."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.commands.usage import SUBCOMMANDS
from bot.render.actions import INSTANCE_REFRESH
from bot.slack.app import COMMAND, LISTENERS

REPO = Path(__file__).resolve().parents[2]
# Slack's official manifest schema (slackapi/manifest-schema, MIT licence), copied from ../shared/vendor so a fresh
# clone validates the manifest too; the second test keeps the copy identical to the shared one where that exists.
SCHEMA = REPO / "tests" / "fixtures" / "slack-manifest.schema.1.0.0.json"
SHARED_SCHEMA = REPO.parent / "shared" / "vendor" / "slack-manifest.schema.1.0.0.json"


@pytest.fixture
def manifest() -> dict:
    return yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_validates_against_slacks_schema(manifest: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_the_schema_copy_is_slacks_schema_as_shared() -> None:
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"{SHARED_SCHEMA} is absent: nothing to compare the copy with")
    assert SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_manifest_declares_what_the_listeners_need(manifest: dict) -> None:
    commands = {entry["command"]: entry for entry in manifest["features"]["slash_commands"]}
    assert commands[COMMAND]["should_escape"] is True  # the parser expects escaped mentions
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {spec.match for spec in LISTENERS if spec.kind == "event"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert any(spec.match == INSTANCE_REFRESH for spec in LISTENERS if spec.kind == "action")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "channels:history", "groups:history"} <= scopes
    # The deliverer joins a public channel it posts to unjoined (chat:write.public) to read its history.
    assert {"chat:write.public", "channels:join"} <= scopes
    # `--mention @oncall` typed as text is looked up in usergroups.list and users.list.
    assert {"usergroups:read", "users:read"} <= scopes
    # Operators named by user group (S…): their members come from usergroups.users.list.
    assert "usergroups:read" in scopes
    assert manifest["settings"]["socket_mode_enabled"] is True


def test_the_usage_hint_names_every_subcommand_briefly(manifest: dict) -> None:
    (entry,) = (entry for entry in manifest["features"]["slash_commands"] if entry["command"] == COMMAND)
    named = {part.split()[0] for part in entry["usage_hint"].split(" | ")}
    assert named == set(SUBCOMMANDS)
    assert len(entry["usage_hint"]) <= 200  # Slack shows it on one line under the command as it is typed
