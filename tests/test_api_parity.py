"""The public process-author API keeps the signatures and behaviour of PyWPS 4.8.1.

Third-party process modules written for PyWPS 4 pass arguments positionally, read attributes and rely on
value conversion; they must run unchanged.  The expected data below was written down by reading PyWPS 4.8.1
(its sources are not imported here).  Where we deliberately differ, a comment says why.
"""

from __future__ import annotations

import importlib
import inspect
import math

import pytest

from pywps.exceptions import InvalidParameterValue

REQUIRED = object()
"""Marks a parameter without a default."""

EMPTY_LIST = object()
"""PyWPS 4.8.1 wrote a mutable ``[]`` default; we write None, which builds the same empty list."""

# -- signatures: (module, name) -> [(parameter, default)] in PyWPS 4.8.1 positional order -----------------
SIGNATURES: dict[tuple[str, str], list[tuple[str, object]]] = {
    ("pywps", "Process"): [
        ("handler", REQUIRED), ("identifier", REQUIRED), ("title", REQUIRED), ("abstract", ""),
        ("keywords", None), ("profile", None), ("metadata", None), ("inputs", None), ("outputs", None),
        ("version", "None"), ("store_supported", False), ("status_supported", False), ("grass_location", None),
        ("translations", None),
    ],
    ("pywps", "LiteralInput"): [
        # data_type None means 'string' (see test_literal_input_defaults)
        ("identifier", REQUIRED), ("title", None), ("data_type", None), ("workdir", None), ("abstract", ""),
        ("keywords", EMPTY_LIST), ("metadata", EMPTY_LIST), ("uoms", None), ("min_occurs", 1), ("max_occurs", 1),
        ("mode", 1), ("allowed_values", None), ("default", None), ("default_type", 3), ("translations", None),
    ],
    ("pywps", "LiteralOutput"): [
        ("identifier", REQUIRED), ("title", REQUIRED), ("data_type", "string"), ("abstract", ""),
        ("keywords", EMPTY_LIST), ("metadata", EMPTY_LIST), ("uoms", None), ("mode", 1), ("translations", None),
    ],
    ("pywps", "ComplexInput"): [
        ("identifier", REQUIRED), ("title", REQUIRED), ("supported_formats", REQUIRED), ("data_format", None),
        ("abstract", ""), ("keywords", EMPTY_LIST), ("workdir", None), ("metadata", EMPTY_LIST),
        ("min_occurs", 1), ("max_occurs", 1), ("mode", 0), ("default", None), ("default_type", 3),
        ("translations", None),
    ],
    ("pywps", "ComplexOutput"): [
        ("identifier", REQUIRED), ("title", REQUIRED), ("supported_formats", None), ("data_format", None),
        ("abstract", ""), ("keywords", EMPTY_LIST), ("workdir", None), ("metadata", None),
        ("as_reference", False), ("mode", 0), ("translations", None),
    ],
    ("pywps", "BoundingBoxInput"): [
        ("identifier", REQUIRED), ("title", REQUIRED), ("crss", None), ("abstract", ""),
        ("keywords", EMPTY_LIST), ("dimensions", 2), ("workdir", None), ("metadata", EMPTY_LIST),
        ("min_occurs", 1), ("max_occurs", 1), ("mode", 0), ("default", None), ("default_type", 3),
        ("translations", None),
    ],
    ("pywps", "BoundingBoxOutput"): [
        # 4.8.1 wrote min_occurs='1' and max_occurs='1' (strings); we default to the int they mean
        ("identifier", REQUIRED), ("title", REQUIRED), ("crss", REQUIRED), ("abstract", ""),
        ("keywords", EMPTY_LIST), ("dimensions", 2), ("metadata", EMPTY_LIST), ("min_occurs", 1),
        ("max_occurs", 1), ("as_reference", False), ("mode", 0), ("translations", None),
    ],
    ("pywps", "Format"): [
        ("mime_type", REQUIRED), ("schema", None), ("encoding", None), ("validate", None), ("extension", None),
    ],
    ("pywps", "get_format"): [("frmt", REQUIRED), ("validator", None)],
    ("pywps", "UOM"): [("uom", ""), ("reference", None)],
    ("pywps.inout", "UOM"): [("uom", ""), ("reference", None)],
    ("pywps.app.Common", "Metadata"): [("title", REQUIRED), ("href", None), ("role", None), ("type_", "simple")],
    ("pywps.app.Common", "MetadataUrl"): [
        ("title", REQUIRED), ("href", None), ("role", None), ("type_", "simple"), ("anonymous", False),
    ],
    ("pywps.ext_autodoc", "MetadataUrl"): [
        ("title", REQUIRED), ("href", None), ("role", None), ("type_", "simple"), ("anonymous", False),
    ],
    ("pywps.app.exceptions", "ProcessError"): [
        ("msg", None), ("min_length", 3), ("max_length", 300), ("allowed_chars", None),
    ],
    ("pywps.app.exceptions", "format_message"): [
        ("text", REQUIRED), ("min_length", 3), ("max_length", 300), ("allowed_chars", None),
    ],
    ("pywps.inout.literaltypes", "AllowedValue"): [
        ("allowed_type", None), ("value", None), ("minval", None), ("maxval", None), ("spacing", None),
        ("range_closure", "closed"),
    ],
    ("pywps.inout.literaltypes", "AnyValue"): [],
    ("pywps.inout.literaltypes", "NoValue"): [],
    ("pywps.inout.literaltypes", "ValuesReference"): [("reference", None), ("values_form", None)],
    ("pywps.inout.literaltypes", "convert"): [("data_type", REQUIRED), ("data", REQUIRED)],
    ("pywps.inout.literaltypes", "make_allowedvalues"): [("allowed_values", REQUIRED)],
    ("pywps.inout.literaltypes", "is_anyvalue"): [("value", REQUIRED)],
    ("pywps.inout.outputs", "MetaLink"): [
        ("identity", None), ("description", None), ("publisher", None), ("files", ()), ("workdir", None),
        ("checksums", False),
    ],
    ("pywps.inout.outputs", "MetaLink4"): [
        ("identity", None), ("description", None), ("publisher", None), ("files", ()), ("workdir", None),
        ("checksums", False),
    ],
    ("pywps.inout.outputs", "MetaFile"): [("identity", None), ("description", None), ("fmt", None)],
    ("pywps.configuration", "get_config_value"): [
        ("section", REQUIRED), ("option", REQUIRED), ("default_value", ""),
    ],
    ("pywps.app.basic", "get_xpath_ns"): [("version", REQUIRED)],
    ("pywps", "get_ElementMakerForVersion"): [("version", REQUIRED)],
}

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_EXTRA_OK = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD)


