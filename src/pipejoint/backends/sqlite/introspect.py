"""What SQLite's catalog, and the comments pipejoint keeps beside it, say about some schemas' tables.

SQLite has no table or column comments, and a STRICT column's type (INT, REAL, TEXT, BLOB) says
little of the type declared. The servers keep DataJoint's conventions in their comments
(``:uint16:trial number``); on SQLite each schema keeps the same strings in its hidden
``~comments`` table: one row per column with the column comment DataJoint's rule gives (every
column carries its declared type, as native types do on PostgreSQL), and one row (column name '')
with the table comment. Everything else comes from SQLite's own catalog, as the servers' comes from
information_schema: columns, defaults and the primary key (``pragma_table_info``), foreign keys
(``pragma_foreign_key_list``), indexes (``pragma_index_list``/``pragma_index_info``). The result
has the servers' shape (Backend.introspect), so catalog/conventions.py reads all three alike.

Four queries for any number of schemas, plus one for their comments.
"""

from __future__ import annotations

import re

from ...core.types import parse_type
from ...errors import DeclarationError
from ..base import ColumnFacts, ForeignKeyFacts, IndexFacts, SchemaFacts, TableFacts

COMMENTS_TABLE = "~comments"
TABLE_ROW = ""  # the column name of a table comment's row (no attribute is named '')

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.I)
# STRICT tables allow only these; other declared types are read for plain tables made elsewhere
_AFFINITY = {"INT": "bigint", "INTEGER": "bigint", "REAL": "double", "TEXT": "text", "BLOB": "bytes", "ANY": "bytes"}


def _literal(value):
    """A SQLite string literal (quotes doubled; SQLite has no backslash escapes)."""
    return "'" + value.replace("'", "''") + "'"


def _full_name(schema, table_name):
    return '"' + f"{schema}.{table_name}".replace('"', '""') + '"'


def comment_statements(schema, table_name, columns, comment):
    """Statements that record a new table's comments in the schema's ``~comments`` table (made on
    first use), replacing rows a table of that name left behind. Hidden tables (``~lineage``,
    ``~jobs``) are read by code that knows them and get none."""
    if table_name.startswith("~"):
        return []
    table = _full_name(schema, COMMENTS_TABLE)
    rows = [(TABLE_ROW, comment)] if comment else []
    rows += [(name, text) for name, text in columns if text]
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table} (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
        "comment TEXT NOT NULL, PRIMARY KEY (table_name, column_name)) STRICT",
        f"DELETE FROM {table} WHERE table_name = {_literal(table_name)}",
    ]
    if rows:
        values = ", ".join(f"({_literal(table_name)}, {_literal(name)}, {_literal(text)})" for name, text in rows)
        statements.append(f"INSERT INTO {table} (table_name, column_name, comment) VALUES {values}")
    return statements


def forget_statements(schema, table_name, tables):
    """Statements that remove a dropped table's comments (`tables`: the schema's table names)."""
    if COMMENTS_TABLE not in tables:
        return []
    return [f"DELETE FROM {_full_name(schema, COMMENTS_TABLE)} WHERE table_name = {_literal(table_name)}"]


def definition_type(declared):
    """A column's type in the definition language when ``~comments`` has none for it (a table made
    without pipejoint): SQLite's declared type if pipejoint knows it, else its type affinity."""
    text = " ".join((declared or "").split())
    if text.upper() in _AFFINITY:
        return _AFFINITY[text.upper()]
    try:
        parse_type(text.lower())
        return text.lower()
    except DeclarationError:
        pass
    upper = text.upper()
    if "INT" in upper:
        return "bigint"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "double"
    return "bytes" if not upper or "BLOB" in upper else "double"


def _default(text):
    """(default value without quotes, is it an expression) from pragma_table_info's dflt_value,
    the default's SQL text as the CREATE TABLE wrote it."""
    if text is None:
        return None, False
    value = text.strip()
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    if value.upper() == "NULL":
        return None, False
    if len(value) >= 2 and value[0] == value[-1] == "'" and "'" not in value[1:-1].replace("''", ""):
        return value[1:-1].replace("''", "'"), False
    if _NUMBER.match(value):
        return value, False
    lowered = value.lower().replace(" ", "")
    if (lowered.startswith("strftime(") and lowered.endswith(",'now')")) or lowered == "current_timestamp":
        return "CURRENT_TIMESTAMP", True  # how backends/sqlite declares it
    return value, True


def tables_by_schema(conn, schemas):
    """{schema: [table name, ...]} from one read of sqlite_master (a schema is a name prefix)."""
    schemas = list(schemas)
    result = {s: [] for s in schemas}
    if not schemas:
        return result
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    for (name,) in rows:
        for schema in schemas:
            if name.startswith(schema + "."):
                result[schema].append(name[len(schema) + 1 :])
    return result


def _read_comments(conn, schemas, tables):
    """{schema: {table: {column: comment}}} from the schemas' ``~comments`` tables."""
    selects = [
        f"SELECT {_literal(s)}, table_name, column_name, comment FROM {_full_name(s, COMMENTS_TABLE)}"
        for s in schemas
        if COMMENTS_TABLE in tables[s]
    ]
    result = {}
    if selects:
        for schema, table, column, comment in conn.rows_unless_missing(" UNION ALL ".join(selects)):
            result.setdefault(schema, {}).setdefault(table, {})[column] = comment
    return result


