"""Process definitions: PyWPS 4 constructor, import paths, json, helpers."""

from __future__ import annotations

import json

import pytest

from pywps.app.Common import Metadata
from pywps.exceptions import InvalidParameterValue
from pywps.inout.formats import FORMATS
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput
from pywps.process import Process
from pywps.processes import example_processes


def handler(request, response):
    return response


def make() -> Process:
    return Process(
        handler, "p", "Title", abstract="Abstract", keywords=["k"], profile="urn:p",
        metadata=[Metadata("m", "http://m")], version="1.0", store_supported="true", status_supported=False,
        inputs=[LiteralInput("a", "A", data_type="float", allowed_values=[(0, 1)], default=0.5),
                ComplexInput("c", "C", [FORMATS.GML]), BoundingBoxInput("b", "B", crss=["EPSG:4326"])],
        outputs=[LiteralOutput("o", "O"), ComplexOutput("x", "X", [FORMATS.JSON]),
                 BoundingBoxOutput("bb", "BB", ["EPSG:4326"])],
        translations={"DE": {"title": "Titel"}},
    )


def test_constructor_pywps4():
    process = make()
    assert process.handler is handler
    assert process.store_supported == "true" and process.status_supported == "false"  # PyWPS 4 strings
    assert process.store_supported and not process.status_supported
    assert process.profile == ["urn:p"]
    assert process.translations == {"de": {"title": "Titel"}}
    assert process.get_input("c").identifier == "c" and process.get_output("zz") is None


def test_import_paths():
    from pywps.app.Process import Process as AppProcess
    from pywps.inout import UOM, Format  # noqa: F401
    from pywps.response.status import WPS_STATUS
    from pywps.validator.allowed_value import ALLOWEDVALUETYPE
    from pywps.validator.mode import MODE

    assert AppProcess is Process
    assert (MODE.NONE, MODE.SIMPLE, MODE.STRICT, MODE.VERYSTRICT) == (0, 1, 2, 3)
    assert WPS_STATUS.SUCCEEDED == 4 and WPS_STATUS.FAILED == 5
    assert ALLOWEDVALUETYPE.RANGE == "range"


def test_json_roundtrip():
    process = make()
    data = process.json
    json.dumps(data)
    assert data["identifier"] == "p" and [i["type"] for i in data["inputs"]] == ["literal", "complex", "bbox"]
    again = Process.from_json(data)
    assert again.json["inputs"] == data["inputs"] and again.json["outputs"] == data["outputs"]
    with pytest.raises(NotImplementedError):
        again.handler(None, None)


def test_duplicate_identifiers_refused():
    with pytest.raises(InvalidParameterValue):
        Process(handler, "d", "D", inputs=[LiteralInput("a", "A"), LiteralInput("a", "B")])


def test_subclass_style():
    class Hello(Process):
        def __init__(self):
            super().__init__(self._handler, identifier="hello", title="Hello",
                             inputs=[LiteralInput("name", "Name", data_type="string")],
                             outputs=[LiteralOutput("out", "Out", data_type="string")])

        def _handler(self, request, response):
            response.outputs["out"].data = "hi " + request.inputs["name"][0].data
            return response

    assert Hello().identifier == "hello"


def test_examples_have_json():
    for process in example_processes():
        json.dumps(process.json)
