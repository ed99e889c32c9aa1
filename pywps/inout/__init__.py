"""Process inputs and outputs (PyWPS 4 API)."""

from __future__ import annotations

from pywps.inout.basic import UOM
from pywps.inout.formats import FORMATS, Format, get_format
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput

__all__ = [
    "UOM", "FORMATS", "Format", "get_format", "LiteralInput", "ComplexInput", "BoundingBoxInput",
    "LiteralOutput", "ComplexOutput", "BoundingBoxOutput",
]
