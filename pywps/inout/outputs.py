"""Process outputs: ``LiteralOutput``, ``ComplexOutput``, ``BoundingBoxOutput`` and MetaLink (PyWPS 4 API)."""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from lxml import etree

from pywps.exceptions import InvalidParameterValue
from pywps.inout.basic import (
    UOM,
    BasicBoundingBox,
    BasicComplex,
    BasicIO,
    BasicLiteral,
    IOHandler,
)
from pywps.inout.formats import FORMATS, Format
from pywps.inout.literaltypes import to_text
from pywps.inout.storage import current_storage
from pywps.metadata import Metadata
from pywps.validator.mode import MODE

log = logging.getLogger(__name__)


class LiteralOutput(BasicIO, BasicLiteral, IOHandler):
    """A literal output; the value set by the handler is converted to ``data_type``."""

    def __init__(self, identifier: str, title: str, data_type: str | None = "string", abstract: str = "",
                 keywords: list[str] | None = None, metadata: list[Metadata] | None = None,
                 uoms: list[Any] | None = None, mode: int = MODE.SIMPLE,
                 translations: dict[str, dict[str, str]] | None = None, *, workdir: str | None = None) -> None:
        BasicIO.__init__(self, identifier, title, abstract, keywords, 1, 1, metadata, translations)
        IOHandler.__init__(self, workdir=workdir, mode=mode)
        self._init_literal(data_type, uoms)

    @property
    def data(self) -> Any:
        """The value converted to ``data_type``."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = self.convert_value(value)
        self._set_source("data")

    @property
    def json(self) -> dict[str, Any]:
        """The output description (and value, when set) as a dict."""
        data = {
            "identifier": self.identifier, "title": self.title, "abstract": self.abstract,
            "keywords": self.keywords, "metadata": [m.json for m in self.metadata], "type": "literal",
            "data_type": self.data_type, "uoms": [u.json for u in self.uoms], "translations": self.translations,
            "data": to_text(self._data) if self._data is not None else None,
        }
        if self.uom is not None:
            data["uom"] = self.uom.json
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiteralOutput:
        """Build from :attr:`json`."""
        instance = cls(
            data["identifier"], data.get("title", ""), data_type=data.get("data_type", "string"),
            abstract=data.get("abstract", ""), keywords=data.get("keywords"),
            metadata=[Metadata.from_json(m) for m in data.get("metadata", [])],
            uoms=[UOM.from_json(u) for u in data.get("uoms", [])], translations=data.get("translations"),
        )
        if data.get("data") is not None:
            instance.data = data["data"]
        if data.get("uom"):
            instance.uom = UOM.from_json(data["uom"])
        return instance


class ComplexOutput(BasicIO, BasicComplex, IOHandler):
    """A complex (file-like) output in one of its supported formats."""

    def __init__(self, identifier: str, title: str, supported_formats: list[Format] | None = None,
                 data_format: Format | None = None, abstract: str = "", keywords: list[str] | None = None,
                 workdir: str | None = None, metadata: list[Metadata] | None = None, as_reference: bool = False,
                 mode: int = MODE.NONE, translations: dict[str, dict[str, str]] | None = None) -> None:
        BasicIO.__init__(self, identifier, title, abstract, keywords, 1, 1, metadata, translations)
        IOHandler.__init__(self, workdir=workdir, mode=mode)
        if not supported_formats and data_format is None:
            raise InvalidParameterValue(f"complex output {identifier!r} needs supported_formats",
                                        locator=identifier)
        self._init_complex(supported_formats or [data_format], data_format)
        self.as_reference = bool(as_reference)

    @property
    def output_format(self) -> Format | None:
        """Alias of ``data_format``."""
        return self.data_format

    @output_format.setter
    def output_format(self, value: Format) -> None:
        self.data_format = value

    @property
    def json(self) -> dict[str, Any]:
        """The output description as a dict."""
        data: dict[str, Any] = {
            "identifier": self.identifier, "title": self.title, "abstract": self.abstract,
            "keywords": self.keywords, "metadata": [m.json for m in self.metadata], "type": "complex",
            "data_format": self.data_format.json if self.data_format else None,
            "supported_formats": self.supported_formats_json, "asreference": self.as_reference,
            "mode": self.valid_mode, "translations": self.translations,
        }
        if self.prop == "file":
            data["file"] = self.file
        elif self.prop == "url":
            data["href"] = self.url
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComplexOutput:
        """Build from :attr:`json`."""
        fmt = data.get("data_format")
        return cls(
            data["identifier"], data.get("title", ""),
            supported_formats=[Format.from_json(f) for f in data.get("supported_formats", [])],
            data_format=Format.from_json(fmt) if fmt else None, abstract=data.get("abstract", ""),
            keywords=data.get("keywords"), metadata=[Metadata.from_json(m) for m in data.get("metadata", [])],
            as_reference=data.get("asreference", False), mode=data.get("mode", MODE.NONE),
            translations=data.get("translations"),
        )


class BoundingBoxOutput(BasicIO, BasicBoundingBox, IOHandler):
    """A bounding box output: two corners in one of the supported CRSs."""

    def __init__(self, identifier: str, title: str, crss: list[str] | None, abstract: str = "",
                 keywords: list[str] | None = None, dimensions: int = 2, metadata: list[Metadata] | None = None,
                 min_occurs: int = 1, max_occurs: int = 1, as_reference: bool = False, mode: int = MODE.NONE,
                 translations: dict[str, dict[str, str]] | None = None, *, workdir: str | None = None) -> None:
        BasicIO.__init__(self, identifier, title, abstract, keywords, min_occurs, max_occurs, metadata,
                         translations)
        IOHandler.__init__(self, workdir=workdir, mode=mode)
        self._init_bbox(crss, dimensions)
        self.as_reference = bool(as_reference)

    @property
    def json(self) -> dict[str, Any]:
        """The output description (and value, when set) as a dict."""
        return {
            "identifier": self.identifier, "title": self.title, "abstract": self.abstract,
            "keywords": self.keywords, "metadata": [m.json for m in self.metadata], "type": "bbox",
            "crs": self.crs, "crss": self.crss, "dimensions": self.dimensions, "bbox": self.data,
            "ll": self.ll if self._data else [], "ur": self.ur if self._data else [],
            "translations": self.translations,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BoundingBoxOutput:
        """Build from :attr:`json`."""
        instance = cls(
            data["identifier"], data.get("title", ""), crss=data.get("crss"), abstract=data.get("abstract", ""),
            keywords=data.get("keywords"), dimensions=data.get("dimensions", 2),
            metadata=[Metadata.from_json(m) for m in data.get("metadata", [])],
            translations=data.get("translations"),
        )
        if data.get("bbox"):
            instance.data = data["bbox"]
        return instance


def output_from_json(data: dict[str, Any]) -> LiteralOutput | ComplexOutput | BoundingBoxOutput:
    """Build an output from its :attr:`json`."""
    kind = data.get("type", "literal")
    if kind == "complex":
        return ComplexOutput.from_json(data)
    if kind == "bbox":
        return BoundingBoxOutput.from_json(data)
    if kind == "literal":
        return LiteralOutput.from_json(data)
    raise InvalidParameterValue(f"output type not recognised: {kind}")


class MetaFile:
    """One file listed in a MetaLink; set its content with ``data``, ``file``, ``stream`` or ``url``."""

    def __init__(self, identity: str | None = None, description: str | None = None,
                 fmt: Format | None = None) -> None:
        self._output = ComplexOutput(identity or "file", description or "", as_reference=True,
                                     supported_formats=[fmt or FORMATS.TEXT])
        self._identity = identity or ""
        self.description = description or ""
        self._published: tuple[str, str] | None = None
        self._size: int | None = None

    def _set_workdir(self, workdir: str | None) -> None:
        if workdir:
            self._output.workdir = workdir

    @property
    def identity(self) -> str:
        """Human readable identity."""
        return self._identity

    @property
    def data(self) -> Any:
        """The content in memory."""
        return self._output.data

    @data.setter
    def data(self, value: Any) -> None:
        self._published = self._size = None
        self._output.data = value

    @property
    def file(self) -> str | None:
        """A path holding the content."""
        return self._output.file

    @file.setter
    def file(self, value: str | os.PathLike) -> None:
        self._published = self._size = None
        self._output.file = value

    @property
    def stream(self) -> Any:
        """An open file over the content."""
        return self._output.stream

    @stream.setter
    def stream(self, value: Any) -> None:
        self._published = self._size = None
        self._output.stream = value

    @property
    def url(self) -> str | None:
        """Where the content is published (set, or stored with the job's outputs)."""
        if self._output.prop == "url":
            return self._output.url
        return self._publish()[1]

    @url.setter
    def url(self, value: str) -> None:
        self._published = self._size = None
        self._output.url = value

    def _publish(self) -> tuple[str, str]:
        """Copy the file into the job's output directory once; return its (name, url)."""
        if self._published is None:
            storage = current_storage()
            path = self._output.file
            if storage is None or path is None:
                name = os.path.basename(path or "")
                self._published = (name, Path(path).as_uri() if path else "")
            else:
                name = storage.store(path, os.path.basename(path))
                self._published = (name, storage.url_for(name))
        return self._published

    @property
    def name(self) -> str:
        """The file name."""
        if self._output.prop == "url":
            return os.path.basename((self._output.url or "").split("?")[0]) or self.identity
        return self._publish()[0]

    @property
    def urls(self) -> list[str]:
        """The URLs of the file."""
        url = self.url
        return [url] if url else []

    @property
    def size(self) -> int | None:
        """Size in bytes: as set, else measured (None for remote files)."""
        if self._size is not None:
            return self._size
        if self._output.prop == "url":
            return None
        return self._output.size

    @size.setter
    def size(self, value: int) -> None:
        """Set the size, sparing its measurement (a remote file's size for instance)."""
        self._size = int(value)

    @property
    def hash(self) -> str | None:
        """SHA-256 of the content, hex (None for remote files)."""
        if self._output.prop == "url":
            return None
        digest = hashlib.sha256()
        with open(self._output.file, "rb") as fh:  # type: ignore[arg-type]
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @property
    def mediatype(self) -> str:
        """The mime type of the file."""
        return self._output.data_format.mime_type if self._output.data_format else ""

    def __repr__(self) -> str:
        return f"<MetaFile {self.identity!r}>"


class MetaLink:
    """A Metalink 3.0 document listing several files (use it as the data of a ComplexOutput)."""

    namespace = "http://www.metalinker.org/"

    def __init__(self, identity: str | None = None, description: str | None = None,
                 publisher: str | None = None, files: tuple[MetaFile, ...] | list[MetaFile] = (),
                 workdir: str | None = None, checksums: bool = False) -> None:
        self.identity = identity or ""
        self.description = description or ""
        self.publisher = publisher or ""
        self.workdir = workdir
        self.checksums = checksums
        self.files: list[MetaFile] = []
        for metafile in files:
            self.append(metafile)

    def append(self, metafile: MetaFile) -> None:
        """Add a file."""
        if not isinstance(metafile, MetaFile):
            raise ValueError("file must be a MetaFile instance")
        metafile._set_workdir(self.workdir)
        self.files.append(metafile)

    @property
    def origin(self) -> str:
        """Where the document was first published (not tracked: empty)."""
        return ""

    @property
    def url(self) -> str:
        """The server URL (``[server] url``)."""
        from pywps.configuration import get_config

        return get_config().server.url

    @property
    def published(self) -> str:
        """Creation time, UTC."""
        return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def generator(self) -> str:
        """The generating software."""
        from pywps import __version__

        return f"PyWPS/{__version__}"

    def _element(self, parent: etree._Element, tag: str, text: Any = None, **attrib: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{tag}", attrib)
        if text is not None:
            element.text = str(text)
        return element

    def _document(self) -> etree._Element:
        root = etree.Element(f"{{{self.namespace}}}metalink", nsmap={None: self.namespace},
                             version="3.0", generator=self.generator, type="static", pubdate=self.published)
        if self.publisher:
            publisher = self._element(root, "publisher")
            self._element(publisher, "name", self.publisher)
        if self.description:
            self._element(root, "description", self.description)
        files = self._element(root, "files")
        for metafile in self.files:
            entry = self._element(files, "file", name=metafile.name)
            if metafile.identity:
                self._element(entry, "identity", metafile.identity)
            if metafile.description:
                self._element(entry, "description", metafile.description)
            if metafile.size is not None:
                self._element(entry, "size", metafile.size)
            if self.checksums and metafile.hash:
                verification = self._element(entry, "verification")
                self._element(verification, "hash", metafile.hash, type="sha256")
            resources = self._element(entry, "resources")
            for url in metafile.urls:
                scheme = url.split(":", 1)[0] if ":" in url else "http"
                self._element(resources, "url", url, type=scheme)
        return root

    @property
    def xml(self) -> str:
        """The document as text."""
        return etree.tostring(self._document(), xml_declaration=True, encoding="utf-8",
                              pretty_print=True).decode("utf-8")


class MetaLink4(MetaLink):
    """A Metalink 4 (RFC 5854) document listing several files."""

    namespace = "urn:ietf:params:xml:ns:metalink"

    def _document(self) -> etree._Element:
        root = etree.Element(f"{{{self.namespace}}}metalink", nsmap={None: self.namespace})
        self._element(root, "published", self.published)
        self._element(root, "generator", self.generator)
        for metafile in self.files:
            entry = self._element(root, "file", name=metafile.name)
            if metafile.identity:
                self._element(entry, "identity", metafile.identity)
            if metafile.description:
                self._element(entry, "description", metafile.description)
            if self.publisher:
                self._element(entry, "publisher", name=self.publisher)
            if metafile.size is not None:
                self._element(entry, "size", metafile.size)
            if self.checksums and metafile.hash:
                self._element(entry, "hash", metafile.hash, type="sha-256")
            for url in metafile.urls:
                self._element(entry, "url", url)
        return root
