"""Query expressions: immutable, lazily compiled descriptions of a set of rows.

An expression is a relation (relation.py: FROM items, attribute columns, WHERE conditions,
grouping, order) with the DataJoint algebra on top. Operators add to the relation when the
result stays one flat SELECT and wrap the operand as a subquery only when the meaning requires
it (after a LIMIT, a GROUP BY, a DISTINCT, or a union). SQL is built only by compiler.py, when
the expression is fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, overload

from ..core.heading import Heading
from ..core.hints import class_level, class_level_property
from ..errors import DataJointError, UnknownAttributeError
from . import fetch as _fetch
from .aggregation import aggregate, aggregate_universal, union
from .compiler import compile_query
from .computed import computed_attribute
from .display import html_preview, text_preview
from .nodes import Column, Join, Ordering, UnknownKeys
from .relation import Relation, check_lineage
from .restriction import Not, Top, dict_condition, make_condition

logger = logging.getLogger("pipejoint")

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import EllipsisType
    from typing import NoReturn

    from typing_extensions import Self

    from ..backends.session import Session
    from ..core.hints import Key, OrderBy
    from .restriction import Restriction


class QueryExpression(Relation):
    """The query algebra over a relation. Subclasses: Table (base tables), U."""

    def _plain(self):
        return QueryExpression.__new__(QueryExpression)

    @class_level_property
    def connection(self) -> Session:
        return self._connection

    # --- restriction ---
    # A table restricted by a condition keeps its class, so `(Session & key).delete()` type-checks;
    # a dj.Top gives a plain query.
    @overload
    def restrict(self, restriction: Top, semantic_check: bool = True) -> QueryExpression: ...
    @overload
    def restrict(self, restriction: Restriction, semantic_check: bool = True) -> Self: ...
    def restrict(self, restriction: Restriction | Top, semantic_check: bool = True) -> QueryExpression:
        """Rows that satisfy `restriction` (any form DataJoint accepts).

        A string is SQL (MySQL syntax, made portable) and is used as written: never build one from
        untrusted text. Values in dicts, keys, record arrays and DataFrames are bound parameters.
        """
        flat = self._top is None and self._group is None and self._union is None
        if flat and type(restriction) is dict:  # the (T & key) hot path: nothing else to decide
            condition = dict_condition(restriction, self._heading, self)
            return self._unknown_keys(restriction) if condition is None else self._with_condition(condition)
        if isinstance(restriction, Top):
            return self._apply_top(restriction)
        base = self if flat else self._as_subquery()
        condition = make_condition(restriction, base, semantic_check)
        if condition is None:
            return base._unknown_keys(restriction)
        return base._with_condition(condition)

    def _unknown_keys(self, restriction):
        """A restriction by dicts that name no attribute: as in DataJoint it restricts nothing, with a
        warning, and it is remembered so that delete() refuses it (a misspelled key is not 'all rows')."""
        rows = [restriction] if isinstance(restriction, Mapping) else restriction
        if not isinstance(rows, (list, tuple)) or not rows or not all(isinstance(r, Mapping) for r in rows):
            return self
        keys = sorted({k for r in rows for k in r})
        if not keys:
            return self
        logger.warning(
            "The restriction %s names no attribute of the query (attributes: %s): it restricts nothing.",
            restriction,
            ", ".join(self.heading.names),
        )
        return self._with_condition(UnknownKeys(keys))

    @overload
    def __and__(self, restriction: Top) -> QueryExpression: ...
    @overload
    def __and__(self, restriction: Restriction) -> Self: ...
    def __and__(self, restriction: Restriction | Top) -> QueryExpression:
        return self.restrict(restriction)

    @overload
    def __xor__(self, restriction: Top) -> QueryExpression: ...
    @overload
    def __xor__(self, restriction: Restriction) -> Self: ...
    def __xor__(self, restriction: Restriction | Top) -> QueryExpression:
        """`A ^ B` is removed in DataJoint 2.x (which pipejoint follows where the two APIs conflict)."""
        raise DataJointError(
            "The ^ operator has been removed: restrict without the semantic check with "
            "A.restrict(B, semantic_check=False)."
        )

    def __sub__(self, restriction: Restriction) -> Self:
        if isinstance(restriction, Top):
            raise DataJointError("Cannot subtract a dj.Top: restrict with & dj.Top(...) instead.")
        return self.restrict(Not(restriction))

    def __neg__(self) -> Not:
        return Not(self)

    def _apply_top(self, top):
        """ORDER BY / LIMIT / OFFSET; a Top over a Top or a union orders a subquery."""
        base = self._as_subquery() if (self._top is not None or self._union is not None) else self
        order = top.order_by
        if order is None:
            order = ["KEY"]
            if self._top is not None:  # the inner order, but for attributes a projection dropped (out of reach)
                order = [n for n in self._top.order_names if n.split()[0] in base.heading.attributes] or order
        # attributes a projection dropped can order it while its rows are still those of its FROM items
        dropped = base._dropped if base._group is None and not base._distinct else {}
        order = expand_order_by(order, base.heading, dropped)
        columns = {**dropped, **base._columns} if dropped else base._columns
        items = tuple((columns[item.split()[0]], item.endswith(" DESC")) for item in order)
        return base._copy(_top=Ordering(items, tuple(order), top.limit, top.offset))

    # --- projection ---
    @class_level
    def proj(self, *attributes: str | EllipsisType, **named: str) -> QueryExpression:
        """Keep, rename, compute or exclude attributes; the primary key always stays."""
        heading = self.heading
        computes = any(isinstance(v, str) and v.strip() not in heading for v in named.values())
        base = self._as_subquery() if self._union is not None or (computes and self._is_wrappable) else self
        heading = base.heading
        keep, excluded = _positional_projection(attributes, heading)
        renames: dict[str, str] = {}
        computed: dict[str, str] = {}
        for new, spec in named.items():
            if not isinstance(spec, str):
                raise DataJointError(f"proj({new}=...) takes a string: an attribute name or a SQL expression.")
            spec = spec.strip()
            (renames if spec in heading else computed)[new] = spec
        renamed_away = {old for new, old in renames.items() if new != old}
        key_renames = {old: new for new, old in renames.items() if old in heading.primary_key}
        attrs, columns = [], {}

        def add(attribute, column):
            if attribute.name in columns:
                raise DataJointError(
                    f"Attribute `{attribute.name}` already exists in the projection: choose another name."
                )
            attrs.append(attribute)
            columns[attribute.name] = column

        for name in heading.primary_key:
            add(replace(heading[name], name=key_renames.get(name, name), in_key=True), base._columns[name])
        for name in keep:
            if name not in heading.primary_key and name not in excluded and name not in renamed_away:
                add(_revealed(heading[name]), base._columns[name])
        for new, old in renames.items():
            if old not in key_renames or key_renames[old] != new:
                add(_revealed(replace(heading[old], name=new, in_key=False)), base._columns[old])
        for new, text in computed.items():
            column, attribute = computed_attribute(new, text, heading, base._columns, base)
            add(attribute, column)
        dropped = {n: c for n, c in {**base._dropped, **base._columns}.items() if n not in columns}
        result = base._copy(_heading=Heading(attrs, heading.table_comment), _columns=columns, _dropped=dropped)
        result._base_table = self if self._is_base_table and not self._where else None
        return result

    # --- join ---
    @class_level
    def join(
        self, other: QueryExpression | type[QueryExpression], semantic_check: bool = True, left: bool = False
    ) -> QueryExpression:
        """Natural join on attributes with the same name and lineage."""
        if isinstance(other, type):
            other = other()
        if isinstance(other, U):
            raise DataJointError("Joining with dj.U is no longer supported: restrict instead, e.g. dj.U('a') & table.")
        if not isinstance(other, QueryExpression):
            raise DataJointError(f"Cannot join with {type(other).__name__}: join table classes or query expressions.")
        if other._connection is not self._connection:
            raise DataJointError(
                "Cannot join queries on different connections (two dj.Instance or dj.Connection objects): a query "
                "runs on one connection. Fetch from one and restrict the other by the keys."
            )
        shared = [n for n in self.heading.names if n in other.heading.names]
        if semantic_check:
            check_lineage(self, other, shared)
        left_expr = self._as_subquery() if self._is_wrappable else self
        # the right operand's FROM items join in flat unless that would change its meaning: a left
        # join needs a single table, and a right side with its own LEFT JOIN stays a subquery
        right_simple = (
            not other._is_wrappable
            and all(j.kind != "left" for j in other._joins)
            and (not left or (len(other._sources) == 1 and not other._where))
        )
        right_expr = other if right_simple else other._as_subquery()
        heading = join_heading(left_expr.heading, right_expr.heading, left)
        offset = len(left_expr._sources)
        right_columns = {n: c.shifted(offset) for n, c in right_expr._columns.items()}
        pairs = tuple((left_expr._columns[n], right_columns[n]) for n in shared)
        right_joins = [j.shifted(offset) for j in right_expr._joins]
        joins = list(left_expr._joins)
        if right_joins and pairs:
            # the matched columns may come from any right FROM item: test them once all are joined
            joins.append(Join(offset, "cross"))
            last = right_joins[-1]
            right_joins[-1] = Join(last.source, "inner", last.pairs + pairs)
        else:
            joins.append(Join(offset, "left" if left else ("inner" if pairs else "cross"), pairs))
        joins += right_joins
        columns = dict(left_expr._columns)
        for n, c in right_columns.items():
            columns.setdefault(n, c)
        where = left_expr._where + tuple(
            (cond, {n: c.shifted(offset) for n, c in cols.items()}) for cond, cols in right_expr._where
        )
        return self._derived(
            _heading=heading,
            _sources=left_expr._sources + right_expr._sources,
            _joins=tuple(joins),
            _columns={n: columns[n] for n in heading.names},
            _where=where,
        )

    def __mul__(self, other: QueryExpression | type[QueryExpression]) -> QueryExpression:
        return self.join(other)

    def __matmul__(self, other: QueryExpression | type[QueryExpression]) -> QueryExpression:
        """`A @ B` is removed in DataJoint 2.x (which pipejoint follows where the two APIs conflict)."""
        raise DataJointError(
            "The @ operator has been removed: join without the semantic check with A.join(B, semantic_check=False)."
        )

    @class_level
    def extend(self, other: QueryExpression | type[QueryExpression], semantic_check: bool = True) -> QueryExpression:
        return self.join(other, semantic_check=semantic_check, left=True)

    # --- aggregation ---
    @class_level
    def aggr(
        self,
        group: QueryExpression | type[QueryExpression] | None = None,
        *attributes: str | EllipsisType,
        exclude_nonmatching: bool = False,
        keep_all_rows: bool | None = None,
        **named: str,
    ) -> QueryExpression:
        """Per row of self, aggregates over the matching rows of `group` (all rows of self are kept)."""
        if keep_all_rows is not None:
            exclude_nonmatching = not keep_all_rows
        return aggregate(self, group, attributes, named, exclude_nonmatching)

    aggregate = aggr

    # --- union ---
    def __add__(self, other: QueryExpression | type[QueryExpression]) -> QueryExpression:
        return union(self, other)

    # --- SQL ---
    @class_level
    def make_sql(self, fields: Iterable[str] | None = None) -> str:
        """The SELECT statement, as sent to the database. `fields` is accepted because DataJoint's
        make_sql takes it (to select only some attributes); pipejoint always selects the whole
        heading: use .proj() to select fewer."""
        return compile_query(self).sql

    def __str__(self) -> str:
        """print(query) shows the preview, as DataJoint does; the SQL is make_sql()."""
        return repr(self)

    # --- fetching: see fetch.py ---
    @class_level
    def cursor(self, as_dict: bool = False) -> Any:
        compiled = compile_query(self)
        return self._connection.execute(compiled.sql, compiled.arguments(self), as_dict=as_dict)

    # the fetch methods are fetch.py's functions themselves (no wrapper call on the hot path)
    # (class_level is the function itself at run time; see core/hints.py)
    fetch = class_level(_fetch.fetch)
    fetch1 = class_level(_fetch.fetch1)
    to_dicts = class_level(_fetch.to_dicts)
    to_pandas = class_level(_fetch.to_pandas)
    to_arrays = class_level(_fetch.to_arrays)
    to_polars = class_level(_fetch.to_polars)
    to_arrow = class_level(_fetch.to_arrow)

    @class_level
    def keys(self, order_by: OrderBy | None = None, limit: int | None = None, offset: int | None = None) -> list[Key]:
        return _fetch.to_dicts(self.proj(), order_by=order_by, limit=limit, offset=offset)

    @class_level
    def head(self, limit: int = 25) -> list[dict[str, Any]]:
        return self.to_dicts(order_by="KEY", limit=limit)

    @class_level
    def tail(self, limit: int = 25) -> list[dict[str, Any]]:
        rows = self.to_dicts(order_by="KEY DESC", limit=limit)
        return rows[::-1]

    __iter__ = _fetch.iterate
    __len__ = _fetch.count
    __bool__ = _fetch.exists

    def __contains__(self, item: Restriction) -> bool:
        return bool(self & item)

    def __repr__(self) -> str:
        return text_preview(self)

    @class_level
    def _repr_html_(self) -> str:
        return html_preview(self)

    @class_level
    def preview(self, limit: int | None = None, width: int | None = None) -> str:
        return text_preview(self, limit=limit, width=width)


def _revealed(attribute):
    """A hidden attribute named in proj() is shown in its result."""
    return replace(attribute, revealed=True) if attribute.is_hidden else attribute


def _positional_projection(attributes, heading):
    """(names to keep, names to exclude) from proj()'s positional arguments."""
    keep, excluded = [], set()
    for item in attributes:
        if item is Ellipsis:
            keep.extend(heading.secondary_attributes)
        elif isinstance(item, str) and item.startswith("-"):
            name = item[1:].strip()
            if name not in heading.attributes:
                raise UnknownAttributeError(
                    f"Cannot exclude `{name}`: it is not an attribute. Available: {', '.join(heading.names)}."
                )
            if name in heading.primary_key:
                raise DataJointError(f"Cannot exclude primary key attribute `{name}`: the primary key always stays.")
            excluded.add(name)
        elif isinstance(item, str):
            if item not in heading:  # hidden attributes too: naming one shows it
                raise UnknownAttributeError(
                    f"Attribute `{item}` not found in proj(). Available: {', '.join(heading.names)}."
                )
            keep.append(item)
        else:
            raise DataJointError(f"proj() takes attribute names as strings, not {type(item).__name__}.")
    if excluded and Ellipsis not in attributes and not keep:
        keep = list(heading.secondary_attributes)
    return list(dict.fromkeys(keep)), excluded


