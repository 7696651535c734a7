"""`schema.jobs`: the job queues of a schema's tables, or DataJoint 0.14's schema-wide `~jobs`.

DataJoint 2.x keeps one queue per auto-populated table (jobs.py) and `schema.jobs` lists them.
DataJoint 0.14 kept one `~jobs` table per schema, keyed by table name and key hash: a row exists
only while a job is reserved, failed or ignored, and a worker reserves by inserting it (the
primary key lets one insert win). In a 0.14 schema pipejoint follows that protocol, so its
workers and 0.14's share the work; a reservation whose server session is gone (a dead worker,
of either client) is deleted by the next populate.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..catalog.legacy import JOBS_TABLE, is_014_schema
from ..catalog.record import TableRecord
from ..definition.parser import parse_definition
from ..errors import DataJointError, DuplicateError
from ..storage.blob import pack
from ..table.table import FreeTable, Table
from .jobs import STATUSES, Holder, Job, _holder, _same_account, error_message_text, storable_text
from .jobs_display import job_html, job_text, queues_html, queues_text

if TYPE_CHECKING:
    from ..query.restriction import Restriction

# DataJoint 0.14's schema-wide job table (its rows are reserved, error or ignore; a missing row
# means the job is available)
DEFINITION_014 = """
# job reservation table for `{database}`
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


def key_hash(key) -> str:
    """DataJoint 0.14's hash of a key (``dj.key_hash``): md5 of its values in the order of their
    sorted names; 0.14 names a job by it."""
    digest = hashlib.md5()
    for _, value in sorted(key.items()):
        digest.update(str(value).encode())
    return digest.hexdigest()


def has_014_jobs(connection, database) -> bool:
    """True when the schema keeps its jobs as DataJoint 0.14 does: its `~jobs` has 0.14's columns,
    or the schema is 0.14's and has no `~jobs` yet (0.14 creates it on first use, and so do we)."""
    key = ("jobs 0.14", database)
    known = connection.cache.get(key)
    if known is None:
        known = False
        tables = connection.backend.list_tables(connection, database)
        if JOBS_TABLE not in tables:
            known = is_014_schema(tables)
        else:
            cursor = connection.execute(
                f"SELECT * FROM {connection.backend.full_table_name(database, JOBS_TABLE)} WHERE 1 = 0"
            )
            columns = {d[0] for d in cursor.description}
            cursor.close()
            known = columns >= _COLUMNS_014 and "token" not in columns
        connection.cache.put(key, known)
    return known


