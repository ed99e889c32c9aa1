"""Scheduler mode: time from Execute to ProcessSucceeded next to ``sbatch --wrap true`` on the same cluster.

    bash .ci/slurm.sh start
    python bench/bench_scheduler.py                 # 10 runs of each, one after another
    python bench/bench_scheduler.py -n 20 --json /tmp/sched.json

Three measurements, each run alone on an idle node:

* ``sbatch``: ``sbatch --wrap true`` until ``squeue -t all`` says COMPLETED (polled every 50 ms): the
  cluster's own floor;
* ``sbatch worker``: the same for ``python -c 'import pywps.worker'``, i.e. what starting the interpreter
  and importing the worker costs on a compute node;
* ``Execute``: an asynchronous ``say_hello`` Execute through the WSGI app (``mode = scheduler``, dispatcher
  ``poll_interval`` 0.1 s) until its statusLocation document says ProcessSucceeded (polled every 50 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, machine, percentile, write_cfg

SLURM_CONF = Path("/etc/slurm/slurm.conf")


def squeue_state(batch_id: str) -> str:
    out = subprocess.run(["squeue", "-h", "-t", "all", "-j", batch_id, "-o", "%T"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def time_sbatch(wrap: str, directory: Path) -> float:
    """Seconds from ``sbatch --wrap`` to COMPLETED."""
    started = time.perf_counter()
    batch_id = subprocess.run(["sbatch", "--parsable", "-o", "/dev/null", "-D", str(directory), "--wrap", wrap],
                              capture_output=True, text=True, check=True, timeout=60).stdout.strip().split(";")[0]
    while True:
        state = squeue_state(batch_id)
        if state == "COMPLETED":
            return time.perf_counter() - started
        if state in ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            raise RuntimeError(f"sbatch job {batch_id} ended {state}")
        time.sleep(0.05)


def time_executes(runs: int, directory: Path) -> list[float]:
    """Seconds from an async Execute to ProcessSucceeded in its status document, ``runs`` times."""
    sys.path.insert(0, str(ROOT))
    from pywps.config import load
    from pywps.processes import example_processes
    from pywps.service import create_app
    from pywps.tests import client_for

    cfg = write_cfg(directory / "pywps.cfg", {
        "server": {"url": "http://127.0.0.1:5000/wps", "outputurl": "http://127.0.0.1:5000/outputs/",
                   "outputpath": directory / "outputs", "workdir": directory / "work",
                   "parallelprocesses": 2},
        "logging": {"database": f"sqlite:///{directory / 'jobs.sqlite'}", "level": "WARNING"},
        "jobs": {"poll_interval": "0.1"},
        "processing": {"mode": "scheduler", "scheduler": "slurm"},
    })
    app = create_app(load([cfg]), example_processes())
    client = client_for(app)
    times = []
    try:
        for n in range(runs):
            started = time.perf_counter()
            resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello"
                              f"&DataInputs=name=run{n}&storeExecuteResponse=true&status=true")
            path = resp.xml.get("statusLocation").split("127.0.0.1:5000", 1)[1]
            deadline = started + 120
            while True:
                doc = client.get(path)
                if doc.xpath("//wps:ProcessSucceeded"):
                    times.append(time.perf_counter() - started)
                    break
                if doc.xpath("//wps:ProcessFailed") or time.perf_counter() > deadline:
                    raise RuntimeError(f"run {n} did not succeed: {doc.get_data(as_text=True)[:2000]}")
                time.sleep(0.05)
    finally:
        app.extensions["pywps"]["dispatcher"].stop()
    return times


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "mean": statistics.fmean(values), "p50": percentile(values, 50),
            "max": max(values), "min": min(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if not SLURM_CONF.exists():
        print(f"{SLURM_CONF} is missing: run .ci/slurm.sh start", file=sys.stderr)
        return 2
    os.environ["SLURM_CONF"] = str(SLURM_CONF)
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp:
        directory = Path(tmp)
        worker = f"{sys.executable} -c 'import pywps.worker'"
        env_path = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_path if env_path else "")
        results = {
            "sbatch": summary([time_sbatch("true", directory) for _ in range(args.runs)]),
            "sbatch worker": summary([time_sbatch(worker, directory) for _ in range(args.runs)]),
            "Execute": summary(time_executes(args.runs, directory)),
        }
    print(f"machine: {machine()}")
    print(f"{'measurement':<16}{'n':>4}{'mean s':>9}{'p50 s':>9}{'min s':>9}{'max s':>9}")
    for name, row in results.items():
        print(f"{name:<16}{row['n']:>4}{row['mean']:>9.2f}{row['p50']:>9.2f}{row['min']:>9.2f}{row['max']:>9.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
