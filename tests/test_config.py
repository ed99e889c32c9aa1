"""Configuration: PyWPS 4 keys, environment overrides, clear errors naming file, section and key."""

from __future__ import annotations

import pytest

from pywps.config import Config, load, parse_duration, parse_size
from pywps.exceptions import ConfigurationError


def write(tmp_path, text: str):
    path = tmp_path / "pywps.cfg"
    path.write_text(text)
    return path


def test_pywps4_keys_and_sizes(tmp_path):
    config = load([write(tmp_path, "[server]\nmaxsingleinputsize = 2mb\nparallelprocesses = 4\n"
                                   "[processing]\nmode = default\n")])
    assert config.getsize("server", "maxsingleinputsize") == 2 * 1024 ** 2
    assert config.getint("server", "parallelprocesses") == 4
    assert config.mode == "multiprocessing"
    assert config.database.startswith("sqlite:///")


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, "[server]\nurl = http://file/wps\n")
    config = Config([path], environ={"PYWPS_SERVER_URL": "http://env/wps",
                                     "PYWPS_METADATA_MAIN_PROVIDER_NAME": "Env Org"})
    assert config.url == "http://env/wps"
    assert config.getstr("metadata:main", "provider_name") == "Env Org"
    assert "PYWPS_SERVER_URL" in config.origin("server", "url")


def test_bad_value_names_file_section_and_key(tmp_path):
    path = write(tmp_path, "[server]\nmaxrequestsize = lots\n")
    with pytest.raises(ConfigurationError) as info:
        load([path])
    message = str(info.value)
    assert str(path) in message and "[server] maxrequestsize" in message and "lots" in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        load([tmp_path / "nope.cfg"])


def test_unknown_mode_is_a_clear_error_at_start(tmp_path):
    from pywps.service import create_app

    config = load([write(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n"
                                   "[processing]\nmode = teleport\n")])
    with pytest.raises(ConfigurationError, match="teleport"):
        create_app(config, [])


def test_round_trip_for_jobs(tmp_path):
    config = load([write(tmp_path, "[server]\nurl = http://x/wps\n[custom]\nkey = value\n")])
    again = Config.from_dict(config.to_dict())
    assert again.url == "http://x/wps" and again.getstr("custom", "key") == "value"


@pytest.mark.parametrize("text, size", [("0", 0), ("512", 512), ("3kb", 3072), ("1.5mb", 1572864), ("1GB", 1 << 30)])
def test_parse_size(text, size):
    assert parse_size(text) == size


def test_parse_duration():
    assert parse_duration("7d") == 7 * 86400 and parse_duration("30") == 30 and parse_duration("5m") == 300
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_get_config_value_facade(tmp_path):
    from pywps import configuration

    configuration.load_configuration(str(write(tmp_path, "[server]\noutputpath = /data/out\n")))
    assert configuration.get_config_value("server", "outputpath") == "/data/out"
    assert configuration.get_config_value("nosuch", "key") == ""
    assert configuration.CONFIG.get("server", "outputpath") == "/data/out"


def test_a_job_gets_no_secret_and_no_server_path(tmp_path):
    from pywps.config import load

    cfg = tmp_path / "secret.cfg"
    cfg.write_text("[server]\nworkdir = /srv/work\noutputpath = /srv/out\nurl = http://h/wps\n"
                   "[logging]\ndatabase = postgresql://pywps:Hunter2@db/pywps\nlevel = INFO\n"
                   "[processing]\nmode = docker\nscheduler_environment = TOKEN=abc\n"
                   "[data]\napi_token = abc\nmirror = https://user:Hunter2@mirror.example/x\nroot = /data\n")
    job = load([cfg]).for_job()
    flat = repr(job)
    assert "Hunter2" not in flat and "abc" not in flat and "/srv/" not in flat
    assert job["processing"] == {"mode": "docker"}
    assert job["data"] == {"mirror": "https://mirror.example/x", "root": "/data"}
    assert job["server"]["url"] == "http://h/wps" and job["logging"]["level"] == "INFO"


def test_unknown_sections_and_keys_are_reported_with_the_nearest_name(tmp_path, caplog):
    from pywps.config import load

    cfg = tmp_path / "typo.cfg"
    cfg.write_text("[sever]\nurl = http://x/wps\n[server]\nparallelprocess = 4\n[mydata]\nroot = /d\n")
    with caplog.at_level("WARNING", logger="pywps.config"):
        config = load([cfg])
    text = caplog.text
    assert f"{cfg}: [sever] is not a known section; did you mean [server]?" in text
    assert f"{cfg}: [server] parallelprocess is not a known key; did you mean 'parallelprocesses'?" in text
    assert "[mydata]" not in text  # a section of the process authors' own: not a warning
    assert config.server.parallelprocesses == 2 and config.server.url == "http://localhost:5000/wps"


def test_strict_refuses_unknown_keys(tmp_path):
    from pywps.config import load
    from pywps.exceptions import ConfigurationError

    cfg = tmp_path / "strict.cfg"
    cfg.write_text("[server]\nstrict = true\nparallelprocess = 4\n")
    with pytest.raises(ConfigurationError, match=r"\[server\] parallelprocess is not a known key"):
        load([cfg])


def test_typed_sections_parse_each_key_once_and_name_bad_values(tmp_path):
    from pywps.config import load
    from pywps.exceptions import ConfigurationError

    cfg = tmp_path / "bad.cfg"
    cfg.write_text("[jobs]\nretention = forever\n")
    with pytest.raises(ConfigurationError, match=rf"{cfg}: \[jobs\] retention = 'forever'"):
        load([cfg])
    good = tmp_path / "good.cfg"
    good.write_text("[server]\nmaxsingleinputsize = 2mb\nlanguage = en-US, de-DE\n[jobs]\nretention = 2d\n")
    config = load([good])
    assert config.server.maxsingleinputsize == 2 * 1024 ** 2
    assert config.server.languages == ("en-US", "de-DE") and config.jobs.retention == 2 * 86400
    config.parser.set("server", "maxsingleinputsize", "3mb")  # a change is seen by the typed section
    assert config.server.maxsingleinputsize == 3 * 1024 ** 2


def test_no_code_outside_config_reads_a_key_by_its_section_and_name():
    """The server's code reads the typed sections; ``"section", "key"`` lookups stay in config.py and the
    PyWPS 4 facade (pywps/configuration.py)."""
    import ast
    from pathlib import Path

    import pywps
    from pywps.config import FREE_SECTIONS, SCHEMA

    lookups = {"get", "getstr", "getint", "getfloat", "getbool", "getsize", "getduration", "getlist", "value", "has",
               "set", "get_config_value"}
    root = Path(pywps.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path in (root / "config.py", root / "configuration.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            section, key = (arg.value if isinstance(arg, ast.Constant) else None for arg in node.args[:2])
            if name in lookups and isinstance(key, str) and (
                    section in SCHEMA or section in FREE_SECTIONS or str(section).startswith("metadata")):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}({section!r}, {key!r})")
    assert not found, found


def test_where_the_working_directory_and_the_job_store_come_from(tmp_path):
    config = load([write(tmp_path, "[server]\nworkdir =\ntemp_path = /srv/tmp\n")])
    assert config.workdir_key == "temp_path" and not config.database_given
    config = load([write(tmp_path, "[server]\nworkdir = /srv/work\n[logging]\ndatabase = sqlite:////srv/j.db\n")])
    assert config.workdir_key == "workdir" and config.database_given
