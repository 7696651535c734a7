"""The job queue: one table per schema that coordinates workers populating its tables.

A job row names an auto-populated table and one key (by its hash). Workers reserve a key with
one conditional UPDATE (`... WHERE status = 'pending' OR the lease expired`): the database lets
exactly one of N racing workers change the row, and the row count tells each whether it won.
A reservation carries a lease measured on the database's clock; a running worker renews it
(the heartbeat), so a job whose worker died goes back to the pool when its lease runs out.

`schema.jobs` is the table itself (legacy `schema.jobs & {...}`, `.delete()`); `Table.jobs` is
the per-table view (pending, reserved, errors, ignored, completed, refresh, ignore, progress).
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import getpass
import hashlib
import logging
import os
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ..catalog.records import TableRecord
from ..definition.parser import parse_definition
from ..errors import DataJointError, DuplicateError
from ..settings import config
from ..table.table import Table

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from ..core.hints import Key
    from ..query.restriction import Restriction

logger = logging.getLogger("pipejoint")

JOBS_TABLE = "~jobs"
STATUSES = ("pending", "reserved", "success", "error", "ignore")
ERROR_MESSAGE_LENGTH = 2047

DEFINITION = """
# job queue: keys of this schema's auto-populated tables being made, failed or ignored
table_name : varchar(255)          # stored name of the auto-populated table
key_hash : char(32)                # md5 of the key's values
---
status : enum('pending','reserved','success','error','ignore')
key = null : <blob>                # the key, as a dict
priority = 5 : int16               # smaller runs first
attempts = 0 : int32               # failed make() calls so far
created_time = null : datetime(3)
reserved_time = null : datetime(3)
completed_time = null : datetime(3)
lease_expires = null : float64     # database clock, seconds since the epoch
duration = null : float64          # seconds make() took
error_message = "" : varchar(2047)
error_stack = null : text          # the full traceback
user = "" : varchar(255)
host = "" : varchar(255)
pid = 0 : int32
token = "" : varchar(32)           # identifies one reservation
"""

# DataJoint 0.14's schema-wide job table, also named ~jobs: read as it is (its rows are reserved,
# error or ignore; a missing row means the job is available). Told apart by its columns.
DEFINITION_014 = """
# job reservation table (DataJoint 0.14)
table_name : varchar(255)          # className of the table
key_hash : char(32)                # key hash
---
status : enum('reserved','error','ignore')
key = null : blob                  # structure containing the key
error_message = "" : varchar(2047)
error_stack = null : mediumblob
user = "" : varchar(255)
host = "" : varchar(255)
pid = 0 : int unsigned
connection_id = 0 : bigint unsigned
timestamp = CURRENT_TIMESTAMP : timestamp
"""
_COLUMNS_014 = {"table_name", "key_hash", "status", "key", "connection_id", "timestamp"}


def key_hash(key: Mapping[str, Any], names: Iterable[str]) -> str:
    """A stable hash of a key's values (the same in every process and on every host)."""
    digest = hashlib.md5()
    for name in names:
        digest.update(str(key[name]).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _now():
    now = datetime.datetime.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _login_name():
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


# who and where this process runs, written into the job rows it reserves (fixed for its lifetime)
USER = _login_name()
HOST = socket.gethostname()


class JobTable(Table):
    """The schema's jobs table: query it, restrict it, delete from it like any table."""

    tier = "jobs"
    _table_name = JOBS_TABLE
    definition = DEFINITION

    def __init__(self, schema: Any = None) -> None:  # a dj.Schema
        super().__init__()
        if schema is not None:
            self._schema = schema
            self._declare_once()

    @property
    def _record(self):
        """The jobs table's record, made from its definition (it is not in the catalog): pipejoint's,
        or DataJoint 0.14's when the schema's ~jobs was made by 0.14."""
        key = ("jobs record", self.database)
        record = self._connection.cache.get(key)
        if record is None:
            definition = DEFINITION_014 if self._made_by_014() else DEFINITION
            spec = parse_definition(definition, self.database, JOBS_TABLE, {}, self.tier)
            record = TableRecord(
                self.database, JOBS_TABLE, self.tier, "Jobs", definition, spec.heading, [], spec.indexes
            )
            self._connection.cache.put(key, record)
        return record

    def _made_by_014(self):
        """True when the existing ~jobs has DataJoint 0.14's columns (read from an empty SELECT)."""
        if not self.is_declared:
            return False
        connection = self._connection
        cursor = connection.query(f"SELECT * FROM {self.full_table_name} WHERE 1 = 0")
        columns = {d[0] for d in cursor.description}
        cursor.close()
        return columns >= _COLUMNS_014 and "token" not in columns

    @property
    def is_014(self):
        return self._record.definition is DEFINITION_014

    @property
    def is_declared(self) -> bool:
        connection = self._connection
        return JOBS_TABLE in connection.backend.list_tables(connection, self.database)

    def _declare_once(self):
        schema = self._schema
        if getattr(schema, "_jobs_declared", False):
            return
        if not self.is_declared:
            self.declare()
        schema._jobs_declared = True

    def declare(self, context: Mapping[str, Any] | None = None) -> None:
        """Create the jobs table (kept out of the catalog: it is no step of the pipeline)."""
        from ..definition.ddl import create_table_statements

        connection = self._connection
        if connection.in_transaction:
            raise DataJointError(
                f"The jobs table of schema `{self.database}` is created on first use, which cannot happen inside "
                "a transaction: use schema.jobs once before the transaction."
            )
        spec = parse_definition(DEFINITION, self.database, JOBS_TABLE, {}, self.tier)
        try:
            for statement in create_table_statements(connection.backend, spec):
                connection.query(statement)
        except DataJointError:
            if not self.is_declared:  # another worker may have created it at the same moment
                raise

    def delete(self, transaction=True, prompt=None, **kwargs):
        """Delete these job rows (no prompt: jobs are bookkeeping, nothing depends on them)."""
        return self.delete_quick(get_count=True)

    def drop(self, prompt: bool | None = None, force: bool = False, part_integrity: str = "enforce") -> None:
        from ..definition.ddl import drop_table_statement

        connection = self._connection
        connection.query(drop_table_statement(connection.backend, self.database, JOBS_TABLE))
        self._schema._jobs_declared = False

    drop_quick = drop

    @property
    def class_name(self) -> str:
        return "Jobs"

    def parts(self, as_objects: bool = False) -> list[Any]:
        return []

    def children(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return f"Jobs of schema `{self.database}`\n" + super().__repr__()


class _Statements:
    """The SQL of the reservation protocol, written once per schema and backend."""

    def __init__(self, connection, database):
        backend = connection.backend
        if backend.epoch_now_sql is None:
            raise DataJointError(f"The {backend.name} backend does not say how to read its clock (epoch_now_sql).")
        q = backend.quote
        p = backend.placeholder
        table = backend.full_table_name(database, JOBS_TABLE)
        now = backend.epoch_now_sql
        this_job = f"{q('table_name')} = {p} AND {q('key_hash')} = {p}"
        mine = f"{this_job} AND {q('token')} = {p}"
        self.reserve = (
            f"UPDATE {table} SET {q('status')} = 'reserved', {q('token')} = {p}, {q('host')} = {p}, {q('pid')} = {p}, "
            f"{q('user')} = {p}, {q('reserved_time')} = {p}, {q('lease_expires')} = {now} + {p} "
            f"WHERE {this_job} AND ({q('status')} = 'pending' OR ({q('status')} = 'reserved' AND {q('lease_expires')} < {now}))"
        )
        self.renew = (
            f"UPDATE {table} SET {q('lease_expires')} = {now} + {p} WHERE {mine} AND {q('status')} = 'reserved'"
        )
        self.complete = f"DELETE FROM {table} WHERE {mine}"
        self.succeed = (
            f"UPDATE {table} SET {q('status')} = 'success', {q('completed_time')} = {p}, {q('duration')} = {p}, "
            f"{q('lease_expires')} = NULL WHERE {mine}"
        )
        self.fail = (
            f"UPDATE {table} SET {q('status')} = 'error', {q('completed_time')} = {p}, {q('duration')} = {p}, "
            f"{q('attempts')} = {p}, {q('error_message')} = {p}, {q('error_stack')} = {p}, {q('lease_expires')} = NULL "
            f"WHERE {mine}"
        )
        self.release = (
            f"UPDATE {table} SET {q('status')} = 'pending', {q('token')} = '', {q('lease_expires')} = NULL WHERE {mine}"
        )
        self.ignore = f"UPDATE {table} SET {q('status')} = 'ignore', {q('lease_expires')} = NULL WHERE {this_job}"
        self.re_pend = (
            f"UPDATE {table} SET {q('status')} = 'pending', {q('token')} = '', {q('attempts')} = 0, "
            f"{q('lease_expires')} = NULL, {q('completed_time')} = NULL, {q('priority')} = {p} "
            f"WHERE {this_job} AND {q('status')} = 'success'"
        )


class Jobs:
    """`Table.jobs`: the jobs of one auto-populated table, and the reservation protocol for it."""

    def __init__(self, target: Any) -> None:  # an AutoPopulate table (autopopulate.py imports this module)
        self.target = target
        self._schema = target.schema
        self._table_name = target.table_name
        self.table = JobTable(self._schema)
        self._key_names: list[str] | None = None
        self._sql: Any = None
        self._heading: Any = None

    # --- views (restrictions of the jobs table) ---
    @property
    def _all(self):
        return self.table & {"table_name": self._table_name}

    def _status(self, status):
        return self._all & {"status": status}

    @property
    def pending(self) -> JobTable:
        return self._status("pending")

    @property
    def reserved(self) -> JobTable:
        return self._status("reserved")

    @property
    def errors(self) -> JobTable:
        return self._status("error")

    @property
    def ignored(self) -> JobTable:
        return self._status("ignore")

    @property
    def completed(self) -> JobTable:
        return self._status("success")

    def __and__(self, restriction: Restriction) -> JobTable:
        return self._all & restriction

    def __sub__(self, restriction: Restriction) -> JobTable:
        return self._all - restriction

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._all, name)

    def __repr__(self) -> str:
        return f"Jobs of {self.target.node_name}\n" + repr(self._all)

    def delete(self, *args: Any, **kwargs: Any) -> int:
        return self._all.delete()

    # --- bookkeeping ---
    @property
    def key_names(self) -> list[str]:
        """A job is one key of key_source (tables may add key attributes of their own, made by make())."""
        if self._key_names is None:
            source = self.target._jobs_key_source(()).heading.primary_key
            self._key_names = [n for n in self.target.primary_key if n in source]
        return self._key_names

    def hash(self, key: Mapping[str, Any]) -> str:
        missing = [n for n in self.key_names if n not in key]
        if missing:
            raise DataJointError(
                f"A job of {self.target.node_name} is named by its full primary key; {', '.join(missing)} missing "
                f"from {key!r}."
            )
        return key_hash(key, self.key_names)

    def _require_own_layout(self):
        if self.table.is_014:
            raise DataJointError(
                f"Schema `{self._schema.database}` keeps its jobs in DataJoint 0.14's ~jobs table: pipejoint reads it "
                "(schema.jobs, Table.jobs.errors) but does not reserve jobs through it yet. Populate with "
                "reserve_jobs=False, or with DataJoint 0.14."
            )

    @property
    def sql(self):
        self._require_own_layout()
        if self._sql is None:
            self._sql = _Statements(self.target._connection, self._schema.database)
        return self._sql

    def _encode(self, name, value):
        if self._heading is None:
            self._heading = self.table.heading
        return self.target._connection.backend.encode(value, self._heading[name])

    def _row(self, key, status, priority=None):
        return {
            "table_name": self._table_name,
            "key_hash": self.hash(key),
            "status": status,
            "key": {n: key[n] for n in self.key_names},
            "priority": config["jobs.default_priority"] if priority is None else priority,
            "created_time": _now(),
            "user": USER,
            "host": HOST,
            "pid": os.getpid(),
        }

    def refresh(
        self, *restrictions: Restriction, priority: int | None = None, todo: Iterable[Key] | None = None, **ignored: Any
    ) -> dict[str, int]:
        """Bring the queue up to date with key_source and the table.

        - adds a pending job for every key still to make (key_source & restrictions, minus the
          table) that has no job yet;
        - puts a completed job (kept with jobs.keep_completed) back to pending when its key has to
          be made again (its row was deleted);
        - removes pending and error jobs whose key is made or has left key_source. This is judged
          against the whole key_source: restrictions only limit what is added.
        Reserved and ignored jobs stay. Returns {"added": n, "re_pended": n, "removed": n}.

        populate() passes `todo`, the keys it is about to make, and skips the removal.
        `ignored` takes DataJoint's other keyword arguments (delay, stale_timeout, orphan_timeout)
        so that calls written for DataJoint run; they have no effect here.
        """
        self._require_own_layout()
        prune = todo is None
        if todo is None:
            todo = self.target._todo(restrictions).keys(order_by="KEY")
        existing = self.states()
        wanted: Any = {}  # {hash: key}, later the hashes to keep
        for key in todo:
            wanted.setdefault(self.hash(key), key)
        rows = [self._row(key, "pending", priority) for h, key in wanted.items() if h not in existing]
        if rows:
            self.table.insert(rows, skip_duplicates=True)
        connection = self.target._connection
        re_pended = 0
        for h in wanted:
            if existing.get(h, (None,))[0] == "success":
                args = (config["jobs.default_priority"] if priority is None else priority, self._table_name, h)
                re_pended += connection.query(self.sql.re_pend, args).rowcount
        removed = 0
        if prune:
            if restrictions:
                wanted = {self.hash(k) for k in self.target._todo(())}
            stale = [
                {"key_hash": h, "status": status}
                for h, (status, _) in existing.items()
                if status in ("pending", "error") and h not in wanted
            ]
            for chunk in range(0, len(stale), 500):
                removed += (self._all & stale[chunk : chunk + 500]).delete_quick(get_count=True) or 0
        return {"added": len(rows), "re_pended": re_pended, "removed": removed}

    def states(self) -> dict[str, tuple[str, int]]:
        """{key_hash: (status, priority)} of this table's jobs."""
        hashes, statuses, priorities = self._all.fetch("key_hash", "status", "priority")
        return {h: (s, int(p)) for h, s, p in zip(hashes, statuses, priorities)}

    def ignore(self, key: Mapping[str, Any]) -> None:
        """Mark a key so that populate never makes it (until its job row is deleted)."""
        h = self.hash(key)
        connection = self.target._connection
        cursor = connection.query(self.sql.ignore, (self._table_name, h))
        if cursor.rowcount != 1:
            try:
                self.table.insert1(self._row(key, "ignore"))
            except DuplicateError:
                connection.query(self.sql.ignore, (self._table_name, h))

    def progress(self) -> dict[str, int]:
        """Counts of jobs per status, with their total."""
        counts = collections.Counter(self._all.fetch("status"))
        result = {status: counts.get(status, 0) for status in STATUSES}
        result["total"] = sum(counts.values())
        return result

    # --- the reservation protocol ---
    def reserve(self, key: Mapping[str, Any], h: str | None = None) -> str | None:
        """Take the job for `key` if nobody holds it; a token for this reservation, or None.

        A pending job may be stale (its key made since a refresh listed it): make() checks that
        again before it computes anything.
        """
        h = h or self.hash(key)
        token = uuid.uuid4().hex
        connection = self.target._connection
        lease = float(config["jobs.lease_seconds"])
        args = (token, HOST, os.getpid(), USER, self._encode("reserved_time", _now()), lease, self._table_name, h)
        if connection.query(self.sql.reserve, args).rowcount == 1:
            return token
        if self.target._already_made(key):  # made by another worker since this one listed its keys
            return None
        try:
            self.table.insert1(self._row(key, "pending"))  # no job row yet: insert it, then take it
        except DuplicateError:  # someone holds the job, or it failed or is ignored
            return None
        if connection.query(self.sql.reserve, args).rowcount != 1:
            return None
        if self.target._already_made(key):
            # A job row is deleted when its key is made, so a worker with an older list of keys
            # lands here: give the key back rather than compute it a second time.
            self.complete(h, token, 0.0)
            return None
        return token

    def complete(self, h: str, token: str, duration: float) -> None:
        """Record success; run inside the transaction that stored the result."""
        connection = self.target._connection
        if config["jobs.keep_completed"]:
            connection.query(
                self.sql.succeed, (self._encode("completed_time", _now()), duration, self._table_name, h, token)
            )
        else:
            connection.query(self.sql.complete, (self._table_name, h, token))

    def error(self, h: str, token: str, message: str, stack: str, attempts: int, duration: float) -> None:
        connection = self.target._connection
        connection.query(
            self.sql.fail,
            (
                self._encode("completed_time", _now()),
                duration,
                attempts,
                message[:ERROR_MESSAGE_LENGTH],
                stack,
                self._table_name,
                h,
                token,
            ),
        )

    def release(self, h: str, token: str) -> None:
        """Give a job back (the worker is stopping before it finished the key)."""
        with contextlib.suppress(Exception):
            self.target._connection.query(self.sql.release, (self._table_name, h, token))


class Heartbeat:
    """Renews the lease of the job being made, from a thread with its own connection.

    The connection is opened only when a make() outlasts a third of the lease, so quick makes
    cost nothing.
    """

    def __init__(self, jobs):
        self.jobs = jobs
        self.interval = max(float(config["jobs.lease_seconds"]) / 3, 0.05)
        self.lease = float(config["jobs.lease_seconds"])
        self._current = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._connection = None
        self._thread = threading.Thread(target=self._run, name="pipejoint-heartbeat", daemon=True)
        self._thread.start()

    def hold(self, h, token):
        with self._lock:
            self._current = (h, token)

    def drop(self):
        with self._lock:
            self._current = None

    def stop(self):
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout=5)
        if self._connection is not None:
            self._connection.close()

    def _run(self):
        while not self._stopped:
            self._wake.wait(self.interval)
            if self._stopped:
                return
            with self._lock:
                current = self._current
            if current is None:
                continue
            try:
                self._renew(*current)
            except Exception as error:  # a missed beat is retried at the next one
                logger.debug("Could not renew the job lease: %s", error)

    def _renew(self, h, token):
        if self._connection is None:
            self._connection = clone_connection(self.jobs.target._connection)
        self._connection.query(self.jobs.sql.renew, (self.lease, self.jobs._table_name, h, token))


def clone_connection(connection):
    """A new connection to the same database, with the same settings."""
    from ..catalog.connection import Connection

    s = connection.settings
    return Connection(
        s.get("host"),
        s.get("user"),
        s.get("password"),
        s.get("port"),
        backend=connection.backend.name,
        database_name=s.get("name"),
    )


__all__ = ["JobTable", "Jobs", "Heartbeat", "key_hash", "JOBS_TABLE"]
