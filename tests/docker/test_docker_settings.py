"""The docker-mode settings, parsed without an engine."""

from __future__ import annotations

import pytest

from pywps.backends.docker import DockerSettings, _mib, _timestamp, prepare_jobdir
from pywps.config import Config, parse_size
from pywps.exceptions import ConfigurationError
from pywps.jobs.jobdir import JobDir
from tests.docker.conftest import docker_config


def test_defaults_are_hardened():
    s = DockerSettings.from_settings(docker_config().processing)
    assert (s.network, s.read_only, s.user, s.pids_limit, s.memory, s.cpus) == \
        ("none", True, "65534:65534", 128, 256 * 1024**2, 1.0)
    assert (s.time_limit, s.keep_containers, s.init, s.pool_size) == (0, False, True, 0)
    assert (s.inp_dir, s.out_dir, s.tmpfs_size) == ("/pywps/in", "/pywps/out", "64m")


def test_pywps4_names_and_plain_dicts():
    config = Config.from_dict({"processing": {"docker_img": "old:1", "docker_memory": "1g",
                                              "docker_time_limit": "60s", "docker_pool_size": "2"},
                               "docker:images": {"Slow": "slow:2"}})
    s = DockerSettings.from_settings(config.processing)
    assert s.image == "old:1" and s.memory == 1024**3 and s.time_limit == 60 and s.pool_size == 2
    assert s.image_for("slow") == "slow:2" and s.image_for("other") == "old:1"


@pytest.mark.parametrize("key,value", [("docker_network", "bridge"), ("docker_network", "host"),
                                       ("docker_pids_limit", "many"), ("docker_read_only", "maybe"),
                                       ("dckr_inp_dir", "relative/in")])
def test_bad_values_name_the_key(key, value):
    with pytest.raises(ConfigurationError, match=key.split("_")[0]):
        DockerSettings.from_settings(docker_config(**{key: value}).processing)


def test_helpers(tmp_path):
    assert parse_size("256m") == parse_size("256MiB") == 256 * 1024**2
    assert _mib(256 * 1024**2) == "256 MiB" and _mib(2 * 1024**3) == "2 GiB"
    assert _timestamp("0001-01-01T00:00:00Z") is None
    assert _timestamp("2026-11-25T09:00:00.5Z") == pytest.approx(1795597200.5)
    assert DockerSettings(user="nobody").uid_gid() is None
    assert DockerSettings(user="1000").uid_gid() == (1000, 1000)
    job = tmp_path / "job"
    (job / "in").mkdir(parents=True)
    (job / "in" / "job.json").write_text("{}")
    (job / "in" / "job.json").chmod(0o600)
    prepare_jobdir(JobDir(job), None)
    assert (job / "in" / "job.json").stat().st_mode & 0o444 == 0o444
    assert (job / "out").stat().st_mode & 0o777 == 0o777


def test_wps_transport_settings():
    s = DockerSettings.from_settings(docker_config(docker_transport="WPS", docker_wps_path="ows").processing)
    assert (s.transport, s.wps_path, s.wps_start_timeout, s.wps_max_download) == ("wps", "/ows", 60, 1024**3)
    assert s.wps.socket == "/pywps/out/socket/wps.sock"
    job = {"process": {"module": "mine.procs", "identifier": "p"}}
    assert s.wps.argv(job, "serve --bind unix:{socket} --cfg {config} {module}") == [
        "serve", "--bind", "unix:/pywps/out/socket/wps.sock", "--cfg", "/pywps/in/wps.cfg", "mine.procs"]
    with pytest.raises(ConfigurationError, match="docker_transport"):
        DockerSettings.from_settings(docker_config(docker_transport="http").processing)
    with pytest.raises(ConfigurationError, match="docker_wps_command must name"):
        DockerSettings.from_settings(docker_config(docker_transport="wps", docker_wps_command="serve").processing)


def test_wps_server_config_has_the_jobs_sections_and_container_paths():
    import configparser

    from pywps.backends.wpsproxy import server_config

    s = DockerSettings.from_settings(docker_config(docker_transport="wps").processing)
    text = server_config({"config": {"server": {"url": "http://public/wps", "language": "de-DE"},
                                     "mine": {"key": "value"}}, "limits": {"maxsingleinputsize": 5}}, s.wps)
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert parser["server"]["url"] == "http://localhost/wps" and parser["server"]["language"] == "de-DE"
    assert parser["server"]["outputpath"] == "/pywps/out/server/outputs"
    assert parser["server"]["allowedinputpaths"] == "/pywps/in" and parser["server"]["maxsingleinputsize"] == "5"
    assert parser["processing"]["mode"] == "multiprocessing" and parser["mine"]["key"] == "value"
    assert parser["logging"]["database"] == "sqlite:////pywps/out/server/pywps-logs.sqlite"
