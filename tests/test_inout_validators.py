"""Complex validators by mode, and MetaLink documents."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from lxml import etree

from pywps.inout.formats import FORMATS, Format
from pywps.inout.inputs import ComplexInput
from pywps.inout.outputs import MetaFile, MetaLink, MetaLink4
from pywps.inout.storage import JobStorage, bind_storage
from pywps.validator import get_validator
from pywps.validator.base import emptyvalidator
from pywps.validator.complexvalidator import (
    validategeojson,
    validategeotiff,
    validategml,
    validategpx,
    validatejson,
    validatenetcdf,
    validatenone,
    validateshapefile,
    validatexml,
)
from pywps.validator.mode import MODE


def make(tmp_path, frmt: Format, content: bytes | str) -> ComplexInput:
    inpt = ComplexInput("x", "X", [frmt], workdir=str(tmp_path))
    inpt.data = content
    return inpt


GML = b'<gml:Point xmlns:gml="http://www.opengis.net/gml"><gml:pos>1 2</gml:pos></gml:Point>'


def tiff(geo: bool) -> bytes:
    tags = [(256, 3, 1, 1), (257, 3, 1, 1)] + ([(33550, 12, 3, 0), (34735, 3, 4, 0)] if geo else [])
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def shapezip(members: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in members:
            zf.writestr(name, b"x")
    return buf.getvalue()


@pytest.mark.parametrize(("validator", "frmt", "content", "mode", "ok"), [
    (validategml, FORMATS.GML, GML, MODE.STRICT, True),
    (validategml, FORMATS.GML, b"<a/>", MODE.STRICT, False),
    (validategml, FORMATS.GML, b"<a", MODE.STRICT, False),
    (validategml, FORMATS.JSON, GML, MODE.SIMPLE, False),
    (validategml, FORMATS.GML, b"<a", MODE.NONE, True),
    (validategpx, FORMATS.GPX, b'<gpx xmlns="http://www.topografix.com/GPX/1/1"/>', MODE.STRICT, True),
    (validategpx, FORMATS.GPX, b"<gpx/>", MODE.STRICT, False),
    (validatexml, FORMATS.XML, b"<a/>", MODE.STRICT, True),
    (validatexml, FORMATS.XML, b"<a>", MODE.STRICT, False),
    (validatejson, FORMATS.JSON, b'{"a": 1}', MODE.STRICT, True),
    (validatejson, FORMATS.JSON, b"{a}", MODE.STRICT, False),
    (validategeojson, FORMATS.GEOJSON, b'{"type": "Point", "coordinates": [1, 2]}', MODE.VERYSTRICT, True),
    (validategeojson, FORMATS.GEOJSON, b'{"type": "Point"}', MODE.STRICT, True),
    (validategeojson, FORMATS.GEOJSON, b'{"type": "Point"}', MODE.VERYSTRICT, False),
    (validategeojson, FORMATS.GEOJSON, b'{"type": "Banana"}', MODE.STRICT, False),
    (validategeojson, FORMATS.GEOJSON,
     b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, "properties": {}}]}',
     MODE.VERYSTRICT, True),
    (validateshapefile, FORMATS.SHP, shapezip(["a.shp", "a.shx", "a.dbf"]), MODE.STRICT, True),
    (validateshapefile, FORMATS.SHP, shapezip(["a.shp"]), MODE.STRICT, False),
    (validateshapefile, FORMATS.SHP, b"not a zip", MODE.STRICT, False),
    (validategeotiff, FORMATS.GEOTIFF, tiff(True), MODE.VERYSTRICT, True),
    (validategeotiff, FORMATS.GEOTIFF, tiff(False), MODE.STRICT, True),
    (validategeotiff, FORMATS.GEOTIFF, tiff(False), MODE.VERYSTRICT, False),
    (validategeotiff, FORMATS.GEOTIFF, b"GIF89a", MODE.STRICT, False),
    (validatenetcdf, FORMATS.NETCDF, b"CDF\x01" + b"\0" * 20, MODE.STRICT, True),
    (validatenetcdf, FORMATS.NETCDF, b"\x89HDF\r\n\x1a\n" + b"\0" * 20, MODE.STRICT, True),
    (validatenetcdf, FORMATS.NETCDF, b"nope", MODE.STRICT, False),
    (validatenone, FORMATS.TEXT, b"", MODE.VERYSTRICT, True),
])
def test_validators(tmp_path, validator, frmt, content, mode, ok):
    assert validator(make(tmp_path, frmt, content), mode) is ok


def test_gml_schema_validation_offline(tmp_path):
    xsd_path = tmp_path / "s.xsd"
    xsd_path.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:int"/></xs:schema>')
    frmt = Format("application/xml", schema=str(xsd_path))
    assert validatexml(make(tmp_path, frmt, b"<a>3</a>"), MODE.VERYSTRICT)
    assert not validatexml(make(tmp_path, frmt, b"<a>x</a>"), MODE.VERYSTRICT)
    frmt = Format("application/xml", schema="http://unreachable.invalid/x.xsd")
    assert not validatexml(make(tmp_path, frmt, b"<a>3</a>"), MODE.VERYSTRICT)


def test_get_validator():
    assert get_validator("application/gml+xml") is validategml
    assert get_validator("image/tiff; subtype=geotiff") is validategeotiff
    assert get_validator("application/json; charset=utf-8") is validatejson
    assert get_validator("application/x-unknown") is emptyvalidator
    assert ComplexInput("x", "X", [FORMATS.GEOJSON]).validator is validategeojson


def test_metalink3_and_4(tmp_path):
    storage = JobStorage(tmp_path / "files", "http://host/outputs/job")
    with bind_storage(storage):
        for cls, ns in ((MetaLink, "http://www.metalinker.org/"), (MetaLink4, "urn:ietf:params:xml:ns:metalink")):
            ml = cls("id", "desc", publisher="pub", workdir=str(tmp_path / "work"), checksums=True)
            mf = MetaFile("one", "first", fmt=FORMATS.TEXT)
            mf.data = "hello"
            ml.append(mf)
            remote = MetaFile("two", "second", fmt=FORMATS.NETCDF)
            remote.url = "https://data.example.org/x.nc"
            ml.append(remote)
            root = etree.fromstring(ml.xml.encode())
            assert etree.QName(root).namespace == ns
            urls = [u.text for u in root.iter(f"{{{ns}}}url")]
            assert urls[0].startswith("http://host/outputs/job/one_") and urls[1].endswith("/x.nc")
            assert mf.size == 5 and len(mf.hash) == 64
            assert any(h.text == mf.hash for h in root.iter(f"{{{ns}}}hash"))
    with pytest.raises(ValueError):
        MetaLink().append("not a metafile")
