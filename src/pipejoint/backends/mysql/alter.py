"""ALTER TABLE on MySQL/MariaDB: every change in ONE statement.

MySQL commits each DDL statement by itself, so a change made of several statements could stop
halfway. InnoDB applies one ALTER TABLE as a whole or not at all (it copies the table and swaps
it in), so all clauses go into a single statement; table/alter.py pre-checks the data first.
Dropping a foreign key leaves the index MySQL made for it, which is dropped with it.
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


def alter_statements(backend, conn, schema, table_name, changes):
    facts = None
    if any(isinstance(c, (DropForeignKey, DropIndex)) for c in changes):
        facts = backend.introspect(conn, [schema])[schema].tables[table_name]
    q = backend.quote
    clauses = []
    for change in changes:  # constraints first: a column cannot go while a foreign key uses it
        if isinstance(change, DropForeignKey):
            fk = find_foreign_key(facts, change.columns)
            if fk is not None:
                clauses.append(f"DROP FOREIGN KEY {q(fk.name)}")
                index = find_index(facts, change.columns, False)
                if index is not None and index.name == fk.name:  # the index MySQL added for it
                    clauses.append(f"DROP INDEX {q(index.name)}")
        elif isinstance(change, DropIndex):
            index = find_index(facts, change.columns, change.unique)
            if index is not None:
                clauses.append(f"DROP INDEX {q(index.name)}")
    for change in changes:
        if isinstance(change, DropColumn):
            clauses.append(f"DROP COLUMN {q(change.name)}")
        elif isinstance(change, AddColumn):
            clauses.append(f"ADD COLUMN {change.definition}" + (f" AFTER {q(change.after)}" if change.after else ""))
        elif isinstance(change, ChangeColumn):
            clauses.append(f"CHANGE COLUMN {q(change.old_name)} {change.definition}")
        elif isinstance(change, SetPrimaryKey):
            clauses.append(f"DROP PRIMARY KEY, ADD PRIMARY KEY ({', '.join(q(c) for c in change.columns)})")
        elif isinstance(change, TableComment):
            clauses.append("COMMENT = " + exp.Literal.string(change.comment).sql(dialect=backend.dialect))
    for change in changes:
        if isinstance(change, AddIndex):
            columns = ", ".join(q(c) for c in change.columns)
            clauses.append(f"ADD {'UNIQUE ' if change.unique else ''}INDEX {q(change.name)} ({columns})")
        elif isinstance(change, AddForeignKey):
            columns = ", ".join(q(c) for c in change.columns)
            parents = ", ".join(q(c) for c in change.parent_columns)
            clauses.append(
                f"ADD FOREIGN KEY ({columns}) REFERENCES {change.parent} ({parents}) "
                "ON UPDATE CASCADE ON DELETE RESTRICT"
            )
    if not clauses:
        return []
    return [f"ALTER TABLE {backend.full_table_name(schema, table_name)} " + ", ".join(clauses)]
