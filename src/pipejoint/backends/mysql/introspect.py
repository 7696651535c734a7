"""What MySQL/MariaDB's information_schema says about the tables of some schemas (Backend.introspect).

Four queries for any number of schemas: tables, columns, key columns (primary and foreign keys),
index columns. Types are reported in the definition language (``int(11) unsigned`` ->
``int unsigned``); DataJoint's conventions are read from these facts in catalog/conventions.py.
"""

from __future__ import annotations

import re

from ...core.types import parse_type
from ...errors import DeclarationError
from ..base import ColumnFacts, ForeignKeyFacts, IndexFacts, SchemaFacts, TableFacts

_INTEGER = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint)(\(\d+\))?(\s+unsigned)?", re.I)
_EXPRESSIONS = ("current_timestamp", "now(", "localtime", "curdate", "curtime", "uuid(", "utc_")


def _in_list(schemas):
    return ", ".join(["%s"] * len(schemas))


def definition_type(column_type, data_type):
    """The column's type in the definition language, or the closest one pipejoint knows."""
    data_type = data_type.lower()
    if data_type == "enum":
        return column_type  # the values keep their case
    text = " ".join(column_type.lower().replace(" zerofill", "").split())
    if m := _INTEGER.match(text):
        text = m.group(1) + (" unsigned" if m.group(3) else "")
    elif data_type in ("binary", "varbinary", "bit", "geometry", "point", "linestring", "polygon"):
        text = "bytes"  # raw bytes; a binary(16) with DataJoint's :uuid: comment is read as uuid
    elif data_type == "year":
        text = "year"
    elif data_type == "set":
        text = "text"
    try:
        parse_type(text)
    except DeclarationError:
        return "bytes" if "blob" in data_type or "binary" in data_type else "text"
    return text


def _default(value, extra, nullable):
    """(default value without quotes, is it an expression) from COLUMN_DEFAULT.

    MariaDB writes string defaults quoted ('abc') and NULL as the word NULL; MySQL 8 writes
    strings bare and marks expression defaults DEFAULT_GENERATED in EXTRA.
    """
    if value is None or (value.upper() == "NULL" and nullable):
        return None, False
    if value.startswith("'") and value.endswith("'") and len(value) >= 2:
        return value[1:-1].replace("''", "'"), False
    if "default_generated" in (extra or "").lower() or value.lower().startswith(_EXPRESSIONS):
        return value, True
    return value, False


def introspect(conn, schemas):
    """{schema: SchemaFacts} for the given schemas."""
    schemas = list(schemas)
    facts = {s: SchemaFacts(s) for s in schemas}
    if not schemas:
        return facts
    where = f"table_schema IN ({_in_list(schemas)})"
    for schema, table, comment in conn.execute(
        f"SELECT table_schema, table_name, table_comment FROM information_schema.tables WHERE {where} "
        "AND table_type = 'BASE TABLE'",
        schemas,
    ).fetchall():
        facts[schema].tables[table] = TableFacts(table, comment or "")
    primary, foreign = {}, {}
    for schema, table, constraint, column, position, ref_schema, ref_table, ref_column in conn.execute(
        "SELECT table_schema, table_name, constraint_name, column_name, ordinal_position, "
        "referenced_table_schema, referenced_table_name, referenced_column_name "
        f"FROM information_schema.key_column_usage WHERE {where} "
        "ORDER BY table_schema, table_name, constraint_name, ordinal_position",
        schemas,
    ).fetchall():
        if constraint == "PRIMARY":
            primary[(schema, table, column)] = int(position)
        elif ref_table is not None:
            fk = foreign.setdefault((schema, table, constraint), [ref_schema, ref_table, [], []])
            fk[2].append(column)
            fk[3].append(ref_column)
    for row in conn.execute(
        "SELECT table_schema, table_name, column_name, column_type, data_type, is_nullable, column_default, "
        f"column_comment, extra FROM information_schema.columns WHERE {where} "
        "ORDER BY table_schema, table_name, ordinal_position",
        schemas,
    ).fetchall():
        schema, table, name, column_type, data_type, is_nullable, default, comment, extra = row
        table_facts = facts[schema].tables.get(table)
        if table_facts is None:  # a view
            continue
        nullable = is_nullable == "YES"
        value, is_expression = _default(default, extra, nullable)
        table_facts.columns.append(
            ColumnFacts(
                name=name,
                sql_type=column_type,
                type=definition_type(column_type, data_type),
                nullable=nullable,
                default=value,
                default_is_expression=is_expression,
                comment=comment or "",
                key_position=primary.get((schema, table, name)),
                autoincrement="auto_increment" in (extra or "").lower(),
            )
        )
    for (schema, table, constraint), (ref_schema, ref_table, columns, ref_columns) in foreign.items():
        if table in facts[schema].tables:
            facts[schema].tables[table].foreign_keys.append(
                ForeignKeyFacts(constraint, tuple(columns), ref_schema, ref_table, tuple(ref_columns))
            )
    indexes = {}
    for schema, table, index, non_unique, column in conn.execute(
        "SELECT table_schema, table_name, index_name, non_unique, column_name FROM information_schema.statistics "
        f"WHERE {where} AND index_name <> 'PRIMARY' ORDER BY table_schema, table_name, index_name, seq_in_index",
        schemas,
    ).fetchall():
        entry = indexes.setdefault((schema, table, index), [not int(non_unique), []])
        entry[1].append(column)
    for (schema, table, index), (unique, columns) in indexes.items():
        if table in facts[schema].tables and None not in columns:  # expression indexes are left out
            facts[schema].tables[table].indexes.append(IndexFacts(index, tuple(columns), unique))
    return facts


def tables_by_schema(conn, schemas):
    schemas = list(schemas)
    result = {s: [] for s in schemas}
    if schemas:
        for schema, table in conn.execute(
            f"SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ({_in_list(schemas)}) "
            "ORDER BY table_schema, table_name",
            schemas,
        ).fetchall():
            result[schema].append(table)
    return result
