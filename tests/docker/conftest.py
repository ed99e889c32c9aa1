"""A real Docker engine and worker image for the docker-mode tests: skipped without one, except under CI."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywps.config import Config
from pywps.jobs.jobdir import JobDir
from pywps.requestmodel import ExecuteRequest, InputValue

IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = os.environ.get("PYWPS_TEST_DOCKER_IMAGE", "pywps-worker:latest")

# identifier -> (module, class) of the processes the tests run inside containers
PROCESSES = {
    "say_hello": ("pywps.processes.examples", "SayHello"),
    "sleep": ("pywps.processes.examples", "Sleep"),
    "hostile_network": ("pywps.processes.hostile", "NetworkConnect"),
    "hostile_write": ("pywps.processes.hostile", "WriteOutside"),
    "hostile_read": ("pywps.processes.hostile", "ReadOther"),
    "hostile_forkbomb": ("pywps.processes.hostile", "ForkBomb"),
    "hostile_memory": ("pywps.processes.hostile", "Allocate"),
    "hostile_loop": ("pywps.processes.hostile", "EndlessLoop"),
    "hostile_sleep": ("pywps.processes.hostile", "SleepLong"),
}


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"docker tests must run under CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def docker_client():
    """A client of the real engine with the worker image present."""
    try:
        import docker.errors
    except ImportError:
        _unavailable("the docker SDK is not installed")
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # noqa: BLE001  (any failure means: no engine)
        _unavailable(f"no Docker engine: {exc}")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f"image {IMAGE} missing: run .ci/docker-engine.sh image")
    return client


def docker_config(workdir: Path | None = None, **processing: object) -> Config:
    """A Config for mode docker with ``processing`` keys on top of the defaults."""
    config = Config(environ={})
    if workdir is not None:
        config.parser.set("server", "workdir", str(workdir))
    config.parser.set("processing", "mode", "docker")
    config.parser.set("processing", "docker_image", IMAGE)
    for key, value in processing.items():
        config.parser.set("processing", key, str(value))
    return config


@pytest.fixture
def make_backend(docker_client) -> Iterator[Callable]:
    """Container backends labelled with a per-test instance id; their containers are removed afterwards."""
    from pywps.backends.docker import LABEL_INSTANCE, Container

    instance = f"pytest-{uuid.uuid4().hex[:8]}"

    made: list[Container] = []

    def make(workdir: Path | None = None, **processing: object) -> Container:
        made.append(Container(docker_config(workdir, **processing).processing, instance_id=instance))
        return made[-1]

    yield make
    for backend in made:
        backend.close()
    remove_containers(docker_client, f"{LABEL_INSTANCE}={instance}")


def remove_containers(client, label: str) -> None:
    """Remove every container carrying ``label`` (one already being removed is fine)."""
    import docker.errors

    for summary in client.api.containers(all=True, filters={"label": label}):
        try:
            client.api.remove_container(summary["Id"], force=True, v=True)
        except docker.errors.APIError as exc:
            if exc.status_code not in (404, 409):
                raise


@pytest.fixture
def backend(make_backend):
    return make_backend()


@pytest.fixture
def jobs_root(tmp_path: Path) -> Path:
    root = tmp_path / "jobs"
    root.mkdir()
    return root


def make_job(root: Path, identifier: str, **inputs: object) -> JobDir:
    """A job directory as the dispatcher writes it, for a process the worker image holds."""
    module, qualname = PROCESSES[identifier]
    job_id = str(uuid.uuid4())
    jobdir = JobDir.create(root, job_id)
    request = ExecuteRequest(identifier, inputs=tuple(InputValue(k, data=str(v)) for k, v in inputs.items()))
    jobdir.write_job({
        "job_id": job_id,
        "process": {"identifier": identifier, "module": module, "qualname": qualname, "sys_path": []},
        "request": request.to_dict(),
        "limits": {},
        "cleantempdir": True,
    })
    return jobdir


def output(jobdir: JobDir, identifier: str) -> str | None:
    """A literal output's value from ``out/result.json``."""
    result = jobdir.read_result() or {}
    for item in result.get("outputs", []):
        if item["identifier"] == identifier:
            return item.get("value")
    return None


def outcome(jobdir: JobDir) -> dict[str, str]:
    """The JSON ``outcome`` output of the hostile probes."""
    value = output(jobdir, "outcome")
    assert value is not None, f"no outcome: {jobdir.read_result()} / {_log(jobdir)}"
    return json.loads(value)


def _log(jobdir: JobDir) -> str:
    try:
        return jobdir.log_path.read_text()[-2000:]
    except OSError:
        return "(no worker.log)"
