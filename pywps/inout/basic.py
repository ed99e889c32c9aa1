"""Building blocks of process inputs and outputs (PyWPS 4 API).

An :class:`IOHandler` holds one value from one source (``data``, ``file``, ``stream`` or ``url``) and
derives the other views lazily; files it has to create go into its ``workdir``.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections import namedtuple
from pathlib import Path
from typing import IO, Any

from pywps.exceptions import InvalidParameterValue, NoApplicableCode
from pywps.inout.formats import Format, encoding_fits, is_binary_mime
from pywps.inout.literaltypes import (
    LITERAL_DATA_TYPES,
    AllowedValue,
    AnyValue,
    ValuesReference,
    convert,
    is_anyvalue,
    make_allowedvalues,
    to_text,
)
from pywps.validator import get_validator
from pywps.validator.base import emptyvalidator
from pywps.validator.literalvalidator import (
    validate_allowed_values,
    validate_anyvalue,
    validate_value,
    validate_values_reference,
)
from pywps.validator.mode import MODE

log = logging.getLogger(__name__)

_SOURCE_TYPE = namedtuple("_SOURCE_TYPE", "MEMORY, FILE, STREAM, DATA, URL")
SOURCE_TYPE = _SOURCE_TYPE(0, 1, 2, 3, 4)

_CHUNK = 1024 * 1024

OGC_UOM = "urn:ogc:def:uom:OGC:1.0:{}"
OGCUNIT = {
    "metre": OGC_UOM.format("metre"),
    "meter": OGC_UOM.format("metre"),
    "meters": OGC_UOM.format("metre"),
    "meteres": OGC_UOM.format("metre"),
    "m": OGC_UOM.format("metre"),
    "degree": OGC_UOM.format("degree"),
    "degrees": OGC_UOM.format("degree"),
    "radian": OGC_UOM.format("radian"),
    "second": OGC_UOM.format("second"),
    "unity": OGC_UOM.format("unity"),
    "gridspacing": OGC_UOM.format("gridspacing"),
    "feet": "urn:ogc:def:uom:EPSG::9002",
    "kilometre": "urn:ogc:def:uom:EPSG::9036",
    "kelvin": "urn:ogc:def:uom:UCUM::K",
}


def lower_case_dict(translations: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]] | None:
    """Lower-case the language keys of a translations mapping."""
    if translations is None:
        return None
    return {lang.lower(): dict(values) for lang, values in translations.items()}


def get_translation(obj: Any, attribute: str, language: str | None) -> Any:
    """``obj.<attribute>`` in ``language`` when ``obj.translations`` has it, else the attribute itself."""
    default = getattr(obj, attribute)
    translations = getattr(obj, "translations", None)
    if not language or not translations:
        return default
    lang = language.lower()
    for key in (lang, lang.split("-")[0]):
        if attribute in translations.get(key, {}):
            return translations[key][attribute]
    return default


class UOM:
    """A unit of measure, with the URN it is defined by."""

    def __init__(self, uom: str = "", reference: str | None = None) -> None:
        self.uom = uom
        self.reference = reference if reference is not None else OGCUNIT.get(uom, "")

    @property
    def json(self) -> dict[str, str]:
        """As a dict."""
        return {"uom": self.uom, "reference": self.reference}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> UOM:
        """Build from a dict."""
        return cls(data.get("uom", ""), data.get("reference"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UOM) and self.uom == other.uom

    def __hash__(self) -> int:
        return hash(self.uom)

    def __repr__(self) -> str:
        return f"UOM({self.uom!r})"


def _make_uom(value: Any) -> UOM:
    """A UOM from a UOM or its name."""
    return value if isinstance(value, UOM) else UOM(str(value))


class IOHandler:
    """One value from one source (data, file, stream or url); the other views are derived lazily."""

    def __init__(self, workdir: str | None = None, mode: int = MODE.NONE) -> None:
        self._workdir = workdir
        self.valid_mode = mode
        self.prop: str | None = None
        self._data: Any = None
        self._file: str | None = None
        self._stream: IO | None = None
        self._url: str | None = None
        self._tmp_file: str | None = None
        self.data_set = False
        self.as_reference = False

    # -- workdir ------------------------------------------------------------------------------------
    @property
    def workdir(self) -> str | None:
        """The directory where files derived from data or streams are created."""
        return self._workdir

    @workdir.setter
    def workdir(self, path: str | os.PathLike | None) -> None:
        self._workdir = os.fspath(path) if path is not None else None

    def _set_source(self, prop: str) -> None:
        self.prop = prop
        self._tmp_file = None
        self.data_set = True

    @property
    def source_type(self) -> int | None:
        """The SOURCE_TYPE of the value."""
        return {"data": SOURCE_TYPE.DATA, "file": SOURCE_TYPE.FILE, "stream": SOURCE_TYPE.STREAM,
                "url": SOURCE_TYPE.URL}.get(self.prop or "")

    # -- sources ------------------------------------------------------------------------------------
    @property
    def data(self) -> Any:
        """The value in memory: as set, or read from the file (text, or bytes for binary formats)."""
        if self.prop == "data" or self.prop is None:
            return self._data
        return self._read_content()

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value
        self._set_source("data")

    @property
    def file(self) -> str | None:
        """A path holding the value; created in ``workdir`` when the value came as data or stream."""
        if self.prop is None:
            return None
        if self.prop == "file" or (self.prop == "url" and self._file):
            return self._file
        if self._tmp_file is None or not os.path.exists(self._tmp_file):
            self._tmp_file = self._materialise()
        return self._tmp_file

    @file.setter
    def file(self, value: str | os.PathLike) -> None:
        path = os.path.abspath(os.fspath(value))
        self._file = path
        self._set_source("file")

    @property
    def stream(self) -> IO | None:
        """A new open file object over the value (binary or text like ``data``); None without a value."""
        if self.prop is None:
            return None
        path = self.file  # a stream source is copied to a file once, so it can be reread
        if path is None:
            raise NoApplicableCode(f"{self._name()} has no value")
        if self._is_binary():
            return open(path, "rb")
        return open(path, encoding="utf-8")

    @stream.setter
    def stream(self, value: IO) -> None:
        self._stream = value
        self._set_source("stream")

    @property
    def url(self) -> str | None:
        """The URL of the value: as set, or a ``file://`` URL of its file."""
        if self.prop == "url":
            return self._url
        path = self.file
        return Path(path).as_uri() if path else None

    @url.setter
    def url(self, value: str) -> None:
        self._url = value
        self._file = None
        self._set_source("url")

    def set_fetched(self, path: str | os.PathLike, href: str | None) -> None:
        """Set the value from a reference the host fetched: ``file`` is the copy, ``url`` the origin."""
        self._url = href
        self._file = os.path.abspath(os.fspath(path))
        self._set_source("url")
        self.as_reference = True

    # -- derived views ------------------------------------------------------------------------------
    @property
    def base64(self) -> bytes | None:
        """The value base64 encoded; None without a value."""
        if self.prop is None:
            return None
        return base64.b64encode(self.bytes)

    @property
    def bytes(self) -> bytes:
        """The value as bytes."""
        if self.prop == "data" or self.prop is None:
            return _to_bytes(self._data)
        path = self.file
        if path is None:
            return b""
        with open(path, "rb") as fh:
            return fh.read()

    @property
    def size(self) -> int | None:
        """Size of the value in bytes; None without a value."""
        if self.prop is None:
            return None
        if self.prop == "data":
            return len(_to_bytes(self._data))
        path = self.file
        return os.path.getsize(path) if path else 0

    @property
    def extension(self) -> str | None:
        """The file extension of the data format, when there is one."""
        fmt = getattr(self, "data_format", None)
        return fmt.extension if fmt is not None else None

    def data_as_json(self) -> Any:
        """The value, parsed as JSON when it came from a file or URL of a ``.json``/``.geojson`` format."""
        value = self.data
        if value and self.prop not in (None, "data") and self.extension in (".json", ".geojson"):
            value = json.loads(value)
            self.data = value
        return value

    @staticmethod
    def max_size() -> int:
        """The largest accepted input in bytes (``[server] maxsingleinputsize``)."""
        from pywps.configuration import get_config

        return get_config().server.maxsingleinputsize

    def _name(self) -> str:
        return repr(getattr(self, "identifier", type(self).__name__))

    def _extension(self) -> str:
        fmt = getattr(self, "data_format", None)
        return getattr(fmt, "extension", "") or ""

    def _is_binary(self) -> bool:
        """Whether the content is binary (by format; sniffed when the format does not say)."""
        fmt = getattr(self, "data_format", None)
        if fmt is None:
            return isinstance(self._data, (bytes, bytearray)) if self.prop == "data" else False
        if fmt.encoding.lower() in ("base64", "binary") or is_binary_mime(fmt.mime_type):
            return True
        mime = fmt.mime_type.lower()
        if mime.startswith("text/") or "json" in mime or "xml" in mime:
            return False
        if self.prop == "data":
            return isinstance(self._data, (bytes, bytearray))
        path = self.file
        if not path:
            return False
        with open(path, "rb") as fh:
            head = fh.read(8192)
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            return exc.start < len(head) - 4  # a multi-byte character cut at the end is still text
        return b"\x00" in head

    def _read_content(self) -> Any:
        path = self.file
        if path is None:
            return None
        with open(path, "rb") as fh:
            raw = fh.read()
        if self._is_binary():
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw

    def _new_file_path(self) -> str:
        workdir = self.workdir or tempfile.gettempdir()
        os.makedirs(workdir, exist_ok=True)
        prefix = _safe_name(getattr(self, "identifier", "") or "pywps") + "_"
        fd, path = tempfile.mkstemp(prefix=prefix, suffix=self._extension(), dir=workdir)
        os.close(fd)
        return path

    def _materialise(self) -> str:
        """Write the value to a new file in the workdir."""
        if self.prop == "url":
            raise NoApplicableCode(f"reference input {self._name()} ({self._url}) was not fetched")
        path = self._new_file_path()
        if self.prop == "stream":
            with open(path, "wb") as out:
                while True:
                    chunk = self._stream.read(_CHUNK)  # type: ignore[union-attr]
                    if not chunk:
                        break
                    out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        else:
            with open(path, "wb") as out:
                out.write(_to_bytes(self._data))
        return path

    def copy_to(self, target: str | os.PathLike) -> None:
        """Write the value to ``target`` (a hard link when the value already is a file)."""
        target = os.fspath(target)
        if self.prop == "data":
            with open(target, "wb") as out:
                out.write(_to_bytes(self._data))
            return
        source = self.file
        if source is None:
            raise NoApplicableCode(f"{self._name()} has no value")
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)

    def clone(self) -> Any:
        """A copy of this object (deep, except for open streams)."""
        stream, self._stream = self._stream, None
        try:
            other = copy.deepcopy(self)
        finally:
            self._stream = stream
        other._stream = stream
        return other