def expand_order_by(order_by: Iterable[str], heading: Heading, also: Iterable[str] = ()) -> list[str]:
    """Expand 'KEY' and validate 'attr [ASC|DESC]' items. An item may list several, comma-separated,
    and name attributes in backticks, as the DataJoint book writes them: "`image_id`, score DESC".
    `also` names attributes outside the heading that may be ordered by (those a projection dropped)."""
    result: list[str] = []
    items = [part.strip() for item in order_by for part in item.split(",")]
    for item in items:
        parts = item.split()
        if not parts:
            raise DataJointError(f"Cannot order by {', '.join(order_by)!r}: an item between commas is empty.")
        name = parts[0]
        if len(name) > 2 and name[0] == name[-1] == "`":
            name = name[1:-1]
        direction = parts[1].upper() if len(parts) > 1 else "ASC"
        if direction not in ("ASC", "DESC") or len(parts) > 2:
            raise DataJointError(f"Cannot order by {item!r}: write 'attribute' or 'attribute DESC'.")
        if name.upper() == "KEY" and name not in heading.attributes:  # an attribute named `key` is that attribute
            result.extend(f"{k} {direction}" for k in heading.primary_key)
        elif name in heading.attributes or name in also:
            result.append(f"{name} {direction}")
        else:
            raise UnknownAttributeError(
                f"Cannot order by `{name}`: not an attribute. Available: {', '.join(heading.names)}."
            )
    return result


