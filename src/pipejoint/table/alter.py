"""Table.alter(): make a table what its class's definition says, keeping its rows.

The plan (alter_plan.py) is the difference of definition and table in secondary attributes
(added, dropped, renamed, retyped; default, nullability, comment), secondary foreign keys,
indexes and the table comment. It is shown and confirmed, checked against the rows
(alter_checks.py: refusals change nothing), then applied by the backend's hook (ALTER TABLE on
the servers, a rebuild on SQLite) with the metadata that follows it (column comments, SQLite's
~comments, ~lineage, an earlier pipejoint's ~catalog) in one transaction where DDL is
transactional. The connection's catalog cache is cleared afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlglot import exp

from ..backends.alter import (
    AddColumn,
    AddForeignKey,
    AddIndex,
    ChangeColumn,
    DropColumn,
    DropForeignKey,
    DropIndex,
    Rebuild,
    TableComment,
)
from ..backends.session import require_no_transaction
from ..catalog.legacy import is_014_schema
from ..catalog.records import rewrite_record
from ..definition.ddl import (
    _foreign_key_indexes,
    _index_name,
    _type_schema,
    column_comments,
    column_comments_014,
    column_definition,
    create_index_statement,
    create_table_statements,
)
from ..definition.parser import IndexSpec, parse_definition
from ..errors import AlterError, DataJointError
from ..storage.codecs import stored_type
from .alter_checks import check_plan
from .alter_plan import plan_alter, without_rename_markers
from .declare import resolve_reference
from .prompt import ask_yes_no

logger = logging.getLogger("pipejoint")


def parse_for(table, context):
    """The class's definition parsed against the table's schema (hidden columns the table has, such
    as run metadata, are kept: a definition does not write them)."""
    definition = getattr(table, "definition", None)
    if not isinstance(definition, str):
        raise DataJointError(f"Table class `{table.class_name}` has no `definition` string to alter the table to.")
    return parse_definition(
        definition, table.database, table.table_name, context, table.tier, resolve_reference=resolve_reference
    )


def plan_for(table, context, rename=None):
    record = table._record
    spec = parse_for(table, context)
    return plan_alter(spec, record, table._connection.backend, rename)


def drift_message(plan, class_name):
    """The warning for a class bound to a table its definition does not describe."""
    apply = f"apply the definition to the table with `{class_name}.alter()`"
    if plan.key:
        apply = "change the primary key with a migration (schema.migrate)" + (
            f" and the rest with `{class_name}.alter()`" if len(plan.sentences()) > len(plan.key) else ""
        )
    return (
        f"Table {plan.node} differs from the definition of class `{class_name}`: "
        + "; ".join(plan.sentences())
        + f". To make them agree, {apply}, or make the definition describe the table "
        f"(`{class_name}.describe()` prints it)."
    )


def drift(table, context):
    """The differences between a class's definition and its table, as sentences."""
    if not table.is_declared:
        return [f"the table {table.node_name} is not declared"]
    return plan_for(table, context).sentences()


def alter(table, prompt=True, context=None, rename=None):
    """Apply the class's definition to its table (see the module's docstring). Returns the
    statements run (empty when nothing differs or the change was declined)."""
    connection = table._connection
    require_no_transaction(connection, f"Altering table `{table.class_name}`")
    connection.catalog_cache_clear()  # the table as it is now, not as this process saw it
    plan = plan_for(table, context, rename)
    if plan.key:
        raise AlterError(
            f"Table {plan.node}: alter() changes secondary attributes, foreign keys and indexes, not the primary "
            f"key: {'; '.join(plan.key)}. Change the primary key with a migration (schema.migrate), or keep the "
            "key as the table has it. Nothing was changed."
        )
    if not plan:
        logger.info("Table %s matches its definition: nothing to alter.", plan.node)
        return []
    source = {c.new.name: c.old.name for c in plan.changed}
    check_plan(connection, plan, source)
    spec = _with_hidden(without_rename_markers(plan.spec, plan), plan.record)
    statements, after = _statements(connection, plan, spec, source)
    if prompt:
        text = "\n".join(f"  - {s}" for s in plan.sentences())
        sql = ";\n".join(statements + after)
        if not ask_yes_no(f"Alter table {plan.node}:\n{text}\n\n{sql}\n\nExecute?"):
            logger.info("Alter of %s declined: nothing was changed.", plan.node)
            return []
    _run(connection, plan, spec, statements, after, table)
    table._forget_heading()
    if prompt:
        logger.info("Table %s altered.", plan.node)
    return statements + after


def _with_hidden(spec, record):
    names = {a.name for a in spec.attributes}
    hidden = [a for a in record.heading.all_attributes.values() if a.is_hidden and a.name not in names]
    return replace(spec, attributes=spec.attributes + hidden)


def _comments(connection, spec):
    tables = connection.backend.list_tables(connection, spec.schema)
    return column_comments_014(spec) if is_014_schema(tables) else column_comments(connection.backend, spec)


