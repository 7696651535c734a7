"""Table records: every schema read through DataJoint's conventions from the database's own catalog.

DataJoint's conventions are the storage format on every backend (DESIGN.md, principle 4): the
tier in the table name's prefix, the definition's comment in the table comment, declared types
and codecs in the column comments, lineage in ``~lineage``, foreign keys and indexes in the
database's catalog. Backend.introspect reports those facts (on SQLite, which has no comments, with
the strings its hidden ``~comments`` table keeps) and conventions.py builds the records from them,
one reader for all three backends (server.py).

Schemas an earlier pipejoint made keep a ``~catalog`` table of its own format (catalog_v1.py). On
SQLite it is upgraded to the comments once, on first open; on MySQL and PostgreSQL it stays and is
read, and written for new tables, as before, and tables other clients add beside them (DataJoint,
plain SQL) are read from the server's catalog.
"""

from __future__ import annotations

from . import catalog_v1
from .catalog_v1 import CATALOG_TABLE
from .lineage import delete_lineage, ensure_lineage_table, write_lineage
from .lineage import rebuild_lineage as _rebuild_lineage
from .record import TableRecord

__all__ = [
    "CATALOG_TABLE",
    "TableRecord",
    "delete_record",
    "ensure_lineage",
    "read_record",
    "read_schema",
    "read_schemas",
    "rewrite_record",
    "rebuild_lineage",
    "write_record",
]


def write_record(connection, spec, tier, class_name, definition):
    """Record a table just created (inside the declaring transaction): its comments went with its
    DDL; here its ``~lineage`` rows, and its row in an earlier pipejoint's ``~catalog``."""
    if CATALOG_TABLE in connection.backend.list_tables(connection, spec.schema):
        catalog_v1.write_record(connection, spec, tier, class_name, definition)
    write_lineage(connection, spec)
    connection.catalog_cache_clear()


def rewrite_record(connection, spec, tier, class_name, definition):
    """Record a table just altered (inside the altering transaction): its ``~lineage`` rows, and its
    row in an earlier pipejoint's ``~catalog``; comments went with the DDL."""
    if CATALOG_TABLE in connection.backend.list_tables(connection, spec.schema):
        catalog_v1.delete_record(connection, spec.schema, spec.table_name)
        catalog_v1.write_record(connection, spec, tier, class_name, definition)
    write_lineage(connection, spec)
    connection.catalog_cache_clear()


def delete_record(connection, schema, table_name):
    """Forget a dropped table: its ``~lineage`` rows, its comments (SQLite), its ``~catalog`` row."""
    backend = connection.backend
    if CATALOG_TABLE in backend.list_tables(connection, schema):
        catalog_v1.delete_record(connection, schema, table_name)
    for statement in backend.after_drop_table(connection, schema, table_name):
        connection.execute(statement)
    delete_lineage(connection, schema, table_name)
    connection.catalog_cache_clear()


def ensure_lineage(connection, schema):
    """DataJoint's ~lineage table for a schema, with rows for the tables an earlier pipejoint
    declared there before it kept one. Outside a transaction (MySQL commits on CREATE TABLE)."""
    records = read_schema(connection, schema)  # on SQLite this upgrades an earlier ~catalog first

    def existing():
        return [(r.table_name, r.heading.all_attributes.values(), r.foreign_keys) for r in records.values()]

    ensure_lineage_table(connection, schema, existing)


def rebuild_lineage(connection, schema):
    """The schema's ~lineage rows written again from its tables as the catalog reads them."""
    records = read_schema(connection, schema)
    _rebuild_lineage(
        connection,
        schema,
        [(r.table_name, r.heading.all_attributes.values(), r.foreign_keys) for r in records.values()],
    )
    connection.catalog_cache_clear()


def read_schema(connection, schema):
    """All records of a schema, by table name ({} for a schema without tables)."""
    records = connection.cache.get(("catalog", schema))
    if records is not None:
        return records
    return read_schemas(connection, [schema])[schema]


def read_schemas(connection, schemas):
    """{schema: records} for several schemas, with one listing and one introspection for all."""
    result, missing = {}, []
    for schema in schemas:
        records = connection.cache.get(("catalog", schema))
        if records is None:
            missing.append(schema)
        else:
            result[schema] = records
    if not missing:
        return result
    backend = connection.backend
    tables = backend.tables_by_schema(connection, missing)
    from_facts = {}

    def outside(schema, table_name):  # a parent in another schema
        return read_schema(connection, schema).get(table_name)

    for schema in missing:
        if CATALOG_TABLE in tables[schema] and backend.keeps_comments_table:
            catalog_v1.upgrade(connection, schema, outside)
            tables[schema] = backend.list_tables(connection, schema)
        if CATALOG_TABLE in tables[schema]:
            result[schema] = catalog_v1.read_schema(connection, schema)
            if any(t not in result[schema] and not t.startswith("~") for t in tables[schema]):
                from_facts[schema] = tables[schema]  # tables another client added beside them: see below
        elif tables[schema]:
            from_facts[schema] = tables[schema]
        else:
            result[schema] = {}
    if from_facts:
        from .server import read_server_schemas

        for schema, records in read_server_schemas(connection, from_facts, outside).items():
            # in an earlier pipejoint's schema on a server, its ~catalog describes the tables it made
            # (they carry no comments) and the server's catalog those DataJoint or plain SQL added
            result[schema] = {**records, **result.get(schema, {})}
    if not connection.in_transaction:
        for schema in missing:
            connection.cache.put(("catalog", schema), result[schema])
    return result


def read_record(connection, schema, table_name):
    """The record of one table, or None when it is not declared."""
    records = connection.cache.get(("catalog", schema))
    if records is None:
        return read_schemas(connection, [schema])[schema].get(table_name)
    record = records.get(table_name)
    if record is None:  # another process may have declared it since the schema was read
        connection.cache.pop(("catalog", schema))
        record = read_schema(connection, schema).get(table_name)
    return record
