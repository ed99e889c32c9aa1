"""The ``pywps`` command: ``serve``, ``dispatcher``, ``jobs list|show|cancel|pause|resume|cleanup``, ``image build``.

``-c/--config`` and ``-p/--processes`` are accepted before or after the subcommand; without ``-c`` the
configuration is ``$PYWPS_CFG``, and without ``-p`` the processes are ``$PYWPS_PROCESSES`` (else the examples).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from pywps.config import Config, load, parse_duration

log = logging.getLogger(__name__)

# what --status accepts besides the store's own states (JobStatus values)
STATUS_ALIASES = {
    "running": ("started", "paused"),      # holding a processing slot
    "queued": ("accepted",),
    "active": ("accepted", "started", "paused"),
    "finished": ("succeeded", "failed", "dismissed"),
}


class UsageError(Exception):
    """A command line that cannot be carried out; the message says what to do instead (exit status 2)."""


def import_job_modules() -> None:
    """Import what a forked job runs before any dispatcher thread starts.

    A job is forked from the dispatcher thread while a request thread may be importing a module lazily
    (``pywps.execute`` at the first Execute); the child then inherits that module's import lock held and
    hangs for ever on its first import of it. Modules the child needs must be fully imported before.
    """
    import pywps.configuration
    import pywps.execute
    import pywps.worker  # noqa: F401


def load_processes(spec: str | None) -> list[Any]:
    """Processes named by ``module:attribute`` (a list, or a callable returning one); the examples by default."""
    if not spec:
        from pywps.processes import example_processes

        return example_processes()
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import the processes module {module_name!r} ({exc}); is it installed, or "
                         "is its directory on PYTHONPATH?") from None
    try:
        value = getattr(module, attribute or "processes")
    except AttributeError:
        raise UsageError(f"module {module_name!r} has no attribute {attribute or 'processes'!r} "
                         "(expected module:attribute naming a list of processes)") from None
    return list(value() if callable(value) else value)


def _config(args: argparse.Namespace) -> Config:
    return load([args.config] if args.config else [])


def _processes_spec(args: argparse.Namespace) -> str | None:
    return args.processes or os.environ.get("PYWPS_PROCESSES") or None


def _store_config(args: argparse.Namespace) -> Config:
    """The configuration of an operator command; without one, say which job store the defaults name."""
    config = _config(args)
    if args.config or os.environ.get("PYWPS_CFG"):
        return config
    database = config.database
    where = f"the built-in default job store {_mask(database)}"
    if database.startswith("sqlite:///") and not os.path.exists(database[len("sqlite:///"):]):
        raise UsageError(f"no configuration given (-c pywps.cfg or PYWPS_CFG) and {where} does not exist; "
                         "pass the configuration of the server whose jobs you mean")
    print(f"pywps: no configuration given (-c pywps.cfg or PYWPS_CFG): using {where}", file=sys.stderr)
    return config


def _where(config: Config) -> str:
    """Which settings name the job store, for messages."""
    if config.database_given:
        return f"[logging] database in {config.origin('logging', 'database')}"
    return f"[server] {config.workdir_key} in {config.origin('server', config.workdir_key)}"


def open_store(config: Config):
    """The job store an operator command works on; a missing or unreachable one is a one-line error."""
    from pywps.jobs.store import JobStore

    database = config.database
    if database.startswith("sqlite:///") and not os.path.isfile(database[len("sqlite:///"):]):
        raise UsageError(f"no job store at {database} (named by {_where(config)}); is this the configuration "
                         "of the server whose jobs you mean?")
    store_log = logging.getLogger("pywps.jobs.store")
    level = store_log.level
    store_log.setLevel(logging.CRITICAL)  # its "unreachable, retried on first use" is said below, once
    try:
        store = JobStore(database)
        store.count(["accepted"])  # reachable, and the schema is there
    except Exception as exc:  # noqa: BLE001 - any failure to open it is reported in one line
        raise UsageError(f"cannot open the job store {_mask(database)} (named by {_where(config)}): "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        store_log.setLevel(level)
    return store


def _mask(url: str) -> str:
    """A database URL without its password."""
    import re

    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _dispatcher(args: argparse.Namespace, config: Config | None = None, store=None):
    from pywps.dispatcher import Dispatcher

    config = config or _config(args)
    processes = load_processes(_processes_spec(args))
    return Dispatcher(config, {p.identifier: p for p in processes}, store=store)


def _statuses(text: str | None) -> list[str] | None:
    """``--status`` names (comma separated): the store's states and the aliases in STATUS_ALIASES."""
    from pywps.jobs.model import JobStatus

    if not text:
        return None
    names: list[str] = []
    known = [s.value for s in JobStatus]
    for word in (w.strip().lower() for w in text.split(",") if w.strip()):
        if word in STATUS_ALIASES:
            names.extend(STATUS_ALIASES[word])
        elif word in known:
            names.append(word)
        else:
            raise UsageError(f"unknown status {word!r}; one of: {', '.join(known + list(STATUS_ALIASES))}")
    return names


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None:
        return None
    return round(((end or datetime.now(UTC)) - start).total_seconds(), 3)


