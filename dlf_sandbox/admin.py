"""Admin endpoints under `/_sandbox/`, so another process (the demo, a benchmark, a subprocess test) can drive the
sandbox: faults, call counts, jobs and instances, the timeline, tokens. JSON in, JSON out; loopback only, no auth.

    GET    /_sandbox/health                        {"ok": true}
    GET    /_sandbox/seeded                        the SEEDED table
    POST   /_sandbox/faults                        {"latency_ms"} and/or {"kind": throttle|server_error|malformed|reset
                                                    |answer|slow, "n" or "for_s" (seconds), "operation", "status",
                                                    "html", "retry_after", "malformed", "delay_s" (slow),
                                                    "body" (answer: the JSON served verbatim)}
                                                   and/or {"rate_limits": {"list_instances": 30, ...} | "documented"
                                                    | null, "rate_window_s"?} and/or {"camel_case_errors": bool}
    DELETE /_sandbox/faults                        clear faults and latency
    GET    /_sandbox/calls                         {"count", "by_operation", "calls": [...]}
    DELETE /_sandbox/calls                         reset the call log
    POST   /_sandbox/jobs                          {"name", "workspace"?, "nodes"?}  or  {"names": [...]}
    POST   /_sandbox/instances                     {"job", "status"?, "instance_id"?, "nodes"?, "plan_time"?,
                                                    "workspace"?, "failed_node"?}  → {"instanceId"}
    POST   /_sandbox/instances/{id}/status         {"job", "status", "failed_node"?, "workspace"?}
    POST   /_sandbox/timeline/events               {"kind": "appear"|"status", "at", "job", ...}  → {"instanceId"}
    POST   /_sandbox/timeline/step                 → {"applied": [...]}
    POST   /_sandbox/timeline/step_until           {"ms"} → {"applied": [...]}
    POST   /_sandbox/timeline/play | /pause
    POST   /_sandbox/timeline/on_rerun             {"outcome", "after_ms", "job"?, "instance_id"?, "failed_node"?}
    POST   /_sandbox/tokens/revoke                 {"include_static"?: true}
    PUT    /_sandbox/tokens/lifetime               {"ms"}
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dlf_sandbox import apierrors
from dlf_sandbox.faults import DOCUMENTED_PER_USER_LIMITS
from dlf_sandbox.timeline import Event

if TYPE_CHECKING:
    from dlf_sandbox.sandbox import Sandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _event(event: Event) -> dict[str, Any]:
    return {
        "at": event.at_ms,
        "kind": event.kind,
        "job": event.job,
        "instanceId": event.instance_id,
        "status": event.status,
    }


def add_admin_routes(app: web.Application, sb: Sandbox) -> None:
    """Register the admin endpoints of `sb` on `app`."""

    def endpoint(fn: Callable[[dict[str, Any], web.Request], object]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                raw = await request.read()
                body = json.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                result = fn(body, request)
            except apierrors.ApiError as error:
                return web.json_response(error.body("admin"), status=error.status)
            except (ValueError, KeyError, TypeError) as error:
                return web.json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
            return web.json_response(result if result is not None else {"ok": True})

        return handler

    def faults(body: dict[str, Any], _: web.Request) -> object:
        if "latency_ms" in body:
            sb.faults.latency_ms = float(body["latency_ms"])
        if "camel_case_errors" in body:
            sb.faults.camel_case_errors = bool(body["camel_case_errors"])
        if "rate_limits" in body:
            limits = body["rate_limits"]
            sb.faults.limit_rate(
                DOCUMENTED_PER_USER_LIMITS if limits == "documented" else limits,
                window_s=float(body.get("rate_window_s", 1.0)),
            )
        kind = body.get("kind")
        n, operation = int(body.get("n", 1)), body.get("operation")
        for_s = float(body["for_s"]) if body.get("for_s") is not None else None
        if kind == "throttle":
            sb.faults.throttle(n, retry_after=body.get("retry_after", 1.0), operation=operation, for_s=for_s)
        elif kind == "server_error":
            sb.faults.server_error(
                n, status=int(body.get("status", 503)), html=bool(body.get("html")), operation=operation, for_s=for_s
            )
        elif kind == "malformed":
            sb.faults.malformed(n, kind=body.get("malformed", "not_json"), operation=operation, for_s=for_s)
        elif kind == "reset":
            sb.faults.reset_connection(n, operation=operation, for_s=for_s)
        elif kind == "slow":
            sb.faults.slow(float(body["delay_s"]), n, operation=operation, for_s=for_s)
        elif kind == "answer":
            sb.faults.answer(body["body"], n, operation=operation)
        elif kind is not None:
            raise ValueError(f"unknown fault kind {kind!r}")
        return None

    def clear_faults(_: dict[str, Any], __: web.Request) -> object:
        sb.faults.clear()
        return None

    def calls(_: dict[str, Any], __: web.Request) -> object:
        return {
            "count": len(sb.calls),
            "by_operation": sb.calls.by_operation(),
            "calls": [asdict(call) for call in sb.calls],
        }

    def reset_calls(_: dict[str, Any], __: web.Request) -> object:
        sb.calls.reset()
        return None

    def jobs(body: dict[str, Any], _: web.Request) -> object:
        if "names" in body:
            return {"created": sb.state.add_jobs(body["names"], body.get("workspace"))}
        job = sb.state.add_job(body["name"], body.get("workspace"), nodes=body.get("nodes"))
        return {"name": job.name, "jobId": job.job_id}

    def instances(body: dict[str, Any], _: web.Request) -> object:
        iid = sb.state.add_instance(
            body["job"],
            body.get("instance_id"),
            status=body.get("status", "running"),
            nodes=body.get("nodes"),
            plan_time=body.get("plan_time"),
            workspace=body.get("workspace"),
            failed_node=body.get("failed_node"),
        )
        return {"instanceId": iid}

    def instance_status(body: dict[str, Any], request: web.Request) -> object:
        sb.state.set_status(
            body["job"],
            int(request.match_info["instance_id"]),
            body["status"],
            failed_node=body.get("failed_node"),
            workspace=body.get("workspace"),
        )
        return None

    def timeline_event(body: dict[str, Any], _: web.Request) -> object:
        if body["kind"] == "appear":
            iid = sb.timeline.appear(
                body["job"],
                at=int(body["at"]),
                status=body.get("status", "running"),
                instance_id=body.get("instance_id"),
                nodes=body.get("nodes"),
                plan_time=body.get("plan_time"),
                workspace=body.get("workspace"),
                failed_node=body.get("failed_node"),
            )
            return {"instanceId": iid}
        sb.timeline.set_status(
            body["job"],
            int(body["instance_id"]),
            body["status"],
            at=int(body["at"]),
            failed_node=body.get("failed_node"),
            workspace=body.get("workspace"),
        )
        return {"instanceId": int(body["instance_id"])}

    def step(_: dict[str, Any], __: web.Request) -> object:
        event = sb.timeline.step()
        return {"applied": [] if event is None else [_event(event)]}

    def step_until(body: dict[str, Any], _: web.Request) -> object:
        return {"applied": [_event(e) for e in sb.timeline.step_until(int(body["ms"]))]}

    def play(_: dict[str, Any], __: web.Request) -> object:
        sb.timeline.play()
        return None

    def pause(_: dict[str, Any], __: web.Request) -> object:
        sb.timeline.pause()
        return None

    def on_rerun(body: dict[str, Any], _: web.Request) -> object:
        sb.timeline.on_rerun(
            body["outcome"],
            after_ms=int(body["after_ms"]),
            job=body.get("job"),
            failed_node=body.get("failed_node"),
            instance_id=int(body["instance_id"]) if body.get("instance_id") is not None else None,
        )
        return None

    def revoke(body: dict[str, Any], _: web.Request) -> object:
        sb.tokens.revoke_all(include_static=bool(body.get("include_static", True)))
        return None

    def lifetime(body: dict[str, Any], _: web.Request) -> object:
        sb.tokens.lifetime_ms = int(body["ms"])
        return None

    def health(_: dict[str, Any], __: web.Request) -> object:
        return {"ok": True, "instances": sb.state.instance_count()}

    def seeded(_: dict[str, Any], __: web.Request) -> object:
        return {key: asdict(value) for key, value in sb.seeded.items()}

    r = app.router
    r.add_get("/_sandbox/health", endpoint(health))
    r.add_get("/_sandbox/seeded", endpoint(seeded))
    r.add_post("/_sandbox/faults", endpoint(faults))
    r.add_delete("/_sandbox/faults", endpoint(clear_faults))
    r.add_get("/_sandbox/calls", endpoint(calls))
    r.add_delete("/_sandbox/calls", endpoint(reset_calls))
    r.add_post("/_sandbox/jobs", endpoint(jobs))
    r.add_post("/_sandbox/instances", endpoint(instances))
    r.add_post("/_sandbox/instances/{instance_id}/status", endpoint(instance_status))
    r.add_post("/_sandbox/timeline/events", endpoint(timeline_event))
    r.add_post("/_sandbox/timeline/step", endpoint(step))
    r.add_post("/_sandbox/timeline/step_until", endpoint(step_until))
    r.add_post("/_sandbox/timeline/play", endpoint(play))
    r.add_post("/_sandbox/timeline/pause", endpoint(pause))
    r.add_post("/_sandbox/timeline/on_rerun", endpoint(on_rerun))
    r.add_post("/_sandbox/tokens/revoke", endpoint(revoke))
    r.add_put("/_sandbox/tokens/lifetime", endpoint(lifetime))
