"""The PyWPS 4 configuration semantics process collections rely on, and services that do not mix."""

from __future__ import annotations

import importlib
import sys

import pytest

from pywps import Service, configuration
from pywps.tests import client_for
from tests.conftest import write_config

WPS = {"wps": "http://www.opengis.net/wps/1.0.0", "ows": "http://www.opengis.net/ows/1.1"}


@pytest.fixture
def collection(tmp_path, monkeypatch):
    """Import the collection package fresh, with its work directory and store under tmp_path."""
    monkeypatch.setenv("PYWPS_SERVER_WORKDIR", str(tmp_path / "work"))
    monkeypatch.setenv("PYWPS_SERVER_OUTPUTPATH", str(tmp_path / "outputs"))
    monkeypatch.setenv("PYWPS_LOGGING_DATABASE", f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    monkeypatch.delenv("PYWPS_CFG", raising=False)
    sys.modules.pop("tests.compat.collection", None)
    module = importlib.import_module("tests.compat.collection")
    yield module
    module.application.close()
    sys.modules.pop("tests.compat.collection", None)
    configuration._config = None
    configuration.CONFIG = None


def test_a_bare_service_sees_the_configuration_its_collection_loaded(collection):
    service = Service(processes=collection.processes())
    try:
        assert service.config is collection.application.config
        client = client_for(service)
        caps = client.get("?service=WPS&request=GetCapabilities")
        assert caps.xpath_text("//ows:ServiceIdentification/ows:Title") == "Rivers and Rain Collection"
        assert caps.xpath_text("//ows:ProviderName") == "Hydrology Lab"
        assert "de-DE" in caps.xpath("//wps:Languages/wps:Supported/ows:Language/text()")
        assert configuration.get_config_value("server", "allowedinputpaths") == "/srv/collection-data"
        assert configuration.get_config().server.allowedinputpaths == ("/srv/collection-data",)
        resp = client.get("?service=WPS&request=Execute&version=1.0.0&identifier=archive_path"
                          "&DataInputs=item=rain.nc")
        assert resp.xpath_text("//wps:LiteralData") == "/srv/collection-data/archive/rain.nc"
        assert client.get("?service=WPS&request=DescribeProcess&version=1.0.0&identifier=all"
                          "&language=de-DE").status_code == 200
    finally:
        service.close()


def test_load_configuration_is_what_later_bare_services_use(tmp_path, monkeypatch):
    monkeypatch.delenv("PYWPS_CFG", raising=False)
    cfg = write_config(tmp_path, server={"language": "fr-CA,en-US"})
    loaded = configuration.load_configuration(str(cfg))
    service = Service(processes=[])
    try:
        assert service.config is loaded and service.config.server.languages == ("fr-CA", "en-US")
    finally:
        service.close()
        configuration._config = None


def test_two_services_with_their_own_files_do_not_mix(tmp_path, monkeypatch):
    """Each service's requests, jobs and get_config_value read its own configuration."""
    from tests.compat.collection import ArchivePath

    monkeypatch.delenv("PYWPS_CFG", raising=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cfg_a = write_config(tmp_path / "a", collection={"archive": "/archive/a"},
                         **{"metadata__main": {"identification_title": "Service A"}})
    cfg_b = write_config(tmp_path / "b", collection={"archive": "/archive/b"},
                         **{"metadata__main": {"identification_title": "Service B"}})
    a = Service(processes=[ArchivePath()], cfgfiles=[str(cfg_a)])
    b = Service(processes=[ArchivePath()], cfgfiles=[str(cfg_b)])
    try:
        for service, name in ((a, "a"), (b, "b"), (a, "a")):
            client = client_for(service)
            caps = client.get("?service=WPS&request=GetCapabilities")
            assert caps.xpath_text("//ows:ServiceIdentification/ows:Title") == f"Service {name.upper()}"
            resp = client.get("?service=WPS&request=Execute&version=1.0.0&identifier=archive_path"
                              "&DataInputs=item=x")
            assert resp.xpath_text("//wps:LiteralData") == f"/archive/{name}/x", resp.get_data(as_text=True)
        assert a.dispatcher.store.count(["succeeded"]) == 2
        assert b.dispatcher.store.count(["succeeded"]) == 1
        assert a.dispatcher.jobs_root != b.dispatcher.jobs_root
    finally:
        a.close()
        b.close()
        configuration._config = None
