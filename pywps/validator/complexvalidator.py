"""Validators for complex inputs, by mime type and content (PyWPS 4 API, no GDAL needed).

Each validator takes an input object (``data_format``, ``file``) and a :data:`MODE`:
``SIMPLE`` checks the declared mime type, ``STRICT`` also inspects the content, ``VERYSTRICT`` also
checks the content against a schema or structure where one can be checked offline.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zipfile
from typing import Any

from lxml import etree

from pywps.validator.mode import MODE

log = logging.getLogger(__name__)

GML_NAMESPACES = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
GPX_NAMESPACES = ("http://www.topografix.com/GPX/1/0", "http://www.topografix.com/GPX/1/1")
GEOJSON_TYPES = (
    "Feature", "FeatureCollection", "Point", "MultiPoint", "LineString", "MultiLineString",
    "Polygon", "MultiPolygon", "GeometryCollection",
)
_GEOMETRY_TYPES = GEOJSON_TYPES[2:]
_MAX_JSON_BYTES = 512 * 1024 * 1024


def _mime(data_input: Any) -> str:
    """The declared mime type of an input, without parameters, lower case."""
    fmt = getattr(data_input, "data_format", None)
    mime = getattr(fmt, "mime_type", "") or ""
    return mime.split(";")[0].strip().lower()


def _mime_in(data_input: Any, *mimes: str) -> bool:
    """Whether the declared mime type is one of ``mimes`` (parameters ignored)."""
    return _mime(data_input) in {m.split(";")[0].strip().lower() for m in mimes}


def _path(data_input: Any) -> str | None:
    """The input content as a file path, or None when unavailable."""
    try:
        return data_input.file
    except Exception:
        log.debug("no file for %r", getattr(data_input, "identifier", data_input), exc_info=True)
        return None


def _parse_xml(path: str) -> etree._ElementTree | None:
    """Parse an XML file without network, DTDs or entities; None when not well formed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.parse(path, parser=parser)
    except (etree.XMLSyntaxError, OSError):
        return None


