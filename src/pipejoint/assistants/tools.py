"""What the MCP server's tools do, as plain functions: each returns a Result (readable text for
the assistant and structured data for programs). server.py registers them; tests may call them.

Reading changes nothing: tables come from the catalog as classes, progress and errors from
schema.overview() and schema.latest_errors(), which create no job queue. Only populate() and
clear_errors() write, and only when the server was started with --allow-writes.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import importlib.util
import inspect
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import pipejoint as dj

from .expressions import ExpressionRefused, Namespace, parse_query

MAX_ROWS = 1000  # the query tool's largest limit
CELL_WIDTH = 60  # characters of one value in the text table


class WritesNotAllowed(dj.DataJointError):
    """A tool that changes data was called on a server started without --allow-writes."""


@dataclass
class Result:
    text: str
    data: dict[str, Any] = field(default_factory=dict)


class Pipeline:
    """The database the server reads, as the configuration (or --db) names it, and optionally the
    user's pipeline module, whose classes have make() (catalog classes have none)."""

    def __init__(self, module: str | None = None, allow_writes: bool = False):
        self.module_name = module
        self.allow_writes = allow_writes
        self._module_classes: dict[str, type] | None = None

    # --- finding schemas and classes ---
    def schema(self, name: str) -> Any:
        if not isinstance(name, str) or name not in dj.list_schemas():
            raise dj.DataJointError(f"There is no schema {name!r} in the database; list_schemas() names them.")
        return dj.Schema(name, create_schema=False)

    def classes(self, schema_name: str) -> dict[str, type]:
        """{class name: class} of a schema's tables, parts as `Master.Part`; the user's own class
        (from --module) where it has one, else the class made from the catalog."""
        module = dj.VirtualModule(schema_name, schema_name)
        found: dict[str, type] = {}
        for name, cls in vars(module).items():
            if isinstance(cls, type) and issubclass(cls, dj.Table) and not name.startswith("_"):
                found[name] = cls
                for part_name, part in _parts(cls).items():
                    found[f"{name}.{part_name}"] = part
        own = self.module_classes()
        return {name: own.get(cls.full_table_name, cls) for name, cls in found.items()}

    def module_classes(self) -> dict[str, type]:
        """{full table name: class} of the --module's tables (empty without one)."""
        if self._module_classes is None:
            self._module_classes = {}
            if self.module_name:
                module = _import(self.module_name)
                for value in list(vars(module).values()):
                    if isinstance(value, type) and issubclass(value, dj.Table):
                        for cls in (value, *_parts(value).values()):
                            name = getattr(cls, "full_table_name", None)
                            if isinstance(name, str):
                                self._module_classes[name] = cls
        return self._module_classes

    def table(self, qualified: str) -> tuple[str, str, type]:
        """(schema, class name, class) of `schema.ClassName` or `schema.Master.Part`."""
        schema_name, _, class_name = (qualified or "").partition(".")
        if not class_name:
            raise dj.DataJointError(f"Name the table as schema.ClassName (e.g. `lab.Subject`), not {qualified!r}.")
        self.schema(schema_name)
        classes = self.classes(schema_name)
        if class_name not in classes:
            known = ", ".join(classes) or "none"
            raise dj.DataJointError(f"Schema `{schema_name}` has no table class {class_name!r}. Its tables: {known}.")
        return schema_name, class_name, classes[class_name]

    def require_writes(self, tool: str, table: str) -> None:
        if not self.allow_writes:
            raise WritesNotAllowed(
                f"{tool}({table!r}) changes data and this server is read-only. To allow it, start the server "
                'with `pipejoint mcp --allow-writes` (in the assistant\'s configuration: add "--allow-writes" '
                "to its args)."
            )

    # --- the tools ---
    def list_schemas(self) -> Result:
        names = sorted(dj.list_schemas())
        text = "Schemas:\n" + "\n".join(f"- {n}" for n in names) if names else "The database has no schemas."
        return Result(text, {"schemas": names})

    def list_tables(self, schema: str) -> Result:
        overview = self.schema(schema).overview()
        tables = []
        for entry in overview.tables:
            row = {"name": entry.name, "tier": entry.tier, "rows": entry.rows, "comment": entry.comment}
            if entry.progress is not None:
                row["progress"] = entry.progress.as_dict()
            tables.append(row)
        lines = [f"Tables of schema `{schema}` (parents first):"]
        for row in tables:
            comment = f" — {_one_line(row['comment'])}" if row["comment"] else ""
            lines.append(f"- {row['name']} ({row['tier']}, {row['rows']} rows){comment}")
        return Result("\n".join(lines), {"schema": schema, "tables": tables})

    def describe_table(self, table: str) -> Result:
        schema_name, class_name, cls = self.table(table)
        definition = cls.describe(context={})
        attributes = [
            {
                "name": a.name,
                "type": a.type,
                "in_key": a.in_key,
                "nullable": a.nullable,
                "default": a.default,
                "comment": a.comment,
            }
            for a in cls.heading.attributes.values()
        ]
        names = {c.full_table_name: n for n, c in self.classes(schema_name).items()}
        parents = [names.get(p, p) for p in cls.parents()]
        children = [names.get(c, c) for c in cls.children()]
        make = _make_source(cls)
        lines = [f"Table {table} (`{cls.full_table_name}`)", "", "Definition:", definition.rstrip(), ""]
        lines.append("Attributes:")
        for a in attributes:
            key = " (primary key)" if a["in_key"] else ""
            comment = f" — {a['comment']}" if a["comment"] else ""
            lines.append(f"- {a['name']}: {a['type']}{key}{comment}")
        lines += ["", f"Parents: {', '.join(parents) or 'none'}", f"Children: {', '.join(children) or 'none'}"]
        if make is not None:
            lines += ["", "make():", make.rstrip()]
        elif issubclass(cls, (dj.Imported, dj.Computed)):
            lines += ["", _no_make_source(self.module_name)]
        data = {
            "table": table,
            "full_table_name": cls.full_table_name,
            "definition": definition,
            "attributes": attributes,
            "parents": parents,
            "children": children,
            "make_source": make,
        }
        return Result("\n".join(lines), data)

    def query(self, expression: str, limit: int = 20, schema: str | None = None) -> Result:
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_ROWS:
            raise dj.DataJointError(f"Give a limit from 0 to {MAX_ROWS}, not {limit!r}.")
        try:
            query = parse_query(expression, self._resolver(schema))
        except ExpressionRefused as error:
            if schema is None and "unknown name" in str(error):
                raise ExpressionRefused(
                    f"{error} Without the schema argument, a class name must belong to exactly one schema: give "
                    "schema, or write schema.ClassName."
                ) from None
            raise
        sql = query.make_sql()
        count = len(query)
        rows = [{k: _jsonable(v) for k, v in row.items()} for row in query.fetch(as_dict=True, limit=limit)]
        columns = list(query.heading.names)
        shown = f"{len(rows)} of {count} rows" if len(rows) < count else f"{count} rows"
        text = f"{expression}\n{shown}\n\n{_text_table(columns, rows)}\n\nSQL:\n{sql}"
        data = {"expression": expression, "columns": columns, "rows": rows, "row_count": count, "sql": sql}
        return Result(text, data)

    def _resolver(self, schema: str | None):
        """Names for the query language: the classes of `schema` (or of every schema when there is
        one, or the name is unique), and each schema's name for `schema.Class`."""
        cache: dict[str, dict[str, type]] = {}

        def classes_of(name):
            if name not in cache:
                try:
                    cache[name] = self.classes(name)
                except dj.DataJointError:  # dropped since it was listed: it holds no class any more
                    cache[name] = {}
            return cache[name]

        schemas = dj.list_schemas()
        if schema is not None:
            self.schema(schema)

        def resolve(name):
            if schema is not None and name in classes_of(schema):
                return classes_of(schema)[name]
            if "." not in name and name in schemas:
                return Namespace(name, lambda cls_name: classes_of(name).get(cls_name))
            if schema is None:
                master = name.split(".")[0]
                if "." in name or name[:1].isupper():
                    hits = [s for s in schemas if name in classes_of(s)] if len(schemas) <= 20 else []
                    if len(hits) == 1:
                        return classes_of(hits[0])[name]
                    if len(hits) > 1:
                        raise dj.DataJointError(
                            f"{master} is a table of several schemas ({', '.join(hits)}): write schema.{name} "
                            "or give the schema argument."
                        )
            return None

        return resolve

    def diagram(self, schema: str) -> Result:
        mermaid = dj.Diagram(self.schema(schema)).make_mermaid()
        return Result(f"```mermaid\n{mermaid.rstrip()}\n```", {"schema": schema, "mermaid": mermaid})

    def populate_status(self, schema: str) -> Result:
        target = self.schema(schema)
        overview = target.overview()
        tables = [{"name": t.name, "tier": t.tier, **t.progress.as_dict()} for t in overview.tables if t.progress]
        errors = [
            {
                "table": e.table,
                "key": {k: _jsonable(v) for k, v in e.key.items()},
                "message": e.message,
                "time": e.time.isoformat() if e.time else None,
                "host": e.host,
            }
            for e in target.latest_errors(limit=10)
        ]
        lines = [f"Populate status of schema `{schema}`:"]
        for t in tables:
            lines.append(
                f"- {t['name']}: {t['made']}/{t['total']} made, {t['pending']} pending, {t['reserved']} reserved, "
                f"{t['errors']} errors, {t['ignored']} ignored"
            )
        if not tables:
            lines.append("(no Imported or Computed tables)")
        if errors:
            lines += ["", "Latest errors:"]
            lines += [f"- {e['table']} {e['key']}: {_one_line(e['message'])}" for e in errors]
        return Result("\n".join(lines), {"schema": schema, "tables": tables, "latest_errors": errors})

    def populate(self, table: str, limit: int | None = None) -> Result:
        self.require_writes("populate", table)
        _, _, cls = self.table(table)
        if _own_make(cls) is None:
            raise dj.DataJointError(
                f"Cannot populate {table}: its class comes from the database catalog and has no make(). "
                + _no_make_source(self.module_name)
            )
        before = len(cls())
        outcome = cls.populate(limit=limit, reserve_jobs=True, suppress_errors=True)
        made = outcome["success_count"]
        errors = [
            {"key": {k: _jsonable(v) for k, v in dict(key).items()}, "error": str(e)}
            for key, e in outcome["error_list"]
        ]
        text = f"populate {table}: {made} made, {len(errors)} failed ({before} → {len(cls())} rows)"
        if errors:
            text += "\n" + "\n".join(f"- {e['key']}: {_one_line(e['error'])}" for e in errors)
        return Result(text, {"table": table, "made": made, "errors": errors, "rows": len(cls())})

    def clear_errors(self, table: str) -> Result:
        self.require_writes("clear_errors", table)
        _, _, cls = self.table(table)
        cleared = cls.jobs.errors.delete()
        return Result(f"clear_errors {table}: {cleared} error jobs deleted", {"table": table, "cleared": cleared})

    # --- resources and prompts ---
    def definitions(self, schema: str) -> str:
        """The definitions of a schema's tables, in dependency order, as text."""
        overview = self.schema(schema).overview()
        parts = [f"# Schema `{schema}`\n"]
        for entry in overview.tables:
            cls = self.classes(schema).get(entry.name, entry.table)
            parts.append(f"## {entry.name} ({entry.tier}, {entry.rows} rows)\n\n{cls.describe(context={}).rstrip()}\n")
        return "\n".join(parts)