def _resolve(module: str, name: str) -> object:
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name"), list(SIGNATURES), ids=[f"{m}.{n}" for m, n in SIGNATURES])
def test_signature(module: str, name: str) -> None:
    expected = SIGNATURES[(module, name)]
    params = list(inspect.signature(_resolve(module, name)).parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL]
    assert [p.name for p in positional] == [n for n, _ in expected], "positional order differs from 4.8.1"
    for param, (pname, default) in zip(positional, expected, strict=True):
        if default is REQUIRED:
            assert param.default is inspect.Parameter.empty, f"{pname} must be required"
        elif default is EMPTY_LIST:
            assert param.default in (None, []), f"{pname} defaults to {param.default!r}"
        else:
            assert param.default is not inspect.Parameter.empty, f"{pname} must have a default"
            assert param.default == default and type(param.default) is type(default), pname
    extras = [p for p in params if p.kind not in _POSITIONAL]
    assert all(p.kind in _EXTRA_OK for p in extras), "our extra parameters must be keyword-only"


def test_positional_call_pywps4_style(tmp_path) -> None:
    """Calls written for 4.8.1 with every argument positional land on the right parameters."""
    from pywps import (
        FORMATS,
        BoundingBoxInput,
        BoundingBoxOutput,
        ComplexInput,
        ComplexOutput,
        LiteralInput,
        LiteralOutput,
        Process,
    )
    from pywps.app.Common import Metadata

    meta = [Metadata("m", "http://m")]
    workdir = str(tmp_path)
    li = LiteralInput("n", "N", "integer", workdir, "abs", ["k"], meta, ["metre"], 0, 3, 2, [1, 2, (5, 10)], 2)
    assert (li.identifier, li.title, li.data_type, li.workdir, li.abstract) == ("n", "N", "integer", workdir, "abs")
    assert li.keywords == ["k"] and li.metadata == meta and li.uom.uom == "metre"
    assert (li.min_occurs, li.max_occurs, li.valid_mode, li.default, li.data) == (0, 3, 2, 2, 2)
    assert [a.allowed_type for a in li.allowed_values] == ["value", "value", "range"]

    lo = LiteralOutput("o", "O", "float", "abs", ["k"], meta, ["m"], 0)
    assert (lo.data_type, lo.abstract, lo.keywords, lo.valid_mode, lo.uoms[0].uom) == ("float", "abs", ["k"], 0, "m")

    ci = ComplexInput("c", "C", [FORMATS.GML, FORMATS.JSON], FORMATS.JSON, "abs", ["k"], workdir, meta, 0, 2, 1)
    assert ci.data_format == FORMATS.JSON and ci.supported_formats == [FORMATS.GML, FORMATS.JSON]
    assert (ci.workdir, ci.metadata, ci.min_occurs, ci.max_occurs, ci.valid_mode) == (workdir, meta, 0, 2, 1)

    co = ComplexOutput("c", "C", [FORMATS.GML], None, "abs", ["k"], workdir, meta, True, 1)
    assert (co.workdir, co.metadata, co.as_reference, co.valid_mode) == (workdir, meta, True, 1)
    assert co.data_format == FORMATS.GML

    bi = BoundingBoxInput("b", "B", ["EPSG:4326", "EPSG:3035"], "abs", ["k"], 2, workdir, meta, 0, 1, 1)
    assert (bi.crss, bi.crs, bi.dimensions, bi.workdir, bi.metadata) == (["EPSG:4326", "EPSG:3035"], "EPSG:4326",
                                                                        2, workdir, meta)
    assert (bi.min_occurs, bi.valid_mode) == (0, 1)

    bo = BoundingBoxOutput("b", "B", ["EPSG:4326"], "abs", ["k"], 3, meta, 1, 1, True, 0)
    assert (bo.dimensions, bo.metadata, bo.as_reference, bo.crs) == (3, meta, True, "EPSG:4326")

    def handler(request, response):
        return response

    p = Process(handler, "p", "P", "abs", ["k"], ["profile"], meta, [li], [lo], "1.0", True, False)
    assert (p.handler, p.identifier, p.title, p.abstract, p.keywords, p.profile) == (handler, "p", "P", "abs", ["k"],
                                                                                   ["profile"])
    assert (p.metadata, p.inputs, p.outputs, p.version) == (meta, [li], [lo], "1.0")


