"""Complex data formats: ``Format`` and the well-known ``FORMATS`` (PyWPS 4 API, OGC 12-029 list)."""

from __future__ import annotations

import codecs
import logging
import mimetypes
from collections import namedtuple
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_FORMAT_NAMES = (
    "GEOJSON JSON SHP GML GPX METALINK META4 KML KMZ GEOTIFF WCS WCS100 WCS110 WCS20 WFS WFS100 WFS110 "
    "WFS20 WMS WMS130 WMS110 WMS100 TEXT DODS NETCDF NCML LAS LASJSON LASXML LAZ ZIP XML CSV"
)
_FORMATS = namedtuple("FORMATS", _FORMAT_NAMES)  # type: ignore[misc]


class Format:
    """A complex data format: mime type, encoding, schema, file extension and validator."""

    def __init__(self, mime_type: str, schema: str | None = None, encoding: str | None = None,
                 validate: Callable[[Any, int], bool] | None = None, extension: str | None = None) -> None:
        self._mime_type = ""
        self.mime_type = mime_type
        self.schema = schema
        self.encoding = encoding
        self.validate = validate
        self.extension = extension

    @property
    def mime_type(self) -> str:
        """The mime type."""
        return self._mime_type

    @mime_type.setter
    def mime_type(self, value: str) -> None:
        known = _BY_NAME.get(value) if isinstance(value, str) and value.isupper() else None
        self._mime_type = known.mime_type if known is not None else (value or "")

    @property
    def encoding(self) -> str:
        """The encoding (``base64`` or empty)."""
        return self._encoding

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        self._encoding = value or ""

    @property
    def schema(self) -> str:
        """The schema URL (or empty)."""
        return self._schema

    @schema.setter
    def schema(self, value: str | None) -> None:
        self._schema = value or ""

    @property
    def extension(self) -> str:
        """The file extension including its dot (or empty)."""
        return self._extension

    @extension.setter
    def extension(self, value: str | None) -> None:
        self._extension = value or ""

    def same_as(self, frmt: Any) -> bool:
        """Same mime type, encoding and schema."""
        if not isinstance(frmt, Format):
            return False
        return (frmt.mime_type, frmt.encoding, frmt.schema) == (self.mime_type, self.encoding, self.schema)

    def __eq__(self, other: object) -> bool:
        return self.same_as(other)

    def __hash__(self) -> int:
        return hash((self.mime_type, self.encoding, self.schema))

    def __repr__(self) -> str:
        return f"Format({self.mime_type!r}, schema={self.schema!r}, encoding={self.encoding!r})"

    @property
    def json(self) -> dict[str, str]:
        """The format as a dict."""
        return {"mime_type": self.mime_type, "encoding": self.encoding, "schema": self.schema,
                "extension": self.extension}

    @json.setter
    def json(self, value: dict[str, str]) -> None:
        self.mime_type = value["mime_type"]
        self.encoding = value.get("encoding")
        self.schema = value.get("schema")
        self.extension = value.get("extension")

    @classmethod
    def from_json(cls, value: dict[str, str]) -> Format:
        """Build a format from its dict."""
        return cls(value["mime_type"], schema=value.get("schema"), encoding=value.get("encoding"),
                   extension=value.get("extension"))


_BY_NAME: dict[str, Format] = {}

