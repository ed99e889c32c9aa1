"""The server image (top-level Dockerfile), built offline and run as docs/deploy.md says: no network at all
(--network none), a mounted pywps.cfg, a data volume, and gunicorn's Unix socket in a mounted directory,
through which this test talks HTTP to it from the host."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path

import pytest
from lxml import etree

from tests.deploy.conftest import NS, execute_url, job_id, status_of, unavailable, unix_get

LABEL = "pywps.test"


get = unix_get


@pytest.fixture(scope="module")
def server_image():
    try:
        import docker
    except ImportError:
        unavailable("the docker SDK is not installed")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine
        unavailable(f"no Docker engine: {exc}")
    from pywps import imagebuild

    started = time.monotonic()
    try:
        tag = imagebuild.build_server_image(client=client)
    except imagebuild.ImageBuildError as exc:
        if "debootstrap" in str(exc) or "not reachable" in str(exc):
            unavailable(str(exc))
        raise
    print(f"server image built in {time.monotonic() - started:.1f} s")
    yield client, tag
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=server-image"}):
        container.remove(force=True)


def writable_by_image_user(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 65534, 65534)
    return path


def test_server_image_end_to_end_over_a_unix_socket(server_image, tmp_path: Path):
    client, tag = server_image
    data = writable_by_image_user(tmp_path / "data")
    run = writable_by_image_user(tmp_path / "run")
    cfg = tmp_path / "pywps.cfg"
    cfg.write_text(
        "[server]\n"
        "url = http://wps.example.org/wps\n"
        "outputurl = http://wps.example.org/outputs/\n"
        "workdir = /var/lib/pywps/work\n"
        "outputpath = /var/lib/pywps/outputs\n"
        "parallelprocesses = 2\n\n"
        "[logging]\n"
        "database = sqlite:////var/lib/pywps/jobs.sqlite\n"
        "level = INFO\n"
    )
    cfg.chmod(0o644)
    container = client.containers.run(
        tag, detach=True, network_mode="none", init=True, name=f"pywps-server-test-{uuid.uuid4().hex[:8]}",
        labels={LABEL: "server-image"},
        volumes={str(cfg): {"bind": "/etc/pywps/pywps.cfg", "mode": "ro"},
                 str(data): {"bind": "/var/lib/pywps", "mode": "rw"},
                 str(run): {"bind": "/run/pywps", "mode": "rw"}},
    )
    try:
        container.reload()
        assert container.attrs["HostConfig"]["NetworkMode"] == "none"
        sock = run / "gunicorn.sock"
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(sock, "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, container.logs().decode()[-3000:]
            time.sleep(0.3)
        wps = "/wps"
        status, body, _ = get(sock, f"{wps}?service=WPS&request=GetCapabilities")
        assert status == 200 and b"say_hello" in body
        assert b"http://wps.example.org/wps" in body  # the mounted configuration is the one in force

        status, body, _ = get(sock, execute_url(wps, "say_hello", "name=container"))
        assert status_of(body)[0] == "ProcessSucceeded" and b"Hello container" in body

        status, body, _ = get(sock, execute_url(wps, "echo_complex", "input=in%20a%20box@mimeType=text/plain",
                                                True, "&ResponseDocument=output@asReference=true"))
        location = etree.fromstring(body).get("statusLocation")
        assert location.startswith("http://wps.example.org/outputs/")
        deadline = time.monotonic() + 60
        while status_of(get(sock, location)[1])[0] not in ("ProcessSucceeded", "ProcessFailed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        document = get(sock, location)[1]
        assert status_of(document)[0] == "ProcessSucceeded", document
        href = etree.fromstring(document).xpath("//wps:Reference/@href", namespaces=NS)[0]
        status, stored, _ = get(sock, href)
        assert status == 200 and stored == b"in a box"
        # the outputs and the job store are in the mounted volume, owned by the image's user
        published = data / "outputs" / job_id(location)
        assert [p.read_bytes() for p in published.iterdir()] == [b"in a box"]
        assert (data / "jobs.sqlite").stat().st_uid == 65534
        logs = container.logs().decode()
        assert "Traceback" not in logs, logs[-3000:]
    finally:
        container.stop(timeout=10)
        container.remove(force=True)


def test_server_image_in_docker_mode(server_image, tmp_path: Path):
    """mode = docker from inside the server image: the engine's socket mounted (and its group added), the job
    directories at the same path inside the server container as on the host, so the engine can mount them
    into each job's container. The server image is built with `-r docker` (the docker SDK)."""
    client, _ = server_image
    from pywps import imagebuild

    try:
        client.images.get(imagebuild.WORKER_TAG)
    except Exception:  # noqa: BLE001 - the worker image is built by .ci/docker-engine.sh image
        unavailable(f"the worker image {imagebuild.WORKER_TAG} is missing: run .ci/docker-engine.sh image")
    tag = imagebuild.build_server_image(tag="pywps:docker-mode-test", extra=["docker"], client=client)
    shared = writable_by_image_user(tmp_path / "srv")
    run = writable_by_image_user(tmp_path / "run")
    cfg = tmp_path / "pywps.cfg"
    cfg.write_text(
        "[server]\n"
        "url = http://localhost/wps\n"
        "outputurl = http://localhost/outputs/\n"
        f"workdir = {shared}/work\n"
        f"outputpath = {shared}/outputs\n\n"
        "[processing]\n"
        "mode = docker\n"
        f"docker_image = {imagebuild.WORKER_TAG}\n\n"
        "[logging]\n"
        f"database = sqlite:///{shared}/jobs.sqlite\n"
    )
    cfg.chmod(0o644)
    engine_socket = "/var/run/docker.sock"
    container = client.containers.run(
        tag, detach=True, network_mode="none", init=True, name=f"pywps-server-docker-{uuid.uuid4().hex[:8]}",
        labels={LABEL: "server-image"}, group_add=[str(os.stat(engine_socket).st_gid)],
        volumes={str(cfg): {"bind": "/etc/pywps/pywps.cfg", "mode": "ro"},
                 str(shared): {"bind": str(shared), "mode": "rw"},  # the same path inside and outside
                 str(run): {"bind": "/run/pywps", "mode": "rw"},
                 engine_socket: {"bind": engine_socket, "mode": "rw"}},
    )
    try:
        sock = run / "gunicorn.sock"
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(sock, "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, container.logs().decode()[-3000:]
            time.sleep(0.3)
        status, body, _ = get(sock, "/health")
        assert status == 200 and b'"mode": "docker"' in body
        status, body, _ = get(sock, execute_url("/wps", "say_hello", "name=nested", True))
        assert status == 200, body
        location = etree.fromstring(body).get("statusLocation")
        deadline = time.monotonic() + 90
        while status_of(get(sock, location)[1])[0] not in ("ProcessSucceeded", "ProcessFailed"):
            assert time.monotonic() < deadline, container.logs().decode()[-3000:]
            time.sleep(0.5)
        document = get(sock, location)[1]
        assert status_of(document)[0] == "ProcessSucceeded", (document, container.logs().decode()[-3000:])
        assert b"Hello nested" in document
    finally:
        container.stop(timeout=10)
        container.remove(force=True)
        import docker.errors

        with contextlib.suppress(docker.errors.APIError):  # the next build recreates it from the layer cache
            client.images.remove(tag, force=True)