def _safe_name(name: str) -> str:
    """A file-name-safe version of an identifier."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cleaned.strip(".")[:64] or "pywps"


def _to_bytes(value: Any) -> bytes:
    """Bytes of a value set as data."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (dict, list)):
        return json.dumps(value).encode("utf-8")
    return to_text(value).encode("utf-8")


class BasicIO:
    """Identification shared by every input and output."""

    def __init__(self, identifier: str, title: str = "", abstract: str = "", keywords: list[str] | None = None,
                 min_occurs: int = 1, max_occurs: int = 1, metadata: list[Any] | None = None,
                 translations: dict[str, dict[str, str]] | None = None) -> None:
        self.identifier = identifier
        self.title = title or ""
        self.abstract = abstract or ""
        self.keywords = list(keywords or [])
        self.min_occurs = int(min_occurs) if min_occurs is not None else 0
        self.max_occurs = int(max_occurs) if max_occurs is not None else 1
        self.metadata = list(metadata or [])
        self.translations = lower_case_dict(translations)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier!r}>"


class BasicLiteral:
    """Data type and units of a literal input or output."""

    def _init_literal(self, data_type: str | None, uoms: list[Any] | None) -> None:
        self.data_type = data_type or "string"
        if self.data_type not in LITERAL_DATA_TYPES:
            raise InvalidParameterValue(f"data type {self.data_type!r} is not supported", locator="data_type")
        self.uoms = [_make_uom(u) for u in (uoms or [])]
        self._uom: UOM | None = None

    @property
    def uom(self) -> UOM | None:
        """The unit of the value: as set, else the default (first) supported unit."""
        if self._uom is not None:
            return self._uom
        return self.uoms[0] if self.uoms else None

    @uom.setter
    def uom(self, value: Any) -> None:
        self._uom = _make_uom(value) if value is not None else None

    def convert_value(self, value: Any) -> Any:
        """Convert a value to this literal's data type."""
        if value is None:
            return None
        return convert(self.data_type, value)


