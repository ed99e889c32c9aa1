"""Processes served both by PyWPS 4.8.1 and by this server to compare their JSON answers.

Imports only the PyWPS 4 API (``from pywps import ...``), so the same file runs under either package.
"""

from pywps import (
    FORMATS,
    BoundingBoxInput,
    BoundingBoxOutput,
    ComplexInput,
    ComplexOutput,
    Format,
    LiteralInput,
    LiteralOutput,
    Process,
)
from pywps.app.Common import Metadata
from pywps.app.exceptions import ProcessError


class Greeting(Process):
    """Literal inputs of several kinds in, a sentence and a number out."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="greeting", title="Compose a greeting",
            abstract="Puts a name into a sentence and counts how many times it was repeated.",
            keywords=["text", "demo"], version="2.1",
            metadata=[Metadata("Project page", "https://example.org/greeting")],
            inputs=[
                LiteralInput("who", "Who to greet", data_type="string"),
                LiteralInput("times", "Repetitions", data_type="integer", allowed_values=[1, 2, 3], default=1,
                             min_occurs=0),
                LiteralInput("length", "A length", data_type="float", uoms=["metre"], min_occurs=0),
            ],
            outputs=[
                LiteralOutput("sentence", "The sentence", data_type="string"),
                LiteralOutput("count", "The repetitions", data_type="integer"),
                LiteralOutput("ratio", "A fraction", data_type="float"),
            ],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        times = request.inputs["times"][0].data if "times" in request.inputs else 1
        response.outputs["sentence"].data = " ".join(["Welcome, " + request.inputs["who"][0].data] * times)
        response.outputs["count"].data = times
        response.outputs["ratio"].data = times / 4
        response.update_status("composed", 90)
        return response


class Mirror(Process):
    """A document in, the same document out, by value and by reference."""

    def __init__(self):
        formats = [FORMATS.JSON, FORMATS.TEXT, Format("application/xml")]
        super().__init__(
            self._handler, identifier="mirror", title="Mirror a document",
            abstract="Hands back the document it was given.",
            inputs=[ComplexInput("doc", "A document", supported_formats=formats)],
            outputs=[ComplexOutput("copy", "The same document", supported_formats=formats),
                     ComplexOutput("note", "A note kept on the server", supported_formats=[FORMATS.TEXT],
                                   as_reference=True)],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        response.outputs["copy"].data = request.inputs["doc"][0].data
        response.outputs["note"].data = "mirrored"
        return response


class Extent(Process):
    """A bounding box in, the same box out."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="extent", title="Repeat an extent",
            inputs=[BoundingBoxInput("area", "An area", crss=["EPSG:4326"])],
            outputs=[BoundingBoxOutput("area", "The same area", crss=["EPSG:4326"])],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        response.outputs["area"].data = request.inputs["area"][0].data
        return response


class Broken(Process):
    """Fails every time, saying why."""

    def __init__(self):
        super().__init__(
            self._handler, identifier="broken", title="Fail on purpose",
            inputs=[], outputs=[LiteralOutput("nothing", "Never set", data_type="string")])

    @staticmethod
    def _handler(request, response):
        raise ProcessError("the broken process gave up")


def processes():
    return [Greeting(), Mirror(), Extent(), Broken()]
