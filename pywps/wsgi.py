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


def check_mod_wsgi() -> None:
    """Refuse what cannot work under Apache mod_wsgi, saying which directive to change.

    Jobs are forked from the server process (``mode = multiprocessing``) and lxml is used throughout:
    neither works in a mod_wsgi sub-interpreter (a child forked there dies with ``Fatal Python error:
    _PyInterpreterState_DeleteExceptMain: not main interpreter``), so the application must run in the main
    interpreter, ``%{GLOBAL}``. In embedded mode Apache's own children would run the dispatcher and the jobs.
    """
    module = sys.modules.get("mod_wsgi")
    if module is None:
        try:
            import mod_wsgi as module  # type: ignore[import-not-found,no-redef]  # only inside Apache
        except ImportError:
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


def make_application():
    """The ``Service`` for ``$PYWPS_CFG`` and ``$PYWPS_PROCESSES`` (a configuration error names file and key)."""
    from pywps.cli import UsageError, load_processes
    from pywps.service import Service

    check_mod_wsgi()
    cfg = os.environ.get("PYWPS_CFG")
    try:
        processes = load_processes(os.environ.get("PYWPS_PROCESSES"))
    except UsageError as exc:
        raise ConfigurationError(f"PYWPS_PROCESSES={os.environ.get('PYWPS_PROCESSES')}: {exc}") from None
    return Service(processes=processes, cfgfiles=[cfg] if cfg else None)


try:
    application = make_application()
except ConfigurationError as error:
    # one line where the operator looks (gunicorn's stderr, Apache's error log), then refuse to load
    print(f"pywps: configuration error: {error}", file=sys.stderr, flush=True)
    raise
