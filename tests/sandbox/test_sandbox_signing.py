"""AK/SK verification: requests signed by huaweicloudsdkcore pass; any tampering, a stale date or a wrong key fails."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from conftest import Call
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_sdk_signing import PROJECT, clock_date, dlf_path, sdk_sign, send

from dlf_sandbox import (
    SANDBOX_CREDENTIALS,
    WEIRD_JOB_NAME,
    ManualClock,
    Sandbox,
    signing,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "instance_job_batch_34765.json"
CREDS = SANDBOX_CREDENTIALS


async def test_sdk_signed_details_request_gets_the_seed_page_response(call: Call) -> None:
    response = await call("GET", dlf_path("job_batch", "instances", 34765))
    assert response.status_code == 200
    assert response.json() == json.loads(FIXTURE.read_text())
    assert response.headers["X-Request-Id"]


async def test_sdk_signed_query_needing_encoding_is_accepted(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    now = clock()
    response = await call(
        "GET",
        dlf_path("instances", "detail"),
        query=[
            ("jobName", "销售日报_汇总"),
            ("preciseQuery", True),
            ("minPlanTime", now - 5 * 3600_000),
            ("maxPlanTime", now),
            ("limit", 100),
            ("offset", 0),
        ],
    )
    assert response.status_code == 200, response.text
    assert [row["instanceId"] for row in response.json()["instances"]] == [sb.seeded["chinese"].instance_id]


async def test_sdk_signed_post_with_encoded_weird_job_name_is_accepted(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["weird_names"]
    response = await call("POST", dlf_path(WEIRD_JOB_NAME, "instances", seeded.instance_id, "restart"))
    assert response.status_code == 204, response.text
    assert sb.state.instance(WEIRD_JOB_NAME, seeded.instance_id).status == "running"


async def test_signed_json_body_is_checked(base_url: str, http: httpx.AsyncClient) -> None:
    path = dlf_path("job_batch", "instances", 34765, "restart")
    signed = sdk_sign(base_url=base_url, method="POST", path=path, body=b'{"note": "rerun"}')
    tampered = await http.post(signed.url, headers=signed.headers, content=b'{"note": "rerun!"}')
    assert tampered.status_code == 401
    assert (await send(http, signed)).status_code == 204


async def test_tampered_path_is_rejected(base_url: str, http: httpx.AsyncClient) -> None:
    signed = sdk_sign(base_url=base_url, method="GET", path=dlf_path("job_batch", "instances", 34765))
    response = await http.get(signed.url.replace("34765", "34766"), headers=signed.headers)
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == "APIG.0301"
    assert body["error_msg"].startswith("Incorrect IAM authentication information")


async def test_tampered_query_is_rejected(base_url: str, http: httpx.AsyncClient) -> None:
    signed = sdk_sign(base_url=base_url, method="GET", path=dlf_path("instances", "detail"), query=[("limit", 10)])
    response = await http.get(signed.url.replace("limit=10", "limit=11"), headers=signed.headers)
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIG.0301"


async def test_date_more_than_15_minutes_off_is_rejected(
    base_url: str, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    path = dlf_path("job_batch", "instances", 34765)
    fresh = sdk_sign(base_url=base_url, method="GET", path=path, sdk_date=clock_date(clock, timedelta(minutes=-14)))
    stale = sdk_sign(base_url=base_url, method="GET", path=path, sdk_date=clock_date(clock, timedelta(minutes=-16)))
    future = sdk_sign(base_url=base_url, method="GET", path=path, sdk_date=clock_date(clock, timedelta(minutes=16)))
    assert (await send(http, fresh)).status_code == 200
    assert (await send(http, stale)).status_code == 401
    assert (await send(http, future)).status_code == 401


async def test_date_header_changed_after_signing_is_rejected(
    base_url: str, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    signed = sdk_sign(
        base_url=base_url, method="GET", path=dlf_path("job_batch", "instances", 34765), sdk_date=clock_date(clock)
    )
    headers = {**signed.headers, "X-Sdk-Date": clock_date(clock, timedelta(seconds=1))}
    assert (await http.get(signed.url, headers=headers)).status_code == 401


async def test_unknown_access_key_and_wrong_secret_are_rejected(base_url: str, http: httpx.AsyncClient) -> None:
    path = dlf_path("job_batch", "instances", 34765)
    unknown = await send(http, sdk_sign(base_url=base_url, method="GET", path=path, ak="NOSUCHAK", sk=CREDS.sk))
    wrong_sk = await send(http, sdk_sign(base_url=base_url, method="GET", path=path, sk="not-the-secret"))
    assert unknown.status_code == wrong_sk.status_code == 401
    assert "ak not exist" in unknown.json()["error_msg"]
    assert "verify aksk signature fail" in wrong_sk.json()["error_msg"]


async def test_unsigned_request_is_rejected(base_url: str, http: httpx.AsyncClient) -> None:
    response = await http.get(base_url + dlf_path("job_batch", "instances", 34765))
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIG.0301"
    assert response.headers["X-Request-Id"]


async def test_temporary_credentials_need_the_matching_security_token(base_url: str, http: httpx.AsyncClient) -> None:
    path = dlf_path("job_batch", "instances", 34765)

    def signed_with(token: str | None) -> object:
        headers = {} if token is None else {"X-Security-Token": token}
        return sdk_sign(base_url=base_url, method="GET", path=path, ak=CREDS.temp_ak, sk=CREDS.temp_sk, headers=headers)

    assert (await send(http, signed_with(CREDS.security_token))).status_code == 200  # type: ignore[arg-type]
    assert (await send(http, signed_with(None))).status_code == 401  # type: ignore[arg-type]
    assert (await send(http, signed_with("another-token"))).status_code == 401  # type: ignore[arg-type]


async def test_missing_project_header_gives_the_workspace_error(base_url: str, http: httpx.AsyncClient) -> None:
    signed = sdk_sign(
        base_url=base_url, method="GET", path=dlf_path("job_batch", "instances", 34765), project_header=False
    )
    response = await send(http, signed)
    assert response.status_code == 400
    assert "Workspace does not exist" in response.json()["error_msg"]


async def test_other_project_in_path_is_refused(base_url: str, http: httpx.AsyncClient) -> None:
    path = dlf_path("job_batch", "instances", 34765).replace(PROJECT, "0" * 32)
    response = await send(http, sdk_sign(base_url=base_url, method="GET", path=path))
    assert response.status_code == 403
    assert response.json()["error_code"] == "DLF.6888"


segment = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    segments=st.lists(segment, min_size=1, max_size=4),
    query=st.dictionaries(
        st.one_of(st.sampled_from(["jobName", "a", "b~", "x y"]), segment),
        st.one_of(segment, st.integers(), st.booleans()),
        max_size=5,
    ),
    body=st.binary(max_size=64),
    method=st.sampled_from(["GET", "POST"]),
)
def test_pure_verification_agrees_with_the_sdk_signer(
    segments: list[str], query: dict[str, object], body: bytes, method: str
) -> None:
    """Keys are unique, as a client sends them (the SDK orders repeated keys by raw value, not by text)."""
    clock = ManualClock()
    path = "/v1/" + "/".join(quote(s, safe="") for s in segments)
    headers = {"X-Project-Id": PROJECT, "X-Sdk-Date": clock_date(clock)}
    if body:
        headers["Content-Type"] = "application/json"
    request = SdkRequest(
        method=method,
        schema="http",
        host="127.0.0.1:1",
        resource_path=path,
        query_params=list(query.items()),
        header_params=headers,
        body=body,
    )

    class Keys:
        ak, sk = CREDS.ak, CREDS.sk

    Signer(Keys).sign(request)
    raw_query = request.uri.partition("?")[2]
    lower = {k.lower(): v.encode("iso-8859-1").decode("utf-8") for k, v in request.header_params.items()}
    auth = signing.verify(
        method=method,
        raw_path=request.resource_path,
        raw_query=raw_query,
        headers=lower,
        body=body,
        secret_for={CREDS.ak: CREDS.sk},
        now_ms=clock(),
    )
    assert auth.access_key == CREDS.ak
