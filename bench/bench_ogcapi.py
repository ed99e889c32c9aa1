"""OGC API - Processes: this server against pygeoapi, side by side, under gunicorn on 127.0.0.1.

    python bench/bench_ogcapi.py                                  # 3 rounds of 10 s per operation and server,
                                                                  #   then 1000 async jobs on this server
    python bench/bench_ogcapi.py --duration 2 --rounds 1 --async-jobs 50     # a smoke test (about 1 min)
    python bench/bench_ogcapi.py --duration 10 --rounds 3 --json /tmp/ogcapi.json

Operations (``wrk``, 1 thread, 8 connections, ``Accept: application/json``):

* ``GET /processes`` and ``GET /processes/{id}``: the process list and one description, JSON;
* ``execute sync``: ``POST /processes/{id}/execution`` with ``{"inputs": {"name": "World"}, "response":
  "document"}``: one literal in, ``Hello World`` out, a JSON answer;
* ``execute async``: the same POST with ``Prefer: respond-async`` (201 and a job); after each run the
  script waits until every job the run submitted has ended, and its CPU per request covers the run and
  that wait (the jobs' work included).

This server: ``gunicorn -w 2 pywps.wsgi:application``, its example processes (``say_hello`` is the one
executed), SQLite job store and outputs in a temp dir, ``parallelprocesses = 2``, ``maxprocesses`` high
enough that no async submission is refused. pygeoapi runs from its own virtualenv (``--pygeoapi-venv``,
created with ``pip install pygeoapi gunicorn`` when missing; never a dependency of this project) as
``gunicorn -w 2 pygeoapi.flask_app:APP``, twice:

* ``pygeoapi``, the reference (targets): its ``TinyDB`` job manager in a temp dir, which it needs for async
  (jobs then run in a thread of the gunicorn worker) and with which every execution is a recorded job, as
  on this server. TinyDB reads and rewrites its whole JSON file on every change (a sync execution: about
  10 ms with an empty file, 48 ms with 1,000 jobs in it), so the file is emptied before each run and, during
  the sync runs, every ``PRUNE_EVERY`` seconds: pygeoapi works with a nearly empty job list while this
  server's store keeps every job;
* ``pygeoapi, 1,000 jobs kept``: the same with ``HISTORY`` earlier jobs in its TinyDB file (copies of one
  of its own finished jobs), reset to those every ``PRUNE_EVERY`` seconds during the sync runs, for
  information: a deployed pygeoapi keeps its jobs, as this server's store does;
* ``pygeoapi, no job manager`` (its ``Dummy``): the sync execution only, for information: the processor
  runs inline in the request, no job is recorded, nothing is isolated in a process of its own.

The floor (``FLOOR_APP``, for information): a WSGI function under the same gunicorn that answers this
server's own bytes without reading the request and forks one child that exits at once per execution. It
shows the most any Python server can reach with this harness on this machine; the floor's req/s over
pygeoapi's is the highest ratio a target can ask for here.

Both pygeoapi servers serve a greeting processor written here (``PROCESSOR``, put on ``PYTHONPATH`` from a
temp dir) under as many ids as this server lists on ``/processes``, so that both lists are as long; their
config (``pretty_print: false``, logging ``ERROR``) and OpenAPI document (``pygeoapi openapi generate``)
are written to the temp dir too. Every answer is checked once before the load. Operations alternate
between the servers, in reverse order every other round; the table gives medians over rounds.

Then ``--async-jobs N`` (default 1000) jobs are submitted to this server through OGC API (16 clients),
and each is counted by ``GET /jobs/{id}`` and in the job store once they have ended: none may be lost.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from benchlib import ROOT, Gunicorn, machine, percentile, write_cfg

sys.path.insert(0, str(ROOT))

from pywps.jobs.model import FINAL, JobStatus
from pywps.jobs.store import JobStore

OURS, PYGEOAPI, PYGEOAPI_NO_JOBS = "this server", "pygeoapi", "pygeoapi, no job manager"
PYGEOAPI_HISTORY = "pygeoapi, 1,000 jobs kept"
FLOOR = "floor (constant answer)"
LIST, DESCRIBE, SYNC, ASYNC = "GET /processes", "GET /processes/{id}", "execute sync", "execute async"
OPERATIONS = (LIST, DESCRIBE, SYNC, ASYNC)
SERVERS: dict[str, tuple[str, ...]] = {  # who runs which operation; pygeoapi (TinyDB) is the reference
    LIST: (OURS, PYGEOAPI, FLOOR),
    DESCRIBE: (OURS, PYGEOAPI, FLOOR),
    SYNC: (OURS, PYGEOAPI, PYGEOAPI_HISTORY, PYGEOAPI_NO_JOBS, FLOOR),
    ASYNC: (OURS, PYGEOAPI),
}
TARGETS = {LIST: 3.0, DESCRIBE: 3.0, SYNC: 2.0}  # issue 12: this server's req/s over the reference's
EXECUTE = {"inputs": {"name": "World"}, "response": "document"}
PENDING_TINYDB = ("accepted", "running")
PYGEOAPI_ID = "greet"
PRUNE_EVERY = 0.5  # s: pygeoapi's TinyDB file during sync runs (each job in it costs every request ~40 us)
HISTORY = 1000  # jobs kept in the TinyDB file of PYGEOAPI_HISTORY (this server's store keeps every job)

# The harness floor: what any WSGI application can reach under the same gunicorn, wrk and machine. It
# answers this server's own bytes (read once at start) without looking at the request; an execution forks
# one child that exits at once, the least a server that runs each job in a process of its own does.
FLOOR_APP = '''"""bench/bench_ogcapi.py's floor: constant answers, a child process per execution."""

