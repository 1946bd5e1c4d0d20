"""Serving modes: in a thread of its own (sync callers) and as `python -m dlf_sandbox` (another process)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sandbox_sdk_signing import dlf_path, sdk_sign

from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox
from dlf_sandbox.cli import banner


def test_serve_in_thread_answers_sync_clients_and_stops() -> None:
    sandbox = Sandbox(seed=True)
    with sandbox.serve_in_thread() as base_url:
        health = httpx.get(base_url + "/_sandbox/health")
        assert health.status_code == 200 and health.json()["ok"] is True
        seeded = httpx.get(base_url + "/_sandbox/seeded").json()
        assert seeded["seed"] == {"job": "job_batch", "instance_id": 34765, "status": "fail", "workspace": None}
    try:
        httpx.get(base_url + "/_sandbox/health", timeout=1)
    except httpx.TransportError:
        return
    raise AssertionError("the sandbox still answers after the block")


def test_state_changes_from_another_thread_while_serving() -> None:
    """The test thread mutates state while the server thread lists it: every answer is whole and consistent."""
    sandbox = Sandbox(seed=False)
    sandbox.state.add_job("busy", nodes=200)
    with sandbox.serve_in_thread() as base_url, httpx.Client(timeout=10) as http:
        stop = threading.Event()

        def churn() -> None:
            while not stop.is_set():
                iid = sandbox.state.add_instance("busy", status="running")
                sandbox.state.set_status("busy", iid, "fail", failed_node="node_0100")

        worker = threading.Thread(target=churn)
        worker.start()
        try:
            totals = []
            for _ in range(20):
                signed = sdk_sign(
                    base_url=base_url,
                    method="GET",
                    path=dlf_path("instances", "detail"),
                    query=[("jobName", "busy"), ("preciseQuery", True), ("limit", 50)],
                )
                response = http.get(signed.url, headers=signed.headers)
                assert response.status_code == 200
                body = response.json()
                assert all(row["status"] in ("running", "fail") for row in body["instances"])
                totals.append(body["total"])
        finally:
            stop.set()
            worker.join()
    assert totals == sorted(totals) and totals[-1] > 0


def test_serve_in_thread_reports_a_port_it_cannot_bind() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="did not start"), Sandbox(seed=False).serve_in_thread(port=port):
            pass


def test_module_entry_point_prints_url_and_credentials() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "dlf_sandbox", "--port", "0", "--activity", "0.2"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("# DLF sandbox listening on http://127.0.0.1:")
        base_url = first.rsplit(" ", 1)[1].strip()
        rest = "".join(process.stdout.readline() for _ in range(6))
        assert SANDBOX_CREDENTIALS.ak in rest and SANDBOX_CREDENTIALS.project_id in rest
        seeded = httpx.get(base_url + "/_sandbox/health").json()["instances"]
        assert seeded > 10
        for _ in range(100):  # --activity: new instances keep appearing (give up after ~10 s)
            if httpx.get(base_url + "/_sandbox/health").json()["instances"] > seeded:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no activity")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_banner_names_every_way_to_authenticate() -> None:
    text = banner(Sandbox(seed=False), "http://127.0.0.1:1")
    for value in (
        SANDBOX_CREDENTIALS.sk,
        SANDBOX_CREDENTIALS.iam_password,
        SANDBOX_CREDENTIALS.static_token,
        SANDBOX_CREDENTIALS.security_token,
        "DLF_IAM_ENDPOINT=http://127.0.0.1:1",
    ):
        assert value in text
