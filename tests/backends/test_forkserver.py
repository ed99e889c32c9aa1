"""The fork server (pywps/zygote.py) of mode multiprocessing: who forks the jobs, what they inherit, and
what happens when the zygote dies or hangs. The backend contract runs on it too (engine ``forkserver`` in
test_contract.py); the deployments are in tests/deploy/test_forkserver_deploy.py."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pywps.zygote
from pywps.backends.base import RunnerState, RunnerUnavailable, backend_class
from pywps.backends.multiprocessing import MultiProcessing
from pywps.config import Config
from pywps.jobs.handback import HandBack
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord
from pywps.processes import hostile
from pywps.registry import process_spec
from pywps.requestmodel import ExecuteRequest, InputValue
from tests.backends.forkserver_probe import Probe
from tests.conftest import wait_for


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., MultiProcessing]]:
    """Backends as the dispatcher makes them (job configuration included), with processes preloaded."""
    made: list[MultiProcessing] = []

    def build(processes=None, ready: bool = True, **settings: str) -> MultiProcessing:
        config = Config(environ={})
        config.parser.set("server", "workdir", str(tmp_path / "work"))
        config.parser.set("processing", "forkserver", "true")
        for key, value in settings.items():
            config.parser.set("processing", key, value)
        config.parser.add_section("custom")
        config.parser.set("custom", "colour", "blue")
        config.parser.set("custom", "api_token", "s3cr3t-token")
        backend = backend_class("multiprocessing")(config.processing, job_config=Config.from_dict(config.for_job()))
        backend.bind(f"test-{uuid.uuid4().hex[:8]}")
        backend.preload(processes if processes is not None else [Probe(), *hostile.testing_processes()])
        if ready:
            assert backend.forkserver_ready(60)
        made.append(backend)
        return backend

    yield build
    for backend in made:
        backend.close()


def start(backend: MultiProcessing, tmp_path: Path, process, **inputs: str) -> tuple[str, JobDir]:
    request = ExecuteRequest(process.identifier, inputs=tuple(InputValue(k, data=v) for k, v in inputs.items()))
    job = JobRecord.new(process.identifier, json.dumps(request.to_dict()), False, "multiprocessing")
    jobdir = JobDir.create(tmp_path / "work" / "jobs", job.id)
    jobdir.write_job({"job_id": job.id, "process": process_spec(process), "request": request.to_dict(),
                      "limits": {}, "cleantempdir": True, "config": {}})
    return backend.start(job, jobdir), jobdir


def report(backend: MultiProcessing, handle: str, jobdir: JobDir) -> dict:
    status = backend.wait(handle, 60)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, status
    result = HandBack(jobdir.outdir).result()
    assert result and result["exception"] is None, result
    return json.loads(result["outputs"][0]["value"])


def ticks(jobdir: JobDir) -> int:
    try:
        return len((jobdir.outdir / "ticks").read_text().splitlines())
    except OSError:
        return 0


def zygote_pid(backend: MultiProcessing) -> int:
    pid = backend.forkserver.pid if backend.forkserver else None
    assert pid, "no fork server"
    return pid


def test_a_job_is_forked_by_a_zygote_without_the_web_stack(make, tmp_path):
    backend = make()
    handle, jobdir = start(backend, tmp_path, Probe())
    seen = report(backend, handle, jobdir)
    assert seen["ppid"] == zygote_pid(backend) != os.getpid()
    assert "pywps-forkserver" in seen["parent_cmdline"]
    assert seen["sid"] == seen["pgid"] == seen["pid"]          # its own session and process group
    assert handle == f"{handle.split(':')[0]}:{seen['pid']}:{handle.rsplit(':', 1)[1]}"
    assert seen["web_stack"] == []                              # no Flask, SQLAlchemy, store, dispatcher
    assert seen["greeting"] == "probe"


def test_the_job_sees_only_the_configuration_for_jobs(make, tmp_path):
    backend = make()
    seen = report(backend, *start(backend, tmp_path, Probe()))
    assert seen["config"]["custom"] == {"colour": "blue"}     # the credential-looking key is gone
    assert "s3cr3t-token" not in json.dumps(seen["config"])
    assert str(tmp_path) not in json.dumps(seen["config"])     # nor the server's paths (defaults stand in)


def test_resource_limits_apply_to_jobs_of_the_zygote(make, tmp_path):
    backend = make(max_memory="512m")
    seen = report(backend, *start(backend, tmp_path, Probe()))
    assert seen["ppid"] == zygote_pid(backend)
    assert seen["rlimit_as"] == 512 * 1024 ** 2


def test_an_instance_unlike_its_class_and_a_main_process_are_forked_by_the_server(make, tmp_path, monkeypatch):
    """The zygote loads processes from their spec: one the server built with other arguments, or one defined
    in __main__ (a script), would not be the same there, so the server forks those jobs itself."""
    other = Probe(greeting="built with other arguments")

    class Scripted(Probe):
        pass

    Scripted.__module__ = "__main__"
    scripted = Scripted()
    scripted.identifier = "scripted_probe"
    import pywps.registry

    monkeypatch.setattr(pywps.registry, "_PRELOADED", {})
    pywps.registry.preload([other, scripted])   # as create_app does: a job forked here runs these objects
    backend = make([other, scripted])
    assert backend.forkserver.preloaded(backend._profile) == frozenset()
    for process, greeting in ((other, "built with other arguments"), (scripted, "probe")):
        seen = report(backend, *start(backend, tmp_path, process))
        assert seen["ppid"] == os.getpid(), process.identifier
        assert seen["greeting"] == greeting


def test_without_the_setting_the_server_forks(make, tmp_path):
    backend = make(forkserver="false", ready=False)
    assert backend.forkserver is None
    seen = report(backend, *start(backend, tmp_path, Probe()))
    assert seen["ppid"] == os.getpid()


def test_many_jobs_at_once_each_report_their_own_exit(make, tmp_path):
    backend = make()
    results: dict[int, tuple[str, JobDir]] = {}

    def one(i: int) -> None:
        process = next(p for p in hostile.testing_processes() if p.identifier == "add")
        results[i] = start(backend, tmp_path, process, a="1.0", b=str(i))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, (handle, jobdir) in results.items():
        status = backend.wait(handle, 60)
        assert status.state == RunnerState.EXITED and status.exit_code == 0, status
        assert float(HandBack(jobdir.outdir).result()["outputs"][0]["value"]) == 1 + i


def test_a_crash_and_a_cancel_are_reported_with_their_exit(make, tmp_path):
    backend = make()
    crash = next(p for p in hostile.testing_processes() if p.identifier == "hostile_crash")
    status = backend.wait(start(backend, tmp_path, crash)[0], 60)
    assert status.state == RunnerState.EXITED and status.exit_code == 3, status
    assert "exited with code 3" in status.message
    ticker = next(p for p in hostile.testing_processes() if p.identifier == "hostile_ticker")
    handle, jobdir = start(backend, tmp_path, ticker, seconds="60")
    wait_for(lambda: ticks(jobdir) > 1, 30, 0.05)
    backend.cancel(handle)
    status = backend.wait(handle, 30)
    assert status.exit_code == -signal.SIGKILL and "cancelled" in status.message, status
    assert zygote_pid(backend)  # the zygote is untouched


@pytest.mark.parametrize("forkserver", ["true", "false"])
def test_a_reused_pid_never_gets_the_exit_of_the_job_that_had_it_before(make, tmp_path, forkserver):
    """pid_max is 32768 by default: after enough jobs a new one gets the pid of an old one, whose exit is
    remembered. It is remembered by pid and start time, so the new job still runs."""
    backend = make(ready=forkserver == "true", forkserver=forkserver)
    ticker = next(p for p in hostile.testing_processes() if p.identifier == "hostile_ticker")
    handle, jobdir = start(backend, tmp_path, ticker, seconds="60")
    wait_for(lambda: ticks(jobdir) > 0, 30, 0.05)
    _, pid, started = handle.rsplit(":", 2)
    earlier = str(int(started) - 100)
    backend._child_ended(threading.Event(), int(pid), earlier, 0, "")  # the job that had this pid before
    assert backend.poll(handle).state == RunnerState.RUNNING
    assert backend.poll(handle.replace(f":{started}", f":{earlier}")).state == RunnerState.EXITED
    backend.cancel(handle)
    assert backend.wait(handle, 30).exit_code == -signal.SIGKILL


def test_a_killed_zygote_is_replaced_and_its_running_job_followed_to_the_end(make, tmp_path):
    backend = make()
    first = zygote_pid(backend)
    ticker = next(p for p in hostile.testing_processes() if p.identifier == "hostile_ticker")
    handle, jobdir = start(backend, tmp_path, ticker, seconds="2")
    wait_for(lambda: ticks(jobdir) > 1, 30, 0.05)
    os.kill(first, signal.SIGKILL)
    assert backend.poll(handle).state == RunnerState.RUNNING       # the job runs on, in its own session
    status = backend.wait(handle, 60)
    assert status.state == RunnerState.EXITED and status.exit_code is None, status
    assert int(HandBack(jobdir.outdir).result()["outputs"][0]["value"]) >= 15   # it finished its work
    second = wait_for(lambda: backend.forkserver.pid not in (None, first) and backend.forkserver.pid, 30, 0.05)
    assert backend.forkserver_ready(30)
    seen = report(backend, *start(backend, tmp_path, Probe()))
    assert seen["ppid"] == second


def test_a_crash_under_a_dead_zygote_says_its_status_was_lost(make, tmp_path):
    backend = make()
    sleeper = next(p for p in hostile.testing_processes() if p.identifier == "hostile_ticker")
    handle, jobdir = start(backend, tmp_path, sleeper, seconds="60")
    wait_for(lambda: ticks(jobdir) > 1, 30, 0.05)
    os.kill(zygote_pid(backend), signal.SIGKILL)
    time.sleep(0.3)
    os.killpg(int(handle.split(":")[1]), signal.SIGKILL)   # killed outside the server (OOM killer, operator)
    status = backend.wait(handle, 30)
    assert status.state == RunnerState.EXITED and status.exit_code is None
    assert "fork server that started it died" in status.message, status


def test_a_hung_zygote_fails_the_start_clearly_and_is_replaced(make, tmp_path, monkeypatch):
    backend = make()
    hung = zygote_pid(backend)
    monkeypatch.setattr(pywps.zygote, "FORK_TIMEOUT", 1.0)
    os.kill(hung, signal.SIGSTOP)
    try:
        with pytest.raises(RuntimeError, match="fork server did not answer within 1 s"):
            start(backend, tmp_path, Probe())
    finally:
        try:
            os.kill(hung, signal.SIGCONT)
        except ProcessLookupError:
            pass
    wait_for(lambda: backend.forkserver.pid not in (None, hung), 30, 0.05)
    assert backend.forkserver_ready(30)
    seen = report(backend, *start(backend, tmp_path, Probe()))
    assert seen["ppid"] == backend.forkserver.pid


def test_while_no_zygote_is_ready_the_server_forks(make, tmp_path, monkeypatch):
    """Jobs never wait for a zygote: while none answers (starting, restarting), the server forks them."""
    backend = make()
    monkeypatch.setattr(backend.forkserver, "_zygote", None)
    seen = report(backend, *start(backend, tmp_path, Probe()))
    assert seen["ppid"] == os.getpid()


def test_a_refused_fork_is_a_busy_host_not_a_failed_job(make, tmp_path, monkeypatch):
    backend = make()

    def refuse(*args, **kwargs):
        raise pywps.zygote.ForkRefused("cannot fork a job process now: Resource temporarily unavailable")

    monkeypatch.setattr(backend.forkserver, "fork", refuse)
    with pytest.raises(RunnerUnavailable, match="Resource temporarily unavailable"):
        start(backend, tmp_path, Probe())


def test_the_zygote_ends_with_the_server_and_its_jobs_do_not(tmp_path):
    """The zygote stops at end-of-file when its server process ends; a job it forked runs on."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = tmp_path / "server.py"
    script.write_text(f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
from pywps.config import Config
from pywps.backends.base import backend_class
from pywps.processes import hostile
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord
from pywps.registry import process_spec
from pywps.requestmodel import ExecuteRequest, InputValue
config = Config(environ={{}})
config.parser.set("server", "workdir", {str(tmp_path / "work")!r})
backend = backend_class("multiprocessing")(config.processing)
backend.bind("script")
ticker = next(p for p in hostile.testing_processes() if p.identifier == "hostile_ticker")
backend.preload([ticker])
assert backend.forkserver_ready(60)
request = ExecuteRequest("hostile_ticker", inputs=(InputValue("seconds", data="3"),))
job = JobRecord.new("hostile_ticker", json.dumps(request.to_dict()), True, "multiprocessing")
jobdir = JobDir.create({str(tmp_path / "work" / "jobs")!r}, job.id)
jobdir.write_job({{"job_id": job.id, "process": process_spec(ticker), "request": request.to_dict(),
                  "limits": {{}}, "cleantempdir": True, "config": {{}}}})
print(json.dumps({{"handle": backend.start(job, jobdir), "zygote": backend.forkserver.pid,
                  "jobdir": str(jobdir.path)}}), flush=True)
""")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    wait_for(lambda: not Path(f"/proc/{info['zygote']}").exists(), 30, 0.1)   # gone with its server
    backend = backend_class("multiprocessing")(Config(environ={}).processing)
    wait_for(lambda: backend.poll(info["handle"]).state == RunnerState.EXITED, 60, 0.2)
    result = HandBack(Path(info["jobdir"]) / "out").result()
    assert result and result["exception"] is None and int(result["outputs"][0]["value"]) >= 25, result


def test_through_the_dispatcher_a_refused_fork_waits_and_a_hung_zygote_fails_one_sync_job(make_client,
                                                                                         monkeypatch):
    """Over the WSGI app: an async job whose fork is refused (EAGAIN) waits and then runs; a sync Execute
    caught by a hung zygote fails saying so, frees its slot, and the next one succeeds."""
    from pywps.jobs.model import JobStatus

    client = make_client(server={"maxprocesses": 30})
    dispatcher = client.application.extensions["pywps"]["dispatcher"]
    backend = dispatcher.backend
    assert backend.forkserver_ready(60)
    server = backend.forkserver
    real_fork, refused = server.fork, []

    def refuse_twice(*args, **kwargs):
        if len(refused) < 2:
            refused.append(1)
            raise pywps.zygote.ForkRefused("cannot fork a job process now: Resource temporarily unavailable")
        return real_fork(*args, **kwargs)

    monkeypatch.setattr(server, "fork", refuse_twice)
    query = "/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=later"
    reply = client.get(query + "&storeExecuteResponse=true&status=true")
    job_id = reply.get_data(as_text=True).split("statusLocation=\"")[1].split("\"")[0].rsplit("/", 1)[1][:-4]
    job = wait_for(lambda: (j := dispatcher.store.get(job_id)) and j.is_final and j, 60, 0.1)
    assert job.status == JobStatus.SUCCEEDED and len(refused) == 2, (job.status, job.message, refused)
    monkeypatch.setattr(server, "fork", real_fork)

    hung = zygote_pid(backend)
    monkeypatch.setattr(pywps.zygote, "FORK_TIMEOUT", 1.0)
    os.kill(hung, signal.SIGSTOP)
    try:
        failed = client.get(query).get_data(as_text=True)
    finally:
        try:
            os.kill(hung, signal.SIGCONT)
        except ProcessLookupError:
            pass
    assert "ProcessFailed" in failed and "fork server did not answer within 1 s" in failed, failed[:2000]
    assert dispatcher.store.count(["started", "paused"]) == 0          # its slot is free
    assert "Hello later" in client.get(query).get_data(as_text=True)   # the next one runs


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def test_a_package_that_builds_its_service_on_import_starts_no_server_in_the_zygote(make, tmp_path):
    """PyWPS 4 collections build ``application = Service(...)`` when imported; loading their processes in the
    zygote (and in each job) must not start a dispatcher or a zygote of its own (once a chain of them,
    each starting the next, filled the host)."""
    from tests.compat import collection

    backend = make(processes=collection.processes())
    process = collection.processes()[0]
    handle, _jobdir = start(backend, tmp_path, process, item="x")
    status = backend.wait(handle, 60)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, status
    zygote = zygote_pid(backend)
    time.sleep(1.0)  # a zygote started by the import would be up by now
    assert _children(zygote) == [], [open(f"/proc/{p}/cmdline").read() for p in _children(zygote)]
    threads = os.listdir(f"/proc/{zygote}/task")
    assert len(threads) == 1, f"the zygote runs {len(threads)} threads (a dispatcher?)"
