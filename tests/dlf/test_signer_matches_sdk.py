"""Our AK/SK signer against Huawei's own (`huaweicloudsdkcore`): the same request must get the same Authorization."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dlf.signer import canonical_uri, sign

AK = "HPUAL2ZUOZ0TQKEXAMPLE"
SK = "sk/with+odd=chars~and-more-EXAMPLE"
PROJECT = "b384b9e9ab9b4ee8994c8633aabc9505"
HOST = "dayu-dlf.cn-north-4.myhuaweicloud.com"
SDK_DATE = "20260126T101530Z"
NOW = datetime(2026, 1, 26, 10, 15, 30, tzinfo=UTC)


def _job_path(job: str, *rest: str) -> str:
    return "/".join([f"/v1/{PROJECT}/jobs", quote(job, safe=""), *rest])


CASES = [
    pytest.param("GET", _job_path("job_batch", "instances", "34765"), [], {}, b"", None, id="seed-get"),
    pytest.param(
        "GET",
        f"/v1/{PROJECT}/jobs/instances/detail",
        [
            ("jobName", "daily report+v2/with spaces"),
            ("status", "fail"),
            ("limit", 1000),
            ("offset", 0),
            ("preciseQuery", True),
            ("minPlanTime", 1551425326540),
        ],
        {},
        b"",
        None,
        id="get-query-space-plus-slash-bool",
    ),
    pytest.param(
        "GET",
        f"/v1/{PROJECT}/jobs",
        [("jobName", "tilde~star*quote'amp&eq=数据"), ("jobType", "BATCH"), ("preciseQuery", False)],
        {},
        b"",
        None,
        id="get-query-tilde-unicode-false",
    ),
    pytest.param(
        "GET", _job_path("每日报表_同步", "instances", "42"), [], {}, b"", None, id="chinese-job-name-in-path"
    ),
    pytest.param(
        "GET", _job_path("odd/name with space+%2F", "instances", "1"), [], {}, b"", None, id="encoded-slash-in-name"
    ),
    pytest.param(
        "POST",
        _job_path("job_batch", "instances", "34765", "restart"),
        [],
        {"Content-Type": "application/json"},
        b"",
        None,
        id="post-no-body",
    ),
    pytest.param(
        "POST",
        _job_path("job.batch-2", "instances", "7", "stop"),
        [],
        {"Content-Type": "application/json;charset=UTF-8"},
        json.dumps({"reason": "stop it", "名": "值"}, ensure_ascii=False).encode("utf-8"),
        None,
        id="post-json-body",
    ),
    pytest.param(
        "GET",
        _job_path("job_batch", "instances", "34765"),
        [],
        {"workspace": "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "User-Agent": "dlf-bot/0.1", "X_Ignored": "unsigned"},
        b"",
        "temporary-security-token-VALUE/with+chars==",
        id="temporary-credentials-workspace",
    ),
    pytest.param(
        "GET",
        f"/v1/{PROJECT}/jobs",
        [("jobName", "  leading and trailing  "), ("a", ""), ("Z", "upper first")],
        {"Host": "127.0.0.1:8443"},
        b"",
        None,
        id="empty-value-case-order-explicit-host",
    ),
]


def _sdk_authorization(method, path, query, headers, body, token) -> tuple[str, str]:
    request = SdkRequest(
        method=method,
        schema="https",
        host=HOST,
        resource_path=path,
        query_params=list(query),
        header_params={"X-Sdk-Date": SDK_DATE, **headers},
        body=body,
    )
    credentials = BasicCredentials(AK, SK, PROJECT)
    if token is not None:
        credentials = credentials.with_security_token(token)
    signed = credentials.sign_request(request)
    return signed.header_params["Authorization"], signed.uri


@pytest.mark.parametrize(("method", "path", "query", "headers", "body", "token"), CASES)
def test_authorization_matches_sdk_byte_for_byte(method, path, query, headers, body, token):
    expected_auth, expected_uri = _sdk_authorization(method, path, query, headers, body, token)
    ours = sign(
        method=method,
        host=HOST,
        path=path,
        query=query,
        headers=headers,
        body=body,
        access_key=AK,
        secret_key=SK,
        now=NOW,
        project_id=PROJECT,
        security_token=token,
    )
    assert ours.headers["Authorization"] == expected_auth
    # The query string we send is the one the SDK sends (and the one both signed).
    sent_uri = path + (f"?{ours.query_string}" if ours.query_string else "")
    assert sent_uri == expected_uri


def test_project_and_token_headers_are_signed():
    ours = sign(
        method="GET",
        host=HOST,
        path=f"/v1/{PROJECT}/jobs",
        access_key=AK,
        secret_key=SK,
        now=NOW,
        project_id=PROJECT,
        security_token="tok",
    )
    signed = ours.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed == ["host", "x-project-id", "x-sdk-date", "x-security-token"]
    assert ours.headers["X-Sdk-Date"] == SDK_DATE


def test_trailing_slash_is_for_signing_only():
    assert canonical_uri("/v1/p/jobs") == "/v1/p/jobs/"
    assert canonical_uri("/v1/p/jobs/") == "/v1/p/jobs/"
    assert canonical_uri("/v1/p/jobs/a%20b") == "/v1/p/jobs/a%20b/"


def test_a_different_secret_gives_a_different_signature():
    common = dict(method="GET", host=HOST, path="/v1/p/jobs", access_key=AK, now=NOW)
    assert (
        sign(secret_key=SK, **common).headers["Authorization"]
        != sign(secret_key=SK + "x", **common).headers["Authorization"]
    )


def test_repr_hides_header_values():
    ours = sign(
        method="GET",
        host=HOST,
        path="/v1/p/jobs",
        access_key=AK,
        secret_key=SK,
        now=NOW,
        security_token="very-secret-token",
    )
    assert "very-secret-token" not in repr(ours)
    assert AK not in repr(ours)


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    job=_text.filter(lambda name: name not in (".", "..")),
    query=st.dictionaries(_text, st.one_of(_text, st.integers(-(2**63), 2**63 - 1), st.booleans()), max_size=6),
    body=st.binary(max_size=64),
    token=st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)),
)
def test_any_name_query_and_body_sign_like_the_sdk(job, query, body, token):
    path = _job_path(job, "instances", "1")
    method = "POST" if body else "GET"
    headers = {"Content-Type": "application/json"}
    expected_auth, expected_uri = _sdk_authorization(method, path, list(query.items()), headers, body, token)
    ours = sign(
        method=method,
        host=HOST,
        path=path,
        query=list(query.items()),
        headers=headers,
        body=body,
        access_key=AK,
        secret_key=SK,
        now=NOW,
        project_id=PROJECT,
        security_token=token,
    )
    assert ours.headers["Authorization"] == expected_auth
    assert path + (f"?{ours.query_string}" if ours.query_string else "") == expected_uri
