"""What a person or an assistant wants first of a pipeline: its tables, their row counts and how far
populate has come, with the latest errors. The dashboard (`pipejoint ui`) and the MCP server
(`pipejoint mcp`) both show this, so it is read in one place.

Reading changes nothing: classes come from the catalog (classes.py) and job queues only where
they exist, so no jobs table is created by looking.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataJointError
from .classes import build_classes

STATUSES = ("pending", "reserved", "error", "ignore")


@dataclass(frozen=True)
class Progress:
    """Keys of an auto-populated table: `total` in its key_source, `made`, and of the rest how
    many are `reserved` by a worker, failed (`errors`), `ignored`, or `pending` (none of these)."""

    total: int
    made: int
    pending: int
    reserved: int
    errors: int
    ignored: int

    @property
    def remaining(self) -> int:
        return self.total - self.made

    @property
    def fraction(self) -> float:
        """The share made, 1.0 for a table with nothing to make."""
        return self.made / self.total if self.total else 1.0

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "made": self.made,
            "pending": self.pending,
            "reserved": self.reserved,
            "errors": self.errors,
            "ignored": self.ignored,
        }


@dataclass(frozen=True)
class TableOverview:
    """One table: `name` is the class name as DataJoint writes it (`Session.Trial` for a part)."""

    name: str
    table_name: str
    full_table_name: str
    tier: str
    rows: int
    comment: str
    table: Any = field(repr=False, compare=False)  # the table class, to query further
    progress: Progress | None = None  # Imported and Computed tables only


@dataclass(frozen=True)
class JobError:
    """A failed make(): the table, the key, the message and the traceback, as the jobs queue keeps them."""

    table: str
    key: dict[str, Any]
    message: str
    stack: str
    time: datetime.datetime | None
    host: str
    pid: int | None


@dataclass(frozen=True)
class SchemaOverview:
    """A schema's tables, masters in dependency order with their parts after them."""

    name: str
    tables: list[TableOverview]
    classes: dict[str, Any] = field(repr=False, compare=False)  # {class name: class}, parts as Master.Part

    def table(self, name: str) -> TableOverview:
        """The table of a class name (`Session`, `Session.Trial`) or stored table name."""
        for entry in self.tables:
            if name in (entry.name, entry.table_name):
                return entry
        known = ", ".join(t.name for t in self.tables) or "none"
        raise DataJointError(f"Schema `{self.name}` has no table `{name}`. Its tables: {known}.")


def _classes_in_order(schema: Any) -> list[tuple[str, Any]]:
    """(name, class) of every table, masters in dependency order, each followed by its parts."""
    masters = build_classes(schema)
    order = {name: i for i, name in enumerate(schema.list_tables())}
    ordered = []
    for name, cls in sorted(masters.items(), key=lambda item: order.get(item[1].table_name, len(order))):
        ordered.append((name, cls))
        for part_name, part in sorted(_parts_of(cls).items()):
            ordered.append((f"{name}.{part_name}", part))
    return ordered


def _parts_of(cls: Any) -> dict[str, Any]:
    from ..table.tiers import Part

    return {n: v for n, v in vars(cls).items() if isinstance(v, type) and issubclass(v, Part)}


def _job_counts(schema: Any) -> dict[str, dict[str, int]]:
    """{table name: {status: count}} of the schema's existing job queues (2.x's or 0.14's)."""
    jobs = schema.jobs
    counts: dict[str, dict[str, int]] = {}
    if isinstance(jobs, list):  # 2.x: one queue per table
        for queue in jobs:
            counts[queue.target.table_name] = queue.progress()
        return counts
    for row in jobs.fetch("table_name", "status", as_dict=True):  # 0.14: one table for the schema
        per_table = counts.setdefault(row["table_name"], dict.fromkeys(STATUSES, 0))
        per_table[row["status"]] = per_table.get(row["status"], 0) + 1
    return counts


