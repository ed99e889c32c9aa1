"""A real client: OWSLib against the server over HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest
from owslib import wps as owslib_wps  # a dev dependency: never a skip, under CI=true or not


@pytest.fixture
def wps(live_server):
    server = live_server()
    return owslib_wps.WebProcessingService(server.url, version="1.0.0")


def test_getcapabilities(wps):
    assert wps.identification.title
    ids = {p.identifier for p in wps.processes}
    assert {"say_hello", "add", "echo_complex", "echo_bbox"} <= ids


def test_describeprocess(wps):
    process = wps.describeprocess("add")
    assert [i.identifier for i in process.dataInputs] == ["a", "b"]
    assert process.processOutputs[0].identifier == "sum"


def test_execute_literal(wps):
    execution = wps.execute("say_hello", [("name", "OWSLib")], output=[("output", False)], mode=owslib_wps.SYNC)
    assert execution.isSucceded()
    assert execution.processOutputs[0].data == ["Hello OWSLib"]


def test_execute_complex(wps):
    data = owslib_wps.ComplexDataInput('{"x": 1}', mimeType="application/json")
    execution = wps.execute("echo_complex", [("input", data)], output=[("output", False)], mode=owslib_wps.SYNC)
    assert execution.isSucceded()
    assert '"x"' in "".join(execution.processOutputs[0].data)


def test_execute_bbox(wps):
    bbox = owslib_wps.BoundingBoxDataInput([1, 2, 3, 4], crs="EPSG:4326")
    execution = wps.execute("echo_bbox", [("bbox", bbox)], output=[("bbox", False)], mode=owslib_wps.SYNC)
    assert execution.isSucceded(), execution.errors


def test_execute_async_with_status_polling(wps):
    execution = wps.execute("sleep", [("delay", "0.5")], output=[("sleep_output", False)], mode=owslib_wps.ASYNC)
    owslib_wps.monitorExecution(execution, sleepSecs=0.2)
    assert execution.isSucceded()
    assert execution.processOutputs[0].data == ["done sleeping"]


def test_execute_complex_with_a_character_set(wps):
    """A character set on a text format that declares none is accepted (matched on the mime type, as PyWPS 4);
    base64 text for a format that does not declare base64 is refused with the server's message."""
    for charset in ("utf-8", "UTF-8"):
        data = owslib_wps.ComplexDataInput('{"x": "é"}', mimeType="application/json", encoding=charset)
        execution = wps.execute("echo_complex", [("input", data)], output=[("output", False)], mode=owslib_wps.SYNC)
        assert execution.isSucceded(), execution.errors
        assert '"é"' in "".join(execution.processOutputs[0].data)
    from owslib.util import ServiceException

    data = owslib_wps.ComplexDataInput("eyJ4IjogMX0=", mimeType="application/json", encoding="base64")
    with pytest.raises(ServiceException, match="application/json, base64 is not supported"):
        wps.execute("echo_complex", [("input", data)], output=[("output", False)], mode=owslib_wps.SYNC)