def introspect(conn, schemas, known):
    """{schema: SchemaFacts} for the given schemas.

    `known` maps a stored table name to (signature, TableFacts) from earlier calls on this
    connection: a table's facts follow from its CREATE statement, its indexes' and its comments
    (the signature), so only tables whose signature changed are asked about again. A declaration
    thus costs one table's pragmas, not the whole schema's.
    """
    schemas = list(schemas)
    facts = {s: SchemaFacts(s) for s in schemas}
    statements = {}
    for kind, name, table, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')"
    ).fetchall():
        entry = statements.setdefault(table, [None, []])
        if kind == "table":
            entry[0] = sql
        else:
            entry[1].append((name, sql))
    owner = {}
    for name, (sql, _) in statements.items():
        if sql is None:
            continue
        for schema in schemas:
            if name.startswith(schema + "."):
                owner[name] = (schema, name[len(schema) + 1 :])
    tables = {s: [t for (schema, t) in owner.values() if schema == s] for s in schemas}
    comments = _read_comments(conn, schemas, tables)
    signatures = {}
    for name, (schema, table) in owner.items():
        sql, indexes = statements[name]
        rows = tuple(sorted(comments.get(schema, {}).get(table, {}).items()))
        signatures[name] = (sql, tuple(sorted(indexes, key=str)), rows)
    changed = [name for name in owner if name not in known or known[name][0] != signatures[name]]
    fresh, keep = _read_tables(conn, changed, owner, comments) if changed else ({}, set())
    for name in changed:
        if name in keep:
            known[name] = (signatures[name], fresh[name])
        else:
            known.pop(name, None)
    for name in [n for n in known if n not in statements]:  # dropped since
        del known[name]
    for name, (schema, table) in owner.items():
        facts[schema].tables[table] = fresh[name] if name in fresh else known[name][1]
    return facts


def _read_tables(conn, names, owner, comments):
    """({stored name: TableFacts} from SQLite's pragmas, the names whose facts may be kept: not a
    table whose foreign key names no columns, whose facts depend on the parent's too)."""
    where = f"m.type = 'table' AND m.name IN ({', '.join(['?'] * len(names))})"
    result, keep, autoincrement = {}, set(names), set()

    def commented(name):
        schema, table = owner[name]
        return comments.get(schema, {}).get(table, {})

    for name, sql in conn.execute(f"SELECT m.name, m.sql FROM sqlite_master AS m WHERE {where}", names).fetchall():
        schema, table = owner[name]
        result[name] = TableFacts(table, commented(name).get(TABLE_ROW, ""))
        if sql and _AUTOINCREMENT.search(sql):
            autoincrement.add(name)
    for name, column, declared, not_null, default, key_position in conn.execute(
        'SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk '
        f"FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p WHERE {where} ORDER BY m.name, p.cid",
        names,
    ).fetchall():
        schema, table = owner[name]
        value, is_expression = _default(default)
        result[name].columns.append(
            ColumnFacts(
                name=column,
                sql_type=declared,
                type=definition_type(declared),
                nullable=not not_null and not key_position,
                default=value,
                default_is_expression=is_expression,
                comment=commented(name).get(column, ""),
                key_position=key_position or None,
                autoincrement=name in autoincrement and key_position == 1 and declared.upper() == "INTEGER",
            )
        )
    foreign = {}
    for name, fk_id, parent, column, parent_column in conn.execute(
        'SELECT m.name, f.id, f."table", f."from", f."to" '
        f"FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f WHERE {where} "
        "ORDER BY m.name, f.id DESC, f.seq",  # SQLite numbers foreign keys last declared first
        names,
    ).fetchall():
        entry = foreign.setdefault((name, fk_id), [parent, [], []])
        entry[1].append(column)
        entry[2].append(parent_column)
    for (name, fk_id), (parent, columns, parent_columns) in foreign.items():
        parent_schema, _, parent_table = parent.rpartition(".")
        if None in parent_columns:  # REFERENCES parent without columns: its primary key
            parent_columns = _primary_key(conn, parent)
            keep.discard(name)
        result[name].foreign_keys.append(
            ForeignKeyFacts(f"fk{fk_id}", tuple(columns), parent_schema, parent_table, tuple(parent_columns))
        )
    indexes = {}
    for name, index, unique, origin, partial, column in conn.execute(
        'SELECT m.name, il.name, il."unique", il.origin, il.partial, ii.name '
        "FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS il JOIN pragma_index_info(il.name) AS ii "
        f"WHERE {where} ORDER BY m.name, il.name, ii.seqno",
        names,
    ).fetchall():
        if origin != "pk" and not partial:
            indexes.setdefault((name, index), [bool(unique), []])[1].append(column)
    for (name, index), (unique, columns) in indexes.items():
        if None not in columns:  # expression indexes are left out
            result[name].indexes.append(IndexFacts(index, tuple(columns), unique))
    return result, keep


def _primary_key(conn, table):
    rows = conn.execute("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,)).fetchall()
    return [name for name, _ in rows]
