"""Every name PyWPS 4 documents for process authors imports from its PyWPS 4 path."""

from __future__ import annotations

import importlib

import pytest

NAMES = [
    ("pywps", "Service Process LiteralInput LiteralOutput ComplexInput ComplexOutput BoundingBoxInput "
              "BoundingBoxOutput Format FORMATS UOM Metadata configuration get_ElementMakerForVersion"),
    ("pywps.validator.mode", "MODE"),
    ("pywps.validator.allowed_value", "ALLOWEDVALUETYPE"),
    ("pywps.inout.literaltypes", "AllowedValue AnyValue ValuesReference"),
    ("pywps.app.Common", "Metadata"),
    ("pywps.app.basic", "get_xpath_ns"),
    ("pywps.response.status", "WPS_STATUS"),
    ("pywps.app.Service", "Service"),
    ("pywps.app.exceptions", "ProcessError"),
    ("pywps.inout.outputs", "MetaLink MetaLink4 MetaFile"),
    ("pywps.ext_autodoc", "MetadataUrl"),
    ("pywps.configuration", "get_config_value CONFIG"),
    ("pywps.tests", "WpsClient WpsTestResponse client_for assert_response_success assert_process_exception "
                    "assert_response_accepted"),
]


@pytest.mark.parametrize("module, names", NAMES, ids=[m for m, _ in NAMES])
def test_public_names(module, names):
    imported = importlib.import_module(module)
    for name in names.split():
        assert hasattr(imported, name), f"{module}.{name}"


def test_same_objects_on_both_paths():
    import pywps
    from pywps.app.Common import Metadata
    from pywps.app.Service import Service

    assert pywps.Service is Service and pywps.Metadata is Metadata


def test_wps_status_values():
    from pywps.response.status import WPS_STATUS

    assert {"ACCEPTED", "STARTED", "PAUSED", "SUCCEEDED", "FAILED"} <= set(WPS_STATUS._fields)