def test_literal_input_defaults() -> None:
    from pywps import LiteralInput

    li = LiteralInput("x", "X")
    assert li.data_type == "string"  # data_type=None means string in 4.8.1 (never 'integer')
    assert li.allowed_values == [] and li.any_value is False  # nothing given: empty list, as in 4.8.1
    assert li.validator(li, 1)  # ... and any value is accepted
    assert (li.title, li.abstract, li.keywords, li.metadata, li.uoms, li.uom) == ("X", "", [], [], [], None)
    assert (li.default, li.min_occurs, li.max_occurs, li.workdir, li.as_reference, li.valid_mode) == (
        None, 1, 1, None, False, 1)
    li.data = 5
    assert li.data == "5"

    assert LiteralInput("x").title is None or LiteralInput("x").title == ""  # title may be omitted in 4.8.1


def test_author_attributes() -> None:
    from pywps import (
        FORMATS,
        BoundingBoxInput,
        BoundingBoxOutput,
        ComplexInput,
        ComplexOutput,
        LiteralInput,
        LiteralOutput,
        Process,
    )

    common = ("identifier", "title", "abstract", "keywords", "metadata", "as_reference", "workdir", "data")
    li = LiteralInput("x", "X", "integer", uoms=["metre"], default=3, allowed_values=[1, 3])
    for attr in (*common, "data_type", "allowed_values", "default", "min_occurs", "max_occurs", "uoms", "uom",
                 "any_value", "values_reference", "valid_mode", "default_type", "validator", "translations"):
        assert hasattr(li, attr), attr
    assert li.uom.json == {"uom": "metre", "reference": "urn:ogc:def:uom:OGC:1.0:metre"}
    assert li.data == 3 and li.default == 3

    lo = LiteralOutput("y", "Y")
    for attr in (*common, "data_type", "uoms", "uom", "min_occurs", "max_occurs"):
        assert hasattr(lo, attr), attr
    assert (lo.data_type, lo.uom, lo.uoms, lo.min_occurs, lo.as_reference) == ("string", None, [], 1, False)

    ci = ComplexInput("c", "C", [FORMATS.GML, FORMATS.JSON])
    for attr in (*common, "supported_formats", "data_format", "min_occurs", "max_occurs", "default", "file",
                 "url", "stream", "validator"):
        assert hasattr(ci, attr), attr
    assert ci.data_format == FORMATS.GML and ci.data_format.extension == ".gml"
    assert (ci.as_reference, ci.min_occurs, ci.valid_mode) == (False, 1, 0)

    co = ComplexOutput("c", "C", [FORMATS.GML])
    for attr in (*common, "supported_formats", "data_format", "file", "url", "output_format"):
        assert hasattr(co, attr), attr
    assert (co.as_reference, co.keywords, co.metadata) == (False, [], [])

    bi = BoundingBoxInput("b", "B")
    for attr in (*common, "crss", "crs", "dimensions", "ll", "ur", "min_occurs", "max_occurs"):
        assert hasattr(bi, attr), attr
    assert (bi.crss, bi.crs, bi.dimensions, bi.data, bi.ll, bi.ur) == (["epsg:4326"], "epsg:4326", 2, None, [], [])

    bo = BoundingBoxOutput("b", "B", None)
    assert (bo.crss, bo.crs, bo.dimensions, bo.min_occurs, bo.as_reference) == (["epsg:4326"], "epsg:4326", 2, 1,
                                                                                 False)

    p = Process(lambda request, response: response, "p", "P")
    for attr in ("identifier", "title", "abstract", "keywords", "metadata", "profile", "inputs", "outputs", "handler",
                 "version", "store_supported", "status_supported", "grass_location", "translations", "workdir",
                 "uuid", "json"):
        assert hasattr(p, attr), attr
    assert (p.version, p.inputs, p.outputs, p.uuid, p.workdir, p.profile, p.keywords, p.abstract) == (
        "None", [], [], None, None, [], [], "")


