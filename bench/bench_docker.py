"""Per-job cost of mode docker against the floor of a bare ``docker run --rm IMAGE true``, in one run.

    python bench/bench_docker.py [-n 20] [--image pywps-worker:latest] [--json out.json]
    python bench/bench_docker.py --modes floor,execute,execute_wps,floor_podman,execute_podman,execute_podman_wps

Modes, run round-robin so that load on a shared machine hits them alike:
  floor        docker run --rm --network none IMAGE true          (CLI; the floor the issue names)
  floor_bridge docker run --rm IMAGE true                          (default bridge: slower, never used for jobs)
  backend      Container.start + wait + cleanup of say_hello      (the backend alone, job dir included)
  execute      sync Execute of say_hello through create_app()      (parse, store, dispatcher, backend, encode)
  execute_pool the same with docker_pool_size = 2                  (pre-started single-use containers)
  execute_wps  the same with docker_transport = wps                (this project's WPS in the container)
  execute_wps_pool  the same with docker_pool_size = 2             (pre-started containers, servers listening)
  floor_podman, execute_podman, execute_podman_wps[_pool]         the same on Podman's Docker-compatible API
                                                                   (--podman-host; the floor by the docker CLI)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pywps.config import Config
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord
from pywps.requestmodel import ExecuteRequest, InputValue

log = logging.getLogger(__name__)


def make_config(workdir: Path, image: str, **processing: object) -> Config:
    """A docker-mode config with everything under ``workdir``."""
    config = Config(environ={})
    config.parser.set("server", "workdir", str(workdir / "work"))
    config.parser.set("server", "outputpath", str(workdir / "outputs"))
    config.parser.set("server", "parallelprocesses", "4")
    config.parser.set("logging", "database", f"sqlite:///{workdir / 'jobs.sqlite'}")
    config.parser.set("logging", "level", "WARNING")
    config.parser.set("processing", "mode", "docker")
    config.parser.set("processing", "docker_image", image)
    for key, value in processing.items():
        config.parser.set("processing", key, str(value))
    return config


WPS_COMMAND = "gunicorn --bind unix:{socket} --workers 1 --threads 4 --timeout 0 pywps.wsgi:application"
WPS = {"docker_transport": "wps", "docker_wps_command": WPS_COMMAND}


def floor(image: str, network: str | None, host: str | None = None) -> Callable[[], None]:
    cmd = ["docker", *(["-H", host] if host else []), "run", "--rm", *(["--network", network] if network else []),
           image, "true"]
    return lambda: subprocess.run(cmd, check=True, capture_output=True)


def backend_run(workdir: Path, image: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """One say_hello job straight through the backend."""
    from pywps.backends.docker import Container

    backend = Container(make_config(workdir, image).processing, instance_id=f"bench-{uuid.uuid4().hex[:6]}")
    root = workdir / "jobs"

    def run() -> None:
        job_id = str(uuid.uuid4())
        jobdir = JobDir.create(root, job_id)
        request = ExecuteRequest("say_hello", inputs=(InputValue("name", data="bench"),))
        jobdir.write_job({"job_id": job_id, "request": request.to_dict(), "limits": {},
                          "process": {"identifier": "say_hello", "module": "pywps.processes.examples",
                                      "qualname": "SayHello", "sys_path": []}})
        handle = backend.start(JobRecord(id=job_id, process="say_hello", request="{}"), jobdir)
        status = backend.wait(handle, timeout=120)
        backend.cleanup(handle)
        if status.exit_code != 0:
            raise RuntimeError(f"job failed: {status} {jobdir.read_result()}")

    return run, backend.close, backend


def execute_run(workdir: Path, image: str, host: str | None = None,
                **processing: object) -> tuple[Callable[[], None], Callable[[], None], object]:
    """One synchronous Execute through the whole server, in process (no socket); ``host``: the engine's API."""
    from pywps.processes import example_processes
    from pywps.service import create_app

    previous = os.environ.get("DOCKER_HOST")
    if host:  # the backend makes its engine client while the app is made (check()), then keeps it
        os.environ["DOCKER_HOST"] = host
    try:
        app = create_app(make_config(workdir, image, **processing), example_processes())
        app.extensions["pywps"]["dispatcher"].backend.client  # noqa: B018 - made now, for this engine
    finally:
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous
    client = app.test_client()
    query = {"service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": "say_hello",
             "DataInputs": "name=bench"}

    def run() -> None:
        resp = client.get("/wps", query_string=query)
        if b"ProcessSucceeded" not in resp.data:
            raise RuntimeError(resp.data.decode()[:500])

    def close() -> None:
        dispatcher = app.extensions["pywps"]["dispatcher"]
        dispatcher.stop()
        closer = getattr(dispatcher.backend, "close", None)
        if closer:
            closer()

    return run, close, app.extensions["pywps"]["dispatcher"].backend


