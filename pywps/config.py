"""Typed configuration, PyWPS 4 compatible: cfg files, then ``PYWPS_<SECTION>_<KEY>`` environment overrides.

A bad value raises ``ConfigurationError`` naming the file, section and key it came from.
"""

from __future__ import annotations

import configparser
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pywps.exceptions import ConfigurationError

log = logging.getLogger(__name__)

_TMP = tempfile.gettempdir()

DEFAULTS: dict[str, dict[str, str]] = {
    "server": {
        "url": "http://localhost:5000/wps",
        "outputurl": "http://localhost:5000/outputs/",
        "outputpath": "outputs",
        "workdir": os.path.join(_TMP, "pywps"),
        "temp_path": _TMP,
        "maxsingleinputsize": "1mb",
        "maxrequestsize": "3mb",
        "maxprocesses": "30",
        "parallelprocesses": "2",
        "language": "en-US",
        "cleantempdir": "true",
        "setworkdir": "true",
        "sethomedir": "false",
        "processes_path": "",
        "allowedinputpaths": "",
        "storagetype": "file",
        "storage_copy_function": "copy",
        "reference_allow_private": "false",
        "reference_allowed_hosts": "",
        "reference_timeout": "30",
        "reference_max_redirects": "3",
        "sync_timeout": "0",
        "maxoutputsize": "0",
    },
    "processing": {
        "mode": "multiprocessing",
        "path": "",
        "drmaa_native_specification": "",
        "docker_image": "pywps-worker:latest",
        "dckr_inp_dir": "/pywps/in",
        "dckr_out_dir": "/pywps/out",
    },
    "logging": {
        "level": "INFO",
        "file": "",
        "format": "%(asctime)s] [%(levelname)s] file=%(pathname)s line=%(lineno)s module=%(module)s "
        "function=%(funcName)s %(message)s",
        "database": "",
        "prefix": "pywps_",
    },
    "jobs": {
        "heartbeat": "2",
        "stale_after": "30",
        "poll_interval": "0.25",
        "retention": "7d",
        "cleanup_interval": "1h",
    },
    "metadata:main": {
        "identification_title": "PyWPS Processing Service",
        "identification_abstract": "Geoprocessing over OGC WPS; each job runs isolated from the server.",
        "identification_keywords": "WPS,PyWPS,geoprocessing",
        "identification_keywords_type": "theme",
        "identification_fees": "NONE",
        "identification_accessconstraints": "NONE",
        "provider_name": "Organization Name",
        "provider_url": "https://pywps.org/",
        "contact_name": "",
        "contact_position": "",
        "contact_address": "",
        "contact_city": "",
        "contact_stateorprovince": "",
        "contact_postalcode": "",
        "contact_country": "",
        "contact_phone": "",
        "contact_fax": "",
        "contact_email": "",
        "contact_url": "",
        "contact_hours": "",
        "contact_instructions": "",
        "contact_role": "pointOfContact",
    },
}

# Never handed to a job: the server's own paths, its job store, its backends' settings, credentials.
JOB_HIDDEN = frozenset({
    ("server", "workdir"), ("server", "outputpath"), ("server", "temp_path"), ("server", "allowedinputpaths"),
    ("server", "processes_path"), ("logging", "database"), ("logging", "file"),
})
JOB_HIDDEN_SECTIONS = frozenset({"processing", "jobs"})
_SECRET_KEY = re.compile(r"pass|secret|token|credential|private|apikey|api_key|database|dsn", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"([a-z][a-z0-9+.\-]*://)[^/@\s]*@", re.IGNORECASE)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_size(text: str) -> int:
    """'3mb' -> bytes; a bare number is bytes; 0 means unlimited."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 500kb, 3mb, 1gb)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " kmgt".index(unit.lower() or " "))


def parse_duration(text: str) -> float:
    """'7d' -> seconds; a bare number is seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30, 30s, 5m, 2h, 7d)")
    number, unit = match.groups()
    return float(number) * _DURATION_UNITS[unit.lower()]


