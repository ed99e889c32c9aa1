"""A form-encoded POST (application/x-www-form-urlencoded KVP) reaches the KVP parser over HTTP."""

from __future__ import annotations

import requests

from tests.xsd import validate


def test_form_encoded_post_over_http(live_server):
    server = live_server()
    form = {"service": "WPS", "request": "GetCapabilities"}
    resp = requests.post(server.url, data=form, timeout=30)
    assert resp.status_code == 200 and b"Capabilities" in resp.content
    validate(resp.content)
    form = {"service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": "say_hello",
            "DataInputs": "name=form"}
    resp = requests.post(server.url, data=form, timeout=60)
    assert resp.status_code == 200, resp.text
    validate(resp.content)
    assert b"Hello form" in resp.content
    bad = requests.post(server.url, data={"service": "WPS", "request": "Execute", "version": "1.0.0",
                                          "identifier": "say_hello", "DataInputs": "name=a\x01b"}, timeout=30)
    assert bad.status_code == 400 and b"InvalidParameterValue" in bad.content
