"""Small PyWPS 4 processes written against the PyWPS 4 process API only, so the very same module runs in
PyWPS 4.8.1 (inside a container, docker_transport = wps) and in this server's worker (docker_transport =
worker): literal, complex (text, XML, binary; by value and by reference), bounding box, progress, failure.
"""

from __future__ import annotations

import time

from pywps import (
    BoundingBoxInput,
    BoundingBoxOutput,
    ComplexInput,
    ComplexOutput,
    Format,
    LiteralInput,
    LiteralOutput,
    Process,
)
from pywps.app.exceptions import ProcessError

TEXT = Format("text/plain")
XML = Format("application/xml")
BINARY = Format("application/octet-stream")


class Echo(Process):
    """Greets ``name`` ``times`` times, reporting progress on the way (``pause`` seconds per step)."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="demo_echo", title="Echo with progress", version="1.0",
            inputs=[LiteralInput("name", "Name", data_type="string"),
                    LiteralInput("times", "Repetitions", data_type="integer", min_occurs=0, default=1),
                    LiteralInput("pause", "Seconds per step", data_type="float", min_occurs=0, default=0)],
            outputs=[LiteralOutput("greeting", "Greeting", data_type="string"),
                     LiteralOutput("length", "Length of the greeting", data_type="integer"),
                     LiteralOutput("ratio", "A float", data_type="float")],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        name = request.inputs["name"][0].data
        times = int(request.inputs["times"][0].data) if "times" in request.inputs else 1
        pause = float(request.inputs["pause"][0].data) if "pause" in request.inputs else 0.0
        parts = []
        for step in range(times):
            parts.append(f"Hello {name}")
            response.update_status(f"step {step + 1} of {times}", int(100 * (step + 1) / (times + 1)))
            time.sleep(pause)
        greeting = ", ".join(parts)
        response.outputs["greeting"].data = greeting
        response.outputs["length"].data = len(greeting)
        response.outputs["ratio"].data = len(greeting) / 4
        return response


class Text(Process):
    """Upper-cases a text input (inline or by reference) and wraps it in a small XML document."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="demo_text", title="Text and XML", version="1.0",
            inputs=[ComplexInput("text", "Some text", supported_formats=[TEXT])],
            outputs=[ComplexOutput("upper", "Upper-cased text", supported_formats=[TEXT]),
                     ComplexOutput("document", "An XML document", supported_formats=[XML]),
                     ComplexOutput("report", "A text file, by reference", supported_formats=[TEXT],
                                   as_reference=True)],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        text = request.inputs["text"][0].data
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        response.outputs["upper"].data = text.upper()
        escaped = text.replace("&", "&amp;").replace("<", "&lt;")
        response.outputs["document"].data = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<demo xmlns="urn:demo"><text length="{len(text)}">'
            f"{escaped}</text></demo>\n")
        response.outputs["report"].data = f"lines: {len(text.splitlines())}\nchars: {len(text)}\n"
        return response


class Binary(Process):
    """Returns ``size`` bytes of every value 0..255 (binary output, by value as base64 or by reference)."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="demo_binary", title="Binary output", version="1.0",
            inputs=[LiteralInput("size", "Bytes", data_type="integer", min_occurs=0, default=300)],
            outputs=[ComplexOutput("blob", "Bytes", supported_formats=[BINARY])],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        size = int(request.inputs["size"][0].data) if "size" in request.inputs else 300
        response.outputs["blob"].data = bytes(i % 256 for i in range(size))
        return response


class Box(Process):
    """Moves a bounding box by (1, 2)."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="demo_bbox", title="Bounding box", version="1.0",
            inputs=[BoundingBoxInput("area", "Area", crss=["EPSG:3857"])],
            outputs=[BoundingBoxOutput("moved", "Moved area", crss=["EPSG:3857"])],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        minx, miny, maxx, maxy = (float(c) for c in request.inputs["area"][0].data)
        response.outputs["moved"].data = [minx + 1, miny + 2, maxx + 1, maxy + 2]
        return response


class Fail(Process):
    """Fails with a ProcessError naming its input."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="demo_fail", title="Failure", version="1.0",
            inputs=[LiteralInput("why", "Why", data_type="string")],
            outputs=[LiteralOutput("never", "Never set", data_type="string")],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        raise ProcessError(f"demo failure: {request.inputs['why'][0].data}")


def processes():
    """A fresh instance of every demo process."""
    return [Echo(), Text(), Binary(), Box(), Fail()]
