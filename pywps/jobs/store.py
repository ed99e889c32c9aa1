"""The persistent job store: SQLAlchemy Core over SQLite (WAL) or PostgreSQL (``postgresql+psycopg://``).

URLs: ``sqlite:///PATH`` or a bare path (WAL, busy_timeout 30 s, synchronous=NORMAL; writers also take
an ``flock`` on ``PATH.writer-lock`` so they queue without SQLite's sleeping busy handler),
``postgresql+psycopg://USER@HOST:PORT/DB``, and ``sqlite://`` (in memory, one shared connection:
single-threaded tests only).

Every method runs its own short transaction and commits before returning, so a client never sees a
state the store has not committed. State changes are ``UPDATE ... WHERE status IN (allowed sources)``
and report whether they applied.

Slots. The number of running jobs (``started`` or ``paused``) is counted in the database, across every
server sharing it. Claims check it and take a job in one serialised transaction: SQLite by
``BEGIN IMMEDIATE`` (one writer at a time), PostgreSQL by a transaction-level advisory lock taken before
counting, so two claimers can never both see the same free slot. The queue limit of ``submit`` is
enforced the same way with a second lock.

Clocks. Times are the calling server's clock (epoch seconds in the database); servers sharing a
PostgreSQL database must keep their clocks in sync (NTP) for heartbeats to compare.

Threads and processes. One ``JobStore`` is safe to share between threads. After ``os.fork()`` the child
must not reuse the parent's pooled connections: the store registers ``after_fork()`` with
``os.register_at_fork`` so a forked child drops the inherited pool (without closing the parent's
connections) and opens its own; call ``store.after_fork()`` yourself if you fork by other means.
"""

from __future__ import annotations

import builtins
import fcntl
import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from pywps.jobs.migrations import instances, jobs, upgrade
from pywps.jobs.model import FINAL, RUNNING, SOURCES, JobRecord, JobStatus, QueueFull

log = logging.getLogger(__name__)

__all__ = ["JobStore", "QueueFull"]

SLOT_LOCK_KEY = 0x7079777302    # serialises claims (running count) on PostgreSQL
QUEUE_LOCK_KEY = 0x7079777303   # serialises submits with a queue limit on PostgreSQL

_RUNNING = tuple(s.value for s in RUNNING)
_LIGHT_COLUMNS = [c for c in jobs.c if c.name not in ("seq", "response", "outputs")]
_FULL_COLUMNS = [c for c in jobs.c if c.name != "seq"]


def _ts(value: float | None) -> datetime | None:
    """Epoch seconds -> aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _epoch(value: datetime | None) -> float | None:
    """Aware (or naive UTC) datetime -> epoch seconds."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _statuses(statuses: JobStatus | str | Iterable[JobStatus | str]) -> builtins.list[str]:
    """One status or several, as their string values."""
    if isinstance(statuses, str):
        return [JobStatus(statuses).value]
    return [JobStatus(s).value for s in statuses]


def _record(row: sa.RowMapping) -> JobRecord:
    """A database row -> JobRecord."""
    return JobRecord(
        id=row["id"], process=row["process"], request=row["request"], status=JobStatus(row["status"]),
        percent=row["percent"], message=row["message"], is_async=bool(row["is_async"]),
        created=_ts(row["created"]), started=_ts(row["started"]), finished=_ts(row["finished"]),
        updated=_ts(row["updated"]), backend=row["backend"], handle=row["handle"], owner=row["owner"],
        heartbeat=_ts(row["heartbeat"]), response=row.get("response"), protocol=row.get("protocol") or "wps1",
        outputs=row.get("outputs"), subscriber=row.get("subscriber"),
    )


def _row(job: JobRecord) -> dict[str, Any]:
    """A JobRecord -> insert values."""
    return {
        "id": job.id, "process": job.process, "request": job.request, "status": JobStatus(job.status).value,
        "percent": job.percent, "message": job.message, "is_async": job.is_async,
        "created": _epoch(job.created), "started": _epoch(job.started), "finished": _epoch(job.finished),
        "updated": _epoch(job.updated) or time.time(), "backend": job.backend, "handle": job.handle,
        "owner": job.owner, "heartbeat": _epoch(job.heartbeat), "response": job.response,
        "protocol": job.protocol, "outputs": job.outputs, "subscriber": job.subscriber,
    }


