"""Typed configuration, PyWPS 4 compatible: cfg files, then ``PYWPS_<SECTION>_<KEY>`` environment overrides.

A bad value raises ``ConfigurationError`` naming the file, section and key it came from.
"""

from __future__ import annotations

import configparser
import difflib
import functools
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pywps.exceptions import ConfigurationError

log = logging.getLogger(__name__)

_TMP = tempfile.gettempdir()

_job_side = False


def enter_job_side() -> None:
    """Mark this process as one that runs jobs (the worker, the fork server and the jobs it forks): a
    ``Service`` made here serves nothing and starts no dispatcher and no fork server. PyWPS 4 process
    packages often build their WSGI app when imported (``application = Service(...)`` in ``__init__`` or a
    module it imports); loading their processes to run a job must not start a server inside the job."""
    global _job_side
    _job_side = True


def job_side() -> bool:
    """Whether this process runs jobs rather than serves requests (see :func:`enter_job_side`)."""
    return _job_side


@dataclass(frozen=True)
class Key:
    """One configuration key: its default (as written in a cfg file) and how it is parsed."""

    default: str
    kind: str = "str"  # str | int | float | bool | size | duration | list | path


# Every key the server reads, with its default: the one place defaults are written (pywps.cfg documents
# them). Keys of PyWPS 4 that this server accepts but does not need are listed so they are not reported.
SCHEMA: dict[str, dict[str, Key]] = {
    "server": {
        "url": Key("http://localhost:5000/wps"),
        "outputurl": Key("http://localhost:5000/outputs/"),
        "outputpath": Key("outputs", "path"),
        "workdir": Key(os.path.join(_TMP, "pywps")),
        "temp_path": Key(_TMP),
        "maxsingleinputsize": Key("1mb", "size"),
        "maxrequestsize": Key("3mb", "size"),
        "maxprocesses": Key("30", "int"),
        "parallelprocesses": Key("2", "int"),
        "language": Key("en-US", "list"),
        "cleantempdir": Key("true", "bool"),
        "setworkdir": Key("true", "bool"),
        "sethomedir": Key("false", "bool"),
        "processes_path": Key(""),
        "allowedinputpaths": Key("", "list"),
        "storagetype": Key("file"),
        "storage_copy_function": Key("copy"),
        "reference_allow_private": Key("false", "bool"),
        "reference_allowed_hosts": Key("", "list"),
        "reference_timeout": Key("30", "float"),
        "reference_max_redirects": Key("3", "int"),
        "sync_timeout": Key("0", "duration"),
        "maxoutputsize": Key("0", "size"),
        "updatesequence": Key(""),
        "instance_id": Key(""),
        "encoding": Key("utf-8"),
        "default_mimetype": Key("text/xml"),
        "json_indent": Key("2", "int"),
        "keep_status_file": Key("false", "bool"),
        "strict": Key("false", "bool"),
    },
    "processing": {
        "mode": Key("multiprocessing"),
        "max_memory": Key("0", "size"),
        "max_cpu_time": Key("0", "int"),
        "max_open_files": Key("0", "int"),
        "forkserver": Key("true", "bool"),
        "path": Key(""),
        "drmaa_native_specification": Key(""),
        "docker_image": Key("pywps-worker:latest"),
        "docker_img": Key(""),
        "dckr_inp_dir": Key("/pywps/in"),
        "dckr_out_dir": Key("/pywps/out"),
        "docker_network": Key("none"),
        "docker_read_only": Key("true", "bool"),
        "docker_tmpfs_size": Key("64m"),
        "docker_user": Key("65534:65534"),
        "docker_pids_limit": Key("128", "int"),
        "docker_memory": Key("256m", "size"),
        "docker_cpus": Key("1.0", "float"),
        "docker_time_limit": Key("0", "duration"),
        "docker_keep_containers": Key("false", "bool"),
        "docker_init": Key("true", "bool"),
        "docker_pool_size": Key("0", "int"),
        "docker_pool_preload": Key("pywps.processes", "list"),
        "docker_pool_idle": Key("3600", "duration"),
        "docker_transport": Key("worker"),
        "docker_wps_command": Key("gunicorn --bind unix:{socket} --workers 1 --threads 4 --timeout 0 "
                                  "pywps.wsgi:application"),
        "docker_wps_path": Key("/wps"),
        "docker_wps_start_timeout": Key("60", "duration"),
        "docker_wps_max_download": Key("1gb", "size"),
        "docker_engine_grace": Key("300", "duration"),
        "port_min": Key("0", "int"),
        "port_max": Key("0", "int"),
        "scheduler": Key("slurm"),
        "scheduler_partition": Key(""),
        "scheduler_account": Key(""),
        "scheduler_time_limit": Key(""),
        "scheduler_memory": Key("0", "size"),
        "scheduler_extra_options": Key(""),
        "scheduler_python": Key(""),
        "scheduler_pythonpath": Key(""),
        "scheduler_sync": Key("wait"),
        "scheduler_poll_interval": Key("0.5", "duration"),
        "scheduler_query_interval": Key("1", "duration"),
        "scheduler_command_timeout": Key("60", "duration"),
        "scheduler_slurm_conf": Key(""),
        "scheduler_environment": Key(""),
        "docker_host": Key(""),
    },
    "logging": {
        "level": Key("INFO"),
        "file": Key(""),
        "format": Key("%(asctime)s] [%(levelname)s] file=%(pathname)s line=%(lineno)s module=%(module)s "
                      "function=%(funcName)s %(message)s"),
        "database": Key(""),
        "prefix": Key("pywps_"),
        "db_echo": Key("false", "bool"),
    },
    "jobs": {
        "heartbeat": Key("2", "duration"),
        "stale_after": Key("30", "duration"),
        "poll_interval": Key("0.25", "duration"),
        "retention": Key("7d", "duration"),
        "cleanup_interval": Key("1h", "duration"),
        "start_timeout": Key("5m", "duration"),
    },
    "ogcapi": {
        "enabled": Key("true", "bool"),
        "url": Key(""),
        "jobs_listing": Key("off"),
        "operator_token": Key(""),
        "default_limit": Key("10", "int"),
        "max_limit": Key("1000", "int"),
        "callback_timeout": Key("10", "duration"),
        "html": Key("true", "bool"),
    },
    "metrics": {
        "enabled": Key("false", "bool"),
        "token": Key(""),
    },
    "metadata:main": {
        "identification_title": Key("PyWPS Processing Service"),
        "identification_abstract": Key("Geoprocessing over OGC WPS; each job runs isolated from the server."),
        "identification_keywords": Key("WPS,PyWPS,geoprocessing"),
        "identification_keywords_type": Key("theme"),
        "identification_fees": Key("NONE"),
        "identification_accessconstraints": Key("NONE"),
        "identification_profile": Key(""),
        "provider_name": Key("Organization Name"),
        "provider_url": Key("https://pywps.org/"),
        **{f"contact_{name}": Key("") for name in (
            "name", "position", "address", "city", "stateorprovince", "postalcode", "country", "phone", "fax",
            "email", "url", "hours", "instructions")},
        "contact_role": Key("pointOfContact"),
    },
}
# Sections whose keys are free (process identifier = image) or belong to process authors and PyWPS 4
# extensions: never reported as unknown.
FREE_SECTIONS = frozenset({"docker:images", "grass", "s3"})
DEFAULTS: dict[str, dict[str, str]] = {
    section: {key: spec.default for key, spec in keys.items()} for section, keys in SCHEMA.items()}


