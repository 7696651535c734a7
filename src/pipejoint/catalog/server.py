"""Table records read from the database's own catalog through DataJoint's conventions.

Every schema is read this way (those an earlier pipejoint made on a server with its ``~catalog``
excepted, catalog_v1.py): pipejoint's own, DataJoint 2.x's and 0.14's, plain SQL. The database
describes its tables (Backend.introspect: on SQLite with the comments its hidden ``~comments``
table keeps) and conventions.py reads DataJoint's conventions from that. This module reads both
for several schemas at once: one introspection and one ``~lineage`` query for all of them. It only
reads; nothing in the database changes.
"""

from __future__ import annotations

import logging
import re

from sqlglot import exp

from .conventions import LINEAGE_TABLE, records_from_facts

logger = logging.getLogger("pipejoint")


def _string(backend, text):
    """A string literal of the backend's dialect (plain names written directly: no SQL generator is
    set up for a read)."""
    if re.fullmatch(r"[\w$]*", text, re.ASCII):
        return f"'{text}'"
    return exp.Literal.string(text).sql(dialect=backend.dialect)


def read_lineage(connection, schemas):
    """{schema: {(table, attribute): lineage}} from the ``~lineage`` tables of the schemas."""
    result = {s: {} for s in schemas}
    if not schemas:
        return result
    backend = connection.backend
    selects = [
        f"SELECT {_string(backend, s)}, table_name, attribute_name, lineage FROM {backend.full_table_name(s, LINEAGE_TABLE)}"
        for s in schemas
    ]
    rows = connection.rows_unless_missing(" UNION ALL ".join(selects))
    if not rows and len(selects) > 1:  # one may have been dropped by another client since the listing
        rows = [row for select in selects for row in connection.rows_unless_missing(select)]
    for schema, table, attribute, lineage in rows:
        result[schema][(table, attribute)] = lineage
    return result


def read_server_schemas(connection, tables, outside):
    """{schema: {table name: TableRecord}} for schemas without pipejoint's catalog.

    `tables` maps each schema to its table names; `outside(schema, table)` gives the record of a
    parent table in a schema not read here. A schema whose tables cannot be read as records is
    reported in the log and read as empty, so one odd schema does not hide the others.
    """
    schemas = list(tables)
    facts = connection.backend.introspect(connection, schemas)
    memo = connection.__dict__.setdefault("_records_memo", {})  # kept across cache clears (conventions.py)
    lineage = read_lineage(connection, [s for s in schemas if LINEAGE_TABLE in tables[s]])
    built, building = {}, set()

    def parent(schema, table):
        if schema in facts:
            if schema in building:
                return None  # foreign keys between schemas in both directions: no types to copy back
            return build(schema).get(table)
        return outside(schema, table)

    def build(schema):
        if schema not in built:
            building.add(schema)
            try:
                built[schema] = records_from_facts(facts[schema], lineage.get(schema), parent, memo)
            except Exception as error:  # one odd schema must not keep the others (and the table graph) from loading
                logger.warning("Cannot read the tables of schema `%s`: %s: %s", schema, type(error).__name__, error)
                built[schema] = {}
            finally:
                building.discard(schema)
        return built[schema]

    return {schema: build(schema) for schema in schemas}
