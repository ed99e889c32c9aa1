"""A real container engine and worker image for the docker-mode tests: skipped without one, except under CI.

Every test that asks for ``engine_client`` runs on each engine: Docker (``docker.from_env()``) and Podman's
Docker-compatible API (``PYWPS_TEST_PODMAN_HOST``, started by .ci/podman.sh; ``DOCKER_HOST`` is pointed at
it for the test, so backends and servers made inside the test use Podman).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywps.config import Config
from pywps.jobs.jobdir import JobDir
from pywps.requestmodel import ExecuteRequest, InputValue

IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = os.environ.get("PYWPS_TEST_DOCKER_IMAGE", "pywps-worker:latest")
PODMAN_HOST = os.environ.get("PYWPS_TEST_PODMAN_HOST") or "unix:///run/pywps-podman/podman.sock"
ENGINES = ("docker", "podman")
HERE = Path(__file__).resolve().parent
WPS4DEMO = HERE / "wps4demo"                # a PyWPS 4 process module and its WSGI app (an installable package)
WPS4_IMAGE = "pywps-wps4demo:4.8.1"        # PyWPS 4.8.1 from PyPI + wps4demo, built offline
WPS4_WORKER_IMAGE = "pywps-worker-wps4demo:latest"  # the worker image + wps4demo (the worker transport)
# The in-container server of docker_transport = wps: this project's own (the worker image has gunicorn) ...
WPS_COMMAND = ("env PYWPS_PROCESSES=pywps.processes.hostile:testing_processes gunicorn --bind unix:{socket} "
               "--workers 1 --threads 4 --timeout 0 pywps.wsgi:application")
# ... or PyWPS 4.8.1 serving wps4demo (the image's label pywps.wps_command says so)
WPS4_COMMAND = "gunicorn --bind unix:{socket} --workers 1 --threads 4 --timeout 0 wps4demo.app:application"

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
    "hostile_ticker": ("pywps.processes.hostile", "Ticker"),
    "hostile_crash": ("pywps.processes.hostile", "Crash"),
}


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"docker tests must run under CI: {why}")
    pytest.skip(why)


def engine_url(engine: str) -> str | None:
    """The API address of an engine (None: Docker as ``docker.from_env()`` finds it)."""
    return PODMAN_HOST if engine == "podman" else None


def connect(engine: str, image: str = IMAGE):
    """A client of the real ``engine`` with ``image`` present; skipped (failed under CI) otherwise."""
    try:
        import docker.errors
    except ImportError:
        _unavailable("the docker SDK is not installed")
    try:
        url = engine_url(engine)
        client = docker.DockerClient(base_url=url, timeout=60) if url else docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # noqa: BLE001  (any failure means: no engine)
        _unavailable(f"no {engine} engine: {exc} (start it: .ci/{'podman' if engine == 'podman' else 'docker-engine'}"
                     ".sh start)")
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        _unavailable(f"image {image} missing in {engine}: run .ci/"
                     f"{'podman' if engine == 'podman' else 'docker-engine'}.sh image")
    return client


@pytest.fixture(scope="session", params=ENGINES)
def engine(request) -> str:
    """The container engine of a test: each test that needs one runs on Docker and on Podman."""
    return request.param


@pytest.fixture(scope="session")
def engine_client(engine):
    """A client of the engine, with the worker image present."""
    return connect(engine)


@pytest.fixture(scope="session")
def docker_client():
    """A client of Docker itself (tests elsewhere that run on Docker only import this)."""
    return connect("docker")


@pytest.fixture(autouse=True)
def _engine_environment(request, monkeypatch):
    """Backends, servers and commands made inside a Podman test talk to Podman (``DOCKER_HOST``)."""
    if "engine" in request.fixturenames and request.getfixturevalue("engine") == "podman":
        monkeypatch.setenv("DOCKER_HOST", PODMAN_HOST)


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path) \
                and "build" not in path.relative_to(root).parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _current(client, tag: str, digest: str) -> bool:
    import docker.errors

    try:
        labels = client.images.get(tag).attrs.get("Config", {}).get("Labels") or {}
    except docker.errors.ImageNotFound:
        return False
    return labels.get("pywps.test.source") == digest


@pytest.fixture(scope="session")
def wps4_images(engine, engine_client) -> tuple[str, str]:
    """PyWPS 4.8.1 from PyPI serving wps4demo (built offline from a wheelhouse), and the worker image with
    wps4demo; built once per engine and source version (~40 s the first time)."""
    from pywps import imagebuild

    digest = _tree_hash(WPS4DEMO)
    with tempfile.TemporaryDirectory(prefix="wps4demo-") as tmp:
        source = Path(tmp) / "wps4demo"   # pip wheel builds in the source tree: a copy keeps the checkout clean
        shutil.copytree(WPS4DEMO, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        if not _current(engine_client, WPS4_IMAGE, digest):
            try:
                imagebuild.build_wps_image(["pywps==4.8.1", "gunicorn", str(source)], tag=WPS4_IMAGE,
                                           client=engine_client, labels={"pywps.test.source": digest},
                                           command=WPS4_COMMAND)
            except imagebuild.ImageBuildError as exc:
                _unavailable(f"the PyWPS 4.8.1 image could not be built: {exc}")
        if not _current(engine_client, WPS4_WORKER_IMAGE, digest):
            ctx = Path(tmp) / "ctx"
            ctx.mkdir()
            shutil.copytree(source / "wps4demo", ctx / "wps4demo")
            (ctx / "Dockerfile").write_text(
                f"FROM {IMAGE}\nCOPY wps4demo /opt/wps4demo/wps4demo\nENV PYTHONPATH=/opt/wps4demo\n")
            engine_client.images.build(path=str(ctx), tag=WPS4_WORKER_IMAGE, network_mode="none", rm=True,
                                       forcerm=True, pull=False, labels={"pywps.test.source": digest})
    return WPS4_IMAGE, WPS4_WORKER_IMAGE


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
def make_backend(engine_client) -> Iterator[Callable]:
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
    remove_containers(engine_client, f"{LABEL_INSTANCE}={instance}")


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