def runner(backend: str, handle: str | None) -> dict[str, Any]:
    """What a job's handle means for its backend: the pid, container or batch job an operator can look at."""
    if not handle:
        return {"backend": backend}
    info: dict[str, Any] = {"backend": backend, "handle": handle}
    if backend == "multiprocessing":
        host, _, rest = handle.partition(":")
        pid = rest.partition(":")[0]
        info.update(host=host, pid=int(pid) if pid.isdigit() else pid)
    elif backend == "docker":
        info["container"] = handle
    elif backend == "scheduler":
        kind, _, rest = handle.partition(":")
        batch_id, _, jobdir = rest.partition(":")
        info.update(scheduler=kind, batch_id=batch_id, jobdir=jobdir)
    return info


def job_details(job, config: Config, log_bytes: int = 4096) -> dict[str, Any]:
    """Everything ``pywps jobs show`` prints: state, runner, timings and the tail of the job's worker.log."""
    from pywps.jobs.handback import HandBack
    from pywps.jobs.jobdir import JobDir

    outdir = JobDir(config.workdir / "jobs" / job.id).outdir
    # the job wrote this file: read it as hostile (no link followed, no blocking read, capped)
    tail = HandBack(outdir, trusted_roots=(config.workdir,)).log_tail("worker.log", log_bytes)
    return {
        "id": job.id, "process": job.process, "status": job.status.value, "percent": job.percent,
        "message": job.message, "async": job.is_async, "backend": job.backend, "handle": job.handle,
        "runner": runner(job.backend, job.handle), "owner": job.owner,
        "created": _iso(job.created), "started": _iso(job.started), "finished": _iso(job.finished),
        "updated": _iso(job.updated), "heartbeat": _iso(job.heartbeat),
        "queued_seconds": _seconds(job.created, job.started or job.finished),
        "run_seconds": _seconds(job.started, job.finished) if job.started else None,
        "jobdir": str(outdir.parent),
        "worker_log_tail": tail.splitlines()[-40:],
    }


