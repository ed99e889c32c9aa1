"""Operation throughput: this server against PyWPS 4.8.1, side by side, under gunicorn on 127.0.0.1.

    python bench/bench_ops.py                      # 10 s per operation and server, 8 connections
    python bench/bench_ops.py --duration 20 --rounds 3 --json /tmp/ops.json

Measures GetCapabilities, DescribeProcess (identifier=all and one process) and a synchronous Execute of
``say_hello`` (KVP GET, and an XML POST): requests/s and p50/p99 latency. Both servers run gunicorn with
the same number of sync workers (default 2) and serve the same example processes
(``pywps/processes/examples.py``; PyWPS 4.8.1 loads it through ``bench/pywps481_app.py``), each with its own
pywps.cfg and a file-based SQLite database in a temp directory. Operations alternate between the servers
(in reverse order every other round) so that load from elsewhere on the machine hits all alike.

The load comes from ``wrk`` (Debian package ``wrk``) when installed, with a fixed duration and number of
connections; ``--client python`` uses a thread pool of blocking HTTP clients instead.

``--forkserver both`` runs this server twice, with and without its fork server ([processing] forkserver),
interleaved with PyWPS 4.8.1 in the same rounds.

PyWPS 4.8.1 runs from its own virtualenv (``--pywps481-venv``, default /tmp/pywps481-venv), created with
``pip install pywps==4.8.1 gunicorn`` when missing. It is only the baseline, never a dependency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchlib import BENCH, ROOT, Gunicorn, http_get, machine, percentile, write_cfg

OPERATIONS: dict[str, str] = {
    "GetCapabilities": "service=WPS&request=GetCapabilities",
    "DescribeProcess all": "service=WPS&request=DescribeProcess&version=1.0.0&identifier=all",
    "DescribeProcess one": "service=WPS&request=DescribeProcess&version=1.0.0&identifier=say_hello",
    "Execute sync": "service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=World",
    "Execute sync POST": "",
}
# the bodies of POSTed operations (text/xml)
BODIES: dict[str, bytes] = {
    "Execute sync POST": b"""<?xml version="1.0" encoding="UTF-8"?>
<wps:Execute service="WPS" version="1.0.0" xmlns:wps="http://www.opengis.net/wps/1.0.0"
    xmlns:ows="http://www.opengis.net/ows/1.1">
  <ows:Identifier>say_hello</ows:Identifier>
  <wps:DataInputs>
    <wps:Input>
      <ows:Identifier>name</ows:Identifier>
      <wps:Data><wps:LiteralData>World</wps:LiteralData></wps:Data>
    </wps:Input>
  </wps:DataInputs>
</wps:Execute>
""",
}
# what every answer must contain, checked once per server before the load
EXPECT: dict[str, tuple[bytes, ...]] = {
    "GetCapabilities": (b"Capabilities", b"say_hello", b"echo_bbox"),
    "DescribeProcess all": (b"ProcessDescriptions", b"say_hello", b"multiple_outputs"),
    "DescribeProcess one": (b"ProcessDescriptions", b"say_hello"),
    "Execute sync": (b"ProcessSucceeded", b"Hello World"),
    "Execute sync POST": (b"ProcessSucceeded", b"Hello World"),
}
# issue 16: GetCapabilities/DescribeProcess stay >= 30x PyWPS 4.8.1, a trivial sync Execute >= 3x
TARGETS = {"GetCapabilities": 30.0, "DescribeProcess all": 30.0, "DescribeProcess one": 30.0, "Execute sync": 3.0,
           "Execute sync POST": 3.0}
OURS, BASELINE = "this server", "PyWPS 4.8.1"
OURS_NO_FORKSERVER = "this server, no fork server"
ROUND_FLOOR = {"Execute sync": 2.5, "Execute sync POST": 2.5}  # issue 16: every round of a sync Execute


@dataclass
class Sample:
    """One measurement of one operation on one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms: float = 0.0  # server CPU time (all its processes) per request