FORMATS = _FORMATS(
    Format("application/geo+json", extension=".geojson"),
    Format("application/json", extension=".json"),
    Format("application/x-zipped-shp", extension=".zip", encoding="base64"),
    Format("application/gml+xml", extension=".gml"),
    Format("application/gpx+xml", extension=".gpx"),
    Format("application/metalink+xml; version=3.0", extension=".metalink",
           schema="metalink/3.0/metalink.xsd"),
    Format("application/metalink+xml; version=4.0", extension=".meta4", schema="metalink/4.0/metalink4.xsd"),
    Format("application/vnd.google-earth.kml+xml", extension=".kml"),
    Format("application/vnd.google-earth.kmz", extension=".kmz", encoding="base64"),
    Format("image/tiff; subtype=geotiff", extension=".tiff", encoding="base64"),
    Format("application/x-ogc-wcs", extension=".xml"),
    Format("application/x-ogc-wcs; version=1.0.0", extension=".xml"),
    Format("application/x-ogc-wcs; version=1.1.0", extension=".xml"),
    Format("application/x-ogc-wcs; version=2.0", extension=".xml"),
    Format("application/x-ogc-wfs", extension=".xml"),
    Format("application/x-ogc-wfs; version=1.0.0", extension=".xml"),
    Format("application/x-ogc-wfs; version=1.1.0", extension=".xml"),
    Format("application/x-ogc-wfs; version=2.0", extension=".xml"),
    Format("application/x-ogc-wms", extension=".xml"),
    Format("application/x-ogc-wms; version=1.3.0", extension=".xml"),
    Format("application/x-ogc-wms; version=1.1.0", extension=".xml"),
    Format("application/x-ogc-wms; version=1.0.0", extension=".xml"),
    Format("text/plain", extension=".txt"),
    Format("application/x-ogc-dods", extension=".nc"),
    Format("application/x-netcdf", extension=".nc", encoding="base64"),
    Format("application/ncML+xml", extension=".ncml", schema="ncml/2.2/ncml-2.2.xsd"),
    # the point cloud formats keep the mime types (and "binary" encoding) PyWPS 4 advertised
    Format("application/vdn.las", extension=".las", encoding="binary"),
    Format("application/vdn.las.las+json", extension=".lasjson", encoding="binary"),
    Format("application/vnd.las.las+xml", extension=".lasxml", encoding="binary"),
    Format("application/vdn.laszip", extension=".laz", encoding="binary"),
    Format("application/zip", extension=".zip", encoding="base64"),
    Format("application/xml", extension=".xml"),
    Format("text/csv", extension=".csv"),
)
_BY_NAME.update(FORMATS._asdict())

# mime types whose content is binary: by value they travel base64 encoded
BINARY_MIME_PREFIXES = ("image/", "audio/", "video/")
BINARY_MIME_TYPES = frozenset({
    "application/octet-stream", "application/zip", "application/x-zipped-shp", "application/x-netcdf",
    "application/netcdf", "application/x-hdf", "application/x-hdf5", "application/pdf",
    "application/vnd.google-earth.kmz", "application/x-tar", "application/gzip", "application/x-gzip",
    "application/x-bzip2", "application/x-7z-compressed", "application/vnd.ms-excel",
    "application/x-geotiff", "application/x-las", "application/x-laz", "application/vnd.laszip",
    "application/vdn.las", "application/vdn.laszip",
})


def is_binary_mime(mime_type: str | None) -> bool:
    """Whether a mime type denotes binary content."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return base in BINARY_MIME_TYPES or base.startswith(BINARY_MIME_PREFIXES)


def character_set(encoding: str | None) -> str | None:
    """The canonical name of a character encoding (``UTF-8`` -> ``utf-8``); None for ``base64`` and the like."""
    if not encoding:
        return None
    try:
        "".encode(encoding)  # a text encoding; transfer encodings (base64, hex, zlib) are not
    except (LookupError, ValueError):
        return None
    return codecs.lookup(encoding).name


def encoding_fits(requested: str | None, frmt: Format) -> bool:
    """Whether a requested encoding fits a supported format, matched on its mime type as PyWPS 4 does.

    No encoding asked fits; the declared one fits (any case); ``base64`` fits a format declaring none; a
    character set (``utf-8``) fits a text format declaring none or the same character set.
    """
    if not requested:
        return True
    declared = frmt.encoding or ""
    if declared.lower() == requested.lower():
        return True
    if not declared and requested.lower() == "base64":
        return True
    charset = character_set(requested)
    if charset is None or is_binary_mime(frmt.mime_type):
        return False
    return not declared or character_set(declared) == charset


def is_xml_mime(mime_type: str | None) -> bool:
    """Whether a mime type denotes XML content."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return base.endswith(("/xml", "+xml")) or base.startswith("application/x-ogc-")


def _register_mimetypes() -> None:
    """Teach :mod:`mimetypes` the extensions of the known formats."""
    mimetypes.init()
    for frmt in FORMATS:
        mimetypes.add_type(frmt.mime_type, frmt.extension, True)


_register_mimetypes()


def get_format(frmt: str, validator: Callable[[Any, int], bool] | None = None) -> Format:
    """A copy of a ``FORMATS`` entry by name (``'GML'``), or ``Format('None')`` when unknown."""
    known = _BY_NAME.get(frmt)
    if known is None:
        return Format("None", validate=validator)
    return Format(known.mime_type, schema=known.schema, encoding=known.encoding, validate=validator,
                  extension=known.extension)
