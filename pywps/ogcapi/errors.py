"""OGC API - Processes exceptions: RFC 7807 problem documents with the OGC exception type URIs.

``ApiError`` carries the HTTP status, the type URI, a title and a detail; an OWS exception raised by the
shared middle (validation, admission, fetching) becomes one with the same status through ``from_ows``.
"""

from __future__ import annotations

import json

from pywps.exceptions import NoApplicableCode

OGC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
# Exception types this server adds where OGC API - Processes 1.0 defines none (named after the OWS codes)
OWN = "https://pywps.org/def/exceptions/ogcapi/"

NO_SUCH_PROCESS = OGC + "no-such-process"
NO_SUCH_JOB = OGC + "no-such-job"
RESULT_NOT_READY = OGC + "result-not-ready"


class ApiError(Exception):
    """An error answered as a JSON exception document (``application/problem+json``)."""

    def __init__(self, status: int, type_: str, title: str, detail: str = "", headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.headers = headers or {}

    def document(self, instance: str | None = None) -> dict:
        """The exception document (exception.yaml)."""
        doc = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        return doc

    def body(self, instance: str | None = None) -> bytes:
        return json.dumps(self.document(instance), indent=2).encode()


def bad_request(detail: str, kind: str = "InvalidParameterValue") -> ApiError:
    """A 400 for a request the client must change."""
    return ApiError(400, OWN + kind, "Bad request", detail)


def not_found(detail: str) -> ApiError:
    return ApiError(404, OWN + "NotFound", "Not found", detail)


def no_such_process(identifier: str) -> ApiError:
    return ApiError(404, NO_SUCH_PROCESS, "No such process", f"there is no process {identifier!r}")


def no_such_job(job_id: str) -> ApiError:
    return ApiError(404, NO_SUCH_JOB, "No such job", f"there is no job {job_id!r}")


def from_ows(exc: NoApplicableCode) -> ApiError:
    """The same failure as an API error: its HTTP status, its OWS code as the type, its text as detail."""
    status = exc.code if 400 <= exc.code < 600 else 500
    titles = {400: "Bad request", 413: "Payload too large", 501: "Not implemented", 503: "Service unavailable"}
    detail = exc.description + (f" (at {exc.locator})" if exc.locator and exc.locator not in exc.description
                                else "")
    headers = {}
    if status == 503:
        from pywps.dispatcher.outage import RETRY_AFTER

        headers["Retry-After"] = str(RETRY_AFTER)
    return ApiError(status, OWN + exc.name, titles.get(status, "Process failed" if status == 500 else exc.name),
                    detail, headers)
