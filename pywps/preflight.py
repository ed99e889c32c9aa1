"""Checks made once when a server process starts, so that a configuration that cannot work refuses to
start, in one line naming the file, section and key, instead of failing every request or wedging later.

* ``[server] workdir`` and ``outputpath``: created when missing, then a file is created and removed in
  each (a directory that exists but is not writable would otherwise leave every job "started" for ever).
* ``[logging] database``: the URL must parse and its driver must load; for SQLite the file's directory
  must be writable (SQLite writes its journal next to the file) and an existing file must be a database;
  any other database is connected to once. A server that does not answer (connection refused, a time-out,
  starting up) is an outage, not a configuration error: the server starts, the job store logs one line
  and retries on first use (docs/jobs.md, "Outages"). A refused password, an unknown database or host name is
  a configuration error.

Called by ``create_app`` (so by ``pywps serve``, gunicorn, mod_wsgi and ``Service``) and by
``pywps dispatcher``; the CLI turns the error into exit status 2, ``pywps.wsgi`` into one line in the web
server's error log.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import sqlalchemy as sa

from pywps.config import Config
from pywps.exceptions import ConfigurationError

#: words of a driver's message that mean "the database server is not answering now", not "wrong setting"
_OUTAGE_WORDS = ("connection refused", "timeout expired", "timed out", "the database system is starting up",
                 "the database system is shutting down", "the database system is in recovery mode",
                 "server closed the connection unexpectedly", "no such file or directory",
                 "too many connections", "could not receive data from server")
CONNECT_TIMEOUT = 5  # seconds for the one connection tried at start


def check(config: Config) -> None:
    """Raise :class:`ConfigurationError` for a working directory, output directory or job store that
    cannot work; create the directories when missing."""
    _writable_directory(config, "server", config.workdir_key, config.workdir)
    _writable_directory(config, "server", "outputpath", config.outputpath)
    _database(config)


def _where(config: Config, section: str, key: str, value: str) -> str:
    return f"{config.origin(section, key)}: [{section}] {key} = {value!r}"


def _writable_directory(config: Config, section: str, key: str, path: Path) -> None:
    where = _where(config, section, key, str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigurationError(f"{where}: exists and is not a directory") from None
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot be created ({exc.strerror}: {exc.filename})") from None
    if not path.is_dir():
        raise ConfigurationError(f"{where}: exists and is not a directory")
    _try_write(path, where)


def _try_write(directory: Path, where: str) -> None:
    """Create and remove a file in ``directory`` (``os.access`` says yes to root on a read-only mount)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".pywps-write-check-", dir=directory)
    except OSError as exc:
        raise ConfigurationError(f"{where}: not writable by this server (uid {os.getuid()}): "
                                 f"{exc.strerror}") from None
    os.close(fd)
    os.unlink(name)


def _database(config: Config) -> None:
    url = config.database
    if config.database_given:
        where = _where(config, "logging", "database", _masked(url))
    else:  # the default store inside the working directory
        where = f"{_where(config, 'server', config.workdir_key, str(config.workdir))} (the default job store {url})"
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"{where}: not a database URL ({exc}); expected e.g. "
                                 "sqlite:////var/lib/pywps/jobs.sqlite or postgresql+psycopg://user@host/db") from None
    try:
        dialect = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ConfigurationError(f"{where}: unknown database kind {parsed.drivername!r}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise ConfigurationError(f"{where}: the database driver is not installed ({exc}); for PostgreSQL: "
                                 "pip install 'pywps[postgres]'") from None
    if parsed.get_backend_name() == "sqlite":
        _sqlite(parsed, where)
    else:
        _server_database(parsed, where)


def _masked(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _sqlite(parsed: sa.URL, where: str) -> None:
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory" or database.startswith("file:"):
        return
    path = Path(database).absolute()
    if not path.parent.is_dir():
        raise ConfigurationError(f"{where}: the directory {path.parent} does not exist")
    _try_write(path.parent, f"{where}: the directory {path.parent}")
    if not path.exists():
        return
    if not path.is_file():
        raise ConfigurationError(f"{where}: {path} is not a regular file")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "attempt to write a readonly database"
        raise ConfigurationError(f"{where}: {path}: {exc}") from None


def _server_database(parsed: sa.URL, where: str) -> None:
    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if parsed.get_backend_name() == "postgresql" else {}
    engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        message = " ".join(str(exc.orig or exc).split())
        if any(word in message.lower() for word in _OUTAGE_WORDS):
            return  # an outage: the job store logs it once and retries on first use
        raise ConfigurationError(f"{where}: {message[:300]}") from None
    finally:
        engine.dispose()
