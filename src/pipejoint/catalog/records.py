"""The catalog: a hidden table per schema that is the truth about its tables.

Backends lose information (SQLite has no uint8 and no column comments; no backend records
lineage). The catalog keeps each table's tier, class name, definition, heading (declared
types, defaults, comments, lineage), foreign keys and indexes, so a fresh process with no
Python classes rebuilds every heading from it alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.heading import Attribute, Heading
from ..core.types import parse_type
from ..definition.parser import ForeignKeySpec, IndexSpec, TableSpec
from ..errors import DataJointError, MissingTableError
from .lineage import delete_lineage, ensure_lineage_table, write_lineage

CATALOG_TABLE = "~catalog"
FORMAT_VERSION = 1


@dataclass
class TableRecord:
    schema: str
    table_name: str
    tier: str
    class_name: str
    definition: str
    heading: Heading
    foreign_keys: list
    indexes: list


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
    """Create the schema's catalog table if it does not exist yet."""
    from ..definition.ddl import create_table_statements

    if CATALOG_TABLE in connection.backend.list_tables(connection, schema):
        return
    for statement in create_table_statements(connection.backend, _catalog_spec(schema)):
        connection.query(statement)


def _table(connection, schema):
    return connection.backend.full_table_name(schema, CATALOG_TABLE)


def write_record(connection, spec, tier, class_name, definition):
    p = connection.backend.placeholder
    connection.query(
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
    p = connection.backend.placeholder
    connection.query(f"DELETE FROM {_table(connection, schema)} WHERE table_name = {p}", (table_name,))
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
    """All records of a schema, by table name ({} when the schema has no catalog)."""
    key = ("catalog", schema)
    records = connection.cache.get(key)
    if records is not None:
        return records
    if CATALOG_TABLE not in connection.backend.list_tables(connection, schema):
        records = {}
    else:
        try:
            rows = connection.query(
                f"SELECT table_name, tier, class_name, definition, heading, foreign_keys, indexes, format_version "
                f"FROM {_table(connection, schema)}"
            ).fetchall()
        except MissingTableError:  # another client dropped the schema since we listed it
            rows = []
        records = {row[0]: _record_from_row(schema, row) for row in rows}
    if not connection.in_transaction:
        connection.cache.put(key, records)
    return records


def read_record(connection, schema, table_name):
    record = read_schema(connection, schema).get(table_name)
    if record is None and connection.cache.pop(("catalog", schema)) is not None:
        # another process may have declared it since we looked
        record = read_schema(connection, schema).get(table_name)
    return record
