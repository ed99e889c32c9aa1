"""Parsing WPS 2.0.0 requests (KVP and XML POST) into the request model; every valid request body used here
validates against the WPS 2.0 schema, and every refusal names its parameter and renders as OWS 2.0."""

from __future__ import annotations

import pytest

from pywps.exceptions import (
    InvalidParameterValue,
    MissingParameterValue,
    NoApplicableCode,
    OperationNotSupported,
    VersionNegotiationFailed,
)
from pywps.request import parse_request
from pywps.requestmodel import (
    SUPPORTED_VERSIONS,
    DescribeProcessRequest,
    DismissRequest,
    Execute2Request,
    GetCapabilitiesRequest,
    GetResultRequest,
    GetStatusRequest,
)
from tests.wps2.wpsxml import DECLARE, execute, job_request, literal
from tests.xsd import validate

JOB = "0b6e9c1c-3c1e-4f43-9d39-8f1c2f0a8b11"


def kvp(**params: str):
    return parse_request("GET", params)


def xml(body: str):
    return parse_request("POST", {}, body.encode(), "text/xml")


def refused(exc: type[NoApplicableCode], locator: str, call, *args) -> NoApplicableCode:
    with pytest.raises(exc) as info:
        call(*args)
    assert type(info.value) is exc and info.value.locator == locator
    return info.value


def test_one_supported_versions_constant():
    import pywps.operations
    import pywps.request

    assert SUPPORTED_VERSIONS == ("1.0.0", "2.0.0")
    assert not hasattr(pywps.request, "SUPPORTED_VERSIONS") or pywps.request.SUPPORTED_VERSIONS is SUPPORTED_VERSIONS
    assert pywps.operations.SUPPORTED_VERSIONS is SUPPORTED_VERSIONS


@pytest.mark.parametrize("accept, expected", [
    ("2.0.0", "2.0.0"), ("2.0.0,1.0.0", "2.0.0"), ("1.0.0,2.0.0", "1.0.0"), ("3.0.0, 2.0.0", "2.0.0"),
])
def test_getcapabilities_negotiation_kvp(accept, expected):
    assert kvp(service="WPS", request="GetCapabilities", AcceptVersions=accept).version == expected


def test_getcapabilities_without_acceptversions_stays_1_0_0_over_kvp():
    assert kvp(service="WPS", request="GetCapabilities").version == "1.0.0"  # PyWPS 4 clients
    refused(VersionNegotiationFailed, "AcceptVersions",
            lambda: kvp(service="WPS", request="GetCapabilities", AcceptVersions="0.9.0,3.0.0"))


def test_getcapabilities_xml():
    body = (f'<wps:GetCapabilities {DECLARE} service="WPS"><ows:AcceptVersions><ows:Version>2.0.0</ows:Version>'
            "<ows:Version>1.0.0</ows:Version></ows:AcceptVersions><ows:Sections><ows:Section>Contents"
            "</ows:Section></ows:Sections><ows:AcceptLanguages><ows:Language>fr-CA</ows:Language>"
            "</ows:AcceptLanguages></wps:GetCapabilities>")
    validate(body.encode())
    req = xml(body)
    assert req == GetCapabilitiesRequest(accept_versions=("2.0.0", "1.0.0"), sections=("Contents",),
                                         version="2.0.0", accept_languages=("fr-CA",))
    assert xml(f'<wps:GetCapabilities {DECLARE} service="WPS"/>').version == "2.0.0"
    assert kvp(service="WPS", request="GetCapabilities", AcceptVersions="2.0.0",
               AcceptLanguages="de,fr-CA").accept_languages == ("de", "fr-CA")


def test_describeprocess_kvp_and_xml():
    assert kvp(service="WPS", request="DescribeProcess", version="2.0.0", identifier="a,b", lang="fr-CA") == \
        DescribeProcessRequest(("a", "b"), version="2.0.0", language="fr-CA")
    body = (f'<wps:DescribeProcess {DECLARE} service="WPS" version="2.0.0" xml:lang="fr-CA">'
            "<ows:Identifier>a</ows:Identifier><ows:Identifier>ALL</ows:Identifier></wps:DescribeProcess>")
    validate(body.encode())
    assert xml(body) == DescribeProcessRequest(("a", "ALL"), version="2.0.0", language="fr-CA")


