"""The ``~catalog`` table of earlier pipejoint versions (format 1), and the upgrade from it.

Earlier versions kept a row per table in the schema's hidden ``~catalog``: tier, class name, the
definition as written, and JSON of the heading (declared types, defaults, comments, lineage),
foreign keys and indexes. Today DataJoint's conventions are the format everywhere (records.py).

* On SQLite the upgrade runs once, on first open, in one transaction: the comments the table
  kept go into ``~comments`` (the strings DataJoint's rule gives, as a new declaration writes
  them), lineage into ``~lineage``, and ``~catalog`` is dropped. No data row is touched. Before
  committing, the schema is read back through the conventions and compared with the old records
  (tier, class name, table comment, every attribute's type, key, nullability, default, comment
  and lineage, foreign keys, indexes); anything different rolls it all back with an error. The
  definition text as written is not kept (the servers keep none either): describe() and
  spawned classes show the definition rebuilt from the table.
* On MySQL and PostgreSQL the table stays: it is read as before, and tables declared into such a
  schema get a row too (besides their comments and ``~lineage``). Moving those schemas to comments
  would mean restating every column in ALTER TABLE on MySQL, which rebuilds tables and commits as
  it goes: not a safe one-time step.
"""

from __future__ import annotations

import json

from ..backends.base import unquote
from ..core.conventions import column_comment
from ..core.heading import Attribute, Heading
from ..core.types import parse_type
from ..definition.parser import ForeignKeySpec, IndexSpec, TableSpec
from ..errors import DataJointError
from .lineage import ensure_lineage_table, write_lineage
from .record import TableRecord

CATALOG_TABLE = "~catalog"
FORMAT_VERSION = 1
_COLUMNS = "table_name, tier, class_name, definition, heading, foreign_keys, indexes, format_version"


def catalog_spec(schema):
    """The ``~catalog`` table as earlier versions declared it (tests build old schemas with it)."""

    def attr(name, declared, in_key=False):
        return Attribute(name, parse_type(declared), in_key=in_key, lineage=f"{schema}.{CATALOG_TABLE}.{name}")

    return TableSpec(
        schema,
        CATALOG_TABLE,
        "pipejoint catalog: the definition of every table in this schema",
        [
            attr("table_name", "varchar(255)", in_key=True),
            attr("tier", "varchar(16)"),
            attr("class_name", "varchar(255)"),
            attr("definition", "text"),
            attr("heading", "text"),
            attr("foreign_keys", "text"),
            attr("indexes", "text"),
            attr("format_version", "int32"),
        ],
    )


def _table(connection, schema):
    return connection.backend.full_table_name(schema, CATALOG_TABLE)


def _record_from_row(schema, row):
    table_name, tier, class_name, definition, heading_json, fks_json, indexes_json, version = row
    if version is not None and int(version) > FORMAT_VERSION:
        raise DataJointError(
            f"Schema `{schema}` was written by a newer pipejoint (catalog format {version}); upgrade pipejoint."
        )
    heading_data = json.loads(heading_json)
    return TableRecord(
        schema,
        table_name,
        tier,
        class_name,
        definition,
        Heading.from_catalog(heading_data["attributes"], heading_data.get("comment", "")),
        [ForeignKeySpec.from_catalog(d) for d in json.loads(fks_json)],
        [IndexSpec.from_catalog(d) for d in json.loads(indexes_json)],
    )


def read_schema(connection, schema):
    """{table name: TableRecord} from the schema's ``~catalog``."""
    rows = connection.rows_unless_missing(  # another client may have dropped the schema since we listed it
        f"SELECT {_COLUMNS} FROM {_table(connection, schema)}"
    )
    return {row[0]: _record_from_row(schema, row) for row in rows}


def write_record(connection, spec, tier, class_name, definition):
    p = connection.backend.placeholder
    connection.execute(
        f"INSERT INTO {_table(connection, spec.schema)} ({_COLUMNS}) VALUES ({', '.join([p] * 8)})",
        (
            spec.table_name,
            tier,
            class_name,
            definition,
            json.dumps({"comment": spec.comment, "attributes": spec.heading.to_catalog()}),
            json.dumps([fk.to_catalog() for fk in spec.foreign_keys]),
            json.dumps([ix.to_catalog() for ix in spec.indexes]),
            FORMAT_VERSION,
        ),
    )


def delete_record(connection, schema, table_name):
    p = connection.backend.placeholder
    connection.execute(f"DELETE FROM {_table(connection, schema)} WHERE table_name = {p}", (table_name,))


# --- the upgrade (SQLite) -------------------------------------------------------------------


