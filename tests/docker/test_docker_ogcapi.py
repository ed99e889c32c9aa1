"""OGC API - Processes in mode docker over real HTTP: DELETE /jobs/{id} stops the container's work."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import wait_for
from tests.docker.conftest import IMAGE

pytestmark = pytest.mark.docker


def _ticks(server, job_id: str) -> int:
    path = server.directory / "work" / "jobs" / job_id / "out" / "ticks"
    try:
        return len(path.read_text().splitlines())
    except (FileNotFoundError, PermissionError):
        return 0


def test_dismiss_stops_a_container(live_server, docker_client, monkeypatch):
    monkeypatch.setenv("PYWPS_PROCESSES", "pywps.processes.hostile:testing_processes")
    server = live_server(processing={"mode": "docker", "docker_image": IMAGE})
    base = f"http://127.0.0.1:{server.port}/ogcapi/"
    resp = requests.post(f"{base}processes/hostile_ticker/execution", json={"inputs": {"seconds": 120}},
                         headers={"Prefer": "respond-async"}, timeout=60)
    assert resp.status_code == 201, resp.text
    job_id = resp.json()["jobID"]
    wait_for(lambda: _ticks(server, job_id) >= 3, timeout=90)
    assert requests.delete(f"{base}jobs/{job_id}", timeout=60).json()["status"] == "dismissed"
    after = _ticks(server, job_id)
    time.sleep(1.0)
    assert _ticks(server, job_id) == after, "the container kept ticking after DELETE answered"
    assert requests.get(f"{base}jobs/{job_id}/results", timeout=30).status_code == 410
