"""The ``pywps`` command: ``serve``, ``jobs list|show|cancel|pause|resume|cleanup`` and ``image build``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from pywps.config import load


def load_processes(spec: str | None) -> list[Any]:
    """Processes named by ``module:attribute`` (a list, or a callable returning one); the examples by default."""
    if not spec:
        from pywps.processes import example_processes

        return example_processes()
    module_name, _, attribute = spec.partition(":")
    value = getattr(importlib.import_module(module_name), attribute or "processes")
    return list(value() if callable(value) else value)


def _dispatcher(args: argparse.Namespace):
    from pywps.dispatcher import Dispatcher

    config = load([args.config] if args.config else [])
    processes = load_processes(args.processes)
    return Dispatcher(config, {p.identifier: p for p in processes})


def _job_dict(job) -> dict[str, Any]:
    return {
        "id": job.id, "process": job.process, "status": job.status.value, "percent": job.percent,
        "message": job.message, "async": job.is_async, "backend": job.backend, "handle": job.handle,
        "owner": job.owner, "created": str(job.created), "started": str(job.started),
        "finished": str(job.finished),
    }


def cmd_serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from pywps.service import create_app

    config = load([args.config] if args.config else [])
    if not args.config:
        config.parser.set("server", "url", f"http://{args.host}:{args.port}/wps")
        config.parser.set("server", "outputurl", f"http://{args.host}:{args.port}/outputs/")
    app = create_app(config, load_processes(args.processes))
    print(f"PyWPS serving at {config.url}?service=WPS&request=GetCapabilities", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    dispatcher = _dispatcher(args)
    store = dispatcher.store
    if args.action == "list":
        for job in store.list(status=args.status, limit=args.limit):
            print(f"{job.id}  {job.status.value:<10} {job.percent or 0:>3}%  {job.process:<20} {job.created}")
        return 0
    if args.action == "cleanup":
        removed = dispatcher.cleanup(None if args.older_than is None else float(args.older_than))
        print(f"removed {len(removed)} job(s)")
        return 0
    if not args.id:
        print("a job id is required", file=sys.stderr)
        return 2
    if args.action == "show":
        job = store.get(args.id)
        if job is None:
            print(f"no job {args.id}", file=sys.stderr)
            return 1
        print(json.dumps(_job_dict(job), indent=2))
        return 0
    action = {"cancel": dispatcher.dismiss, "pause": dispatcher.pause, "resume": dispatcher.resume}[args.action]
    job = action(args.id)
    print(f"{job.id}  {job.status.value}  {job.message or ''}")
    return 0


def cmd_image(args: argparse.Namespace) -> int:
    from pywps import imagebuild

    return imagebuild.main(args.rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pywps", description="PyWPS server and job administration")
    parser.add_argument("-c", "--config", help="pywps.cfg (default: $PYWPS_CFG, else built-in defaults)")
    parser.add_argument("-p", "--processes", help="module:attribute naming the list of processes to serve")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (development server; use gunicorn in production)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.set_defaults(func=cmd_serve)

    jobs = sub.add_parser("jobs", help="list, show, cancel, pause, resume or clean up jobs")
    jobs.add_argument("action", choices=["list", "show", "cancel", "pause", "resume", "cleanup"])
    jobs.add_argument("id", nargs="?")
    jobs.add_argument("--status", help="only jobs in this status (list)")
    jobs.add_argument("--limit", type=int, default=100)
    jobs.add_argument("--older-than", help="seconds (cleanup; default: [jobs] retention)")
    jobs.set_defaults(func=cmd_jobs)

    image = sub.add_parser("image", help="build the worker image offline (docker mode)")
    image.add_argument("rest", nargs=argparse.REMAINDER)
    image.set_defaults(func=cmd_image)

    args = parser.parse_args(argv)
    from pywps.exceptions import ConfigurationError, NoApplicableCode

    try:
        return args.func(args)
    except (NoApplicableCode, ConfigurationError) as exc:
        print(f"pywps: {getattr(exc, 'description', None) or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
