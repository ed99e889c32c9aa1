"""The OGC API - Processes views, mounted under ``[ogcapi] url``: the front-end's one error boundary.

Requests are parsed here (parse.py) into the shared request model and run through the same admission,
job store, backends and results as WPS (``Dispatcher.submit`` / ``execute_sync`` / ``dismiss``); only the
documents differ. Every answer is JSON or, for people (``f=html`` or a browser's ``Accept``), HTML.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, redirect, request
from werkzeug.exceptions import HTTPException

import pywps.exceptions as ows_exceptions
from pywps.config import Config
from pywps.dispatcher import fetch_policy
from pywps.dispatcher.outage import client_error
from pywps.exceptions import FileSizeExceeded, NoApplicableCode
from pywps.inout.fetch import check_url
from pywps.jobs.jobdir import valid_job_id
from pywps.jobs.model import JobRecord, JobStatus
from pywps.ogcapi import encode
from pywps.ogcapi.describe import job_control_options, process_description, process_summary
from pywps.ogcapi.errors import (
    OWN,
    RESULT_NOT_READY,
    ApiError,
    bad_request,
    from_ows,
    no_such_job,
    no_such_process,
    not_found,
)
from pywps.ogcapi.jsonbody import read_json
from pywps.ogcapi.notify import Notifier
from pywps.ogcapi.parse import Execution, parse_execute
from pywps.requestmodel import OutputResult

log = logging.getLogger(__name__)

JSON = "application/json"
HTML = "text/html; charset=utf-8"
COOKIE = "pywps_operator"
_OWS_CODE = re.compile(rb'exceptionCode="(\w+)"')


def install(app: Flask, config: Config, dispatcher: Any) -> None:
    """Mount OGC API - Processes (and its HTML pages) on ``app`` at ``[ogcapi] url``, unless disabled."""
    if not config.ogcapi.enabled:
        return
    api = Api(config, dispatcher)
    api.register(app)
    app.extensions.setdefault("pywps", {})["ogcapi"] = api
    app.wsgi_app = public_path(app.wsgi_app, config.ogcapi.path)  # type: ignore[method-assign]


def public_path(inner: Callable, path: str) -> Callable:
    """Route OGC API requests by their public path, whatever the application is mounted under.

    ``[ogcapi] url`` names the path clients see (``/ogcapi/``). Mounted below a prefix (Apache's
    ``WSGIScriptAlias /ogcapi``, ``SCRIPT_NAME=/ogcapi``), the application would see only the rest of it;
    a request whose ``SCRIPT_NAME`` + ``PATH_INFO`` lies under that path is routed by the whole. One mounted
    elsewhere (``/wps/ogcapi/`` under ``WSGIScriptAlias /wps``) is routed as before."""
    bare = path.rstrip("/")

    def routed(environ: dict, start_response: Callable) -> Any:
        script = environ.get("SCRIPT_NAME", "")
        if script:
            full = script + environ.get("PATH_INFO", "")
            if full == bare or full.startswith(path):
                environ["SCRIPT_NAME"], environ["PATH_INFO"] = "", full
        return inner(environ, start_response)

    return routed


class Api:
    """The views over one dispatcher; ``base`` is the absolute URL every link starts with."""

    def __init__(self, config: Config, dispatcher: Any) -> None:
        self.config = config
        self.settings = config.ogcapi
        self.base = self.settings.url
        self.prefix = self.settings.path
        self.d = dispatcher
        self.processes: dict[str, Any] = dispatcher.processes
        self.language = config.server.languages[0]
        self.notifier = Notifier(config, dispatcher.store, fetch_policy(config), self.callback_document)
        self._described: dict[str, dict[str, Any]] = {}
        # the process list and descriptions never change while the app lives: their JSON is encoded once
        # (per query string for the list, a bounded number of them)
        self._encoded: dict[tuple[str, bytes], bytes] = {}
        from pywps.ogcapi.html import Pages

        self.pages = Pages(self)

    # -- wiring ----------------------------------------------------------------------------------

    def register(self, app: Flask) -> None:
        p = self.prefix
        rules: list[tuple[str, str, Callable, list[str]]] = [
            ("", "landing", self.landing, ["GET"]),
            ("conformance", "conformance", self.conformance, ["GET"]),
            ("api", "api", self.openapi, ["GET"]),
            ("processes", "processes", self.process_list, ["GET"]),
            ("processes/<process_id>", "process", self.process, ["GET"]),
            ("processes/<process_id>/execution", "execute", self.execute, ["POST"]),
            ("jobs", "jobs", self.jobs, ["GET"]),
            ("jobs/<job_id>", "job", self.job, ["GET", "DELETE"]),
            ("jobs/<job_id>/results", "results", self.results, ["GET"]),
            ("jobs/<job_id>/dismiss", "dismiss_form", self.dismiss_form, ["POST"]),
            ("operator", "operator", self.operator_login, ["POST"]),
            ("<path:rest>", "unknown", self.unknown, ["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]
        for path, name, view, methods in rules:
            app.add_url_rule(p + path, f"ogcapi_{name}", self._guarded(view), methods=methods)
        app.add_url_rule(p.rstrip("/"), "ogcapi_base", lambda: redirect(self.base, 308), methods=["GET"])
        self.notifier.start_if_pending()

    def _guarded(self, view: Callable[..., Response]) -> Callable[..., Response]:
        """The one error boundary: an ApiError or OWS exception is its document; anything else is logged."""

        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Response:
            try:
                return view(**kwargs)
            except ApiError as exc:
                return self.error(exc)
            except NoApplicableCode as exc:
                return self.error(from_ows(exc))
            except Exception as exc:  # the boundary
                outage = client_error(exc)
                if outage is not None:
                    log.warning("%s %s: %s", request.method, request.path, outage.description)
                    return self.error(from_ows(outage))
                log.exception("unexpected error handling %s %s", request.method, request.full_path)
                return self.error(ApiError(500, OWN + "NoApplicableCode", "Internal server error",
                                           "the error has been logged"))

        return guarded

    # -- answers ---------------------------------------------------------------------------------

    def wants_html(self) -> bool:
        """``f=html|json`` decides; else the Accept header (JSON unless HTML is preferred)."""
        fmt = request.args.get("f")
        if fmt is not None:
            if fmt.lower() == "json":
                return False
            if fmt.lower() == "html":
                if not self.settings.html:
                    raise bad_request("HTML is not served here ([ogcapi] html = false)")
                return True
            raise bad_request(f"f must be json or html, not {fmt!r}")
        if not self.settings.html:
            return False
        accept = request.accept_mimetypes
        return accept["text/html"] > accept["application/json"]

    def json(self, document: Any, status: int = 200, headers: dict[str, str] | None = None,
             content_type: str = JSON) -> Response:
        return Response(json.dumps(document, indent=2, ensure_ascii=False).encode(), status=status,
                        content_type=content_type, headers=headers or {})

    def error(self, exc: ApiError) -> Response:
        try:
            html = self.wants_html()
        except ApiError:
            html = False
        headers = dict(exc.headers)
        if html:
            return Response(self.pages.error(exc), status=exc.status, content_type=HTML, headers=headers)
        return Response(exc.body(request.url), status=exc.status, content_type="application/problem+json",
                        headers=headers)

    def _paging(self, total: int | None, found: int) -> tuple[int, int, Callable[[int, str, str], dict]]:
        """``limit`` and ``offset`` of this request, and a link maker for other pages of it."""
        limit_text = request.args.get("limit")
        try:
            limit = int(limit_text) if limit_text is not None else self.settings.default_limit
            offset = int(request.args.get("offset", "0"))
        except ValueError:
            raise bad_request("limit and offset must be integers") from None
        if limit < 1 or offset < 0:
            raise bad_request("limit must be at least 1 and offset at least 0")
        limit = min(limit, self.settings.max_limit)

        def link(new_offset: int, rel: str, fmt: str = "json") -> dict:
            args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "limit", "f")]
            args += [("limit", str(limit)), ("offset", str(new_offset))]
            if fmt == "html":
                args.append(("f", "html"))
            from urllib.parse import urlencode

            path = request.path[len(self.prefix):]
            return {"href": f"{self.base}{path}?{urlencode(args)}", "rel": rel,
                    "type": JSON if fmt == "json" else "text/html"}

        return limit, offset, link

    # -- landing page, conformance, API ----------------------------------------------------------

    def landing(self) -> Response:
        meta = self.config.metadata
        doc = encode.landing_page(self.base, meta.get("identification_title", "PyWPS"),
                                  meta.get("identification_abstract", ""))
        if self.wants_html():
            return Response(self.pages.landing(doc), content_type=HTML)
        return self.json(doc)

    def conformance(self) -> Response:
        doc = {"conformsTo": encode.CONFORMANCE}
        if self.wants_html():
            return Response(self.pages.conformance(doc), content_type=HTML)
        return self.json(doc)

    def openapi(self) -> Response:
        from pywps.ogcapi.openapi import openapi_document

        doc = openapi_document(self)
        if self.wants_html():
            return Response(self.pages.api_page(doc), content_type=HTML)
        return self.json(doc, content_type=encode.OPENAPI_JSON)

    def unknown(self, rest: str) -> Response:
        adapter = request.url_rule.map.bind_to_environ(request.environ) if request.url_rule else None
        allowed = []
        if adapter is not None:
            for method in ("GET", "POST", "DELETE"):
                try:
                    endpoint, _ = adapter.match(method=method)
                except HTTPException:  # no rule for this method
                    continue
                if endpoint != "ogcapi_unknown":
                    allowed.append(method)
        if allowed:
            raise ApiError(405, OWN + "OperationNotSupported", "Method not allowed",
                           f"{request.method} is not allowed here; use {', '.join(allowed)}",
                           {"Allow": ", ".join(allowed)})
        raise not_found(f"there is no resource {request.path!r}")

    # -- processes -------------------------------------------------------------------------------

    @property
    def accepts_sync(self) -> bool:
        return bool(self.d.backend.accepts_sync)

    def get_process(self, process_id: str) -> Any:
        process = self.processes.get(process_id)
        if process is None:
            raise no_such_process(process_id)
        return process

    def description(self, process: Any) -> dict[str, Any]:
        cached = self._described.get(process.identifier)
        if cached is None:
            cached = process_description(process, self.base, self.accepts_sync, self.language)
            self._described[process.identifier] = cached
        return cached

    def _cached_json(self, key: tuple[str, bytes], make: Callable[[], Any]) -> Response:
        body = self._encoded.get(key)
        if body is None:
            body = json.dumps(make(), indent=2, ensure_ascii=False).encode()
            if len(self._encoded) < 256:
                self._encoded[key] = body
        return Response(body, content_type=JSON)

    def process_list(self) -> Response:
        if not self.wants_html():
            return self._cached_json(("processes", request.query_string), self._process_list_document)
        return self._process_list_document(html=True)

    def _process_list_document(self, html: bool = False) -> Any:
        everything = list(self.processes.values())
        limit, offset, link = self._paging(len(everything), 0)
        page = everything[offset:offset + limit]
        links = [{"href": f"{self.base}processes", "rel": "self", "type": JSON, "title": "this list"},
                 {"href": f"{self.base}processes?f=html", "rel": "alternate", "type": "text/html",
                  "title": "this list as HTML"}]
        if offset + limit < len(everything):
            links.append(link(offset + limit, "next"))
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        doc = {"processes": [process_summary(p, self.base, self.accepts_sync, self.language) for p in page],
               "links": links}
        if html:
            return Response(self.pages.processes(doc, link if offset + limit < len(everything) else None,
                                                 offset, limit), content_type=HTML)
        return doc

    def process(self, process_id: str) -> Response:
        process = self.get_process(process_id)
        if self.wants_html():
            return Response(self.pages.process(process, self.description(process)), content_type=HTML)
        return self._cached_json(("process", process.identifier.encode()), lambda: self.description(process))

    # -- execution -------------------------------------------------------------------------------

    def _body(self) -> bytes:
        limit = self.config.server.maxrequestsize
        if limit and (request.content_length or 0) > limit:
            raise from_ows(FileSizeExceeded(f"the request is larger than {limit} bytes", locator="maxrequestsize"))
        data = request.stream.read(limit + 1 if limit else -1)
        if limit and len(data) > limit:
            raise from_ows(FileSizeExceeded(f"the request is larger than {limit} bytes", locator="maxrequestsize"))
        return data

    def execute(self, process_id: str) -> Response:
        process = self.get_process(process_id)
        content_type = (request.mimetype or "").lower()
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return self.pages.run_form(process)
        document = read_json(self._body(), request.content_type, self.config.server.maxrequestsize)
        prefer = {t.strip().split("=")[0].lower() for t in request.headers.get("Prefer", "").split(",")}
        options = job_control_options(process, self.accepts_sync)
        is_async = ("respond-async" in prefer and "async-execute" in options) or "sync-execute" not in options
        execution = parse_execute(process, document, is_async=is_async)
        self.admit_checks(process, execution)
        if is_async:
            job = self.submit(process, execution)
            headers = {"Location": f"{self.base}jobs/{job.id}"}
            if "respond-async" in prefer:
                headers["Preference-Applied"] = "respond-async"
            return self.json(encode.status_info(job, self.base), 201, headers)
        outcome = self.d.execute_sync(process, execution.request, protocol="ogcapi")
        if outcome.exception is not None:
            raise from_ows(outcome.exception)
        headers = {"Preference-Applied": "respond-sync"} if "respond-sync" in prefer else {}
        headers["Link"] = f'<{self.base}jobs/{outcome.job.id}>; rel="monitor"'
        if execution.response == "raw":
            return self._raw(outcome.job, outcome.outputs, headers)
        return self.json(encode.results_document(outcome.outputs, self.file_url(outcome.job.id)), 200, headers)

    def admit_checks(self, process: Any, execution: Execution) -> None:
        """What WPS checks before a job exists: the same validation, input sizes, callback URLs."""
        from pywps.execute import validate_execute_request

        limit = self.config.server.maxsingleinputsize
        for value in execution.request.inputs:
            if limit and value.data and len(value.data.encode("utf-8")) * (
                    3 if (value.encoding or "").lower() == "base64" else 4) // 4 > limit:
                raise from_ows(FileSizeExceeded(f"input {value.identifier!r} is larger than {limit} bytes",
                                                locator=value.identifier))
        validate_execute_request(process, execution.request)
        if execution.subscriber:
            policy = fetch_policy(self.config)
            for key, url in execution.subscriber.items():
                try:
                    check_url(url, policy, f"subscriber/{key}")
                except NoApplicableCode as exc:
                    raise bad_request(f"subscriber/{key}: {exc.description}") from None

    def submit(self, process: Any, execution: Execution) -> JobRecord:
        job = self.d.submit(process, execution.request, protocol="ogcapi", subscriber=execution.subscriber or None)
        if execution.subscriber:
            self.notifier.ensure_started()
        return job

    def file_url(self, job_id: str) -> Callable[[str], str]:
        return lambda name: f"{self.config.server.outputurl}{job_id}/{name}"

    def _raw(self, job: JobRecord, outputs: list[OutputResult], headers: dict[str, str]) -> Response:
        """response=raw: one output as itself, several as multipart/related, references as Link headers."""
        if not outputs:
            return Response(status=204, headers=headers)
        refs = [o for o in outputs if o.href or o.file]
        if len(refs) == len(outputs):
            links = [f'<{o.href or self.file_url(job.id)(o.file)}>; rel="enclosure"'
                     + (f'; type="{o.mime_type}"' if o.mime_type else "") for o in outputs]
            return Response(status=204, headers={**headers, "Link": ", ".join([headers["Link"], *links])})
        if len(outputs) == 1:
            output = outputs[0]
            return Response(encode.raw_bytes(output), content_type=_raw_type(output), headers=headers)
        boundary = uuid.uuid4().hex
        parts = []
        for output in outputs:
            if output.href or output.file:
                url = output.href or self.file_url(job.id)(output.file)
                head = f'Content-Type: message/external-body; access-type=URL; URL="{url}"'
                body = b""
            else:
                head = f"Content-Type: {_raw_type(output)}"
                body = encode.raw_bytes(output)
            parts.append(f"--{boundary}\r\n{head}\r\nContent-ID: <{output.identifier}>\r\n\r\n".encode() + body
                         + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return Response(data, content_type=f'multipart/related; boundary="{boundary}"', headers=headers)

    # -- jobs ------------------------------------------------------------------------------------

    def operator(self) -> bool:
        """Whether this request may list every job (``[ogcapi] jobs_listing``)."""
        mode, token = self.settings.jobs_listing, self.settings.operator_token
        if mode == "open":
            return True
        if mode != "token" or not token:
            return False
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.cookie_value().encode())

    def cookie_value(self) -> str:
        return hashlib.sha256(b"pywps-operator:" + self.settings.operator_token.encode()).hexdigest()

    def require_operator(self) -> None:
        if self.operator():
            return
        if self.settings.jobs_listing == "token" and self.settings.operator_token:
            raise ApiError(401, OWN + "NotAuthorized", "Operator token required",
                           "listing jobs needs the operator token (Authorization: Bearer ...)",
                           {"WWW-Authenticate": 'Bearer realm="pywps jobs"'})
        raise ApiError(403, OWN + "Forbidden", "Job listing is off",
                       "listing every job is not enabled on this server ([ogcapi] jobs_listing); "
                       "a job's own URL always answers")

    def jobs(self) -> Response:
        try:
            self.require_operator()
        except ApiError as exc:
            if self.wants_html() and exc.status == 401:
                return Response(self.pages.operator_login(), status=401, content_type=HTML, headers=exc.headers)
            raise
        filters = self._job_filters()
        limit, offset, link = self._paging(None, 0)
        found = self.d.store.query(limit=limit, offset=offset, **filters) if filters is not None else []
        total = self.d.store.query_count(**filters) if filters is not None else 0
        links = [{"href": f"{self.base}jobs", "rel": "self", "type": JSON, "title": "this list"},
                 {"href": f"{self.base}jobs?f=html", "rel": "alternate", "type": "text/html",
                  "title": "this list as HTML"}]
        if offset + limit < total:
            links.append(link(offset + limit, "next"))
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        doc = encode.job_list(found, self.base, links)
        if self.wants_html():
            return Response(self.pages.jobs(found, doc, total, offset, limit, link), content_type=HTML)
        return self.json(doc)

    def _job_filters(self) -> dict[str, Any] | None:
        """The store filters of /jobs (None: nothing can match, e.g. ``type=other``)."""
        args = request.args
        filters: dict[str, Any] = {}
        types = _multi(args, "type")
        if types and "process" not in types:
            return None
        processes = _multi(args, "processID") or _multi(args, "processid")
        if processes:
            filters["processes"] = processes
        statuses = _multi(args, "status")
        if statuses:
            unknown = [s for s in statuses if s not in encode.STATES]
            if unknown:
                raise bad_request(f"status {unknown[0]!r} is not one of {', '.join(encode.STATES)}")
            filters["statuses"] = [state for s in statuses for state in encode.STATES[s]]
        when = args.get("datetime")
        if when:
            start, end = _interval(when)
            if start is not None:
                filters["created_after"] = start
            if end is not None:
                filters["created_before"] = end
        for name, key in (("minDuration", "min_duration"), ("maxDuration", "max_duration")):
            text = args.get(name)
            if text is not None:
                try:
                    seconds = float(text)
                except ValueError:
                    raise bad_request(f"{name} must be a number of seconds") from None
                if seconds < 0 or seconds != seconds:
                    raise bad_request(f"{name} must not be negative")
                filters[key] = seconds
        return filters

    def get_job(self, job_id: str) -> JobRecord:
        job = self.d.store.get(job_id) if valid_job_id(job_id) else None
        if job is None:
            raise no_such_job(job_id)
        return job

    def job(self, job_id: str) -> Response:
        if request.method == "DELETE":
            return self.json(encode.status_info(self.dismiss(job_id), self.base))
        job = self.get_job(job_id)
        if self.wants_html():
            return Response(self.pages.job(job), content_type=HTML, headers={"Cache-Control": "no-cache"})
        return self.json(encode.status_info(job, self.base), headers={"Cache-Control": "no-cache"})

    def dismiss(self, job_id: str) -> JobRecord:
        """Dismiss a job: a running one's runner is stopped; a finished one's results are removed."""
        job = self.get_job(job_id)
        return self.d.dismiss(job.id, discard_results=True)

    def dismiss_form(self, job_id: str) -> Response:
        """The HTML Dismiss button (a form cannot send DELETE)."""
        self.dismiss(job_id)
        return redirect(f"{self.base}jobs/{job_id}?f=html", 303)

    def results(self, job_id: str) -> Response:
        job = self.get_job(job_id)
        if job.status is JobStatus.SUCCEEDED:
            doc = encode.results_document(encode.output_results(job), self.file_url(job.id))
            if self.wants_html():
                return Response(self.pages.job(job), content_type=HTML)
            return self.json(doc)
        raise self.job_error(job)

    def job_error(self, job: JobRecord) -> ApiError:
        """Why a job has no results: not ready, dismissed (gone) or the exception it failed with."""
        if job.status is JobStatus.DISMISSED:
            return ApiError(410, OWN + "Dismissed", "Job dismissed",
                            f"job {job.id} was dismissed; its results are gone")
        if job.status is JobStatus.FAILED:
            code = _ows_code(job)
            cls = getattr(ows_exceptions, code, None)
            status = cls.code if isinstance(cls, type) and issubclass(cls, NoApplicableCode) else 500
            status = status if 400 <= status < 600 else 500
            return ApiError(status, OWN + code, "Process failed" if status >= 500 else "Bad request",
                            job.message or "the job failed")
        return ApiError(404, RESULT_NOT_READY, "Result not ready",
                        f"job {job.id} is {encode.STATUS[job.status]}; its results are not ready")

    def operator_login(self) -> Response:
        """The operator page's form: a correct token sets a cookie that lets this browser list jobs."""
        token = request.form.get("token", "")
        expected = self.settings.operator_token
        if self.settings.jobs_listing != "token" or not expected or not hmac.compare_digest(
                token.encode(), expected.encode()):
            return Response(self.pages.operator_login("That token is not right."), status=401, content_type=HTML)
        response = redirect(f"{self.base}jobs?f=html", 303)
        response.set_cookie(COOKIE, self.cookie_value(), httponly=True, samesite="Strict", path=self.prefix,
                            secure=self.base.startswith("https:"))
        return response

    # -- callbacks -------------------------------------------------------------------------------

    def callback_document(self, job: JobRecord, event: str) -> dict[str, Any]:
        """What a subscriber is sent: results on success, the exception on failure, else status info."""
        if event == "successful":
            return encode.results_document(encode.output_results(job), self.file_url(job.id))
        if event == "failed":
            return self.job_error(job).document(f"{self.base}jobs/{job.id}")
        return encode.status_info(job, self.base)


def _raw_type(output: OutputResult) -> str:
    if output.kind == "literal":
        return "text/plain; charset=utf-8"
    if output.kind == "bbox":
        return JSON
    return output.mime_type or "application/octet-stream"


def _multi(args: Any, name: str) -> list[str]:
    """A parameter given several times or as a comma-separated list."""
    return [v.strip() for value in args.getlist(name) for v in value.split(",") if v.strip()]


def _instant(text: str) -> datetime | None:
    if text in ("..", ""):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request(f"datetime {text!r} is not an RFC 3339 date-time or interval") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _interval(text: str) -> tuple[datetime | None, datetime | None]:
    """``datetime``: an instant (that moment) or ``start/end`` with ``..`` for an open end."""
    if "/" in text:
        start, _, end = text.partition("/")
        lower, upper = _instant(start), _instant(end)
        if lower and upper and lower > upper:
            raise bad_request("datetime: the interval ends before it starts")
        return lower, upper
    moment = _instant(text)
    return moment, moment


def _ows_code(job: JobRecord) -> str:
    """The OWS exceptionCode a failed job recorded in its status document (server-written)."""
    if job.response:
        match = _OWS_CODE.search(job.response)
        if match:
            return match.group(1).decode()
    return "NoApplicableCode"

