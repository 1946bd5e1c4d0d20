"""The aiohttp application: API Gateway's checks (signature or token, throttling) in front of DLF's operations.

Order of a DLF request: route → latency → queued fault → flow control → authentication → project/workspace →
operation. Every response carries `X-Request-Id`; every DLF request is recorded in `sandbox.calls`, IAM token requests in
`sandbox.iam_calls`. Admin endpoints under `/_sandbox/` (see admin.py) are neither recorded nor faulted.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dlf_sandbox import apierrors, dlf_api, routes, signing
from dlf_sandbox.calls import Call
from dlf_sandbox.faults import FaultRule
from dlf_sandbox.signing import SignatureRejected

if TYPE_CHECKING:
    from dlf_sandbox.sandbox import Sandbox

REQUEST_ID_HEADER = "X-Request-Id"
HTML_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
    "</center>\r\n<hr><center>API Gateway</center>\r\n</body>\r\n</html>\r\n"
)


def json_response(
    body: object, *, status: int = 200, request_id: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with the request id header."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers={REQUEST_ID_HEADER: request_id, **(headers or {})},
    )


def error_response(error: apierrors.ApiError, request_id: str, *, camel_case: bool = False) -> web.Response:
    """The error body DLF / API Gateway sends for `error`."""
    return json_response(
        error.body(request_id, camel_case=camel_case), status=error.status, request_id=request_id, headers=error.headers
    )


class SandboxServer:
    """Request handling for one Sandbox (its state, faults, tokens, timeline, call log)."""

    def __init__(self, *, sandbox: Sandbox) -> None:
        self.sb = sandbox

    # ------------------------------------------------------------------------------------------ DLF API
    async def handle_dlf(self, request: web.Request) -> web.StreamResponse:
        """Any request outside the admin and IAM endpoints: a DLF v1 operation or API Gateway's 404."""
        request_id = uuid.uuid4().hex
        path, raw_query = routes.split_raw_path(request.raw_path)
        route = routes.match(request.method, path)
        body = await request.read()
        query = dict(signing.query_pairs(raw_query))
        self.sb.timeline.apply_due()
        response = await self._answer(request, route, path, raw_query, query, body, request_id)
        self.sb.calls.record(
            Call(
                method=request.method,
                path="/" + "/".join(routes.decoded_segments(path)),
                query=query,
                operation=route.operation,
                at_ms=self.sb.clock(),
                status=None if response is None else response.status,
                body=_json_object(body),
            )
        )
        if response is None:
            return _dropped(request)
        return response

    async def _answer(
        self,
        request: web.Request,
        route: routes.Route,
        path: str,
        raw_query: str,
        query: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> web.Response | None:
        await self._latency()
        if route.operation == routes.UNKNOWN:
            return error_response(apierrors.unknown_api(), request_id)
        fault = self.sb.faults.take(route.operation)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
        elif fault is not None:
            return _fault_response(fault, route.operation, request_id)
        if self.sb.faults.over_rate(route.operation):
            return error_response(apierrors.throttled(1), request_id)
        try:
            headers = {k.lower(): v for k, v in request.headers.items()}
            project_id = self._authenticate(request.method, path, raw_query, headers, body)
            if route.project_id != self.sb.credentials.project_id or project_id != route.project_id:
                raise apierrors.permission_denied("The project in the path is not the credentials' project.")
            workspace = headers.get("workspace") or None
            return self._operate(route, workspace, query, body, request_id)
        except apierrors.ApiError as error:
            return error_response(error, request_id, camel_case=self.sb.faults.camel_case_errors)

    def _authenticate(self, method: str, path: str, raw_query: str, headers: dict[str, str], body: bytes) -> str:
        """The project the caller is authenticated for, or the 401/400 API Gateway and DLF answer with."""
        creds = self.sb.credentials
        if "authorization" in headers:
            try:
                auth = signing.verify(
                    method=method,
                    raw_path=path,
                    raw_query=raw_query,
                    headers=headers,
                    body=body,
                    secret_for={creds.ak: creds.sk, creds.temp_ak: creds.temp_sk},
                    now_ms=self.sb.clock(),
                )
            except SignatureRejected as rejected:
                raise apierrors.iam_auth_failed(str(rejected)) from None
            if auth.access_key == creds.temp_ak and headers.get("x-security-token") != creds.security_token:
                raise apierrors.iam_auth_failed("verify security token fail")
            project_id = headers.get("x-project-id")
            if not project_id:
                # DataArts resolves the workspace through the project header; without it: "Workspace does not exists".
                raise apierrors.workspace_not_found()
            return project_id
        token = headers.get("x-auth-token")
        if token:
            return self.sb.tokens.check(token).project_id
        raise apierrors.iam_auth_failed("no authentication information found in the request")

    def _operate(
        self, route: routes.Route, workspace: str | None, query: dict[str, str], body: bytes, request_id: str
    ) -> web.Response:
        state = self.sb.state
        now = self.sb.clock()
        job = route.job_name or ""
        if route.operation == routes.LIST_INSTANCES:
            return json_response(
                dlf_api.list_instances(state, workspace=workspace, query=query, now_ms=now), request_id=request_id
            )
        if route.operation == routes.LIST_JOBS:
            return json_response(dlf_api.list_jobs(state, workspace=workspace, query=query), request_id=request_id)
        if route.operation == routes.SHOW_JOB:
            return json_response(dlf_api.show_job(state, workspace=workspace, job_name=job), request_id=request_id)
        if route.operation == routes.SHOW_INSTANCE:
            shown = dlf_api.show_instance(state, workspace=workspace, job_name=job, instance_id=route.instance_id)
            return json_response(shown, request_id=request_id)
        if route.operation == routes.RESTART_INSTANCE:
            instance, first_node = dlf_api.restart_instance(
                state, workspace=workspace, job_name=job, instance_id=route.instance_id, now_ms=now, body=body
            )
            self.sb.timeline.rerun_started(
                instance.job_name, instance.instance_id, workspace, now, first_node=first_node
            )
            return web.Response(status=204, headers={REQUEST_ID_HEADER: request_id})
        dlf_api.stop_instance(state, workspace=workspace, job_name=job, instance_id=route.instance_id, now_ms=now)
        return web.Response(status=204, headers={REQUEST_ID_HEADER: request_id})

    # ------------------------------------------------------------------------------------------ IAM
    async def handle_iam_token(self, request: web.Request) -> web.StreamResponse:
        """POST /v3/auth/tokens: password identity + project scope → 201 with X-Subject-Token."""
        request_id = uuid.uuid4().hex
        body = await request.read()
        response = await self._iam_answer(body, request_id)
        self.sb.iam_calls.record(
            Call(
                method=request.method,
                path=request.path,
                query={},
                operation=routes.CREATE_TOKEN,
                at_ms=self.sb.clock(),
                status=None if response is None else response.status,
            )
        )
        return _dropped(request) if response is None else response

    async def _iam_answer(self, body: bytes, request_id: str) -> web.Response | None:
        await self._latency()
        fault = self.sb.faults.take(routes.CREATE_TOKEN)
        if fault is not None:
            return _fault_response(fault, routes.CREATE_TOKEN, request_id)
        creds = self.sb.credentials
        try:
            auth = json.loads(body)["auth"]
            identity, scope = auth["identity"], auth["scope"]
            user = identity["password"]["user"]
            methods = identity["methods"]
            name, password, domain = user["name"], user["password"], user["domain"]["name"]
            project = scope["project"]
        except (ValueError, KeyError, TypeError):
            return _iam_error(
                400, "Bad Request", "The request body is not a valid password authentication.", request_id
            )
        if "password" not in methods or (name, password, domain) != (
            creds.iam_username,
            creds.iam_password,
            creds.iam_domain,
        ):
            return _iam_error(401, "Unauthorized", "The username or password is wrong.", request_id)
        if project.get("id", creds.project_id) != creds.project_id or project.get("name", creds.region) != (
            creds.region
        ):
            return _iam_error(401, "Unauthorized", "The project does not exist or is not accessible.", request_id)
        token, record = self.sb.tokens.issue(project_id=creds.project_id, user=name)
        domain_body = {"id": "d" + creds.project_id[1:], "name": creds.iam_domain}
        payload = {
            "token": {
                "expires_at": _iso(record.expires_ms),
                "issued_at": _iso(record.issued_ms),
                "methods": ["password"],
                "project": {"id": creds.project_id, "name": creds.region, "domain": domain_body},
                "user": {
                    "id": "u" + creds.project_id[1:],
                    "name": name,
                    "domain": domain_body,
                    "password_expires_at": "",
                },
                "roles": [{"id": "0", "name": "op_fine_grained"}],
                "catalog": [],
            }
        }
        return json_response(payload, status=201, request_id=request_id, headers={"X-Subject-Token": token})

    async def _latency(self) -> None:
        if self.sb.faults.latency_ms > 0:
            await asyncio.sleep(self.sb.faults.latency_ms / 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iam_error(status: int, title: str, message: str, request_id: str) -> web.Response:
    return json_response(
        {"error": {"code": status, "title": title, "message": message}}, status=status, request_id=request_id
    )


def _dropped(request: web.Request) -> web.Response:
    """Close the connection without answering (the response object is never written)."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)


WRONG_SHAPES: dict[str, Any] = {
    routes.LIST_INSTANCES: {"total": "many", "instances": {"jobName": "not a list"}},
    routes.SHOW_INSTANCE: {"jobName": ["job_batch"], "instanceId": "not-a-number", "nodes": "none"},
    routes.LIST_JOBS: {"total": 1, "jobs": "job_batch"},
}


def _fault_response(fault: FaultRule, operation: str, request_id: str) -> web.Response | None:
    """The response a queued fault produces, or None for a dropped connection."""
    if fault.kind == "throttle":
        return error_response(apierrors.throttled(fault.retry_after), request_id)
    if fault.kind == "reset":
        return None
    if fault.kind == "answer":
        return json_response(fault.params["body"], request_id=request_id)
    if fault.kind == "refuse":
        refusal = apierrors.ApiError(fault.status, str(fault.params["code"]), str(fault.params["message"]))
        return error_response(refusal, request_id)
    if fault.kind == "server_error":
        if fault.html:
            reason = {
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Temporarily Unavailable",
                504: "Gateway Time-out",
            }.get(fault.status, "Server Error")
            return web.Response(
                text=HTML_ERROR_PAGE.format(status=fault.status, reason=reason),
                status=fault.status,
                content_type="text/html",
                headers={REQUEST_ID_HEADER: request_id},
            )
        code, message = ("DLF.0000", "System error.") if fault.status == 500 else ("APIG.0202", "Backend unavailable")
        return error_response(apierrors.ApiError(fault.status, code, message), request_id)
    if fault.malformed == "not_json":
        return web.Response(
            text="<html><body>OK</body></html>",
            status=200,
            content_type="text/html",
            headers={REQUEST_ID_HEADER: request_id},
        )
    if fault.malformed == "truncated":
        return web.Response(
            text='{"total": 3, "instances": [{"jobName": "job_b',
            status=200,
            content_type="application/json",
            headers={REQUEST_ID_HEADER: request_id},
        )
    return json_response(WRONG_SHAPES.get(operation, ["unexpected", "array"]), request_id=request_id)


def _json_object(body: bytes) -> dict[str, object] | None:
    """The request body as a JSON object, for the call log (None: empty, not JSON, or not an object)."""
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