def _schema_valid(tree: etree._ElementTree, schema_url: str) -> bool:
    """Validate against a schema that can be loaded without network (XML catalog or local path)."""
    if not schema_url:
        return False
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        schema = etree.XMLSchema(etree.parse(schema_url, parser=parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        log.warning("cannot load schema %s offline: %s", schema_url, exc)
        return False
    ok = schema.validate(tree)
    if not ok:
        log.info("schema validation failed: %s", schema.error_log.last_error)
    return ok


def _read_head(path: str, size: int = 16) -> bytes:
    """The first bytes of a file."""
    with open(path, "rb") as fh:
        return fh.read(size)


def validatenone(data_input: Any, mode: int) -> bool:
    """Accept anything."""
    return True


def validatexml(data_input: Any, mode: int) -> bool:
    """XML: mime type, well-formedness, schema."""
    if mode == MODE.NONE:
        return True
    passed = "xml" in _mime(data_input)
    if mode >= MODE.STRICT and passed:
        path = _path(data_input)
        tree = _parse_xml(path) if path else None
        passed = tree is not None
        if mode >= MODE.VERYSTRICT and passed:
            passed = _schema_valid(tree, data_input.data_format.schema)
    return passed


def _validate_xml_ns(data_input: Any, mode: int, mimes: tuple[str, ...], namespaces: tuple[str, ...],
                     root_only: bool) -> bool:
    """Shared logic of GML and GPX validation."""
    if mode == MODE.NONE:
        return True
    passed = _mime_in(data_input, *mimes)
    if mode >= MODE.STRICT and passed:
        path = _path(data_input)
        tree = _parse_xml(path) if path else None
        if tree is None:
            return False
        root = tree.getroot()
        if root_only:
            passed = etree.QName(root).namespace in namespaces
        else:
            passed = any(
                isinstance(el.tag, str) and etree.QName(el).namespace in namespaces for el in root.iter()
            )
        if mode >= MODE.VERYSTRICT and passed:
            passed = _schema_valid(tree, data_input.data_format.schema)
    return passed


def validategml(data_input: Any, mode: int) -> bool:
    """GML: mime type, GML elements present, schema."""
    return _validate_xml_ns(
        data_input, mode, ("application/gml+xml", "text/xml", "application/xml"), GML_NAMESPACES, False,
    )


def validategpx(data_input: Any, mode: int) -> bool:
    """GPX: mime type, gpx root element, schema."""
    return _validate_xml_ns(data_input, mode, ("application/gpx+xml",), GPX_NAMESPACES, True)


def _load_json(data_input: Any) -> Any:
    """Parse the input as JSON; raise ValueError when it is not."""
    path = _path(data_input)
    if path is None or os.path.getsize(path) > _MAX_JSON_BYTES:
        raise ValueError("no content or too large")
    with open(path, "rb") as fh:
        return json.loads(fh.read().decode("utf-8"))


def validatejson(data_input: Any, mode: int) -> bool:
    """JSON: mime type, parses."""
    if mode == MODE.NONE:
        return True
    mime = _mime(data_input)
    passed = mime == "application/json" or mime.endswith("+json")
    if mode >= MODE.STRICT and passed:
        try:
            _load_json(data_input)
        except ValueError:
            passed = False
    return passed


def _geojson_ok(obj: Any) -> bool:
    """A structural check of a GeoJSON object."""
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return isinstance(obj.get("features"), list) and all(_geojson_ok(f) for f in obj["features"])
    if kind == "Feature":
        geometry = obj.get("geometry")
        return "properties" in obj and (geometry is None or _geojson_ok(geometry))
    if kind == "GeometryCollection":
        return isinstance(obj.get("geometries"), list) and all(_geojson_ok(g) for g in obj["geometries"])
    return kind in _GEOMETRY_TYPES and isinstance(obj.get("coordinates"), list)


def validategeojson(data_input: Any, mode: int) -> bool:
    """GeoJSON: mime type, parses with a GeoJSON type, full structure."""
    if mode == MODE.NONE:
        return True
    passed = _mime_in(data_input, "application/geo+json", "application/vnd.geo+json", "application/json")
    if mode >= MODE.STRICT and passed:
        try:
            obj = _load_json(data_input)
        except ValueError:
            return False
        passed = isinstance(obj, dict) and obj.get("type") in GEOJSON_TYPES
        if mode >= MODE.VERYSTRICT and passed:
            passed = _geojson_ok(obj)
    return passed


def validateshapefile(data_input: Any, mode: int) -> bool:
    """Zipped shapefile: mime type, a zip holding .shp, .shx and .dbf members."""
    if mode == MODE.NONE:
        return True
    passed = _mime_in(data_input, "application/x-zipped-shp", "application/zip")
    if mode >= MODE.STRICT and passed:
        path = _path(data_input)
        try:
            with zipfile.ZipFile(path) as zf:
                exts = {os.path.splitext(n)[1].lower() for n in zf.namelist()}
        except (zipfile.BadZipFile, OSError, TypeError):
            return False
        passed = {".shp", ".shx", ".dbf"} <= exts
    return passed


def _tiff_tags(path: str) -> set[int]:
    """The tag numbers of the first IFD of a classic or big TIFF file."""
    with open(path, "rb") as fh:
        head = fh.read(16)
        order = "<" if head[:2] == b"II" else ">"
        magic = struct.unpack(order + "H", head[2:4])[0]
        tags: set[int] = set()
        if magic == 42:
            fh.seek(struct.unpack(order + "I", head[4:8])[0])
            count = struct.unpack(order + "H", fh.read(2))[0]
            for _ in range(min(count, 4096)):
                entry = fh.read(12)
                if len(entry) < 12:
                    break
                tags.add(struct.unpack(order + "H", entry[:2])[0])
        elif magic == 43:
            fh.seek(struct.unpack(order + "Q", head[8:16])[0])
            count = struct.unpack(order + "Q", fh.read(8))[0]
            for _ in range(min(count, 4096)):
                entry = fh.read(20)
                if len(entry) < 20:
                    break
                tags.add(struct.unpack(order + "H", entry[:2])[0])
        return tags


def validategeotiff(data_input: Any, mode: int) -> bool:
    """GeoTIFF: mime type, TIFF signature, GeoTIFF tags."""
    if mode == MODE.NONE:
        return True
    passed = _mime(data_input) in ("image/tiff", "image/geotiff")
    if mode >= MODE.STRICT and passed:
        path = _path(data_input)
        try:
            head = _read_head(path, 4) if path else b""
        except OSError:
            return False
        passed = head in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
        if mode >= MODE.VERYSTRICT and passed:
            try:
                tags = _tiff_tags(path)
            except (OSError, struct.error):
                return False
            passed = bool(tags & {33550, 33922, 34264, 34735})
    return passed


def validatenetcdf(data_input: Any, mode: int) -> bool:
    """NetCDF: mime type, classic/64-bit/CDF5 or HDF5 signature."""
    if mode == MODE.NONE:
        return True
    passed = _mime_in(data_input, "application/x-netcdf", "application/netcdf", "application/x-ogc-dods")
    if mode >= MODE.STRICT and passed:
        path = _path(data_input)
        try:
            head = _read_head(path, 8) if path else b""
        except OSError:
            return False
        passed = head[:4] in (b"CDF\x01", b"CDF\x02", b"CDF\x05") or head == b"\x89HDF\r\n\x1a\n"
    return passed


def validatedods(data_input: Any, mode: int) -> bool:
    """OPeNDAP: mime type, an http(s) URL."""
    if mode == MODE.NONE:
        return True
    passed = _mime_in(data_input, "application/x-ogc-dods")
    if mode >= MODE.STRICT and passed:
        url = getattr(data_input, "url", None) or ""
        passed = str(url).startswith(("http://", "https://"))
    return passed
