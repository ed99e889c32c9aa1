"""OGC API - Processes - Part 1: Core 1.0 (JSON over REST) and HTML pages: a front-end over the dispatcher.

``install(app, config, dispatcher)`` mounts it at ``[ogcapi] url``; see docs/ogcapi.md.

=============  ===========================================================================================
``routes``     the Flask views: content negotiation, access to job lists, the one error boundary
``parse``      an execute document -> ``ExecuteRequest`` (inputs validated with jsonschema)
``describe``   processes -> JSON (inputs and outputs as JSON Schema)
``encode``     status info, results, job lists, landing page
``openapi``    the OpenAPI 3.0 document generated from the processes
``html``       the pages for people (Jinja2 templates in pywps/templates/)
``notify``     subscriber callbacks from a background thread
``jsonbody``   a JSON request body read as hostile input
=============  ===========================================================================================
"""

from __future__ import annotations

from pywps.ogcapi.routes import install

__all__ = ["install"]
