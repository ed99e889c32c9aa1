"""The OpenAPI 3.0 document of this API, generated from the processes it offers (conformance class oas30).

Each process gets its own execution path whose request body names its inputs with their JSON Schemas
(from describe.py), so a generic OpenAPI client knows what to send.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pywps.ogcapi.describe import io_schema

if TYPE_CHECKING:
    from pywps.ogcapi.routes import Api

REF = "#/components/schemas/"


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF + ref}}}}


def _html_or_json(ref: str, description: str) -> dict[str, Any]:
    answer = _json(ref, description)
    answer["content"]["text/html"] = {"schema": {"type": "string"}}
    return answer


PROBLEM = {"description": "an exception document",
           "content": {"application/problem+json": {"schema": {"$ref": REF + "exception"}}}}

SCHEMAS: dict[str, Any] = {
    "link": {"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "hreflang": {"type": "string"}, "title": {"type": "string"}}},
    "exception": {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}}, "additionalProperties": True},
    "landingPage": {"type": "object", "required": ["links"], "properties": {
        "title": {"type": "string"}, "description": {"type": "string"},
        "links": {"type": "array", "items": {"$ref": REF + "link"}}}},
    "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
        "conformsTo": {"type": "array", "items": {"type": "string"}}}},
    "processSummary": {"type": "object", "required": ["id", "version"], "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "version": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}},
        "jobControlOptions": {"type": "array", "items": {
            "type": "string", "enum": ["sync-execute", "async-execute", "dismiss"]}},
        "outputTransmission": {"type": "array", "items": {"type": "string", "enum": ["value", "reference"]}},
        "links": {"type": "array", "items": {"$ref": REF + "link"}}}},
    "processList": {"type": "object", "required": ["processes", "links"], "properties": {
        "processes": {"type": "array", "items": {"$ref": REF + "processSummary"}},
        "links": {"type": "array", "items": {"$ref": REF + "link"}}}},
    "process": {"allOf": [{"$ref": REF + "processSummary"}, {"type": "object", "properties": {
        "inputs": {"type": "object", "additionalProperties": {"type": "object"}},
        "outputs": {"type": "object", "additionalProperties": {"type": "object"}}}}]},
    "statusInfo": {"type": "object", "required": ["jobID", "status", "type"], "properties": {
        "processID": {"type": "string"}, "type": {"type": "string", "enum": ["process"]},
        "jobID": {"type": "string"}, "status": {"type": "string", "enum": [
            "accepted", "running", "successful", "failed", "dismissed"]},
        "message": {"type": "string"}, "created": {"type": "string", "format": "date-time"},
        "started": {"type": "string", "format": "date-time"}, "finished": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "protocol": {"type": "string", "description": "the front-end the job came in by: wps1, wps2, ogcapi"},
        "links": {"type": "array", "items": {"$ref": REF + "link"}}}},
    "jobList": {"type": "object", "required": ["jobs", "links"], "properties": {
        "jobs": {"type": "array", "items": {"$ref": REF + "statusInfo"}},
        "links": {"type": "array", "items": {"$ref": REF + "link"}}}},
    "results": {"type": "object", "additionalProperties": {}},
    "output": {"type": "object", "properties": {
        "format": {"type": "object", "properties": {"mediaType": {"type": "string"}, "encoding": {"type": "string"},
                                                    "schema": {"type": "string"}}},
        "transmissionMode": {"type": "string", "enum": ["value", "reference"], "default": "value"}}},
    "subscriber": {"type": "object", "properties": {
        "successUri": {"type": "string", "format": "uri"}, "inProgressUri": {"type": "string", "format": "uri"},
        "failedUri": {"type": "string", "format": "uri"}}},
}


def _parameter(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False
               ) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


F = _parameter("f", "query", {"type": "string", "enum": ["json", "html"]}, "the answer's format")
LIMIT = _parameter("limit", "query", {"type": "integer", "minimum": 1}, "how many items a page holds")
OFFSET = _parameter("offset", "query", {"type": "integer", "minimum": 0}, "the first item of the page")
JOB_ID = _parameter("jobId", "path", {"type": "string"}, "the job's identifier", True)


def _oas(schema: Any) -> Any:
    """A process's JSON Schema as an OpenAPI 3.0 Schema Object (JSON Schema's content* keys become x-...)."""
    if isinstance(schema, dict):
        return {(f"x-{k}" if k.startswith("content") else k): _oas(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_oas(v) for v in schema]
    return schema


def _execute_body(process: Any) -> dict[str, Any]:
    """The request body of one process's execution: its inputs with their schemas, outputs, response."""
    inputs: dict[str, Any] = {}
    required = []
    for definition in process.inputs:
        value = {"oneOf": [_oas(io_schema(definition)), {"type": "object", "required": ["href"],
                                                                   "properties": {"href": {"type": "string"}}}]}
        inputs[definition.identifier] = value if definition.max_occurs <= 1 else {
            "oneOf": [value, {"type": "array", "items": value, "maxItems": definition.max_occurs}]}
        if definition.min_occurs > 0 and getattr(definition, "default", None) is None:
            required.append(definition.identifier)
    inputs_schema: dict[str, Any] = {"type": "object", "properties": inputs, "additionalProperties": False}
    if required:
        inputs_schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
        "inputs": inputs_schema,
        "outputs": {"type": "object", "properties": {o.identifier: {"$ref": REF + "output"} for o in process.outputs},
                    "additionalProperties": False},
        "response": {"type": "string", "enum": ["raw", "document"], "default": "raw"},
        "subscriber": {"$ref": REF + "subscriber"}}}}}}


