"""What PostgreSQL's pg_catalog says about the tables of some schemas (Backend.introspect).

Four queries for any number of schemas: tables, columns (with enum labels), primary and foreign
keys, indexes. Types are reported in the definition language (``character varying(32)`` ->
``varchar(32)``, an enum type -> ``enum('a','b')``); DataJoint's conventions are read from these
facts in catalog/conventions.py.
"""

from __future__ import annotations

import re

from ...core.types import parse_type
from ...errors import DeclarationError
from ..base import ColumnFacts, ForeignKeyFacts, IndexFacts, SchemaFacts, TableFacts

_NAMED = {
    "smallint": "smallint",
    "integer": "int",
    "bigint": "bigint",
    "real": "float",
    "double precision": "double",
    "numeric": "double",  # numeric without precision: any number, read as float64
    "boolean": "bool",
    "text": "text",
    "character varying": "text",
    "bytea": "bytes",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "json",
    "date": "date",
    "timestamp without time zone": "datetime",
    "timestamp with time zone": "datetime",
    "time without time zone": "time",
    "time with time zone": "time",
}
_PATTERNS = [
    (re.compile(r"^numeric\((\d+),(\d+)\)$"), lambda m: f"decimal({m[1]},{m[2]})"),
    (re.compile(r"^numeric\((\d+)\)$"), lambda m: f"decimal({m[1]},0)"),
    (re.compile(r"^character varying\((\d+)\)$"), lambda m: f"varchar({m[1]})"),
    (re.compile(r"^character\((\d+)\)$"), lambda m: f"char({m[1]})"),
    (re.compile(r"^timestamp\((\d)\) with(out)? time zone$"), lambda m: f"datetime({m[1]})"),
    (re.compile(r"^time\((\d)\) with(out)? time zone$"), lambda m: f"time({m[1]})"),
]
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _quote_literal(value):
    return "'" + value.replace("'", "''") + "'"


def definition_type(sql_type, enum_labels):
    """The column's type in the definition language, or the closest one pipejoint knows."""
    if enum_labels:
        return "enum(" + ",".join(_quote_literal(label) for label in enum_labels) + ")"
    text = sql_type.lower()
    mapped = _NAMED.get(text)
    if mapped is None:
        for pattern, build in _PATTERNS:
            if m := pattern.match(text):
                mapped = build(m)
                break
    if mapped is None:
        return "text"  # arrays, intervals, network addresses...: read as the driver gives them
    try:
        parse_type(mapped)
    except DeclarationError:
        return "text"
    return mapped


def _split_literal(text):
    """('value', rest) for text starting with a quoted literal, else None."""
    value, i = [], 1
    while i < len(text):
        if text[i] == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                value.append("'")
                i += 2
                continue
            return "".join(value), text[i + 1 :]
        value.append(text[i])
        i += 1
    return None


def _default(expression):
    """(default value without quotes or casts, is it an expression) from pg_get_expr."""
    if expression is None:
        return None, False
    text = expression.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if text.startswith("'"):
        split = _split_literal(text)
        if split is not None and (not split[1] or split[1].startswith("::")):
            return split[0], False
    bare = text.split("::")[0].strip().strip("()").strip()
    if bare.upper() == "NULL":
        return None, False
    if _NUMBER.match(bare) or bare.lower() in ("true", "false"):
        return bare, False
    if bare.lower() in ("now()", "current_timestamp", "transaction_timestamp()", "localtimestamp"):
        return "CURRENT_TIMESTAMP", True
    return text, True


