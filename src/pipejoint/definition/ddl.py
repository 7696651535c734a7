"""CREATE TABLE and CREATE INDEX statements, built as sqlglot trees and rendered per backend.

The tree is the same on every backend; the backend supplies column types, CHECK constraints,
defaults and whatever must follow the CREATE (comments on PostgreSQL, indexes outside MySQL).
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from ..storage.codecs import stored_type


def _ident(name):
    return exp.to_identifier(name, quoted=True)


def _index_name(schema, table_name, attributes, unique):
    """Index names must be unique per database on some backends: derive them from all three."""
    digest = hashlib.md5(f"{schema}.{table_name}:{','.join(attributes)}".encode()).hexdigest()[:12]
    return f"{'uq' if unique else 'ix'}_{digest}"


def column_definition(backend, attr, pk_names):
    t = stored_type(attr.attr_type)  # a codec's column has the type at the end of its chain
    column = exp.column(attr.name, quoted=True)
    constraints = []
    if not attr.nullable:
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    default = backend.default_value(attr)
    if default is not None:
        constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=default)))
    if t.autoincrement:
        constraints.extend(backend.autoincrement_constraints(attr, pk_names))
    if backend.inline_column_comments and attr.comment:  # before CHECK: MariaDB insists
        constraints.append(
            exp.ColumnConstraint(kind=exp.CommentColumnConstraint(this=exp.Literal.string(attr.comment)))
        )
    for check in backend.checks(column, t):
        constraints.append(exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=check)))
    kind = exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=backend.column_type(t))
    return exp.ColumnDef(this=_ident(attr.name), kind=kind, constraints=constraints)


def create_table_statements(backend, spec):
    """The statements that declare `spec`, in order."""
    pk_names = spec.primary_key
    elements = [column_definition(backend, a, pk_names) for a in spec.attributes]
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
    for index in spec.indexes:
        name = _index_name(spec.schema, spec.table_name, index.attributes, index.unique)
        if backend.inline_indexes:
            columns = ", ".join(backend.quote(a) for a in index.attributes)
            elements.append(exp.Var(this=f"{'UNIQUE ' if index.unique else ''}INDEX {backend.quote(name)} ({columns})"))
        else:
            later.append(create_index_statement(backend, spec, name, index))
    create = exp.Create(
        kind="TABLE",
        this=exp.Schema(this=backend.table(spec.schema, spec.table_name), expressions=elements),
    )
    statements = [backend.render(create) + backend.table_suffix(spec.comment)] + later
    columns = [(a.name, a.comment) for a in spec.attributes]
    statements += backend.after_create(spec.schema, spec.table_name, columns, spec.comment)
    serialized = [a.name for a in spec.attributes if _serialized_in_table(a.attr_type)]
    if serialized:
        statements += backend.serialized_column_statements(spec.schema, spec.table_name, serialized)
    return statements


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
