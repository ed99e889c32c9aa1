"""The fork server under each way of running the server: gunicorn (with and without --preload), `pywps serve`
and a plain script using ``Service`` (Apache mod_wsgi: test_apache_forkserver.py). Each job reports the
process that forked it; the zygote must be a child of the serving process, without the web stack loaded,
and a zygote killed under load is replaced while its jobs finish."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import requests
from lxml import etree

from tests.conftest import free_port, write_config
from tests.deploy.conftest import NS, execute_url, submit, wait_final, wait_until
from tests.deploy.servers import BIN, Proc, environment, gunicorn, pywps_command, wait_http

WHERE = '''
import json, os, sys, time

from pywps import LiteralInput, LiteralOutput, Process


def _parent(pid):
    with open(f"/proc/{pid}/stat", "rb") as handle:
        return int(handle.read().rsplit(b")", 1)[1].split()[1])


class Where(Process):
    """Reports the process that forked this job (after sleeping ``nap`` seconds)."""

    def __init__(self, identifier="where"):
        super().__init__(self._handler, identifier=identifier, title="Who forked me?",
                         inputs=[LiteralInput("nap", "Seconds", data_type="float", min_occurs=0, default=0)],
                         outputs=[LiteralOutput("report", "JSON", data_type="string")],
                         store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        parent = os.getppid()  # before the nap: whoever forked this job
        with open(f"/proc/{parent}/cmdline", "rb") as handle:
            cmdline = handle.read().replace(b"\\0", b" ").decode(errors="replace")
        report = {"pid": os.getpid(), "parent": parent, "parent_cmdline": cmdline, "grandparent": _parent(parent),
                  "web_stack": sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug", "sqlalchemy"))}
        response.update_status("parent recorded", 10)
        time.sleep(float(request.inputs["nap"][0].data) if "nap" in request.inputs else 0)
        report["parent_after"] = os.getppid()
        response.outputs["report"].data = json.dumps(report)
        return response


processes = [Where()]
'''

# what a plain script does: processes from a module, one defined in the script itself, Service, a WSGI server
SCRIPT = '''
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from pywps import Service
from whereprocesses import Where


class Local(Where):
    """Defined in the script: the zygote cannot import it, so the server forks its jobs."""


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


if __name__ == "__main__":
    service = Service(processes=[Where(), Local("local")], cfgfiles=[sys.argv[1]])
    server = make_server("127.0.0.1", int(sys.argv[2]), service, handler_class=Quiet)
    print("serving", flush=True)
    server.serve_forever()
'''


def write_module(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "whereprocesses.py").write_text(WHERE)
    return directory


def where(wps: str, identifier: str = "where", nap: float = 0) -> dict:
    reply = requests.get(execute_url(wps, identifier, f"nap={nap}"), timeout=120)
    document = etree.fromstring(reply.content)
    assert document.xpath("//wps:ProcessSucceeded", namespaces=NS), reply.text[:2000]
    return json.loads(document.xpath("//wps:LiteralData/text()", namespaces=NS)[0])


def where_async(wps: str, nap: float) -> str:
    return submit(wps, "where", f"nap={nap}")


def report_of(location: str) -> dict:
    state, _ = wait_final(location, 120)
    assert state == "ProcessSucceeded"
    document = etree.fromstring(requests.get(location, timeout=30).content)
    return json.loads(document.xpath("//wps:LiteralData/text()", namespaces=NS)[0])


def parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        return int(handle.read().rsplit(b")", 1)[1].split()[1])


def maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if parent(int(entry.name)) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def zygotes_of(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        try:
            if b"pywps-forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:
            pass
    return out


def warm(wps: str, server_pids: set[int], timeout: float = 60) -> None:
    """Wait until every serving process forks from its zygote (one that is still starting leaves the
    jobs to its server: a job never waits for a zygote)."""
    served: set[int] = set()

    def all_served() -> bool:
        seen = where(wps)
        if "pywps-forkserver" in seen["parent_cmdline"]:
            served.add(seen["grandparent"])
        return served >= server_pids

    wait_until(all_served, timeout, interval=0.05, what=f"jobs forked by the zygotes of {server_pids}")


def check_forked_by_a_zygote(seen: dict, server_pids: set[int]) -> int:
    """The job's parent is a zygote, child of one of ``server_pids``, without the web stack; its pid."""
    assert "pywps-forkserver" in seen["parent_cmdline"], seen
    assert seen["grandparent"] in server_pids, (seen, server_pids)
    assert seen["web_stack"] == []
    zygote = seen["parent"]
    assert "markupsafe" not in maps(zygote) and "sqlalchemy" not in maps(zygote)
    assert "markupsafe" in maps(seen["grandparent"])   # the serving process has the web stack
    return zygote