@functools.lru_cache(maxsize=256)
def _transition_statement(new: JobStatus, columns: tuple[str, ...]) -> sa.Update:
    """``UPDATE … WHERE id = :_id AND status IN (sources of new)``, built once per status and column set.

    A progress update never moves ``percent`` backwards; a start keeps the first ``started``; a queued job
    starts only through claim_next/claim_sync (which count the free slots), never through a transition.
    """
    sources = [s.value for s in SOURCES[new] if not (new is JobStatus.STARTED and s is JobStatus.ACCEPTED)]
    values: dict[str, Any] = {name: sa.bindparam(name, type_=jobs.c[name].type) for name in columns}
    if new is JobStatus.STARTED:
        if "percent" in columns:
            values["percent"] = sa.case((jobs.c.percent > values["percent"], jobs.c.percent),
                                        else_=values["percent"])
        values["started"] = sa.func.coalesce(jobs.c.started, values["started"])
    return jobs.update().where(jobs.c.id == sa.bindparam("_id"), jobs.c.status.in_(sources)).values(values)


_INSERT = jobs.insert()
_QUEUED_COUNT = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.status == JobStatus.ACCEPTED.value)
_RUNNING_COUNT = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.status.in_(_RUNNING))
# the dispatcher's statements, each round or job: built once, executed with bound parameters
_COUNT = sa.select(sa.func.count()).select_from(jobs).where(
    jobs.c.status.in_(sa.bindparam("_statuses", expanding=True)))
_NEXT_QUEUED = (sa.select(jobs.c.id).where(jobs.c.status == JobStatus.ACCEPTED.value)
                .order_by(jobs.c.seq).limit(1))
_CLAIM = (jobs.update().where(jobs.c.id == sa.bindparam("_id"), jobs.c.status == JobStatus.ACCEPTED.value)
          .values(status=JobStatus.STARTED.value, owner=sa.bindparam("_owner"), backend=sa.bindparam("_backend"),
                  started=sa.bindparam("_now"), heartbeat=sa.bindparam("_now"), updated=sa.bindparam("_now"))
          .returning(*_FULL_COLUMNS))
_SET_HANDLE = (jobs.update().where(jobs.c.id == sa.bindparam("_id"))
               .values(handle=sa.bindparam("_handle"), updated=sa.bindparam("_now")))
_RUNNING_JOBS = sa.select(*_LIGHT_COLUMNS).where(jobs.c.status.in_(_RUNNING)).order_by(jobs.c.seq)
_RUNNING_OF = _RUNNING_JOBS.where(jobs.c.owner == sa.bindparam("_owner"))
_HEARTBEAT = (jobs.update().where(jobs.c.owner == sa.bindparam("_owner"), jobs.c.status.in_(_RUNNING))
              .values(heartbeat=sa.bindparam("_now")))
_HEARTBEAT_OF = _HEARTBEAT.where(jobs.c.id.in_(sa.bindparam("_ids", expanding=True)))
_BEAT_INSTANCE = instances.update().where(instances.c.id == sa.bindparam("_id")).values(
    heartbeat=sa.bindparam("_now"))


def _in_memory(url: sa.URL) -> bool:
    """Whether a SQLite URL names an in-memory database."""
    return url.database in (None, "", ":memory:")