def test_process_support_flags_and_status_url() -> None:
    from pywps import Process
    from pywps.configuration import get_config

    p = Process(lambda request, response: response, "p", "P", store_supported=True)
    # 4.8.1 stored the words 'true'/'false'; ours are those words with the truth value of the word
    assert p.store_supported == "true" and p.status_supported == "false"
    assert p.store_supported and not p.status_supported
    assert p.store_supported == True and p.status_supported == False  # noqa: E712 - bool comparison on purpose
    # deliberate difference: 4.8.1 took the string 'false' as true
    assert not Process(lambda r, s: s, "p", "P", store_supported="false").store_supported
    p.uuid = "abc"
    assert p.status_url == f"{get_config().outputurl}abc.xml"
    assert p.status_location.endswith("abc.xml")


def test_process_set_workdir(tmp_path) -> None:
    from pywps import LiteralInput, LiteralOutput, Process

    p = Process(lambda r, s: s, "p", "P", inputs=[LiteralInput("i", "I")], outputs=[LiteralOutput("o", "O")])
    p.set_workdir(str(tmp_path))
    assert p.workdir == p.inputs[0].workdir == p.outputs[0].workdir == str(tmp_path)


# -- public names ----------------------------------------------------------------------------------------
def test_formats_members() -> None:
    from pywps import FORMATS
    from pywps.inout.formats import FORMATS as FORMATS2

    assert FORMATS is FORMATS2
    assert FORMATS._fields == (
        "GEOJSON", "JSON", "SHP", "GML", "GPX", "METALINK", "META4", "KML", "KMZ", "GEOTIFF", "WCS", "WCS100",
        "WCS110", "WCS20", "WFS", "WFS100", "WFS110", "WFS20", "WMS", "WMS130", "WMS110", "WMS100", "TEXT", "DODS",
        "NETCDF", "NCML", "LAS", "LASJSON", "LASXML", "LAZ", "ZIP", "XML", "CSV",
    )
    expected = {
        "GEOJSON": ("application/geo+json", "", "", ".geojson"),
        "SHP": ("application/x-zipped-shp", "base64", "", ".zip"),
        "GML": ("application/gml+xml", "", "", ".gml"),
        "METALINK": ("application/metalink+xml; version=3.0", "", "metalink/3.0/metalink.xsd", ".metalink"),
        "META4": ("application/metalink+xml; version=4.0", "", "metalink/4.0/metalink4.xsd", ".meta4"),
        "GEOTIFF": ("image/tiff; subtype=geotiff", "base64", "", ".tiff"),
        "TEXT": ("text/plain", "", "", ".txt"),
        "NETCDF": ("application/x-netcdf", "base64", "", ".nc"),
        "LAS": ("application/vdn.las", "binary", "", ".las"),
        "LASJSON": ("application/vdn.las.las+json", "binary", "", ".lasjson"),
        "LASXML": ("application/vnd.las.las+xml", "binary", "", ".lasxml"),
        "LAZ": ("application/vdn.laszip", "binary", "", ".laz"),
        "CSV": ("text/csv", "", "", ".csv"),
    }
    for name, (mime, encoding, schema, extension) in expected.items():
        frmt = getattr(FORMATS, name)
        assert (frmt.mime_type, frmt.encoding, frmt.schema, frmt.extension) == (mime, encoding, schema, extension)


