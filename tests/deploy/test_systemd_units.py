"""The systemd units of docs/systemd/ run as written: their ExecStart and Environment, with the documented
paths (/opt/pywps/venv, /etc/pywps, /run/pywps) mapped to this checkout's venv and a temp directory
(there is no systemd here: each unit's main process is started and stopped the way systemd would with
KillMode=process, SIGTERM to the main process only)."""

from __future__ import annotations

import configparser
import os
import shlex
import signal
from pathlib import Path

import pytest
from lxml import etree

from pywps.jobs.model import JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import write_config
from tests.deploy.conftest import execute_url, job_id, unix_get, wait_until
from tests.deploy.servers import BIN, ROOT, Proc, environment

UNITS = ROOT / "docs" / "systemd"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment]
    parser.read(UNITS / name)
    return parser


def command(service: configparser.SectionProxy, tmp_path: Path, cfg: Path) -> tuple[list[str], dict[str, str]]:
    def local(text: str) -> str:
        return (text.replace("/opt/pywps/venv/bin", str(BIN)).replace("/etc/pywps/pywps.cfg", str(cfg))
                .replace("/run/pywps", str(tmp_path / "run")))

    env = dict(item.split("=", 1) for item in shlex.split(local(service.get("Environment", ""))))
    return [local(word) for word in shlex.split(service["ExecStart"])], env


@pytest.mark.parametrize("name", ["pywps.service", "pywps-dispatcher.service"])
def test_units_run_as_the_pywps_user_and_leave_jobs_running(name):
    service = unit(name)["Service"]
    assert service["User"] == "pywps" and service["KillMode"] == "process"
    assert service["Environment"] == "PYWPS_CFG=/etc/pywps/pywps.cfg"
    assert service["ExecStart"].startswith("/opt/pywps/venv/bin/")


def test_gunicorn_unit_and_dispatcher_unit_as_written(tmp_path: Path):
    (tmp_path / "run").mkdir()
    cfg = write_config(tmp_path, server={"parallelprocesses": 1})
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")

    cmd, env = command(unit("pywps.service")["Service"], tmp_path, cfg)
    web = Proc(cmd, environment(**env), tmp_path, tmp_path / "web.log")
    sock = tmp_path / "run" / "gunicorn.sock"
    try:
        wait_until(lambda: sock.exists() and unix_get(sock, "/health")[0] == 200, 30,
                   what=f"gunicorn on its socket: {web.output()[-2000:]}")
        ids = []
        for _ in range(2):
            status, body, _ = unix_get(sock, execute_url("/wps", "sleep", "delay=2", asynchronous=True))
            assert status == 200, body
            ids.append(job_id(etree.fromstring(body).get("statusLocation")))
        wait_until(lambda: store.get(ids[0]).status == JobStatus.STARTED, 20, what="a job running")
    finally:
        os.kill(web.proc.pid, signal.SIGTERM)  # systemctl stop with KillMode=process: the main process only
        web.proc.wait(30)
    assert web.proc.returncode == 0, web.output()[-2000:]

    cmd, env = command(unit("pywps-dispatcher.service")["Service"], tmp_path, cfg)
    dispatcher = Proc(cmd, environment(**env), tmp_path, tmp_path / "dispatcher.log")
    try:
        wait_until(lambda: all(store.get(i).status == JobStatus.SUCCEEDED for i in ids), 60,
                   what=f"the jobs finished through the dispatcher unit: {dispatcher.output()[-2000:]}")
    finally:
        os.kill(dispatcher.proc.pid, signal.SIGTERM)
        dispatcher.proc.wait(30)
        dispatcher.stop()
    assert dispatcher.proc.returncode == 0, dispatcher.output()[-2000:]
