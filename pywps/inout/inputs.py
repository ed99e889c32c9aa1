"""Process inputs: ``LiteralInput``, ``ComplexInput``, ``BoundingBoxInput`` (PyWPS 4 API)."""

from __future__ import annotations

import logging
from typing import Any

from pywps.exceptions import InvalidParameterValue
from pywps.inout.basic import (
    SOURCE_TYPE,
    UOM,
    BasicBoundingBox,
    BasicComplex,
    BasicIO,
    BasicLiteral,
    IOHandler,
    literal_validator,
    normalise_allowed_values,
)
from pywps.inout.formats import Format
from pywps.inout.literaltypes import (
    AllowedValue,
    AnyValue,
    NoValue,
    ValuesReference,
    to_text,
)
from pywps.metadata import Metadata
from pywps.validator.mode import MODE

log = logging.getLogger(__name__)


class LiteralInput(BasicIO, BasicLiteral, IOHandler):
    """A literal (string, number, date ...) input, with allowed values and units."""

    def __init__(self, identifier: str, title: str | None = None, data_type: str | None = None,
                 workdir: str | None = None, abstract: str = "", keywords: list[str] | None = None,
                 metadata: list[Metadata] | None = None, uoms: list[Any] | None = None, min_occurs: int = 1,
                 max_occurs: int = 1, mode: int = MODE.SIMPLE, allowed_values: Any = None, default: Any = None,
                 default_type: int = SOURCE_TYPE.DATA,
                 translations: dict[str, dict[str, str]] | None = None) -> None:
        BasicIO.__init__(self, identifier, title, abstract, keywords, min_occurs, max_occurs, metadata,
                         translations)
        IOHandler.__init__(self, workdir=workdir, mode=mode)
        self._init_literal(data_type or "string", uoms)
        self.allowed_values, self.any_value = normalise_allowed_values(allowed_values)
        self.values_reference = next((v for v in self.allowed_values if isinstance(v, ValuesReference)), None)
        self.default = default
        self.default_type = default_type
        if default is not None:
            self.data = default

    @property
    def data(self) -> Any:
        """The value converted to ``data_type``."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = self.convert_value(value)
        self._set_source("data")

    @property
    def validator(self) -> Any:
        """The function checking the value against the allowed values."""
        return literal_validator(self.allowed_values)

    @property
    def json(self) -> dict[str, Any]:
        """The input description (and value, when set) as a dict."""
        data = {
            "identifier": self.identifier, "title": self.title, "abstract": self.abstract,
            "keywords": self.keywords, "metadata": [m.json for m in self.metadata], "type": "literal",
            "data_type": self.data_type, "allowed_values": [v.json for v in self.allowed_values],
            "any_value": self.any_value, "mode": self.valid_mode, "min_occurs": self.min_occurs,
            "max_occurs": self.max_occurs, "translations": self.translations, "workdir": self.workdir,
        }
        if self.values_reference is not None:
            data["values_reference"] = self.values_reference.json
        if self.uoms:
            data["uoms"] = [u.json for u in self.uoms]
        if self.uom is not None:
            data["uom"] = self.uom.json
        if self.default is not None:
            data["default"] = to_text(self.convert_value(self.default))
        if self._data is not None:
            data["data"] = to_text(self._data)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiteralInput:
        """Build from :attr:`json`."""
        allowed = [_allowed_from_json(v) for v in data.get("allowed_values", [])] or None
        instance = cls(
            data["identifier"], data.get("title", ""), data_type=data.get("data_type", "string"),
            abstract=data.get("abstract", ""), keywords=data.get("keywords"),
            metadata=[Metadata.from_json(m) for m in data.get("metadata", [])],
            uoms=[UOM.from_json(u) for u in data.get("uoms", [])], allowed_values=allowed,
            default=data.get("default"), min_occurs=data.get("min_occurs", 1),
            max_occurs=data.get("max_occurs", 1), mode=data.get("mode", MODE.SIMPLE),
            translations=data.get("translations"), workdir=data.get("workdir"),
        )
        if data.get("data") is not None:
            instance.data = data["data"]
        if data.get("uom"):
            instance.uom = UOM.from_json(data["uom"])
        return instance


def _allowed_from_json(data: dict[str, Any]) -> Any:
    kind = data.get("type")
    if kind == "anyvalue":
        return AnyValue()
    if kind == "novalue":
        return NoValue()
    if kind == "valuesreference":
        return ValuesReference.from_json(data)
    return AllowedValue.from_json(data)


class ComplexInput(BasicIO, BasicComplex, IOHandler):
    """A complex (file-like) input in one of its supported formats."""

    def __init__(self, identifier: str, title: str, supported_formats: list[Format],
                 data_format: Format | None = None, abstract: str = "", keywords: list[str] | None = None,
                 workdir: str | None = None, metadata: list[Metadata] | None = None, min_occurs: int = 1,
                 max_occurs: int = 1, mode: int = MODE.NONE, default: Any = None,
                 default_type: int = SOURCE_TYPE.DATA, translations: dict[str, dict[str, str]] | None = None, *,
                 max_megabytes: int | None = None) -> None:
        BasicIO.__init__(self, identifier, title, abstract, keywords, min_occurs, max_occurs, metadata,
                         translations)
        IOHandler.__init__(self, workdir=workdir, mode=mode)
        if not supported_formats:
            raise InvalidParameterValue(f"complex input {identifier!r} needs supported_formats",
                                        locator=identifier)
        self._init_complex(supported_formats, data_format)
        self.default = default
        self.default_type = default_type
        self.max_megabytes = max_megabytes
        self.method = ""

    def set_default(self) -> bool:
        """Use the declared default as the value; False when there is none."""
        if self.default is None:
            return False
        if self.default_type == SOURCE_TYPE.FILE:
            self.file = self.default
        elif self.default_type == SOURCE_TYPE.URL:
            self.url = self.default
        else:
            self.data = self.default
        return True

    @property
    def json(self) -> dict[str, Any]:
        """The input description (and value reference, when set) as a dict."""
        data: dict[str, Any] = {
            "identifier": self.identifier, "title": self.title, "abstract": self.abstract,
            "keywords": self.keywords, "metadata": [m.json for m in self.metadata], "type": "complex",
            "data_format": self.data_format.json if self.data_format else None,
            "asreference": self.as_reference, "supported_formats": self.supported_formats_json,
            "mode": self.valid_mode, "min_occurs": self.min_occurs, "max_occurs": self.max_occurs,
            "translations": self.translations, "workdir": self.workdir,
        }
        if self.prop == "file":
            data["file"] = self.file
        elif self.prop == "url":
            data["href"] = self.url
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComplexInput:
        """Build from :attr:`json`."""
        fmt = data.get("data_format")
        instance = cls(
            data["identifier"], data.get("title", ""),
            supported_formats=[Format.from_json(f) for f in data.get("supported_formats", [])],
            data_format=Format.from_json(fmt) if fmt else None, abstract=data.get("abstract", ""),
            keywords=data.get("keywords"), metadata=[Metadata.from_json(m) for m in data.get("metadata", [])],
            min_occurs=data.get("min_occurs", 1), max_occurs=data.get("max_occurs", 1),
            mode=data.get("mode", MODE.NONE), translations=data.get("translations"), workdir=data.get("workdir"),
        )
        if data.get("file"):
            instance.file = data["file"]
        elif data.get("href"):
            instance.url = data["href"]
        return instance


class BoundingBoxInput(BasicIO, BasicBoundingBox, IOHandler):
    """A bounding box input: two corners in one of the supported CRSs."""

    def __init__(self, identifier: str, title: str, crss: list[str] | None = None, abstract: str = "",
                 keywords: list[str] | None = None, dimensions: int = 2, workdir: str | None = None,
                 metadata: list[Metadata] | None = None, min_occurs: int = 1, max_occurs: int = 1,
                 mode: int = MODE.NONE, default: Any = None, default_type: int = SOURCE_TYPE.DATA,
                 translations: dict[str, dict[str, str]] | None = None) -> None:
        BasicIO.__init__(self, identifier, title, abstract, keywords, min_occurs, max_occurs, metadata,
                         translations)
        IOHandler.__init__(self, workdir=workdir, mode=mode)
        self._init_bbox(crss, dimensions)
        self.default = default
        self.default_type = default_type
        if default is not None:
            self.data = default

    @property
    def json(self) -> dict[str, Any]:
        """The input description (and value, when set) as a dict."""
        return {
            "identifier": self.identifier, "title": self.title, "abstract": self.abstract,
            "keywords": self.keywords, "metadata": [m.json for m in self.metadata], "type": "bbox",
            "crs": self.crs, "crss": self.crss, "bbox": self.data, "ll": self.ll if self._data else [],
            "ur": self.ur if self._data else [], "dimensions": self.dimensions, "mode": self.valid_mode,
            "min_occurs": self.min_occurs, "max_occurs": self.max_occurs, "translations": self.translations,
            "workdir": self.workdir,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BoundingBoxInput:
        """Build from :attr:`json`."""
        instance = cls(
            data["identifier"], data.get("title", ""), crss=data.get("crss"), abstract=data.get("abstract", ""),
            keywords=data.get("keywords"), dimensions=data.get("dimensions", 2),
            metadata=[Metadata.from_json(m) for m in data.get("metadata", [])],
            min_occurs=data.get("min_occurs", 1), max_occurs=data.get("max_occurs", 1),
            mode=data.get("mode", MODE.NONE), translations=data.get("translations"), workdir=data.get("workdir"),
        )
        if data.get("bbox"):
            instance.data = data["bbox"]
        if data.get("crs"):
            instance.crs = data["crs"]
        return instance


def input_from_json(data: dict[str, Any]) -> LiteralInput | ComplexInput | BoundingBoxInput:
    """Build an input from its :attr:`json`."""
    kind = data.get("type", "literal")
    if kind in ("complex", "reference"):
        return ComplexInput.from_json(data)
    if kind == "bbox":
        return BoundingBoxInput.from_json(data)
    if kind == "literal":
        return LiteralInput.from_json(data)
    raise InvalidParameterValue(f"input type not recognised: {kind}")
