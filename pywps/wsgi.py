"""The WSGI entry point: ``gunicorn pywps.wsgi:application``; Apache mod_wsgi loads it through ``docs/pywps.wsgi``.

``PYWPS_CFG`` names the configuration file and ``PYWPS_PROCESSES`` the processes to serve, as
``module:attribute`` (a list of processes, or a callable returning one; the module must be importable:
installed in the same environment or on ``PYTHONPATH``); without it the example processes are served.

Loading this module creates the application and starts the dispatcher thread of this process, so jobs
move from the moment a worker process starts, with no request needed (gunicorn without ``--preload``;
Apache with ``WSGIImportScript``). See docs/deploy.md.
"""

from __future__ import annotations

import logging
import os
import sys

from pywps.exceptions import ConfigurationError

log = logging.getLogger(__name__)


def _mod_wsgi():
    """The ``mod_wsgi`` module when running inside Apache mod_wsgi, else None."""
    if "mod_wsgi" in sys.modules:
        return sys.modules["mod_wsgi"]
    try:
        import mod_wsgi  # type: ignore[import-not-found]  # exists only inside Apache
    except ImportError:
        return None
    return mod_wsgi


def check_mod_wsgi(module=None) -> None:
    """Refuse what cannot work under Apache mod_wsgi, saying which directive to change.

    lxml is used throughout and refuses a second interpreter in a process, and a job forked from a mod_wsgi
    sub-interpreter (``[processing] forkserver = false``) dies with ``Fatal Python error:
    _PyInterpreterState_DeleteExceptMain: not main interpreter``: the application must run in the main
    interpreter, ``%{GLOBAL}``. In embedded mode Apache's own children would run the dispatcher and the
    jobs. Loaded by a request rather than when the daemon process starts, nothing would move the jobs after
    ``apachectl graceful`` (Debian's logrotate does one every day) until some request arrives.
    """
    module = module or _mod_wsgi()
    if module is None:
        return
    group = getattr(module, "application_group", "")
    if group:
        raise ConfigurationError(
            f"PyWPS runs in the mod_wsgi sub-interpreter {group!r}; it must run in the main interpreter: add "
            "application-group=%{GLOBAL} to WSGIScriptAlias (or WSGIApplicationGroup %{GLOBAL}) as in "
            "docs/apache/pywps.conf")
    if not getattr(module, "process_group", ""):
        raise ConfigurationError(
            "PyWPS runs in mod_wsgi embedded mode (inside Apache's own worker processes); run it in daemon "
            "mode: WSGIDaemonProcess pywps ... and process-group=pywps on WSGIScriptAlias, as in "
            "docs/apache/pywps.conf")
    try:
        module.request_data()  # answers only while a request is being handled
    except RuntimeError:
        return  # preloaded (WSGIImportScript): the dispatcher starts with the daemon process
    except AttributeError:
        return  # a mod_wsgi too old to tell
    raise ConfigurationError(
        "PyWPS was loaded by a request, not when its mod_wsgi daemon process started, so after a graceful "
        "restart no job would move until a request arrives: add WSGIImportScript /PATH/TO/pywps.wsgi "
        f"process-group={module.process_group} application-group=%{{GLOBAL}} after WSGIDaemonProcess, as in "
        "docs/apache/pywps.conf")


def make_application():
    """The ``Service`` for ``$PYWPS_CFG`` and ``$PYWPS_PROCESSES`` (a configuration error names file and key)."""
    check_mod_wsgi()  # before anything imports lxml, which refuses a second interpreter with an ImportError
    from pywps.cli import UsageError, import_job_modules, load_processes

    import_job_modules()
    from pywps.service import Service

    cfg = os.environ.get("PYWPS_CFG")
    try:
        processes = load_processes(os.environ.get("PYWPS_PROCESSES"))
    except UsageError as exc:
        raise ConfigurationError(f"PYWPS_PROCESSES={os.environ.get('PYWPS_PROCESSES')}: {exc}") from None
    return Service(processes=processes, cfgfiles=[cfg] if cfg else None)


class Refusing:
    """Stands in for the application under mod_wsgi when it could not be made: every request gets a short
    503 (the reason was logged once, in one line, when the daemon process loaded it)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __call__(self, environ: dict, start_response):
        body = b"Service unavailable: the server is misconfigured; the reason is in the server's error log\n"
        start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                   ("Content-Length", str(len(body)))])
        return [body]


def load_application():
    """Make the application; a configuration error is one line on stderr (the server's error log), then:
    gunicorn's worker fails to boot (gunicorn stops), mod_wsgi answers 503, anything else gets the error."""
    try:
        return make_application()
    except ConfigurationError as error:
        print(f"pywps: configuration error: {error}", file=sys.stderr, flush=True)
        if _mod_wsgi() is not None:
            return Refusing(str(error))
        if "gunicorn" in sys.modules:
            raise SystemExit(3) from None  # gunicorn's WORKER_BOOT_ERROR: the arbiter halts, no restart loop
        raise


application = load_application()
