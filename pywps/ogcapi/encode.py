"""OGC API - Processes documents from plain data: status info, results, job lists, landing page."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from pywps.jobs.model import JobRecord, JobStatus
from pywps.ogcapi.describe import CRS84, crs_uri, is_json_media, json_value
from pywps.requestmodel import OutputResult

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/callback",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]
REL_RESULTS = "http://www.opengis.net/def/rel/ogc/1.0/results"
REL_JOB_LIST = "http://www.opengis.net/def/rel/ogc/1.0/job-list"
REL_PROCESSES = "http://www.opengis.net/def/rel/ogc/1.0/processes"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"

STATUS: dict[JobStatus, str] = {
    JobStatus.ACCEPTED: "accepted",
    JobStatus.STARTED: "running",
    JobStatus.PAUSED: "running",
    JobStatus.SUCCEEDED: "successful",
    JobStatus.FAILED: "failed",
    JobStatus.DISMISSED: "dismissed",
}
# OGC status -> the store's states (a /jobs?status= filter)
STATES: dict[str, tuple[JobStatus, ...]] = {
    "accepted": (JobStatus.ACCEPTED,),
    "running": (JobStatus.STARTED, JobStatus.PAUSED),
    "successful": (JobStatus.SUCCEEDED,),
    "failed": (JobStatus.FAILED,),
    "dismissed": (JobStatus.DISMISSED,),
}


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, to the millisecond."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def landing_page(base: str, title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "links": [
            {"href": base, "rel": "self", "type": "application/json", "title": "this document"},
            {"href": f"{base}?f=html", "rel": "alternate", "type": "text/html", "title": "this document as HTML"},
            {"href": f"{base}api", "rel": "service-desc", "type": OPENAPI_JSON,
             "title": "the API definition (OpenAPI 3.0)"},
            {"href": f"{base}api?f=html", "rel": "service-doc", "type": "text/html",
             "title": "the API documentation"},
            {"href": f"{base}conformance", "rel": "conformance", "type": "application/json",
             "title": "conformance classes"},
            {"href": f"{base}conformance", "rel": REL_CONFORMANCE, "type": "application/json",
             "title": "conformance classes"},
            {"href": f"{base}processes", "rel": REL_PROCESSES, "type": "application/json",
             "title": "the processes"},
            {"href": f"{base}jobs", "rel": REL_JOB_LIST, "type": "application/json", "title": "the jobs"},
        ],
    }


def status_info(job: JobRecord, base: str) -> dict[str, Any]:
    """statusInfo.yaml of a job, whatever protocol it came in by (``protocol`` says which)."""
    url = f"{base}jobs/{job.id}"
    status = STATUS[JobStatus(job.status)]
    doc: dict[str, Any] = {
        "processID": job.process,
        "type": "process",
        "jobID": job.id,
        "status": status,
        "message": job.message or "",
        "progress": max(0, min(100, int(job.percent or 0))),
        "protocol": job.protocol,
    }
    for name in ("created", "started", "finished", "updated"):
        value = timestamp(getattr(job, name))
        if value is not None:
            doc[name] = value
    links = [
        {"href": url, "rel": "self", "type": "application/json", "title": "this status"},
        {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html", "title": "this status as HTML"},
    ]
    if status == "successful":
        links.append({"href": f"{url}/results", "rel": REL_RESULTS, "type": "application/json",
                      "title": "the results"})
    doc["links"] = links
    return doc


def output_results(job: JobRecord) -> list[OutputResult]:
    """The published outputs of a successful job, as recorded in the store."""
    if not job.outputs:
        return []
    try:
        return [OutputResult.from_dict(o) for o in json.loads(job.outputs)]
    except (ValueError, TypeError, KeyError):
        return []


def result_value(output: OutputResult, file_url: str | None = None) -> Any:
    """One output in results.yaml: a bare or qualified value, a bbox, or a link."""
    if output.kind == "literal":
        value = json_value(output.data_type or "string", output.value or "")
        return {"value": value, "uom": output.uom} if output.uom else value
    if output.kind == "bbox":
        box = {"bbox": [*output.lower_corner, *output.upper_corner]}
        uri = crs_uri(output.crs)
        if uri == CRS84:
            box["crs"] = CRS84
            return box
        # bbox.yaml of 1.0 names CRS84 only: any other CRS travels as a qualified value
        box["crs"] = uri
        return {"value": box, "mediaType": "application/json"}
    href = output.href or file_url
    if href:
        link = {"href": href, "rel": "enclosure", "title": output.title or output.identifier}
        if output.mime_type:
            link["type"] = output.mime_type
        return link
    mime = output.mime_type or "text/plain"
    value: Any = output.value or ""
    if output.encoding != "base64" and is_json_media(mime):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    result = {"value": value, "mediaType": mime}
    if output.encoding:
        result["encoding"] = output.encoding
    return result


def results_document(outputs: list[OutputResult], file_url) -> dict[str, Any]:
    """results.yaml: every output by its identifier; ``file_url(name)`` gives a published file's URL."""
    return {o.identifier: result_value(o, file_url(o.file) if o.file and not o.href else None) for o in outputs}


def raw_bytes(output: OutputResult) -> bytes:
    """The content of an output given by value, for a raw response."""
    if output.kind == "bbox":
        return json.dumps(result_value(output)).encode()
    if output.encoding == "base64" and output.value:
        return base64.b64decode(output.value)
    return (output.value or "").encode("utf-8")


def job_list(jobs: list[JobRecord], base: str, links: list[dict[str, Any]]) -> dict[str, Any]:
    return {"jobs": [status_info(job, base) for job in jobs], "links": links}