# -- load generators -----------------------------------------------------------------------------------


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, duration: float, connections: int, threads: int, body: bytes | None = None) -> Sample:
    """Run wrk and parse its latency distribution, request count, errors and requests/s."""
    script = []
    if body is not None:  # a POST: wrk takes method, headers and body from a Lua script
        handle = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        handle.write(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "text/xml"\n'
                     f'wrk.body = {json.dumps(body.decode())}\n')
        handle.close()
        script = ["-s", handle.name]
    out = subprocess.run(
        ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
         "--timeout", "30s", *script, url],
        capture_output=True, text=True, check=True).stdout
    if script:
        Path(script[1]).unlink()
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return Sample(rps, _ms(latency["50"]), _ms(latency["99"]), requests, errors)


def run_python(url: str, duration: float, connections: int, body: bytes | None = None) -> Sample:
    """``connections`` threads each sending requests back to back for ``duration`` seconds."""
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}"
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.monotonic() + duration

    def client(i: int) -> None:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                if body is None:
                    conn.request("GET", target)
                else:
                    conn.request("POST", target, body=body, headers={"Content-Type": "text/xml"})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                ok = resp.status < 400
            except OSError:
                ok = False
            latencies[i].append((time.perf_counter() - start) * 1000)
            errors[i] += not ok

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    flat = [x for chunk in latencies for x in chunk]
    return Sample(len(flat) / elapsed, percentile(flat, 50), percentile(flat, 99), len(flat), sum(errors))


# -- servers -------------------------------------------------------------------------------------------