@dataclass(frozen=True)
class ServerSettings:
    """``[server]``, parsed."""

    url: str
    outputurl: str                 # always ends with "/"
    outputpath: Path               # absolute
    workdir: Path                  # absolute
    maxsingleinputsize: int        # bytes, 0 = no limit
    maxrequestsize: int
    maxoutputsize: int
    maxprocesses: int
    parallelprocesses: int
    languages: tuple[str, ...]
    cleantempdir: bool
    allowedinputpaths: tuple[str, ...]
    reference_allow_private: bool
    reference_allowed_hosts: tuple[str, ...]
    reference_timeout: float
    reference_max_redirects: int
    sync_timeout: float            # seconds, 0 = none
    updatesequence: str
    instance_id: str
    strict: bool
    default_mimetype: str          # text/xml or application/json: the answer when Accept leaves it open
    json_indent: int               # JSON answers' indent; < 0 = one line


@dataclass(frozen=True)
class ProcessingSettings:
    """``[processing]`` (and ``[docker:images]``), parsed; each backend reads the fields of its mode."""

    mode: str
    max_memory: int
    max_cpu_time: int
    max_open_files: int
    forkserver: bool               # multiprocessing: fork jobs from a small zygote (pywps/zygote.py)
    docker_image: str
    docker_images: dict[str, str]  # process identifier (lower case) -> image
    dckr_inp_dir: str
    dckr_out_dir: str
    docker_network: str
    docker_read_only: bool
    docker_tmpfs_size: str
    docker_user: str
    docker_pids_limit: int
    docker_memory: int
    docker_cpus: float
    docker_time_limit: float
    docker_keep_containers: bool
    docker_init: bool
    docker_pool_size: int
    docker_pool_preload: tuple[str, ...]
    docker_pool_idle: float
    docker_transport: str              # worker | wps (a WPS server in the container, over a Unix socket)
    docker_wps_command: str
    docker_wps_path: str
    docker_wps_start_timeout: float
    docker_wps_max_download: int
    docker_engine_grace: float         # how long running containers outlive an engine that does not answer
    port_min: int
    port_max: int
    scheduler: str
    scheduler_partition: str
    scheduler_account: str
    scheduler_time_limit: str
    scheduler_memory: int
    scheduler_extra_options: str
    scheduler_python: str
    scheduler_pythonpath: str
    scheduler_sync: str
    scheduler_poll_interval: float
    scheduler_query_interval: float
    scheduler_command_timeout: float
    scheduler_slurm_conf: str
    scheduler_environment: str
    drmaa_native_specification: str
    workdir: Path                  # [server] workdir, where backends keep their own files (docker pool)


