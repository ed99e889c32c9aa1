"""Fixtures: a ``store`` on a temp SQLite file and on PostgreSQL (``PYWPS_TEST_PG_URL``, own schema per test).

Without ``PYWPS_TEST_PG_URL`` the PostgreSQL cases skip, except under ``CI=true`` where they fail:
start a throwaway server with ``eval "$(.ci/postgres.sh env)"`` (or ``.ci/postgres.sh start``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from pywps.jobs.store import JobStore

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_base_url() -> str:
    """The PostgreSQL URL from the environment, or skip (fail under CI=true)."""
    url = os.environ.get("PYWPS_TEST_PG_URL", "")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but PYWPS_TEST_PG_URL is unset: run .ci/postgres.sh start")
        pytest.skip("PYWPS_TEST_PG_URL is unset (see .ci/postgres.sh)")
    return url


@pytest.fixture(params=DIALECTS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL to an empty job database: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    base = sa.make_url(pg_base_url())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[JobStore]:
    """A JobStore on an empty database (SQLite file or PostgreSQL schema)."""
    s = JobStore(store_url)
    try:
        yield s
    finally:
        s.dispose()
