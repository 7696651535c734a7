"""CREATE TABLE and CREATE INDEX statements, built as sqlglot trees and rendered per backend.

The tree is the same on every backend; the backend supplies column types, CHECK constraints,
defaults and whatever must come before the CREATE (PostgreSQL's enum types) or after it
(comments on PostgreSQL, indexes outside MySQL). Tables are declared as DataJoint 2.x declares
them, so that DataJoint reads them: column comments carry the declared type
(core/conventions.py), foreign keys are ON UPDATE CASCADE ON DELETE RESTRICT, and where the
database does not index foreign keys itself they get the supporting index DataJoint adds.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from ..core.conventions import column_comment, column_comment_014, foreign_key_comment
from ..storage.codecs import stored_type
from .parser import IndexSpec


def _ident(name):
    return exp.to_identifier(name, quoted=True)


def _index_name(schema, table_name, attributes, unique):
    """Index names must be unique per database on some backends: derive them from all three."""
    digest = hashlib.md5(f"{schema}.{table_name}:{','.join(attributes)}".encode()).hexdigest()[:12]
    return f"{'uq' if unique else 'ix'}_{digest}"


def column_comments_014(spec):
    """{attribute: comment} as DataJoint 0.14 writes them, for a table declared into a 0.14 schema."""
    return {a.name: column_comment_014(a.attr_type, a.comment) for a in spec.attributes}


def column_comments(backend, spec):
    """{attribute: comment text} as DataJoint writes them.

    A declared attribute's comment carries its type (`:int32:session number`). A column copied
    from a parent by `-> Parent` gets the parent's user comment, with only `:uuid:` restored,
    and DataJoint writes that only where comments are part of the column definition (MySQL).
    On SQLite, whose column types say nothing of the declared type and whose comments no DataJoint
    client reads, every column's comment carries its type, copied ones too.
    """
    comments = {}
    for a in spec.attributes:
        if a.name in spec.copied and not backend.keeps_comments_table:
            comments[a.name] = foreign_key_comment(a.attr_type, a.comment) if backend.inline_column_comments else ""
        else:
            comments[a.name] = column_comment(a.attr_type, a.comment, mark_native=not backend.keeps_native_types)
    return comments


def _type_schema(spec, attr):
    """The schema of types a column is made of (PostgreSQL's enum types): a column copied from a
    parent uses the parent's type, which lives with the attribute's origin."""
    if attr.name in spec.copied and attr.lineage:
        return attr.lineage.split(".", 1)[0]
    return spec.schema


def column_definition(backend, attr, pk_names, comment=None, type_schema=None):
    t = stored_type(attr.attr_type)  # a codec's column has the type at the end of its chain
    comment = attr.comment if comment is None else comment
    column = exp.column(attr.name, quoted=True)
    constraints = []
    if not attr.nullable:
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    default = backend.default_value(attr)
    if default is not None:
        constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=default)))
    if t.autoincrement:
        constraints.extend(backend.autoincrement_constraints(attr, pk_names))
    if backend.inline_column_comments and comment:  # before CHECK: MariaDB insists
        constraints.append(exp.ColumnConstraint(kind=exp.CommentColumnConstraint(this=exp.Literal.string(comment))))
    for check in backend.checks(column, t):
        constraints.append(exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=check)))
    kind = exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=backend.column_type(t, type_schema=type_schema))
    return exp.ColumnDef(this=_ident(attr.name), kind=kind, constraints=constraints)


def create_table_statements(backend, spec, if_not_exists=False, comments=None):
    """The statements that declare `spec`, in order. `comments` replaces the column comments DataJoint's
    convention gives (for tables of DataJoint's own with a fixed layout)."""
    pk_names = spec.primary_key
    comments = column_comments(backend, spec) if comments is None else comments
    statements = []
    for a in spec.attributes:
        for statement in backend.type_statements(stored_type(a.attr_type), _type_schema(spec, a)):
            if statement not in statements:
                statements.append(statement)
    elements = [
        column_definition(backend, a, pk_names, comments[a.name], _type_schema(spec, a)) for a in spec.attributes
    ]
    autoinc_pk = any(a.autoincrement for a in spec.attributes) and backend.autoincrement_is_primary_key
    if not autoinc_pk:
        elements.append(exp.PrimaryKey(expressions=[_ident(n) for n in pk_names]))
    for fk in spec.foreign_keys:
        reference = exp.Reference(
            this=exp.Schema(
                this=backend.table(fk.parent_schema, fk.parent_table),
                expressions=[_ident(p) for p in fk.attr_map.values()],
            ),
            options=["ON UPDATE CASCADE", "ON DELETE RESTRICT"],
        )
        elements.append(exp.ForeignKey(expressions=[_ident(c) for c in fk.attr_map], reference=reference))
    later = []
    for index in spec.indexes + _foreign_key_indexes(backend, spec):
        name = _index_name(spec.schema, spec.table_name, index.attributes, index.unique)
        if backend.inline_indexes:
            columns = ", ".join(backend.quote(a) for a in index.attributes)
            elements.append(exp.Var(this=f"{'UNIQUE ' if index.unique else ''}INDEX {backend.quote(name)} ({columns})"))
        else:
            later.append(create_index_statement(backend, spec, name, index))
    create = exp.Create(
        kind="TABLE",
        exists=if_not_exists,
        this=exp.Schema(this=backend.table(spec.schema, spec.table_name), expressions=elements),
    )
    stored = [stored_type(a.attr_type) for a in spec.attributes]
    statements += [backend.render(create) + backend.table_suffix(spec.comment, stored)] + later
    columns = [(a.name, comments[a.name]) for a in spec.attributes]
    statements += backend.after_create(spec.schema, spec.table_name, columns, spec.comment)
    serialized = [a.name for a in spec.attributes if _serialized_in_table(a.attr_type)]
    if serialized:
        statements += backend.serialized_column_statements(spec.schema, spec.table_name, serialized)
    return statements


def _foreign_key_indexes(backend, spec):
    """The index DataJoint adds on a foreign key's columns where the database adds none (PostgreSQL),
    unless the primary key, a declared index or a longer such index starts with those columns."""
    if not backend.declares_foreign_key_indexes:
        return []
    covering = [tuple(spec.primary_key)] + [tuple(i.attributes) for i in spec.indexes]
    added = []
    for columns in sorted((tuple(fk.attr_map) for fk in spec.foreign_keys if not fk.unique), key=len, reverse=True):
        if not any(prefix[: len(columns)] == columns for prefix in covering):
            added.append(IndexSpec(columns, False))
            covering.append(columns)
    return added


def _serialized_in_table(attr_type):
    """A codec whose bytes stay in the row (blobs, attachments): backends may mark such columns."""
    return attr_type.codec is not None and attr_type.store is None and stored_type(attr_type).is_blob


def create_index_statement(backend, spec, name, index):
    create = exp.Create(
        kind="INDEX",
        unique=index.unique,
        this=exp.Index(
            this=_ident(name),
            table=backend.table(spec.schema, spec.table_name),
            params=exp.IndexParameters(columns=[exp.column(a, quoted=True) for a in index.attributes]),
        ),
    )
    return backend.render(create)


def drop_table_statement(backend, schema, table_name):
    return backend.render(exp.Drop(kind="TABLE", tables=[backend.table(schema, table_name)]))