class Config:
    """Settings loaded once from cfg files and the environment; the only place values are parsed."""

    def __init__(self, files: Iterable[str | os.PathLike] = (), environ: dict[str, str] | None = None) -> None:
        self.parser = configparser.ConfigParser(interpolation=None)
        self.parser.optionxform = str.lower  # type: ignore[assignment]
        self._origin: dict[tuple[str, str], str] = {}
        self.parser.read_dict(DEFAULTS)
        for key in ((s, k) for s, kv in DEFAULTS.items() for k in kv):
            self._origin[key] = "built-in defaults"
        self.files: list[Path] = []
        for name in files:
            self._read_file(Path(name))
        self._apply_environment(os.environ if environ is None else environ)

    def _read_file(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigurationError(f"configuration file {path} does not exist")
        extra = configparser.ConfigParser(interpolation=None)
        extra.optionxform = str.lower  # type: ignore[assignment]
        try:
            extra.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigurationError(f"{path}: {exc}") from None
        for section in extra.sections():
            if not self.parser.has_section(section):
                self.parser.add_section(section)
            for key, value in extra.items(section, raw=True):
                self.parser.set(section, key, value)
                self._origin[(section, key)] = str(path)
        self.files.append(path)

    def _apply_environment(self, environ: dict[str, str] | os._Environ) -> None:
        for name, value in environ.items():
            if not name.startswith("PYWPS_") or name in ("PYWPS_CFG",):
                continue
            rest = name[len("PYWPS_"):].lower()
            for section in self.parser.sections():
                prefix = section.replace(":", "_") + "_"
                if rest.startswith(prefix):
                    key = rest[len(prefix):]
                    self.parser.set(section, key, value)
                    self._origin[(section, key)] = f"environment variable {name}"
                    break

    def to_dict(self) -> dict[str, dict[str, str]]:
        """Every section and value, for a job that takes its configuration elsewhere (``job.json``)."""
        return {name: dict(self.parser.items(name, raw=True)) for name in self.parser.sections()}

    def for_job(self) -> dict[str, dict[str, str]]:
        """What a job may know of the configuration (``job.json``, a forked child's ``get_config_value``):
        every section but the server's own paths, its job store and backend settings, with anything that
        looks like a credential removed. See :data:`JOB_HIDDEN`."""
        sections: dict[str, dict[str, str]] = {}
        for name, values in self.to_dict().items():
            if name in JOB_HIDDEN_SECTIONS:
                continue
            kept = {}
            for key, value in values.items():
                if (name, key) in JOB_HIDDEN or _SECRET_KEY.search(key):
                    continue
                kept[key] = _URL_CREDENTIALS.sub(r"\1", value)
            sections[name] = kept
        sections["processing"] = {"mode": self.mode}
        return sections

    @classmethod
    def from_dict(cls, sections: dict[str, dict[str, str]]) -> Config:
        """The inverse of :meth:`to_dict`; no environment overrides (they were applied where it was made)."""
        config = cls(environ={})
        for name, values in sections.items():
            if not config.parser.has_section(name):
                config.parser.add_section(name)
            for key, value in values.items():
                config.parser.set(name, key, value)
        return config

    def origin(self, section: str, key: str) -> str:
        """Where a value came from (file, environment or defaults), for error messages."""
        return self._origin.get((section, key), "built-in defaults")

    def _bad(self, section: str, key: str, value: str, why: str) -> ConfigurationError:
        return ConfigurationError(f"{self.origin(section, key)}: [{section}] {key} = {value!r}: {why}")

    def has(self, section: str, key: str) -> bool:
        return self.parser.has_option(section, key)

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        """The raw string value, or ``default``."""
        if self.parser.has_option(section, key):
            return self.parser.get(section, key, raw=True)
        return default

    def getstr(self, section: str, key: str, default: str = "") -> str:
        value = self.get(section, key)
        return default if value is None else value.strip()

    def getint(self, section: str, key: str, default: int = 0) -> int:
        value = self.get(section, key)
        if value is None or not value.strip():
            return default
        try:
            return int(value)
        except ValueError:
            raise self._bad(section, key, value, "expected an integer") from None

    def getfloat(self, section: str, key: str, default: float = 0.0) -> float:
        value = self.get(section, key)
        if value is None or not value.strip():
            return default
        try:
            return float(value)
        except ValueError:
            raise self._bad(section, key, value, "expected a number") from None

    def getbool(self, section: str, key: str, default: bool = False) -> bool:
        value = self.get(section, key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise self._bad(section, key, value, "expected true or false")

    def getsize(self, section: str, key: str, default: int = 0) -> int:
        value = self.get(section, key)
        if value is None or not value.strip():
            return default
        try:
            return parse_size(value)
        except ValueError as exc:
            raise self._bad(section, key, value, str(exc)) from None

    def getduration(self, section: str, key: str, default: float = 0.0) -> float:
        value = self.get(section, key)
        if value is None or not value.strip():
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self._bad(section, key, value, str(exc)) from None

    def getlist(self, section: str, key: str, default: Iterable[str] = ()) -> list[str]:
        value = self.get(section, key)
        if value is None:
            return list(default)
        return [item.strip() for item in re.split(r"[,\n]", value) if item.strip()]

    def section(self, name: str) -> dict[str, str]:
        return dict(self.parser.items(name, raw=True)) if self.parser.has_section(name) else {}

    # Commonly used, typed and normalised.
    @property
    def url(self) -> str:
        return self.getstr("server", "url")

    @property
    def outputurl(self) -> str:
        return self.getstr("server", "outputurl").rstrip("/") + "/"

    @property
    def outputpath(self) -> Path:
        return Path(self.getstr("server", "outputpath")).absolute()

    @property
    def workdir(self) -> Path:
        return Path(self.getstr("server", "workdir") or self.getstr("server", "temp_path")).absolute()

    @property
    def languages(self) -> list[str]:
        return self.getlist("server", "language") or ["en-US"]

    @property
    def mode(self) -> str:
        mode = self.getstr("processing", "mode", "multiprocessing").lower()
        return "multiprocessing" if mode in ("default", "") else mode

    @property
    def database(self) -> str:
        url = self.getstr("logging", "database")
        if not url or url == "sqlite:///:memory:":
            return f"sqlite:///{self.workdir / 'pywps-jobs.sqlite'}"
        return url

    def validate(self) -> None:
        """Parse every typed key once so a bad value fails at start-up, not mid-request."""
        for key in ("maxsingleinputsize", "maxrequestsize"):
            self.getsize("server", key)
        for key in ("maxprocesses", "parallelprocesses", "reference_max_redirects"):
            self.getint("server", key)
        for key in ("cleantempdir", "reference_allow_private"):
            self.getbool("server", key)
        self.getfloat("server", "reference_timeout")
        for key in ("heartbeat", "stale_after", "poll_interval", "retention", "cleanup_interval"):
            self.getduration("jobs", key)
        if self.getint("server", "parallelprocesses") < 0:
            raise self._bad("server", "parallelprocesses", self.getstr("server", "parallelprocesses"),
                            "must be >= 0")


def load(files: Iterable[str | os.PathLike] = ()) -> Config:
    """Load configuration from ``files`` or, when none given, from ``$PYWPS_CFG`` if set."""
    names = list(files)
    if not names and os.environ.get("PYWPS_CFG"):
        names = [os.environ["PYWPS_CFG"]]
    config = Config(names)
    config.validate()
    return config
