"""Primary-key migrations: a table's key gains an attribute or changes a key attribute's type, and
every table that depends on it follows (its foreign key gains the column, filled from the parent,
or retypes it; where that foreign key is in the child's key, the child's key changes too, and so
on down).

What is supported: adding a key attribute (a new one with a default, or a secondary attribute
moved into the key) and retyping key attributes. Dropping key attributes is refused (the rows it
would merge need a decision). Pre-checks refuse, changing nothing, what the rows cannot take
(duplicates of the new key, NULLs, values the new type cannot hold, a new attribute without a
default on a table with rows).

Applied as: SQLite rebuilds each table (parents first) in one transaction, foreign keys checked
at the end; PostgreSQL and MySQL drop the dependents' foreign keys, change columns and keys
(children's new columns are added nullable, filled from the parent, then made required), and add
the foreign keys again: one transaction on PostgreSQL, statement by statement on MySQL (its DDL
commits by itself; everything that could fail was checked first).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..backends.alter import AddColumn, AddForeignKey, AddIndex, ChangeColumn, DropForeignKey, SetPrimaryKey
from ..catalog.records import read_record
from ..core.naming import node_name, split_node
from ..definition.ddl import _foreign_key_indexes, _index_name, _type_schema, column_definition, create_index_statement
from ..definition.parser import ForeignKeySpec, TableSpec
from ..errors import AlterError, MissingDefaultError, NarrowingError
from ..storage.codecs import stored_type
from .alter import _comments, _rebuild, parse_for
from .alter_checks import _check_unique, _narrowing_condition, _rows, _Table
from .alter_plan import _signature, plan_alter


@dataclass
class Entry:
    """One table the key change reaches: its record, its new spec, and how its new columns are
    filled (column -> SQL of the value, from the parent; absent: the default)."""

    record: object
    spec: object
    fills: dict = field(default_factory=dict)
    added: list = field(default_factory=list)  # new column names
    moved: list = field(default_factory=list)  # secondary attributes moved into the key
    retyped: list = field(default_factory=list)  # column names whose type changes
    changed_parents: list = field(default_factory=list)  # (old fk, new fk) to tables whose key changes

    @property
    def key_changed(self):
        old = [n for n, a in self.record.heading.all_attributes.items() if a.in_key]
        return old != self.spec.primary_key or any(n in old for n in self.retyped)


def _spec_of(record):
    foreign_keys = [replace(fk, attr_map=dict(fk.attr_map)) for fk in record.foreign_keys]
    return TableSpec(
        record.schema,
        record.table_name,
        record.heading.table_comment,
        list(record.heading.all_attributes.values()),
        foreign_keys,
        list(record.indexes),
        {c for fk in foreign_keys for c in fk.attr_map},
    )


def key_entries(table, context):
    """[Entry] for the table and every table its key change reaches, parents first."""
    connection = table._connection
    backend = connection.backend
    record = table._record
    spec = parse_for(table, context)
    spec.attributes += [
        a for a in record.heading.all_attributes.values() if a.is_hidden and a.name not in spec.primary_key
    ]
    plan = plan_alter(spec, record, backend)
    other = (
        plan.added
        or plan.dropped
        or plan.changed
        or plan.foreign_keys_added
        or plan.foreign_keys_dropped
        or plan.indexes_added
        or plan.indexes_dropped
        or plan.comment
    )
    if other:
        raise AlterError(
            f"Table {plan.node}: a key migration changes the primary key only; the definition also changes "
            f"{'; '.join(s for s in plan.sentences() if s not in plan.key)}. Apply those with alter() before or after."
        )
    old = dict(record.heading.all_attributes.items())
    old_key = [n for n, a in old.items() if a.in_key]
    dropped = [n for n in old_key if n not in spec.primary_key]
    if dropped:
        raise AlterError(
            f"Table {plan.node}: dropping key attribute(s) {', '.join(dropped)} is not supported by a migration "
            "(rows that would share a key need a decision). Nothing was changed."
        )
    if any(a.autoincrement for a in spec.attributes):
        raise AlterError(f"Table {plan.node}: an auto_increment key cannot change. Nothing was changed.")
    root = Entry(record, spec)
    by_name = {a.name: a for a in spec.attributes}
    root.added = [n for n in spec.primary_key if n not in old]
    root.moved = [n for n in spec.primary_key if n in old and not old[n].in_key]
    root.retyped = [
        n for n in old_key if _signature(old[n].attr_type, backend) != _signature(by_name[n].attr_type, backend)
    ]
    entries = {node_name(record.schema, record.table_name): root}
    queue = [node_name(record.schema, record.table_name)]
    graph = connection.dependencies
    graph.load(force=False)
    while queue:
        parent_node = queue.pop(0)
        parent = entries[parent_node]
        for child_node in graph.children(parent_node):
            if child_node in entries:
                continue
            schema, table_name = split_node(child_node)
            child = Entry(read_record(connection, schema, table_name), None)
            child.spec = _spec_of(child.record)
            _follow(backend, child, parent, entries)
            entries[child_node] = child
            if child.key_changed:
                queue.append(child_node)
    return list(entries.values())


def _follow(backend, child, parent, entries):
    """Map the child's foreign keys to `parent` onto the parent's new key."""
    p_schema, p_table = parent.spec.schema, parent.spec.table_name
    new_parent = {a.name: a for a in parent.spec.attributes}
    attributes = list(child.spec.attributes)
    names = {a.name for a in attributes}
    for index, fk in enumerate(child.spec.foreign_keys):
        if (fk.parent_schema, fk.parent_table) != (p_schema, p_table):
            continue
        inverse = {p: c for c, p in fk.attr_map.items()}
        new_map = {}
        last = max(i for i, a in enumerate(attributes) if a.name in fk.attr_map)
        for parent_name in parent.spec.primary_key:
            child_name = inverse.get(parent_name, parent_name)
            new_map[child_name] = parent_name
            source = new_parent[parent_name]
            attr_type = replace(source.attr_type, autoincrement=False)
            if child_name in names:
                position = next(i for i, a in enumerate(attributes) if a.name == child_name)
                if _signature(attributes[position].attr_type, backend) != _signature(attr_type, backend):
                    attributes[position] = replace(attributes[position], attr_type=attr_type)
                    child.retyped.append(child_name)
                continue
            attr = replace(
                source, name=child_name, attr_type=attr_type, in_key=fk.primary, nullable=fk.nullable, default=None
            )
            last += 1
            attributes.insert(last, attr)
            names.add(child_name)
            child.added.append(child_name)
            child.spec.copied.add(child_name)
            child.fills[child_name] = (fk, parent_name)
        new_fk = replace(fk, attr_map=new_map)
        child.changed_parents.append((fk, new_fk))
        child.spec.foreign_keys[index] = new_fk
    key = [a for a in attributes if a.in_key]
    child.spec.attributes = key + [a for a in attributes if not a.in_key]


def check_entries(connection, entries):
    """Refuse what the root table's rows cannot take (children follow their parents' values)."""
    root = entries[0]
    table = _Table(connection, root.record)
    old = root.record.heading.all_attributes
    new = {a.name: a for a in root.spec.attributes}
    for name in root.moved:
        count, keys = table.blocking(f"t.{table.q(name)} IS NULL")
        if count:
            raise NarrowingError(
                f"Table {table.node}: attribute `{name}` cannot join the primary key: {_rows(count, keys, 'hold')} "
                "no value (NULL) in it. Fill those rows first (update1). Nothing was changed."
            )
    for name in root.added:
        if new[name].default is None and table.count():
            count, keys = table.blocking("1 = 1")
            raise MissingDefaultError(
                f"Table {table.node}: cannot add the key attribute `{name}` without a default: the table holds "
                f"{_rows(count, keys)}. Give it a default (`{name} = <value> : {new[name].type}`). Nothing was changed."
            )
    for name in root.retyped:
        condition = _narrowing_condition(table, old[name], new[name])
        if condition:
            count, keys = table.blocking(f"({condition})")
            if count:
                raise NarrowingError(
                    f"Table {table.node}: key attribute `{name}` cannot change from {old[name].type} to "
                    f"{new[name].type}: {_rows(count, keys, 'hold')} values it cannot store. Nothing was changed."
                )
    if root.moved:
        from ..definition.parser import IndexSpec

        _check_unique(table, IndexSpec(tuple(root.spec.primary_key), True), {}, {})


def _fill_sql(backend, entry, child_name, for_rebuild):
    fk, parent_name = entry.fills[child_name]
    q = backend.quote
    parent = backend.full_table_name(fk.parent_schema, fk.parent_table)
    outer = "t" if for_rebuild else backend.full_table_name(entry.spec.schema, entry.spec.table_name)
    match = " AND ".join(f"p.{q(p)} = {outer}.{q(c)}" for c, p in fk.attr_map.items() if c not in entry.fills)
    return f"(SELECT p.{q(parent_name)} FROM {parent} AS p WHERE {match})"


def key_statements(connection, entries):
    """(statements in order, metadata statements after them) for every entry."""
    backend = connection.backend
    after = []
    for entry in entries:
        comments = _comments(connection, entry.spec)
        after += backend.after_create(
            entry.spec.schema,
            entry.spec.table_name,
            [(a.name, comments[a.name]) for a in entry.spec.attributes],
            entry.spec.comment,
        )
    if backend.rebuilds_to_alter:
        statements = []
        for entry in entries:
            plan = plan_alter(entry.spec, entry.record, backend)
            fills = {name: _fill_sql(backend, entry, name, True) for name in entry.fills}
            rebuild = _rebuild(backend, plan, entry.spec, {}, fills)
            statements += backend.alter_statements(connection, entry.spec.schema, entry.spec.table_name, [], rebuild)
        return statements, after
    drops, main, adds = [], [], []
    for entry in entries:
        schema, name = entry.spec.schema, entry.spec.table_name
        if entry.changed_parents:
            changes = [DropForeignKey(tuple(old.attr_map)) for old, _ in entry.changed_parents]
            drops += backend.alter_statements(connection, schema, name, changes, None)
    for entry in entries:
        schema, name = entry.spec.schema, entry.spec.table_name
        spec, comments = entry.spec, _comments(connection, entry.spec)
        by_name = {a.name: a for a in spec.attributes}
        old = entry.record.heading.all_attributes

        def definition(attr, spec=spec, comments=comments):
            node = column_definition(backend, attr, spec.primary_key, comments[attr.name], _type_schema(spec, attr))
            return backend.render(node)

        for attr in [by_name[n] for n in entry.added + entry.retyped]:
            for statement in backend.type_statements(stored_type(attr.attr_type), _type_schema(spec, attr)):
                if statement not in main:
                    main.append(statement)
        first, second = [], []
        for n in entry.moved:  # its column stays; its comment follows the definition
            change = _change(backend, spec, old_attr=old[n], attr=by_name[n], comments=comments)
            change.comment_changed = True
            first.append(change)
        for n in entry.added:
            attr = by_name[n]
            if n in entry.fills:
                first.append(AddColumn(n, definition(replace(attr, nullable=True, default=None))))
                second.append(
                    _change(
                        backend,
                        spec,
                        old_attr=replace(attr, nullable=True),
                        attr=attr,
                        comments=comments,
                        nullable=True,
                    )
                )
            else:
                first.append(AddColumn(n, definition(attr)))
        for n in entry.retyped:
            first.append(_change(backend, spec, old_attr=old[n], attr=by_name[n], comments=comments, type_=True))
        if [n for n, a in old.items() if a.in_key] != spec.primary_key:
            second.append(SetPrimaryKey(tuple(spec.primary_key)))
        main += backend.alter_statements(connection, schema, name, first, None) if first else []
        for n in entry.fills:
            column = backend.quote(n)
            main.append(
                f"UPDATE {backend.full_table_name(schema, name)} SET {column} = {_fill_sql(backend, entry, n, False)}"
            )
        main += backend.alter_statements(connection, schema, name, second, None) if second else []
        if entry.changed_parents:
            changes = []
            fk_indexes = {tuple(i.attributes) for i in _foreign_key_indexes(backend, spec)}
            for _, fk in entry.changed_parents:
                if tuple(fk.attr_map) in fk_indexes:
                    index_name = _index_name(schema, name, tuple(fk.attr_map), False)
                    from ..definition.parser import IndexSpec

                    index = IndexSpec(tuple(fk.attr_map), False)
                    changes.append(
                        AddIndex(
                            index_name,
                            index.attributes,
                            False,
                            create_index_statement(backend, spec, index_name, index),
                        )
                    )
                parent = backend.full_table_name(fk.parent_schema, fk.parent_table)
                changes.append(AddForeignKey(tuple(fk.attr_map), parent, tuple(fk.attr_map.values())))
            adds += backend.alter_statements(connection, schema, name, changes, None)
    return drops + main + adds, after


def _change(backend, spec, old_attr, attr, comments, nullable=False, type_=False):
    from sqlglot import exp

    t = stored_type(attr.attr_type)
    default = backend.default_value(attr)
    node = column_definition(backend, attr, spec.primary_key, comments[attr.name], _type_schema(spec, attr))
    return ChangeColumn(
        old_name=attr.name,
        name=attr.name,
        definition=backend.render(node),
        type_sql=backend.column_type(t, type_schema=_type_schema(spec, attr)),
        old_type_sql=backend.column_type(stored_type(old_attr.attr_type), type_schema=_type_schema(spec, attr)),
        nullable=attr.nullable,
        default_sql=None if default is None else backend.render(default),
        checks=[backend.render(c) for c in backend.checks(exp.column(attr.name, quoted=True), t)],
        comment=comments[attr.name],
        type_changed=type_,
        nullable_changed=nullable,
        default_changed=type_ or nullable,
    )


__all__ = ["Entry", "ForeignKeySpec", "check_entries", "key_entries", "key_statements"]
