"""Region → endpoint, overrides, and the error that names the setting to fix."""

from __future__ import annotations

import pytest

from bot.dlf.endpoints import DLF_REGIONS, dlf_endpoint, iam_endpoint
from bot.errors import ConfigError


@pytest.mark.parametrize("region", DLF_REGIONS)
def test_every_sdk_region_has_both_endpoints(region):
    assert dlf_endpoint(region=region) == f"https://dayu-dlf.{region}.myhuaweicloud.com"
    assert iam_endpoint(region=region) == f"https://iam.{region}.myhuaweicloud.com"


def test_overrides_win_and_lose_their_trailing_slash():
    assert dlf_endpoint(region="xx-nowhere-9", override="http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert iam_endpoint(region=None, override="https://iam.example.test/") == "https://iam.example.test"


@pytest.mark.parametrize(("function", "setting"), [(dlf_endpoint, "DLF_ENDPOINT"), (iam_endpoint, "DLF_IAM_ENDPOINT")])
def test_unknown_region_names_the_setting(function, setting):
    with pytest.raises(ConfigError) as info:
        function(region="eu-west-101")
    assert "eu-west-101" in str(info.value) and setting in str(info.value)


def test_missing_region_names_both_settings():
    with pytest.raises(ConfigError, match="DLF_REGION.*DLF_ENDPOINT"):
        dlf_endpoint(region=" ")


@pytest.mark.parametrize("bad", ["ftp://host", "not a url", "https://", "https://host/?a=1"])
def test_malformed_override_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="DLF_ENDPOINT"):
        dlf_endpoint(region="cn-north-4", override=bad)
