"""The backend contract: every ``Processing`` backend passes this one suite on its real engine.

multiprocessing always; docker (a real engine; both transports, on Docker and on Podman's Docker-compatible
API; the wps transport also from a pool of pre-started containers), scheduler on Slurm and scheduler on Grid
Engine through DRMAA under CI=true, never skipped there. The DRMAA library must be loaded before Python
starts, so the Grid Engine run is this same file in a child pytest with the DRMAA environment
(:func:`test_grid_engine_passes_the_contract`). A new backend is done when it passes this suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pywps.backends.base import Processing, RunnerState, RunnerStatus, backend_class
from pywps.config import Config
from pywps.exceptions import OperationNotSupported
from pywps.jobs.handback import HandBack
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord
from pywps.registry import process_spec
from pywps.requestmodel import ExecuteRequest, InputValue
from tests.conftest import IN_CI, ROOT, wait_for

ONLY = os.environ.get("PYWPS_CONTRACT_BACKEND", "")     # set in the Grid Engine child run
FINAL = (RunnerState.EXITED, RunnerState.LOST)


@dataclass
class Engine:
    """How to build one backend for the suite, and what it promises."""

    name: str
    settings: dict[str, str]
    limit: dict[str, str] | Callable[[], dict[str, str]]  # settings that make the memory/time-limit job fail
    limit_job: tuple[str, dict[str, str]]
    limit_message: str                    # a fragment of the runner's message for that job ("" = any)
    cancel_within: float = 3.0            # seconds after cancel() returns until the runner is gone
    needs: Callable[[], str] = field(default=lambda: "")
    environ: dict[str, str] = field(default_factory=dict)  # set while the engine's backends are made and used
    crash_leaves_result: bool = False     # a runner that survives its process's crash reports it as a failure
    prepare: Callable[[Processing], None] = field(default=lambda backend: None)  # after bind() and check()


def _docker_missing(url: str | None = None) -> str:
    try:
        import docker

        client = docker.DockerClient(base_url=url, timeout=30) if url else docker.from_env(timeout=30)
        client.ping()
        client.images.get(DOCKER_IMAGE)
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine or no image
        return f"no {'Podman' if url else 'Docker'} engine with the worker image: {exc}"
    return ""


DOCKER_IMAGE = os.environ.get("PYWPS_TEST_DOCKER_IMAGE", "pywps-worker:latest")
PODMAN_HOST = os.environ.get("PYWPS_TEST_PODMAN_HOST") or "unix:///run/pywps-podman/podman.sock"
# docker_transport = wps: this project's own WPS serving the suite's processes in each job's container
WPS = {"docker_transport": "wps",
       "docker_wps_command": "env PYWPS_PROCESSES=pywps.processes.hostile:testing_processes gunicorn --bind "
                             "unix:{socket} --workers 1 --threads 4 --timeout 0 pywps.wsgi:application"}


def _docker_engine(name: str, podman: bool = False, **settings: str) -> Engine:
    return Engine(
        name, {"mode": "docker", "docker_image": DOCKER_IMAGE, **settings},
        limit={"docker_memory": "128m"}, limit_job=("hostile_memory", {"megabytes": "448"}),
        limit_message="out of memory", needs=lambda: _docker_missing(PODMAN_HOST if podman else None),
        environ={"DOCKER_HOST": PODMAN_HOST} if podman else {}, crash_leaves_result="docker_transport" in settings,
        prepare=_fill_pool if "docker_pool_size" in settings else lambda backend: None)


def _fill_pool(backend: Processing) -> None:
    """A warm pool before the first job (as a server has once it served one): every job the suite starts on
    this backend is handed to a pre-started container whose server already listens."""
    assert backend.fill_pool() >= 1, "no pool container could be started"  # type: ignore[attr-defined]


def _slurm_missing() -> str:
    """Never runs a Slurm command while its configuration is missing (it would fall back to DNS)."""
    import shutil

    if not Path("/etc/slurm/slurm.conf").exists() or shutil.which("sbatch") is None:
        return "Slurm is not set up (run .ci/slurm.sh start)"
    os.environ["SLURM_CONF"] = "/etc/slurm/slurm.conf"
    return ""


def _above_this_process(megabytes: int) -> Callable[[], dict[str, str]]:
    """``max_memory`` for a job forked from this process: RLIMIT_AS counts the address space the child
    inherits (pytest's threads and malloc arenas reserve up to a GiB), so the limit is that plus
    ``megabytes``; below it, the job could not even start its heartbeat thread. A job forked by the fork
    server inherits some 40 MiB only."""
    def limit() -> dict[str, str]:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        return {"max_memory": f"{size // 1024 + megabytes}m"}

    return limit


def _preload_in_forkserver(backend: Processing) -> None:
    """The processes of the suite in the fork server, as create_app does with the served ones."""
    from pywps.processes import hostile

    backend.preload(hostile.testing_processes())
    assert backend.forkserver_ready(60), "the fork server did not load the processes"


ENGINES = {
    "multiprocessing": Engine(
        "multiprocessing", {"mode": "multiprocessing", "forkserver": "false"},
        limit=_above_this_process(256), limit_job=("hostile_memory", {"megabytes": "448"}), limit_message=""),
    "forkserver": Engine(
        "forkserver", {"mode": "multiprocessing", "forkserver": "true"},
        limit={"max_memory": "256m"}, limit_job=("hostile_memory", {"megabytes": "448"}), limit_message="",
        prepare=_preload_in_forkserver),
    "docker": _docker_engine("docker"),
    "docker-wps": _docker_engine("docker-wps", **WPS),
    "podman": _docker_engine("podman", podman=True),
    "podman-wps": _docker_engine("podman-wps", podman=True, **WPS),
    "docker-wps-pool": _docker_engine("docker-wps-pool", **WPS, docker_pool_size="1"),
    "podman-wps-pool": _docker_engine("podman-wps-pool", podman=True, **WPS, docker_pool_size="1"),
    "slurm": Engine(
        "slurm", {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2",
                  "scheduler_query_interval": "0.5"},
        limit={"scheduler_memory": "100mb"}, limit_job=("hostile_memory", {"megabytes": "400"}),
        limit_message="out of memory on the cluster", needs=_slurm_missing),
    "drmaa": Engine(
        "drmaa", {"mode": "scheduler", "scheduler": "drmaa", "scheduler_poll_interval": "0.2",
                  "scheduler_query_interval": "0.5"},
        limit={"scheduler_time_limit": "0:05"}, limit_job=("hostile_ticker", {"seconds": "120"}),
        limit_message="time limit", cancel_within=10.0),
}
PARAMS = [ONLY] if ONLY else ["multiprocessing", "forkserver", "docker", "docker-wps", "docker-wps-pool", "podman",
                              "podman-wps", "podman-wps-pool", "slurm"]


@pytest.fixture(params=PARAMS)
def engine(request) -> Engine:
    engine = ENGINES[request.param]
    why = engine.needs()
    if why:
        if IN_CI:
            pytest.fail(f"the {engine.name} contract must run under CI=true: {why}")
        pytest.skip(why)
    return engine


@pytest.fixture
def make(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Processing]]:
    """Backends of the engine on one work directory; every runner they started is cancelled at the end."""
    made: list[tuple[Processing, list[str]]] = []
    for name, value in engine.environ.items():
        monkeypatch.setenv(name, value)

    def build(**extra: str) -> Processing:
        config = Config(environ={})
        config.parser.set("server", "workdir", str(tmp_path / "work"))
        for key, value in {**engine.settings, **extra}.items():
            config.parser.set("processing", key, value)
        backend = backend_class(config.processing.mode)(config.processing)
        backend.bind(f"contract-{uuid.uuid4().hex[:8]}")
        backend.check()
        engine.prepare(backend)
        started: list[str] = []
        made.append((backend, started))
        return backend

    yield build
    for backend, handles in made:
        for handle in handles:
            backend.cancel(handle)
            backend.cleanup(handle)
        if hasattr(backend, "close"):
            backend.close()


@pytest.fixture
def run(tmp_path: Path, engine: Engine) -> Callable[..., tuple[str, JobRecord, JobDir]]:
    """Write a job directory as admission does and start it on ``backend``."""
    root = tmp_path / "work" / "jobs"

    def start(backend: Processing, identifier: str, **inputs: str) -> tuple[str, JobRecord, JobDir]:
        from pywps.processes import hostile

        process = next(p for p in hostile.testing_processes() if p.identifier == identifier)
        request = ExecuteRequest(identifier, inputs=tuple(InputValue(k, data=v) for k, v in inputs.items()),
                                 store_execute_response=True, status=True)
        job = JobRecord.new(identifier, json.dumps(request.to_dict()), True, backend.name)
        jobdir = JobDir.create(root, job.id)
        jobdir.write_job({"job_id": job.id, "process": process_spec(process), "request": request.to_dict(),
                          "limits": {}, "cleantempdir": True, "config": {}})
        handle = backend.start(job, jobdir)
        if "docker_pool_size" in engine.settings:  # handed to a pre-started container: the slot is its out/
            assert jobdir.outdir.is_symlink(), "the job did not run in a pool container"
        return handle, job, jobdir

    return start


def handback(jobdir: JobDir) -> HandBack:
    """The job's hand-back as the dispatcher reads it: ``out/`` may be the server's link into its work directory
    (a pool slot)."""
    assert jobdir.path is not None
    return HandBack(jobdir.outdir, trusted_roots=(jobdir.path.parent.parent,))


def ticks(jobdir: JobDir) -> int:
    """Lines of the ticker's ``out/ticks``; with docker_transport = wps, of the in-container server's job
    (its handler runs under ``out/server/``)."""
    count = 0
    for path in [jobdir.outdir / "ticks", *jobdir.outdir.glob("server/work/jobs/*/out/ticks")]:
        try:
            count += len(path.read_text().splitlines())
        except OSError:
            pass
    return count


def still_ticking(jobdir: JobDir, seconds: float = 1.0) -> bool:
    before = ticks(jobdir)
    time.sleep(seconds)
    return ticks(jobdir) > before


def test_a_job_succeeds_with_its_outputs(make, run):
    backend = make()
    handle, _, jobdir = run(backend, "say_hello", name="contract")
    status = backend.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED, status
    result = handback(jobdir).result()
    assert result and result["exception"] is None, result
    assert result["outputs"][0]["value"] == "Hello contract"
    backend.cleanup(handle)
    backend.cleanup(handle)  # idempotent


def test_poll_and_poll_many_agree_while_running(make, run):
    backend = make()
    handle, _, jobdir = run(backend, "hostile_ticker", seconds="30")
    wait_for(lambda: ticks(jobdir) > 0, 120, 0.1)
    single = backend.poll(handle)
    many = backend.poll_many([handle])
    assert set(many) == {handle}
    assert single.state in (RunnerState.RUNNING, RunnerState.PENDING)
    assert many[handle].state in (RunnerState.RUNNING, RunnerState.PENDING)
    backend.cancel(handle)


def test_a_process_error_fails_the_job_with_its_message(make, run):
    backend = make()
    handle, _, jobdir = run(backend, "hostile_handback", attack="hardlink", target="/nonexistent/file")
    status = backend.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED, status
    result = handback(jobdir).result()
    assert result and result["exception"], result
    assert "hard link refused here" in result["exception"]["text"]


def test_a_crash_without_a_result(make, run, engine):
    backend = make()
    handle, _, jobdir = run(backend, "hostile_crash")
    status = backend.wait(handle, timeout=120)
    assert status.state in FINAL, status
    result = handback(jobdir).result()
    if engine.crash_leaves_result:  # the WPS server in the container outlives its job and reports it failed
        assert result and result["exception"] and not result["outputs"], result
        return
    assert result is None
    assert status.exit_code != 0 or status.message, status


def test_cancel_really_stops_the_work_and_is_idempotent(make, run, engine):
    backend = make()
    handle, _, jobdir = run(backend, "hostile_ticker", seconds="120")
    wait_for(lambda: ticks(jobdir) > 2, 120, 0.1)
    backend.cancel(handle)
    time.sleep(engine.cancel_within)
    assert not still_ticking(jobdir), "the job still runs after cancel"
    backend.cancel(handle)
    status = wait_for(lambda: (s := backend.poll(handle)).state in FINAL and s, 60, 0.2)
    assert isinstance(status, RunnerStatus)
    backend.cleanup(handle)
    backend.cancel(handle)  # after cleanup too


def test_pause_and_resume_or_a_clear_refusal(make, run):
    backend = make()
    handle, _, jobdir = run(backend, "hostile_ticker", seconds="120")
    wait_for(lambda: ticks(jobdir) > 2, 120, 0.1)
    if not backend.can_pause:
        with pytest.raises(OperationNotSupported, match="cannot pause"):
            backend.pause(handle)
        with pytest.raises(OperationNotSupported, match="cannot resume"):
            backend.resume(handle)
        backend.cancel(handle)
        return
    backend.pause(handle)
    wait_for(lambda: backend.poll(handle).state == RunnerState.PAUSED, 30, 0.1)
    time.sleep(0.3)
    assert not still_ticking(jobdir)
    backend.resume(handle)
    wait_for(lambda: backend.poll(handle).state == RunnerState.RUNNING, 30, 0.1)
    assert still_ticking(jobdir)
    backend.cancel(handle)


def test_a_new_instance_re_attaches_polls_and_cancels(make, run, engine):
    first = make()
    handle, _, jobdir = run(first, "hostile_ticker", seconds="120")
    wait_for(lambda: ticks(jobdir) > 2, 120, 0.1)
    second = make()  # a server instance that takes over (the first one is gone)
    second.adopt([handle])
    assert second.poll(handle).state in (RunnerState.RUNNING, RunnerState.PENDING)
    second.cancel(handle)
    time.sleep(engine.cancel_within)
    assert not still_ticking(jobdir)
    wait_for(lambda: second.poll(handle).state in FINAL, 60, 0.2)


def test_a_job_over_its_limit_fails(make, run, engine):
    backend = make(**(engine.limit() if callable(engine.limit) else engine.limit))
    identifier, inputs = engine.limit_job
    handle, _, jobdir = run(backend, identifier, **inputs)
    status = backend.wait(handle, timeout=240)
    assert status.state in FINAL, status
    result = handback(jobdir).result()
    assert result is None or result["exception"], result   # never a success
    if engine.limit_message:
        assert engine.limit_message in status.message, status


def test_grid_engine_passes_the_contract(tmp_path):
    """The whole suite again, on Grid Engine through DRMAA, in a child with the DRMAA environment."""
    from tests.scheduler.test_scheduler_drmaa import REQUIRED, SCRIPT, _missing

    why = _missing()
    if why:
        if REQUIRED or IN_CI:
            pytest.fail(why)
        pytest.skip(why)
    env = dict(os.environ)
    out = subprocess.run(["bash", str(SCRIPT), "env"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        for item in line.removeprefix("export ").split():
            name, _, value = item.partition("=")
            env[name] = value
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYWPS_CONTRACT_BACKEND"] = "drmaa"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                           "-k", "not grid_engine", "--basetemp", str(tmp_path / "child")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " skipped" not in proc.stdout, proc.stdout[-2000:]

