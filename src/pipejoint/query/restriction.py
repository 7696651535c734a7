"""Restrictions from user input: every form DataJoint accepts, reduced to a few condition nodes.

Values are checked and normalized here, when the restriction is built, so a bad value is
reported where it was written, naming the table and the attribute. They are encoded for the
driver later, by the compiler, for the connection the query runs on.
"""

from __future__ import annotations

import collections.abc
from typing import TYPE_CHECKING

from sqlglot import exp

from ..core.types import INTEGER_RANGES
from ..core.values import normalize
from ..errors import DataJointError, InvalidValueError
from .fragments import parse_fragment
from .nodes import Always, Combination, Condition, Equals, Exists, KeySet, Negation, SemiJoin, SQLFragment
from .relation import Relation, check_lineage, query_name, settings_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, TypeAlias

    import numpy as np
    import pandas as pd

    from ..core.hints import OrderBy

# (one string: type checkers do not join implicitly concatenated strings in a type)
Restriction: TypeAlias = "Relation | type[Relation] | Mapping[str, Any] | str | bool | Not | AndList | np.ndarray | np.void | pd.DataFrame | Iterable[Restriction]"
"""What `&` and `-` accept: a query expression or table class (Relation is their base), a dict of
attribute values, a SQL condition string, True/False, dj.Not, dj.AndList (all must hold), numpy
records, a DataFrame, or a list of any of these (any may hold). `restrict()` and `&` also take dj.Top."""


class AndList(list):
    """A list of conditions that must all hold: ``dj.AndList([c1, c2])``."""


class Not:
    """The negation of a condition: ``T & dj.Not(cond)`` is ``T - cond``."""

    def __init__(self, restriction: Restriction) -> None:
        self.restriction = restriction


class Top:
    """The first `limit` rows in `order_by` order, after skipping `offset`: ``T & dj.Top(5, 'score DESC')``."""

    def __init__(self, limit: int | None = 1, order_by: OrderBy | None = "KEY", offset: int = 0) -> None:
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise TypeError("Top limit must be a non-negative integer or None")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise TypeError("The offset argument must be a non-negative integer")
        if isinstance(order_by, str):
            order_by = [order_by]
        if order_by is not None and not all(isinstance(o, str) for o in order_by):
            raise TypeError("Top order_by attributes must all be strings")
        self.limit = limit
        self.order_by = list(order_by) if order_by is not None else None
        self.offset = offset

    def __repr__(self) -> str:
        return f"Top(limit={self.limit}, order_by={self.order_by}, offset={self.offset})"


def make_condition(restriction, query, semantic_check=True):
    """Turn any restriction form into a Condition over `query`'s heading. None means 'no-op'."""
    heading = query.heading
    if type(restriction) is dict:  # the (T & key) hot path
        return dict_condition(restriction, heading, query)
    if isinstance(restriction, Condition):
        return restriction
    if isinstance(restriction, bool):
        return None if restriction else Always(False)
    if restriction is None:
        raise DataJointError("Invalid restriction None: use True for no restriction or [] for none of the rows.")
    if isinstance(restriction, str):
        return fragment_condition(restriction, query)
    if isinstance(restriction, Not):
        inner = make_condition(restriction.restriction, query, semantic_check)
        return Always(False) if inner is None else Negation(inner)
    if isinstance(restriction, AndList):
        parts = [make_condition(r, query, semantic_check) for r in restriction]
        parts = [p for p in parts if p is not None]
        return Combination("and", parts) if parts else None
    if isinstance(restriction, type) and issubclass(restriction, Relation):
        restriction = restriction()
    if isinstance(restriction, Relation):
        if restriction._is_universe:
            return None
        if restriction._connection is not query._connection:
            raise DataJointError(
                f"Cannot restrict {query_name(query)} by a query on different connections (two dj.Instance or "
                "dj.Connection objects): a query runs on one connection. Fetch the keys first and restrict by them."
            )
        return semijoin_condition(query, restriction, semantic_check)
    if isinstance(restriction, collections.abc.Mapping):
        return dict_condition(restriction, heading, query)
    if _is_numpy_record(restriction):
        return dict_condition({n: restriction[n] for n in restriction.dtype.names}, heading, query)
    if _is_dataframe(restriction):
        return rows_condition(
            restriction.reset_index().to_dict("records")
            if _has_named_index(restriction)
            else restriction.to_dict("records"),
            query,
            semantic_check,
        )
    if _is_record_array(restriction):
        names = restriction.dtype.names
        return rows_condition([{n: r[n] for n in names} for r in restriction], query, semantic_check)
    if isinstance(restriction, Top):
        raise DataJointError("dj.Top cannot be combined inside a list or AndList: apply it with & on its own.")
    if isinstance(restriction, collections.abc.Iterable):
        return rows_condition(list(restriction), query, semantic_check)
    raise DataJointError(f"Invalid restriction of type {type(restriction).__name__}: {restriction!r}")


def fragment_condition(text, query):
    """A restriction string: parsed, its attribute names checked, aggregates refused. The condition
    depends only on the text, the dialect and the heading, so it is kept with the heading: a query
    rebuilt in a loop (`T & "weight > 20"`) does not parse its strings again."""
    dialect = settings_of(query)["query.dialect"]
    known = query.heading.cache.get("fragments")
    if known is None:
        known = query.heading.cache["fragments"] = {}
    condition = known.get((dialect, text))
    if condition is None:
        condition = _parsed_condition(text, query, dialect)
        if len(known) < _FRAGMENTS_KEPT:  # strings with values spliced in must not grow it without end
            known[(dialect, text)] = condition
    return condition