@pytest.mark.parametrize("operation, model", [
    ("GetStatus", GetStatusRequest), ("GetResult", GetResultRequest), ("Dismiss", DismissRequest),
])
def test_job_operations_kvp_and_xml(operation, model):
    assert kvp(service="WPS", request=operation, version="2.0.0", jobId=JOB) == model(JOB)
    assert kvp(SERVICE="wps", REQUEST=operation.lower(), VERSION="2.0.0", JOBID=f" {JOB} ") == model(JOB)
    body = job_request(operation, JOB)
    validate(body.encode())
    assert xml(body) == model(JOB)


@pytest.mark.parametrize("operation", ["GetStatus", "GetResult", "Dismiss"])
def test_job_operations_refusals(operation):
    exc = refused(MissingParameterValue, "JobID", lambda: kvp(service="WPS", request=operation, version="2.0.0"))
    assert exc.version == "2.0.0" and b"http://www.opengis.net/ows/2.0" in exc.to_xml()
    refused(MissingParameterValue, "JobID", lambda: xml(job_request(operation, "")))
    refused(MissingParameterValue, "version", lambda: kvp(service="WPS", request=operation, jobId=JOB))
    exc = refused(OperationNotSupported, "request",
                  lambda: kvp(service="WPS", request=operation, version="1.0.0", jobId=JOB))
    assert exc.code == 501
    body = job_request(operation, JOB).replace('"2.0.0"', '"1.0.0"')
    refused(InvalidParameterValue, "version", lambda: xml(body))
    wps1 = (f'<wps:{operation} xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0">'
            f"<wps:JobID>{JOB}</wps:JobID></wps:{operation}>")
    assert refused(OperationNotSupported, operation, lambda: xml(wps1)).version == "1.0.0"


def test_execute_xml_modes_and_responses():
    for mode in ("sync", "async", "auto"):
        for response in ("document", "raw"):
            body = execute("say_hello", literal("name", "x"), mode=mode, response=response, outputs=("output",))
            validate(body.encode())
            req = xml(body)
            assert isinstance(req, Execute2Request)
            assert (req.mode, req.response, req.version) == (mode, response, "2.0.0")
            assert req.execute.raw_output is (response == "raw")
            assert not req.execute.store_execute_response  # decided by the operation, from the mode
            assert req.execute.inputs[0].data == "x" and req.execute.outputs[0].identifier == "output"


def test_execute_xml_refusals_are_ows2():
    body = execute("say_hello", literal("name", "x"), mode="later")
    assert refused(InvalidParameterValue, "mode", lambda: xml(body)).version == "2.0.0"
    body = execute("say_hello", literal("name", "x"), response="stream")
    assert refused(InvalidParameterValue, "response", lambda: xml(body)).version == "2.0.0"
    body = execute("", literal("name", "x"))
    assert refused(MissingParameterValue, "identifier", lambda: xml(body)).version == "2.0.0"
    body = execute("say_hello", "<wps:Input><wps:Data>x</wps:Data></wps:Input>")
    assert refused(MissingParameterValue, "Input", lambda: xml(body)).version == "2.0.0"
    # a body that is not well-formed XML has no version anyone can tell: an OWS 1.1 report
    broken = execute("say_hello", literal("name", "x")).replace(">x<", ">&#xFFFE;<")
    assert refused(InvalidParameterValue, "request", lambda: xml(broken)).version == "1.0.0"


def test_execute_has_no_kvp_encoding():
    exc = refused(OperationNotSupported, "request",
                  lambda: kvp(service="WPS", request="Execute", version="2.0.0", identifier="say_hello"))
    assert exc.version == "2.0.0"


def test_characters_xml_cannot_carry_are_refused_in_a_job_id():
    exc = refused(InvalidParameterValue, "jobId",
                  lambda: kvp(service="WPS", request="GetStatus", version="2.0.0", jobId="a\x01b"))
    assert exc.code == 400