def join_heading(left: Heading, right: Heading, left_join: bool) -> Heading:
    """Attributes of both, with the primary key by functional dependency (DataJoint 2.x)."""
    left_names = set(left.names)
    right_names = set(right.names)
    left_determines_right = set(right.primary_key) <= left_names
    right_determines_left = set(left.primary_key) <= right_names
    if left_join and not left_determines_right:
        raise DataJointError(
            "A left join requires the left operand to determine the right one: every primary-key "
            f"attribute of the right operand ({', '.join(right.primary_key)}) must be in the left one."
        )
    if left_determines_right:
        key = left.primary_key
        order = left.names + [n for n in right.names if n not in left_names]
    elif right_determines_left:
        key = right.primary_key
        order = right.names + [n for n in left.names if n not in right_names]
    else:
        key = left.primary_key + [n for n in right.primary_key if n not in left.primary_key]
        order = left.names + [n for n in right.names if n not in left_names]
    key_set = set(key)
    attrs = []
    for n in order:
        attr = left[n] if n in left_names else right[n]
        if left_join and n not in left_names:
            attr = replace(attr, nullable=True)
        attrs.append(replace(attr, in_key=n in key_set))
    ordered = [a for a in attrs if a.in_key] + [a for a in attrs if not a.in_key]
    return Heading(ordered)