def _normalise_url(url: str) -> str:
    """Accept a bare file path as a SQLite database; prefer psycopg 3 for PostgreSQL."""
    if "://" not in url:
        return f"sqlite:///{os.path.abspath(url)}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class _WriterGate:
    """Serialises SQLite writers with a thread lock plus ``flock`` on ``DB.writer-lock``.

    SQLite's busy handler polls with sleeps of up to 100 ms, which shows up as tail latency when
    several processes write; a blocked ``flock`` is woken by the kernel as soon as the holder lets go.
    The flock is taken per process (per open file), the thread lock orders this process's threads.
    """

    def __init__(self, database: str) -> None:
        self.path = database + ".writer-lock"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        """This process's lock file descriptor (an inherited one would share the parent's lock)."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def after_fork(self) -> None:
        """In a forked child: a fresh thread lock; the lock file is reopened on first use."""
        self._thread_lock = threading.Lock()
        if self._fd is not None and self._pid != os.getpid():
            os.close(self._fd)       # closing our copy leaves the parent's lock alone
            self._fd = None


_NO_GATE = nullcontext()


class JobStore:
    """Jobs and server instances in one SQL database."""

    def __init__(
        self, url: str, *, pool_size: int = 5, pool_pre_ping: bool = False, echo: bool = False
    ) -> None:
        self.url = _normalise_url(url)
        self.engine = self._create_engine(pool_size, pool_pre_ping, echo)
        self.dialect = self.engine.dialect.name
        file_db = self.dialect == "sqlite" and not _in_memory(self.engine.url)
        self._gate = _WriterGate(self.engine.url.database) if file_db else None
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        try:
            self._ensure_schema()
        except sa.exc.OperationalError as exc:  # down for now: a server process starting (or a worker
            # recycled) during an outage must not die of it; the schema is made by the first call that works
            log.error("job store %s unreachable at start (%s); retried on first use",
                      sa.make_url(self.url).render_as_string(hide_password=True), str(exc).splitlines()[0])
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (s := ref()) is not None and s.after_fork())

    # -- engine and transactions -------------------------------------------------------------------

    def _create_engine(self, pool_size: int, pre_ping: bool, echo: bool) -> sa.Engine:
        """An engine configured for the dialect (SQLite pragmas and explicit BEGIN)."""
        sa_url = sa.make_url(self.url)
        if sa_url.get_backend_name() != "sqlite":
            # no pre-ping by default: it costs a round trip per call; after a server restart SQLAlchemy
            # invalidates the pool on the first disconnect error, so one call fails and the next reconnects
            return sa.create_engine(sa_url, pool_size=pool_size, max_overflow=10, pool_pre_ping=pre_ping,
                                    pool_recycle=1800, echo=echo)
        memory = _in_memory(sa_url)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(pool_size=pool_size, max_overflow=10)
        engine = sa.create_engine(sa_url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is off)
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")
            if not memory:
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            # writes take the write lock up front; single-statement reads run without a transaction
            if conn.get_execution_options().get("pywps_write", False):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    @contextmanager
    def _write(self, lock_key: int | None = None) -> Iterator[sa.Connection]:
        """A committed write transaction: BEGIN IMMEDIATE on SQLite, optional advisory lock on PostgreSQL."""
        if not self._schema_ready:
            self._ensure_schema()
        with self._gate or _NO_GATE, self.engine.connect() as conn:
            conn.execution_options(pywps_write=True)
            with conn.begin():
                if lock_key is not None and self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})
                yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """A connection for reads (autocommit on PostgreSQL: one round trip per query)."""
        if not self._schema_ready:
            self._ensure_schema()
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def _ensure_schema(self) -> None:
        """Create or upgrade the schema once; safe when several processes start at once."""
        with self._schema_lock:
            if self._schema_ready:
                return
            self._schema_ready = True  # _write below must not come back here
            try:
                with self._write() as conn:
                    upgrade(conn)
            except BaseException:
                self._schema_ready = False
                raise

    def after_fork(self) -> None:
        """In a forked child: forget the inherited pool without closing the parent's connections."""
        self.engine.dispose(close=False)
        if self._gate is not None:
            self._gate.after_fork()

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    # -- jobs: submit and read ---------------------------------------------------------------------

    def submit(self, job: JobRecord, max_queued: int | None = None) -> None:
        """Queue an ACCEPTED job; raise ``QueueFull`` when ``max_queued`` jobs are already waiting."""
        job.status = JobStatus.ACCEPTED
        values = _row(job)
        with self._write(QUEUE_LOCK_KEY if max_queued is not None else None) as conn:
            if max_queued is not None and conn.execute(_QUEUED_COUNT).scalar_one() >= max_queued:
                raise QueueFull(f"the queue is full ({max_queued} jobs are waiting)")
            conn.execute(_INSERT, values)

    def get(self, job_id: str) -> JobRecord | None:
        """One job with its status document, or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(*_FULL_COLUMNS).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else _record(row)

    def get_response(self, job_id: str) -> bytes | None:
        """Only the stored status document of a job (what ``statusLocation`` answers)."""
        with self._read() as conn:
            return conn.execute(sa.select(jobs.c.response).where(jobs.c.id == job_id)).scalar()

    def list(
        self,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        process: str | None = None,
        limit: int = 100,
        offset: int = 0,
        owner: str | None = None,
    ) -> builtins.list[JobRecord]:
        """Jobs, newest first, without their status documents (``response`` is None; use ``get``)."""
        query = sa.select(*_LIGHT_COLUMNS).order_by(jobs.c.seq.desc()).limit(limit).offset(offset)
        if status is not None:
            query = query.where(jobs.c.status.in_(_statuses(status)))
        if process is not None:
            query = query.where(jobs.c.process == process)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self._read() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def count(self, statuses: JobStatus | str | Iterable[JobStatus | str]) -> int:
        """How many jobs are in the given states."""
        with self._read() as conn:
            return conn.execute(_COUNT, {"_statuses": _statuses(statuses)}).scalar_one()

    # -- jobs: filtered listing (OGC API /jobs, operator pages, callbacks) ------------------------

    def query(
        self,
        *,
        statuses: Iterable[JobStatus | str] | None = None,
        processes: Iterable[str] | None = None,
        protocols: Iterable[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
        updated_after: datetime | None = None,
        with_subscriber: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[JobRecord]:
        """Jobs matching every filter given, newest first, without status documents.

        The duration of a job is from ``started`` to ``finished`` (now while it runs); jobs that never
        started have none and are left out by a duration filter. ``created_after``/``created_before`` are
        inclusive; ``updated_after`` is exclusive.
        """
        query = sa.select(*_LIGHT_COLUMNS).order_by(jobs.c.seq.desc()).limit(limit).offset(offset)
        query = query.where(*self._filters(statuses, processes, protocols, created_after, created_before,
                                           min_duration, max_duration, updated_after, with_subscriber))
        with self._read() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def query_count(
        self,
        *,
        statuses: Iterable[JobStatus | str] | None = None,
        processes: Iterable[str] | None = None,
        protocols: Iterable[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
    ) -> int:
        """How many jobs :meth:`query` would find with these filters and no limit."""
        query = sa.select(sa.func.count()).select_from(jobs).where(*self._filters(
            statuses, processes, protocols, created_after, created_before, min_duration, max_duration, None, False))
        with self._read() as conn:
            return conn.execute(query).scalar_one()

    def status_counts(self) -> dict[str, int]:
        """The number of jobs in each state (states without jobs are left out)."""
        query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
        with self._read() as conn:
            return {status: n for status, n in conn.execute(query)}

    @staticmethod
    def _filters(statuses, processes, protocols, created_after, created_before, min_duration, max_duration,
                 updated_after, with_subscriber) -> builtins.list[Any]:
        """The WHERE clauses of :meth:`query` and :meth:`query_count`."""
        where: builtins.list[Any] = []
        if statuses is not None:
            where.append(jobs.c.status.in_(_statuses(statuses)))
        if processes is not None:
            where.append(jobs.c.process.in_(builtins.list(processes)))
        if protocols is not None:
            where.append(jobs.c.protocol.in_(builtins.list(protocols)))
        if created_after is not None:
            where.append(jobs.c.created >= _epoch(created_after))
        if created_before is not None:
            where.append(jobs.c.created <= _epoch(created_before))
        if min_duration is not None or max_duration is not None:
            duration = sa.func.coalesce(jobs.c.finished, time.time()) - jobs.c.started
            where.append(jobs.c.started.is_not(None))
            if min_duration is not None:
                where.append(duration >= min_duration)
            if max_duration is not None:
                where.append(duration <= max_duration)
        if updated_after is not None:
            where.append(jobs.c.updated > _epoch(updated_after))
        if with_subscriber:
            where.append(jobs.c.subscriber.is_not(None))
        return where

    # -- jobs: slots -------------------------------------------------------------------------------

    def _running_count(self, conn: sa.Connection) -> int:
        """Running jobs across all servers, inside the caller's serialised transaction."""
        return conn.execute(_RUNNING_COUNT).scalar_one()

    def claim_next(self, owner: str, backend: str, max_running: int) -> JobRecord | None:
        """Start the oldest queued job if fewer than ``max_running`` jobs run anywhere; None otherwise."""
        with self._write(SLOT_LOCK_KEY) as conn:
            if self._running_count(conn) >= max_running:
                return None
            # after the count: a start never predates the end (committed before the count) that freed its slot
            now = time.time()
            while True:
                job_id = conn.execute(_NEXT_QUEUED).scalar()
                if job_id is None:
                    return None
                row = conn.execute(_CLAIM, {"_id": job_id, "_owner": owner, "_backend": backend,
                                            "_now": now}).mappings().first()
                if row is not None:
                    return _record(row)
                # dismissed between our select and update (PostgreSQL, unlocked writer): take the next

    def claim_sync(self, job: JobRecord, max_running: int) -> bool:
        """Insert a synchronous job directly as STARTED if a slot is free; False means ServerBusy."""
        with self._write(SLOT_LOCK_KEY) as conn:
            if self._running_count(conn) >= max_running:
                return False
            now = time.time()  # after the count, as in claim_next
            values = {**_row(job), "status": JobStatus.STARTED.value, "started": now, "heartbeat": now,
                      "updated": now}
            conn.execute(_INSERT, values)
        job.status = JobStatus.STARTED
        job.started = job.heartbeat = job.updated = _ts(now)
        return True

    # -- jobs: state changes -----------------------------------------------------------------------

    def transition(
        self,
        job_id: str,
        new_status: JobStatus | str,
        *,
        percent: int | None = None,
        message: str | None = None,
        response: bytes | None = None,
        handle: str | None = None,
        owner: str | None = None,
        outputs: str | None = None,
    ) -> bool:
        """Move a job to ``new_status`` if the state machine allows it from its current state.

        A progress update (``started -> started``) never moves ``percent`` backwards; ``succeeded``
        sets percent 100 unless given; ``started -> accepted`` (requeue) clears owner, handle, heartbeat
        and ``started``. Returns whether the change applied.
        """
        new = JobStatus(new_status)
        now = time.time()
        params: dict[str, Any] = {"_id": job_id, "status": new.value, "updated": now}
        if percent is not None:
            params["percent"] = max(0, min(100, int(percent)))
        elif new is JobStatus.SUCCEEDED:
            params["percent"] = 100
        for name, value in (("message", message), ("response", response), ("handle", handle), ("owner", owner),
                            ("outputs", outputs)):
            if value is not None:
                params[name] = value
        if new in FINAL:
            params["finished"] = now
        elif new is JobStatus.STARTED:
            params["started"] = params["heartbeat"] = now
        elif new is JobStatus.ACCEPTED:
            params.update(owner=None, handle=None, heartbeat=None, started=None, percent=0)
        statement = _transition_statement(new, tuple(sorted(k for k in params if k != "_id")))
        with self._write() as conn:
            return conn.execute(statement, params).rowcount == 1

    def discard(self, job_id: str, message: str, response: bytes | None = None) -> bool:
        """A finished (succeeded or failed) job's client discards it (WPS 2.0.0 Dismiss, OGC API DELETE):
        it becomes ``dismissed``. Outside the state machine on purpose: a late Dismiss racing a job's end
        through ``transition`` never turns a finished job into a dismissed one."""
        values: dict[str, Any] = {"status": JobStatus.DISMISSED.value, "message": message, "updated": time.time()}
        if response is not None:
            values["response"] = response
        query = (jobs.update().where(jobs.c.id == job_id,
                                     jobs.c.status.in_([JobStatus.SUCCEEDED.value, JobStatus.FAILED.value]))
                 .values(**values))
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def set_handle(self, job_id: str, handle: str) -> bool:
        """Record the runner handle (pid, container id, batch id) of a job."""
        with self._write() as conn:
            return conn.execute(_SET_HANDLE, {"_id": job_id, "_handle": handle, "_now": time.time()}).rowcount == 1

    def set_response(self, job_id: str, response: bytes) -> bool:
        """Store the latest rendered status document of a job."""
        return self._update(job_id, response=response)

    def _update(self, job_id: str, **values: Any) -> bool:
        """Set columns of one job regardless of its state."""
        with self._write() as conn:
            query = jobs.update().where(jobs.c.id == job_id).values(updated=time.time(), **values)
            return conn.execute(query).rowcount == 1

    def heartbeat(self, owner: str, ids: builtins.list[str] | None = None) -> int:
        """Refresh the heartbeat of running jobs owned by ``owner`` (all of them when ``ids`` is None)."""
        if ids is not None and not ids:
            return 0
        params: dict[str, Any] = {"_owner": owner, "_now": time.time()}
        if ids is not None:
            params["_ids"] = builtins.list(ids)
        with self._write() as conn:
            return conn.execute(_HEARTBEAT if ids is None else _HEARTBEAT_OF, params).rowcount

    def running(self, owner: str | None = None) -> builtins.list[JobRecord]:
        """Jobs holding a slot (started or paused), oldest first, without status documents."""
        with self._read() as conn:
            rows = (conn.execute(_RUNNING_JOBS) if owner is None else conn.execute(_RUNNING_OF, {"_owner": owner}))
            return [_record(r) for r in rows.mappings()]

    def stale(self, timeout_s: float) -> builtins.list[JobRecord]:
        """Running jobs whose heartbeat is older than ``timeout_s`` seconds."""
        limit = time.time() - timeout_s
        query = (
            sa.select(*_LIGHT_COLUMNS)
            .where(jobs.c.status.in_(_RUNNING), sa.func.coalesce(jobs.c.heartbeat, jobs.c.updated) < limit)
            .order_by(jobs.c.seq)
        )
        with self._read() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def adopt(self, from_owner: str, to_owner: str) -> int:
        """Hand the running jobs of a dead server instance to another; returns how many."""
        with self._write() as conn:
            return conn.execute(
                jobs.update()
                .where(jobs.c.owner == from_owner, jobs.c.status.in_(_RUNNING))
                .values(owner=to_owner, heartbeat=time.time(), updated=time.time())
            ).rowcount

    def delete_older_than(
        self, age: timedelta, statuses: Iterable[JobStatus | str] = FINAL
    ) -> builtins.list[str]:
        """Delete jobs in ``statuses`` that ended (or last changed) over ``age`` ago; returns their ids."""
        limit = time.time() - age.total_seconds()
        with self._write() as conn:
            rows = conn.execute(
                jobs.delete()
                .where(jobs.c.status.in_(_statuses(statuses)),
                       sa.func.coalesce(jobs.c.finished, jobs.c.updated) < limit)
                .returning(jobs.c.id)
            )
            return [r[0] for r in rows]

    # -- server instances --------------------------------------------------------------------------

    def register_instance(self, instance_id: str, host: str, pid: int) -> None:
        """Record a live server instance (replacing an earlier record with the same id)."""
        now = time.time()
        with self._write() as conn:
            conn.execute(instances.delete().where(instances.c.id == instance_id))
            conn.execute(instances.insert().values(id=instance_id, host=host, pid=pid, started=now,
                                                   heartbeat=now))

    def beat_instance(self, instance_id: str) -> bool:
        """Refresh an instance's heartbeat; False if it is not registered (it was declared dead)."""
        with self._write() as conn:
            return conn.execute(_BEAT_INSTANCE, {"_id": instance_id, "_now": time.time()}).rowcount == 1

    def dead_instances(self, timeout_s: float) -> builtins.list[str]:
        """Ids of instances whose heartbeat is older than ``timeout_s`` seconds."""
        limit = time.time() - timeout_s
        with self._read() as conn:
            return list(conn.execute(
                sa.select(instances.c.id).where(instances.c.heartbeat < limit).order_by(instances.c.heartbeat)
            ).scalars())

    def instances(self) -> builtins.list[dict[str, Any]]:
        """All registered instances as dicts (id, host, pid, started, heartbeat)."""
        with self._read() as conn:
            return [
                {**dict(r), "started": _ts(r["started"]), "heartbeat": _ts(r["heartbeat"])}
                for r in conn.execute(sa.select(instances).order_by(instances.c.started)).mappings()
            ]

    def remove_instance(self, instance_id: str) -> None:
        """Forget a server instance."""
        with self._write() as conn:
            conn.execute(instances.delete().where(instances.c.id == instance_id))

    def __repr__(self) -> str:
        return f"JobStore({self.engine.url.render_as_string(hide_password=True)!r})"
