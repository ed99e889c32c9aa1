"""Example processes: what ``pywps serve`` offers by default and what the tests run.

Deliberately written with ``from pywps import ...`` only, as a third-party PyWPS 4 module would be.
"""

from __future__ import annotations

import json
import time

from pywps import (
    FORMATS,
    BoundingBoxInput,
    BoundingBoxOutput,
    ComplexInput,
    ComplexOutput,
    Format,
    LiteralInput,
    LiteralOutput,
    Metadata,
    Process,
)
from pywps.app.exceptions import ProcessError
from pywps.inout.literaltypes import AllowedValue
from pywps.validator.allowed_value import ALLOWEDVALUETYPE
from pywps.validator.mode import MODE


class SayHello(Process):
    """Greets whoever is named."""

    def __init__(self) -> None:
        super().__init__(
            self._handler,
            identifier="say_hello",
            title="Greet someone",
            abstract="Answers with a greeting for the name it is given",
            version="1.3.3.7",
            inputs=[LiteralInput("name", "Input name", data_type="string")],
            outputs=[LiteralOutput("output", "Output response", data_type="string")],
            metadata=[Metadata("PyWPS", "https://pywps.org/")],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.outputs["output"].data = "Hello " + request.inputs["name"][0].data
        return response


class Add(Process):
    """Adds two numbers restricted to allowed values and a range."""

    def __init__(self) -> None:
        super().__init__(
            self._handler,
            identifier="add",
            title="Add two numbers",
            abstract="a + b, with a from a list of allowed values and b within [0, 1000]",
            inputs=[
                LiteralInput("a", "First number", data_type="float",
                             allowed_values=[1, 2, 3, 5, 8, 13, 21]),
                LiteralInput("b", "Second number", data_type="float",
                             allowed_values=[AllowedValue(allowed_type=ALLOWEDVALUETYPE.RANGE,
                                                          minval=0, maxval=1000)], default=0, min_occurs=0),
            ],
            outputs=[LiteralOutput("sum", "The sum", data_type="float")],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        b = request.inputs["b"][0].data if "b" in request.inputs else 0
        response.outputs["sum"].data = float(request.inputs["a"][0].data) + float(b)
        return response


class Sleep(Process):
    """Sleeps, reporting its progress."""

    def __init__(self) -> None:
        super().__init__(
            self._handler,
            identifier="sleep",
            title="Sleep",
            abstract="Waits for the given number of seconds, updating its status ten times",
            inputs=[LiteralInput("delay", "Delay in seconds", data_type="float", default=1, min_occurs=0,
                                 allowed_values=[AllowedValue(allowed_type=ALLOWEDVALUETYPE.RANGE,
                                                              minval=0, maxval=3600)])],
            outputs=[LiteralOutput("sleep_output", "Sleep output", data_type="string")],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        delay = float(request.inputs["delay"][0].data) if "delay" in request.inputs else 1.0
        for step in range(1, 11):
            time.sleep(delay / 10)
            response.update_status(f"slept {step * 10}%", step * 10)
        response.outputs["sleep_output"].data = "done sleeping"
        return response


class ComplexEcho(Process):
    """Returns its complex input (XML, JSON or text) unchanged, in the same format."""

    FORMATS_SUPPORTED = [FORMATS.GML, Format("text/xml"), FORMATS.JSON, FORMATS.GEOJSON, FORMATS.TEXT]

    def __init__(self) -> None:
        super().__init__(
            self._handler,
            identifier="echo_complex",
            title="Echo complex data",
            abstract="Echoes XML, JSON or text input, by value or by reference",
            inputs=[ComplexInput("input", "Complex input", supported_formats=self.FORMATS_SUPPORTED,
                                 mode=MODE.NONE)],
            outputs=[ComplexOutput("output", "Complex output", supported_formats=self.FORMATS_SUPPORTED)],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        source = request.inputs["input"][0]
        response.outputs["output"].data_format = source.data_format
        response.outputs["output"].data = source.data
        return response


class BinaryEcho(Process):
    """Returns binary input (sent base64-encoded) unchanged."""

    def __init__(self) -> None:
        binary = [Format("application/octet-stream", encoding="base64"), Format("image/png", encoding="base64")]
        super().__init__(
            self._handler,
            identifier="echo_binary",
            title="Echo binary data",
            abstract="Echoes base64-encoded binary input; the output is base64-encoded by value",
            inputs=[ComplexInput("input", "Binary input", supported_formats=binary, mode=MODE.NONE)],
            outputs=[ComplexOutput("output", "Binary output", supported_formats=binary)],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        source = request.inputs["input"][0]
        response.outputs["output"].data = source.data if isinstance(source.data, bytes) else source.stream.read()
        return response


class BoundingBoxEcho(Process):
    """Returns its bounding box input."""

    def __init__(self) -> None:
        crss = ["EPSG:4326", "EPSG:3035"]
        super().__init__(
            self._handler,
            identifier="echo_bbox",
            title="Echo a bounding box",
            inputs=[BoundingBoxInput("bbox", "Bounding box", crss=crss, dimensions=2)],
            outputs=[BoundingBoxOutput("bbox", "Bounding box", crss=crss, dimensions=2)],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.outputs["bbox"].data = request.inputs["bbox"][0].data
        return response


class MultipleOutputs(Process):
    """Produces several outputs of different kinds from one input."""

    def __init__(self) -> None:
        super().__init__(
            self._handler,
            identifier="multiple_outputs",
            title="Multiple outputs",
            abstract="A text, a number and a JSON document describing the input",
            inputs=[LiteralInput("text", "Some text", data_type="string")],
            outputs=[
                LiteralOutput("upper", "The text in capitals", data_type="string"),
                LiteralOutput("length", "Its length", data_type="integer"),
                ComplexOutput("summary", "A JSON summary", supported_formats=[FORMATS.JSON], as_reference=False),
            ],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        text = request.inputs["text"][0].data
        response.outputs["upper"].data = text.upper()
        response.outputs["length"].data = len(text)
        response.outputs["summary"].data = json.dumps({"text": text, "words": len(text.split())})
        return response


class Fail(Process):
    """Always fails, with a message for the client."""

    def __init__(self) -> None:
        super().__init__(
            self._handler,
            identifier="fail",
            title="Always fail",
            abstract="Raises ProcessError; the job ends as ProcessFailed with its message",
            inputs=[LiteralInput("message", "Failure message", data_type="string", min_occurs=0,
                                 default="this process always fails")],
            outputs=[LiteralOutput("never", "Never produced", data_type="string")],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        message = request.inputs["message"][0].data if "message" in request.inputs else "this process always fails"
        raise ProcessError(message)
