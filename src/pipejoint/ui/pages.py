"""What each page shows, read through the public API only (`import pipejoint as dj` and the objects it
returns). Reading changes nothing: job queues are listed where they exist (`schema.jobs`), never made."""

from __future__ import annotations

import datetime
import html
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

import pipejoint as dj

PAGE_SIZE = 20
ERROR_FILL, DONE_FILL, PARTIAL_FILL = "#F6C6C6", "#CDEBC5", "#FBE7B5"


def open_schema(connection: Any, name: str) -> Any:
    """An existing schema; a name that is none is refused (nothing is created by looking)."""
    if name not in dj.list_schemas(connection):
        raise dj.DataJointError(f"There is no schema `{name}` in this database.")
    return dj.Schema(name, connection=connection, create_schema=False)


def schema_names(connection: Any, only: list[str] | None) -> list[str]:
    names = dj.list_schemas(connection)
    return [n for n in names if n in only] if only else sorted(names)


def overviews(connection: Any, only: list[str] | None) -> list[dict[str, Any]]:
    """Each schema's overview, or the message saying why it could not be read."""
    found = []
    for name in schema_names(connection, only):
        try:
            found.append({"name": name, "overview": open_schema(connection, name).overview(), "error": None})
        except dj.DataJointError as error:
            found.append({"name": name, "overview": None, "error": str(error)})
    return found


def table_links(tables: list[Any], overview: Any) -> list[dict[str, str]]:
    """Links to related tables (FreeTables): by class name within the schema, else schema.table."""
    names = {entry.table_name: entry.name for entry in overview.tables}
    links = []
    for table in tables:
        if table.database == overview.name and table.table_name in names:
            label = name = names[table.table_name]
        else:
            name, label = table.table_name, f"{table.database}.{table.table_name}"
        links.append({"label": label, "href": f"/schema/{table.database}/table/{name}"})
    return links


def diagram_svg(schema: Any, overview: Any) -> str:
    """The schema's diagram; each node opens its table, Imported/Computed nodes are coloured and
    noted with their progress (green: all made, amber: keys left, red: errors)."""
    marks = {}
    for entry in overview.tables:
        mark = {"href": f"/schema/{overview.name}/table/{entry.name}", "title": f"{entry.rows} rows"}
        progress = entry.progress
        if progress is not None:
            mark["badge"] = f"{progress.made}/{progress.total}" + (
                f" \u2717{progress.errors}" if progress.errors else ""
            )
            mark["fill"] = ERROR_FILL if progress.errors else DONE_FILL if progress.remaining == 0 else PARTIAL_FILL
            mark["title"] += (
                f"; made {progress.made} of {progress.total}, pending {progress.pending}, "
                f"reserved {progress.reserved}, errors {progress.errors}"
            )
        marks[entry.table] = mark
    return dj.Diagram(schema).make_svg(marks=marks)


def cell_text(value: Any) -> str:
    """A cell as the page shows it: arrays (blobs) as dtype and shape, long values shortened."""
    if value is None:
        return "NULL"
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name} {tuple(value.shape)}" if value.ndim else f"{value.dtype.name} {value.item()}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"bytes ({len(value)})"
    if isinstance(value, (dict, list, tuple)):
        return f"{type(value).__name__} ({len(value)})"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "\u2026"


@dataclass
class TableView:
    """A page of a table: its rows in order, restricted by the box, or the message refusing it."""

    rows: list[list[str]]
    total: int
    page: int
    pages: int
    columns: list[str]
    message: str | None


def table_view(table: Any, restriction: str, order: str, descending: bool, page: int) -> TableView:
    columns = list(table.heading.names)
    expression = table()
    message = None
    if restriction.strip():
        try:
            expression = expression & restriction
            total = len(expression)
        except dj.DataJointError as error:
            message = f"The restriction was refused: {error}"
            expression = table()
    if order not in columns:
        order = ""
    total = len(expression)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    order_by = [f"{order} DESC" if descending else order] if order else "KEY"
    found = expression.fetch(as_dict=True, order_by=order_by, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows = [[cell_text(row[c]) for c in columns] for row in found]
    return TableView(rows, total, page, pages, columns, message)


def queues(schema: Any) -> list[Any]:
    """The schema's existing per-table job queues (2.x); DataJoint 0.14's single table counts as none."""
    jobs = schema.jobs
    return list(jobs) if isinstance(jobs, list) else []


def _age(then: Any) -> str:
    if not isinstance(then, datetime.datetime):
        return ""
    seconds = max((datetime.datetime.now() - then).total_seconds(), 0)
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60)}m {int(seconds % 60)}s"


def jobs_view(schema: Any, overview: Any, table: str, message: str) -> dict[str, Any]:
    """Pending and reserved jobs and the errors of a schema, filtered by table and by message text."""
    names = {entry.table_name: entry.name for entry in overview.tables}
    pending, reserved = [], []
    for queue in queues(schema):
        name = names.get(queue.target.table_name, queue.target.table_name)
        if table and name != table:
            continue
        keys = queue.key_names
        for row in queue.pending.fetch(as_dict=True, order_by="created_time"):
            pending.append({"table": name, "key": {k: row[k] for k in keys}, "created": row.get("created_time")})
        for row in queue.reserved.fetch(as_dict=True):
            reserved.append(
                {
                    "table": name,
                    "key": {k: row[k] for k in keys},
                    "host": row.get("host") or "",
                    "pid": row.get("pid"),
                    "since": row.get("reserved_time"),
                    "age": _age(row.get("reserved_time")),
                }
            )
    errors = schema.latest_errors(table or None, limit=1000)
    if message:
        errors = [e for e in errors if message.lower() in e.message.lower()]
    return {"pending": pending, "reserved": reserved, "errors": errors}


def key_json(key: dict[str, Any]) -> str:
    return json.dumps(key, default=str, sort_keys=True)


def key_text(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def escape(text: Any) -> str:
    return html.escape(str(text))