def renamed_base(expression):
    """For `Table` or `Table.proj(new='old', ...)` (renames only): (table, {new: old}); else (None, None).

    A table marks itself with `_is_base_table`; its renaming projection keeps it as `_base_table`."""
    if expression._is_base_table:
        return expression, {}
    if (
        len(expression._sources) == 1
        and expression._sources[0].query is None
        and not expression._where
        and not expression._joins
        and not expression._is_wrappable
        and all(isinstance(c, Column) for c in expression._columns.values())
    ):
        source = expression._sources[0]
        base = getattr(expression, "_base_table", None)
        if base is None:
            return None, None
        renames = {n: c.name for n, c in expression._columns.items() if n != c.name}
        key_names = {expression._columns[n].name for n in expression.heading.primary_key}
        if key_names != set(base.heading.primary_key):
            return None, None
        if (source.schema, source.table_name) != (base.database, base.table_name):
            return None, None
        return base, renames
    return None, None


class U(QueryExpression):
    """A universal set over the named attributes: ``dj.U('a') & table`` is the distinct values of a."""

    _is_universe = True

    def __init__(self, *attributes: str) -> None:
        for a in attributes:
            if not isinstance(a, str):
                raise DataJointError("dj.U takes attribute names as strings.")
        self._attributes = attributes

    @property
    def primary_key(self) -> list[str]:
        return list(self._attributes)

    @property
    def heading(self) -> Heading:
        raise DataJointError("dj.U has no heading of its own: restrict it by a query, e.g. dj.U('a') & table.")

    def restrict(  # type: ignore[override]  # dj.U & query is a query, not a dj.U
        self, restriction: QueryExpression | type[QueryExpression], semantic_check: bool = True
    ) -> QueryExpression:
        if isinstance(restriction, type):
            restriction = restriction()
        if not isinstance(restriction, QueryExpression) or isinstance(restriction, U):
            raise DataJointError("dj.U can only be restricted by a query expression, e.g. dj.U('a') & table.")
        missing = [a for a in self._attributes if a not in restriction.heading.attributes]
        if missing:
            raise UnknownAttributeError(
                f"dj.U attributes {missing} are not in the restricting query. Available: {', '.join(restriction.heading.names)}."
            )
        base = restriction._as_subquery() if restriction._is_wrappable else restriction
        heading = base.heading.select(list(self._attributes)).set_primary_key(list(self._attributes))
        return base._copy(
            _heading=heading,
            _columns={n: base._columns[n] for n in self._attributes},
            _distinct=True,
        )

    def __and__(self, restriction: QueryExpression | type[QueryExpression]) -> QueryExpression:  # type: ignore[override]
        return self.restrict(restriction)

    def __sub__(self, other: object) -> NoReturn:
        raise DataJointError("dj.U(...) - query would be an infinite set: restrict dj.U by a query instead.")

    def join(self, other: object, semantic_check: bool = True, left: bool = False) -> NoReturn:
        raise DataJointError("Joining with dj.U is no longer supported: restrict instead, e.g. dj.U('a') & table.")

    __mul__ = join

    def aggr(
        self,
        group: QueryExpression | type[QueryExpression] | None = None,
        *attributes: str | EllipsisType,
        exclude_nonmatching: bool = False,
        keep_all_rows: bool | None = None,
        **named: str,
    ) -> QueryExpression:
        return aggregate_universal(self, group, named)

    aggregate = aggr

    def __repr__(self) -> str:
        return f"dj.U({', '.join(repr(a) for a in self._attributes)})"

    def __len__(self) -> int:
        raise DataJointError("dj.U is not a set of rows until restricted by a query.")

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[dict[str, Any]]:
        raise DataJointError("dj.U is not a set of rows until restricted by a query.")


__all__ = ["QueryExpression", "U"]
