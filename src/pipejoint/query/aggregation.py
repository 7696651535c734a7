"""Aggregation (`A.aggr(B, n='COUNT(*)')`, `dj.U('a').aggr(...)`) and union (`A + B`).

Aggregation keeps every row of A (a LEFT JOIN, as the DataJoint book and spec describe), and
COUNT(*) counts the matching rows of B, so a row of A without matches reports 0, not 1.
"""

from __future__ import annotations

from dataclasses import replace

from ..core.heading import Heading
from ..errors import DataJointError
from .computed import computed_attribute
from .nodes import Join
from .relation import Relation, check_lineage, query_name


def _as_query(value, expression):
    if isinstance(value, type):
        value = value()
    if not isinstance(value, Relation) or value._is_universe:
        given = "nothing" if value is None else f"{type(value).__name__} {value!r}"
        raise DataJointError(
            f"aggr() on {_name(expression)} needs a grouping relation (a table or query) to aggregate over, "
            f"but got {given}: write A.aggr(B, n='COUNT(*)'), or dj.U().aggr(A, n='COUNT(*)') for the whole of A."
        )
    return value


def _name(expression):
    return repr(expression) if expression._is_universe else query_name(expression)


def aggregate(expression, group, attributes, named, exclude_nonmatching):
    """Per row of `expression`, aggregates of its matching rows in `group`."""
    group = _as_query(group, expression)
    left = expression._as_subquery() if expression._is_wrappable else expression
    missing = [k for k in left.heading.primary_key if k not in group.heading.names]
    if missing:
        raise DataJointError(
            "Aggregation requires the group expression to contain every primary-key attribute of the grouping "
            f"expression; missing: {', '.join(missing)}. Join the group with the tables that provide them."
        )
    shared = [n for n in left.heading.names if n in group.heading.names]
    check_lineage(left, group, shared)
    right = (
        group if (len(group._sources) == 1 and not group._where and not group._is_wrappable) else group._as_subquery()
    )
    offset = len(left._sources)
    right_columns = {n: c.shifted(offset) for n, c in right._columns.items()}
    pairs = tuple((left._columns[n], right_columns[n]) for n in shared)
    joins = left._joins + (Join(offset, "inner" if exclude_nonmatching else "left", pairs),)
    # names usable in the aggregate expressions: the group's attributes, then the left's
    combined = {**{n: left._columns[n] for n in left.heading.names}, **right_columns}
    combined_heading = Heading(
        list(left.heading.attributes.values())
        + [a for n, a in group.heading.attributes.items() if n not in left.heading.attributes]
    )
    keep = list(left.heading.primary_key)
    for item in attributes:
        if item is Ellipsis:
            keep += [n for n in left.heading.secondary_attributes if n not in keep]
        elif isinstance(item, str) and item in left.heading.attributes:
            if item not in keep:
                keep.append(item)
        else:
            raise DataJointError(f"aggr(): `{item}` is not an attribute of the grouping expression.")
    attrs = [left.heading[n] for n in keep]
    columns = {n: left._columns[n] for n in keep}
    # COUNT(*) counts a column of the group that is never NULL on a matched row: a joined attribute
    marker = shared[0] if shared else None
    for name, text in named.items():
        if name in columns:
            raise DataJointError(f"aggr(): attribute `{name}` already exists; choose another name.")
        column, attr = computed_attribute(name, text, combined_heading, combined, group, aggregate_allowed=True)
        if marker is not None and not exclude_nonmatching:
            column = replace(
                column, inputs=tuple(sorted({**dict(column.inputs), marker: combined[marker]}.items())), counts=marker
            )
        attrs.append(replace(attr, nullable=True))
        columns[name] = column
    return expression._derived(
        _heading=Heading(attrs),
        _sources=left._sources + right._sources,
        _joins=joins + tuple(j.shifted(offset) for j in right._joins),
        _columns=columns,
        _where=left._where,
        _group=tuple(left._columns[n] for n in keep),  # columns, so later renames cannot lose them
    )


def aggregate_universal(universe, group, named):
    """dj.U('a').aggr(A, n=...): one row per distinct value of a in A; dj.U().aggr(A): one row."""
    group = _as_query(group, universe)
    base = group._as_subquery() if group._is_wrappable else group
    names = list(universe.primary_key)
    missing = [n for n in names if n not in base.heading.names]
    if missing:
        raise DataJointError(f"dj.U attributes {missing} are not in the aggregated expression.")
    attrs = [replace(base.heading[n], in_key=True) for n in names]
    columns = {n: base._columns[n] for n in names}
    for name, text in named.items():
        column, attr = computed_attribute(name, text, base.heading, base._columns, base, aggregate_allowed=True)
        attrs.append(replace(attr, nullable=True))
        columns[name] = column
    return base._copy(_heading=Heading(attrs), _columns=columns, _group=tuple(base._columns[n] for n in names))


def union(left, right):
    """Rows in either operand; both must have the same primary key."""
    if isinstance(right, type):
        right = right()
    if not isinstance(right, Relation):
        raise DataJointError(f"Cannot form a union with {type(right).__name__}.")
    if left._connection is not right._connection:
        raise DataJointError("Cannot combine expressions from different connections.")
    if set(left.heading.primary_key) != set(right.heading.primary_key):
        raise DataJointError(
            "The operands of a union must have the same primary key: "
            f"({', '.join(left.heading.primary_key)}) vs ({', '.join(right.heading.primary_key)}). "
            "Project both onto the same key with .proj()."
        )
    # as in DataJoint, the key-only form matches keys by name; the outer form checks lineage in extend()
    left_secondary = left.heading.secondary_attributes
    right_secondary = right.heading.secondary_attributes
    if not left_secondary and not right_secondary:
        first, second = left, right.proj()
    elif set(left_secondary) & set(right_secondary):
        raise DataJointError(
            "The operands of a union must not share secondary attributes "
            f"({', '.join(sorted(set(left_secondary) & set(right_secondary)))}): rename or project them away."
        )
    else:
        # outer union: left rows extended by right's attributes, plus right rows not in left
        first = left.extend(right)
        missing_left = right - left.proj()
        nulls = dict.fromkeys(left_secondary, "NULL")
        second = missing_left.proj(*right_secondary, **nulls) if nulls else missing_left
        order = first.heading.names
        second = _reorder(second, order, first.heading)
    heading = Heading(
        [
            replace(a, nullable=a.nullable or not a.in_key) if not a.in_key else a
            for a in first.heading.attributes.values()
        ]
    )
    # ORDER BY / LIMIT cannot sit on a member of a UNION: such operands become subqueries
    first, second = (e._as_subquery() if e._top is not None else e for e in (first, second))
    return left._derived(_heading=heading, _sources=(), _columns={}, _union=(first, second))


def _reorder(expression, order, heading):
    result = expression._copy(_heading=Heading([heading[n] if n in heading else expression.heading[n] for n in order]))
    return result
