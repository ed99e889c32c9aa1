"""Helpers shared by the scheduler tests and the DRMAA driver: configs and job directories (no pytest)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from pywps.config import Config
from pywps.jobs.jobdir import JobDir
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest

HERE = Path(__file__).resolve().parent


def make_config(directory: Path, **processing: Any) -> Config:
    """A Config whose [processing] section selects the scheduler backend with ``processing`` keys."""
    values = {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2", **processing}
    lines = ["[server]", f"workdir = {directory / 'work'}", f"outputpath = {directory / 'outputs'}", "",
             "[processing]"] + [f"{key} = {value}" for key, value in values.items()]
    path = directory / "pywps.cfg"
    path.write_text("\n".join(lines) + "\n")
    return Config([path], environ={})


def new_job(root: Path, qualname: str, identifier: str, inputs: dict[str, str] | None = None,
            outputs: tuple[OutputRequest, ...] = (), is_async: bool = True) -> JobDir:
    """Write a job directory under ``root`` for one of the processes in sched_procs.py."""
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


def start(backend: Any, jobdir: JobDir) -> str:
    """Start the job in ``jobdir`` through ``backend``; return the handle."""
    job = jobdir.read_job()
    from pywps.jobs.model import JobRecord

    return backend.start(JobRecord(id=job["job_id"], process=job["process"]["identifier"], request="{}"), jobdir)