def introspect(conn, schemas):
    """{schema: SchemaFacts} for the given schemas."""
    schemas = list(schemas)
    facts = {s: SchemaFacts(s) for s in schemas}
    if not schemas:
        return facts
    for schema, table, comment in conn.execute(
        "SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)",
        (schemas,),
    ).fetchall():
        facts[schema].tables[table] = TableFacts(table, comment or "")
    primary, foreign = {}, []
    for schema, table, name, kind, columns, ref_schema, ref_table, ref_columns in conn.execute(
        "SELECT n.nspname, c.relname, con.conname, con.contype, "
        "ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, i) "
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i), "
        "fn.nspname, fc.relname, "
        "ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, i) "
        "JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i) "
        "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
        "WHERE con.contype IN ('p', 'f') AND n.nspname = ANY(%s) ORDER BY n.nspname, c.relname, con.conname",
        (schemas,),
    ).fetchall():
        if kind == "p":
            for position, column in enumerate(columns, 1):
                primary[(schema, table, column)] = position
        else:
            foreign.append(
                (schema, table, ForeignKeyFacts(name, tuple(columns), ref_schema, ref_table, tuple(ref_columns)))
            )
    for row in conn.execute(
        "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typtype, t.typname, "
        "ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid ORDER BY e.enumsortorder), "
        "NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum), a.attidentity "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND n.nspname = ANY(%s) "
        "ORDER BY n.nspname, c.relname, a.attnum",
        (schemas,),
    ).fetchall():
        schema, table, name, sql_type, typtype, typname, labels, nullable, default, comment, identity = row
        table_facts = facts[schema].tables.get(table)
        if table_facts is None:
            continue
        if typtype == "e":
            facts[schema].enum_types[typname] = tuple(labels)
        autoincrement = bool(identity) or (default or "").startswith("nextval(")
        value, is_expression = (None, False) if autoincrement else _default(default)
        table_facts.columns.append(
            ColumnFacts(
                name=name,
                sql_type=sql_type,
                type=definition_type(sql_type, labels if typtype == "e" else None),
                nullable=bool(nullable),
                default=value,
                default_is_expression=is_expression,
                comment=comment or "",
                key_position=primary.get((schema, table, name)),
                autoincrement=autoincrement,
            )
        )
    for schema, table, fk in foreign:
        if table in facts[schema].tables:
            facts[schema].tables[table].foreign_keys.append(fk)
    for schema, table, name, unique, columns in conn.execute(
        "SELECT n.nspname, c.relname, i.relname, ix.indisunique, "
        "ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(num, i) "
        "JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num ORDER BY k.i) "
        "FROM pg_index ix JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT ix.indisprimary AND ix.indexprs IS NULL AND ix.indpred IS NULL AND n.nspname = ANY(%s) "
        "ORDER BY n.nspname, c.relname, i.relname",
        (schemas,),
    ).fetchall():
        if table in facts[schema].tables:
            facts[schema].tables[table].indexes.append(IndexFacts(name, tuple(columns), bool(unique)))
    return facts


def tables_by_schema(conn, schemas):
    schemas = list(schemas)
    result = {s: [] for s in schemas}
    if schemas:
        for schema, table in conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY schemaname, tablename",
            (schemas,),
        ).fetchall():
            result[schema].append(table)
    return result


# Every catalog row the table records are read from, named by its oid (or object and sub-id) and
# xmin, the transaction that wrote it: a row written, rewritten or removed by any client changes
# the text, and so its md5. Schemas, tables and indexes (pg_class), columns, constraints, table and
# column comments, enum labels, in every schema but the system's.
_FINGERPRINT = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'),
rel AS (SELECT oid, xmin, relname FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns))
SELECT md5(concat_ws('|',
  (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) FROM pg_namespace
   WHERE oid IN (SELECT oid FROM ns)),
  (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) FROM rel),
  (SELECT string_agg(attrelid::text || '.' || attnum::text || ':' || xmin::text, ',' ORDER BY attrelid, attnum)
   FROM pg_attribute WHERE attrelid IN (SELECT oid FROM rel)),
  (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) FROM pg_constraint
   WHERE connamespace IN (SELECT oid FROM ns)),
  (SELECT string_agg(objoid::text || '.' || objsubid::text || ':' || xmin::text, ',' ORDER BY objoid, objsubid)
   FROM pg_description WHERE classoid = 'pg_class'::regclass AND objoid IN (SELECT oid FROM rel)),
  (SELECT string_agg(e.oid::text || ':' || e.xmin::text, ',' ORDER BY e.oid) FROM pg_enum e
   JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace IN (SELECT oid FROM ns))
)), EXISTS (SELECT 1 FROM rel WHERE relname = '~catalog')
"""


def catalog_fingerprint(conn):
    """The md5 of the catalog rows pipejoint reads (see _FINGERPRINT); None where an earlier
    pipejoint's ``~catalog`` table holds records as data, which the server's catalog does not see."""
    digest, has_v1_catalog = conn.execute(_FINGERPRINT).fetchone()
    return None if has_v1_catalog else digest