import json
import os

with open(os.environ["BENCH_FLOOR_ANSWERS"], "rb") as f:
    ANSWERS = {path: body.encode() for path, body in json.load(f).items()}


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if environ["REQUEST_METHOD"] == "POST":
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        path = "execution"
    body = ANSWERS.get(path)
    if body is None:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''

# The pygeoapi side of the sync execution: say_hello's twin (one string in, "Hello <name>" out).
PROCESSOR = '''"""A greeting for bench/bench_ogcapi.py, the twin of this server's say_hello example process."""

from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

DESCRIPTION = {
    "version": "1.3.3.7",
    "id": "greet",
    "title": "Greet someone",
    "description": "Answers with a greeting for the name it is given",
    "keywords": ["benchmark"],
    "jobControlOptions": ["sync-execute", "async-execute"],
    "links": [],
    "inputs": {
        "name": {"title": "Input name", "description": "Who to greet",
                 "schema": {"type": "string"}, "minOccurs": 1, "maxOccurs": 1},
    },
    "outputs": {
        "output": {"title": "Output response", "description": "The greeting",
                   "schema": {"type": "string"}},
    },
    "example": {"inputs": {"name": "World"}},
}


class Greet(BaseProcessor):
    """One literal in, one literal out."""

    def __init__(self, processor_def):
        super().__init__(processor_def, DESCRIPTION)

    def execute(self, data, outputs=None):
        name = data.get("name")
        if not isinstance(name, str):
            raise ProcessorExecuteError("the input name must be a string")
        return "application/json", {"output": "Hello " + name}
'''


