"""Real faults for the outage tests: a private PostgreSQL server stopped and started again, a tiny tmpfs
that fills up. Under CI=true nothing here may skip (the tests run as root there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT

SCRIPT = ROOT / ".ci" / "postgres.sh"


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"fault tests must run under CI=true: {why}")
    pytest.skip(why)


class PrivatePostgres:
    """A PostgreSQL cluster of this test alone (``.ci/postgres.sh`` in its own directory), so stopping it
    disturbs nothing else."""

    def __init__(self) -> None:
        self.dir = Path("/tmp") / f"pywps-fault-pg-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "PYWPS_PG_DIR": str(self.dir)}
        self.url = ""

    def _bin(self) -> str:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        return str(found[-1]) if found else shutil.which("pg_ctl") or "pg_ctl"

    def _pg_ctl(self, *args: str) -> None:
        command = [self._bin(), "-D", str(self.dir / "data"), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> PrivatePostgres:
        out = subprocess.run(["bash", str(SCRIPT), "start"], env=self.env, capture_output=True, text=True,
                             timeout=300)
        if out.returncode != 0:
            _unavailable(f"cannot start a private PostgreSQL: {out.stderr[-500:]}")
        self.url = out.stdout.strip().splitlines()[-1]
        return self

    def pause(self) -> None:
        """Stop the server (connections fail at once), keeping its data."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def resume(self) -> None:
        port = (self.dir / "port").read_text().strip()
        self._pg_ctl("-l", str(self.dir / "server.log"), "-w", "-t", "60", "-o",
                     f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                     "-c synchronous_commit=off -c max_connections=200", "start")

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=self.env, capture_output=True, timeout=120)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not shutil.which("psql") and not sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        if os.geteuid() != 0:
            _unavailable("PostgreSQL is not installed (run .ci/postgres.sh start as root)")
    server = PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for this test (root only)."""
    if os.geteuid() != 0:
        _unavailable("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        _unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