def _progress(cls: Any, jobs: dict[str, int]) -> Progress:
    remaining, total = cls.progress()
    reserved, errors, ignored = (jobs.get(s, 0) for s in ("reserved", "error", "ignore"))
    # a job row may outlive its key's make (an error later made without jobs): never below zero
    pending = max(remaining - reserved - errors - ignored, 0)
    return Progress(total, total - remaining, pending, reserved, errors, ignored)


def schema_overview(schema: Any) -> SchemaOverview:
    """The overview of one schema."""
    from ..catalog.records import read_schema

    records = read_schema(schema.connection, schema.database)
    jobs = _job_counts(schema)
    tables = []
    classes = {}
    for name, cls in _classes_in_order(schema):
        classes[name] = cls
        record = records.get(cls.table_name)
        tier = record.tier if record is not None else getattr(cls, "tier", "manual")
        progress = _progress(cls, jobs.get(cls.table_name, {})) if tier in ("imported", "computed") else None
        tables.append(
            TableOverview(
                name=name,
                table_name=cls.table_name,
                full_table_name=cls.full_table_name,
                tier=tier,
                rows=len(cls()),
                comment=record.heading.table_comment if record is not None else "",
                table=cls,
                progress=progress,
            )
        )
    return SchemaOverview(schema.database, tables, classes)


def _key_of(row: dict[str, Any], skip: set[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in skip}


_JOB_COLUMNS = {
    "status",
    "priority",
    "created_time",
    "scheduled_time",
    "reserved_time",
    "completed_time",
    "duration",
    "error_message",
    "error_stack",
    "user",
    "host",
    "pid",
    "connection_id",
    "version",
    "timestamp",
    "key",
    "key_hash",
    "table_name",
}


def latest_errors(schema: Any, table: str | None = None, limit: int = 10) -> list[JobError]:
    """The newest failed jobs of the schema (or of one table, by class or stored name), newest first."""
    jobs = schema.jobs
    names = {cls.table_name: name for name, cls in _classes_in_order(schema)}
    wanted = None
    if table is not None:
        wanted = next((t for t, n in names.items() if table in (t, n)), None)
        if wanted is None:
            raise DataJointError(f"Schema `{schema.database}` has no table `{table}`.")
    found: list[JobError] = []
    if isinstance(jobs, list):
        for queue in jobs:
            if wanted is not None and queue.target.table_name != wanted:
                continue
            label = names.get(queue.target.table_name, queue.target.table_name)
            for row in queue.errors.fetch(as_dict=True, order_by="completed_time DESC", limit=limit):
                key = _key_of(row, _JOB_COLUMNS)
                found.append(_job_error(label, key, row, row.get("completed_time") or row.get("reserved_time")))
    else:
        query = jobs & {"status": "error"}
        if wanted is not None:
            query = query & {"table_name": wanted}
        for row in query.fetch(as_dict=True, order_by="timestamp DESC", limit=limit):
            key = dict(row["key"]) if isinstance(row.get("key"), dict) else {}  # 0.14 keeps the key as a blob
            found.append(_job_error(names.get(row["table_name"], row["table_name"]), key, row, row["timestamp"]))
    found.sort(key=lambda e: e.time or datetime.datetime.min, reverse=True)
    return found[:limit]


def _text(value: Any) -> str:
    """A traceback as the queue kept it: text, bytes, or nothing."""
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _job_error(table: str, key: dict[str, Any], row: dict[str, Any], time: Any) -> JobError:
    pid = row.get("pid")
    return JobError(
        table=table,
        key=key,
        message=row.get("error_message") or "",
        stack=_text(row.get("error_stack")),
        time=time if isinstance(time, datetime.datetime) else None,
        host=row.get("host") or "",
        pid=int(pid) if pid not in (None, "") else None,
    )


__all__ = ["JobError", "Progress", "SchemaOverview", "TableOverview", "latest_errors", "schema_overview"]