@dataclass
class Sample:
    """One run of one operation on one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms: float = 0.0       # server CPU time (all its processes) per request
    drain_s: float = 0.0      # execute async: from the end of the load until every job had ended
    not_successful: int = 0   # execute async: jobs of the run that did not end successful


@dataclass
class AsyncRun:
    """N async jobs submitted to this server, then counted."""

    jobs: int
    accepted: int = 0
    server_busy: int = 0
    errors: int = 0
    submit_p50_ms: float = 0.0
    submit_p99_ms: float = 0.0
    submit_s: float = 0.0
    done_s: float = 0.0            # first submission to the last job's end (seen by the store)
    successful_http: int = 0       # GET /jobs/{id} says "successful"
    successful_store: int = 0      # the job store says succeeded
    failed: int = 0
    lost: int = 0                  # accepted, not successful
    stalled: bool = False
    cpu_ms_per_job: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


# -- HTTP ----------------------------------------------------------------------------------------------


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, headers (lower-case names), body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, f"{parts.path}?{parts.query}" if parts.query else parts.path, body=body,
                     headers={"Accept": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, duration: float, connections: int, threads: int, method: str,
            headers: dict[str, str], body: bytes | None) -> Sample:
    """wrk with method, headers and body from a Lua script; its latency distribution, counts and req/s."""
    lua = [f"wrk.method = {json.dumps(method)}"]
    lua += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    if body is not None:
        lua.append(f"wrk.body = {json.dumps(body.decode())}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write("\n".join(lua) + "\n")
        script.flush()
        out = subprocess.run(
            ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
             "--timeout", "30s", "-s", script.name, url],
            capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return Sample(rps, _ms(latency["50"]), _ms(latency["99"]), requests, errors)


# -- servers -------------------------------------------------------------------------------------------


class Target:
    """A server under test: where its operations live and how to tell that its jobs have ended."""

    name = ""
    process_id = ""

    def __init__(self, server: Gunicorn, api: str) -> None:
        self.server = server
        self.api = api  # the OGC API base URL, no trailing slash

    def request(self, op: str) -> tuple[str, str, dict[str, str], bytes | None]:
        """URL, method, headers and body of one request of ``op``."""
        if op == LIST:
            return f"{self.api}/processes", "GET", {"Accept": "application/json"}, None
        if op == DESCRIBE:
            return f"{self.api}/processes/{self.process_id}", "GET", {"Accept": "application/json"}, None
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if op == ASYNC:
            headers["Prefer"] = "respond-async"
        return f"{self.api}/processes/{self.process_id}/execution", "POST", headers, json.dumps(EXECUTE).encode()

    def pending(self) -> tuple[int, int]:
        """Jobs that have not ended, and jobs that ended otherwise than successful."""
        raise NotImplementedError

    def reset(self) -> None:
        """Before a run: forget the jobs of the runs before (where they would slow this server down)."""

    def during(self, op: str) -> contextlib.AbstractContextManager:
        """What runs beside the load of ``op`` on this server."""
        return contextlib.nullcontext()

    def stop(self) -> None:
        self.server.stop()


class Ours(Target):
    name = OURS
    process_id = "say_hello"

    def __init__(self, server: Gunicorn, database: str) -> None:
        super().__init__(server, f"{server.base}/ogcapi")
        self.database = database
        self.store: JobStore | None = None

    def pending(self) -> tuple[int, int]:
        if self.store is None:
            self.store = JobStore(self.database)
        return (self.store.count([s for s in JobStatus if s not in FINAL]),
                self.store.count([JobStatus.FAILED, JobStatus.DISMISSED]))

    def stop(self) -> None:
        super().stop()
        if self.store is not None:
            self.store.dispose()


class Pygeoapi(Target):
    process_id = PYGEOAPI_ID

    def __init__(self, name: str, server: Gunicorn, tinydb: Path | None, history: int = 0) -> None:
        super().__init__(server, server.base)
        self.name = name
        self.tinydb = tinydb
        self.history = history  # jobs the file is reset to: copies of a finished job of its own
        self.kept = ""

    def _jobs(self) -> list[dict]:
        if self.tinydb is None:
            return []
        for _ in range(50):  # a reader may meet the file half rewritten: read it again
            try:
                return list(json.loads(self.tinydb.read_text() or "{}").get("_default", {}).values())
            except FileNotFoundError:
                return []
            except json.JSONDecodeError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.tinydb} is not JSON")

    def pending(self) -> tuple[int, int]:
        jobs = self._jobs()
        return (sum(1 for j in jobs if j.get("status") in PENDING_TINYDB),
                sum(1 for j in jobs if j.get("status") not in (*PENDING_TINYDB, "successful")))

    def reset(self) -> None:
        if self.tinydb is None:
            return
        if self.history and not self.kept:
            jobs = [j for j in self._jobs() if j.get("status") == "successful"]
            if not jobs:
                raise RuntimeError(f"{self.name}: no finished job to keep copies of")
            self.kept = json.dumps({"_default": {str(n): {**jobs[0], "identifier": f"kept-{n:06d}"}
                                                 for n in range(1, self.history + 1)}})
        # pygeoapi takes a FileLock (flock) on "<db>.lock" around every TinyDB access: take it too
        with open(f"{self.tinydb}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.kept:
                    self.tinydb.write_text(self.kept)
                else:
                    self.tinydb.unlink(missing_ok=True)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def during(self, op: str) -> Iterator[None]:
        """Sync runs: empty the TinyDB file every ``PRUNE_EVERY`` seconds (no job is counted there)."""
        if op != SYNC or self.tinydb is None:
            yield
            return
        stop = threading.Event()

        def prune() -> None:
            while not stop.wait(PRUNE_EVERY):
                self.reset()

        thread = threading.Thread(target=prune, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class Floor(Target):
    """The constant application (``FLOOR_APP``) under the same gunicorn: no jobs of its own."""

    name = FLOOR
    process_id = "say_hello"

    def __init__(self, server: Gunicorn) -> None:
        super().__init__(server, server.base)

    def pending(self) -> tuple[int, int]:
        return 0, 0


def floor_server(directory: Path, workers: int, ours: Ours) -> Floor:
    """The floor, answering what this server answers to the list, the description and the execution."""
    directory.mkdir(parents=True)
    (directory / "bench_floor.py").write_text(FLOOR_APP)
    answers = {}
    for op, path in ((LIST, "/processes"), (DESCRIBE, "/processes/say_hello"), (SYNC, "execution")):
        url, method, headers, body = ours.request(op)
        status, _, answer = call(url, method, body, headers)
        if status != 200:
            raise SystemExit(f"{OURS}: {op} answered {status}")
        answers[path] = answer.decode()
    (directory / "answers.json").write_text(json.dumps(answers))
    server = Gunicorn("floor", sys.executable, "bench_floor:application", workers, directory,
                      pythonpath=str(directory), ready_path="/processes")
    server.env = {"BENCH_FLOOR_ANSWERS": str(directory / "answers.json")}
    return Floor(server)


def ensure_pygeoapi(venv: Path) -> tuple[Path, str]:
    """The pygeoapi virtualenv's python and pygeoapi's version, creating the venv when missing."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import gunicorn, pygeoapi; from importlib.metadata import version as v; "
             "print(v('pygeoapi'))"]
    found = subprocess.run(check, capture_output=True, text=True, cwd="/") if python.exists() else None
    if found is None or found.returncode != 0:
        print(f"creating {venv} with pygeoapi and gunicorn", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pygeoapi", "gunicorn"], check=True)
        found = subprocess.run(check, capture_output=True, text=True, check=True, cwd="/")
    return python, found.stdout.strip()


def our_server(directory: Path, workers: int, queue: int) -> Ours:
    directory.mkdir(parents=True)
    server = Gunicorn("ours", sys.executable, "pywps.wsgi:application", workers, directory,
                      pythonpath=str(ROOT), ready_path="/health")
    database = f"sqlite:///{directory / 'jobs.sqlite'}"
    cfg = write_cfg(directory / "pywps.cfg", {
        "server": {"url": server.url, "outputurl": f"{server.base}/outputs/", "outputpath": directory / "outputs",
                   "workdir": directory / "work", "parallelprocesses": 2, "maxprocesses": queue},
        "logging": {"database": database, "level": "WARNING"},
    })
    server.env = {"PYWPS_CFG": str(cfg), "PYTHONPATH": str(ROOT)}
    return Ours(server, database)


def pygeoapi_server(name: str, directory: Path, workers: int, python: Path, processes: int,
                    tinydb: bool, history: int = 0) -> Pygeoapi:
    """pygeoapi serving the greeting under ``processes`` ids, with the TinyDB manager or none."""
    directory.mkdir(parents=True)
    (directory / "bench_greet.py").write_text(PROCESSOR)
    server = Gunicorn(re.sub(r"\W+", "-", name), str(python), "pygeoapi.flask_app:APP", workers, directory,
                      pythonpath=str(directory), ready_path=f"/processes/{PYGEOAPI_ID}?f=json")
    ids = [PYGEOAPI_ID] + [f"{PYGEOAPI_ID}_{i}" for i in range(2, processes + 1)]
    config: dict[str, object] = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": server.port},
            "url": server.base,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10},
            "map": {"url": f"{server.base}/no-tiles/{{z}}/{{x}}/{{y}}.png", "attribution": "none"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench_ogcapi", "description": "pygeoapi for bench/bench_ogcapi.py",
                               "keywords": ["benchmark"], "keywords_type": "theme", "terms_of_service": "none",
                               "url": server.base},
            "license": {"name": "none", "url": server.base},
            "provider": {"name": "none", "url": server.base},
            "contact": {"name": "none", "url": server.base},
        },
        "resources": {pid: {"type": "process", "processor": {"name": "bench_greet.Greet"}} for pid in ids},
    }
    db = None
    if tinydb:
        db = directory / "jobs.tinydb.json"
        (directory / "results").mkdir()
        config["server"]["manager"] = {"name": "TinyDB", "connection": str(db),  # type: ignore[index]
                                       "output_dir": str(directory / "results")}
    cfg = directory / "pygeoapi-config.yml"
    cfg.write_text(json.dumps(config, indent=2))  # JSON is YAML
    openapi = directory / "pygeoapi-openapi.yml"
    env = {"PATH": os.environ.get("PATH", ""), "PYGEOAPI_CONFIG": str(cfg), "PYTHONPATH": str(directory)}
    subprocess.run([str(python.parent / "pygeoapi"), "openapi", "generate", str(cfg), "--output-file",
                    str(openapi)], env=env, cwd=directory, check=True, capture_output=True)
    server.env = {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(openapi)}
    return Pygeoapi(name, server, db, history)