class JobTable014(Table):
    """DataJoint 0.14's `~jobs` of one schema: query it, restrict it, delete from it like any table."""

    tier = "jobs"
    _table_name = JOBS_TABLE

    def __init__(self, schema: Any = None) -> None:  # a dj.Schema
        super().__init__()
        if schema is not None:
            self._schema = schema

    @property
    def definition(self) -> str:
        return DEFINITION_014.format(database=self.database)

    @property
    def _record(self):
        key = ("jobs record 0.14", self.database)
        record = self._connection.cache.get(key)
        if record is None:
            definition = self.definition
            spec = parse_definition(definition, self.database, JOBS_TABLE, {}, self.tier)
            record = TableRecord(
                self.database, JOBS_TABLE, self.tier, "Jobs", definition, spec.heading, [], spec.indexes
            )
            self._connection.cache.put(key, record)
        return record

    def ensure(self) -> JobTable014:
        """Create `~jobs` as 0.14 would, when the schema has none yet."""
        connection = self._connection
        if JOBS_TABLE in connection.backend.list_tables(connection, self.database):
            return self
        if connection.in_transaction:
            raise DataJointError(
                f"The jobs table of schema `{self.database}` is created on its first use, which cannot happen "
                "inside a transaction: use schema.jobs once before the transaction."
            )
        from ..definition.ddl import column_comments_014, create_table_statements

        spec = parse_definition(self.definition, self.database, JOBS_TABLE, {}, self.tier)
        try:
            for statement in create_table_statements(connection.backend, spec, comments=column_comments_014(spec)):
                connection.execute(statement)
        except DataJointError:
            if JOBS_TABLE not in connection.backend.list_tables(connection, self.database):
                raise
        return self

    def delete(self, transaction: bool = True, prompt: bool | None = None, **kwargs: Any) -> int:
        """Delete these job rows (no prompt: jobs are bookkeeping, nothing depends on them)."""
        return self.delete_quick(get_count=True) or 0

    @property
    def class_name(self) -> str:
        return "Jobs"

    def parts(self, as_objects: bool = False) -> list[Any]:
        return []

    def children(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return job_text(self, f"Jobs of schema `{self.database}` (DataJoint 0.14)", legacy=True)

    def _repr_html_(self) -> str:
        return job_html(self, f"Jobs of schema `{self.database}` (DataJoint 0.14)", legacy=True)


class Jobs014:
    """`Table.jobs` in a DataJoint 0.14 schema: that table's rows of the schema's `~jobs`, and 0.14's
    reservation protocol, which populate(reserve_jobs=True) follows there."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.table = JobTable014(target.schema)
        self._table_name = target.table_name

    @property
    def _all(self) -> JobTable014:
        return self.table & {"table_name": self._table_name}

    def _status(self, status):
        return self._all & {"status": status}

    pending = property(lambda self: self._status("pending"))  # 0.14 keeps no pending rows: always empty
    reserved = property(lambda self: self._status("reserved"))
    errors = property(lambda self: self._status("error"))
    ignored = property(lambda self: self._status("ignore"))
    completed = property(lambda self: self._status("success"))  # nor completed ones

    def __and__(self, restriction: Restriction) -> JobTable014:
        return self._all & restriction

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self):
        return iter(self._all)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._all, name)

    def progress(self) -> dict[str, int]:
        statuses = list(self._all.fetch("status"))
        result = {s: statuses.count(s) for s in STATUSES}
        result["total"] = len(statuses)
        return result

    def delete(self, *args: Any, **kwargs: Any) -> int:
        return self._all.delete()

    def __repr__(self) -> str:
        return job_text(self._all, f"Jobs of {self.target.class_name} ({self.target.node_name})", legacy=True)

    def _repr_html_(self) -> str:
        return job_html(self._all, f"Jobs of {self.target.class_name} ({self.target.node_name})", legacy=True)

    # --- 0.14's protocol: a row is a reservation, an error or an ignore; no row, the job is free ---
    def ident(self, key: Any) -> str:
        """The job's key_hash (0.14 hashes the whole key the key_source gives)."""
        return key_hash(key)

    def states(self) -> dict[str, tuple[str, int]]:
        hashes, statuses = self._all.fetch("key_hash", "status")
        return {h: (s, 0) for h, s in zip(hashes, statuses)}

    def refresh(self, *restrictions: Restriction, todo: Any = None, **ignored: Any) -> dict[str, int]:
        """0.14 keeps no pending jobs: refreshing only frees the reservations of dead workers."""
        self.table.ensure()
        return {"added": 0, "removed": 0, "orphaned": self._free_abandoned(), "re_pended": 0}

    def _row(self, key, status, holder):
        return dict(
            table_name=self._table_name,
            key_hash=key_hash(key),
            status=status,
            key=dict(key),
            host=holder.host,
            pid=holder.pid,
            connection_id=holder.connection_id,
            user=holder.user,
        )

    def take(self, key: Any) -> Holder | None:
        holder = _holder(self.target._connection)
        try:
            self.table.ensure().insert1(self._row(key, "reserved", holder))
        except DuplicateError:
            return None
        if self.target._already_made(key):
            self.finish(key, holder, 0.0)
            return None
        return holder

    def _mine(self, key, holder):
        backend = self.target._connection.backend
        q, p = backend.quote, backend.placeholder
        where = (
            f"{q('table_name')} = {p} AND {q('key_hash')} = {p} AND {q('status')} = 'reserved' "
            f"AND {q('connection_id')} = {p} AND {q('pid')} = {p}"
        )
        return where, [self._table_name, key_hash(key), holder.connection_id, holder.pid]

    def finish(self, key: Any, holder: Holder, duration: float) -> None:
        where, args = self._mine(key, holder)
        self.target._connection.execute(f"DELETE FROM {self.table.full_table_name} WHERE {where}", args)

    release = finish  # a job given back is simply free again

    def fail(self, key: Any, holder: Holder, message: str, stack: str, duration: float) -> None:
        backend = self.target._connection.backend
        q, p = backend.quote, backend.placeholder
        where, args = self._mine(key, holder)
        sql = (
            f"UPDATE {self.table.full_table_name} SET {q('status')} = 'error', {q('error_message')} = {p}, "
            f"{q('error_stack')} = {p} WHERE {where}"
        )
        self.target._connection.execute(sql, (error_message_text(message), pack(storable_text(stack)), *args))

    def ignore(self, key: Any) -> None:
        holder = _holder(self.target._connection)
        try:
            self.table.ensure().insert1(self._row(key, "ignore", holder))
        except DuplicateError:
            (self._all & {"key_hash": key_hash(key)}).delete_quick()
            self.table.insert1(self._row(key, "ignore", holder))

    def _free_abandoned(self) -> int:
        """Delete reservations whose server session is gone (0.14's own workers leave them forever)."""
        connection = self.target._connection
        backend = connection.backend
        live = backend.live_sessions(connection)
        if live is None:
            return 0
        sessions, sees_all = live
        me = _holder(connection).user
        held = self._all & {"status": "reserved"}
        rows = held.fetch("key_hash", "connection_id", "user", as_dict=True)
        dead = [
            {"key_hash": r["key_hash"]}
            for r in rows
            if r["connection_id"]
            and int(r["connection_id"]) not in sessions
            and (sees_all or _same_account(r["user"], me))
        ]
        return (held & dead).delete_quick(get_count=True) or 0 if dead else 0


class SchemaJobs(list):
    """The job queues of a schema's tables that have one (DataJoint 2.x's `schema.jobs`, a list of
    `Job`), which also restricts and deletes across all of them as the legacy `schema.jobs` did:
    `(schema.jobs & {"status": "error"}).delete()`."""

    def __and__(self, restriction: Restriction) -> SchemaJobs:
        return SchemaJobs(job & restriction for job in self)

    def __sub__(self, restriction: Restriction) -> SchemaJobs:
        return SchemaJobs(job - restriction for job in self)

    def delete(self, *args: Any, **kwargs: Any) -> int:
        return sum(job.delete() for job in self)

    def delete_quick(self, get_count: bool = False) -> int | None:
        count = self.delete()
        return count if get_count else None

    def progress(self) -> dict[str, dict[str, int]]:
        """{table: counts per status} of every queue."""
        return {job.target.table_name: job.progress() for job in self}

    def __repr__(self) -> str:
        return queues_text(self)

    def _repr_html_(self) -> str:
        return queues_html(self)


def schema_jobs(schema: Any) -> SchemaJobs | JobTable014:
    connection = schema.connection
    database = schema.database
    if has_014_jobs(connection, database):
        return JobTable014(schema)
    tables = connection.backend.list_tables(connection, database)
    queues = {t for t in tables if t.startswith("~~")}
    jobs = SchemaJobs()
    for table in tables:
        if table.startswith("~") or "__" in table.lstrip("_") or not table.startswith("_"):
            continue
        if "~~" + table.lstrip("_") in queues:
            jobs.append(Job(FreeTable(connection, connection.backend.full_table_name(database, table))))
    return jobs


__all__ = ["JobTable014", "Jobs014", "SchemaJobs", "has_014_jobs", "key_hash", "schema_jobs"]
