"""DataJoint's storage conventions, read from the facts of a database's catalog (Backend.introspect).

DataJoint 2.x keeps everything it knows about a table where the server keeps the table:

* the tier in the name's prefix (`#` lookup, `_` imported, `__` computed, `master__part`);
* the definition's comment in the table comment;
* core types and codecs in the column comment, ``:<declared type>:<user comment>`` (``:int16:``,
  ``:<blob@store>:raw trace``); native types (``int unsigned``, ``longblob``) carry no marker, and
  columns copied by a foreign key carry none either (their type is the parent's);
* lineage in the schema's ``~lineage`` table; hidden attributes (``_singleton``, ``_job_*``) start
  with ``_``; hidden tables (``~lineage``, ``~~jobs``, ``~log``) with ``~``.

DataJoint 0.14 uses the same prefixes and table comments; its own column-comment forms
(``:blob@store:``, ``:attach:``, ``:<adapter>:``) are read first (catalog/legacy.py). Its schemas
have no ``~lineage``: lineage comes from the foreign keys (a native key attribute is its own origin,
a foreign-key attribute takes its parent's, across schemas), and its references to
``~external_<store>`` tables are bookkeeping, not dependencies.

Tables that follow none of this (plain SQL) are Manual tables with a CamelCase class name. SQLite,
which has no comments, reports the strings its hidden ``~comments`` table keeps as the comments
(backends/sqlite/introspect.py), so this reads all three backends. This module is a pure function
of the facts: no database access. The column-comment rule itself is
core/conventions.py, shared with the DDL that writes it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from ..core.conventions import parse_column_comment
from ..core.heading import Attribute, Heading
from ..core.naming import PART_SEPARATOR, plain_class_name, table_name_to_class_name, tier_of
from ..core.types import parse_type
from ..definition.parser import ForeignKeySpec, IndexSpec
from ..errors import DeclarationError
from .legacy import attribute_type_014, is_014_schema
from .record import TableRecord

LINEAGE_TABLE = "~lineage"


# --- tables ------------------------------------------------------------------------------------


def _class_names(table_names):
    """{table name: (tier, class name)} for the user tables of a schema; class names are unique."""
    result, taken = {}, set()
    for name in sorted(table_names):
        tier = tier_of(name, table_names)
        if tier is None:
            tier, class_name = "manual", plain_class_name(name)
        else:
            class_name = table_name_to_class_name(name)
        if tier != "part":  # parts are named within their master
            base, n = class_name, 1
            while class_name in taken:
                n += 1
                class_name = f"{base}{n}"
            taken.add(class_name)
        result[name] = (tier, class_name)
    return result


def _build_order(tables):
    """Table names parents first (foreign keys within the schema; self-references ignored)."""
    remaining = dict(tables)
    order = []
    while remaining:
        ready = [
            name
            for name, facts in sorted(remaining.items())
            if not any(fk.parent_table in remaining and fk.parent_table != name for fk in facts.foreign_keys)
        ]
        if not ready:  # foreign keys in a cycle: take them in name order
            ready = sorted(remaining)
        for name in ready:
            order.append(name)
            del remaining[name]
    return order


def _attribute_type(schema, column, parent_attr, in_014_schema=False):
    """The attribute type and user comment of a column: 0.14's comment forms (catalog/legacy.py),
    the comment's marker, the parent's type for a column a foreign key copied, or the column's own
    (native) type."""
    attr_type, comment = _commented_type(schema, column.sql_type, column.comment, column.autoincrement, in_014_schema)
    if attr_type is not None:
        return attr_type, comment
    if parent_attr is not None:  # DataJoint copies the parent's comment on MySQL, nothing on PostgreSQL
        return replace(parent_attr.attr_type, autoincrement=False), comment or parent_attr.comment
    return _native_type(column.type, column.autoincrement), comment


# Every read of a schema parses each column again (after each declaration, for instance), and
# schemas repeat a few types: the parsed (immutable) types are kept.
@lru_cache(maxsize=4096)
def _commented_type(schema, sql_type, comment, autoincrement, in_014_schema=False):
    """(type, user comment) from the column comment, or (None, user comment) when it names none."""
    found = attribute_type_014(schema, sql_type, comment, in_014_schema)
    if found is not None:
        return found
    declared, user_comment = parse_column_comment(comment)
    if declared is not None:
        text = declared + (" auto_increment" if autoincrement and "auto_increment" not in declared else "")
        try:
            attr_type = parse_type(text)
            if attr_type.is_integer or not autoincrement:
                return attr_type, user_comment
            return parse_type(declared), user_comment
        except DeclarationError:
            user_comment = comment  # not a marker after all: the comment is the user's
    return None, user_comment


@lru_cache(maxsize=1024)
def _native_type(type_text, autoincrement):
    try:
        return parse_type(type_text + (" auto_increment" if autoincrement else ""))
    except DeclarationError:
        return parse_type(type_text)


def _default(column, attr_type):
    """The default as a definition writes it (None: no default)."""
    if column.nullable or column.default is None:
        return None
    value = column.default
    if column.default_is_expression:
        if value.lower().startswith("current_timestamp"):  # MariaDB reports current_timestamp()
            value = value.upper()
            return value[:-2] if value.endswith("()") else value
        return value
    if attr_type.core == "bool":  # MySQL and SQLite keep 1 and 0: the definition says true and false
        return {"1": "true", "0": "false"}.get(value, value.lower())
    if attr_type.is_numeric:
        return value
    return '"' + value.replace('"', '""') + '"'


def _attributes(schema, table, parents, lineage, in_014_schema=False):
    """The table's attributes, primary key first (in key order), then the others in column order."""
    attributes = []
    for column in table.columns:
        parent_attr = parents.get(column.name)
        attr_type, comment = _attribute_type(schema, column, parent_attr, in_014_schema)
        own = lineage.get((table.name, column.name))
        if own is None:
            own = parent_attr.lineage if parent_attr is not None and parent_attr.lineage else None
        attributes.append(
            Attribute(
                column.name,
                attr_type,
                in_key=column.key_position is not None,
                nullable=column.nullable,
                default=_default(column, attr_type),
                comment=comment,
                lineage=own or f"{schema}.{table.name}.{column.name}",
            )
        )
    by_name = {a.name: a for a in attributes}
    for fk in table.foreign_keys:  # a column referring to this same table: the referenced column's lineage
        if (fk.parent_schema, fk.parent_table) != (schema, table.name):
            continue
        for child, referenced in zip(fk.columns, fk.parent_columns):
            if (table.name, child) not in lineage and referenced in by_name and child in by_name:
                by_name[child] = replace(by_name[child], lineage=by_name[referenced].lineage)
    attributes = list(by_name.values())
    position = {c.name: c.key_position for c in table.columns}
    key = sorted((a for a in attributes if a.in_key), key=lambda a: position[a.name])
    return key + [a for a in attributes if not a.in_key]


