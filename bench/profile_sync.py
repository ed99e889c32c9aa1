"""Where one synchronous Execute spends its CPU: the server thread and the forked job, in one process.

    python bench/profile_sync.py                 # 100 sequential say_hello Executes, SQLite in a temp dir
    python bench/profile_sync.py -n 200 --top 30 --identifier add --inputs "a=1;b=2"
    python bench/profile_sync.py -n 300 --forkserver false     # jobs forked by the server itself
    python bench/profile_sync.py -n 300 --async --dispatcher-profile   # asynchronous jobs instead

Builds the app with ``create_app`` on a temp pywps.cfg (no HTTP, no gunicorn: the Werkzeug test client),
then reports per request: wall time, the server process's CPU time (request and dispatcher threads) and the
forked job's CPU time (user / system, minor page faults): from ``getrusage`` for jobs the server forks, from
the fork server's ``/proc`` entry (its own time, and its reaped children's) for jobs it forks.
``--job-profile`` profiles ``run_job`` with cProfile (CPU clock) in each child (jobs forked by the server
only), ``--server-profile`` the request thread (both add their overhead to the CPU figures).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchlib import ROOT, write_cfg

sys.path.insert(0, str(ROOT))


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by thread name (from /proc/self/task)."""
    tick = os.sysconf("SC_CLK_TCK")
    result: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        name = "request thread (main)" if thread is threading.main_thread() else thread.name
        result[name] = result.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return result


def _usage(who: int) -> tuple[float, float, int]:
    r = resource.getrusage(who)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def _zygote_usage(pid: int | None) -> tuple[tuple[float, float, int], float]:
    """The fork server's reaped children (user, system, minor faults) and its own CPU seconds."""
    if pid is None:
        return (0.0, 0.0, 0), 0.0
    tick = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat", "rb") as handle:
        f = handle.read().rsplit(b")", 1)[1].split()
    return (int(f[13]) / tick, int(f[14]) / tick, int(f[8])), (int(f[11]) + int(f[12])) / tick