def test_enumerations() -> None:
    from pywps.inout.basic import SOURCE_TYPE
    from pywps.inout.literaltypes import ALLOWEDVALUETYPE as AVT2
    from pywps.inout.literaltypes import LITERAL_DATA_TYPES
    from pywps.response.status import WPS_STATUS
    from pywps.validator.allowed_value import ALLOWEDVALUETYPE, RANGECLOSURETYPE
    from pywps.validator.mode import MODE

    assert (MODE.NONE, MODE.SIMPLE, MODE.STRICT, MODE.VERYSTRICT) == (0, 1, 2, 3)
    assert (ALLOWEDVALUETYPE.VALUE, ALLOWEDVALUETYPE.RANGE) == ("value", "range")  # we add LAYER
    assert AVT2 is ALLOWEDVALUETYPE
    assert RANGECLOSURETYPE._asdict() == {"OPEN": "open", "CLOSED": "closed", "OPENCLOSED": "open-closed",
                                          "CLOSEDOPEN": "closed-open"}
    assert WPS_STATUS._asdict() == {"UNKNOWN": 0, "ACCEPTED": 1, "STARTED": 2, "PAUSED": 3, "SUCCEEDED": 4,
                                    "FAILED": 5}
    assert (SOURCE_TYPE.MEMORY, SOURCE_TYPE.FILE, SOURCE_TYPE.STREAM, SOURCE_TYPE.DATA, SOURCE_TYPE.URL) == (
        0, 1, 2, 3, 4)
    assert set(LITERAL_DATA_TYPES) == {"boolean", "float", "integer", "string", "positiveInteger",
                                       "nonNegativeInteger", "anyURI", "time", "date", "dateTime", "scale", "angle"}
    assert all(callable(f) for f in LITERAL_DATA_TYPES.values())


def test_import_paths() -> None:
    """Where PyWPS 4 authors import things from."""
    import pywps
    import pywps.app
    import pywps.inout
    from pywps.app.Common import Metadata, MetadataUrl
    from pywps.ext_autodoc import MetadataUrl as MetadataUrl2

    assert MetadataUrl2 is MetadataUrl and issubclass(MetadataUrl, Metadata)
    for name in ("Process", "LiteralInput", "LiteralOutput", "ComplexInput", "ComplexOutput", "BoundingBoxInput",
                 "BoundingBoxOutput", "Format", "FORMATS", "get_format", "UOM", "get_ElementMakerForVersion",
                 "Service", "NAMESPACES", "LOGGER"):
        assert getattr(pywps, name) is not None, name
    for name in ("UOM", "Format", "FORMATS", "get_format", "LiteralInput", "ComplexInput", "BoundingBoxInput",
                 "LiteralOutput", "ComplexOutput", "BoundingBoxOutput"):
        assert getattr(pywps.inout, name) is getattr(pywps, name), name
    from pywps.app import Metadata as Metadata2

    assert Metadata2 is Metadata
    from pywps.app.basic import get_xpath_ns  # noqa: F401
    from pywps.app.exceptions import ProcessError  # noqa: F401
    from pywps.configuration import get_config_value  # noqa: F401
    from pywps.inout.literaltypes import AllowedValue, AnyValue, NoValue, ValuesReference  # noqa: F401
    from pywps.inout.outputs import MetaFile, MetaLink, MetaLink4  # noqa: F401


# -- literal conversion ----------------------------------------------------------------------------------
TRUE_VALUES = ["true", "True", "TRUE", "t", "T", "1", "2", "-1", 1, True, "yes", "on"]
FALSE_VALUES = ["false", "False", "F", "f", "0", 0, False]


@pytest.mark.parametrize("value", TRUE_VALUES)
def test_boolean_true_as_in_pywps4(value) -> None:
    from pywps.inout.literaltypes import convert

    assert convert("boolean", value) is True


@pytest.mark.parametrize("value", FALSE_VALUES)
def test_boolean_false_as_in_pywps4(value) -> None:
    from pywps.inout.literaltypes import convert

    assert convert("boolean", value) is False


# Deliberate differences: 4.8.1 took every text it could not read as an integer as True ('no', 'off', 'n',
# '', '0.0', ' false ', even 'abc'), and truncated 0.5 to 0, i.e. False.  Silently turning "no" into True is a
# correctness bug, so we read the usual false words as False and reject text that is no boolean at all.
@pytest.mark.parametrize(("value", "ours"), [
    ("no", False), ("off", False), ("n", False), ("", False), ("0.0", False), (" false ", False), (0.5, True),
])
def test_boolean_deliberate_differences(value, ours) -> None:
    from pywps.inout.literaltypes import convert

    assert convert("boolean", value) is ours


def test_boolean_rejects_garbage() -> None:
    from pywps.inout.literaltypes import convert

    with pytest.raises(InvalidParameterValue):
        convert("boolean", "abc")  # 4.8.1: True