EXPECT: dict[str, tuple[int, tuple[bytes, ...]]] = {
    LIST: (200, (b'"processes"',)),
    DESCRIBE: (200, (b'"inputs"', b'"outputs"')),
    SYNC: (200, (b"Hello World",)),
    ASYNC: (201, ()),
}


def check_answers(target: Target) -> None:
    """Every operation answers as it should before it is loaded (and async jobs succeed)."""
    for op in OPERATIONS:
        if target.name not in SERVERS[op]:
            continue
        url, method, headers, body = target.request(op)
        status, resp_headers, answer = call(url, method, body, headers)
        code, marks = EXPECT[op]
        if op in (LIST, DESCRIBE):
            marks = (*marks, target.process_id.encode())
        missing = [m.decode() for m in marks if m not in answer]
        if op == ASYNC and "location" not in resp_headers:
            missing.append("a Location header")
        if status != code or missing or not resp_headers.get("content-type", "").startswith("application/json"):
            raise SystemExit(f"{target.name}: {op} answered {status} {resp_headers.get('content-type')} without "
                             f"{missing}:\n{answer[:2000].decode(errors='replace')}")
        if op == ASYNC:
            drain(target, 60, settle=0)
            job_status, _, job = call(resp_headers["location"])
            if job_status != 200 or json.loads(job).get("status") != "successful":
                raise SystemExit(f"{target.name}: the async job answered {job_status}: {job[:2000].decode()}")


