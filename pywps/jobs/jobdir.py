"""The files a job travels as (pure stdlib: the worker inside a container imports this).

Layout under ``[server] workdir``/jobs/JOB_ID::

    in/job.json       the job: process reference, ExecuteRequest.to_dict(), limits   (host writes)
    in/inputs/NAME    reference inputs fetched by the host
    out/status.json   {"status", "percent", "message", "heartbeat", "pid"}          (runner writes)
    out/result.json   {"outputs": [OutputResult.to_dict()], "exception": null | {...}}
    out/files/        output files
    out/worker.log

The server reads ``out/`` only through :mod:`pywps.jobs.handback`: everything there is the runner's,
hostile input. The methods below that read ``out/`` are the worker's own.

Every JSON file is written atomically (a temporary file in the same directory, then ``os.replace``), so
a reader sees the old or the new document, never half of one. No fsync: the files need to survive a
crashed runner, not a crashed kernel.

Permissions: the job's directory is 0o700 (the server's only); ``in/`` is 0o755 (readable by the
runner's uid), ``in/job.json`` is 0o600 (it holds the job's inputs; the docker backend gives it to the
container's uid). ``out/`` and ``out/files/`` are 0o777 so a runner under another uid (a non-root user
inside a container) can write there; pass ``out_uid`` to ``JobDir.create`` to chown them to that uid and
keep them 0o755 instead (needs root).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JOB_JSON = "job.json"
STATUS_JSON = "status.json"
RESULT_JSON = "result.json"
WORKER_LOG = "worker.log"
#: the ``PYWPS_*`` environment variables a job keeps: the configuration file and process list (PyWPS 4's
#: names, no secret) and its own id; every other one is an override of the server's configuration
JOB_ENV_KEPT = frozenset({"PYWPS_CFG", "PYWPS_PROCESSES", "PYWPS_JOB_ID"})


def valid_job_id(job_id: str) -> bool:
    """Whether ``job_id`` is a canonical lower-case uuid string (so it is safe as a directory name)."""
    try:
        return str(uuid.UUID(job_id)) == job_id
    except (ValueError, TypeError, AttributeError):
        return False


def job_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` as a job may see it: without the server's ``PYWPS_<SECTION>_<KEY>`` overrides (such as
    ``PYWPS_LOGGING_DATABASE`` with its password); a job's configuration is ``job.json``'s (``Config.for_job``)."""
    return {name: value for name, value in environ.items() if not name.startswith("PYWPS_") or name in JOB_ENV_KEPT}


