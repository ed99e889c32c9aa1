"""The fork server under Apache mod_wsgi daemon mode (the instance of .ci/apache.sh, docs/apache/pywps.conf
unchanged): each daemon process has its zygote, started with the daemon (no request needed), jobs are
forked by it, and a zygote killed with a job in flight is replaced while the job finishes. The job's pid
comes from the documented operator command (`pywps jobs show`); the rest is read from /proc."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from tests.deploy.conftest import execute_url, job_id, status_of, submit, wait_final, wait_until
from tests.deploy.test_apache import Apache, apache  # noqa: F401 - the module-scoped instance fixture


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def parent(pid: int) -> int:
    return int(_stat(pid)[1])


def is_zygote(pid: int) -> bool:
    try:
        return b"pywps-forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def zygotes(daemons: set[int]) -> dict[int, int]:
    """zygote pid -> its daemon process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and is_zygote(int(entry.name)):
            try:
                owner = parent(int(entry.name))
            except (OSError, IndexError):
                continue
            if owner in daemons:
                found[int(entry.name)] = owner
    return found


def running_pid(server: Apache, job: str) -> int:
    """The pid of a running job, as `pywps jobs show` gives it."""
    def pid() -> int | None:
        shown = server.show(job)
        return shown["runner"].get("pid") if shown["status"] == "started" else None

    return int(wait_until(pid, 30, what=f"job {job} running with a pid"))


def test_every_daemon_process_forks_its_jobs_from_its_zygote(apache: Apache):  # noqa: F811
    apache.wait_idle()
    daemons = apache.daemon_pids()
    found = wait_until(lambda: (z := zygotes(daemons)) and set(z.values()) == daemons and z, 60,
                       what="a zygote for each of the four daemon processes")  # started with the daemon
    for zygote in found:
        maps = Path(f"/proc/{zygote}/maps").read_text()
        assert "markupsafe" not in maps and "sqlalchemy" not in maps   # no web stack in it
        assert _stat(zygote)[2] == _stat(found[zygote])[2]               # in its daemon's process group
    sync = requests.get(execute_url(apache.wps, "say_hello", "name=zygote"), timeout=60)
    assert status_of(sync.content)[0] == "ProcessSucceeded" and b"Hello zygote" in sync.content

    deadline = time.monotonic() + 60
    while True:  # a zygote may still be loading when the daemon starts: the daemon forks until it answers
        location = submit(apache.wps, "sleep", "delay=5")
        pid = running_pid(apache, job_id(location))
        forker = parent(pid)
        session = _stat(pid)[3]
        assert wait_final(location, 60, apache.static)[0] == "ProcessSucceeded"
        if is_zygote(forker) or time.monotonic() > deadline:
            break
    assert is_zygote(forker) and parent(forker) in daemons
    assert session == str(pid)   # the job leads its own session


def test_a_killed_zygote_is_replaced_and_its_job_finishes(apache: Apache):  # noqa: F811
    apache.wait_idle()
    daemons = apache.daemon_pids()
    offset = apache.log_size()
    wait_until(lambda: set(zygotes(daemons).values()) == daemons, 60, what="a zygote per daemon process")
    location = submit(apache.wps, "sleep", "delay=4")
    pid = running_pid(apache, job_id(location))
    forker = parent(pid)
    if not is_zygote(forker):  # forked by the daemon while its zygote loaded: try once more
        assert wait_final(location, 60, apache.static)[0] == "ProcessSucceeded"
        location = submit(apache.wps, "sleep", "delay=4")
        pid = running_pid(apache, job_id(location))
        forker = parent(pid)
    assert is_zygote(forker)
    daemon = parent(forker)
    os.kill(forker, signal.SIGKILL)
    assert wait_final(location, 60, apache.static)[0] == "ProcessSucceeded"    # followed by its pid
    new = wait_until(lambda: [z for z, d in zygotes(daemons).items() if d == daemon and z != forker], 30,
                     what="a new zygote in that daemon process")
    assert new
    log = apache.log_since(offset)
    assert "fork server" in log and "was killed by signal SIGKILL" in log
    assert "Traceback" not in log
