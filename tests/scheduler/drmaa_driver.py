"""Runs one scenario of the scheduler backend with ``scheduler = drmaa`` and prints the outcome as JSON.

A separate process because the DRMAA library must be loaded with ``LD_PRELOAD``/``DRMAA_LIBRARY_PATH``
set before Python starts: ``python drmaa_driver.py SCENARIO DIRECTORY`` (see test_scheduler_drmaa.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from schedjobs import make_config, new_job, start

from pywps.backends.base import RunnerState
from pywps.backends.scheduler import Scheduler
from pywps.requestmodel import OutputRequest


def status_dict(status: Any) -> dict[str, Any]:
    return {"state": status.state.value, "exit_code": status.exit_code, "message": status.message}


def run(scenario: str, directory: Path) -> dict[str, Any]:
    options = {"scheduler": "drmaa"}
    if scenario == "timelimit":
        options["scheduler_time_limit"] = "0:05"
    backend = Scheduler(make_config(directory, **options).processing)
    backend.check()
    root = directory / "work" / "jobs"
    if scenario == "succeed":
        jobdir = new_job(root, "Greeter", "greeter", {"name": "SGE"},
                         (OutputRequest("greeting"), OutputRequest("report", as_reference=True)))
        handle = start(backend, jobdir)
        final = backend.wait(handle, 120)
        result = jobdir.read_result() or {}
        files = {o["identifier"]: (jobdir.files_dir / o["file"]).read_text()
                 for o in result.get("outputs", []) if o.get("file")}
        return {"handle": handle, "final": status_dict(final), "result": result, "files": files}
    if scenario == "fail":
        jobdir = new_job(root, "Failing", "failing")
        final = backend.wait(start(backend, jobdir), 120)
        return {"final": status_dict(final), "result": jobdir.read_result()}
    if scenario == "cancel":
        jobdir = new_job(root, "Sleeper", "sleeper", {"delay": "300"})
        handle = start(backend, jobdir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (jobdir.read_status() or {}).get("pid"):
            time.sleep(0.1)
        running = status_dict(backend.poll(handle))
        pid = jobdir.read_status()["pid"]
        backend.cancel(handle)
        final = backend.wait(handle, 60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.1)
        return {"running": running, "final": status_dict(final), "pid_alive": os.path.exists(f"/proc/{pid}"),
                "result": jobdir.read_result()}
    if scenario == "timelimit":
        jobdir = new_job(root, "Sleeper", "sleeper", {"delay": "120"})
        final = backend.wait(start(backend, jobdir), 120)
        return {"final": status_dict(final), "result": jobdir.read_result()}
    if scenario == "concurrent":
        jobs = [new_job(root, "Greeter", "greeter", {"name": f"n{i}"}, (OutputRequest("greeting"),))
                for i in range(6)]
        handles = {start(backend, jd): jd for jd in jobs}
        deadline = time.monotonic() + 180
        statuses: dict[str, Any] = {}
        while time.monotonic() < deadline:
            statuses = backend.poll_many(list(handles))
            if all(s.state in (RunnerState.EXITED, RunnerState.LOST) for s in statuses.values()):
                break
            time.sleep(0.3)
        return {"finals": [status_dict(s) for s in statuses.values()],
                "values": sorted((jd.read_result() or {"outputs": [{}]})["outputs"][0].get("value", "")
                                 for jd in handles.values())}
    raise SystemExit(f"unknown scenario {scenario}")


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], Path(sys.argv[2]))))
