"""Table records: pipejoint's hidden catalog table (SQLite), or the server's own catalog.

SQLite loses information (no uint8, no column comments, no lineage). There the catalog table keeps
each table's tier, class name, definition, heading (declared types, defaults, comments, lineage),
foreign keys and indexes, so a fresh process with no Python classes rebuilds every heading from it
alone. On MySQL and PostgreSQL DataJoint's conventions are the storage format: every schema
(pipejoint's, DataJoint 2.x's, plain SQL) is read from the server's catalog (server.py,
conventions.py), except schemas an earlier pipejoint made with a catalog table, read from it as before.
"""

from __future__ import annotations

import json

from ..core.heading import Attribute, Heading
from ..core.types import parse_type
from ..definition.parser import ForeignKeySpec, IndexSpec, TableSpec
from ..errors import DataJointError
from .lineage import delete_lineage, ensure_lineage_table, write_lineage
from .record import TableRecord

CATALOG_TABLE = "~catalog"
FORMAT_VERSION = 1


def _catalog_spec(schema):
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


def ensure_catalog(connection, schema):
    """Create the schema's catalog table where pipejoint keeps one (SQLite) and it does not exist yet.

    On MySQL and PostgreSQL DataJoint's conventions (comments, ``~lineage``) are the storage format
    and new schemas get no catalog table; a schema an earlier pipejoint made there keeps its own,
    read and written as before (nothing in it is rewritten or lost).
    """
    from ..definition.ddl import create_table_statements

    if connection.backend.reads_server_catalog or CATALOG_TABLE in connection.backend.list_tables(connection, schema):
        return
    for statement in create_table_statements(connection.backend, _catalog_spec(schema)):
        connection.execute(statement)


def _has_catalog(connection, schema):
    return not connection.backend.reads_server_catalog or CATALOG_TABLE in connection.backend.list_tables(
        connection, schema
    )


def _table(connection, schema):
    return connection.backend.full_table_name(schema, CATALOG_TABLE)


def write_record(connection, spec, tier, class_name, definition):
    if not _has_catalog(connection, spec.schema):  # the server and DataJoint's conventions describe it
        write_lineage(connection, spec)
        connection.catalog_cache_clear()
        return
    p = connection.backend.placeholder
    connection.execute(
        f"INSERT INTO {_table(connection, spec.schema)} (table_name, tier, class_name, definition, heading, "
        f"foreign_keys, indexes, format_version) VALUES ({', '.join([p] * 8)})",
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
    write_lineage(connection, spec)  # DataJoint's ~lineage, where the backend keeps it
    connection.catalog_cache_clear()


def ensure_lineage(connection, schema):
    """DataJoint's ~lineage table for a schema (MySQL, PostgreSQL), with rows for the tables an
    earlier pipejoint declared there before it kept one. Outside a transaction."""

    def existing():
        return [
            (r.table_name, r.heading.all_attributes.values(), r.foreign_keys)
            for r in read_schema(connection, schema).values()
        ]

    ensure_lineage_table(connection, schema, existing)


def delete_record(connection, schema, table_name):
    if not _has_catalog(connection, schema):
        delete_lineage(connection, schema, table_name)
        connection.catalog_cache_clear()
        return
    p = connection.backend.placeholder
    connection.execute(f"DELETE FROM {_table(connection, schema)} WHERE table_name = {p}", (table_name,))
    delete_lineage(connection, schema, table_name)
    connection.catalog_cache_clear()


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
    """All records of a schema, by table name.

    A schema with pipejoint's catalog table is read from it. Any other schema, on a backend that
    reads its server's catalog (MySQL, PostgreSQL), is read from the server through DataJoint's
    conventions: schemas made by DataJoint 2.x and plain SQL tables. Otherwise {}.
    """
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
    from_server = {}
    for schema in missing:
        if CATALOG_TABLE in tables[schema]:
            result[schema] = _read_catalog(connection, schema)
        elif backend.reads_server_catalog and tables[schema]:
            from_server[schema] = tables[schema]
        else:
            result[schema] = {}
    if from_server:
        from .server import read_server_schemas

        result.update(read_server_schemas(connection, from_server, lambda s, t: read_schema(connection, s).get(t)))
    if not connection.in_transaction:
        for schema in missing:
            connection.cache.put(("catalog", schema), result[schema])
    return result


def _read_catalog(connection, schema):
    rows = connection.rows_unless_missing(  # another client may have dropped the schema since we listed it
        f"SELECT table_name, tier, class_name, definition, heading, foreign_keys, indexes, format_version "
        f"FROM {_table(connection, schema)}"
    )
    return {row[0]: _record_from_row(schema, row) for row in rows}


def read_record(connection, schema, table_name):
    record = read_schema(connection, schema).get(table_name)
    if record is None and connection.cache.pop(("catalog", schema)) is not None:
        # another process may have declared it since we looked
        record = read_schema(connection, schema).get(table_name)
    return record
