"""The HTML pages for people: Jinja2 templates (pywps/templates/ogcapi/), server-rendered, no JavaScript.

A process page carries a form built from the process description that runs the process through the
same parsing, validation and admission as the JSON API; a job page refreshes itself (``<meta refresh>``)
until the job ends and has a Dismiss button; the operator's jobs page follows the rule of ``/jobs``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Response, redirect, render_template, request

from pywps.exceptions import NoApplicableCode
from pywps.inout.formats import is_binary_mime
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.outputs import ComplexOutput
from pywps.jobs.model import JobRecord, JobStatus
from pywps.ogcapi import encode
from pywps.ogcapi.describe import crs_uri, is_json_media
from pywps.ogcapi.errors import ApiError, bad_request, from_ows
from pywps.ogcapi.parse import parse_execute

if TYPE_CHECKING:
    from pywps.ogcapi.routes import Api

HTML = "text/html; charset=utf-8"
REFRESH = 1  # seconds between reloads of a job page while the job runs


def _duration(job: JobRecord) -> str:
    if job.started is None:
        return ""
    end = job.finished or datetime.now(UTC)
    seconds = max(0.0, (end - job.started).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


class Pages:
    """Renders each page from the same data the JSON answers carry."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def _render(self, template: str, **context: Any) -> str:
        meta = self.api.config.metadata
        return render_template(f"ogcapi/{template}", base=self.api.base, title_service=meta.get(
            "identification_title", "PyWPS"), **context)

    def error(self, exc: ApiError) -> str:
        return self._render("error.html", error=exc)

    def landing(self, doc: dict[str, Any]) -> str:
        return self._render("landing.html", doc=doc, operator=self.api.operator(),
                            listing=self.api.settings.jobs_listing)

    def conformance(self, doc: dict[str, Any]) -> str:
        return self._render("conformance.html", doc=doc)

    def api_page(self, doc: dict[str, Any]) -> str:
        return self._render("api.html", doc=doc)

    def processes(self, doc: dict[str, Any], next_link: Any, offset: int, limit: int) -> str:
        return self._render("processes.html", doc=doc, next_href=next_link(offset + limit, "next", "html")["href"]
                            if next_link else None,
                            prev_href=f"{self.api.base}processes?f=html&limit={limit}&offset={max(0, offset - limit)}"
                            if offset else None)

    # -- the process form ------------------------------------------------------------------------

    def fields(self, process: Any) -> list[dict[str, Any]]:
        """What the form shows for each input."""
        fields = []
        for definition in process.inputs:
            field: dict[str, Any] = {
                "id": definition.identifier, "title": definition.title or definition.identifier,
                "abstract": definition.abstract, "required": definition.min_occurs > 0
                and getattr(definition, "default", None) is None, "multiple": definition.max_occurs > 1,
            }
            schema = self.api.description(process)["inputs"][definition.identifier]["schema"]
            if isinstance(definition, LiteralInput):
                field["kind"] = "literal"
                field["choices"] = [str(v).lower() if isinstance(v, bool) else str(v)
                                    for v in schema.get("enum", [])]
                if definition.data_type == "boolean":
                    field["choices"] = ["true", "false"]
                field["number"] = schema.get("type") in ("number", "integer")
                field["min"], field["max"] = schema.get("minimum"), schema.get("maximum")
                default = schema.get("default")
                field["default"] = "" if default is None else (str(default).lower() if isinstance(default, bool)
                                                               else str(default))
                field["uoms"] = [u.uom for u in definition.uoms]
            elif isinstance(definition, ComplexInput):
                field["kind"] = "complex"
                field["formats"] = list(dict.fromkeys(f.mime_type for f in definition.supported_formats))
            elif isinstance(definition, BoundingBoxInput):
                field["kind"] = "bbox"
                field["crss"] = [crs_uri(c) for c in definition.crss]
                field["dimensions"] = definition.dimensions
            fields.append(field)
        return fields

    def process(self, process: Any, doc: dict[str, Any], error: str = "", values: dict | None = None) -> str:
        return self._render("process.html", process=doc, fields=self.fields(process), error=error,
                            values=values or {}, runnable=bool(doc["jobControlOptions"]))

    def run_form(self, process: Any) -> Response:
        """POST of the process page's form: the same document a JSON client would send, run the same way."""
        limit = self.api.config.server.maxrequestsize
        if limit:
            request.max_content_length = limit
        try:
            document = self._document(process)
            options = self.api.description(process)["jobControlOptions"]
            is_async = "async-execute" in options
            execution = parse_execute(process, document, is_async=is_async)
            self.api.admit_checks(process, execution)
        except (ApiError, NoApplicableCode) as exc:
            if isinstance(exc, NoApplicableCode):
                exc = from_ows(exc)
            if exc.status >= 500:
                raise exc from None
            page = self.process(process, self.api.description(process), error=exc.detail or exc.title,
                                values=request.form.to_dict())
            return Response(page, status=exc.status, content_type=HTML)
        if is_async:
            job = self.api.submit(process, execution)
        else:
            outcome = self.api.d.execute_sync(process, execution.request, protocol="ogcapi")
            job = outcome.job
        return redirect(f"{self.api.base}jobs/{job.id}?f=html", 303)

    def _document(self, process: Any) -> dict[str, Any]:
        """The execute document of a submitted form (files uploaded become base64 qualified values)."""
        form, files = request.form, request.files
        inputs: dict[str, Any] = {}
        for definition in process.inputs:
            ident = definition.identifier
            occurrences: list[Any] = []
            if isinstance(definition, LiteralInput):
                texts = form.get(ident, "")
                parts = texts.splitlines() if definition.max_occurs > 1 else [texts]
                for text in (p.strip() for p in parts):
                    if not text:
                        continue
                    value = _literal(definition.data_type, text)
                    uom = form.get(f"{ident}.uom")
                    occurrences.append({"value": value, "uom": uom} if uom else value)
            elif isinstance(definition, ComplexInput):
                mime = form.get(f"{ident}.mediaType") or None
                upload = files.get(f"{ident}.file")
                if upload is not None and upload.filename:
                    content = upload.read()
                    mime = mime or definition.data_format.mime_type
                    fmt = definition.find_format(mime)
                    text = None
                    if fmt is not None and (fmt.encoding or "").lower() != "base64" and not is_binary_mime(mime):
                        try:
                            text = content.decode("utf-8")
                        except UnicodeDecodeError:
                            text = None
                    occurrences.append({"value": text, "mediaType": mime} if text is not None else {
                        "value": base64.b64encode(content).decode(), "encoding": "base64", "mediaType": mime})
                elif form.get(ident, "").strip():
                    occurrences.append({"value": form[ident], "mediaType": mime or definition.data_format.mime_type})
            elif isinstance(definition, BoundingBoxInput):
                text = form.get(ident, "").strip()
                if text:
                    try:
                        corners = [float(c) for c in text.replace(" ", ",").split(",") if c]
                    except ValueError:
                        raise bad_request(f"{ident}: corners must be numbers separated by commas") from None
                    box: dict[str, Any] = {"bbox": corners}
                    if form.get(f"{ident}.crs"):
                        box["crs"] = form[f"{ident}.crs"]
                    occurrences.append(box)
            if occurrences:
                inputs[ident] = occurrences if len(occurrences) > 1 else occurrences[0]
        outputs = {o.identifier: {"transmissionMode": "reference" if isinstance(o, ComplexOutput) else "value"}
                   for o in process.outputs}
        return {"inputs": inputs, "outputs": outputs, "response": "document"}

    # -- jobs ------------------------------------------------------------------------------------

    def job(self, job: JobRecord) -> str:
        status = encode.STATUS[job.status]
        results: list[dict[str, Any]] = []
        if job.status is JobStatus.SUCCEEDED:
            file_url = self.api.file_url(job.id)
            for output in encode.output_results(job):
                value = encode.result_value(output, file_url(output.file) if output.file and not output.href
                                            else None)
                entry: dict[str, Any] = {"id": output.identifier, "title": output.title or output.identifier}
                if isinstance(value, dict) and "href" in value:
                    entry["href"], entry["type"] = value["href"], value.get("type", "")
                else:
                    shown = value.get("value") if isinstance(value, dict) and "value" in value else value
                    if (output.kind == "complex" and is_json_media(output.mime_type)) or not isinstance(shown, str):
                        import json

                        shown = json.dumps(shown, indent=2) if not isinstance(shown, str) else shown
                    entry["value"] = shown if len(shown) < 20000 else shown[:20000] + "…"
                    entry["uom"] = value.get("uom") if isinstance(value, dict) else None
                results.append(entry)
        error = self.api.job_error(job) if job.status in (JobStatus.FAILED, JobStatus.DISMISSED) else None
        return self._render("job.html", job=job, status=status, results=results, error=error,
                            refresh=None if job.is_final else REFRESH, duration=_duration(job),
                            info=encode.status_info(job, self.api.base))

    def jobs(self, found: list[JobRecord], doc: dict[str, Any], total: int, offset: int, limit: int, link) -> str:
        store = self.api.d.store
        counts = store.status_counts()
        by_status = {name: sum(counts.get(s.value, 0) for s in states) for name, states in encode.STATES.items()}
        rows = [{"job": j, "status": encode.STATUS[j.status], "duration": _duration(j)} for j in found]
        return self._render(
            "jobs.html", rows=rows, counts=by_status, queue=counts.get(JobStatus.ACCEPTED.value, 0),
            running=sum(counts.get(s.value, 0) for s in (JobStatus.STARTED, JobStatus.PAUSED)),
            slots=self.api.d.parallel, total=total, selected=request.args.getlist("status"),
            next_href=link(offset + limit, "next", "html")["href"] if offset + limit < total else None,
            prev_href=link(max(0, offset - limit), "prev", "html")["href"] if offset else None,
            statuses=list(encode.STATES), processes=sorted(self.api.processes))

    def operator_login(self, problem: str = "") -> str:
        return self._render("operator_login.html", problem=problem)


def _literal(data_type: str, text: str) -> Any:
    """A form field's text as the JSON type the input's schema asks for."""
    try:
        if data_type in ("integer", "nonNegativeInteger", "positiveInteger"):
            return int(text)
        if data_type in ("float", "scale", "angle"):
            return float(text)
    except ValueError:
        return text  # the schema check names the field
    if data_type == "boolean":
        return text.lower() in ("true", "1", "yes", "on")
    return text