class BasicComplex:
    """Supported formats and the current format of a complex input or output."""

    def _init_complex(self, supported_formats: list[Format] | None, data_format: Format | None) -> None:
        formats = [_copy_format(f) for f in (supported_formats or [])]
        for frmt in formats:  # as in PyWPS 4, every supported format carries the validator of its mime type
            if not frmt.validate or frmt.validate is emptyvalidator:
                frmt.validate = get_validator(frmt.mime_type)
        self.supported_formats = formats
        if data_format is not None:
            self._data_format = _copy_format(data_format)
        elif formats:
            self._data_format = formats[0]
        else:
            self._data_format = None
        if self._data_format is not None and not self._data_format.validate:
            self._data_format.validate = get_validator(self._data_format.mime_type)

    @property
    def data_format(self) -> Format | None:
        """The format of the value (the default format until a request or handler chooses another)."""
        return self._data_format

    @data_format.setter
    def data_format(self, value: Format | None) -> None:
        if value is None:
            self._data_format = None
            return
        frmt = _copy_format(value)
        if not frmt.extension:
            match = self.find_format(frmt.mime_type, frmt.encoding or None, frmt.schema or None)
            if match is not None:
                frmt.extension = match.extension
        if not frmt.validate:
            frmt.validate = get_validator(frmt.mime_type)
        self._data_format = frmt

    @property
    def supported_formats_json(self) -> list[dict[str, str]]:
        """Supported formats as dicts."""
        return [f.json for f in self.supported_formats]

    def get_format(self, mime_type: str) -> Format | None:
        """The first supported format with exactly this mime type, or None."""
        return next((f for f in self.supported_formats if f.mime_type == mime_type), None)

    def find_format(self, mime_type: str | None, encoding: str | None = None,
                    schema: str | None = None) -> Format | None:
        """The supported format matching a requested mime type, encoding and schema, or None."""
        candidates = self.supported_formats or ([self._data_format] if self._data_format else [])
        if not mime_type:
            return _pick(candidates, encoding, schema)
        wanted = _norm_mime(mime_type)
        same_mime = [f for f in candidates if _norm_mime(f.mime_type) == wanted]
        if not same_mime:  # 'text/xml; subtype=gml/3.1.1' fits 'text/xml' and the other way round
            base = wanted.split(";")[0]
            same_mime = [f for f in candidates if _norm_mime(f.mime_type).split(";")[0] == base
                         and (";" not in wanted or ";" not in f.mime_type)]
        return _pick(same_mime, encoding, schema)

    @property
    def validator(self) -> Any:
        """The validation function of the current format."""
        fmt = self._data_format
        if fmt is None:
            return emptyvalidator
        return fmt.validate or get_validator(fmt.mime_type)