_FRAGMENTS_KEPT = 256  # parsed restriction strings kept per heading


def _parsed_condition(text, query, dialect):
    fragment = parse_fragment(text, query.heading, dialect, query_name(query))
    if any(isinstance(node, exp.AggFunc) for node in fragment.walk()):
        raise DataJointError(
            f"The restriction {text!r} on {query_name(query)} uses an aggregate function: compute it "
            "with .aggr() first, then restrict the result, e.g. A.aggr(B, n='COUNT(*)') & 'n > 2'."
        )
    used = sorted({c.name for c in fragment.find_all(exp.Column) if not c.table})
    return SQLFragment(text, fragment, dialect, used, fragment.find(exp.Select) is not None)


def dict_condition(mapping, heading, query):
    """AND of attr = value for the keys that are attributes (others are ignored, as in DataJoint)."""
    binders = heading.cache.get("binders") or _binders(heading)
    if len(mapping) == 1:  # (T & {'id': k}): the most common restriction, without the loop
        [(name, value)] = mapping.items()
        binder = binders.get(name)
        if binder is not None and binder is not _NOT_COMPARABLE:
            bounds = binder[1]
            if type(value) is int and bounds is not None and bounds[0] <= value <= bounds[1]:
                pass  # an integer key in range: _check's own shortcut, without the call
            elif value is not None:
                value = _check(value, binder, query)
            return Equals([(name, value)], heading)
    items = []
    for name, value in mapping.items():
        binder = binders.get(name)
        if binder is None:
            continue  # not an attribute: ignored, as DataJoint does
        if binder is _NOT_COMPARABLE:
            raise _blob_error(heading[name])
        items.append((name, None if value is None else _check(value, binder, query)))
    if not items:
        return None
    if len(items) > 1:
        items.sort(key=_first)  # one order of the attributes, one cached SQL
    return Equals(items, heading)


def rows_condition(rows, query, semantic_check):
    """OR of conditions; lists of dicts with the same attributes become one IN (...) test."""
    if not rows:
        return Always(False)
    if all(isinstance(r, collections.abc.Mapping) for r in rows):
        heading = query.heading
        key_sets = {tuple(sorted(n for n in r if n in heading.attributes)) for r in rows}
        if len(key_sets) == 1:
            names = next(iter(key_sets))
            if not names:
                return None
            if all(all(r[n] is not None for n in names) for r in rows) and len(rows) > 1:
                all_binders = heading.cache.get("binders") or _binders(heading)
                binders = [all_binders[n] for n in names]
                for n, b in zip(names, binders):
                    if b is _NOT_COMPARABLE:
                        raise _blob_error(heading[n])
                unique_rows = list(
                    dict.fromkeys(tuple(_check(r[n], b, query) for n, b in zip(names, binders)) for r in rows)
                )
                return KeySet(list(names), unique_rows, heading)
    parts = []
    for r in rows:
        condition = make_condition(r, query, semantic_check)
        if condition is None:
            return None  # one element matches everything
        parts.append(condition)
    return Combination("or", parts)


def semijoin_condition(query, other, semantic_check):
    shared = [n for n in query.heading.names if n in other.heading.names]
    if semantic_check:
        check_lineage(query, other, shared)
    if not shared:
        return Exists(other)
    nullable = any(query.heading[n].nullable or other.heading[n].nullable for n in shared)
    return SemiJoin(shared, other, nullable)


_NOT_COMPARABLE = object()


def _binders(heading):
    """{name: (attribute, integer range for the fast path or None)} for the visible attributes of
    a heading, blobs marked: computed once per heading (checking does not depend on the backend)."""
    found = heading.cache["binders"] = {}
    for name, attr in heading.attributes.items():
        if attr.is_blob or attr.codec:
            found[name] = _NOT_COMPARABLE
            continue
        found[name] = (attr, INTEGER_RANGES.get(attr.attr_type.core))
    return found


def _blob_error(attr):
    return DataJointError(
        f"Cannot restrict by blob attribute `{attr.name}` ({attr.type}): its stored form is not comparable in SQL. "
        "Restrict by key or other plain attributes instead."
    )


def _first(item):
    return item[0]


def _check(value, binder, query):
    """A restriction value checked and normalized for its attribute (not yet encoded for a driver)."""
    attr, bounds = binder
    if type(value) is int and bounds is not None and bounds[0] <= value <= bounds[1]:
        return value  # the common key value: no normalizer
    if type(value) is not str:
        value = _plain(value)
    try:
        return normalize(value, attr)
    except (ValueError, OverflowError) as error:
        raise InvalidValueError(
            f"Cannot restrict {query_name(query)} by {attr.name}={value!r}: {error}. Give `{attr.name}` a value of "
            f"type {attr.type}."
        ) from None


def _plain(value):
    """numpy scalars -> Python values, so drivers and shapes see plain types."""
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return value.item()
    return value


def _is_numpy_record(value):
    return type(value).__name__ in ("void", "record") and type(value).__module__ == "numpy"


def _is_record_array(value):
    return type(value).__module__ == "numpy" and getattr(getattr(value, "dtype", None), "names", None)


def _is_dataframe(value):
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def _has_named_index(frame):
    return any(name is not None for name in frame.index.names)