def openapi_document(api: Api) -> dict[str, Any]:
    """The whole document; links and paths are relative to ``[ogcapi] url``."""
    meta = api.config.metadata
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "parameters": [F],
                      "responses": {"200": _html_or_json("landingPage", "links to the API's resources")}}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "parameters": [F], "responses": {"200": _html_or_json("confClasses",
                                                                                      "the conformance classes")}}},
        "/api": {"get": {"summary": "This API definition", "operationId": "getAPI", "parameters": [F],
                         "responses": {"200": {"description": "the OpenAPI 3.0 document", "content": {
                             "application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}},
                             "text/html": {"schema": {"type": "string"}}}}}}},
        "/processes": {"get": {"summary": "The processes offered", "operationId": "getProcesses",
                               "parameters": [LIMIT, OFFSET, F],
                               "responses": {"200": _html_or_json("processList", "process summaries")}}},
        "/jobs": {"get": {
            "summary": "Every job (for operators: [ogcapi] jobs_listing)", "operationId": "getJobs",
            "parameters": [
                _parameter("processID", "query", {"type": "array", "items": {"type": "string"}}, "process ids"),
                _parameter("status", "query", {"type": "array", "items": {"type": "string", "enum": [
                    "accepted", "running", "successful", "failed", "dismissed"]}}, "job states"),
                _parameter("type", "query", {"type": "array", "items": {"type": "string", "enum": ["process"]}},
                           "job types"),
                _parameter("datetime", "query", {"type": "string"}, "an instant or interval of creation"),
                _parameter("minDuration", "query", {"type": "integer", "minimum": 0}, "seconds"),
                _parameter("maxDuration", "query", {"type": "integer", "minimum": 0}, "seconds"),
                LIMIT, OFFSET, F],
            "responses": {"200": _html_or_json("jobList", "the jobs, newest first"),
                          "401": PROBLEM, "403": PROBLEM}}},
        "/jobs/{jobId}": {
            "get": {"summary": "The status of a job", "operationId": "getStatus", "parameters": [JOB_ID, F],
                    "responses": {"200": _html_or_json("statusInfo", "the job's status"), "404": PROBLEM}},
            "delete": {"summary": "Dismiss a job (its runner is stopped)", "operationId": "dismiss",
                       "parameters": [JOB_ID],
                       "responses": {"200": _json("statusInfo", "the job, dismissed"), "404": PROBLEM}}},
        "/jobs/{jobId}/results": {"get": {
            "summary": "The results of a job", "operationId": "getResult", "parameters": [JOB_ID, F],
            "responses": {"200": _json("results", "every output by its identifier"), "404": PROBLEM,
                          "410": PROBLEM}}},
    }
    for process in api.processes.values():
        path = f"/processes/{process.identifier}"
        paths[path] = {"get": {"summary": f"Describe {process.title or process.identifier}",
                               "operationId": f"describe.{process.identifier}", "parameters": [F],
                               "responses": {"200": _html_or_json("process", "the process description"),
                                             "404": PROBLEM}}}
        paths[path + "/execution"] = {"post": {
            "summary": f"Execute {process.title or process.identifier}",
            "operationId": f"execute.{process.identifier}",
            "parameters": [_parameter("Prefer", "header", {"type": "string"},
                                      "respond-async for an asynchronous job")],
            "requestBody": _execute_body(process),
            "responses": {
                "200": {"description": "the results (response=document) or the output itself (raw)",
                        "content": {"application/json": {"schema": {"$ref": REF + "results"}},
                                    "*/*": {"schema": {"type": "string", "format": "binary"}}}},
                "201": {"description": "a job was created (Prefer: respond-async)",
                        "headers": {"Location": {"schema": {"type": "string"}, "description": "the job's URL"}},
                        "content": {"application/json": {"schema": {"$ref": REF + "statusInfo"}}}},
                "204": {"description": "response=raw with every output by reference (Link headers)"},
                "400": PROBLEM, "404": PROBLEM, "413": PROBLEM, "415": PROBLEM, "503": PROBLEM},
            "callbacks": {"jobCompleted": {"{$request.body#/subscriber/successUri}": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": REF + "results"}}}},
                "responses": {"200": {"description": "received"}}}}}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": meta.get("identification_title", "PyWPS"),
                 "description": meta.get("identification_abstract", "") or "OGC API - Processes",
                 "version": "1.0.0",
                 "contact": {"name": meta.get("provider_name", ""), "url": meta.get("provider_url", "")
                             or "https://pywps.org/"}},
        "servers": [{"url": api.base.rstrip("/")}],
        "paths": paths,
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }
