"""Literal types, formats, allowed values and the data/file/stream/url views of inputs and outputs."""

from __future__ import annotations

import base64
import datetime
import io
from pathlib import Path

import pytest

from pywps.app.Common import Metadata
from pywps.exceptions import InvalidParameterValue
from pywps.inout import UOM
from pywps.inout.basic import SOURCE_TYPE, get_translation
from pywps.inout.formats import FORMATS, Format, get_format
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput, input_from_json
from pywps.inout.literaltypes import (
    LITERAL_DATA_TYPES,
    AllowedValue,
    AnyValue,
    NoValue,
    ValuesReference,
    convert,
    is_anyvalue,
    make_allowedvalues,
    to_text,
)
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput, output_from_json
from pywps.validator.allowed_value import ALLOWEDVALUETYPE, RANGECLOSURETYPE
from pywps.validator.literalvalidator import validate_allowed_values
from pywps.validator.mode import MODE


# -- literal types ----------------------------------------------------------------------------------------
def test_all_pywps4_data_types_registered():
    for name in ("string", "integer", "float", "boolean", "date", "time", "dateTime", "anyURI", "scale",
                 "angle", "nonNegativeInteger", "positiveInteger"):
        assert name in LITERAL_DATA_TYPES


@pytest.mark.parametrize(("data_type", "text", "expected"), [
    ("integer", "42", 42),
    ("integer", "3.0", 3),
    ("float", "1.5", 1.5),
    ("float", "-INF", float("-inf")),
    ("boolean", "true", True),
    ("boolean", "FALSE", False),
    ("boolean", "0", False),
    ("boolean", "1", True),
    ("string", 5, "5"),
    ("angle", "370", 10.0),
    ("scale", "0.5", 0.5),
    ("nonNegativeInteger", "0", 0),
    ("positiveInteger", "7", 7),
    ("date", "2016-09-20", datetime.date(2016, 9, 20)),
    ("time", "12:30:00", datetime.time(12, 30)),
    ("dateTime", "2016-09-20T12:00:00Z",
     datetime.datetime(2016, 9, 20, 12, tzinfo=datetime.UTC)),
])
def test_convert(data_type, text, expected):
    assert convert(data_type, text) == expected


@pytest.mark.parametrize(("data_type", "text"), [
    ("integer", "abc"), ("integer", "3.5"), ("float", "x"), ("boolean", "maybe"),
    ("positiveInteger", "0"), ("nonNegativeInteger", "-1"), ("date", "20th of May"),
    ("anyURI", "not a uri"), ("dateTime", "yesterday"),
])
def test_convert_rejects(data_type, text):
    with pytest.raises(InvalidParameterValue):
        convert(data_type, text)


def test_convert_unknown_type():
    with pytest.raises(InvalidParameterValue):
        convert("complexNumber", "1")


def test_anyuri_returns_components_like_pywps4():
    parsed = convert("anyURI", "https://example.org/a?b=1")
    assert parsed.netloc == "example.org"
    assert to_text(parsed) == "https://example.org/a?b=1"


def test_to_text():
    assert to_text(True) == "true"
    assert to_text(datetime.date(2020, 1, 2)) == "2020-01-02"
    assert to_text(float("nan")) == "NaN"
    assert to_text(3) == "3"


def test_make_allowedvalues():
    values = make_allowedvalues([1, (0, 10), (0, 2, 10), AnyValue, ValuesReference("http://x")])
    assert values[0].allowed_type == ALLOWEDVALUETYPE.VALUE and values[0].value == 1
    assert values[1].allowed_type == ALLOWEDVALUETYPE.RANGE and values[1].maxval == 10
    assert values[2].spacing == 2
    assert isinstance(values[3], AnyValue)
    assert isinstance(values[4], ValuesReference)
    assert AllowedValue(minval=0, maxval=0).allowed_type == ALLOWEDVALUETYPE.RANGE
    assert is_anyvalue(None) and is_anyvalue(AnyValue) and is_anyvalue("anyvalue")
    assert not is_anyvalue(NoValue())
    with pytest.raises(InvalidParameterValue):
        ValuesReference()


def test_allowed_value_json_roundtrip():
    value = AllowedValue(minval=1, maxval=5, spacing=2, range_closure=RANGECLOSURETYPE.OPEN)
    assert AllowedValue.from_json(value.json) == value


@pytest.mark.parametrize(("allowed", "value", "ok"), [
    ([1, 2, 3], "2", True),
    ([1, 2, 3], "4", False),
    ([(0, 10)], "10", True),
    ([(0, 10)], "10.5", False),
    ([AllowedValue(minval=0, maxval=10, range_closure="open")], "10", False),
    ([AllowedValue(minval=0, maxval=10, range_closure="closed-open")], "0", True),
    ([AllowedValue(minval=0, maxval=10, range_closure="open-closed")], "0", False),
    ([(0, 2.5, 10)], "5", True),
    ([(0, 2.5, 10)], "6", False),
    ([(0, 10), 20], "20", True),
])
def test_allowed_values_validation(allowed, value, ok):
    inpt = LiteralInput("x", "X", data_type="float", allowed_values=allowed)
    inpt.data = value
    assert validate_allowed_values(inpt, MODE.SIMPLE) is ok


def test_allowed_string_values():
    inpt = LiteralInput("x", "X", data_type="string", allowed_values=["a", "b"])
    inpt.data = "b"
    assert validate_allowed_values(inpt, MODE.SIMPLE)
    inpt.data = "c"
    assert not validate_allowed_values(inpt, MODE.SIMPLE)
    assert validate_allowed_values(inpt, MODE.NONE)


# -- formats ----------------------------------------------------------------------------------------------
def test_format_equality_and_shortcuts():
    assert Format("application/gml+xml") == FORMATS.GML
    assert Format("GML").mime_type == "application/gml+xml"
    assert Format("application/json") != Format("application/json", encoding="base64")
    assert FORMATS.GEOTIFF.encoding == "base64"
    assert FORMATS.NETCDF.extension == ".nc"
    assert len(FORMATS._fields) >= 31
    for name in ("GEOJSON", "JSON", "SHP", "GML", "GPX", "METALINK", "META4", "KML", "KMZ", "GEOTIFF", "WCS",
                 "WCS100", "WCS110", "WCS20", "WFS", "WFS100", "WFS110", "WFS20", "WMS", "WMS130", "WMS110",
                 "WMS100", "TEXT", "DODS", "NETCDF", "LAZ", "LAS", "ZIP", "XML", "CSV"):
        assert isinstance(getattr(FORMATS, name), Format)


def test_get_format_returns_a_copy():
    def validator(data_input, mode):
        return True

    frmt = get_format("JSON", validator)
    assert frmt == FORMATS.JSON and frmt.validate is validator
    assert FORMATS.JSON.validate is None
    assert get_format("NOPE").mime_type == "None"


def test_format_json_roundtrip():
    frmt = Format("text/csv", schema="http://s", encoding="utf-8", extension=".csv")
    assert Format.from_json(frmt.json) == frmt


def test_inputs_do_not_share_format_objects():
    inpt = ComplexInput("a", "A", [FORMATS.GML])
    inpt.data_format.validate = None
    inpt.supported_formats[0].schema = "changed"
    assert FORMATS.GML.schema == ""


# -- literal inputs/outputs -------------------------------------------------------------------------------
def test_literal_input_defaults_and_conversion():
    inpt = LiteralInput("n", "N", data_type="integer", default="5", uoms=["metre", UOM("feet")])
    assert inpt.data == 5
    assert inpt.uom == UOM("metre") and inpt.uom.reference.endswith("metre")
    assert inpt.default_type == SOURCE_TYPE.DATA
    inpt.data = "7"
    assert inpt.data == 7 and inpt.prop == "data"
    with pytest.raises(InvalidParameterValue):
        inpt.data = "seven"


def test_literal_json_roundtrip():
    inpt = LiteralInput("n", "N", data_type="float", allowed_values=[1, (2, 3)], uoms=["metre"],
                        metadata=[Metadata("m", "http://m")], translations={"FR": {"title": "Enne"}})
    inpt.data = 2.5
    again = input_from_json(inpt.json)
    assert again.data == 2.5 and again.allowed_values == inpt.allowed_values
    assert again.metadata == inpt.metadata and again.translations == {"fr": {"title": "Enne"}}
    out = LiteralOutput("o", "O", data_type="boolean")
    out.data = "true"
    assert output_from_json(out.json).data is True


def test_literal_output_converts():
    out = LiteralOutput("o", "O", data_type="integer")
    out.data = "12"
    assert out.data == 12
    assert out.file and Path(out.file).read_text() == "12"


def test_translation_lookup():
    inpt = LiteralInput("n", "Name", translations={"fr-CA": {"title": "Nom"}, "de": {"abstract": "A"}})
    assert get_translation(inpt, "title", "fr-ca") == "Nom"
    assert get_translation(inpt, "title", "de-AT") == "Name"
    assert get_translation(inpt, "abstract", "de-AT") == "A"
    assert get_translation(inpt, "title", None) == "Name"


# -- complex data views -----------------------------------------------------------------------------------
def test_complex_data_to_file_stream_base64(tmp_path):
    inpt = ComplexInput("doc", "Doc", [FORMATS.JSON], workdir=str(tmp_path))
    inpt.data = '{"a": 1}'
    path = Path(inpt.file)
    assert path.parent == tmp_path and path.suffix == ".json"
    assert path.read_text() == '{"a": 1}'
    with inpt.stream as fh:
        assert fh.read() == '{"a": 1}'
    assert base64.b64decode(inpt.base64) == b'{"a": 1}'
    assert inpt.url == path.as_uri()
    assert inpt.size == 8


def test_complex_file_source(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("hello")
    inpt = ComplexInput("doc", "Doc", [FORMATS.TEXT], workdir=str(tmp_path / "work"))
    inpt.file = source
    assert inpt.prop == "file" and inpt.data == "hello"
    assert inpt.file == str(source)


def test_complex_binary_is_bytes(tmp_path):
    payload = bytes(range(256))
    source = tmp_path / "in.bin"
    source.write_bytes(payload)
    inpt = ComplexInput("tif", "T", [FORMATS.GEOTIFF], workdir=str(tmp_path))
    inpt.file = source
    assert inpt.data == payload
    with inpt.stream as fh:
        assert fh.read() == payload


def test_complex_stream_source(tmp_path):
    out = ComplexOutput("o", "O", [FORMATS.TEXT], workdir=str(tmp_path))
    out.stream = io.BytesIO(b"streamed")
    assert out.data == "streamed"
    assert out.data == "streamed"  # read twice: the stream was copied to a file once
    assert Path(out.file).parent == tmp_path


def test_complex_url_source_and_fetched(tmp_path):
    inpt = ComplexInput("r", "R", [FORMATS.TEXT], workdir=str(tmp_path))
    inpt.url = "https://example.org/data.txt"
    assert inpt.url == "https://example.org/data.txt" and inpt.prop == "url"
    fetched = tmp_path / "fetched"
    fetched.write_text("remote")
    inpt.set_fetched(fetched, "https://example.org/data.txt")
    assert inpt.data == "remote" and inpt.url == "https://example.org/data.txt" and inpt.as_reference


def test_complex_requires_formats():
    with pytest.raises(InvalidParameterValue):
        ComplexInput("x", "X", [])


def test_find_format():
    inpt = ComplexInput("x", "X", [FORMATS.GML, FORMATS.WCS110, Format("image/png", encoding="base64")])
    assert inpt.find_format("application/gml+xml") == FORMATS.GML
    assert inpt.find_format("application/x-ogc-wcs;version=1.1.0") == FORMATS.WCS110
    assert inpt.find_format("image/png", "base64").mime_type == "image/png"
    assert inpt.find_format("text/plain") is None
    assert inpt.find_format("application/gml+xml; subtype=gml/3.1.1") == FORMATS.GML
    assert inpt.find_format("application/x-ogc-wcs; version=2.0") is None
    assert inpt.find_format(None) == FORMATS.GML


def test_clone_is_independent(tmp_path):
    inpt = ComplexInput("x", "X", [FORMATS.TEXT], workdir=str(tmp_path))
    other = inpt.clone()
    other.data = "b"
    assert inpt.data is None and other.data == "b"


# -- bounding boxes ---------------------------------------------------------------------------------------
def test_bbox_values():
    inpt = BoundingBoxInput("bb", "BB", crss=["EPSG:4326", "EPSG:3857"])
    assert inpt.crs == "EPSG:4326"
    inpt.data = "1,2,3,4"
    assert inpt.data == [1.0, 2.0, 3.0, 4.0] and inpt.ll == [1.0, 2.0] and inpt.ur == [3.0, 4.0]
    inpt.data = [[0, 0, 0], [1, 1, 1]]
    assert inpt.ll == [0, 0, 0]
    with pytest.raises(InvalidParameterValue):
        inpt.data = [1, 2, 3]
    out = BoundingBoxOutput("bb", "BB", crss=["EPSG:4326"])
    out.data = (0, 1, 2, 3)
    assert output_from_json(out.json).data == [0, 1, 2, 3]
