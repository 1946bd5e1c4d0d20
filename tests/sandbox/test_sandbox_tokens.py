"""IAM tokens: issued by POST /v3/auth/tokens, accepted while valid, refused once expired, revoked or unknown."""

from __future__ import annotations

from datetime import datetime

import httpx
from sandbox_sdk_signing import dlf_path

from dlf_sandbox import SANDBOX_CREDENTIALS, ManualClock, Sandbox

CREDS = SANDBOX_CREDENTIALS
DETAILS = dlf_path("job_batch", "instances", 34765)


def password_body(*, password: str = CREDS.iam_password, project: dict[str, str] | None = None) -> dict[str, object]:
    """The body Huawei IAM expects for a password token scoped to a project."""
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": CREDS.iam_username, "password": password, "domain": {"name": CREDS.iam_domain}}
                },
            },
            "scope": {"project": project or {"name": CREDS.region}},
        }
    }


async def get_token(http: httpx.AsyncClient, base_url: str) -> str:
    response = await http.post(base_url + "/v3/auth/tokens", json=password_body())
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


async def test_password_token_is_issued_and_accepted(
    http: httpx.AsyncClient, base_url: str, clock: ManualClock, sb: Sandbox
) -> None:
    response = await http.post(base_url + "/v3/auth/tokens", json=password_body(project={"id": CREDS.project_id}))
    assert response.status_code == 201
    token = response.headers["X-Subject-Token"]
    expires = datetime.fromisoformat(response.json()["token"]["expires_at"].replace("Z", "+00:00"))
    assert int(expires.timestamp() * 1000) == clock() + sb.tokens.lifetime_ms
    assert response.json()["token"]["project"]["id"] == CREDS.project_id
    details = await http.get(base_url + DETAILS, headers={"X-Auth-Token": token})
    assert details.status_code == 200 and details.json()["instanceId"] == 34765
    assert len(sb.iam_calls) == 1 and sb.calls.count("show_instance") == 1


async def test_wrong_password_or_project_gets_401(http: httpx.AsyncClient, base_url: str) -> None:
    wrong_password = await http.post(base_url + "/v3/auth/tokens", json=password_body(password="nope"))
    wrong_project = await http.post(base_url + "/v3/auth/tokens", json=password_body(project={"id": "0" * 32}))
    assert wrong_password.status_code == wrong_project.status_code == 401
    assert "X-Subject-Token" not in wrong_password.headers


async def test_malformed_token_request_gets_400(http: httpx.AsyncClient, base_url: str) -> None:
    response = await http.post(base_url + "/v3/auth/tokens", content=b"{not json")
    assert response.status_code == 400


async def test_expired_token_gets_401_token_must_be_updated(
    http: httpx.AsyncClient, base_url: str, clock: ManualClock, sb: Sandbox
) -> None:
    sb.tokens.lifetime_ms = 60_000
    token = await get_token(http, base_url)
    clock.advance(59_999)
    assert (await http.get(base_url + DETAILS, headers={"X-Auth-Token": token})).status_code == 200
    clock.advance(1)
    expired = await http.get(base_url + DETAILS, headers={"X-Auth-Token": token})
    assert expired.status_code == 401
    assert expired.json()["error_code"] == "APIG.0307"


async def test_revoked_and_unknown_tokens_get_401(http: httpx.AsyncClient, base_url: str, sb: Sandbox) -> None:
    token = await get_token(http, base_url)
    sb.tokens.revoke_all()
    revoked = await http.get(base_url + DETAILS, headers={"X-Auth-Token": token})
    unknown = await http.get(base_url + DETAILS, headers={"X-Auth-Token": "MIIforged"})
    assert revoked.status_code == unknown.status_code == 401
    assert unknown.json()["error_msg"] == "Incorrect IAM authentication information: decrypt token fail"
    fresh = await get_token(http, base_url)
    assert (await http.get(base_url + DETAILS, headers={"X-Auth-Token": fresh})).status_code == 200


async def test_static_token_works_until_revoked_over_http(http: httpx.AsyncClient, base_url: str) -> None:
    headers = {"X-Auth-Token": CREDS.static_token}
    assert (await http.get(base_url + DETAILS, headers=headers)).status_code == 200
    await http.post(base_url + "/_sandbox/tokens/revoke", json={"include_static": True})
    assert (await http.get(base_url + DETAILS, headers=headers)).status_code == 401


async def test_token_for_the_project_cannot_reach_another_project(http: httpx.AsyncClient, base_url: str) -> None:
    path = DETAILS.replace(CREDS.project_id, "1" * 32)
    response = await http.get(base_url + path, headers={"X-Auth-Token": CREDS.static_token})
    assert response.status_code == 403