def test_gunicorn_workers_each_fork_jobs_from_their_zygote_and_replace_a_killed_one(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    module = write_module(tmp_path / "mods")
    server, url = gunicorn(cfg, tmp_path, port=port, workers=2, PYWPS_PROCESSES="whereprocesses:processes",
                           PYTHONPATH=str(module))
    try:
        wps = f"{url}/wps"
        wait_http(server, f"{url}/health")
        workers = set(children(server.proc.pid))
        warm(wps, workers)
        check_forked_by_a_zygote(where(wps), workers)

        location = where_async(wps, nap=3)   # started by either worker's dispatcher
        zygotes = lambda: [z for w in workers for z in zygotes_of(w)]  # noqa: E731
        busy = wait_until(lambda: [z for z in zygotes() if children(z)], 20, what="the job under a zygote")[0]
        worker = parent(busy)
        wait_until(lambda: b"parent recorded" in requests.get(location, timeout=30).content, 20,
                   what="the job has recorded who forked it")
        os.kill(busy, signal.SIGKILL)                        # the zygote dies with a job in flight
        seen = report_of(location)                           # the job finishes all the same
        assert seen["parent"] == busy and seen["grandparent"] == worker
        replacement = wait_until(lambda: zygotes_of(worker), 30, what="a new zygote in that worker")[0]
        assert replacement != busy
        warm(wps, workers)
        for _ in range(6):  # both workers, the one with the new zygote included
            check_forked_by_a_zygote(where(wps), workers)
        assert "Traceback" not in server.output()
    finally:
        assert server.stop() == 0


def test_gunicorn_preload_gives_each_worker_its_own_zygote(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    module = write_module(tmp_path / "mods")
    server, url = gunicorn(cfg, tmp_path, "--preload", port=port, workers=2,
                           PYWPS_PROCESSES="whereprocesses:processes", PYTHONPATH=str(module))
    try:
        wps = f"{url}/wps"
        wait_http(server, f"{url}/health")
        workers = set(children(server.proc.pid)) - set(zygotes_of(server.proc.pid))
        warm(wps, workers)
        seen = [where(wps) for _ in range(6)]
        for report in seen:
            check_forked_by_a_zygote(report, workers)        # never the master's
    finally:
        assert server.stop() == 0


def test_pywps_serve_forks_jobs_from_its_zygote(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    module = write_module(tmp_path / "mods")
    server = pywps_command("serve", "-c", str(cfg), "-p", "whereprocesses:processes", "--port", str(port),
                           cwd=tmp_path, log=tmp_path / "serve.log", PYTHONPATH=str(module))
    zygotes: list[int] = []
    try:
        wps = f"http://127.0.0.1:{port}/wps"
        wait_http(server, f"{wps}?service=WPS&request=GetCapabilities")
        warm(wps, {server.proc.pid})
        zygotes.append(check_forked_by_a_zygote(where(wps), {server.proc.pid}))
        check_forked_by_a_zygote(report_of(where_async(wps, nap=0.2)), {server.proc.pid})
    finally:
        server.stop(signal.SIGINT)   # ^C: the zygote ignores it and ends with the server
    wait_until(lambda: not any(Path(f"/proc/{z}").exists() for z in zygotes), 20, what="the zygote gone")


def test_a_plain_script_forks_importable_processes_from_its_zygote_and_its_own_itself(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    module = write_module(tmp_path / "mods")
    script = tmp_path / "myserver.py"
    script.write_text(SCRIPT)
    env = environment(PYTHONPATH=os.pathsep.join([str(module), str(Path(__file__).resolve().parents[2])]))
    server = Proc([str(BIN / "python"), str(script), str(cfg), str(port)], env, tmp_path, tmp_path / "script.log")
    try:
        wps = f"http://127.0.0.1:{port}/wps"
        wait_http(server, f"{wps}?service=WPS&request=GetCapabilities")
        warm(wps, {server.proc.pid})
        check_forked_by_a_zygote(where(wps), {server.proc.pid})
        local = where(wps, "local")
        assert local["parent"] == server.proc.pid            # defined in __main__: forked by the script
        check_forked_by_a_zygote(report_of(where_async(wps, nap=0.2)), {server.proc.pid})
        assert "Traceback" not in server.output()
    finally:
        server.stop()


def test_pywps_dispatcher_forks_jobs_from_its_zygote(tmp_path: Path):
    """`pywps dispatcher` starts the queued jobs: from its own zygote."""
    port = free_port()
    cfg = write_config(tmp_path, port)
    module = write_module(tmp_path / "mods")
    env = {"PYWPS_PROCESSES": "whereprocesses:processes", "PYTHONPATH": str(module)}
    service = pywps_command("dispatcher", "-c", str(cfg), cwd=tmp_path, log=tmp_path / "dispatcher.log", **env)
    web, url = gunicorn(cfg, tmp_path, port=port, workers=1, **env)
    try:
        wait_http(web, f"{url}/health")
        wait_until(lambda: zygotes_of(service.proc.pid), 30, what="the dispatcher's zygote")
        web_pids = set(children(web.proc.pid))
        # until the web worker's own zygote has loaded the processes, the worker forks (by design)
        wait_until(lambda: "pywps-forkserver" in report_of(where_async(f"{url}/wps", nap=0.1))["parent_cmdline"],
                   60, what="jobs forked from a zygote")
        reports = [report_of(where_async(f"{url}/wps", nap=0.1)) for _ in range(6)]
        for seen in reports:
            assert "pywps-forkserver" in seen["parent_cmdline"] and seen["web_stack"] == []
            assert seen["grandparent"] in web_pids | {service.proc.pid}
    finally:
        web.stop()
        assert service.stop() == 0, service.output()