def write_json_atomic(path: Path, data: Any, mode: int = 0o644) -> None:
    """Write ``data`` as JSON to ``path`` (with ``mode``) so readers never see a partial file."""
    payload = json.dumps(data, separators=(",", ":")).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json(path: Path) -> Any | None:
    """The JSON document at ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


class JobDir:
    """One job's directory: ``in/`` written by the host, ``out/`` written by the runner."""

    def __init__(self, path: Path | str) -> None:
        self.path: Path | None = Path(path)
        self._indir = self.path / "in"
        self._outdir = self.path / "out"
        self._status: dict[str, Any] | None = None

    @classmethod
    def create(cls, root: Path | str, job_id: str, out_uid: int | None = None) -> JobDir:
        """Make ``root/job_id`` with its ``in/`` and ``out/``; ``job_id`` must be a uuid. ``in/inputs/`` is
        made by admission when a reference input is fetched, ``out/files/`` by the runner when a job writes
        an output file: a job that needs neither gets neither."""
        if not valid_job_id(job_id):
            raise ValueError(f"job id {job_id!r} is not a uuid")
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        path = root / job_id
        path.mkdir(mode=0o700)
        os.chmod(path, 0o700)  # no other local user lists or reads a job (runners see in/ and out/ as mounts)
        jd = cls(path)
        jd.indir.mkdir(mode=0o755)
        os.chmod(jd.indir, 0o755)
        jd.outdir.mkdir()
        if out_uid is None:
            os.chmod(jd.outdir, 0o777)
        else:
            os.chown(jd.outdir, out_uid, -1)
            os.chmod(jd.outdir, 0o755)
        return jd

    @classmethod
    def open(cls, root: Path | str, job_id: str) -> JobDir:
        """The existing directory of a job under ``root``; ``job_id`` must be a uuid."""
        if not valid_job_id(job_id):
            raise ValueError(f"job id {job_id!r} is not a uuid")
        return cls(Path(root) / job_id)

    @classmethod
    def split(cls, indir: Path | str, outdir: Path | str) -> JobDir:
        """A job directory whose halves live elsewhere (a runner that sees them as mounts)."""
        jd = cls.__new__(cls)
        jd.path = None
        jd._indir = Path(indir)
        jd._outdir = Path(outdir)
        jd._status = None
        return jd

    @property
    def job_id(self) -> str:
        """The job id: the directory name, or for a split directory the ``job_id`` in ``in/job.json``."""
        if self.path is not None:
            return self.path.name
        job = read_json(self._indir / JOB_JSON)
        return str(job.get("job_id", "")) if isinstance(job, dict) else ""

    @property
    def indir(self) -> Path:
        """``in/``: the job description and fetched inputs."""
        return self._indir

    @property
    def outdir(self) -> Path:
        """``out/``: status, result, output files and log."""
        return self._outdir

    @property
    def inputs_dir(self) -> Path:
        """``in/inputs/``: reference inputs fetched by the host."""
        return self._indir / "inputs"

    @property
    def files_dir(self) -> Path:
        """``out/files/``: output files (OutputResult.file is relative to it)."""
        return self._outdir / "files"

    @property
    def log_path(self) -> Path:
        """``out/worker.log``."""
        return self._outdir / WORKER_LOG

    @property
    def status_path(self) -> Path:
        """``out/status.json``."""
        return self._outdir / STATUS_JSON

    @property
    def result_path(self) -> Path:
        """``out/result.json``."""
        return self._outdir / RESULT_JSON

    def write_job(self, job: dict[str, Any]) -> None:
        """Write ``in/job.json``, readable by its owner only (a backend that runs the job under another uid
        hands it to that uid; see ``backends/docker.py``)."""
        write_json_atomic(self._indir / JOB_JSON, job, mode=0o600)

    def read_job(self) -> dict[str, Any]:
        """Read ``in/job.json`` (FileNotFoundError when missing)."""
        return json.loads((self._indir / JOB_JSON).read_bytes())

    def write_status(self, status: str, percent: int = 0, message: str = "", pid: int | None = None) -> None:
        """Write ``out/status.json`` with a fresh heartbeat."""
        doc = {
            "status": str(status),
            "percent": int(percent),
            "message": message,
            "heartbeat": time.time(),
            "pid": os.getpid() if pid is None else pid,
        }
        write_json_atomic(self.status_path, doc)
        self._status = doc

    def beat(self) -> None:
        """Refresh the heartbeat in ``out/status.json``, keeping the rest."""
        doc = self._status if self._status is not None else self.read_status()
        if doc is None:
            doc = {"status": "started", "percent": 0, "message": "", "pid": os.getpid()}
        doc = {**doc, "heartbeat": time.time()}
        write_json_atomic(self.status_path, doc)
        self._status = doc

    def read_status(self) -> dict[str, Any] | None:
        """The last ``out/status.json``, or None when there is none yet."""
        return read_json(self.status_path)

    def write_result(self, outputs: list[dict[str, Any]], exception: dict[str, Any] | None = None) -> None:
        """Write ``out/result.json``: the outputs (OutputResult.to_dict()) or the exception."""
        write_json_atomic(self.result_path, {"outputs": outputs, "exception": exception})

    def read_result(self) -> dict[str, Any] | None:
        """The ``out/result.json`` document, or None when the runner wrote none."""
        return read_json(self.result_path)

    def remove(self) -> None:
        """Delete the whole job directory (both halves when split); missing parts are fine."""
        targets = [self.path] if self.path is not None else [self._indir, self._outdir]
        for target in targets:
            shutil.rmtree(target, ignore_errors=True)

    def __repr__(self) -> str:
        if self.path is not None:
            return f"JobDir({str(self.path)!r})"
        return f"JobDir.split({str(self._indir)!r}, {str(self._outdir)!r})"