def _foreign_keys(table, heading):
    """ForeignKeySpecs in the order of their first column, and the unique indexes among the indexes."""
    order = {c.name: i for i, c in enumerate(table.columns)}
    unique_sets = {frozenset(ix.columns) for ix in table.indexes if ix.unique}
    specs = []
    for fk in sorted(table.foreign_keys, key=lambda f: min(order.get(c, 0) for c in f.columns)):
        attrs = [heading.all_attributes[c] for c in fk.columns if c in heading.all_attributes]
        specs.append(
            ForeignKeySpec(
                fk.parent_schema,
                fk.parent_table,
                dict(zip(fk.columns, fk.parent_columns)),
                nullable=any(a.nullable for a in attrs),
                unique=frozenset(fk.columns) in unique_sets,
                primary=bool(attrs) and all(a.in_key for a in attrs),
            )
        )
    return specs


def _indexes(table, foreign_keys, primary_key, hidden_fk_columns=()):
    """Secondary indexes, without those that only support a foreign key (MySQL and DataJoint on
    PostgreSQL make one per foreign key, 0.14 one per reference to ``~external_<store>``) or
    repeat the primary key."""
    fk_columns = {tuple(fk.attr_map) for fk in foreign_keys} | set(hidden_fk_columns)
    indexes = []
    for index in table.indexes:
        if not index.unique and index.columns in fk_columns:
            continue
        if set(index.columns) == set(primary_key):
            continue
        indexes.append(IndexSpec(tuple(index.columns), index.unique))
    return indexes


def _reference(schema, table_name, fk, names):
    """How a definition names a foreign key's parent: `master`, `Parent`, `master.Part`, `other_schema.Parent`."""
    tier_class = names.get(fk.parent_table) if fk.parent_schema == schema else None
    if tier_class is None:
        class_name = table_name_to_class_name(fk.parent_table)
        if tier_of(fk.parent_table) is None:
            class_name = plain_class_name(fk.parent_table)
        reference = f"{fk.parent_schema}.{class_name}" if fk.parent_schema != schema else class_name
    else:
        tier, class_name = tier_class
        master = fk.parent_table.rsplit(PART_SEPARATOR, 1)[0] if tier == "part" else None
        own_master = table_name.rsplit(PART_SEPARATOR, 1)[0] if names.get(table_name, ("",))[0] == "part" else None
        if own_master is not None and fk.parent_table == own_master:
            reference = "master"
        elif master is not None and master == own_master:
            reference = f"master.{class_name}"
        elif master is not None:
            reference = f"{names[master][1]}.{class_name}"
        else:
            reference = class_name
    renames = {c: p for c, p in fk.attr_map.items() if c != p}
    if renames:
        reference += ".proj(" + ", ".join(f"{c}='{p}'" for c, p in renames.items()) + ")"
    options = [o for o, on in (("nullable", fk.nullable), ("unique", fk.unique)) if on]
    return f"-> {'[' + ', '.join(options) + '] ' if options else ''}{reference}"


