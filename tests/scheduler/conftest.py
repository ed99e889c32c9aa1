"""Fixtures for the scheduler tests: a real Slurm (skipped when absent, failed under CI=true), real job
directories and the real worker."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pywps.backends.scheduler import Scheduler
from pywps.config import Config
from pywps.jobs.jobdir import JobDir
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest

HERE = Path(__file__).resolve().parent
SLURM_CONF = Path("/etc/slurm/slurm.conf")
IN_CI = os.environ.get("CI", "").lower() == "true"


def slurm_missing() -> str:
    """Why Slurm cannot be used here ('' when it can). Never runs a Slurm command without its config."""
    if not SLURM_CONF.exists():
        return f"{SLURM_CONF} is missing (run .ci/slurm.sh start)"
    for command in ("sbatch", "squeue", "scancel", "sinfo"):
        if shutil.which(command) is None:
            return f"{command} is not installed (run .ci/slurm.sh start)"
    return ""


@pytest.fixture(scope="session")
def slurm() -> None:
    """A running Slurm controller and node, or a skip (a failure under CI=true)."""
    why = slurm_missing()
    if why:
        if IN_CI:
            pytest.fail(f"Slurm is required under CI=true: {why}")
        pytest.skip(why)
    os.environ["SLURM_CONF"] = str(SLURM_CONF)
    import subprocess

    state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    if state.returncode != 0 or not ({"idle", "mixed", "allocated"} & set(state.stdout.split())):
        message = f"Slurm is not up: {state.stdout.strip()} {state.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def make_config(directory: Path, **processing: Any) -> Config:
    """A Config whose [processing] section selects the scheduler backend with ``processing`` keys."""
    values = {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2", **processing}
    lines = ["[server]", f"workdir = {directory / 'work'}", f"outputpath = {directory / 'outputs'}", "",
             "[processing]"] + [f"{key} = {value}" for key, value in values.items()]
    path = directory / "pywps.cfg"
    path.write_text("\n".join(lines) + "\n")
    return Config([path], environ={})


@pytest.fixture
def make_backend(slurm: None, tmp_path: Path) -> Iterator[Callable[..., Scheduler]]:
    """Build Scheduler backends; every batch job they started is cancelled at the end."""
    made: list[tuple[Scheduler, list[str]]] = []

    def make(**processing: Any) -> Scheduler:
        backend = Scheduler(make_config(tmp_path, **processing))
        backend.check()
        started: list[str] = []
        original = backend.start

        def start(job_id: str, jobdir: Path, process_identifier: str) -> str:
            handle = original(job_id, jobdir, process_identifier)
            started.append(handle)
            return handle

        backend.start = start  # type: ignore[method-assign]
        made.append((backend, started))
        return backend

    yield make
    for backend, handles in made:
        for handle in handles:
            backend.cancel(handle)


@pytest.fixture
def make_job(tmp_path: Path) -> Callable[..., JobDir]:
    """Write a job directory for one of the processes in sched_procs.py."""
    root = tmp_path / "work" / "jobs"

    def make(qualname: str, identifier: str, inputs: dict[str, str] | None = None,
             outputs: tuple[OutputRequest, ...] = (), is_async: bool = True) -> JobDir:
        job_id = str(uuid.uuid4())
        jobdir = JobDir.create(root, job_id)
        request = ExecuteRequest(
            identifier=identifier,
            inputs=tuple(InputValue(identifier=k, data=v) for k, v in (inputs or {}).items()),
            outputs=outputs, store_execute_response=is_async, status=is_async,
        )
        jobdir.write_job({
            "job_id": job_id,
            "process": {"identifier": identifier, "module": "sched_procs", "qualname": qualname,
                        "sys_path": [str(HERE)]},
            "request": request.to_dict(),
            "limits": {},
        })
        return jobdir

    return make