def drain(target: Target, stall: float, settle: float = 1.0) -> tuple[float, int]:
    """Wait until every job of ``target`` has ended and none came for ``settle`` seconds (requests still in
    flight when the load stopped): seconds until the last job ended, and jobs still pending at the end."""
    start = last_change = time.monotonic()
    last, idle_since = -1, None
    while True:
        pending, _ = target.pending()
        now = time.monotonic()
        if pending == 0:
            idle_since = idle_since or now
            if now - idle_since >= settle:
                return idle_since - start, 0
        else:
            idle_since = None
        if pending != last:
            last, last_change = pending, now
        if pending and now - last_change > stall:
            print(f"  {target.name}: {pending} jobs did not end (none ended for {stall:g} s)", file=sys.stderr)
            return now - start, pending
        time.sleep(0.1)


# -- the 1,000 async jobs --------------------------------------------------------------------------------


def async_run(target: Ours, n: int, concurrency: int, stall: float) -> AsyncRun:
    """Submit ``n`` async jobs through OGC API, wait until they ended, count them by GET /jobs/{id} and store."""
    result = AsyncRun(n)
    drain(target, stall)
    url, method, headers, body = target.request(ASYNC)
    ids: list[str] = []
    latencies: list[float] = []
    cpu0 = target.server.cpu_seconds()

    def submit(_: int) -> None:
        start = time.perf_counter()
        try:
            status, answer_headers, answer = call(url, method, body, headers)
        except OSError as exc:
            status, answer_headers, answer = 0, {}, repr(exc).encode()
        latencies.append((time.perf_counter() - start) * 1000)
        if status == 201 and "location" in answer_headers:
            ids.append(answer_headers["location"].rstrip("/").rsplit("/", 1)[1])
        elif status == 503:
            result.server_busy += 1
        else:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(f"{status}: {answer[:300].decode(errors='replace')}")

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(submit, range(n)))
    result.submit_s = time.perf_counter() - started
    result.accepted = len(ids)
    result.submit_p50_ms, result.submit_p99_ms = percentile(latencies, 50), percentile(latencies, 99)
    print(f"  {OURS}: {result.accepted}/{n} async jobs accepted in {result.submit_s:.1f} s", file=sys.stderr)
    drained, left = drain(target, stall)
    result.stalled = left > 0
    result.done_s = result.submit_s + drained
    time.sleep(0.2)  # the last job processes are reaped
    result.cpu_ms_per_job = (target.server.cpu_seconds() - cpu0) * 1000 / max(1, result.accepted)

    def status_of(job_id: str) -> str:
        try:
            code, _, answer = call(f"{target.api}/jobs/{job_id}")
        except OSError as exc:
            return f"unreachable ({exc.__class__.__name__})"
        return json.loads(answer).get("status", "?") if code == 200 else f"HTTP {code}"

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(status_of, ids))
    for status in statuses:
        result.statuses[status] = result.statuses.get(status, 0) + 1
    result.successful_http = result.statuses.get("successful", 0)
    records = [target.store.get(i) for i in ids] if target.store is not None else []
    result.successful_store = sum(1 for r in records if r is not None and r.status is JobStatus.SUCCEEDED)
    result.failed = sum(1 for r in records if r is not None and r.status is JobStatus.FAILED)
    result.lost = result.accepted - min(result.successful_http, result.successful_store)
    return result


