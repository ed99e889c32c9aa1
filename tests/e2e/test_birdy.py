"""birdy (the birdhouse WPS client, built on OWSLib) end to end against a live server on 127.0.0.1.

``WPSClient(url)`` turns every process into a Python function; these tests call them as a birdy user would:
literal, complex (text, JSON, XML, base64 binary) and bounding box data, synchronously and asynchronously
with progress, and a failing process.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from birdy import WPSClient
from birdy.exceptions import ProcessFailed
from owslib.util import ServiceException
from owslib.wps import SYNC, BoundingBoxDataInput


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import LiveServer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYWPS_PROCESSES", "tests.e2e.client_processes:processes")
        live = LiveServer(tmp_path_factory.mktemp("birdy")).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def wps(server):
    return WPSClient(server.url)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "point.json").write_text('{"type": "Point", "coordinates": [7.1, 50.7]}')
    (tmp_path / "note.txt").write_text("three short words\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 3)
    return tmp_path


def test_processes_become_functions(wps):
    for name in ("say_hello", "add", "sleep", "echo_complex", "echo_binary", "echo_bbox", "fail", "box_from_numbers"):
        assert callable(getattr(wps, name))
    assert "b : float" in wps.add.__doc__  # the signature and docstring come from DescribeProcess


def test_literal(wps):
    assert wps.say_hello(name="birdy").get().output == "Hello birdy"
    result = wps.add(a=8, b=2.5).get()
    assert result.sum == 10.5 and isinstance(result.sum, float)
    out = wps.multiple_outputs(text="to be or not").get()
    assert (out.upper, out.length) == ("TO BE OR NOT", 12)


def test_complex_json_text_and_xml(wps, files):
    """birdy sends files and text inline with encoding="utf-8"; outputs come back by reference."""
    result = wps.echo_complex(input=str(files / "point.json"))
    assert result.isSucceded(), result.errors
    [output] = result.processOutputs
    assert output.mimeType == "application/geo+json" and output.reference
    assert json.loads(result.get(asobj=True).output) == {"type": "Point", "coordinates": [7.1, 50.7]}

    result = wps.echo_complex(input=str(files / "note.txt"))
    assert result.processOutputs[0].mimeType == "text/plain"
    assert result.get(asobj=True).output == "three short words\n"

    result = wps.echo_complex(input="<site><name>Bonn</name></site>")  # the first supported format: GML
    assert result.processOutputs[0].mimeType == "application/gml+xml"
    assert b"<name>Bonn</name>" in result.get(asobj=True).output


def test_complex_base64_binary(wps, files):
    result = wps.echo_binary(input=str(files / "blob.bin"))
    assert result.isSucceded(), result.errors
    assert result.processOutputs[0].mimeType == "application/octet-stream"
    assert result.get(asobj=True).output == bytes(range(256)) * 3
    # by value: OWSLib hands birdy the base64 text the server sent
    result = WPSClient(wps._wps.url).echo_binary(input=str(files / "blob.bin"), output_formats={
        "output": {"as_ref": False, "mimetype": "application/octet-stream"}})
    inline = result.get().output  # birdy wraps complex data given by value as a ComplexDataInput
    assert base64.b64decode("".join(inline.value.split())) == bytes(range(256)) * 3


def test_bbox(wps):
    box = wps.box_from_numbers(west=1, south=2, east=3, north=4).get().box
    # the corners as written ("1.0 2.0", "3.0 4.0"); OWSLib reads EPSG:4326 in its axis order, latitude first
    assert (box.miny, box.minx, box.maxy, box.maxx) == ("1.0", "2.0", "3.0", "4.0")
    assert box.crs.getcode() == "EPSG:4326"
    # birdy 0.10 reads a mime type off every input's supported values before it sends anything, and a bbox
    # input's supported values are its CRS names: that stops in birdy itself. The OWSLib service birdy
    # holds sends the same input, and birdy's result reading works on the answer.
    with pytest.raises(AttributeError, match="mimeType"):
        wps.echo_bbox(bbox=BoundingBoxDataInput([1, 2, 3, 4], crs="EPSG:4326"))
    execution = wps._wps.execute("echo_bbox", [("bbox", BoundingBoxDataInput([1, 2, 3, 4], crs="EPSG:4326"))],
                                 output=[("bbox", False)], mode=SYNC)
    assert execution.isSucceded(), execution.errors
    [box] = execution.processOutputs[0].data
    assert (float(box.miny), float(box.maxx)) == (1.0, 4.0)


def test_async_with_progress(server, capsys):
    client = WPSClient(server.url, progress=True)  # asynchronous, status polled and shown
    try:
        result = client.sleep(delay=1)
        assert result.isSucceded() and result.get().sleep_output == "done sleeping"
        printed = capsys.readouterr().out
        assert "sleep [" in printed and "/100]" in printed and "sleep done." in printed
        assert result.statusLocation.startswith(server.url.rsplit("/", 1)[0])
        out = client.multiple_outputs(text="async run").get()
        assert (out.upper, out.length) == ("ASYNC RUN", 9)
    finally:
        logging.getLogger("WPSClient").handlers.clear()


@pytest.mark.parametrize("progress", [False, True])
def test_failing_process(server, progress, capsys):
    """birdy raises its ProcessFailed; the server's message is the execution's error text."""
    client = WPSClient(server.url, progress=progress)
    try:
        result = client.fail(message="the river is too high")
        assert not result.isSucceded()
        assert [(e.code, e.text) for e in result.errors] == [("NoApplicableCode", "the river is too high")]
        with pytest.raises(ProcessFailed):
            result.get()
    finally:
        logging.getLogger("WPSClient").handlers.clear()


def test_refused_input_raises_with_the_server_message(wps):
    """A request the server refuses (400 ExceptionReport) is birdy's ServiceException with the server's text."""
    with pytest.raises(ServiceException) as err:
        wps.add(a=4)  # not one of the allowed values
    assert "InvalidParameterValue" in str(err.value) and "'a'" in str(err.value)
