"""Shared fixtures: a config on a temp SQLite file, an in-process WSGI client and a real HTTP server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from pywps.config import Config, load

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    """Tests that stop the real Docker engine run last, so no other test meets it stopped."""
    items.sort(key=lambda item: item.get_closest_marker("restarts_engine") is not None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(directory: Path, port: int = 5000, **sections: dict[str, object]) -> Path:
    """A pywps.cfg under ``directory`` with everything (work, outputs, database) inside it."""
    values: dict[str, dict[str, object]] = {
        "server": {
            "url": f"http://127.0.0.1:{port}/wps",
            "outputurl": f"http://127.0.0.1:{port}/outputs/",
            "outputpath": directory / "outputs",
            "workdir": directory / "work",
            "parallelprocesses": 2,
            "maxprocesses": 30,
            "reference_allow_private": "true",
        },
        "logging": {"database": f"sqlite:///{directory / 'jobs.sqlite'}", "level": "WARNING"},
        "jobs": {"poll_interval": "0.05", "stale_after": "5"},
    }
    for section, keys in sections.items():
        values.setdefault(section.replace("__", ":"), {}).update(keys)
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in keys.items())
        lines.append("")
    path = directory / "pywps.cfg"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    def make(**sections: dict[str, object]) -> Config:
        return load([write_config(tmp_path, **sections)])

    return make


@pytest.fixture
def make_client(make_config) -> Iterator[Callable]:
    """Build WpsClients on fresh apps; every dispatcher is stopped at the end."""
    from pywps.processes import example_processes
    from pywps.service import create_app
    from pywps.tests import client_for

    apps = []

    def make(processes=None, **sections):
        app = create_app(make_config(**sections), example_processes() if processes is None else processes)
        apps.append(app)
        return client_for(app)

    yield make
    for app in apps:
        app.extensions["pywps"]["dispatcher"].stop()


@pytest.fixture
def client(make_client):
    return make_client()


class LiveServer:
    """A real server process (``pywps serve`` or gunicorn) on 127.0.0.1."""

    def __init__(self, directory: Path, gunicorn_workers: int = 0, **sections: dict[str, object]) -> None:
        self.directory = directory
        self.port = free_port()
        self.cfg = write_config(directory, self.port, **sections)
        self.url = f"http://127.0.0.1:{self.port}/wps"
        self.workers = gunicorn_workers
        self.proc: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        env = {**os.environ, "PYWPS_CFG": str(self.cfg), "PYTHONPATH": str(ROOT)}
        if self.workers:
            cmd = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                   "--timeout", "120", "pywps.wsgi:application"]
        else:
            cmd = [sys.executable, "-m", "pywps.cli", "-c", str(self.cfg), "serve", "--port", str(self.port)]
        log = open(self.directory / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.directory / f'server-{self.port}.log').read_text()}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def restart(self) -> LiveServer:
        """Start again on the same configuration, port and job store."""
        self.stop()
        return self.start()

    def kill(self, sig: int = 9) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)

    def get(self, **params: str) -> requests.Response:
        return requests.get(self.url, params=params, timeout=60)

    def post(self, body: bytes | str) -> requests.Response:
        return requests.post(self.url, data=body, headers={"Content-Type": "text/xml"}, timeout=60)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(gunicorn_workers: int = 0, **sections) -> LiveServer:
        server = LiveServer(tmp_path, gunicorn_workers, **sections).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def wait_for(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.1):
    """Poll until ``predicate`` returns something truthy; return it or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value is not None and value is not False and (not hasattr(value, "__len__") or len(value)):
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A job-store URL for a whole server: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.sqlite'}"
        return
    import uuid

    import sqlalchemy as sa

    from tests.jobs.conftest import pg_base_url

    base = sa.make_url(pg_base_url())
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def record(jobdir, process: str):
    """The job record a backend starts a runner for, for a job directory a test wrote itself."""
    from pywps.jobs.model import JobRecord

    return JobRecord(id=jobdir.job_id, process=process, request="{}")