def _pick(candidates: list[Format], encoding: str | None, schema: str | None) -> Format | None:
    """The first format whose encoding and schema agree with the requested ones (when given)."""
    for frmt in candidates:
        if not encoding_fits(encoding, frmt):
            continue
        if schema and frmt.schema and frmt.schema != schema:
            continue
        return frmt
    return None


def _norm_mime(mime: str) -> str:
    """Normalise a mime type for comparison: lower case, no blanks around parameters."""
    return ";".join(part.strip() for part in (mime or "").lower().split(";"))


def _copy_format(frmt: Format) -> Format:
    """A private copy of a (possibly shared, e.g. ``FORMATS.GML``) format."""
    if not isinstance(frmt, Format):
        raise InvalidParameterValue(f"{frmt!r} is not a Format", locator="supported_formats")
    return Format(frmt.mime_type, schema=frmt.schema or None, encoding=frmt.encoding or None,
                  validate=frmt.validate, extension=frmt.extension or None)


class BasicBoundingBox:
    """Coordinate reference systems and dimensions of a bounding box input or output."""

    def _init_bbox(self, crss: list[str] | None, dimensions: int) -> None:
        self.crss = list(crss or ["epsg:4326"])
        self.dimensions = int(dimensions or 2)
        self._crs: str | None = None

    @property
    def crs(self) -> str | None:
        """The CRS of the value: as set, else the default (first) supported CRS."""
        return self._crs or (self.crss[0] if self.crss else None)

    @crs.setter
    def crs(self, value: str | None) -> None:
        self._crs = value

    @property
    def ll(self) -> list[float]:
        """The lower corner."""
        data = self.bbox_values()
        return data[: len(data) // 2]

    @property
    def ur(self) -> list[float]:
        """The upper corner."""
        data = self.bbox_values()
        return data[len(data) // 2:]

    def bbox_values(self) -> list[float]:
        """The corners as one flat list of floats."""
        return parse_bbox_values(self.data)

    @property
    def data(self) -> list[float] | None:
        """The corners as ``[minx, miny, maxx, maxy]`` (or six numbers in 3D)."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = parse_bbox_values(value) if value is not None else None
        self._set_source("data")  # type: ignore[attr-defined]


_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_coordinate(text: str) -> float | None:
    """A finite number written in decimal ('-2.5', '1e3'); None for anything else ('NaN', 'INF', '1e999', '1_0')."""
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_bbox_values(value: Any) -> list[float]:
    """Corners from ``[minx, miny, maxx, maxy]``, ``[[minx, miny], [maxx, maxy]]`` or 'minx,miny,maxx,maxy'."""
    if value is None:
        return []
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        value = [v for v in value.replace(" ", ",").split(",") if v]
    items = list(value)
    if len(items) == 2 and all(isinstance(v, (list, tuple)) for v in items):
        items = [*items[0], *items[1]]
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        raise InvalidParameterValue(f"bounding box corners must be numbers, not {value!r}") from None
    if len(numbers) < 4 or len(numbers) % 2:
        raise InvalidParameterValue(f"a bounding box needs two corners of equal dimension, got {value!r}")
    return numbers


def literal_validator(allowed_values: list[Any]) -> Any:
    """The validation function matching a literal's allowed values (the choice PyWPS 4 made)."""
    if any(isinstance(a, AnyValue) for a in allowed_values):
        return validate_anyvalue
    if any(isinstance(a, ValuesReference) for a in allowed_values):
        return validate_values_reference
    if allowed_values:
        return validate_allowed_values
    return validate_value


def normalise_allowed_values(allowed_values: Any) -> tuple[list[Any], bool]:
    """The allowed-value objects of a literal input and whether any value is allowed.

    Nothing given (None or an empty list) leaves the list empty and ``any_value`` False, as in PyWPS 4;
    any value is accepted all the same (``validate_value``).
    """
    if allowed_values is None or (isinstance(allowed_values, (list, tuple)) and not allowed_values):
        return [], False
    if not isinstance(allowed_values, (list, tuple)) and is_anyvalue(allowed_values):
        return [AnyValue()], True
    values = make_allowedvalues(allowed_values)
    return values, any(isinstance(v, AnyValue) for v in values)


__all__ = [
    "SOURCE_TYPE", "UOM", "OGCUNIT", "IOHandler", "BasicIO", "BasicLiteral", "BasicComplex",
    "BasicBoundingBox", "AllowedValue", "get_translation", "lower_case_dict", "parse_bbox_values", "parse_coordinate",
]