def cmd_serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from pywps.service import create_app

    config = _config(args)
    defaults = "built-in defaults"
    if config.origin("server", "url") == defaults:
        config.override("server", "url", f"http://{args.host}:{args.port}/wps")
    if config.origin("server", "outputurl") == defaults:
        config.override("server", "outputurl", f"http://{args.host}:{args.port}/outputs/")
    if config.origin("server", "outputpath") == defaults:  # never a relative directory in the current one
        config.override("server", "outputpath", str(config.workdir / "outputs"))
    import_job_modules()
    app = create_app(config, load_processes(_processes_spec(args)))
    print(f"PyWPS serving at {config.url}?service=WPS&request=GetCapabilities", flush=True)
    print(f"  job store {config.database}, outputs in {config.outputpath}", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0


def cmd_dispatcher(args: argparse.Namespace) -> int:
    """Run the dispatcher without HTTP until SIGTERM/SIGINT: queued jobs start, running ones are followed."""
    from pywps.configuration import set_config
    from pywps.logs import configure_logging

    config = _config(args)
    set_config(config)
    configure_logging(config)
    from pywps.preflight import check

    check(config)
    import_job_modules()
    dispatcher = _dispatcher(args, config)
    dispatcher.backend.check()
    dispatcher.backend.preload(dispatcher.processes.values())  # multiprocessing: its fork server, with these processes
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("pywps dispatcher: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    dispatcher.ensure_started()
    print(f"pywps dispatcher {dispatcher.instance}: mode {config.mode}, job store {config.database}, "
          f"{len(dispatcher.processes)} process(es); stop with SIGTERM", flush=True)
    try:
        while not stop.wait(1.0):
            dispatcher.ensure_started()  # the thread never ends by itself; if it did, start it again
    finally:
        dispatcher.stop()
    return 0


def _wait_for_status(store, job_id: str, wanted: str, timeout: float = 5.0):
    """The job once the store shows ``wanted`` (a server's dispatcher may record it a tick later)."""
    deadline = time.monotonic() + timeout
    job = store.get(job_id)
    while job is not None and job.status.value != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
        job = store.get(job_id)
    return job


def cmd_jobs(args: argparse.Namespace) -> int:
    config = _store_config(args)
    store = open_store(config)
    if args.action == "list":
        for job in store.list(status=_statuses(args.status), process=args.process, limit=args.limit):
            print(f"{job.id}  {job.status.value:<10} {job.percent or 0:>3}%  {job.process:<20} "
                  f"{job.protocol:<6} {_iso(job.created)}  {job.backend} {job.handle or ''}".rstrip())
        return 0
    dispatcher = _dispatcher(args, config, store)
    if args.action == "cleanup":
        removed = dispatcher.cleanup(None if args.older_than is None else config_duration(args.older_than))
        print(f"removed {len(removed)} job(s)")
        return 0
    if not args.id:
        raise UsageError(f"pywps jobs {args.action} needs a job id (see pywps jobs list)")
    job = store.get(args.id)
    if job is None:
        print(f"pywps: no job {args.id} in {config.database}", file=sys.stderr)
        return 1
    if args.action == "show":
        print(json.dumps(job_details(job, config), indent=2))
        return 0
    def cancel(job_id: str) -> Any:
        return dispatcher.dismiss(job_id, reason="Job cancelled by the operator")

    action, wanted = {"cancel": (cancel, "dismissed"), "pause": (dispatcher.pause, "paused"),
                      "resume": (dispatcher.resume, "started")}[args.action]
    before = job.status.value
    job = action(args.id)
    if job.status.value != wanted and not job.is_final:
        job = _wait_for_status(store, args.id, wanted) or job
    print(f"{job.id}  {before} -> {job.status.value}  {job.message or ''}".rstrip())
    return 0 if job.status.value == wanted or args.action == "cancel" else 1


def config_duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None


def cmd_image(args: argparse.Namespace) -> int:
    from pywps import imagebuild

    return imagebuild.main(args.rest)


def _common_options(default: Any) -> argparse.ArgumentParser:
    """-c and -p, for the main parser (defaults) and each subcommand (no defaults: they would override)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default=default,
                        help="pywps.cfg (default: $PYWPS_CFG, else the built-in defaults)")
    common.add_argument("-p", "--processes", default=default,
                        help="module:attribute naming the list of processes to serve (default: "
                             "$PYWPS_PROCESSES, else the example processes); the module must be importable")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pywps", description="PyWPS server and job administration",
                                     parents=[_common_options(None)])
    common = _common_options(argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common],
                           help="run the server (development server; use gunicorn or Apache in production)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.set_defaults(func=cmd_serve)

    dispatcher = sub.add_parser("dispatcher", parents=[common],
                                help="run the job dispatcher without HTTP (jobs move with no web traffic)")
    dispatcher.set_defaults(func=cmd_dispatcher)

    jobs = sub.add_parser("jobs", parents=[common], help="list, show, cancel, pause, resume or clean up jobs")
    jobs.add_argument("action", choices=["list", "show", "cancel", "pause", "resume", "cleanup"])
    jobs.add_argument("id", nargs="?")
    jobs.add_argument("--status", help="list: only jobs in these states, comma separated: accepted, started, "
                                       "paused, succeeded, failed, dismissed, or running (started+paused), "
                                       "queued, active, finished")
    jobs.add_argument("--process", help="list: only jobs of this process")
    jobs.add_argument("--limit", type=int, default=100)
    jobs.add_argument("--older-than", help="cleanup: age (30, 5m, 2h, 7d; default: [jobs] retention)")
    jobs.set_defaults(func=cmd_jobs)

    image = sub.add_parser("image", help="build the worker or server image offline")
    image.add_argument("rest", nargs=argparse.REMAINDER)
    image.set_defaults(func=cmd_image)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pywps.exceptions import ConfigurationError, NoApplicableCode

    try:
        return args.func(args)
    except ConfigurationError as exc:
        print(f"pywps: {getattr(exc, 'description', None) or exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"pywps: {exc}", file=sys.stderr)
        return 2
    except NoApplicableCode as exc:
        print(f"pywps: {exc.description or exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `pywps jobs list | head`: the reader is gone, which is no error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # and the final flush must not raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