def ensure_venv(venv: Path) -> Path:
    """The PyWPS 4.8.1 virtualenv's python, creating the venv when missing."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import gunicorn; from importlib.metadata import version as v; "
             "assert v('pywps') == '4.8.1', v('pywps')"]
    if python.exists() and subprocess.run(check, capture_output=True, cwd="/").returncode == 0:
        return python
    print(f"creating {venv} with pywps==4.8.1 and gunicorn", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "pywps==4.8.1", "gunicorn"], check=True)
    subprocess.run(check, check=True, cwd="/")
    return python


def our_server(directory: Path, workers: int, profile: Path | None = None, forkserver: bool = True,
               name: str = "ours") -> Gunicorn:
    directory.mkdir(parents=True)
    app = "profile_wsgi:application" if profile else "pywps.wsgi:application"
    server = Gunicorn(name, sys.executable, app, workers, directory, pythonpath=f"{ROOT},{BENCH}")
    cfg = write_cfg(directory / "pywps.cfg", {
        "server": {"url": server.url, "outputurl": f"{server.base}/outputs/", "outputpath": directory / "outputs",
                   "workdir": directory / "work", "parallelprocesses": 2, "maxprocesses": 30},
        "logging": {"database": f"sqlite:///{directory / 'jobs.sqlite'}", "level": "WARNING"},
        "processing": {"forkserver": "true" if forkserver else "false"},
    })
    server.env = {"PYWPS_CFG": str(cfg), "PYTHONPATH": str(ROOT)}
    if profile:
        server.env["BENCH_PROFILE_DIR"] = str(profile)
    return server


def baseline_server(directory: Path, workers: int, python: Path) -> Gunicorn:
    directory.mkdir(parents=True)
    server = Gunicorn("pywps481", str(python), "pywps481_app:application", workers, directory,
                      pythonpath=str(BENCH))
    cfg = write_cfg(directory / "pywps.cfg", {
        "server": {"url": server.url, "outputurl": f"{server.base}/outputs/", "outputpath": directory / "outputs",
                   "workdir": directory / "work", "parallelprocesses": 2, "maxprocesses": 30},
        "logging": {"database": f"sqlite:///{directory / 'pywps-logs.sqlite'}", "level": "WARNING"},
    })
    (directory / "outputs").mkdir()
    (directory / "work").mkdir()
    server.env = {"PYWPS_CFG": str(cfg), "BENCH_EXAMPLES": str(ROOT / "pywps" / "processes" / "examples.py")}
    return server


def check_answers(server: Gunicorn) -> None:
    """Every operation answers 200 with the expected content before it is loaded."""
    for op in OPERATIONS:
        status, body = request(server, op)
        missing = [m.decode() for m in EXPECT[op] if m not in body]
        if status != 200 or missing:
            raise SystemExit(f"{server.name}: {op} answered {status} without {missing}:\n{body[:2000].decode()}")


def url_of(server: Gunicorn, op: str) -> str:
    return f"{server.url}?{OPERATIONS[op]}" if OPERATIONS[op] else server.url


def request(server: Gunicorn, op: str) -> tuple[int, bytes]:
    """One request of operation ``op`` (GET, or POST with its body)."""
    if op not in BODIES:
        return http_get(url_of(server, op))
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", parts.path, body=BODIES[op], headers={"Content-Type": "text/xml"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _serial(server: Gunicorn, op: str, n: int) -> dict[str, float]:
    """``n`` requests one after the other: latency, and CPU per request of the server and of its jobs."""
    for _ in range(3):
        request(server, op)
    own, jobs = server.cpu_split()
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        request(server, op)
        latencies.append((time.perf_counter() - start) * 1000)
    own2, jobs2 = server.cpu_split()
    return {"mean_ms": statistics.fmean(latencies), "p50_ms": percentile(latencies, 50),
            "cpu_server_ms": (own2 - own) * 1000 / n, "cpu_jobs_ms": (jobs2 - jobs) * 1000 / n}


def _py_spy(server: Gunicorn, base: Path | None, op: str, duration: float) -> subprocess.Popen | None:
    """Start py-spy on ``server`` for the duration of one run (None without ``--py-spy``)."""
    if base is None:
        return None
    out = base.with_name(f"{base.name}.{op.replace(' ', '_')}")
    spy = subprocess.Popen(["py-spy", "record", "--subprocesses", "--nonblocking", "--pid", str(server.proc.pid),
                            "-r", "100", "-f", "raw", "-o", str(out), "-d", str(max(1, round(duration)))],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return spy


# -- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per operation and server")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of discarded load first")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything; medians are reported")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--pywps481-venv", type=Path, default=Path("/tmp/pywps481-venv"))
    parser.add_argument("--only", choices=["ours", "pywps481"], help="benchmark one server only")
    parser.add_argument("--forkserver", choices=["true", "false", "both"], default="true",
                        help="this server's [processing] forkserver; both: two servers, with and without")
    parser.add_argument("--ops", nargs="*", choices=list(OPERATIONS), help="operations (default: all)")
    parser.add_argument("--serial", type=int, default=0, metavar="N",
                        help="also send N requests one at a time per operation and server: latency and CPU "
                             "per request, split into the server's processes and the job processes they reaped")
    parser.add_argument("--json", type=Path, help="also write the samples here")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="cProfile this server's workers into DIR (see bench/profile_wsgi.py)")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", dest="py_spy",
                        help="record this server (workers and forked jobs) with py-spy into FILE (raw format, "
                             "one file per operation: FILE.<op>); summarise with bench/spy_report.py")
    args = parser.parse_args(argv)

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"

    def load(url: str, duration: float, body: bytes | None = None) -> Sample:
        if client == "wrk":
            return run_wrk(url, duration, args.connections, args.threads, body)
        return run_python(url, duration, args.connections, body)

    ops = args.ops or list(OPERATIONS)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    servers: list[Gunicorn] = []
    if args.only != "pywps481":
        if args.forkserver in ("true", "both"):
            servers.append(our_server(tmp / "ours", args.workers, args.profile))
        if args.forkserver in ("false", "both"):
            servers.append(our_server(tmp / "ours-direct", args.workers, args.profile, forkserver=False,
                                      name="ours-direct"))
    if args.only != "ours":
        servers.append(baseline_server(tmp / "pywps481", args.workers, ensure_venv(args.pywps481_venv)))
    names = {"ours": OURS, "ours-direct": OURS_NO_FORKSERVER, "pywps481": BASELINE}
    samples: dict[str, dict[str, list[Sample]]] = {names[s.name]: {op: [] for op in ops} for s in servers}
    serial: dict[str, dict[str, dict[str, float]]] = {names[s.name]: {} for s in servers}
    print(f"machine: {machine()}", file=sys.stderr)
    print(f"client: {client}, {args.connections} connections, {args.duration:g} s per run, "
          f"{args.workers} gunicorn workers per server, {args.rounds} round(s); temp dir {tmp}", file=sys.stderr)
    try:
        for server in servers:
            server.start()
            check_answers(server)
        for round_no in range(args.rounds):
            for op in ops:
                for server in servers if round_no % 2 == 0 else list(reversed(servers)):
                    url, body = url_of(server, op), BODIES.get(op)
                    if round_no == 0 and args.warmup > 0:
                        load(url, args.warmup, body)
                    spy = _py_spy(server, args.py_spy, op, args.duration) if server.name == "ours" else None
                    cpu = server.cpu_seconds()
                    sample = load(url, args.duration, body)
                    sample.cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(1, sample.requests)
                    if spy is not None:
                        spy.wait()
                    samples[names[server.name]][op].append(sample)
                    print(f"  round {round_no + 1} {names[server.name]:<12} {op:<20} {sample.rps:8.1f} req/s  "
                          f"p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms  "
                          f"cpu {sample.cpu_ms:6.2f} ms/req  n={sample.requests} errors={sample.errors}",
                          file=sys.stderr)
        if args.serial:
            for op in ops:
                for server in servers:
                    serial[names[server.name]][op] = _serial(server, op, args.serial)
    finally:
        for server in servers:
            server.stop()
    load_after = " ".join(f"{x:.2f}" for x in __import__("os").getloadavg())
    print(f"load average after the run: {load_after}", file=sys.stderr)

    def median(server: str, op: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples[server][op])

    failed = False
    ours = [n for n in samples if n != BASELINE]
    if BASELINE in samples and ours:
        print("| operation | server | req/s | p50 ms | p99 ms | CPU ms/req | PyWPS 4.8.1 req/s | p50 ms | p99 ms | "
              "CPU ms/req | ratio req/s | per round | ratio CPU/req | target |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        base = [f"{median(BASELINE, op, a):.{d}f}" for op in ops for a, d in
                (("rps", 0), ("p50_ms", 1), ("p99_ms", 1), ("cpu_ms", 1))]
        for op in ops:
            b = base[ops.index(op) * 4: ops.index(op) * 4 + 4]
            for name in ours:
                ratio = median(name, op, "rps") / median(BASELINE, op, "rps")
                rounds = [a.rps / c.rps for a, c in zip(samples[name][op], samples[BASELINE][op], strict=True)]
                cpu_ratio = median(BASELINE, op, "cpu_ms") / median(name, op, "cpu_ms")
                floor = ROUND_FLOOR.get(op, 0.0)
                met = ratio >= TARGETS[op] and min(rounds) >= floor
                if name == OURS:
                    failed |= not met
                target = f">= {TARGETS[op]:g}x" + (f", every round >= {floor:g}x" if floor else "")
                print(f"| {op} | {name} | {median(name, op, 'rps'):.0f} | {median(name, op, 'p50_ms'):.1f} | "
                      f"{median(name, op, 'p99_ms'):.1f} | {median(name, op, 'cpu_ms'):.1f} | {' | '.join(b)} | "
                      f"{ratio:.2f}x | {', '.join(f'{r:.2f}' for r in rounds)} | {cpu_ratio:.2f}x | "
                      f"{target} {'met' if met else 'MISSED'} |")
        print("\nratio req/s: of the medians over rounds; per round: this server / PyWPS 4.8.1 in each round; "
              "ratio CPU/req: PyWPS 4.8.1's server CPU time per request / this server's")
    else:
        print("| operation | server | req/s | p50 ms | p99 ms | CPU ms/req |")
        print("|---|---|---|---|---|---|")
        for op in ops:
            for name in samples:
                print(f"| {op} | {name} | {median(name, op, 'rps'):.0f} | {median(name, op, 'p50_ms'):.1f} | "
                      f"{median(name, op, 'p99_ms'):.1f} | {median(name, op, 'cpu_ms'):.1f} |")
    if args.serial:
        print(f"\none request at a time ({args.serial} per operation and server):\n")
        print("| operation | server | mean ms | p50 ms | CPU ms/req in server processes | in job processes |")
        print("|---|---|---|---|---|---|")
        for op in ops:
            for name, per_op in serial.items():
                r = per_op[op]
                print(f"| {op} | {name} | {r['mean_ms']:.1f} | {r['p50_ms']:.1f} | {r['cpu_server_ms']:.1f} | "
                      f"{r['cpu_jobs_ms']:.1f} |")
    errors = sum(s.errors for per_op in samples.values() for runs in per_op.values() for s in runs)
    print(f"\nerrors (non-2xx, socket): {errors}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "client": client, "connections": args.connections,
                                         "duration": args.duration, "workers": args.workers,
                                         "samples": {n: {op: [asdict(s) for s in runs] for op, runs in per.items()}
                                                     for n, per in samples.items()},
                                         "serial": serial}, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