# -- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per operation and server")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of discarded load first (round 1)")
    parser.add_argument("--rounds", type=int, default=3, help="repeat every operation; medians are reported")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--ops", nargs="*", choices=OPERATIONS, help="operations (default: all)")
    parser.add_argument("--async-jobs", type=int, default=1000, metavar="N",
                        help="then N async jobs on this server, none may be lost (0: skip)")
    parser.add_argument("--async-concurrency", type=int, default=16, help="clients submitting the N jobs")
    parser.add_argument("--stall", type=float, default=60, help="give up when no job ended for this long (s)")
    parser.add_argument("--pygeoapi-venv", type=Path, default=Path("/var/cache/pywps/bench-pygeoapi-venv"))
    parser.add_argument("--json", type=Path, help="also write the samples here")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (configs, server logs)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    ops = args.ops or list(OPERATIONS)
    python, version = ensure_pygeoapi(args.pygeoapi_venv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ogcapi-"))
    queue = 100_000  # maxprocesses: a closed-loop async run of a few seconds must never be refused
    ours = our_server(tmp / "ours", args.workers, queue)
    targets: list[Target] = [ours]
    samples: dict[str, dict[str, list[Sample]]] = {}
    async_result: AsyncRun | None = None
    print(f"machine: {machine()}", file=sys.stderr)
    print(f"pygeoapi {version} ({python}); wrk, {args.connections} connections, {args.duration:g} s per run, "
          f"{args.workers} gunicorn workers per server, {args.rounds} round(s); temp dir {tmp}", file=sys.stderr)
    try:
        ours.server.start()
        _, _, listing = call(f"{ours.api}/processes")
        processes = len(json.loads(listing)["processes"])
        targets += [pygeoapi_server(PYGEOAPI, tmp / "pygeoapi", args.workers, python, processes, tinydb=True),
                    pygeoapi_server(PYGEOAPI_HISTORY, tmp / "pygeoapi-history", args.workers, python, processes,
                                    tinydb=True, history=HISTORY),
                    pygeoapi_server(PYGEOAPI_NO_JOBS, tmp / "pygeoapi-no-jobs", args.workers, python, processes,
                                    tinydb=False)]
        targets.append(floor_server(tmp / "floor", args.workers, ours))
        for target in targets[1:]:
            target.server.start()
        for target in targets:
            check_answers(target)
        samples = {t.name: {op: [] for op in ops if t.name in SERVERS[op]} for t in targets}
        for round_no in range(args.rounds):
            for op in ops:
                order = [t for t in targets if t.name in SERVERS[op]]
                for target in order if round_no % 2 == 0 else list(reversed(order)):
                    url, method, headers, body = target.request(op)
                    if round_no == 0 and args.warmup > 0:
                        target.reset()
                        with target.during(op):
                            run_wrk(url, args.warmup, args.connections, args.threads, method, headers, body)
                        drain(target, args.stall)
                    target.reset()
                    cpu = target.server.cpu_seconds()
                    with target.during(op):
                        sample = run_wrk(url, args.duration, args.connections, args.threads, method, headers,
                                         body)
                    if op == ASYNC:
                        sample.drain_s, _ = drain(target, args.stall)
                        time.sleep(0.2)  # the last job processes are reaped
                        sample.not_successful = sum(target.pending())
                    sample.cpu_ms = (target.server.cpu_seconds() - cpu) * 1000 / max(1, sample.requests)
                    samples[target.name][op].append(sample)
                    print(f"  round {round_no + 1} {target.name:<16} {op:<19} {sample.rps:8.1f} req/s  "
                          f"p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms  "
                          f"cpu {sample.cpu_ms:6.2f} ms/req  n={sample.requests} errors={sample.errors}"
                          + (f"  drain {sample.drain_s:.1f} s" if op == ASYNC else ""), file=sys.stderr)
        if args.async_jobs > 0:
            async_result = async_run(ours, args.async_jobs, args.async_concurrency, args.stall)
    finally:
        for target in targets:
            target.stop()
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)

    failed = report(samples, ops, async_result, version)
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "pygeoapi": version, "connections": args.connections, "duration": args.duration,
            "workers": args.workers, "rounds": args.rounds,
            "samples": {n: {op: [asdict(s) for s in runs] for op, runs in per.items()} for n, per in samples.items()},
            "async": asdict(async_result) if async_result else None}, indent=2))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def report(samples: dict[str, dict[str, list[Sample]]], ops: list[str], async_result: AsyncRun | None,
           version: str) -> bool:
    """Print the tables; True when a target was missed, a request failed or a job was lost."""

    def median(server: str, op: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples[server][op])

    failed = False
    print(f"machine: {machine()}; pygeoapi {version}\n")
    print("| operation | server | req/s | p50 ms | p99 ms | CPU ms/req | ratio | per round | ratio CPU/req | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for op in ops:
        for name in SERVERS[op]:
            if name == OURS:
                ratio = rounds = cpu_ratio = target = "—"
            else:
                value = median(OURS, op, "rps") / median(name, op, "rps")
                per_round = [a.rps / b.rps for a, b in zip(samples[OURS][op], samples[name][op], strict=True)]
                ratio, rounds = f"{value:.2f}x", ", ".join(f"{r:.2f}" for r in per_round)
                cpu_ratio = f"{median(name, op, 'cpu_ms') / median(OURS, op, 'cpu_ms'):.2f}x"
                target = "—"
                if name == FLOOR:
                    reach = median(FLOOR, op, "rps") / median(PYGEOAPI, op, "rps")
                    target = f"floor / {PYGEOAPI} = {reach:.2f}x: the most any server reaches here"
                elif op in TARGETS:
                    met = value >= TARGETS[op]
                    failed |= not met and name == PYGEOAPI
                    target = f">= {TARGETS[op]:g}x {'met' if met else 'MISSED'}"
                    if name == PYGEOAPI_HISTORY:
                        target += f" (for information: {HISTORY:,} earlier jobs in its file)"
                    elif name != PYGEOAPI:
                        target += " (for information: not the same work)"
            print(f"| {op} | {name} | {median(name, op, 'rps'):.0f} | {median(name, op, 'p50_ms'):.1f} | "
                  f"{median(name, op, 'p99_ms'):.1f} | {median(name, op, 'cpu_ms'):.1f} | {ratio} | {rounds} | "
                  f"{cpu_ratio} | {target} |")
    print("\nratio: this server's req/s over that server's (medians over rounds); per round: the same ratio in "
          "each round; CPU ms/req: user + system time of the server's gunicorn processes and the job processes "
          "they reaped, per request; ratio CPU/req: that server's CPU ms/req over this server's (less sensitive "
          "to the machine's load); floor: a WSGI function answering this server's bytes without reading the "
          "request, forking one child that exits at once per execution, under the same gunicorn")
    if ASYNC in ops:
        for name, runs in samples.items():
            if ASYNC in runs:
                print(op_note(name, runs[ASYNC]))
                failed |= any(s.not_successful for s in runs[ASYNC]) and name == OURS
    errors = {name: sum(s.errors for runs in per.values() for s in runs) for name, per in samples.items()}
    print(f"\nerrors (non-2xx, socket): {', '.join(f'{n} {e}' for n, e in errors.items())}")
    failed |= errors.get(OURS, 0) > 0
    if async_result is not None:
        r = async_result
        ok = r.accepted == r.jobs and r.lost == 0 and not r.stalled
        failed |= not ok
        print(f"\n{r.jobs} async jobs through OGC API on this server:\n")
        print("| submitted | accepted | ServerBusy | errors | submit p50 ms | submit p99 ms | submits/s | "
              "all ended after s | jobs/s | successful (GET /jobs/{id}) | successful (store) | failed | lost | "
              "CPU ms/job | target |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {r.jobs} | {r.accepted} | {r.server_busy} | {r.errors} | {r.submit_p50_ms:.1f} | "
              f"{r.submit_p99_ms:.1f} | {r.accepted / r.submit_s if r.submit_s else 0:.0f} | {r.done_s:.1f} | "
              f"{r.successful_store / r.done_s if r.done_s else 0:.1f} | {r.successful_http} | "
              f"{r.successful_store} | {r.failed} | {r.lost}{' (stalled)' if r.stalled else ''} | "
              f"{r.cpu_ms_per_job:.1f} | 0 lost {'met' if ok else 'MISSED'} |")
        if r.statuses.keys() - {"successful"}:
            print(f"\nstatuses by GET /jobs/{{id}}: {r.statuses}")
        for sample in r.error_samples:
            print(f"  {sample}")
    return failed


def op_note(name: str, runs: list[Sample]) -> str:
    """One line on the async runs of a server: how long its jobs took to end after the load, and how many failed."""
    drains = ", ".join(f"{s.drain_s:.1f}" for s in runs)
    bad = sum(s.not_successful for s in runs)
    return (f"{ASYNC}, {name}: every job had ended {drains} s after the load (per round; CPU ms/req covers the "
            f"jobs), {bad} not successful")


if __name__ == "__main__":
    sys.exit(main())
