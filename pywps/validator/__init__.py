"""Input validators (PyWPS 4 API): pick a complex validator by mime type."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pywps.validator.base import emptyvalidator
from pywps.validator.complexvalidator import (
    validatedods,
    validategeojson,
    validategeotiff,
    validategml,
    validategpx,
    validatejson,
    validatenetcdf,
    validateshapefile,
    validatexml,
)

log = logging.getLogger(__name__)

Validator = Callable[[Any, int], bool]

_VALIDATORS: dict[str, Validator] = {
    "application/geo+json": validategeojson,
    "application/vnd.geo+json": validategeojson,
    "application/json": validatejson,
    "application/x-zipped-shp": validateshapefile,
    "application/gml+xml": validategml,
    "application/gpx+xml": validategpx,
    "application/xml": validatexml,
    "text/xml": validatexml,
    "image/tiff; subtype=geotiff": validategeotiff,
    "image/tiff": validategeotiff,
    "application/x-netcdf": validatenetcdf,
    "application/x-ogc-dods": validatedods,
}


def get_validator(identifier: str | None) -> Validator:
    """The validator for a mime type, or one that accepts everything."""
    if not identifier:
        return emptyvalidator
    found = _VALIDATORS.get(identifier)
    if found is None:
        found = _VALIDATORS.get(identifier.split(";")[0].strip().lower(), emptyvalidator)
    return found
