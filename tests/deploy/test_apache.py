"""PyWPS under a real Apache httpd + mod_wsgi, configured by copying docs/apache/pywps.conf and docs/pywps.wsgi.

`.ci/apache.sh start` (run by `./dev test`) installs Debian's apache2 and libapache2-mod-wsgi-py3, builds the
venv from /usr/bin/python3 and starts a separate Apache instance on 127.0.0.1; these tests talk to it over
HTTP only, and read the job store through the documented operator command (`pywps jobs show`, as user
pywps). Status documents are fetched from /outputs/, which Apache serves as files: polling them sends no
request to the application, so jobs that move after a restart were moved by the dispatcher alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.deploy.conftest import (
    execute_url,
    job_id,
    poll_status,
    status_of,
    submit,
    unavailable,
    wait_final,
    wait_until,
)

ENV_FILE = Path(os.environ.get("PYWPS_TEST_APACHE_ENV", "/var/lib/pywps-apache-ci/test.env"))
APACHECTL = "/usr/sbin/apache2ctl"
JSON_TYPE = "application/json"
DOCS_CONF = Path(__file__).resolve().parents[2] / "docs" / "apache" / "pywps.conf"


@dataclass
class Apache:
    url: str
    confdir: Path
    error_log: Path
    root: Path

    @property
    def wps(self) -> str:
        return f"{self.url}/wps"

    def ctl(self, *args: str) -> None:
        out = subprocess.run([APACHECTL, *args], env={**os.environ, "APACHE_CONFDIR": str(self.confdir)},
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"apache2ctl {' '.join(args)}: {out.stdout}{out.stderr}"

    def daemon_pids(self) -> set[int]:
        """The mod_wsgi daemon processes (display-name=%{GROUP}: "(wsgi:pywps)"), children of Apache's
        parent process; the jobs they fork carry the same name but are children of a daemon."""
        pids = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if not (entry / "cmdline").read_bytes().startswith(b"(wsgi:pywps)"):
                    continue
                ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                if Path(f"/proc/{ppid}/cmdline").read_bytes().startswith(b"/usr/sbin/apache2"):
                    pids.add(int(entry.name))
            except (OSError, IndexError):
                continue
        return pids

    def parent_pid(self) -> int | None:
        """Apache's parent process of this instance (Debian: /var/run/apache2-NAME/apache2.pid)."""
        try:
            return int((Path("/var/run") / self.confdir.name / "apache2.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop_and_wait(self, timeout: float = 60) -> None:
        """`apachectl stop`, then wait for the parent to exit: it removes its pid file first, and holds the
        listening socket until its children are gone."""
        parent = self.parent_pid()
        self.ctl("stop")

        def gone() -> bool:
            if parent is None:
                return not self.daemon_pids()
            try:
                state = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                return True
            return state == "Z"

        wait_until(gone, timeout, what="Apache's parent process exited")

    def log_size(self) -> int:
        return self.error_log.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.error_log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")

    def jobs(self, *args: str) -> subprocess.CompletedProcess:
        """The operator command, as the daemon user, on the instance's configuration."""
        return subprocess.run(["runuser", "-u", "pywps", "--", str(self.root / "venv" / "bin" / "pywps"), "jobs",
                               *args, "-c", str(self.root / "etc" / "pywps.cfg")],
                              capture_output=True, text=True, timeout=60)

    def show(self, job: str) -> dict:
        out = self.jobs("show", job)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def wait_idle(self, timeout: float = 60) -> None:
        """No job running or queued (an earlier test's jobs hold no slot)."""
        def idle() -> bool:
            out = self.jobs("list", "--status", "active")
            return out.returncode == 0 and not out.stdout.strip()

        wait_until(idle, timeout, what="no job running or queued")

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.wps}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def wait_up(self, timeout: float = 60) -> None:
        wait_until(self.healthy, timeout, what="Apache answers /wps/health")

    def static(self, location: str) -> bytes:
        """A status document as the file Apache serves (no request reaches the application)."""
        resp = requests.get(location, timeout=10)
        resp.raise_for_status()
        assert "/outputs/" in location
        return resp.content


@pytest.fixture(scope="module")
def apache() -> Apache:
    if not Path(APACHECTL).exists() or not ENV_FILE.is_file():
        unavailable(f"no Apache instance ({ENV_FILE} missing): run .ci/apache.sh start as root")
    values = dict(line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    server = Apache(values["PYWPS_TEST_APACHE_URL"], Path(values["PYWPS_TEST_APACHE_CONFDIR"]),
                    Path(values["PYWPS_TEST_APACHE_ERROR_LOG"]), Path(values["PYWPS_TEST_APACHE_ROOT"]))
    if not server.healthy():
        unavailable(f"the Apache instance at {server.url} does not answer: run .ci/apache.sh start")
    return server


@pytest.fixture
def layout(apache: Apache) -> Iterator:
    """Swap the instance's pywps.conf for a variant, graceful; the documented one is back afterwards."""
    target = apache.confdir / "conf-available" / "pywps.conf"

    def use(text: str) -> None:
        target.write_text(text)
        apache.ctl("configtest")
        before = apache.daemon_pids()
        apache.ctl("graceful")
        wait_until(lambda: len(apache.daemon_pids() - before) == 4, 30, what="four new daemon processes")

    yield use
    shutil.copy(DOCS_CONF, target)
    apache.ctl("graceful")
    time.sleep(1)
    apache.wait_up()


def test_installed_exactly_as_documented(apache: Apache):
    assert (apache.confdir / "conf-available" / "pywps.conf").read_text() == DOCS_CONF.read_text()
    docs_wsgi = DOCS_CONF.parent.parent / "pywps.wsgi"
    assert (apache.root / "etc" / "pywps.wsgi").read_text() == docs_wsgi.read_text()
    assert len(apache.daemon_pids()) == 4  # processes=4


def test_capabilities_sync_async_and_outputs_served_by_apache(apache: Apache):
    caps = requests.get(f"{apache.wps}?service=WPS&request=GetCapabilities", timeout=30)
    assert caps.status_code == 200 and b"say_hello" in caps.content

    sync = requests.get(execute_url(apache.wps, "say_hello", "name=Apache"), timeout=60)
    assert status_of(sync.content)[0] == "ProcessSucceeded", sync.text
    assert b"Hello Apache" in sync.content

    location = submit(apache.wps, "echo_complex", "input=served%20by%20apache@mimeType=text/plain",
                      extra="&ResponseDocument=output@asReference=true@mimeType=text/plain")
    assert location.startswith(f"{apache.url}/outputs/")
    assert wait_final(location, 60, apache.static)[0] == "ProcessSucceeded"
    from lxml import etree

    from tests.deploy.conftest import NS

    href = etree.fromstring(apache.static(location)).xpath("//wps:Reference/@href", namespaces=NS)[0]
    assert href.startswith(f"{apache.url}/outputs/{job_id(location)}/")
    output = requests.get(href, timeout=30)
    assert output.status_code == 200 and output.text == "served by apache"
    assert output.headers["Server"].startswith("Apache")
    listing = requests.get(f"{apache.url}/outputs/{job_id(location)}/", timeout=30)
    assert listing.status_code in (403, 404)  # no directory listing
    secret = apache.root / "secret.txt"
    secret.write_text("NOT-FOR-CLIENTS\n")
    secret.chmod(0o644)
    planted = apache.root / "home" / "outputs" / job_id(location) / "planted.txt"
    planted.symlink_to(secret)  # a link planted next to the outputs is never followed
    refused = requests.get(f"{apache.url}/outputs/{job_id(location)}/planted.txt", timeout=30)
    assert refused.status_code == 403 and "NOT-FOR-CLIENTS" not in refused.text


def test_ogc_api_answers_at_its_public_path_with_links_there(apache: Apache):
    """docs/apache/pywps.conf mounts the application at /ogcapi too: its links, Location and results work."""
    base = f"{apache.url}/ogcapi/"
    landing = requests.get(base, headers={"Accept": JSON_TYPE}, timeout=30)
    assert landing.status_code == 200, landing.text
    hrefs = [link["href"] for link in landing.json()["links"]]
    assert hrefs and all(h.startswith(base) for h in hrefs), hrefs
    for href in hrefs:
        assert requests.get(href, headers={"Accept": JSON_TYPE}, timeout=30).status_code in (200, 403), href
    described = requests.get(f"{base}processes/say_hello", timeout=30)
    assert described.status_code == 200 and described.json()["id"] == "say_hello"
    execution = f"{base}processes/say_hello/execution"
    sync = requests.post(execution, json={"inputs": {"name": "OGC"}}, timeout=60)
    assert sync.status_code == 200 and "Hello OGC" in sync.text, sync.text
    submitted = requests.post(execution, json={"inputs": {"name": "later"}}, headers={"Prefer": "respond-async"},
                              timeout=60)
    assert submitted.status_code == 201, submitted.text
    location = submitted.headers["Location"]
    assert location.startswith(f"{base}jobs/")
    wait_until(lambda: requests.get(location, timeout=30).json()["status"] == "successful", 60, what=location)
    results = requests.get(f"{location}/results", timeout=30)
    assert results.status_code == 200 and "Hello later" in results.text
    assert requests.get(f"{apache.url}/ogcapi", timeout=30, allow_redirects=False).status_code in (200, 308)


def test_failed_process_names_the_job_and_is_logged(apache: Apache):
    offset = apache.log_size()
    resp = requests.get(execute_url(apache.wps, "fail"), timeout=60)
    state, text = status_of(resp.content)
    assert state == "ProcessFailed" and "always fails" in text
    job = wait_until(lambda: [line for line in apache.jobs("list", "--process", "fail", "--limit", "1").stdout
                              .splitlines()], 10, what="the failed job listed")[0].split()[0]
    shown = apache.show(job)
    assert shown["status"] == "failed" and shown["runner"]["backend"] == "multiprocessing"
    assert any("always fails" in line for line in shown["worker_log_tail"])
    log = wait_until(lambda: job in apache.log_since(offset) and apache.log_since(offset), 10,
                     what="the failure in Apache's error log")
    assert "always fails" in log


def test_queued_job_starts_when_a_slot_frees(apache: Apache):
    apache.wait_idle()
    locations = [submit(apache.wps, "sleep", "delay=3") for _ in range(3)]  # parallelprocesses = 2
    states = wait_until(lambda: (s := [poll_status(loc, apache.static)[0] for loc in locations])
                        and s.count("ProcessStarted") == 2 and s, 20, what="two running")
    assert states.count("ProcessAccepted") == 1
    for location in locations:
        assert wait_final(location, 60, apache.static)[0] == "ProcessSucceeded"
    shown = [apache.show(job_id(loc)) for loc in locations]
    first_end = min(s["finished"] for s in shown)
    queued = [s for s in shown if s["queued_seconds"] > 1.5]
    assert len(queued) == 1 and queued[0]["started"] >= first_end


@pytest.mark.parametrize("how", ["graceful", "restart"])
def test_jobs_finish_across_graceful_and_restart_without_requests(apache: Apache, how: str):
    apache.wait_idle()
    running = [submit(apache.wps, "sleep", "delay=5") for _ in range(2)]
    queued = [submit(apache.wps, "sleep", "delay=2") for _ in range(2)]
    wait_until(lambda: all(poll_status(loc, apache.static)[0] == "ProcessStarted" for loc in running), 20,
               what="two jobs running")
    owners = {loc: apache.show(job_id(loc))["owner"] for loc in running}
    with ThreadPoolExecutor(1) as pool:
        sync = pool.submit(requests.get, execute_url(apache.wps, "sleep", "delay=4"), timeout=90)
        time.sleep(0.5)
        before = apache.daemon_pids()
        offset = apache.log_size()
        if how == "graceful":
            apache.ctl("graceful")
        else:
            apache.stop_and_wait()
            apache.ctl("start")
        wait_until(lambda: apache.daemon_pids() and not (apache.daemon_pids() & before), 30,
                   what="new daemon processes")
        # from here on, only files Apache serves itself: no request reaches the application
        for location in running + queued:
            state, text = wait_final(location, 90, apache.static)
            assert state == "ProcessSucceeded", text
        for location in running:  # followed to the end by a new daemon process, which adopted it
            shown = apache.show(job_id(location))
            assert shown["owner"] != owners[location] and int(shown["owner"].split(":")[1]) not in before
        try:
            sync_reply = sync.result(timeout=90)
        except requests.RequestException:
            sync_reply = None  # the restart cut the connection
    if sync_reply is not None and sync_reply.status_code == 200:
        state, text = status_of(sync_reply.content)
        assert state in ("ProcessSucceeded", "ProcessFailed"), text
    # the sync job is not stuck: it ends by itself, saying why if it failed
    apache.wait_idle()  # the sync job too ended by itself
    failed = apache.jobs("list", "--status", "failed", "--process", "sleep", "--limit", "5").stdout
    for line in failed.splitlines():
        shown = apache.show(line.split()[0])
        assert shown["message"], shown
    assert "Traceback" not in apache.log_since(offset)
    assert "Fatal Python error" not in apache.log_since(offset)


BAD_REQUESTS = [
    ("GET", "?service=WPS&request=Bogus", None),
    ("GET", "?service=WPS&request=Execute&version=1.0.0", None),
    ("GET", "?service=WPS&request=Execute&version=1.0.0&identifier=nope", None),
    ("GET", "?service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name", None),
    ("GET", "?service=WPS&request=DescribeProcess&version=1.0.0&identifier=nope", None),
    ("GET", "?service=WFS&request=GetCapabilities", None),
    ("GET", "?request=GetCapabilities&service=WPS&version=9.9.9&AcceptVersions=9.9.9", None),
    ("POST", "", b"<not xml"),
    ("POST", "", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"),
    ("POST", "", b"\xff\xfe" * 100),
    ("PUT", "", b"x"),
]


def test_client_errors_leave_no_traceback_in_the_error_log(apache: Apache):
    offset = apache.log_size()
    for method, query, body in BAD_REQUESTS:
        resp = requests.request(method, f"{apache.wps}{query}", data=body, timeout=30,
                                headers={"Content-Type": "text/xml"} if body else {})
        assert 400 <= resp.status_code < 600, (method, query)
        assert resp.status_code != 500, (method, query, resp.text[:300])
        assert b"ExceptionReport" in resp.content, (method, query)
    time.sleep(0.5)
    log = apache.log_since(offset)
    assert "Traceback" not in log, log[-3000:]


def _pywps4_layout(text: str) -> str:
    """docs/apache/pywps.conf with the application group set the PyWPS 4 way: inside <Directory>."""
    groups = " process-group=pywps application-group=%{GLOBAL}"
    text = re.sub(r"^(WSGIScriptAlias /\w+ \S+pywps\.wsgi)" + re.escape(groups) + "$", r"\1", text, flags=re.M)
    return text.replace("    <Files pywps.wsgi>",
                        "    WSGIProcessGroup pywps\n    WSGIApplicationGroup %{GLOBAL}\n    <Files pywps.wsgi>")


def test_pywps4_layout_works(apache: Apache, layout):
    text = _pywps4_layout(DOCS_CONF.read_text())
    assert "application-group=%{GLOBAL}" in text  # the preload (WSGIImportScript) stays as documented
    layout(text)
    apache.wait_idle()
    sync = requests.get(execute_url(apache.wps, "say_hello", "name=four"), timeout=60)
    assert b"Hello four" in sync.content
    location = submit(apache.wps, "sleep", "delay=2")
    apache.ctl("graceful")
    assert wait_final(location, 60, apache.static)[0] == "ProcessSucceeded"


def _error_after(apache: Apache, offset: int, pattern: str) -> str:
    return wait_until(lambda: re.search(pattern, apache.log_since(offset)) and apache.log_since(offset), 20,
                      what=f"{pattern!r} in the error log")


def test_sub_interpreter_is_refused_naming_the_directive(apache: Apache, layout):
    text = DOCS_CONF.read_text().replace(
        "WSGIScriptAlias /wps ${PYWPS_ETC}/pywps.wsgi process-group=pywps application-group=%{GLOBAL}",
        "WSGIScriptAlias /wps ${PYWPS_ETC}/pywps.wsgi process-group=pywps")
    layout(text)
    offset = apache.log_size()
    resp = requests.get(f"{apache.wps}?service=WPS&request=GetCapabilities", timeout=30)
    assert resp.status_code == 503
    log = _error_after(apache, offset, r"sub-interpreter")
    assert "application-group=%{GLOBAL}" in log and "Traceback" not in log


def test_pywps4_layout_without_preload_is_refused_naming_the_directive(apache: Apache, layout):
    """The PyWPS 4 layout without WSGIImportScript loads the application at the first request only (with
    both process-group and application-group on WSGIScriptAlias mod_wsgi preloads it by itself)."""
    text = "\n".join(line for line in _pywps4_layout(DOCS_CONF.read_text()).splitlines()
                     if not line.startswith("WSGIImportScript"))
    layout(text)
    offset = apache.log_size()
    resp = requests.get(f"{apache.wps}?service=WPS&request=GetCapabilities", timeout=30)
    assert resp.status_code == 503
    log = _error_after(apache, offset, r"WSGIImportScript")
    assert "loaded by a request" in log and "Traceback" not in log
