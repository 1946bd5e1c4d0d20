"""Configuration checks and the promise that no repr shows a secret."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.dlf.auth import AkSk, IamPassword, StaticToken
from bot.dlf.config import DlfConfig
from bot.dlf.signer import sign


def test_credential_reprs_hide_every_secret():
    creds = [
        AkSk(access_key="AK1", secret_key="sk-SECRET-1", security_token="tok-SECRET-2"),
        IamPassword(username="u", password="pw-SECRET-3", domain="d", iam_endpoint="https://iam.example"),
        StaticToken(token="tok-SECRET-4"),
    ]
    for cred in creds:
        text = repr(cred) + str(cred) + str(cred.model_dump())
        assert "SECRET" not in text
    assert creds[0].secret_key.get_secret_value() == "sk-SECRET-1"


def test_signed_request_repr_hides_the_authorization():
    signed = sign(
        method="GET",
        host="h",
        path="/v1/p/jobs",
        access_key="AK",
        secret_key="SK",
        now=datetime(2026, 1, 1, tzinfo=UTC),
        security_token="tok-SECRET",
    )
    assert "tok-SECRET" not in repr(signed) and "Signature=" not in repr(signed)


@pytest.mark.parametrize(
    "overrides",
    [
        {"project_id": ""},
        {"timeout": 0},
        {"max_retries": -1},
        {"rate_limit": 0},
        {"rate_burst": 0},
        {"workspace": "工作区"},
        {"project_id": "p\nX-Injected: 1"},
        {"unknown_option": 1},
    ],
)
def test_bad_config_is_refused_at_construction(overrides):
    with pytest.raises(ValidationError):
        DlfConfig(**{"endpoint": "https://h", "project_id": "p", **overrides})


def test_config_normalises_endpoint_and_blank_workspace():
    config = DlfConfig(endpoint="https://h/ ", project_id="p", workspace="  ")
    assert config.endpoint == "https://h" and config.workspace is None