def _wait_all(store, count: int, timeout: float = 600) -> None:
    """Until ``count`` jobs have ended (asynchronous jobs; sync ones have when their request returns)."""
    from pywps.jobs.model import FINAL

    deadline = time.monotonic() + timeout
    while store.count(list(FINAL)) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {store.count(list(FINAL))} of {count} jobs ended")
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100, help="sequential Executes to measure")
    parser.add_argument("--identifier", default="say_hello")
    parser.add_argument("--inputs", default="name=World", help="DataInputs")
    parser.add_argument("--top", type=int, default=20, help="functions to list per profile")
    parser.add_argument("--job-profile", action="store_true", help="cProfile run_job in every job process")
    parser.add_argument("--server-profile", action="store_true", help="cProfile the request thread")
    parser.add_argument("--async", dest="asynchronous", action="store_true",
                        help="submit asynchronous jobs (storeExecuteResponse=true&status=true), then wait for all")
    parser.add_argument("--dispatcher-profile", action="store_true", help="cProfile the dispatcher thread's rounds")
    parser.add_argument("--forkserver", choices=["true", "false"], default="true",
                        help="[processing] forkserver (default true)")
    args = parser.parse_args(argv)

    import pywps.worker as worker
    from pywps.config import load
    from pywps.processes import example_processes
    from pywps.service import create_app
    from pywps.tests import client_for

    directory = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    profiles = directory / "profiles"
    profiles.mkdir()
    original = worker.run_job

    def profiled_run_job(*a, **k):
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        try:
            return original(*a, **k)
        finally:
            profile.disable()
            profile.dump_stats(profiles / f"{os.getpid()}.prof")

    if args.job_profile:
        worker.run_job = profiled_run_job
    cfg = write_cfg(directory / "pywps.cfg", {
        "server": {"url": "http://127.0.0.1/wps", "outputurl": "http://127.0.0.1/outputs/",
                   "outputpath": directory / "outputs", "workdir": directory / "work",
                   "maxprocesses": args.n + 100},
        "logging": {"database": f"sqlite:///{directory / 'jobs.sqlite'}", "level": "WARNING"},
        "processing": {"forkserver": args.forkserver},
    })
    app = create_app(load([cfg]), example_processes())
    backend = app.extensions["pywps"]["dispatcher"].backend
    if args.forkserver == "true":
        if args.job_profile:
            raise SystemExit("--job-profile needs --forkserver false (the zygote does not run this script)")
        if not backend.forkserver_ready(60):
            raise SystemExit("the fork server did not start")
    zygote = backend.forkserver.pid if backend.forkserver else None
    client = client_for(app)
    query = (f"/wps?service=WPS&request=Execute&version=1.0.0&identifier={args.identifier}"
             f"&DataInputs={args.inputs}")
    if args.asynchronous:
        query += "&storeExecuteResponse=true&status=true"
    store = app.extensions["pywps"]["dispatcher"].store
    body = client.get(query).data
    if not any(word in body for word in (b"ProcessSucceeded", b"ProcessAccepted", b"ProcessStarted")):
        raise SystemExit(f"Execute did not succeed:\n{body.decode()[:2000]}")
    for _ in range(5):
        client.get(query)
    _wait_all(store, 6)
    time.sleep(0.3)
    dispatcher_profile = cProfile.Profile(time.thread_time) if args.dispatcher_profile else None
    if dispatcher_profile:
        supervisor = app.extensions["pywps"]["dispatcher"].supervisor
        tick = supervisor.tick

        def profiled_tick() -> None:
            dispatcher_profile.enable()
            try:
                tick()
            finally:
                dispatcher_profile.disable()

        supervisor.tick = profiled_tick
    for old in profiles.iterdir():
        old.unlink()

    server_profile = cProfile.Profile(time.thread_time) if args.server_profile else None
    self0, child0 = _usage(resource.RUSAGE_SELF), _usage(resource.RUSAGE_CHILDREN)
    zchild0, zself0 = _zygote_usage(zygote)
    threads0 = _thread_cpu()
    start = time.perf_counter()
    for _ in range(args.n):
        if server_profile:
            server_profile.enable()
        reply = client.get(query)
        if reply.status_code != 200 or b"ExceptionReport" in reply.data:
            raise SystemExit(f"Execute failed:\n{reply.data.decode()[:2000]}")
        if server_profile:
            server_profile.disable()
    if args.asynchronous:
        _wait_all(store, 6 + args.n)
    wall = time.perf_counter() - start
    time.sleep(0.3)  # let the waiter threads reap the last child
    self1, child1 = _usage(resource.RUSAGE_SELF), _usage(resource.RUSAGE_CHILDREN)
    zchild1, zself1 = _zygote_usage(zygote)
    if zygote is not None and backend.forkserver.pid != zygote:
        raise SystemExit("the fork server was restarted during the run")
    child0 = tuple(a + b for a, b in zip(child0, zchild0, strict=True))
    child1 = tuple(a + b for a, b in zip(child1, zchild1, strict=True))
    threads1 = _thread_cpu()
    app.extensions["pywps"]["dispatcher"].stop()

    n = args.n
    kind = "asynchronous" if args.asynchronous else "sequential"
    print(f"{n} {kind} {args.identifier} Executes, per request:")
    print(f"  wall                 {wall * 1000 / n:7.2f} ms")
    print(f"  server process CPU   {((self1[0] - self0[0]) + (self1[1] - self0[1])) * 1000 / n:7.2f} ms "
          f"(user {(self1[0] - self0[0]) * 1000 / n:.2f}, system {(self1[1] - self0[1]) * 1000 / n:.2f})")
    accounted = 0.0
    for name, seconds in sorted(threads1.items()):
        if name in threads0:
            used = seconds - threads0[name]
            accounted += used
            print(f"    {name:<28} {used * 1000 / n:7.2f} ms")
    server_cpu = (self1[0] - self0[0]) + (self1[1] - self0[1])
    print(f"    {'ended threads (job waiters)':<28} {(server_cpu - accounted) * 1000 / n:7.2f} ms")
    job_cpu = (child1[0] - child0[0]) + (child1[1] - child0[1])
    print(f"  job process CPU      {job_cpu * 1000 / n:7.2f} ms "
          f"(user {(child1[0] - child0[0]) * 1000 / n:.2f}, system {(child1[1] - child0[1]) * 1000 / n:.2f}, "
          f"{(child1[2] - child0[2]) / n:.0f} minor page faults)")
    print(f"  fork server CPU      {(zself1 - zself0) * 1000 / n:7.2f} ms "
          f"({'pid ' + str(zygote) if zygote else 'none: jobs forked by the server'})")
    total = server_cpu + job_cpu + (zself1 - zself0)
    print(f"  total CPU            {total * 1000 / n:7.2f} ms per job (server + job + fork server)")
    files = [str(p) for p in profiles.iterdir()]
    if files:
        stats = pstats.Stats(*files, stream=sys.stdout)
        print(f"\nrun_job in the job process (cProfile, CPU clock, {len(files)} jobs, "
              f"{stats.total_tt * 1000 / len(files):.2f} ms per job incl. profiler overhead):")
        stats.sort_stats("cumulative").print_stats(args.top)
    if server_profile:
        print("\nrequest thread (cProfile, CPU clock):")
        pstats.Stats(server_profile, stream=sys.stdout).sort_stats("cumulative").print_stats(args.top)
    if dispatcher_profile:
        print("\ndispatcher thread (cProfile, CPU clock):")
        pstats.Stats(dispatcher_profile, stream=sys.stdout).sort_stats("cumulative").print_stats(args.top)
    shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
