"""The worker entry point: run one stored job from its job directory.

``python -m pywps.worker JOBDIR`` or ``python -m pywps.worker --indir IN --outdir OUT`` (container mounts).
It reads ``in/job.json``, runs the process and writes ``out/status.json``, ``out/result.json`` and
``out/files/``. It speaks files only: no web framework, no database, no container SDK.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from pywps.config import Config, enter_job_side
from pywps.configuration import set_job_config
from pywps.exceptions import NoApplicableCode, ProcessError
from pywps.execute import run_process  # at import: a job forked while another thread imports it would hang
from pywps.jobs.jobdir import JobDir
from pywps.registry import load_process
from pywps.requestmodel import ExecuteRequest

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0


_SAFE_MESSAGE = re.compile(r"[^\w .,:;'\"()\[\]{}/=+\-%@#!?<>*&|~^$\\]")


GENERIC_FAILURE = "Process failed, please check server error log"


def _client_message(exc: BaseException, debug: bool = False) -> str:
    """What the client learns of an unexpected error: a generic message, or with ``[logging] level=DEBUG``
    the exception type and first line; never a traceback (that goes to the worker log)."""
    if not debug:
        return GENERIC_FAILURE
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return "Process error: " + _SAFE_MESSAGE.sub("", text)[:300]


def run_job(jobdir: JobDir, process: Any | None = None, config_loaded: bool = False) -> int:
    """Run the job in ``jobdir``; return 0 on success, 1 on failure. Never raises."""
    pid = os.getpid()
    state = {"percent": 0, "message": "Process started"}
    lock = threading.Lock()
    done = threading.Event()
    job: dict[str, Any] = {}

    def status_cb(message: str, percent: int | None = None) -> None:
        with lock:
            state["message"] = message or state["message"]
            if percent is not None:
                state["percent"] = max(0, min(100, int(percent)))
            jobdir.write_status("started", state["percent"], state["message"], pid)

    def beat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            with lock:
                jobdir.beat()

    try:
        job = jobdir.read_job()
        if job.get("config") and not config_loaded:
            set_job_config(Config.from_dict(job["config"]))  # get_config_value in handlers: the job's part
        request = ExecuteRequest.from_dict(job["request"])
        status_cb("Process started", 0)
        threading.Thread(target=beat, name="pywps-heartbeat", daemon=True).start()
        if process is None:
            process = load_process(job["process"])
        workdir = jobdir.outdir / "work"
        workdir.mkdir(exist_ok=True)
        outputs = run_process(
            process, request, workdir=workdir, outdir=jobdir.files_dir, indir=jobdir.indir,
            status_cb=status_cb, max_single_input_size=int(job.get("limits", {}).get("maxsingleinputsize", 0)),
            output_url=job.get("output_url"), job_id=jobdir.job_id,
        )
        jobdir.write_result([o.to_dict() for o in outputs], None)
        done.set()
        with lock:
            jobdir.write_status("succeeded", 100, "Process succeeded", pid)
        code = 0
    except NoApplicableCode as exc:
        log.info("job %s failed: %s", jobdir.job_id, exc)
        # its class, not the OWS code a WPS 1.0.0 answer shows: a WPS 2.0.0 answer needs OGC 14-065's code
        code = _fail(jobdir, pid, done, lock, type(exc).__name__, exc.locator, exc.description)
    except Exception as exc:
        log.exception("job %s: process raised", jobdir.job_id)
        if isinstance(exc, ProcessError):
            code = _fail(jobdir, pid, done, lock, "NoApplicableCode", "", str(exc))
        else:
            message = _client_message(exc, job.get("debug"))
            if job.get("job_id"):  # the operator finds the traceback by this id (worker.log, server log)
                message += f" (job {job['job_id']})"
            code = _fail(jobdir, pid, done, lock, "NoApplicableCode", "", message)
    finally:
        done.set()
    if job_cleans_workdir(jobdir):
        shutil.rmtree(jobdir.outdir / "work", ignore_errors=True)
    return code


def job_cleans_workdir(jobdir: JobDir) -> bool:
    try:
        return bool(jobdir.read_job().get("cleantempdir", True))
    except (OSError, ValueError):
        return True


def _fail(jobdir: JobDir, pid: int, done: threading.Event, lock: threading.Lock,
          code: str, locator: str, text: str) -> int:
    done.set()
    try:
        jobdir.write_result([], {"code": code, "locator": locator, "text": text})
        with lock:
            jobdir.write_status("failed", 100, text, pid)
    except OSError:
        log.exception("could not write the failure of job %s", jobdir.job_id)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pywps.worker", description=__doc__.splitlines()[0])
    parser.add_argument("jobdir", nargs="?", help="the job directory (holding in/ and out/)")
    parser.add_argument("--indir", help="the job's in/ directory, when mounted elsewhere")
    parser.add_argument("--outdir", help="the job's out/ directory, when mounted elsewhere")
    args = parser.parse_args(argv)
    enter_job_side()
    if args.indir and args.outdir:
        jobdir = JobDir.split(Path(args.indir), Path(args.outdir))
    elif args.jobdir:
        jobdir = JobDir(Path(args.jobdir))
    else:
        parser.error("give JOBDIR or both --indir and --outdir")
    logging.basicConfig(
        level=logging.INFO, filename=str(jobdir.outdir / "worker.log"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    return run_job(jobdir)


if __name__ == "__main__":
    sys.exit(main())