def definition_text(heading, foreign_keys, indexes, reference):
    """A definition that declares the table again (what describe() shows); `reference(fk)` names a
    foreign key's parent as the definition writes it (`-> Parent`, `-> master`, ...)."""
    lines = [f"# {heading.table_comment}"] if heading.table_comment else []
    # a foreign key is written where its last attribute is, as DataJoint does: one that shares a primary-key
    # attribute (`mouse_id`) but adds secondary ones goes below the `---` with them
    position = {name: i for i, name in enumerate(heading.all_attributes)}
    by_first = {}
    in_fk = set()
    for fk in foreign_keys:
        by_first.setdefault(max(fk.attr_map, key=lambda n: position.get(n, -1)), []).append(fk)
        in_fk.update(fk.attr_map)
    separated = False
    for attr in heading.all_attributes.values():
        if attr.is_hidden:
            continue
        if not attr.in_key and not separated:
            lines.append("---")
            separated = True
        for fk in by_first.get(attr.name, []):
            lines.append(reference(fk))
        if attr.name not in in_fk:
            lines.append(attr.definition_line())
    if not separated:
        lines.append("---")
    unique_fks = {tuple(fk.attr_map) for fk in foreign_keys if fk.unique}
    for index in indexes:
        if not (index.unique and index.attributes in unique_fks):  # a unique foreign key's own index
            lines.append(f"{'unique ' if index.unique else ''}index ({', '.join(index.attributes)})")
    return "\n".join(lines) + "\n"


def records_from_facts(facts, lineage=None, outside=None, memo=None):
    """{table name: TableRecord} for the user tables of one schema's facts (hidden `~` tables left out).

    `lineage` maps (table, attribute) to the schema's ``~lineage`` rows; `outside(schema, table)`
    returns the TableRecord of a parent in another schema (or None), for the types and lineage that
    foreign keys copy. `memo` (a dict kept by the caller between reads) holds what each table's
    record was built from: a table whose facts are the same objects as last time (SQLite's
    introspection keeps unchanged tables' facts), with the same lineage, parents and class names,
    gets the attributes, foreign keys, indexes and definition built then (a new Heading).
    """
    lineage = lineage or {}
    memo = {} if memo is None else memo
    schema = facts.name
    in_014_schema = is_014_schema(facts.tables, facts.tables)  # its longblobs hold serialized blobs
    tables = {name: t for name, t in facts.tables.items() if not name.startswith("~")}
    names = _class_names(tables)
    records = {}
    for name in _build_order(tables):
        table = tables[name]
        parents = {}
        for fk in table.foreign_keys:
            if fk.parent_table.startswith("~"):
                continue
            parent = records.get(fk.parent_table) if fk.parent_schema == schema else None
            if parent is None and fk.parent_table != name and outside is not None:
                parent = outside(fk.parent_schema, fk.parent_table)
            if parent is None:
                continue
            parent_attributes = parent.heading.all_attributes
            for child, parent_column in zip(fk.columns, fk.parent_columns):
                if parent_column in parent_attributes:
                    parents.setdefault(child, parent_attributes[parent_column])
        # the class names a definition writes: its own, its parents' and their masters' (_reference)
        named = [name] + [fk.parent_table for fk in table.foreign_keys if fk.parent_schema == schema]
        naming = tuple(names.get(n) for t in named for n in (t, t.rsplit(PART_SEPARATOR, 1)[0]))
        source = (tuple(lineage.get((name, c.name)) for c in table.columns), naming, in_014_schema)
        known = memo.get((schema, name))
        if (
            known is not None
            and known[0] is table
            and known[1] == source
            and known[2].keys() == parents.keys()
            and all(known[2][k] is a for k, a in parents.items())
        ):
            parts = known[3]
        else:
            parts = _record_parts(schema, name, table, parents, lineage, names, in_014_schema)
            memo[(schema, name)] = (table, source, parents, parts)
        attributes, foreign_keys, indexes, definition = parts
        tier, class_name = names[name]
        records[name] = TableRecord(
            schema,
            name,
            tier,
            class_name,
            definition,
            Heading(attributes, table.comment),
            foreign_keys,
            indexes,
            origin="server",
        )
    for key in [k for k in memo if k[0] == schema and k[1] not in tables]:
        del memo[key]
    return records


def _record_parts(schema, name, table, parents, lineage, names, in_014_schema=False):
    """(attributes, foreign keys, indexes, definition) of one table."""
    # 0.14's references to its ~external_<store> tables are bookkeeping, not dependencies
    hidden_fk_columns = [tuple(fk.columns) for fk in table.foreign_keys if fk.parent_table.startswith("~")]
    table = replace(table, foreign_keys=[fk for fk in table.foreign_keys if not fk.parent_table.startswith("~")])
    heading = Heading(_attributes(schema, table, parents, lineage, in_014_schema), table.comment)
    foreign_keys = _foreign_keys(table, heading)
    indexes = _indexes(table, foreign_keys, heading.primary_key, hidden_fk_columns)
    definition = definition_text(heading, foreign_keys, indexes, lambda fk: _reference(schema, name, fk, names))
    return list(heading.all_attributes.values()), foreign_keys, indexes, definition


__all__ = ["LINEAGE_TABLE", "records_from_facts", "definition_text"]
