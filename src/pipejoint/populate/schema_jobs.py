"""`schema.jobs`: the job queues of a schema's tables, or DataJoint 0.14's schema-wide `~jobs`.

DataJoint 2.x keeps one queue per auto-populated table (jobs.py) and `schema.jobs` lists them;
DataJoint 0.14 kept one `~jobs` table per schema, keyed by table name and key hash. A 0.14
schema's `~jobs` is read as it is (restrict, fetch, delete); pipejoint reserves no jobs in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog.legacy import JOBS_TABLE
from ..catalog.record import TableRecord
from ..definition.parser import parse_definition
from ..errors import DataJointError
from ..table.table import FreeTable, Table
from .jobs import STATUSES, Job

if TYPE_CHECKING:
    from ..query.restriction import Restriction

# DataJoint 0.14's schema-wide job table (its rows are reserved, error or ignore; a missing row
# means the job is available)
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


def has_014_jobs(connection, database) -> bool:
    """True when the schema has DataJoint 0.14's `~jobs` (told apart by its columns)."""
    key = ("jobs 0.14", database)
    known = connection.cache.get(key)
    if known is None:
        known = False
        if JOBS_TABLE in connection.backend.list_tables(connection, database):
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
    definition = DEFINITION_014

    def __init__(self, schema: Any = None) -> None:  # a dj.Schema
        super().__init__()
        if schema is not None:
            self._schema = schema

    @property
    def _record(self):
        key = ("jobs record 0.14", self.database)
        record = self._connection.cache.get(key)
        if record is None:
            spec = parse_definition(DEFINITION_014, self.database, JOBS_TABLE, {}, self.tier)
            record = TableRecord(
                self.database, JOBS_TABLE, self.tier, "Jobs", DEFINITION_014, spec.heading, [], spec.indexes
            )
            self._connection.cache.put(key, record)
        return record

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
        return f"Jobs of schema `{self.database}` (DataJoint 0.14)\n" + super().__repr__()


class Jobs014:
    """`Table.jobs` in a DataJoint 0.14 schema: that table's rows of the schema's `~jobs`."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.table = JobTable014(target.schema)

    @property
    def _all(self) -> JobTable014:
        return self.table & {"table_name": self.target.table_name}

    def _status(self, status):
        return self._all & {"status": status}

    pending = property(lambda self: self._status("pending"))
    reserved = property(lambda self: self._status("reserved"))
    errors = property(lambda self: self._status("error"))
    ignored = property(lambda self: self._status("ignore"))
    completed = property(lambda self: self._status("success"))

    def __and__(self, restriction: Restriction) -> JobTable014:
        return self._all & restriction

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self):
        return iter(self._all)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in ("refresh", "reserve", "complete", "error", "ignore", "take"):
            raise DataJointError(
                f"{self.target.node_name} keeps its jobs in DataJoint 0.14's ~jobs table: pipejoint reads it "
                f"({self.target.class_name}.jobs.errors, schema.jobs) but reserves no jobs in it. Populate with "
                "reserve_jobs=False, or with DataJoint 0.14."
            )
        return getattr(self._all, name)

    def progress(self) -> dict[str, int]:
        statuses = list(self._all.fetch("status"))
        result = {s: statuses.count(s) for s in STATUSES}
        result["total"] = len(statuses)
        return result

    def delete(self, *args: Any, **kwargs: Any) -> int:
        return self._all.delete()

    def __repr__(self) -> str:
        return f"Jobs of {self.target.node_name}\n" + repr(self._all)


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
        lines = [f"{job.target.node_name}: {job.progress()}" for job in self]
        return "Job queues\n" + ("\n".join(lines) if lines else "(none)")


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


__all__ = ["JobTable014", "Jobs014", "SchemaJobs", "has_014_jobs", "schema_jobs"]