@pytest.mark.parametrize(("value", "expected"), [
    ("1", 1), ("1.0", 1), ("-3", -3), (2.0, 2), (True, 1), ("1e3", 1000), (" 7 ", 7),
    # 4.8.1 went through float and lost precision here (12345678901234567168); we keep the exact value
    ("12345678901234567890", 12345678901234567890),
])
def test_integer_as_in_pywps4(value, expected) -> None:
    from pywps.inout.literaltypes import convert

    result = convert("integer", value)
    assert result == expected and type(result) is int


# Deliberate difference: 4.8.1 truncated '3.7' and 3.9 to 3; silently changing a value is a correctness bug.
@pytest.mark.parametrize("value", ["3.7", 3.9, "abc", "", "nan", "inf"])
def test_integer_rejects(value) -> None:
    from pywps.inout.literaltypes import convert

    with pytest.raises(InvalidParameterValue):
        convert("integer", value)


def test_non_negative_and_positive_integer() -> None:
    from pywps.inout.literaltypes import convert

    assert convert("nonNegativeInteger", 0) == 0
    assert convert("positiveInteger", "5") == 5
    for data_type in ("nonNegativeInteger", "positiveInteger"):
        with pytest.raises(InvalidParameterValue):
            convert(data_type, -1)
    # Deliberate difference: 4.8.1 used one converter for both types and accepted 0 as a positiveInteger,
    # which XML Schema defines as >= 1.
    with pytest.raises(InvalidParameterValue):
        convert("positiveInteger", 0)


def test_float_and_string() -> None:
    from pywps.inout.literaltypes import convert

    assert convert("float", "INF") == math.inf and convert("float", "-INF") == -math.inf
    assert math.isnan(convert("float", "NaN"))
    assert convert("float", "1e3") == 1000.0 and convert("float", " 2 ") == 2.0
    assert convert("string", 1) == "1"
    with pytest.raises(InvalidParameterValue):
        convert("no such type", 1)


def test_literal_input_converts_on_assignment() -> None:
    from pywps import LiteralInput

    flag = LiteralInput("f", "F", data_type="boolean")
    flag.data = "false"
    assert flag.data is False
    flag.data = "1"
    assert flag.data is True
    number = LiteralInput("n", "N", data_type="integer", default="4")
    assert number.data == 4
    with pytest.raises(InvalidParameterValue):
        number.data = "four"


# -- allowed values --------------------------------------------------------------------------------------
def test_allowed_value_type_detection() -> None:
    from pywps.inout.literaltypes import AllowedValue

    assert AllowedValue(value=3).allowed_type == "value"
    assert AllowedValue(minval=1, maxval=5).allowed_type == "range"
    assert AllowedValue(minval=0, maxval=5).allowed_type == "range"
    assert AllowedValue(maxval=5).allowed_type == "range"
    # Deliberate difference: 4.8.1 tested the bounds for truth, so a 0..0 range became a VALUE
    assert AllowedValue(minval=0, maxval=0).allowed_type == "range"
    assert AllowedValue(minval=1, maxval=5).json == {
        "type": "allowedvalue", "allowed_type": "range", "value": None, "minval": 1, "maxval": 5, "spacing": None,
        "range_closure": "closed",
    }


def _valid(value, *allowed, data_type="float") -> bool:
    from pywps import LiteralInput

    inpt = LiteralInput("x", "X", data_type, allowed_values=list(allowed))
    inpt.data = value
    return bool(inpt.validator(inpt, 1))


@pytest.mark.parametrize(("closure", "at_min", "at_max"), [
    ("closed", True, True), ("open", False, False), ("open-closed", False, True), ("closed-open", True, False),
])
def test_range_closure(closure, at_min, at_max) -> None:
    from pywps.inout.literaltypes import AllowedValue

    rng = AllowedValue(minval=0, maxval=10, range_closure=closure)
    assert _valid(0, rng) is at_min
    assert _valid(10, rng) is at_max
    assert _valid(5, rng) is True
    assert _valid(-1, rng) is False and _valid(11, rng) is False


def test_range_spacing_and_values() -> None:
    from pywps.inout.literaltypes import AllowedValue, AnyValue

    assert _valid(4, AllowedValue(minval=0, maxval=10, spacing=2)) is True
    assert _valid(5, AllowedValue(minval=0, maxval=10, spacing=2)) is False
    assert _valid(0.3, AllowedValue(minval=0.1, maxval=1, spacing=0.1)) is True
    assert _valid(2, 1, 2, 3, data_type="integer") is True
    assert _valid(7, 1, (5, 10), data_type="integer") is True
    assert _valid(4, 1, (5, 10), data_type="integer") is False
    # AnyValue among the allowed values lets everything pass, as in 4.8.1
    assert _valid(42, AnyValue, 1, data_type="integer") is True
    assert _valid("b", "a", data_type="string") is False


