"""The job store schema (SQLAlchemy Core tables) and its ordered upgrade steps, without Alembic.

A fresh database gets the current tables and ``SCHEMA_VERSION``; an older one runs the steps after its
recorded version, in order, in one transaction. Several processes starting at once are serialised:
SQLite by ``BEGIN IMMEDIATE`` (the caller's write transaction), PostgreSQL by a transaction-level
advisory lock; DDL is transactional on both, so a loser sees the finished schema.

Times are stored as epoch seconds (double precision) so both dialects compare them the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
SCHEMA_LOCK_KEY = 0x7079777301  # pg_advisory_xact_lock key for schema changes ("pywps" + 1)

metadata = sa.MetaData()

jobs = sa.Table(
    "pywps_jobs", metadata,
    # submission order; the queue is served by it
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("process", sa.String(255), nullable=False),
    sa.Column("request", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("percent", sa.Integer(), nullable=False, default=0),
    sa.Column("message", sa.Text(), nullable=False, default=""),
    sa.Column("is_async", sa.Boolean(), nullable=False),
    sa.Column("created", sa.Double(), nullable=False),
    sa.Column("started", sa.Double()),
    sa.Column("finished", sa.Double()),
    sa.Column("updated", sa.Double(), nullable=False),
    sa.Column("backend", sa.String(64), nullable=False, default=""),
    sa.Column("handle", sa.String(255)),
    sa.Column("owner", sa.String(255)),
    sa.Column("heartbeat", sa.Double()),
    sa.Column("response", sa.LargeBinary()),
    # version 2: the protocol a job came in by (wps1, wps2, ogcapi), its published outputs (JSON list of
    # OutputResult.to_dict(), hrefs filled) and what the client asked to be told (OGC API subscriber)
    sa.Column("protocol", sa.String(16), nullable=False, default="wps1", server_default="wps1"),
    sa.Column("outputs", sa.Text()),
    sa.Column("subscriber", sa.Text()),
    sa.Index("pywps_jobs_status_seq", "status", "seq"),
    sa.Index("pywps_jobs_owner", "owner"),
    sa.Index("pywps_jobs_finished", "finished"),
)

instances = sa.Table(
    "pywps_instances", metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("started", sa.Double(), nullable=False),
    sa.Column("heartbeat", sa.Double(), nullable=False),
)

schema_version = sa.Table(
    "pywps_schema_version", metadata,
    sa.Column("version", sa.Integer(), nullable=False),
)

# STEPS[n] upgrades a database at version n-1 to version n (n >= 2); version 1 is the initial schema.
Step = Callable[[sa.Connection], None]


def _v2(conn: sa.Connection) -> None:
    """Version 2: protocol, outputs and subscriber columns."""
    for ddl in ("ALTER TABLE pywps_jobs ADD COLUMN protocol VARCHAR(16) NOT NULL DEFAULT 'wps1'",
                "ALTER TABLE pywps_jobs ADD COLUMN outputs TEXT",
                "ALTER TABLE pywps_jobs ADD COLUMN subscriber TEXT"):
        conn.exec_driver_sql(ddl)


STEPS: dict[int, Step] = {2: _v2}


def current_version(conn: sa.Connection) -> int:
    """The recorded schema version, 0 when the database has no job store yet."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return 0
    return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0


def upgrade(conn: sa.Connection, steps: dict[int, Step] | None = None, latest: int = SCHEMA_VERSION) -> int:
    """Bring the schema to ``latest`` inside the caller's write transaction; returns the version found."""
    steps = STEPS if steps is None else steps
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
    found = current_version(conn)
    if found == latest:
        return found
    if found > latest:
        log.warning("job store schema version %s is newer than this code knows (%s)", found, latest)
        return found
    if found == 0:
        metadata.create_all(conn)
        conn.execute(schema_version.insert().values(version=latest))
        log.info("created job store schema version %s", latest)
        return found
    for version in range(found + 1, latest + 1):
        log.info("upgrading job store schema to version %s", version)
        steps[version](conn)
    conn.execute(schema_version.update().values(version=latest))
    return found
