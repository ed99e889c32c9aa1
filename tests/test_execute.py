"""run_process and validate_execute_request with small real processes (no mocks)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from pywps.app.exceptions import ProcessError
from pywps.exceptions import FileSizeExceeded, InvalidParameterValue, MissingParameterValue, NoApplicableCode
from pywps.execute import parse_kvp_bbox, run_process, validate_execute_request
from pywps.inout.formats import FORMATS, Format
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput, MetaFile, MetaLink4
from pywps.process import Process
from pywps.processes.examples import Add, BinaryEcho, BoundingBoxEcho, ComplexEcho, Fail, MultipleOutputs
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest, OutputResult
from pywps.response.status import WPS_STATUS
from pywps.validator.mode import MODE


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    d = {"workdir": tmp_path / "out" / "work", "outdir": tmp_path / "out" / "files", "indir": tmp_path / "in"}
    d["indir"].mkdir(parents=True)
    return d


def run(process, request, dirs, **kw) -> dict[str, OutputResult]:
    results = run_process(process, request, dirs["workdir"], dirs["outdir"], indir=dirs["indir"], **kw)
    return {r.identifier: r for r in results}


def lit(identifier: str, value: str, **kw) -> InputValue:
    return InputValue(identifier, kind="literal", data=value, **kw)


def test_literal_process_and_status(dirs):
    seen = []

    def handler(request, response):
        response.update_status("working", 10)
        response.update_status("more", status_percentage=55.7)
        response.update_status(message="no percent")
        assert response.status == WPS_STATUS.STARTED
        assert request.language == "fr" and request.identifier == "p"
        assert os.getcwd() == str(dirs["workdir"])
        values = [i.data for i in request.inputs["n"]]
        response.outputs["sum"].data = sum(values)
        response.outputs["flag"].data = True
        return response

    process = Process(handler, "p", "P",
                      inputs=[LiteralInput("n", "N", data_type="integer", max_occurs=3)],
                      outputs=[LiteralOutput("sum", "Sum", data_type="integer", uoms=["metre"],
                                             translations={"fr": {"title": "Somme"}}),
                               LiteralOutput("flag", "F", data_type="boolean")])
    request = ExecuteRequest("p", inputs=(lit("n", "1"), lit("n", "2"), lit("n", "39")), language="fr")
    out = run(process, request, dirs, status_cb=lambda m, p: seen.append((m, p)))
    assert out["sum"].value == "42" and out["sum"].kind == "literal" and out["sum"].data_type == "integer"
    assert out["sum"].uom == "metre" and out["sum"].title == "Somme"
    assert out["flag"].value == "true"
    assert seen == [("working", 10), ("more", 55), ("no percent", None)]
    assert process.workdir == str(dirs["workdir"])


def test_examples_run(dirs):
    out = run(Add(), ExecuteRequest("add", inputs=(lit("a", "5"), lit("b", "2.5"))), dirs)
    assert float(out["sum"].value) == 7.5
    out = run(Add(), ExecuteRequest("add", inputs=(lit("a", "5"),)), dirs)  # default b
    assert float(out["sum"].value) == 5.0
    out = run(MultipleOutputs(), ExecuteRequest("multiple_outputs", inputs=(lit("text", "a b"),)), dirs)
    assert out["upper"].value == "A B" and out["length"].value == "3"
    assert json.loads(out["summary"].value) == {"text": "a b", "words": 2}
    assert out["summary"].mime_type == "application/json"


def test_allowed_values_enforced(dirs):
    with pytest.raises(InvalidParameterValue) as err:
        run(Add(), ExecuteRequest("add", inputs=(lit("a", "4"),)), dirs)
    assert err.value.locator == "a"
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(Add(), ExecuteRequest("add", inputs=(lit("a", "5"), lit("b", "2000"))))
    assert err.value.locator == "b"
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(Add(), ExecuteRequest("add", inputs=(lit("a", "five"),)))
    assert err.value.locator == "a"


def test_missing_unknown_and_too_many(dirs):
    add = Add()
    with pytest.raises(MissingParameterValue) as err:
        validate_execute_request(add, ExecuteRequest("add", inputs=(lit("b", "1"),)))
    assert err.value.locator == "a"
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(add, ExecuteRequest("add", inputs=(lit("a", "1"), lit("zzz", "1"))))
    assert err.value.locator == "zzz"
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(add, ExecuteRequest("add", inputs=(lit("a", "1"), lit("a", "2"))))
    assert err.value.locator == "a"
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(add, ExecuteRequest("add", inputs=(lit("a", "1"),),
                                                     outputs=(OutputRequest("nope"),)))
    assert err.value.locator == "nope"
    with pytest.raises(MissingParameterValue):
        run(add, ExecuteRequest("add"), dirs)


def test_uom_checked():
    process = Process(lambda r, s: None, "u", "U",
                      inputs=[LiteralInput("d", "D", data_type="float", uoms=["metre", "feet"])],
                      outputs=[LiteralOutput("o", "O", uoms=["metre"])])
    validate_execute_request(process, ExecuteRequest("u", inputs=(lit("d", "1", uom="feet"),)))
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(process, ExecuteRequest("u", inputs=(lit("d", "1", uom="parsec"),)))
    assert err.value.locator == "d"
    with pytest.raises(InvalidParameterValue):
        validate_execute_request(process, ExecuteRequest("u", inputs=(lit("d", "1"),),
                                                         outputs=(OutputRequest("o", uom="inch"),)))


def test_complex_by_value_xml_json_text(dirs):
    echo = ComplexEcho()
    gml = '<?xml version="1.0" encoding="UTF-8"?><gml:Point xmlns:gml="http://www.opengis.net/gml"/>'
    out = run(echo, ExecuteRequest("echo_complex", inputs=(
        InputValue("input", kind="complex", data=gml, mime_type="application/gml+xml"),)), dirs)
    assert out["output"].mime_type == "application/gml+xml"
    assert out["output"].value.startswith("<gml:Point")  # declaration dropped for embedding
    out = run(echo, ExecuteRequest("echo_complex", inputs=(
        InputValue("input", kind="complex", data='{"a": 1}', mime_type="application/json"),)), dirs)
    assert out["output"].value == '{"a": 1}' and out["output"].mime_type == "application/json"
    # KVP: untyped literal for a complex input is its inline data, default format
    out = run(echo, ExecuteRequest("echo_complex", inputs=(lit("input", "<a/>"),)), dirs)
    assert out["output"].value == "<a/>" and out["output"].mime_type == "application/gml+xml"


def test_complex_unsupported_mime(dirs):
    request = ExecuteRequest("echo_complex", inputs=(
        InputValue("input", kind="complex", data="x", mime_type="image/png"),))
    with pytest.raises(InvalidParameterValue) as err:
        validate_execute_request(ComplexEcho(), request)
    assert err.value.locator == "input"
    request = ExecuteRequest("echo_complex", inputs=(InputValue("input", kind="complex", data="x"),),
                             outputs=(OutputRequest("output", mime_type="image/png"),))
    with pytest.raises(InvalidParameterValue) as err:
        run(ComplexEcho(), request, dirs)
    assert err.value.locator == "output"


def test_character_set_on_text_formats_matched_on_mime_type(dirs):
    """birdy sends encoding="utf-8" on text inputs; like PyWPS 4 the format is matched on its mime type."""
    for mime, data in (("application/json", '{"a": 1}'), ("text/plain", "plain"), ("application/gml+xml", "<a/>"),
                       ("application/geo+json", '{"type": "Point", "coordinates": [1, 2]}')):
        for charset in ("utf-8", "UTF-8", "utf8"):
            request = ExecuteRequest("echo_complex", inputs=(
                InputValue("input", kind="complex", data=data, mime_type=mime, encoding=charset),),
                outputs=(OutputRequest("output", mime_type=mime),))
            validate_execute_request(ComplexEcho(), request)
    out = run(ComplexEcho(), request, dirs)["output"]
    assert out.value == '{"type": "Point", "coordinates": [1, 2]}' and out.encoding in (None, "")
    # a character set is not a format: the handler sees the declared (empty) encoding
    seen = []

    def handler(request, response):
        seen.append(request.inputs["t"][0].data_format.encoding)
        response.outputs["o"].data = request.inputs["t"][0].data
        return response

    process = Process(handler, "p", "P", inputs=[ComplexInput("t", "T", supported_formats=[FORMATS.TEXT])],
                      outputs=[LiteralOutput("o", "O", data_type="string")])
    out = run(process, ExecuteRequest("p", inputs=(
        InputValue("t", kind="complex", data="héllo", mime_type="text/plain", encoding="UTF-8"),)), dirs)
    assert out["o"].value == "héllo" and seen == [""]


def test_encodings_refused(dirs):
    def refused(process, value):
        with pytest.raises(InvalidParameterValue) as err:
            validate_execute_request(process, ExecuteRequest(process.identifier, inputs=(value,)))
        assert err.value.code == 400 and err.value.locator == value.identifier
        return str(err.value)

    encoded = base64.b64encode(b'{"a": 1}').decode()
    # base64 on a text format that does not declare it: refused, the message names what is supported
    message = refused(ComplexEcho(), InputValue("input", kind="complex", data=encoded,
                                                mime_type="application/json", encoding="base64"))
    assert "application/json, base64 is not supported" in message and "text/plain" in message
    # a character set on a binary format, and encodings that are neither
    refused(BinaryEcho(), InputValue("input", kind="complex", data="AAEC", mime_type="image/png", encoding="utf-8"))
    refused(ComplexEcho(), InputValue("input", kind="complex", data="x", mime_type="text/plain", encoding="bogus"))
    refused(ComplexEcho(), InputValue("input", kind="complex", data="x", mime_type="text/plain", encoding="hex"))
    # a format declaring one character set refuses another
    latin = Process(lambda r, s: s, "latin", "L", inputs=[ComplexInput(
        "t", "T", supported_formats=[Format("text/plain", encoding="ISO-8859-1")])], outputs=[])
    refused(latin, InputValue("t", kind="complex", data="x", mime_type="text/plain", encoding="utf-8"))
    validate_execute_request(latin, ExecuteRequest("latin", inputs=(
        InputValue("t", kind="complex", data="x", mime_type="text/plain", encoding="latin-1"),)))
    # base64 stays accepted where the format declares it, or where the content is binary anyway
    png = Process(lambda r, s: s, "png", "P", inputs=[ComplexInput(
        "i", "I", supported_formats=[Format("image/png")])], outputs=[])
    validate_execute_request(png, ExecuteRequest("png", inputs=(
        InputValue("i", kind="complex", data="AAEC", mime_type="image/png", encoding="base64"),)))
    # outputs: a text output may still be asked for base64 encoded
    validate_execute_request(ComplexEcho(), ExecuteRequest("echo_complex", inputs=(
        InputValue("input", kind="complex", data="x", mime_type="text/plain"),),
        outputs=(OutputRequest("output", mime_type="text/plain", encoding="base64"),)))


def test_binary_base64_roundtrip(dirs):
    payload = bytes(range(256)) * 4
    encoded = base64.b64encode(payload).decode()
    request = ExecuteRequest("echo_binary", inputs=(
        InputValue("input", kind="complex", data=encoded, mime_type="application/octet-stream",
                   encoding="base64"),))
    out = run(BinaryEcho(), request, dirs)["output"]
    assert out.encoding == "base64" and base64.b64decode(out.value) == payload
    assert out.raw_bytes() == payload
    with pytest.raises(InvalidParameterValue):
        validate_execute_request(BinaryEcho(), ExecuteRequest("echo_binary", inputs=(
            InputValue("input", kind="complex", data="@@not base64@@", encoding="base64"),)))


def test_output_as_reference_and_raw(dirs):
    request = ExecuteRequest("echo_complex", inputs=(
        InputValue("input", kind="complex", data='{"a": 1}', mime_type="application/json"),),
        outputs=(OutputRequest("output", as_reference=True, mime_type="application/json"),))
    out = run(ComplexEcho(), request, dirs)["output"]
    assert out.as_reference and out.value is None and out.file.endswith(".json")
    assert (dirs["outdir"] / out.file).read_text() == '{"a": 1}'
    request = ExecuteRequest("echo_complex", inputs=(
        InputValue("input", kind="complex", data="plain", mime_type="text/plain"),),
        outputs=(OutputRequest("output", mime_type="text/plain"),), raw_output=True)
    out = run(ComplexEcho(), request, dirs)["output"]
    assert out.file and (dirs["outdir"] / out.file).read_text() == "plain"
    assert out.mime_type == "text/plain"
    assert not out.as_reference


def test_declared_as_reference_default(dirs):
    def handler(request, response):
        response.outputs["o"].data = "text"
        response.outputs["u"].url = "https://example.org/x.txt"

    process = Process(handler, "r", "R", outputs=[
        ComplexOutput("o", "O", [FORMATS.TEXT], as_reference=True),
        ComplexOutput("u", "U", [FORMATS.TEXT], as_reference=True)])
    out = run(process, ExecuteRequest("r"), dirs)
    assert out["o"].as_reference and (dirs["outdir"] / out["o"].file).read_text() == "text"
    assert out["u"].href == "https://example.org/x.txt" and out["u"].file is None


def test_bbox_typed_and_kvp(dirs):
    echo = BoundingBoxEcho()
    typed = InputValue("bbox", kind="bbox", crs="EPSG:3035", lower_corner=(1.0, 2.0), upper_corner=(3.0, 4.0))
    out = run(echo, ExecuteRequest("echo_bbox", inputs=(typed,)), dirs)["bbox"]
    assert out.kind == "bbox" and out.lower_corner == [1.0, 2.0] and out.upper_corner == [3.0, 4.0]
    assert out.dimensions == 2
    out = run(echo, ExecuteRequest("echo_bbox", inputs=(lit("bbox", "10,20,30,40,EPSG:4326,2"),)), dirs)["bbox"]
    assert out.lower_corner == [10.0, 20.0] and out.upper_corner == [30.0, 40.0]
    assert parse_kvp_bbox("1,2,3,4", "b") == ([1, 2, 3, 4], None, None)
    for bad in ("1,2,3", "a,b,c,d", "1,2,3,4,EPSG:4326,x"):
        with pytest.raises(InvalidParameterValue):
            validate_execute_request(echo, ExecuteRequest("echo_bbox", inputs=(lit("bbox", bad),)))


def test_process_error_propagates(dirs):
    with pytest.raises(ProcessError) as err:
        run(Fail(), ExecuteRequest("fail", inputs=(lit("message", "disk <full> & broken"),)), dirs)
    assert str(err.value) == "disk full broken"
    assert ProcessError("").message == ProcessError.default_msg
    assert len(ProcessError("x" * 1000).message) == 300


def test_other_exceptions_propagate(dirs):
    def handler(request, response):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        run(Process(handler, "z", "Z"), ExecuteRequest("z"), dirs)


def test_reference_input_fetched_by_host(dirs):
    (dirs["indir"] / "inputs").mkdir()
    (dirs["indir"] / "inputs" / "doc").write_text('{"fetched": true}')

    def handler(request, response):
        inpt = request.inputs["doc"][0]
        assert inpt.url == "https://example.org/doc.json" and inpt.as_reference
        response.outputs["o"].data = inpt.data

    process = Process(handler, "ref", "Ref", inputs=[ComplexInput("doc", "D", [FORMATS.JSON])],
                      outputs=[ComplexOutput("o", "O", [FORMATS.JSON])])
    ref = InputValue("doc", kind="reference", href="https://example.org/doc.json", file="inputs/doc",
                     mime_type="application/json")
    out = run(process, ExecuteRequest("ref", inputs=(ref,)), dirs)
    assert json.loads(out["o"].value) == {"fetched": True}
    escape = InputValue("doc", kind="reference", href="https://x", file="../../etc/passwd")
    with pytest.raises(InvalidParameterValue):
        run(process, ExecuteRequest("ref", inputs=(escape,)), dirs)
    with pytest.raises(FileSizeExceeded):
        run(process, ExecuteRequest("ref", inputs=(ref,)), dirs, max_single_input_size=3)


def test_input_size_limit_by_value(dirs):
    request = ExecuteRequest("echo_complex", inputs=(InputValue("input", kind="complex", data="x" * 100),))
    with pytest.raises(FileSizeExceeded) as err:
        run(ComplexEcho(), request, dirs, max_single_input_size=10)
    assert err.value.locator == "input"


def test_complex_validation_mode(dirs):
    def handler(request, response):
        response.outputs["o"].data = "ok"

    process = Process(handler, "v", "V",
                      inputs=[ComplexInput("j", "J", [FORMATS.JSON], mode=MODE.STRICT)],
                      outputs=[LiteralOutput("o", "O")])
    run(process, ExecuteRequest("v", inputs=(InputValue("j", kind="complex", data="[1, 2]"),)), dirs)
    with pytest.raises(InvalidParameterValue) as err:
        run(process, ExecuteRequest("v", inputs=(InputValue("j", kind="complex", data="{oops"),)), dirs)
    assert err.value.locator == "j"


def test_files_written_in_workdir_and_handler_file_output(dirs):
    def handler(request, response):
        with open("result.csv", "w") as fh:  # relative: lands in the workdir
            fh.write("a,b\n1,2\n")
        response.outputs["table"].file = "result.csv"
        response.outputs["table"].as_reference = True

    process = Process(handler, "f", "F", outputs=[ComplexOutput("table", "T", [FORMATS.CSV])])
    out = run(process, ExecuteRequest("f"), dirs)["table"]
    assert (dirs["workdir"] / "result.csv").exists()
    assert (dirs["outdir"] / out.file).read_text() == "a,b\n1,2\n"


def test_unset_outputs_skipped_and_default_complex(dirs):
    def handler(request, response):
        response.outputs["b"].data = request.inputs["c"][0].data

    process = Process(handler, "s", "S",
                      inputs=[ComplexInput("c", "C", [FORMATS.TEXT], min_occurs=0, default="dflt")],
                      outputs=[LiteralOutput("a", "A"), LiteralOutput("b", "B")])
    out = run(process, ExecuteRequest("s"), dirs)
    assert list(out) == ["b"] and out["b"].value == "dflt"


def test_metalink_output(dirs):
    def handler(request, response):
        ml = MetaLink4("run", "files", publisher="me", workdir=response.process.workdir, checksums=True)
        for n in range(2):
            mf = MetaFile(f"file{n}", f"File {n}", fmt=FORMATS.TEXT)
            mf.data = f"content {n}"
            ml.append(mf)
        response.outputs["ml"].data = ml.xml

    process = Process(handler, "ml", "ML", outputs=[ComplexOutput("ml", "ML", [FORMATS.META4])])
    out = run(process, ExecuteRequest("ml"), dirs, output_url="http://host/outputs/JOB")["ml"]
    assert "urn:ietf:params:xml:ns:metalink" in out.value
    assert "http://host/outputs/JOB/file0_" in out.value and "<hash type=\"sha-256\">" in out.value
    stored = sorted(p.name for p in dirs["outdir"].iterdir())
    assert len(stored) == 2 and all(p.startswith("file") for p in stored)


def test_identifier_mismatch(dirs):
    with pytest.raises(InvalidParameterValue):
        run(Add(), ExecuteRequest("other"), dirs)


def test_handler_sees_request_outputs(dirs):
    def handler(request, response):
        assert request.outputs["o"]["mimetype"] == "application/json"
        assert request.outputs["o"]["asReference"] is True
        assert response.outputs["o"].data_format.mime_type == "application/json"
        response.outputs["o"].data = "{}"

    process = Process(handler, "h", "H", outputs=[ComplexOutput("o", "O", [FORMATS.TEXT, FORMATS.JSON])])
    run(process, ExecuteRequest("h", outputs=(OutputRequest("o", as_reference=True,
                                                            mime_type="application/json"),)), dirs)


def test_literal_for_bbox_kind_rejected():
    process = Process(lambda r, s: None, "x", "X", inputs=[LiteralInput("n", "N")])
    with pytest.raises(InvalidParameterValue):
        validate_execute_request(process, ExecuteRequest("x", inputs=(
            InputValue("n", kind="bbox", lower_corner=(0, 0), upper_corner=(1, 1)),)))


def test_unreadable_reference_without_file_raises_on_access(dirs):
    def handler(request, response):
        response.outputs["o"].data = request.inputs["doc"][0].data

    process = Process(handler, "u", "U", inputs=[ComplexInput("doc", "D", [Format("text/plain")])],
                      outputs=[LiteralOutput("o", "O")])
    with pytest.raises(NoApplicableCode):
        run(process, ExecuteRequest("u", inputs=(InputValue("doc", kind="reference", href="http://x/y"),)),
            dirs)


def test_bbox_output_process(dirs):
    def handler(request, response):
        response.outputs["b"].data = [0, 0, 0, 1, 1, 1]

    process = Process(handler, "b", "B", outputs=[BoundingBoxOutput("b", "B", ["EPSG:4979"], dimensions=3)])
    out = run(process, ExecuteRequest("b"), dirs)["b"]
    assert out.dimensions == 3 and out.upper_corner == [1, 1, 1] and out.crs == "EPSG:4979"


def test_bbox_input_dimension_mismatch():
    process = Process(lambda r, s: None, "x", "X", inputs=[BoundingBoxInput("b", "B")])
    with pytest.raises(InvalidParameterValue):
        validate_execute_request(process, ExecuteRequest("x", inputs=(
            InputValue("b", kind="bbox", lower_corner=(0, 0), upper_corner=(1, 1, 1)),)))


def test_dict_output_for_json(dirs):
    def handler(request, response):
        response.outputs["j"].data = {"a": [1, 2]}

    process = Process(handler, "j", "J", outputs=[ComplexOutput("j", "J", [FORMATS.JSON])])
    assert json.loads(run(process, ExecuteRequest("j"), dirs)["j"].value) == {"a": [1, 2]}


def test_pywps4_style_defaults_and_typed_outputs(dirs):
    """A process in the style of PyWPS 4 demo suites: mandatory inputs with defaults, every literal type."""
    types = {"s": ("string", "abc"), "i": ("integer", "7"), "f": ("float", "3.14"), "b": ("boolean", "1"),
             "a": ("angle", "450"), "t": ("time", "12:00:00"), "d": ("date", "2012-05-01"),
             "dt": ("dateTime", "2016-09-02T12:00:00Z")}

    def handler(request, response):
        response.update_status("started", 0)
        for key in types:
            response.outputs[key].data = request.inputs[key][0].data
        response.outputs["text"].data_format = Format("text/plain")
        response.outputs["text"].data = "no text input"
        response.update_status("done", 100)
        return response

    process = Process(
        handler, "inout", "In and out", version="1.0",
        inputs=[LiteralInput(k, k.upper(), data_type=t, default=v) for k, (t, v) in types.items()]
        + [ComplexInput("text", "Text", min_occurs=0, supported_formats=[Format("text/plain")])],
        outputs=[LiteralOutput(k, k.upper(), data_type=t) for k, (t, _) in types.items()]
        + [ComplexOutput("text", "Text", as_reference=True, supported_formats=[Format("text/plain")])])
    out = run(process, ExecuteRequest("inout", inputs=(lit("i", "11"),)), dirs)
    assert out["i"].value == "11" and out["s"].value == "abc" and out["b"].value == "true"
    assert out["a"].value == "90.0" and out["t"].value == "12:00:00" and out["d"].value == "2012-05-01"
    assert out["dt"].value == "2016-09-02T12:00:00+00:00" and out["f"].value == "3.14"
    assert (dirs["outdir"] / out["text"].file).read_text() == "no text input"