def test_allowed_value_mode_none() -> None:
    from pywps import LiteralInput

    inpt = LiteralInput("x", "X", "integer", allowed_values=[1, 2])
    inpt.data = 3
    assert not inpt.validator(inpt, 1)
    assert inpt.validator(inpt, 0)


def test_values_reference() -> None:
    from pywps import LiteralInput
    from pywps.inout.literaltypes import ValuesReference

    with pytest.raises(InvalidParameterValue):
        ValuesReference()
    ref = ValuesReference("http://example.org/values")
    inpt = LiteralInput("x", "X", allowed_values=ref)
    assert inpt.values_reference is ref
    assert ref.json == {"type": "valuesreference", "reference": "http://example.org/values", "values_form": None}


# -- Format ----------------------------------------------------------------------------------------------
def test_format_equality_and_json() -> None:
    from pywps import FORMATS, Format, get_format

    assert Format("GML").mime_type == "application/gml+xml"  # FORMATS shortcut
    plain = Format("text/plain")
    assert plain.json == {"mime_type": "text/plain", "encoding": "", "schema": "", "extension": ""}
    assert plain == Format("text/plain", extension=".txt")  # the extension does not count
    assert plain != Format("text/plain", encoding="base64")
    assert Format("a", schema="s") != Format("a")
    assert plain != "text/plain"
    assert plain.same_as(Format("text/plain")) and not plain.same_as("text/plain")
    other = Format("x")
    other.json = FORMATS.GML.json
    assert other == FORMATS.GML and other.extension == ".gml"
    assert get_format("GML").json == {"mime_type": "application/gml+xml", "encoding": "", "schema": "",
                                      "extension": ".gml"}
    assert get_format("nope").mime_type == "None"
    # deliberate difference: 4.8.1 returned the shared FORMATS member and set the validator on it
    validated = get_format("GML", validator=lambda data, mode: True)
    assert validated == FORMATS.GML and FORMATS.GML.validate is not validated.validate


# -- ProcessError ----------------------------------------------------------------------------------------
DEFAULT_MSG = "Sorry, process failed. Please check server error log."


@pytest.mark.parametrize(("msg", "expected"), [
    (None, DEFAULT_MSG),
    ("ab", DEFAULT_MSG),  # shorter than min_length=3
    ("abc", "abc"),
    ("Hello <b>world</b>!", "Hello b world /b !"),
    ("path /tmp/x.txt: failed; code=3, why? -_", "path /tmp/x.txt: failed; code=3, why? -_"),
    ("über straße 5€", "über straße 5"),
    ("a\nb\tc", "a b c"),
    (ValueError("bad thing"), DEFAULT_MSG),  # not text: never shown to the client
])
def test_process_error_message(msg, expected) -> None:
    from pywps.app.exceptions import ProcessError

    error = ProcessError(msg)
    assert error.message == expected and str(error) == expected


def test_process_error_lengths_and_chars() -> None:
    from pywps.app.exceptions import DEFAULT_ALLOWED_CHARS, ProcessError, format_message

    assert DEFAULT_ALLOWED_CHARS == ".:!?=,;-_/"
    assert ProcessError("x" * 400).message == "x" * 300
    assert ProcessError("abcdef", min_length=10).message == DEFAULT_MSG
    assert ProcessError("abcdef ghi", max_length=5).message == "abcde"
    assert ProcessError("a+b=c", allowed_chars="+").message == "a+b c"
    assert ProcessError.default_msg == DEFAULT_MSG
    assert format_message("ab") == "" and format_message("a<b") == "a b"
    assert isinstance(ProcessError("x"), Exception)


# -- Metadata --------------------------------------------------------------------------------------------
def test_metadata_json() -> None:
    from pywps.app.Common import Metadata, MetadataUrl

    assert Metadata("t").json == {"title": "t", "href": None, "role": None, "type": "simple"}
    meta = Metadata("t", "h", "r", "x")
    assert meta.json == {"title": "t", "href": "h", "role": "r", "type": "x"}
    assert Metadata.from_json(meta.json) == meta
    assert list(Metadata("t", "h")) == [{"title": "t", "href": "h", "type": "simple"}]
    url = MetadataUrl("t", "h", anonymous=True)
    assert url.anonymous is True
    assert url.json == {"title": "t", "href": "h", "role": None, "type": "simple"}  # anonymous is docs-only
    assert url == Metadata("t", "h")
    assert Metadata("t", "h") != Metadata("t", "other")


