"""DataJoint 2.x's `~lineage` table: where each key and foreign-key attribute comes from.

DataJoint matches attributes of a join or restriction by name and lineage, and reads lineage
from this table (one per schema): a row for every primary-key and foreign-key attribute of each
table, holding `schema.table.attribute` of the attribute's origin. pipejoint writes the rows when
it declares a table and removes them when it drops one, on every backend (SQLite too, where no
DataJoint client reads them, so that one reader serves all three), so DataJoint's semantic
matching works on pipejoint's tables.
"""

from __future__ import annotations

from ..core.heading import Attribute
from ..core.types import parse_type
from ..definition.parser import TableSpec
from .legacy import is_014_schema

LINEAGE_TABLE = "~lineage"


_COLUMNS = (
    ("table_name", "varchar(64)", "table name within the schema"),
    ("attribute_name", "varchar(64)", "attribute name"),
    ("lineage", "varchar(255)", "origin: schema.table.attribute"),
)


def _lineage_spec(schema):
    attributes = [
        Attribute(name, parse_type(declared), in_key=name != "lineage", comment=comment)
        for name, declared, comment in _COLUMNS
    ]
    return TableSpec(schema, LINEAGE_TABLE, "", attributes)


def ensure_lineage_table(connection, schema, existing=None):
    """Create the schema's ~lineage table if the backend keeps one and it does not exist yet.

    `existing()` gives (table name, attributes, foreign keys) of the tables declared before the
    table was kept (by an earlier pipejoint): their rows are written too. Not in a schema made by
    DataJoint 0.14, which has none. Run outside a transaction: MySQL commits any open transaction
    when it creates a table.
    """
    backend = connection.backend
    if not backend.keeps_lineage_table:
        return
    tables = backend.list_tables(connection, schema)
    if LINEAGE_TABLE in tables or is_014_schema(tables):  # 0.14's lineage is read from its foreign keys
        return
    from ..definition.ddl import create_table_statements

    # as DataJoint declares it (lineage.ensure_lineage_table): plain comments, in the column
    # definitions only (so none on PostgreSQL)
    comments = {name: comment if backend.inline_column_comments else "" for name, _, comment in _COLUMNS}
    for statement in create_table_statements(backend, _lineage_spec(schema), if_not_exists=True, comments=comments):
        connection.execute(statement)
    if existing is not None:
        rows = [row for table in existing() for row in lineage_rows(*table)]
        _insert(connection, schema, rows)


def lineage_rows(table_name, attributes, foreign_keys):
    """(table, attribute, lineage) for the primary-key and foreign-key attributes of a table."""
    foreign = {name for fk in foreign_keys for name in fk.attr_map}
    return [(table_name, a.name, a.lineage) for a in attributes if (a.in_key or a.name in foreign) and a.lineage]


def write_lineage(connection, spec):
    """Replace the table's rows in ~lineage (inside the declaring transaction); nothing in a schema
    without one (DataJoint 0.14's: ensure_lineage_table leaves it so)."""
    backend = connection.backend
    if not backend.keeps_lineage_table or LINEAGE_TABLE not in backend.list_tables(connection, spec.schema):
        return
    delete_lineage(connection, spec.schema, spec.table_name)
    _insert(connection, spec.schema, lineage_rows(spec.table_name, spec.attributes, spec.foreign_keys))


def _insert(connection, schema, rows):
    if not rows:
        return
    p = connection.backend.placeholder
    table = connection.backend.full_table_name(schema, LINEAGE_TABLE)
    values = ", ".join(f"({p}, {p}, {p})" for _ in rows)
    connection.execute(
        f"INSERT INTO {table} (table_name, attribute_name, lineage) VALUES {values}",
        [value for row in rows for value in row],
    )


def rebuild_lineage(connection, schema, tables):
    """Write the ~lineage rows of every table again (DataJoint 2.x's schema.rebuild_lineage); `tables` gives
    (table name, attributes, foreign keys) as the catalog reads them. Creates the table where it is missing."""
    ensure_lineage_table(connection, schema)
    backend = connection.backend
    if not backend.keeps_lineage_table or LINEAGE_TABLE not in backend.list_tables(connection, schema):
        return
    with connection.transaction:
        connection.execute(f"DELETE FROM {backend.full_table_name(schema, LINEAGE_TABLE)}")
        _insert(connection, schema, [row for table in tables for row in lineage_rows(*table)])


def delete_lineage(connection, schema, table_name):
    """Remove a dropped table's rows from ~lineage (nothing when the schema has none)."""
    backend = connection.backend
    if not backend.keeps_lineage_table or LINEAGE_TABLE not in backend.list_tables(connection, schema):
        return
    p = connection.backend.placeholder
    connection.execute(
        f"DELETE FROM {backend.full_table_name(schema, LINEAGE_TABLE)} WHERE table_name = {p}", (table_name,)
    )