def _statements(connection, plan, spec, source):
    """(the DDL, the metadata statements after it) for the plan on this backend."""
    backend = connection.backend
    schema, name = spec.schema, spec.table_name
    comments = _comments(connection, spec)
    after = backend.after_create(schema, name, [(a.name, comments[a.name]) for a in spec.attributes], spec.comment)
    if backend.rebuilds_to_alter:
        return backend.alter_statements(connection, schema, name, [], _rebuild(backend, plan, spec, source)), after
    by_name = {a.name: a for a in spec.attributes}
    order = [a.name for a in spec.attributes]
    changes = []
    types = []
    for attr in plan.added + [c.new for c in plan.changed if c.type]:
        for statement in backend.type_statements(stored_type(attr.attr_type), _type_schema(spec, attr)):
            if statement not in types:
                types.append(statement)
    changes += [DropForeignKey(tuple(_old_names(fk.attr_map, source))) for fk in plan.foreign_keys_dropped]
    changes += [DropIndex(tuple(_old_names(i.attributes, source)), i.unique) for i in plan.indexes_dropped]
    changes += [DropColumn(a.name) for a in plan.dropped]

    def definition(attr):
        node = column_definition(backend, attr, spec.primary_key, comments[attr.name], _type_schema(spec, attr))
        return backend.render(node)

    for change in plan.changed:
        attr = by_name[change.new.name]
        t = stored_type(attr.attr_type)
        default = backend.default_value(attr)
        column = exp.column(attr.name, quoted=True)
        changes.append(
            ChangeColumn(
                old_name=change.old.name,
                name=attr.name,
                definition=definition(attr),
                type_sql=backend.column_type(t, type_schema=_type_schema(spec, attr)),
                old_type_sql=backend.column_type(
                    stored_type(change.old.attr_type), type_schema=_type_schema(spec, attr)
                ),
                nullable=attr.nullable,
                default_sql=None if default is None else backend.render(default),
                checks=[backend.render(check) for check in backend.checks(column, t)],
                comment=comments[attr.name],
                type_changed=change.type,
                nullable_changed=change.nullable,
                default_changed=change.default or change.nullable,
                comment_changed=change.comment or change.renamed,
            )
        )
    for attr in plan.added:
        position = order.index(attr.name)
        changes.append(AddColumn(attr.name, definition(attr), order[position - 1] if position else None))
    if plan.comment:
        changes.append(TableComment(spec.comment))
    for index in plan.indexes_added + _new_foreign_key_indexes(backend, spec, plan):
        index_name = _index_name(schema, name, index.attributes, index.unique)
        statement = create_index_statement(backend, spec, index_name, index)
        changes.append(AddIndex(index_name, tuple(index.attributes), index.unique, statement))
    for fk in plan.foreign_keys_added:
        parent = backend.full_table_name(fk.parent_schema, fk.parent_table)
        changes.append(AddForeignKey(tuple(fk.attr_map), parent, tuple(fk.attr_map.values())))
    return types + backend.alter_statements(connection, schema, name, changes, None), after


def _old_names(names, source):
    back = dict(source)
    return [back.get(n, n) for n in names]


def _new_foreign_key_indexes(backend, spec, plan):
    """The supporting indexes of added foreign keys, where the backend declares them (PostgreSQL)."""
    added = {tuple(fk.attr_map) for fk in plan.foreign_keys_added}
    return [IndexSpec(i.attributes, i.unique) for i in _foreign_key_indexes(backend, spec) if i.attributes in added]


def _rebuild(backend, plan, spec, source, fills=None):
    temporary = f"~alter~{spec.table_name}"
    create = next(
        s for s in create_table_statements(backend, replace(spec, table_name=temporary)) if s.startswith("CREATE TABLE")
    )
    final = create_table_statements(backend, spec)
    indexes = [s for s in final if s.startswith("CREATE") and not s.startswith("CREATE TABLE")]
    existing = plan.record.heading.all_attributes
    q = backend.quote
    copy = [
        (a.name, f"t.{q(source.get(a.name, a.name))}")
        for a in spec.attributes
        if source.get(a.name, a.name) in existing
    ]
    copy += [(name, sql) for name, sql in (fills or {}).items()]
    return Rebuild(temporary, create, copy, indexes)


def _run(connection, plan, spec, statements, after, table):
    backend = connection.backend
    before, finally_ = backend.alter_outside_transaction()
    for statement in before:
        connection.execute(statement)
    try:
        with connection.transaction:
            for statement in statements:
                connection.execute(statement)
            violations = backend.foreign_key_violations(connection, spec.schema, spec.table_name)
            if violations:
                raise AlterError(
                    f"Table {plan.node}: the change would leave {len(violations)} rows breaking a foreign key "
                    f"(e.g. {violations[:3]}). Nothing was changed."
                )
            for statement in after:
                connection.execute(statement)
            rewrite_record(connection, spec, table.tier, table.class_name, table.definition)
    except AlterError:
        raise
    except DataJointError as error:
        raise AlterError(
            f"Table {plan.node}: the database refused the change ({error}). Nothing was changed on PostgreSQL and "
            "SQLite; MySQL applies a change as one statement, which it refused as a whole."
        ) from error
    finally:
        for statement in finally_:
            connection.execute(statement)
        connection.catalog_cache_clear()