def test_uom() -> None:
    from pywps import UOM

    assert UOM("metre").json == {"uom": "metre", "reference": "urn:ogc:def:uom:OGC:1.0:metre"}
    assert UOM("meters").reference == UOM("meter").reference == "urn:ogc:def:uom:OGC:1.0:metre"
    assert UOM("degrees").reference == "urn:ogc:def:uom:OGC:1.0:degree"
    assert UOM("x").json == {"uom": "x", "reference": ""}
    assert UOM("x", "urn:x") == UOM("x")
    # Deliberate difference: 4.8.1 mapped 'feet' to urn:ogc:def:uom:OGC:1.0:feet, which OGC does not define;
    # we use the EPSG unit.
    assert UOM("feet").reference == "urn:ogc:def:uom:EPSG::9002"


def test_app_process_is_the_class_in_a_fresh_interpreter() -> None:
    import subprocess
    import sys

    code = "from pywps.app import Process; import pywps; assert Process is pywps.Process, Process"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_app_process_after_submodule_import() -> None:
    import subprocess
    import sys

    code = ("import pywps.app.Process; from pywps.app import Process; import pywps; "
            "assert Process is pywps.Process, Process")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_io_handler_helpers(tmp_path) -> None:
    import json

    from pywps import FORMATS, ComplexInput, LiteralInput

    ci = ComplexInput("c", "C", [FORMATS.GEOJSON, FORMATS.GML], workdir=str(tmp_path))
    assert ci.get_format("application/gml+xml") == FORMATS.GML and ci.get_format("text/csv") is None
    assert ci.extension == ".geojson"
    assert (ci.data, ci.file, ci.url, ci.stream, ci.base64, ci.size) == (None, None, None, None, None, None)
    path = tmp_path / "in.geojson"
    path.write_text(json.dumps({"type": "Point", "coordinates": [1, 2]}))
    ci.file = str(path)
    assert ci.data_as_json() == {"type": "Point", "coordinates": [1, 2]}
    assert ComplexInput.max_size() > 0 and LiteralInput("x", "X").extension is None


def test_supported_formats_carry_validators() -> None:
    from pywps import FORMATS, ComplexInput
    from pywps.validator.complexvalidator import validategml, validatejson

    ci = ComplexInput("c", "C", [FORMATS.GML, FORMATS.JSON], min_occurs=None)
    assert [f.validate for f in ci.supported_formats] == [validategml, validatejson]
    assert ci.validator is validategml
    assert FORMATS.GML.validate is None  # the shared FORMATS members are not modified
    assert ci.min_occurs == 0  # None meant 0 in 4.8.1


def test_metalink_members(tmp_path) -> None:
    from pywps import FORMATS
    from pywps.configuration import get_config_value
    from pywps.inout.outputs import MetaFile, MetaLink4

    mf = MetaFile("one", "first file", fmt=FORMATS.TEXT)
    mf.data = "hello"
    assert (mf.identity, mf.description, mf.size, mf.mediatype) == ("one", "first file", 5, "text/plain")
    mf.size = 42  # as in 4.8.1: a size set by hand spares the measurement
    assert mf.size == 42
    ml = MetaLink4("all", "every file", "me", [mf], workdir=str(tmp_path))
    assert ml.files == [mf] and ml.origin == "" and ml.url == get_config_value("server", "url")
    assert ml.generator.startswith("PyWPS/") and "metalink" in ml.xml


def test_ext_autodoc_doc_lines() -> None:
    from pywps import FORMATS, ComplexOutput, LiteralInput, Process
    from pywps.app.Common import Metadata
    from pywps.ext_autodoc import MetadataUrl, process_doc_lines, setup

    assert callable(setup)
    process = Process(
        lambda r, s: s, "hello", "Say hello", abstract="Greets.", version="1.5",
        inputs=[LiteralInput("name", "Name", abstract="Who", min_occurs=0, default="World",
                             metadata=[Metadata("Doc", "http://doc")]),
                LiteralInput("n", "N", "integer", allowed_values=[1, 2], uoms=["metre"])],
        outputs=[ComplexOutput("out", "Out", [FORMATS.JSON])],
        metadata=[MetadataUrl("Guide", "http://guide", anonymous=True), Metadata("No link")],
    )
    lines = process_doc_lines(process)
    assert lines[0] == ":program:`hello` Say hello (v1.5)"
    assert "name : string, optional, default:World" in lines
    assert "    Who (`Doc <http://doc>`_)" in lines
    assert "n : {'1', '2'}, units:[metre]" in lines
    assert "out : :mimetype:`application/json`" in lines
    assert " - `Guide <http://guide>`__" in lines and "References" in lines