@dataclass(frozen=True)
class MetricsSettings:
    """``[metrics]``: the Prometheus endpoint, off unless enabled; a token protects it when set."""

    enabled: bool
    token: str


@dataclass(frozen=True)
class JobsSettings:
    """``[jobs]``, parsed (seconds)."""

    heartbeat: float
    stale_after: float
    poll_interval: float
    retention: float
    cleanup_interval: float
    start_timeout: float           # how long a queued job waits for a backend that cannot start runners


@dataclass(frozen=True)
class LoggingSettings:
    """``[logging]``, parsed; ``database`` is the job store URL with the SQLite default filled in."""

    level: str
    file: str
    format: str
    database: str


JOBS_LISTING = ("off", "open", "token")


@dataclass(frozen=True)
class OgcApiSettings:
    """``[ogcapi]``, parsed: OGC API - Processes and its HTML pages."""

    enabled: bool
    url: str                       # absolute, ends with "/" (default: [server] url's origin + /ogcapi/)
    path: str                      # the path part of ``url``: where the routes are mounted
    jobs_listing: str              # off | open | token: who may list every job (/jobs, operator pages)
    operator_token: str            # the token ``jobs_listing = token`` asks for ("" = nobody)
    default_limit: int
    max_limit: int
    callback_timeout: float        # seconds for one subscriber callback
    html: bool                     # serve the HTML pages (f=html, browsers)


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
    """Settings loaded once from cfg files and the environment; the only place values are parsed.

    ``server``, ``processing``, ``jobs``, ``logging`` and ``metadata`` are the typed, frozen sections the
    server's code reads. ``parser`` keeps every raw value (the PyWPS 4 facade ``pywps.configuration``
    serves process authors from it, including their own sections).
    """

    def __init__(self, files: Iterable[str | os.PathLike] = (), environ: dict[str, str] | None = None) -> None:
        self.parser = _Parser(self._forget_sections)
        self._origin: dict[tuple[str, str], str] = {}
        self.parser.read_dict(DEFAULTS)
        self.files: list[Path] = []
        self.unknown: list[tuple[str, str, str]] = []  # (file, section, key or "") not in SCHEMA
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
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{path}: {exc}") from None
        for section in extra.sections():
            if not self.parser.has_section(section):
                self.parser.add_section(section)
            if section not in SCHEMA and section not in FREE_SECTIONS:
                self.unknown.append((str(path), section, ""))
            for key, value in extra.items(section, raw=True):
                self.parser.set(section, key, value)
                self._origin[(section, key)] = str(path)
                if section in SCHEMA and key not in SCHEMA[section]:
                    self.unknown.append((str(path), section, key))
        self.files.append(path)

    def _apply_environment(self, environ: dict[str, str] | os._Environ) -> None:
        for name, value in environ.items():
            if not name.startswith("PYWPS_") or name in ("PYWPS_CFG", "PYWPS_PROCESSES"):
                continue
            rest = name[len("PYWPS_"):].lower()
            for section in self.parser.sections():
                prefix = section.replace(":", "_") + "_"
                if rest.startswith(prefix):
                    key = rest[len(prefix):]
                    self.parser.set(section, key, value)
                    self._origin[(section, key)] = f"environment variable {name}"
                    break

    # -- what a job may know -------------------------------------------------------------------

    def to_dict(self) -> dict[str, dict[str, str]]:
        """Every section and raw value."""
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
        sections["processing"] = {"mode": self.processing.mode}
        return sections

    @classmethod
    def from_dict(cls, sections: dict[str, dict[str, str]]) -> Config:
        """A configuration of these raw values; no environment overrides (applied where it was made)."""
        config = cls(environ={})
        for name, values in sections.items():
            if not config.parser.has_section(name):
                config.parser.add_section(name)
            for key, value in values.items():
                config.parser.set(name, key, value)
                config._origin[(name, key)] = "a given configuration"
        return config

    # -- raw values (for process authors through pywps.configuration, and error messages) ----------

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

    def value(self, section: str, key: str, kind: str | None = None):
        """``[section] key`` parsed as its schema kind (or ``kind``); a bad value names file, section, key."""
        kind = kind or SCHEMA.get(section, {}).get(key, Key("")).kind
        raw = self.get(section, key)
        if raw is None:
            raw = SCHEMA.get(section, {}).get(key, Key("")).default
        text = raw.strip()
        try:
            return _PARSERS[kind](text)
        except ValueError as exc:
            raise self._bad(section, key, raw, str(exc)) from None

    # Kept for code written against earlier versions; the server's code reads the typed sections.
    def getstr(self, section: str, key: str, default: str = "") -> str:
        value = self.get(section, key)
        return default if value is None else value.strip()

    def _typed(self, section: str, key: str, kind: str, default):
        value = self.get(section, key)
        return default if value is None or not value.strip() else self.value(section, key, kind)

    def getint(self, section: str, key: str, default: int = 0) -> int:
        return self._typed(section, key, "int", default)

    def getfloat(self, section: str, key: str, default: float = 0.0) -> float:
        return self._typed(section, key, "float", default)

    def getbool(self, section: str, key: str, default: bool = False) -> bool:
        value = self.get(section, key)
        return default if value is None else self.value(section, key, "bool")

    def getsize(self, section: str, key: str, default: int = 0) -> int:
        return self._typed(section, key, "size", default)

    def getduration(self, section: str, key: str, default: float = 0.0) -> float:
        return self._typed(section, key, "duration", default)

    def getlist(self, section: str, key: str, default: Iterable[str] = ()) -> list[str]:
        value = self.get(section, key)
        return list(default) if value is None else list(parse_list(value))

    def section(self, name: str) -> dict[str, str]:
        return dict(self.parser.items(name, raw=True)) if self.parser.has_section(name) else {}

    def override(self, section: str, key: str, value: str) -> None:
        """Set one raw value after loading (``pywps serve --port``, tests); the typed sections follow."""
        if not self.parser.has_section(section):
            self.parser.add_section(section)
        self.parser.set(section, key, value)
        self._origin[(section, key)] = "set by the program"

    def _forget_sections(self) -> None:
        """A raw value changed: the typed sections are parsed again when next read."""
        for name in ("server", "processing", "jobs", "logging", "metadata", "ogcapi", "metrics"):
            self.__dict__.pop(name, None)

    # -- the typed sections ----------------------------------------------------------------------

    @functools.cached_property
    def server(self) -> ServerSettings:
        v = functools.partial(self.value, "server")
        workdir = Path(v("workdir") or v("temp_path")).absolute()
        settings = ServerSettings(
            url=v("url"), outputurl=v("outputurl").rstrip("/") + "/", outputpath=v("outputpath").absolute(),
            workdir=workdir, maxsingleinputsize=v("maxsingleinputsize"), maxrequestsize=v("maxrequestsize"),
            maxoutputsize=v("maxoutputsize"), maxprocesses=v("maxprocesses"),
            parallelprocesses=v("parallelprocesses"), languages=v("language") or ("en-US",),
            cleantempdir=v("cleantempdir"), allowedinputpaths=v("allowedinputpaths"),
            reference_allow_private=v("reference_allow_private"),
            reference_allowed_hosts=v("reference_allowed_hosts"), reference_timeout=v("reference_timeout"),
            reference_max_redirects=v("reference_max_redirects"), sync_timeout=v("sync_timeout"),
            updatesequence=v("updatesequence"), instance_id=v("instance_id"), strict=v("strict"),
            default_mimetype=v("default_mimetype").strip() or "text/xml", json_indent=v("json_indent"),
        )
        for key in ("parallelprocesses", "maxprocesses"):
            if getattr(settings, key) < 0:
                raise self._bad("server", key, str(getattr(settings, key)), "must be >= 0")
        return settings

    @functools.cached_property
    def processing(self) -> ProcessingSettings:
        v = functools.partial(self.value, "processing")
        mode = v("mode").lower()
        fields = {name: v(name) for name in ProcessingSettings.__dataclass_fields__
                  if name not in ("mode", "docker_images", "workdir", "docker_image")}
        return ProcessingSettings(
            mode="multiprocessing" if mode in ("default", "") else mode,
            docker_image=_first_set(self, [("processing", "docker_image"), ("processing", "docker_img")]),
            docker_images={k.lower(): val.strip() for k, val in self.section("docker:images").items()
                           if val.strip()},
            workdir=self.server.workdir, **fields,
        )

    @functools.cached_property
    def metrics(self) -> MetricsSettings:
        return MetricsSettings(enabled=self.value("metrics", "enabled"), token=self.value("metrics", "token"))

    @functools.cached_property
    def jobs(self) -> JobsSettings:
        return JobsSettings(**{name: self.value("jobs", name) for name in JobsSettings.__dataclass_fields__})

    @functools.cached_property
    def logging(self) -> LoggingSettings:
        v = functools.partial(self.value, "logging")
        url = v("database")
        if not url or url == "sqlite:///:memory:":
            url = f"sqlite:///{self.server.workdir / 'pywps-jobs.sqlite'}"
        return LoggingSettings(level=v("level").upper(), file=v("file"), format=v("format"), database=url)

    @functools.cached_property
    def ogcapi(self) -> OgcApiSettings:
        v = functools.partial(self.value, "ogcapi")
        url = v("url").strip()
        if not url:
            origin = urlsplit(self.server.url)
            url = f"{origin.scheme or 'http'}://{origin.netloc or 'localhost:5000'}/ogcapi/"
        url = url.rstrip("/") + "/"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self._bad("ogcapi", "url", url, "expected an absolute http(s) URL such as http://host/ogcapi/")
        path = parts.path.rstrip("/") + "/"
        if path == "/":
            raise self._bad("ogcapi", "url", url, "needs a path of its own, e.g. /ogcapi/ (/ is the WPS)")
        listing = v("jobs_listing").strip().lower()
        if listing not in JOBS_LISTING:
            raise self._bad("ogcapi", "jobs_listing", listing, f"expected one of {', '.join(JOBS_LISTING)}")
        settings = OgcApiSettings(
            enabled=v("enabled"), url=url, path=path, jobs_listing=listing, operator_token=v("operator_token").strip(),
            default_limit=v("default_limit"), max_limit=v("max_limit"), callback_timeout=v("callback_timeout"),
            html=v("html"),
        )
        if not 1 <= settings.default_limit <= settings.max_limit:
            raise self._bad("ogcapi", "default_limit", str(settings.default_limit),
                            f"must be between 1 and max_limit ({settings.max_limit})")
        return settings

    @functools.cached_property
    def metadata(self) -> dict[str, str]:
        """``[metadata:main]``: service identification and provider, for the capabilities documents."""
        return self.section("metadata:main")

    # Shortcuts used everywhere.
    @property
    def url(self) -> str:
        return self.server.url

    @property
    def outputurl(self) -> str:
        return self.server.outputurl

    @property
    def outputpath(self) -> Path:
        return self.server.outputpath

    @property
    def workdir(self) -> Path:
        return self.server.workdir

    @property
    def languages(self) -> list[str]:
        return list(self.server.languages)

    @property
    def mode(self) -> str:
        return self.processing.mode

    @property
    def database(self) -> str:
        return self.logging.database

    @property
    def workdir_key(self) -> str:
        """The key the working directory came from: ``workdir``, or PyWPS 4's ``temp_path`` when it is empty."""
        return "workdir" if self.getstr("server", "workdir") else "temp_path"

    @property
    def database_given(self) -> bool:
        """Whether ``[logging] database`` names the job store (else the default one in the working directory)."""
        return self.getstr("logging", "database") not in ("", "sqlite:///:memory:")

    def validate(self) -> None:
        """Parse every key once, so a bad value fails at start-up, naming file, section and key; report
        unknown sections and keys (an error with ``[server] strict = true``)."""
        for section, keys in SCHEMA.items():
            for key in keys:
                self.value(section, key)
        for name in ("server", "processing", "jobs", "logging", "metadata", "ogcapi", "metrics"):
            getattr(self, name)
        problems = []
        for path, section, key in self.unknown:
            if key:
                near = difflib.get_close_matches(key, SCHEMA[section], n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                problems.append(f"{path}: [{section}] {key} is not a known key{hint}")
                continue
            near = difflib.get_close_matches(section, [*SCHEMA, *FREE_SECTIONS], n=1, cutoff=0.7)
            if near:
                problems.append(f"{path}: [{section}] is not a known section; did you mean [{near[0]}]?")
            else:
                log.info("%s: section [%s] is not read by the server (processes may read it)", path, section)
        if problems and self.server.strict:
            raise ConfigurationError("; ".join(problems) + " ([server] strict = true)")
        for problem in problems:
            log.warning("%s (ignored)", problem)


def _first_set(config: Config, keys: list[tuple[str, str]]) -> str:
    """The first of ``keys`` set anywhere but the defaults (PyWPS 4 names are aliases), else the first's
    default."""
    for section, key in keys:
        value = config.getstr(section, key)
        if value and config.origin(section, key) != "built-in defaults":
            return value
    return config.getstr(*keys[0]) or SCHEMA[keys[0][0]][keys[0][1]].default


class _Parser(configparser.ConfigParser):
    """The raw values; a change (``parser.set`` by a program or a test) makes the typed sections stale."""

    def __init__(self, changed) -> None:
        super().__init__(interpolation=None)
        self.optionxform = str.lower  # type: ignore[assignment,method-assign]
        self._changed = changed

    def set(self, section: str, option: str, value: str | None = None) -> None:
        super().set(section, option, value)
        self._changed()


def parse_bool(text: str) -> bool:
    """'yes'/'true'/'on'/'1' -> True, 'no'/'false'/'off'/'0'/'' -> False."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


def parse_list(text: str) -> tuple[str, ...]:
    """Comma- or newline-separated values, stripped, empty ones dropped."""
    return tuple(item.strip() for item in re.split(r"[,\n]", text) if item.strip())


def _int(text: str) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        raise ValueError("expected an integer") from None


def _float(text: str) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        raise ValueError("expected a number") from None


_PARSERS = {
    "str": str, "int": _int, "float": _float, "bool": parse_bool, "list": parse_list, "path": Path,
    "size": lambda text: parse_size(text) if text else 0,
    "duration": lambda text: parse_duration(text) if text else 0.0,
}


def load(files: Iterable[str | os.PathLike] = ()) -> Config:
    """Load configuration from ``files`` or, when none given, from ``$PYWPS_CFG`` if set."""
    names = list(files)
    if not names and os.environ.get("PYWPS_CFG"):
        names = [os.environ["PYWPS_CFG"]]
    config = Config(names)
    config.validate()
    return config