def _parts(cls: type) -> dict[str, type]:
    return {n: v for n, v in vars(cls).items() if isinstance(v, type) and issubclass(v, dj.Part)}


def _own_make(cls: type) -> Any:
    """The make() the user's class defines (catalog classes and pipejoint's bases define none)."""
    for base in cls.__mro__:
        if base.__module__ == "pipejoint" or base.__module__.startswith("pipejoint."):
            return None
        if "make" in vars(base):
            return vars(base)["make"]
    return None


def _make_source(cls: type) -> str | None:
    """The source of the class's own make(), when it has one and its file can be read."""
    make = _own_make(cls)
    try:
        return inspect.getsource(make) if make is not None else None
    except (OSError, TypeError):
        return None


def _no_make_source(module: str | None) -> str:
    if module:
        return f"make() is not available: the module {module!r} has no class for this table."
    return (
        "make() is not available: the table classes come from the database catalog. Start the server with "
        "`pipejoint mcp --module your_pipeline` (the module that declares the tables) to see and run make()."
    )


def _import(name: str) -> Any:
    """The user's pipeline module: a dotted name importable from the working directory, or a .py path."""
    if name.endswith(".py") or os.sep in name:
        path = os.path.abspath(name)
        if not os.path.isfile(path):
            raise dj.DataJointError(f"--module {name!r}: there is no such file.")
        module_name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise dj.DataJointError(f"--module {name!r} cannot be imported from {os.getcwd()}: {error}.") from None


def _jsonable(value: Any) -> Any:
    """A value as JSON can carry it: arrays and bytes summarized, dates and decimals as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, datetime.timedelta):
        return str(value)
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        if shape == ():
            return _jsonable(value.item())
        return f"<array {'x'.join(map(str, shape))} {value.dtype}>"
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    text = _one_line(text)
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _text_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as a Markdown table, which assistants read well."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(row.get(c)).replace("|", "\\|") for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


__all__ = ["MAX_ROWS", "Pipeline", "Result", "WritesNotAllowed"]