def upgrade(connection, schema, outside):
    """Move the schema's ``~catalog`` into comments and ``~lineage``, once, in one transaction
    (inside the caller's when one is open). Raises DataJointError, changing nothing, when the
    schema would not read back exactly as before. `outside(schema, table)` gives the record of a
    parent in another schema (records.read_schema)."""
    try:
        if not connection.in_transaction:
            with connection.transaction:
                _upgrade(connection, schema, outside)
        else:  # a savepoint undoes the upgrade's part of the caller's transaction when it fails
            connection.execute("SAVEPOINT pj_upgrade")
            try:
                _upgrade(connection, schema, outside)
            except Exception:
                connection.execute("ROLLBACK TO SAVEPOINT pj_upgrade")
                raise
            finally:
                connection.execute("RELEASE SAVEPOINT pj_upgrade")
    except DataJointError as error:
        if isinstance(error, _Mismatch):
            raise
        raise DataJointError(
            f"Schema `{schema}` was made by an earlier pipejoint (its tables are described by `{CATALOG_TABLE}`, "
            f"format {FORMAT_VERSION}) and is upgraded once, when it is first opened; the upgrade failed and "
            f"nothing was changed: {error}. Open the database with write access once to upgrade it."
        ) from error


class _Mismatch(DataJointError):
    pass


def _upgrade(connection, schema, outside):
    backend = connection.backend
    tables = backend.list_tables(connection, schema)
    if CATALOG_TABLE not in tables:  # another process upgraded it while we waited for the lock
        return
    old = {name: record for name, record in read_schema(connection, schema).items() if name in tables}
    ensure_lineage_table(connection, schema)
    for record in old.values():
        spec = TableSpec(
            schema,
            record.table_name,
            record.heading.table_comment,
            list(record.heading.all_attributes.values()),
            list(record.foreign_keys),
            list(record.indexes),
        )
        columns = [(a.name, column_comment(a.attr_type, a.comment, mark_native=True)) for a in spec.attributes]
        for statement in backend.after_create(schema, record.table_name, columns, spec.comment):
            connection.execute(statement)
        write_lineage(connection, spec)
    connection.execute(f"DROP TABLE {_table(connection, schema)}")
    from .server import read_server_schemas

    tables = backend.list_tables(connection, schema)
    new = read_server_schemas(connection, {schema: tables}, outside)[schema]
    found = [d for name, record in sorted(old.items()) for d in _differences(record, new.get(name))]
    if found:
        raise _Mismatch(
            f"Schema `{schema}` was made by an earlier pipejoint (its tables are described by `{CATALOG_TABLE}`, "
            f"format {FORMAT_VERSION}). Upgrading it would change what is known of its tables: "
            + "; ".join(found[:10])
            + ". Nothing was changed. Open it with the pipejoint version that made it, or report this case."
        )


def _default_value(attr):
    """A default reduced to what it means: quotes and the spelling of booleans do not matter."""
    if attr.nullable or attr.default is None:
        return None
    text = unquote(str(attr.default).strip())
    if attr.attr_type.core == "bool":
        return {"true": "1", "false": "0"}.get(text.lower(), text)
    if text.upper().startswith("CURRENT_TIMESTAMP"):
        return "CURRENT_TIMESTAMP"
    if attr.attr_type.is_numeric:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _attributes(record):
    """The visible attributes in order, then the hidden ones (`_singleton`: its place does not matter)."""
    attributes = record.heading.all_attributes.values()
    return [_attribute(a) for a in attributes if not a.is_hidden] + sorted(
        _attribute(a) for a in attributes if a.is_hidden
    )


def _attribute(a):
    return (
        a.name,
        column_comment(a.attr_type, "", mark_native=True),
        a.in_key,
        a.nullable,
        _default_value(a),
        a.comment or "",
        a.lineage,
    )


def _differences(old, new):
    name = f"`{old.table_name}`"
    if new is None:
        return [f"table {name} would not be found"]
    found = []
    for what, before, after in (
        ("tier", old.tier, new.tier),
        ("class name", old.class_name, new.class_name),
        ("comment", old.heading.table_comment or "", new.heading.table_comment or ""),
        ("primary key", list(old.heading.primary_key), list(new.heading.primary_key)),
    ):
        if before != after:
            found.append(f"{name}: {what} {before!r} would become {after!r}")
    before, after = _attributes(old), _attributes(new)
    if before != after:
        changed = [b for b in before if b not in after] or before
        found.append(f"{name}: attributes {changed} would read as {[a for a in after if a not in before] or after}")
    for what, before, after in (
        ("foreign keys", _foreign_keys(old), _foreign_keys(new)),
        ("indexes", _indexes(old), _indexes(new)),
    ):
        if before != after:
            found.append(f"{name}: {what} {before} would become {after}")
    return found


def _foreign_keys(record):
    return sorted(
        (fk.parent_schema, fk.parent_table, tuple(fk.attr_map.items()), fk.nullable, fk.unique, fk.primary)
        for fk in record.foreign_keys
    )


def _indexes(record):
    return sorted((tuple(i.attributes), i.unique) for i in record.indexes)
