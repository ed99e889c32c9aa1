"""The WSGI application: ``Service`` (PyWPS 4 compatible) and the Flask app factory ``create_app``.

This is the one error boundary: an OWS exception becomes an ExceptionReport with its HTTP status; anything
unexpected is logged with its traceback and the client gets a short ``NoApplicableCode``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, request, send_file

from pywps.config import Config, job_side
from pywps.dispatcher.outage import RETRY_AFTER, client_error
from pywps.encode.json1 import wants_json
from pywps.exceptions import FileSizeExceeded, NoApplicableCode, OperationNotSupported
from pywps.jobs.jobdir import valid_job_id
from pywps.operations import Operations, Reply
from pywps.requestmodel import (
    DescribeProcessRequest,
    DismissRequest,
    Execute2Request,
    ExecuteRequest,
    GetCapabilitiesRequest,
    GetResultRequest,
    GetStatusRequest,
)

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"^[\w.\-]+$")


def _exception_reply(exc: NoApplicableCode) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER)} if exc.code == 503 else {}
    return Response(exc.to_xml(), status=exc.code, content_type="text/xml; charset=utf-8", headers=headers)


def _unexpected(exc: Exception) -> Response:
    """An error no handler expected: an outage (store, disk) is a 503 naming its cause; anything else is
    logged with its traceback and the client gets a short NoApplicableCode. Never an HTML page."""
    outage = client_error(exc)
    if outage is not None:
        log.warning("%s %s: %s", request.method, request.path, outage.description)
        return _exception_reply(outage)
    log.exception("unexpected error handling %s %s", request.method, request.full_path)
    return _exception_reply(NoApplicableCode("Internal server error; the error has been logged"))


def create_app(config: Config | None = None, processes: Iterable[Any] = (), dispatcher=None) -> Flask:
    """A Flask app serving the WPS at ``/wps`` (and ``/``), stored outputs under ``outputurl`` and ``/health``."""
    from pywps.configuration import get_config, using
    from pywps.dispatcher import Dispatcher
    from pywps.logs import configure_logging

    config = config or get_config()
    configure_logging(config)
    processes = list(processes)
    from pywps.preflight import check

    check(config)  # directories writable, job store reachable: refuse to start rather than wedge later
    dispatcher = dispatcher or Dispatcher(config, {p.identifier: p for p in processes})
    dispatcher.backend.check()
    from pywps.registry import preload

    preload(processes)
    dispatcher.backend.preload(processes)  # multiprocessing: its fork server starts now, with these processes
    operations = Operations(config, processes, dispatcher)
    max_request = config.server.maxrequestsize

    app = Flask("pywps")
    app.config["MAX_CONTENT_LENGTH"] = None
    app.extensions["pywps"] = {"config": config, "operations": operations, "dispatcher": dispatcher}
    # The dispatcher thread runs in every serving process (started again after a fork), from the first
    # request on: queued jobs and orphans of dead instances are picked up even if no Execute arrives.
    app.before_request(dispatcher.ensure_started)
    dispatcher.ensure_started()

    def wps() -> Response:
        try:
            body = None
            if request.method == "POST":
                if max_request and (request.content_length or 0) > max_request:
                    raise FileSizeExceeded(f"the request is larger than {max_request} bytes",
                                           locator="maxrequestsize")
                body = request.stream.read(max_request + 1 if max_request else -1)
            from pywps.request import parse_request

            parsed = parse_request(request.method, request.args, body, request.content_type,
                                   max_request_size=max_request)
            reply = dispatch(parsed)
            if wants_json(request.headers.get("Accept"), config.server.default_mimetype, request.args.get("f")):
                reply = operations.as_json(parsed, reply)  # PyWPS 4.5+ JSON answers (WPS 1.0.0)
        except NoApplicableCode as exc:
            if exc.code >= 500:
                log.warning("WPS request failed: %s", exc)
            return _exception_reply(exc)
        except Exception as exc:  # noqa: BLE001 - the one error boundary
            return _unexpected(exc)
        return Response(reply.body, status=reply.status, content_type=reply.content_type, headers=reply.headers)

    handlers = {
        GetCapabilitiesRequest: operations.get_capabilities, DescribeProcessRequest: operations.describe_process,
        ExecuteRequest: operations.execute, Execute2Request: operations.execute2,  # WPS 1.0.0 and 2.0.0
        GetStatusRequest: operations.get_status, GetResultRequest: operations.get_result,
        DismissRequest: operations.dismiss,  # WPS 2.0.0
    }

    def dispatch(parsed) -> Reply:
        name = type(parsed).__name__
        g.pywps_operation = "ExecuteRequest" if name == "Execute2Request" else name  # its label in /metrics
        handler = handlers.get(type(parsed))
        if handler is None:
            raise NoApplicableCode(f"unsupported request {name}")
        try:
            return handler(parsed)
        except NoApplicableCode as exc:
            if parsed.version == "2.0.0":
                exc.for_wps2()  # an OWS 2.0 ExceptionReport with OGC 14-065's exceptionCode and HTTP status
            raise

    app.register_error_handler(Exception, _unexpected_anywhere)
    app.register_error_handler(405, lambda _: _exception_reply(OperationNotSupported(
        f"HTTP method {request.method} is not supported; use GET or POST", locator="request", code=405)))
    app.add_url_rule("/", "root", wps, methods=["GET", "POST"])
    app.add_url_rule("/wps", "wps", wps, methods=["GET", "POST"])

    def outputs(name: str) -> Response:
        if name.endswith(".xml") and valid_job_id(name[:-4]):
            try:
                reply = operations.status_document(name[:-4])
            except Exception as exc:  # noqa: BLE001 - the store is down: the last copy the server wrote
                copy = _static_status(config, name[:-4])
                if copy is None:
                    return _unexpected(exc)
                log.warning("status document %s from its static copy: %s", name, client_error(exc) or exc)
                return Response(copy, content_type="text/xml; charset=utf-8",
                                headers={"Cache-Control": "no-cache", "Warning": '110 - "job store unavailable"'})
            if reply is not None:
                return Response(reply.body, content_type=reply.content_type, headers=reply.headers)
            return Response("no such job\n", status=404, content_type="text/plain")
        parts = name.split("/")
        if (len(parts) != 2 or not valid_job_id(parts[0]) or not _SAFE_NAME.match(parts[1])
                or parts[1].startswith(".") or dispatcher.store.get(parts[0]) is None):
            return Response("not found\n", status=404, content_type="text/plain")
        opened = dispatcher.output_file(parts[0], parts[1])  # a published copy: no link, a regular file
        if opened is None:
            return Response("not found\n", status=404, content_type="text/plain")
        fd, info = opened
        return send_file(os.fdopen(fd, "rb"), conditional=True, download_name=parts[1],
                         mimetype=dispatcher.output_mime_type(parts[0], parts[1]) or "application/octet-stream",
                         last_modified=info.st_mtime, etag=f"{info.st_ino:x}-{info.st_mtime_ns:x}-{info.st_size:x}",
                         max_age=0)

    output_prefix = urlsplit(config.outputurl).path.rstrip("/") or "/outputs"
    app.add_url_rule(f"{output_prefix}/<path:name>", "outputs", outputs)

    from pywps.metrics import install

    install(app, config, dispatcher)  # /health, /metrics ([metrics] enabled, token), request counters
    from pywps.ogcapi import install as install_ogcapi

    install_ogcapi(app, config, dispatcher)  # OGC API - Processes and its HTML pages at [ogcapi] url

    inner = app.wsgi_app

    def wsgi_app(environ: dict, start_response) -> Iterable[bytes]:
        with using(config):  # get_config_value in this app's requests reads this app's configuration
            return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return app


def _unexpected_anywhere(exc: Exception) -> Response:
    """Flask's handler for errors outside the WPS view (outputs, health): XML, never Flask's HTML page."""
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, HTTPException):
        return Response(f"{exc.code} {exc.name}\n", status=exc.code, content_type="text/plain")
    return _unexpected(exc)


def _static_status(config: Config, job_id: str) -> bytes | None:
    """The last status document the server wrote for a job under ``outputpath`` (its own file)."""
    try:
        with open(config.server.outputpath / f"{job_id}.xml", "rb") as handle:
            return handle.read(16 * 1024 * 1024)
    except OSError:
        return None


class Service:
    """PyWPS 4 compatible WSGI callable: ``Service(processes=[...], cfgfiles=[...])``."""

    def __init__(self, processes: Iterable[Any] = (), cfgfiles: Iterable[str | os.PathLike] | str | None = None,
                 preprocessors: dict | None = None) -> None:
        if isinstance(cfgfiles, (str, os.PathLike)):
            cfgfiles = [cfgfiles]
        from pywps.configuration import get_config, load_configuration

        self.processes = list(processes)
        # PyWPS 4: files given are loaded as the process's configuration; none given, the one loaded last
        self.config = load_configuration(cfgfiles) if cfgfiles else get_config()
        self.preprocessors = preprocessors or {}
        self._app: Flask | None = None
        if not job_side():  # a job loading its process module (whose package builds its app) serves nothing
            self._app = create_app(self.config, self.processes)

    @property
    def app(self) -> Flask:
        if self._app is None:
            self._app = create_app(self.config, self.processes)
        return self._app

    @property
    def dispatcher(self):
        return self.app.extensions["pywps"]["dispatcher"]

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        environ["PATH_INFO"] = environ.get("PATH_INFO") or "/"  # the mount point itself (mod_wsgi, '?...' URLs)
        return self.app.wsgi_app(environ, start_response)

    def close(self) -> None:
        """Stop the dispatcher thread (tests, embedding)."""
        self.dispatcher.stop()
