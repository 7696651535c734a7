"""The changes Table.alter() asks of a backend, as plain data, and the hooks' defaults.

table/alter_plan.py decides *what* changes (a diff of definition and table); each backend says
*how*: MySQL and PostgreSQL with ALTER TABLE (their alter.py), SQLite by rebuilding the table
(sqlite/alter.py), because SQLite's ALTER TABLE cannot change a column or a constraint. Column
definitions arrive rendered for the backend (definition/ddl.py builds them), so a hook only
arranges clauses.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AddColumn:
    name: str
    definition: str  # `name` type NOT NULL DEFAULT … CHECK …, rendered for the backend
    after: str | None = None  # the attribute it follows in the definition (MySQL places it there)


@dataclass
class DropColumn:
    name: str


@dataclass
class ChangeColumn:
    """A column whose name, type, default, nullability or comment changes."""

    old_name: str
    name: str
    definition: str
    type_sql: str
    nullable: bool
    default_sql: str | None  # None: no default
    checks: list = field(default_factory=list)  # CHECK conditions, rendered
    comment: str = ""  # the column comment DataJoint's convention gives
    type_changed: bool = False
    nullable_changed: bool = False
    default_changed: bool = False
    comment_changed: bool = False
    old_type_sql: str = ""  # the column's type before


@dataclass
class AddForeignKey:
    columns: tuple
    parent: str  # the parent's full table name
    parent_columns: tuple


@dataclass
class DropForeignKey:
    columns: tuple


@dataclass
class AddIndex:
    name: str
    columns: tuple
    unique: bool
    statement: str = ""  # CREATE INDEX …, for backends that index outside ALTER TABLE


@dataclass
class DropIndex:
    columns: tuple
    unique: bool


@dataclass
class TableComment:
    comment: str


@dataclass
class SetPrimaryKey:
    columns: tuple


@dataclass
class Rebuild:
    """What a backend that rebuilds tables needs (SQLite): the new table under a temporary name,
    the columns to copy (new name, old name), and the statements that follow the swap (indexes)."""

    temporary: str
    create: str
    copy: list
    after: list


def find_foreign_key(facts, columns):
    """The foreign key of a table's facts (Backend.introspect) over exactly these columns."""
    for fk in facts.foreign_keys:
        if tuple(fk.columns) == tuple(columns):
            return fk
    return None


def find_index(facts, columns, unique):
    for index in facts.indexes:
        if tuple(index.columns) == tuple(columns) and index.unique == unique:
            return index
    return None
