"""Query expressions: immutable, lazily compiled descriptions of a set of rows.

An expression is a FROM list (base tables or subqueries, each with an alias ``t0``, ``t1``, …),
a mapping from each attribute to its SQL over those aliases, WHERE conditions, and optionally a
GROUP BY, DISTINCT and ORDER/LIMIT. Operators add to these when the result stays one flat
SELECT and wrap the operand as a subquery only when the meaning requires it (after a LIMIT,
a GROUP BY, a DISTINCT, or a union).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from .condition import Combination, Top, make_condition
from .errors import DataJointError, UnknownAttributeError
from .heading import Attribute, Heading


@dataclass(frozen=True)
class Column:
    """An attribute read straight from a FROM item: alias index and column name."""

    source: int
    name: str

    def shape(self):
        return ("c", self.source, self.name)

    def shifted(self, offset):
        return Column(self.source + offset, self.name)


@dataclass(frozen=True)
class Computed:
    """An attribute computed by a SQL fragment; `inputs` maps the names it uses to their SQL."""

    text: str
    fragment: object  # parsed sqlglot tree over attribute names
    inputs: tuple  # ((name, Column|Computed), ...)
    aggregate: bool = False

    def shape(self):
        return ("x", self.text, tuple((n, c.shape()) for n, c in self.inputs))

    def shifted(self, offset):
        return Computed(self.text, self.fragment, tuple((n, c.shifted(offset)) for n, c in self.inputs), self.aggregate)


@dataclass(frozen=True)
class Source:
    """A FROM item: a base table (schema, table_name) or a subquery."""

    schema: str | None = None
    table_name: str | None = None
    query: object = None

    def shape(self):
        return ("t", self.schema, self.table_name) if self.query is None else ("q", self.query._shape())


@dataclass(frozen=True)
class Join:
    """How FROM item `source` joins: 'inner', 'left' or 'cross', on pairs of column SQL."""

    source: int
    kind: str
    pairs: tuple = ()  # ((left Column|Computed, right Column), ...)

    def shape(self):
        return (self.source, self.kind, tuple((a.shape(), b.shape()) for a, b in self.pairs))


class QueryExpression:
    """Base of tables and query results. Subclasses: Table (base tables), U."""

    _connection = None
    _heading = None
    _sources = ()
    _joins = ()
    _columns = None  # name -> Column | Computed
    _where = ()  # ((Condition, columns-at-that-time), ...)
    _group = None  # tuple of names grouped by, when aggregated
    _distinct = False
    _top = None
    _union = None  # (left, right) for a union
    _is_base_table = False

    # --- basic properties ---
    @property
    def connection(self):
        return self._connection

    @property
    def heading(self):
        return self._heading

    @property
    def primary_key(self):
        return self.heading.primary_key

    _FIELDS = ("_connection", "_heading", "_sources", "_joins", "_columns", "_where", "_group", "_distinct", "_top", "_union")

    def _copy(self, keep_class=False, **changes):
        """A modified copy. Restricting a table keeps its class (so `(T & key).delete()` works);
        any other change makes a plain QueryExpression."""
        if keep_class:
            result = copy.copy(self)
        else:
            result = QueryExpression.__new__(QueryExpression)
            for name in self._FIELDS:
                setattr(result, name, getattr(self, name))
        for key, value in changes.items():
            setattr(result, key, value)
        return result

    @property
    def _is_wrappable(self):
        return self._group is not None or self._distinct or self._top is not None or self._union is not None

    def _as_subquery(self):
        """This expression as the only FROM item of a new one, attributes passed through."""
        heading = self.heading
        result = QueryExpression()
        result._connection = self._connection
        result._heading = Heading([replace(a, expression=None) for a in heading.attributes.values()], heading.table_comment)
        result._sources = (Source(query=self),)
        result._joins = ()
        result._columns = {n: Column(0, n) for n in heading.names}
        result._where = ()
        return result

    # --- shape and params: the SQL cache key and the values, in one fixed order ---
    def _shape(self):
        if self._union is not None:
            return ("union", self._union[0]._shape(), self._union[1]._shape())
        return (
            tuple(s.shape() for s in self._sources),
            tuple(j.shape() for j in self._joins),
            tuple((n, self._columns[n].shape()) for n in self.heading.names),
            tuple(c.shape() for c, _ in self._where),
            self._group,
            self._distinct,
            (tuple(self._top.order_by or ()), self._top.limit, self._top.offset) if self._top else None,
        )

    def _params(self, out):
        if self._union is not None:
            self._union[0]._params(out)
            self._union[1]._params(out)
            return out
        for source in self._sources:
            if source.query is not None:
                source.query._params(out)
        for condition, _ in self._where:
            condition.params(out)
        return out

    # --- restriction ---
    def restrict(self, restriction, semantic_check=True):
        """Rows that satisfy `restriction` (any form DataJoint accepts)."""
        if isinstance(restriction, Top):
            return self._apply_top(restriction)
        if self._top is not None or self._group is not None or self._union is not None:
            base = self._as_subquery()
        else:
            base = self
        condition = make_condition(restriction, base, semantic_check)
        if condition is None:
            return self
        return base._copy(keep_class=base is self, _where=base._where + ((condition, base._columns),))

    def __and__(self, restriction):
        return self.restrict(restriction)

    def __sub__(self, restriction):
        from .condition import Not

        if isinstance(restriction, Top):
            raise DataJointError("Cannot subtract a dj.Top: restrict with & dj.Top(...) instead.")
        return self.restrict(Not(restriction))

    def __neg__(self):
        from .condition import Not

        return Not(self)

    def _apply_top(self, top):
        order = top.order_by
        if order is None:
            order = self._top.order_by if self._top is not None else ["KEY"]
        order = expand_order_by(order, self.heading)
        base = self._as_subquery() if (self._top is not None or self._union is not None) else self
        return base._copy(_top=Top(top.limit, order, top.offset))

    # --- projection ---
    def proj(self, *attributes, **named):
        """Keep, rename, compute or exclude attributes; the primary key always stays."""
        heading = self.heading
        base = self
        if self._union is not None or any(
            isinstance(v, str) and not _is_rename(v, heading) for v in named.values()
        ) and (self._group is not None or self._top is not None):
            base = self._as_subquery()
            heading = base.heading
        keep = []
        excluded = set()
        for item in attributes:
            if item is Ellipsis:
                keep.extend(heading.secondary_attributes)
            elif isinstance(item, str) and item.startswith("-"):
                name = item[1:].strip()
                if name not in heading.attributes:
                    raise UnknownAttributeError(f"Cannot exclude `{name}`: it is not an attribute. Available: {', '.join(heading.names)}.")
                if name in heading.primary_key:
                    raise DataJointError(f"Cannot exclude primary key attribute `{name}`: the primary key always stays.")
                excluded.add(name)
            elif isinstance(item, str):
                if item not in heading.attributes:
                    raise UnknownAttributeError(f"Attribute `{item}` not found. Available: {', '.join(heading.names)}.")
                keep.append(item)
            else:
                raise DataJointError(f"proj() takes attribute names as strings, not {type(item).__name__}.")
        if excluded and not keep:
            keep = [n for n in heading.secondary_attributes if n not in excluded]
        renamed_sources = {}
        computed = {}
        for new, spec in named.items():
            if not isinstance(spec, str):
                raise DataJointError(f"proj({new}=...) takes a string: an attribute name or a SQL expression.")
            spec_stripped = spec.strip()
            if _is_rename(spec_stripped, heading):
                renamed_sources[new] = spec_stripped
            else:
                computed[new] = spec_stripped
        renamed_away = {old for new, old in renamed_sources.items() if new != old}
        # the primary key, with renames in place
        attrs = []
        columns = {}
        key_renames = {old: new for new, old in renamed_sources.items()}
        for name in heading.primary_key:
            new = key_renames.get(name, name)
            attrs.append(replace(heading[name], name=new, in_key=True))
            columns[new] = base._columns[name]
        seen = set(columns)
        for name in keep:
            if name in seen or name in renamed_away and name not in keep:
                continue
            if name in heading.primary_key:
                continue
            attrs.append(heading[name])
            columns[name] = base._columns[name]
            seen.add(name)
        for new, old in renamed_sources.items():
            if old in heading.primary_key:
                continue
            if new in seen:
                raise DataJointError(f"Attribute `{new}` already exists: choose another name.")
            attrs.append(replace(heading[old], name=new, in_key=False))
            columns[new] = base._columns[old]
            seen.add(new)
        for new, text in computed.items():
            if new in seen:
                raise DataJointError(f"Attribute `{new}` already exists: choose another name.")
            column, attr = computed_attribute(new, text, heading, base._columns)
            attrs.append(attr)
            columns[new] = column
            seen.add(new)
        result = base._copy(_heading=Heading(attrs, heading.table_comment), _columns=columns)
        result._base_table = self if self._is_base_table and not self._where else None
        return result

    # --- join ---
    def join(self, other, semantic_check=True, left=False):
        """Natural join on attributes with the same name and lineage."""
        if isinstance(other, type):
            other = other()
        if isinstance(other, U):
            raise DataJointError("Joining with dj.U is not supported: restrict instead, e.g. dj.U('a') & table.")
        if not isinstance(other, QueryExpression):
            raise DataJointError(f"Cannot join with {type(other).__name__}: join table classes or query expressions.")
        shared = [n for n in self.heading.names if n in other.heading.names]
        if semantic_check:
            check_lineage(self, other, shared)
        left_expr = self._as_subquery() if self._is_wrappable else self
        right_simple = not other._is_wrappable and (not left or (len(other._sources) == 1 and not other._where))
        right_expr = other if right_simple else other._as_subquery()
        heading = join_heading(left_expr.heading, right_expr.heading, left)
        offset = len(left_expr._sources)
        right_columns = {n: c.shifted(offset) for n, c in right_expr._columns.items()}
        pairs = tuple((left_expr._columns[n], right_columns[n]) for n in shared)
        joins = list(left_expr._joins)
        kind = "left" if left else ("inner" if pairs else "cross")
        joins.append(Join(offset, kind, pairs))
        for j in right_expr._joins:
            joins.append(Join(j.source + offset, j.kind, tuple((a.shifted(offset), b.shifted(offset)) for a, b in j.pairs)))
        columns = dict(left_expr._columns)
        for n, c in right_columns.items():
            columns.setdefault(n, c)
        where = left_expr._where + tuple(
            (cond, {n: c.shifted(offset) for n, c in cols.items()}) for cond, cols in right_expr._where
        )
        result = QueryExpression()
        result._connection = self._connection
        result._heading = heading
        result._sources = left_expr._sources + right_expr._sources
        result._joins = tuple(joins)
        result._columns = {n: columns[n] for n in heading.names}
        result._where = where
        return result

    def __mul__(self, other):
        return self.join(other)

    def extend(self, other, semantic_check=True):
        return self.join(other, semantic_check=semantic_check, left=True)

    # --- aggregation ---
    def aggr(self, group, *attributes, exclude_nonmatching=False, keep_all_rows=None, **named):
        """Per row of self, aggregates over the matching rows of `group` (all rows of self are kept)."""
        from .aggregation import aggregate

        if keep_all_rows is not None:
            exclude_nonmatching = not keep_all_rows
        return aggregate(self, group, attributes, named, exclude_nonmatching)

    aggregate = aggr

    # --- union ---
    def __add__(self, other):
        from .aggregation import union

        return union(self, other)

    # --- SQL ---
    def make_sql(self, fields=None):
        from .compiler import compile_query

        return compile_query(self).sql

    def __str__(self):
        return self.make_sql()

    # --- fetching: see fetch.py ---
    def cursor(self, as_dict=False):
        from .compiler import compile_query

        compiled = compile_query(self)
        return self._connection.query(compiled.sql, compiled.arguments(self), as_dict=as_dict)

    def fetch(self, *attrs, **kwargs):
        from .fetch import fetch

        return fetch(self, *attrs, **kwargs)

    def fetch1(self, *attrs, squeeze=False):
        from .fetch import fetch1

        return fetch1(self, *attrs, squeeze=squeeze)

    def to_dicts(self, order_by=None, limit=None, offset=None, squeeze=False):
        from .fetch import to_dicts

        return to_dicts(self, order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_pandas(self, order_by=None, limit=None, offset=None, squeeze=False):
        from .fetch import to_pandas

        return to_pandas(self, order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_arrays(self, *attrs, include_key=False, order_by=None, limit=None, offset=None, squeeze=False):
        from .fetch import to_arrays

        return to_arrays(self, *attrs, include_key=include_key, order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_polars(self, order_by=None, limit=None, offset=None):
        from .fetch import to_polars

        return to_polars(self, order_by=order_by, limit=limit, offset=offset)

    def to_arrow(self, order_by=None, limit=None, offset=None):
        from .fetch import to_arrow

        return to_arrow(self, order_by=order_by, limit=limit, offset=offset)

    def keys(self, order_by=None, limit=None, offset=None):
        from .fetch import to_dicts

        return to_dicts(self.proj(), order_by=order_by, limit=limit, offset=offset)

    def head(self, limit=25):
        return self.to_dicts(order_by="KEY", limit=limit)

    def tail(self, limit=25):
        rows = self.to_dicts(order_by="KEY DESC", limit=limit)
        return rows[::-1]

    def __iter__(self):
        from .fetch import iterate

        return iterate(self)

    def __len__(self):
        from .fetch import count

        return count(self)

    def __bool__(self):
        from .fetch import exists

        return exists(self)

    def __contains__(self, item):
        return bool(self & item)

    def __repr__(self):
        from .display import text_preview

        return text_preview(self)

    def _repr_html_(self):
        from .display import html_preview

        return html_preview(self)

    def preview(self, limit=None, width=None):
        from .display import text_preview

        return text_preview(self, limit=limit, width=width)


def _is_rename(text, heading):
    return text in heading.attributes


def expand_order_by(order_by, heading):
    """Expand 'KEY' and validate 'attr [ASC|DESC]' items."""
    result = []
    for item in order_by:
        parts = item.split()
        name = parts[0]
        direction = parts[1].upper() if len(parts) > 1 else "ASC"
        if direction not in ("ASC", "DESC") or len(parts) > 2:
            raise DataJointError(f"Cannot order by {item!r}: write 'attribute' or 'attribute DESC'.")
        if name.upper() == "KEY":
            result.extend(f"{k} {direction}" for k in heading.primary_key)
        elif name in heading.attributes:
            result.append(f"{name} {direction}")
        else:
            raise UnknownAttributeError(f"Cannot order by `{name}`: not an attribute. Available: {', '.join(heading.names)}.")
    return result


def computed_attribute(name, text, heading, columns, aggregate_allowed=False):
    """Parse a projection/aggregation expression; check its names; infer its type."""
    from .condition import parse_fragment
    from .settings import config
    from .typing_rules import infer_type

    fragment = parse_fragment(text, heading, config["query.dialect"])
    from sqlglot import exp

    is_aggregate = any(isinstance(node, exp.AggFunc) for node in fragment.walk())
    if is_aggregate and not aggregate_allowed:
        raise DataJointError(
            f"`{name}={text!r}` uses an aggregate function: use .aggr() to aggregate over a group."
        )
    used = sorted({c.name for c in fragment.find_all(exp.Column) if not c.table})
    inputs = tuple((n, columns[n]) for n in used)
    attr_type = infer_type(fragment, heading)
    attribute = Attribute(name, attr_type, in_key=False, nullable=True, lineage=None, expression=text)
    return Computed(text, fragment, inputs, is_aggregate), attribute


def join_heading(left, right, left_join):
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


def check_lineage(left, right, shared):
    """Same name must mean the same thing: attributes are matched by name *and* lineage."""
    for name in shared:
        a = left.heading[name].lineage
        b = right.heading[name].lineage
        if a != b:
            raise DataJointError(
                f"Cannot match on attribute `{name}`: it has different lineages ({a} vs {b}), so the "
                f"two operands mean different things by `{name}`. Rename one side with .proj(), e.g. "
                f"`other.proj(other_{name}='{name}')`, or pass semantic_check=False to match by name only."
            )


def renamed_base(expression):
    """For `Table` or `Table.proj(new='old', ...)` (renames only): (table, {new: old}); else (None, None)."""
    from .table import Table

    if isinstance(expression, Table):
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

    def __init__(self, *attributes):
        for a in attributes:
            if not isinstance(a, str):
                raise DataJointError("dj.U takes attribute names as strings.")
        self._attributes = attributes

    @property
    def primary_key(self):
        return list(self._attributes)

    @property
    def heading(self):
        raise DataJointError("dj.U has no heading of its own: restrict it by a query, e.g. dj.U('a') & table.")

    def restrict(self, restriction, semantic_check=True):
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

    def __and__(self, restriction):
        return self.restrict(restriction)

    def __sub__(self, other):
        raise DataJointError("dj.U(...) - query would be an infinite set: restrict dj.U by a query instead.")

    def join(self, other, semantic_check=True, left=False):
        raise DataJointError("Joining with dj.U is not supported: restrict instead, e.g. dj.U('a') & table.")

    __mul__ = join

    def aggr(self, group, *attributes, exclude_nonmatching=False, keep_all_rows=None, **named):
        from .aggregation import aggregate_universal

        return aggregate_universal(self, group, named)

    aggregate = aggr

    def __repr__(self):
        return f"dj.U({', '.join(repr(a) for a in self._attributes)})"

    def __len__(self):
        raise DataJointError("dj.U is not a set of rows until restricted by a query.")

    def __bool__(self):
        return True

    def __iter__(self):
        raise DataJointError("dj.U is not a set of rows until restricted by a query.")


__all__ = ["QueryExpression", "U", "Combination"]
