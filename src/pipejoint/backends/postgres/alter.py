"""ALTER TABLE on PostgreSQL, inside the one transaction table/alter.py opens (DDL is
transactional here: any failure undoes every statement).

A column whose type changes loses the CHECK constraints of its old type first (their names are
the server's, so a DO block finds them) and gets those of the new type after; enum columns are
cast through text to the enum type. Comments are COMMENT ON statements (after_create writes the
new ones; an emptied comment is set to NULL here). A foreign key gets the supporting index
DataJoint declares, and loses it when dropped.
"""

from __future__ import annotations

from sqlglot import exp

from ..alter import (
    AddColumn,
    AddForeignKey,
    AddIndex,
    ChangeColumn,
    DropColumn,
    DropForeignKey,
    DropIndex,
    SetPrimaryKey,
    TableComment,
    find_foreign_key,
    find_index,
)


def _literal(backend, text):
    return exp.Literal.string(text).sql(dialect=backend.dialect)


def _drop_checks(backend, table, column):
    """A DO block dropping the CHECK constraints on one column (named by the server)."""
    return (
        "DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.conname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
        f"WHERE c.conrelid = {_literal(backend, table)}::regclass AND c.contype = 'c' "
        f"AND a.attname = {_literal(backend, column)} "
        f"LOOP EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {_literal(backend, table)}, r.conname); "
        "END LOOP; END $$"
    )


def _drop_primary_key(backend, table):
    """A DO block dropping the table's primary-key constraint (named by the server)."""
    return (
        "DO $$ DECLARE r record; BEGIN FOR r IN SELECT conname FROM pg_constraint "
        f"WHERE conrelid = {_literal(backend, table)}::regclass AND contype = 'p' "
        f"LOOP EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {_literal(backend, table)}, r.conname); "
        "END LOOP; END $$"
    )


def alter_statements(backend, conn, schema, table_name, changes):
    table = backend.full_table_name(schema, table_name)
    q = backend.quote
    facts = None
    if any(isinstance(c, (DropForeignKey, DropIndex)) for c in changes):
        facts = backend.introspect(conn, [schema])[schema].tables[table_name]
    statements = []
    for change in changes:
        if isinstance(change, DropForeignKey):
            fk = find_foreign_key(facts, change.columns)
            if fk is not None:
                statements.append(f"ALTER TABLE {table} DROP CONSTRAINT {q(fk.name)}")
            index = find_index(facts, change.columns, False)
            if index is not None:  # the index DataJoint declares for a foreign key
                statements.append(f"DROP INDEX {q(schema)}.{q(index.name)}")
        elif isinstance(change, DropIndex):
            index = find_index(facts, change.columns, change.unique)
            if index is not None:
                statements.append(f"DROP INDEX {q(schema)}.{q(index.name)}")
    for change in changes:
        if isinstance(change, DropColumn):
            statements.append(f"ALTER TABLE {table} DROP COLUMN {q(change.name)}")
        elif isinstance(change, AddColumn):
            statements.append(f"ALTER TABLE {table} ADD COLUMN {change.definition}")
        elif isinstance(change, ChangeColumn):
            statements += _change_column(backend, table, change)
        elif isinstance(change, SetPrimaryKey):
            statements.append(_drop_primary_key(backend, table))
            statements.append(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(q(c) for c in change.columns)})")
        elif isinstance(change, TableComment) and not change.comment:
            statements.append(f"COMMENT ON TABLE {table} IS NULL")
    for change in changes:
        if isinstance(change, AddIndex):
            statements.append(change.statement)
        elif isinstance(change, AddForeignKey):
            columns = ", ".join(q(c) for c in change.columns)
            parents = ", ".join(q(c) for c in change.parent_columns)
            statements.append(
                f"ALTER TABLE {table} ADD FOREIGN KEY ({columns}) REFERENCES {change.parent} ({parents}) "
                "ON UPDATE CASCADE ON DELETE RESTRICT"
            )
    return statements


def _change_column(backend, table, change):
    q = backend.quote
    statements = []
    if change.old_name != change.name:
        statements.append(f"ALTER TABLE {table} RENAME COLUMN {q(change.old_name)} TO {q(change.name)}")
    column = q(change.name)
    if change.type_changed:
        statements.append(_drop_checks(backend, table, change.name))
        statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
        # enum types cast to and from others only through text
        through = "::text" if "enum_" in change.type_sql or "enum_" in change.old_type_sql else ""
        using = f"{column}{through}::{change.type_sql}"
        statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {change.type_sql} USING {using}")
        for check in change.checks:
            statements.append(f"ALTER TABLE {table} ADD CHECK ({check})")
    if change.type_changed or change.default_changed:
        if change.default_sql is None:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
        else:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {change.default_sql}")
    if change.nullable_changed:
        statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} {'DROP' if change.nullable else 'SET'} NOT NULL")
    if change.comment_changed and not change.comment:
        statements.append(f"COMMENT ON COLUMN {table}.{column} IS NULL")
    return statements
