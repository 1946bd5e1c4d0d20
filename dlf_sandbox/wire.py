"""Models → the JSON bodies DLF returns (pure). Absent optional values are left out, as DLF leaves them out."""

from __future__ import annotations

from typing import Any

from dlf_sandbox.state import Instance, Job, Node


def _put(body: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        body[key] = value


def node_body(node: Node, instance: Instance) -> dict[str, Any]:
    """One entry of `nodes` in the instance details (documented spelling, or the SDK's `nodeType`)."""
    body: dict[str, Any] = {}
    _put(body, "endTime", node.end_time)
    _put(body, "inputRowCount", node.input_row_count)
    body["instanceId"] = instance.instance_id
    _put(body, "logPath", node.log_path)
    body["nodeName"] = node.name
    body["planTime"] = node.plan_time
    _put(body, "queue", node.queue)
    _put(body, "retryTimes", node.retry_times)
    _put(body, "speed", node.speed)
    _put(body, "startTime", node.start_time)
    body["status"] = node.status
    body["nodeType" if instance.sdk_spelling else "type"] = node.type
    return body


def instance_details(instance: Instance) -> dict[str, Any]:
    """The body of "view job instance details" (the seed page's shape)."""
    body: dict[str, Any] = {"jobName": instance.job_name}
    if instance.sdk_spelling:
        body["instancesId"] = str(instance.instance_id)
    else:
        body["instanceId"] = instance.instance_id
    body["status"] = instance.status
    body["planTime"] = instance.plan_time
    _put(body, "startTime", instance.start_time)
    _put(body, "endTime", instance.end_time)
    _put(body, "executeTime", instance.execute_time)
    _put(body, "instanceType", instance.instance_type)
    body["forceSuccess"] = instance.force_success
    body["ignoreSuccess"] = instance.ignore_success
    body["total"] = len(instance.nodes)
    body["nodes"] = [node_body(node, instance) for node in instance.nodes]
    return body


def instance_row(instance: Instance) -> dict[str, Any]:
    """One row of the instance list."""
    body: dict[str, Any] = {
        "jobName": instance.job_name,
        "instanceId": instance.instance_id,
        "jobId": instance.job_id,
        "status": instance.status,
        "planTime": instance.plan_time,
    }
    _put(body, "startTime", instance.start_time)
    _put(body, "endTime", instance.end_time)
    _put(body, "executeTime", instance.execute_time)
    _put(body, "submitTime", instance.submit_time)
    body["version"] = instance.version
    _put(body, "instanceType", instance.instance_type)
    body["forceSuccess"] = instance.force_success
    body["ignoreSuccess"] = instance.ignore_success
    body["jobInstanceName"] = f"{instance.job_name}_{instance.instance_id}"
    _put(body, "errorMessage", instance.error_message)
    return body


def job_row(job: Job, latest: Instance | None) -> dict[str, Any]:
    """One row of the job list."""
    body: dict[str, Any] = {
        "name": job.name,
        "jobType": job.job_type,
        "owner": job.owner,
        "priority": job.priority,
        "status": job.status,
        "createTime": job.created_time,
        "path": f"/{job.name}",
    }
    if latest is not None:
        body["lastInstanceStatus"] = latest.status
        _put(body, "lastInstanceEndTime", latest.end_time)
    return body


def job_details(job: Job) -> dict[str, Any]:
    """The body of "query job details": the job's definition (nodes, schedule, owner)."""
    return {
        "name": job.name,
        "processType": job.job_type,
        "directory": "/",
        "id": job.job_id,
        "nodes": [
            {"name": name, "type": node_type, "location": {"x": "0", "y": str(120 * i)}}
            for i, (name, node_type) in enumerate(job.node_templates)
        ],
        "schedule": {"type": "CRON", "cron": {"expression": "0 0 * * * ?", "startTime": "2024-01-01T00:00:00+08"}},
        "params": [],
        "basicConfig": {"owner": job.owner, "priority": job.priority, "executeUser": "", "instanceTimeout": 0},
        "status": job.status,
    }
