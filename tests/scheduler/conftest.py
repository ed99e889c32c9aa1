"""Fixtures for the scheduler tests: a real Slurm (skipped when absent, failed under CI=true), real job
directories and the real worker."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from schedjobs import make_config, new_job

from pywps.backends.scheduler import Scheduler
from pywps.jobs.jobdir import JobDir
from pywps.requestmodel import OutputRequest

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


@pytest.fixture
def make_backend(slurm: None, tmp_path: Path) -> Iterator[Callable[..., Scheduler]]:
    """Build Scheduler backends; every batch job they started is cancelled at the end."""
    made: list[tuple[Scheduler, list[str]]] = []

    def make(**processing: Any) -> Scheduler:
        backend = Scheduler(make_config(tmp_path, **processing).processing)
        backend.check()
        started: list[str] = []
        original = backend.start

        def start(job, jobdir: JobDir) -> str:
            handle = original(job, jobdir)
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
        return new_job(root, qualname, identifier, inputs, outputs, is_async)

    return make
