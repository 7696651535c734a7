"""What differs between a class's definition and its table: the plan alter() applies and the drift
a binding reports.

A pure function of the parsed definition (a TableSpec) and the table's record (the heading the
catalog already loaded): no queries. Spellings that make the same table are the same: `int` and
`int32`, `double` and `float64` (they make the same column on the backend), defaults written
`5`, `5.0` or `"5"`, comments that differ in whitespace only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from ..backends.base import unquote
from ..errors import DataJointError
from .declare import _describe_reference, _type_signature

_RENAME_MARKER = re.compile(r"^\{\s*(?P<name>[a-z][a-z0-9_]*)\s*\}\s*")


@dataclass
class AttributeChange:
    old: object  # core.heading.Attribute in the table
    new: object  # core.heading.Attribute in the definition
    type: bool = False
    nullable: bool = False
    default: bool = False
    comment: bool = False

    @property
    def renamed(self):
        return self.old.name != self.new.name


@dataclass
class AlterPlan:
    """The differences, grouped by what applies them. ``key`` holds primary-key differences, which
    alter() does not change (a migration does)."""

    node: str
    spec: object  # the definition's TableSpec
    record: object  # the table's TableRecord
    added: list = field(default_factory=list)
    dropped: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # AttributeChange
    foreign_keys_added: list = field(default_factory=list)
    foreign_keys_dropped: list = field(default_factory=list)
    indexes_added: list = field(default_factory=list)
    indexes_dropped: list = field(default_factory=list)
    comment: tuple | None = None  # (in the table, in the definition)
    key: list = field(default_factory=list)

    def __bool__(self):
        return bool(
            self.added
            or self.dropped
            or self.changed
            or self.foreign_keys_added
            or self.foreign_keys_dropped
            or self.indexes_added
            or self.indexes_dropped
            or self.comment
            or self.key
        )

    def sentences(self):
        """Each difference as a sentence, definition first, then table."""
        found = list(self.key)
        for attr in self.added:
            found.append(f"attribute `{attr.name}` ({attr.type}) is in the definition but not in the table")
        for attr in self.dropped:
            found.append(f"attribute `{attr.name}` ({attr.type}) is in the table but not in the definition")
        for change in self.changed:
            old, new = change.old, change.new
            if change.renamed:
                found.append(f"attribute `{old.name}` of the table is renamed `{new.name}` in the definition")
            if change.type:
                found.append(f"attribute `{new.name}` is {new.type} in the definition but {old.type} in the table")
            if change.nullable:
                found.append(
                    f"attribute `{new.name}` is {_nullable(new)} in the definition but {_nullable(old)} in the table"
                )
            if change.default:
                found.append(
                    f"attribute `{new.name}` {_default_text(new)} in the definition but {_default_text(old)} "
                    "in the table"
                )
            if change.comment:
                found.append(
                    f'attribute `{new.name}` has the comment "{_comment_key(new.comment)}" in the definition '
                    f'but "{old.comment}" in the table'
                )
        for fk in self.foreign_keys_added:
            found.append(
                f"the foreign key {_describe_reference(_fk_key(fk))} is in the definition but not in the table"
            )
        for fk in self.foreign_keys_dropped:
            found.append(
                f"the foreign key {_describe_reference(_fk_key(fk))} is in the table but not in the definition"
            )
        for index in self.indexes_added:
            found.append(f"{_index_text(index)} is in the definition but not in the table")
        for index in self.indexes_dropped:
            found.append(f"{_index_text(index)} is in the table but not in the definition")
        if self.comment:
            found.append(
                f'the table comment is "{self.comment[1]}" in the definition but "{self.comment[0]}" in the table'
            )
        return found


def _nullable(attr):
    return "nullable" if attr.nullable else "not nullable"


def _default_text(attr):
    if attr.nullable or attr.default is None:
        return "has no default" if not attr.nullable else "defaults to null"
    return f"defaults to {attr.default}"


def _index_text(index):
    return f"{'unique ' if index.unique else ''}index ({', '.join(index.attributes)})"


def _fk_key(fk):
    return fk.parent_schema, fk.parent_table, tuple(sorted(fk.attr_map.items()))


def _comment_key(text):
    """A comment as compared: whitespace collapsed, a leading rename marker `{old_name}` left out."""
    return " ".join(_RENAME_MARKER.sub("", text or "").split())


def rename_marker(attr):
    """The old name a `{old_name}` comment marks (DataJoint's way of spelling a rename), or None."""
    match = _RENAME_MARKER.match(attr.comment or "")
    return match.group("name") if match else None


def _default_key(attr):
    if attr.nullable or attr.default is None:
        return None
    value = unquote(attr.default.strip())
    if value.upper().startswith("CURRENT_TIMESTAMP"):
        return "CURRENT_TIMESTAMP"  # its precision is the column's
    t = attr.attr_type
    if t.core == "bool":
        return {"1": "true", "0": "false"}.get(value.lower(), value.lower())
    if t.is_numeric:
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def plan_alter(spec, record, backend, rename=None):
    """The AlterPlan that takes the table of `record` to the definition `spec`.

    `rename` maps new attribute names to old ones; a definition may also mark a rename by starting
    the new attribute's comment with `{old_name}`, as DataJoint does.
    """
    plan = AlterPlan(f"`{record.schema}`.`{record.table_name}`", spec, record)
    declared = {a.name: a for a in spec.attributes if not a.is_hidden}
    existing = {n: a for n, a in record.heading.all_attributes.items() if not a.is_hidden}
    renames = dict(rename or {})
    for name, attr in declared.items():
        old = rename_marker(attr)
        if old is not None and old in existing and old not in declared and name not in existing and name not in renames:
            renames[name] = old
    for new, old in renames.items():
        if new not in declared:
            raise DataJointError(
                f"Table {plan.node}: rename to `{new}`, but the definition has no attribute `{new}`. "
                "Name the attribute in the definition as it should be called."
            )
        if old not in existing:
            raise DataJointError(
                f"Table {plan.node}: rename of `{old}` to `{new}`, but the table has no attribute `{old}`. "
                f"Attributes of the table: {', '.join(existing)}."
            )
        if new in existing:
            raise DataJointError(
                f"Table {plan.node}: cannot rename `{old}` to `{new}`: the table has an attribute `{new}` already."
            )
    if len(set(renames.values())) != len(renames):
        raise DataJointError(f"Table {plan.node}: an attribute is renamed twice ({renames}); rename each once.")
    source = dict(renames)
    kept = set()
    for name, attr in declared.items():
        old_name = source.get(name, name)
        old = existing.get(old_name)
        if old is None:
            if attr.in_key:
                continue  # a key difference, below
            plan.added.append(attr)
            continue
        kept.add(old_name)
        change = _compare(old, attr, backend, compare_comment=name not in spec.copied)
        if old.in_key != attr.in_key:
            continue  # a key difference, below
        if change is not None:
            if attr.in_key and (change.type or change.nullable or change.renamed):
                plan.key.append(f"primary-key attribute `{old_name}` changes its {' and '.join(_what(change))}")
                continue
            plan.changed.append(change)
    for name, attr in existing.items():
        if name not in kept and not attr.in_key:
            plan.dropped.append(attr)
    key = [a.name for a in spec.attributes if a.in_key and not a.is_hidden]
    table_key = [n for n in record.heading.primary_key if n in existing]
    if set(key) != set(table_key):
        plan.key.insert(
            0, f"the primary key is ({', '.join(key)}) in the definition but ({', '.join(table_key)}) in the table"
        )
    mine = {_fk_key(fk): fk for fk in spec.foreign_keys}
    theirs = {_fk_key(fk): fk for fk in record.foreign_keys}
    plan.foreign_keys_added = [fk for k, fk in mine.items() if k not in theirs]
    plan.foreign_keys_dropped = [fk for k, fk in theirs.items() if k not in mine]
    fk_columns = {tuple(fk.attr_map) for fk in spec.foreign_keys} | {tuple(fk.attr_map) for fk in record.foreign_keys}

    def indexes(items):  # a plain index over a foreign key's columns is the foreign key's own
        return {
            (tuple(i.attributes), i.unique): i
            for i in items
            if i.unique or (tuple(i.attributes) not in fk_columns and set(i.attributes) != set(key))
        }

    new_ix, old_ix = indexes(spec.indexes), indexes(record.indexes)
    renamed_ix = {(tuple(renames.get(a, a) for a in k[0]), k[1]) for k in old_ix}
    plan.indexes_added = [i for k, i in new_ix.items() if k not in old_ix and k not in renamed_ix]
    plan.indexes_dropped = [
        i for k, i in old_ix.items() if k not in new_ix and (tuple(_inverse(renames, k[0])), k[1]) not in new_ix
    ]
    if _comment_key(spec.comment) != _comment_key(record.heading.table_comment):
        plan.comment = (record.heading.table_comment, spec.comment)
    return plan


def _inverse(renames, names):
    back = {old: new for new, old in renames.items()}
    return [back.get(n, n) for n in names]


def _what(change):
    return [w for w in ("type", "nullable", "default", "comment") if getattr(change, w)] + (
        ["name"] if change.renamed else []
    )


def _signature(attr_type, backend):
    """Types are the same when they make the same column and hold the same values: `int` and
    `int32` are, `int16` and `int32` are not (though SQLite stores both as INT)."""
    from ..storage.codecs import stored_type

    t = stored_type(attr_type)
    return _type_signature(attr_type, backend), t.storage_core, t.length, t.precision, t.scale, t.fsp, t.unsigned


def _compare(old, new, backend, compare_comment=True):
    change = AttributeChange(old, new)
    if backend.type_is_guess(old.attr_type):
        change.type = _type_signature(old.attr_type, backend) != _type_signature(new.attr_type, backend)
    else:
        change.type = _signature(old.attr_type, backend) != _signature(new.attr_type, backend)
    change.nullable = old.nullable != new.nullable
    change.default = not change.nullable and _default_key(old) != _default_key(new)
    change.comment = compare_comment and _comment_key(old.comment) != _comment_key(new.comment)
    if change.type or change.nullable or change.default or change.comment or change.renamed:
        return change
    return None


def without_rename_markers(spec, plan):
    """The spec with the `{old_name}` markers of applied renames taken out of the comments: they
    name the change, they are not the attribute's comment."""
    renamed = {c.new.name for c in plan.changed if c.renamed}
    attributes = [
        replace(a, comment=_RENAME_MARKER.sub("", a.comment or "").strip()) if a.name in renamed else a
        for a in spec.attributes
    ]
    return replace(spec, attributes=attributes)