def refilled(backend: object, timeout: float = 60.0) -> None:
    """Wait until the backend's pool is full again (not timed: the pool's case is requests further apart than
    its refill)."""
    deadline = time.monotonic() + timeout
    size = backend.settings.pool_size  # type: ignore[attr-defined]
    while backend.idle_pool_size < size and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)


def summary(times: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times)
    return {"min": ms[0], "median": statistics.median(ms), "p90": ms[int(0.9 * (len(ms) - 1))],
            "mean": statistics.fmean(ms)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="runs per mode")
    parser.add_argument("--image", default="pywps-worker:latest")
    parser.add_argument("--modes", default="floor,floor_bridge,backend,execute,execute_pool")
    parser.add_argument("--podman-host", default=os.environ.get("PYWPS_TEST_PODMAN_HOST")
                        or "unix:///run/pywps-podman/podman.sock", help="Podman's API (.ci/podman.sh start)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pywps-bench-") as tmp:
        root = Path(tmp)
        makers: dict[str, Callable[[], tuple[Callable[[], None], Callable[[], None], object]]] = {
            "floor": lambda: (floor(args.image, "none"), lambda: None, None),
            "floor_bridge": lambda: (floor(args.image, None), lambda: None, None),
            "backend": lambda: backend_run(root / "backend", args.image),
            "execute": lambda: execute_run(root / "execute", args.image),
            "execute_pool": lambda: execute_run(root / "pool", args.image, docker_pool_size=2),
            "execute_wps": lambda: execute_run(root / "wps", args.image, **WPS),
            "execute_wps_pool": lambda: execute_run(root / "wps-pool", args.image, docker_pool_size=2, **WPS),
            "floor_podman": lambda: (floor(args.image, "none", args.podman_host), lambda: None, None),
            "execute_podman": lambda: execute_run(root / "podman", args.image, args.podman_host),
            "execute_podman_wps": lambda: execute_run(root / "podman-wps", args.image, args.podman_host, **WPS),
            "execute_podman_wps_pool": lambda: execute_run(root / "podman-wps-pool", args.image, args.podman_host,
                                                           docker_pool_size=2, **WPS),
        }
        modes = [m for m in args.modes.split(",") if m]
        runners = {m: makers[m]() for m in modes}
        for run, _close, _backend in runners.values():  # warm up: image cache, imports, pool
            run()
        if "execute_pool" in runners:
            time.sleep(2)
        wps_pools = [m for m in runners if m.endswith("wps_pool")]
        for mode in wps_pools:  # the first job started the pool: wait (untimed) until it is full
            refilled(runners[mode][2])
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(args.n):
            for mode in modes:
                run = runners[mode][0]
                started = time.perf_counter()
                run()
                times[mode].append(time.perf_counter() - started)
                if mode == "execute_pool":
                    time.sleep(0.3)  # let the pool refill, as between real requests
                elif mode in wps_pools:  # a wps server takes ~1 s to start: requests further apart than that
                    refilled(runners[mode][2])
        for _run, close, _backend in runners.values():
            close()

    results = {m: summary(t) for m, t in times.items()}
    load_after = os.getloadavg()[0]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {load_before:.2f} before, {load_after:.2f} after")
    print(f"{'mode':<24}{'min':>9}{'median':>9}{'p90':>9}{'x floor':>9}   (ms, n={args.n}, image {args.image}; "
          "podman modes against the podman floor)")
    for mode, r in results.items():
        floor_mode = "floor_podman" if "podman" in mode else "floor"
        base = results.get(floor_mode, {}).get("median")
        ratio = f"{r['median'] / base:.2f}" if base else "-"
        print(f"{mode:<24}{r['min']:9.0f}{r['median']:9.0f}{r['p90']:9.0f}{ratio:>9}")
    if args.json:
        args.json.write_text(json.dumps({"n": args.n, "image": args.image, "results": results,
                                         "load": [load_before, load_after]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
