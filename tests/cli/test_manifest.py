"""manifest.yml is a valid Slack app manifest and declares what the bot's code relies on."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.render.actions import INSTANCE_REFRESH
from bot.slack.app import COMMAND, LISTENERS

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO.parent / "shared" / "vendor" / "slack-manifest.schema.1.0.0.json"


@pytest.fixture
def manifest() -> dict:
    return yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_validates_against_slacks_schema(manifest: dict) -> None:
    if not SCHEMA.parent.parent.is_dir():
        pytest.skip(f"../shared is absent ({SCHEMA.parent.parent}): Slack's manifest schema is not available")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema)


def test_manifest_declares_what_the_listeners_need(manifest: dict) -> None:
    commands = {entry["command"]: entry for entry in manifest["features"]["slash_commands"]}
    assert commands[COMMAND]["should_escape"] is True  # the parser expects escaped mentions
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {spec.match for spec in LISTENERS if spec.kind == "event"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert any(spec.match == INSTANCE_REFRESH for spec in LISTENERS if spec.kind == "action")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "channels:history", "groups:history"} <= scopes
    assert manifest["settings"]["socket_mode_enabled"] is True
