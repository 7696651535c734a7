"""Restriction conditions: every form DataJoint accepts, reduced to a few condition classes.

Each condition has a *shape* (its structure without values, used as the SQL cache key), its
*params* (the values, in a fixed order), and ``to_ast`` which builds the sqlglot condition and
asks the compile context for a placeholder for each value in exactly the ``params`` order.
Values are checked, normalized and encoded for the driver once, when the condition is built.
"""

from __future__ import annotations

import collections.abc
import decimal
import uuid as uuid_module

from ..core.types import INTEGER_RANGES
from ..core.values import normalize
from ..errors import DataJointError, InvalidValueError
from .fragments import parse_fragment, substitute_columns


class AndList(list):
    """A list of conditions that must all hold: ``dj.AndList([c1, c2])``."""


class Not:
    """The negation of a condition: ``T & dj.Not(cond)`` is ``T - cond``."""

    def __init__(self, restriction):
        self.restriction = restriction


class Top:
    """The first `limit` rows in `order_by` order, after skipping `offset`: ``T & dj.Top(5, 'score DESC')``."""

    def __init__(self, limit=1, order_by="KEY", offset=0):
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

    def __repr__(self):
        return f"Top(limit={self.limit}, order_by={self.order_by}, offset={self.offset})"


# --- resolved conditions -------------------------------------------------------------------


class Condition:
    """A restriction resolved against a heading."""

    __slots__ = ()

    def shape(self):
        raise NotImplementedError

    def params(self, out):
        """Append the values, in the order to_ast asks for placeholders."""

    def names(self):
        """The attribute names this condition reads from the restricted expression."""
        return ()

    def tables(self):
        """The base tables its subqueries read, as (schema, table_name); None when a SQL fragment
        may read tables of its own."""
        return set()

    def to_ast(self, resolve, ctx):
        raise NotImplementedError


class Always(Condition):
    """TRUE or FALSE."""

    def __init__(self, value):
        self.value = bool(value)

    def shape(self):
        return ("always", self.value)

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        one = exp.Literal.number(1)
        return exp.EQ(this=one, expression=exp.Literal.number(1 if self.value else 0))


class Equals(Condition):
    """attr = value for several attributes (a dict, a key, a record). None means IS NULL."""

    __slots__ = ("_names", "_shape", "_values", "items")

    def __init__(self, items):
        self.items = items  # [(name, value encoded for the driver, or None)], sorted by name
        if len(items) == 1:  # one attribute, the most common restriction: no loops
            name, value = items[0]
            self._names = (name,)
            self._shape = ("eq", ((name, value is None),))
            self._values = [] if value is None else [value]
            return
        self._names = tuple([name for name, _ in items])
        self._shape = ("eq", tuple([(name, value is None) for name, value in items]))
        self._values = [value for _, value in items if value is not None]

    def shape(self):
        return self._shape

    def names(self):
        return self._names

    def params(self, out):
        out += self._values

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        parts = []
        for name, value in self.items:
            column = resolve(name)
            if value is None:
                parts.append(exp.Is(this=column, expression=exp.Null()))
            else:
                parts.append(exp.EQ(this=column, expression=ctx.param()))
        return _and(parts)


class KeySet(Condition):
    """(a, b) IN ((v1, v2), ...) for many keys, e.g. a DataFrame or a list of dicts with the same keys.

    PostgreSQL takes at most 65,535 parameters, so there a large set is sent as one array
    parameter per attribute (the backend's ``key_array_condition``).
    """

    ARRAYS_ABOVE = 10_000  # parameters

    def __init__(self, names, attributes, rows, backend=None):
        self.key_names = names
        self.attributes = attributes
        self.rows = rows
        self.backend = (
            backend
            if (
                backend is not None
                and backend.key_array_condition is not None
                and len(rows) * len(names) > self.ARRAYS_ABOVE
            )
            else None
        )

    def shape(self):
        return ("keyset", tuple(self.key_names), len(self.rows) if self.backend is None else "arrays")

    def names(self):
        return self.key_names

    def params(self, out):
        if self.backend is not None:
            out.extend(list(c) for c in zip(*self.rows))
            return
        for row in self.rows:
            out += row

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        if self.backend is not None:
            return self.backend.key_array_condition(
                [resolve(n) for n in self.key_names], [ctx.param() for _ in self.key_names], self.attributes
            )
        values = ctx.param_list(len(self.rows), len(self.key_names))
        if len(self.key_names) == 1:
            return exp.In(this=resolve(self.key_names[0]), expressions=[values])
        return exp.In(this=exp.Tuple(expressions=[resolve(n) for n in self.key_names]), expressions=[values])


class KeyAfter(Condition):
    """The rows after a key in primary-key order (iteration pages by it): (a, b) > (x, y), written
    as a >= x AND (a > x OR b > y), a form every engine reads as a range of its primary-key index.

    The values are the driver's own values of the last row read, so they compare exactly as
    the database ordered them.
    """

    def __init__(self, names, values):
        self.key_names = list(names)
        self.values = list(values)

    def shape(self):
        return ("after", tuple(self.key_names))

    def names(self):
        return self.key_names

    def params(self, out):
        for value in self.values[:-1]:
            out += (value, value)  # for >= and >
        out.append(self.values[-1])

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        def after(position):
            column = resolve(self.key_names[position])
            if position == len(self.key_names) - 1:
                return exp.GT(this=column, expression=ctx.param())
            at_least = exp.GTE(this=column, expression=ctx.param())
            beyond = exp.GT(this=column.copy(), expression=ctx.param())
            return exp.and_(at_least, exp.Paren(this=exp.or_(beyond, exp.Paren(this=after(position + 1)))))

        return after(0)


class SQLFragment(Condition):
    """A restriction string, parsed as the configured dialect (MySQL by default)."""

    def __init__(self, text, fragment, dialect="mysql"):
        from sqlglot import exp

        self.text = text
        self.dialect = dialect
        self.fragment = fragment  # parsed, validated sqlglot expression over attribute names
        self.used = sorted({c.name for c in fragment.find_all(exp.Column) if not c.table})

    def names(self):
        return self.used

    def shape(self):
        return ("sql", self.dialect, self.text)

    def to_ast(self, resolve, ctx):
        return substitute_columns(self.fragment, resolve)

    def tables(self):
        from sqlglot import exp

        return None if self.fragment.find(exp.Select) is not None else set()


class Negation(Condition):
    def __init__(self, condition):
        self.condition = condition

    def shape(self):
        return ("not", self.condition.shape())

    def names(self):
        return self.condition.names()

    def params(self, out):
        self.condition.params(out)

    def tables(self):
        return self.condition.tables()

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        return exp.Not(this=exp.Paren(this=self.condition.to_ast(resolve, ctx)))


class Combination(Condition):
    """AND or OR of conditions."""

    def __init__(self, operator, conditions):
        self.operator = operator
        self.conditions = conditions

    def shape(self):
        return (self.operator, tuple(c.shape() for c in self.conditions))

    def names(self):
        return sorted({n for c in self.conditions for n in c.names()})

    def params(self, out):
        for c in self.conditions:
            c.params(out)

    def tables(self):
        found = set()
        for c in self.conditions:
            tables = c.tables()
            if tables is None:
                return None
            found |= tables
        return found

    def to_ast(self, resolve, ctx):
        parts = [c.to_ast(resolve, ctx) for c in self.conditions]
        return _and(parts) if self.operator == "and" else _or(parts)


class SemiJoin(Condition):
    """Restriction by another query expression on the attributes both have.

    When none of them can be NULL this is ``(a, b) IN (SELECT a, b FROM other)``, which every
    engine runs as a semijoin. When one can be NULL, IN turns into unknown (and NOT IN drops every
    row once the other side holds a NULL), so a correlated EXISTS keeps the meaning "has a match",
    which stays true or false under negation.
    """

    def __init__(self, names, query, nullable=False):
        self.key_names = names
        self.query = query
        self.nullable = nullable

    def shape(self):
        return ("in", tuple(self.key_names), self.nullable, self.query._shape())

    def names(self):
        return self.key_names

    def params(self, out):
        self.query._params(out)

    def tables(self):
        return query_tables(self.query)

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        from .compiler import build_select

        sub = build_select(self.query, ctx, only=self.key_names)
        if self.nullable:
            matched = exp.TableAlias(this=exp.to_identifier("m"))
            on = [exp.EQ(this=exp.column(n, table="m", quoted=True), expression=resolve(n)) for n in self.key_names]
            inner = exp.select(exp.Literal.number(1)).from_(exp.Subquery(this=sub, alias=matched))
            return exp.Exists(this=inner.where(exp.and_(*on)))
        if sub.args.get("limit") is not None:
            # MariaDB refuses LIMIT inside IN (...); a derived table around it means the same everywhere
            sub = exp.select(*[exp.column(n, quoted=True) for n in self.key_names]).from_(
                exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier("limited")))
            )
        if len(self.key_names) == 1:
            return exp.In(this=resolve(self.key_names[0]), query=exp.Subquery(this=sub))
        left = exp.Tuple(expressions=[resolve(n) for n in self.key_names])
        return exp.In(this=left, query=exp.Subquery(this=sub))


class Exists(Condition):
    """Restriction by an expression that shares no attributes: all rows if it is non-empty."""

    def __init__(self, query):
        self.query = query

    def shape(self):
        return ("exists", self.query._shape())

    def params(self, out):
        self.query._params(out)

    def tables(self):
        return query_tables(self.query)

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        from .compiler import build_select

        return exp.Exists(this=build_select(self.query, ctx))


def query_tables(query):
    """(schema, table_name) of every base table a query expression reads; None when unknown."""
    if query._union is not None:
        left, right = (query_tables(q) for q in query._union)
        return None if left is None or right is None else left | right
    found = set()
    for source in query._sources:
        tables = {(source.schema, source.table_name)} if source.query is None else query_tables(source.query)
        if tables is None:
            return None
        found |= tables
    for condition, _ in query._where:
        tables = condition.tables()
        if tables is None:
            return None
        found |= tables
    return found


def _and(parts):
    from sqlglot import exp

    if not parts:
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1))
    result = parts[0] if len(parts) == 1 else exp.and_(*[exp.Paren(this=p) for p in parts])
    return result


def _or(parts):
    from sqlglot import exp

    if not parts:
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))
    return parts[0] if len(parts) == 1 else exp.or_(*[exp.Paren(this=p) for p in parts])


# --- building conditions from user input ---------------------------------------------------


def make_condition(restriction, query, semantic_check=True):
    """Turn any restriction form into a Condition over `query`'s heading. None means 'no-op'."""
    heading = query.heading
    if type(restriction) is dict:  # the (T & key) hot path
        return dict_condition(restriction, heading, query)
    from .expression import QueryExpression, U

    if isinstance(restriction, Condition):
        return restriction
    if isinstance(restriction, bool):
        return None if restriction else Always(False)
    if restriction is None:
        raise DataJointError("Invalid restriction None: use True for no restriction or [] for none of the rows.")
    if isinstance(restriction, str):
        from sqlglot import exp

        from ..settings import config
        from .expression import query_name

        fragment = parse_fragment(restriction, heading, config["query.dialect"], query_name(query))
        if any(isinstance(node, exp.AggFunc) for node in fragment.walk()):
            raise DataJointError(
                f"The restriction {restriction!r} on {query_name(query)} uses an aggregate function: compute it "
                "with .aggr() first, then restrict the result, e.g. A.aggr(B, n='COUNT(*)') & 'n > 2'."
            )
        return SQLFragment(restriction, fragment, config["query.dialect"])
    if isinstance(restriction, Not):
        inner = make_condition(restriction.restriction, query, semantic_check)
        return Always(False) if inner is None else Negation(inner)
    if isinstance(restriction, AndList):
        parts = [make_condition(r, query, semantic_check) for r in restriction]
        parts = [p for p in parts if p is not None]
        return Combination("and", parts) if parts else None
    if isinstance(restriction, U):
        return None
    if isinstance(restriction, type) and issubclass(restriction, QueryExpression):
        restriction = restriction()
    if isinstance(restriction, QueryExpression):
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


def dict_condition(mapping, heading, query):
    """AND of attr = value for the keys that are attributes (others are ignored, as in DataJoint)."""
    binders = _binders(heading, query._connection.backend)
    if len(mapping) == 1:  # (T & {'id': k}): the most common restriction, without the loop
        [(name, value)] = mapping.items()
        binder = binders.get(name)
        if binder is not None and binder is not _NOT_COMPARABLE:
            bounds = binder[2]
            if type(value) is int and bounds is not None and bounds[0] <= value <= bounds[1]:
                pass  # an integer key in range: _bind's own shortcut, without the call
            elif value is not None:
                value = _bind(value, binder, query)
            return Equals([(name, value)])
    items = []
    for name, value in mapping.items():
        binder = binders.get(name)
        if binder is None:
            continue  # not an attribute: ignored, as DataJoint does
        if binder is _NOT_COMPARABLE:
            raise _blob_error(heading[name])
        items.append((name, None if value is None else _bind(value, binder, query)))
    if not items:
        return None
    if len(items) > 1:
        items.sort(key=_first)  # one order of the attributes, one cached SQL
    return Equals(items)


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
                backend = query._connection.backend
                binders = [_binders(heading, backend)[n] for n in names]
                for n, b in zip(names, binders):
                    if b is _NOT_COMPARABLE:
                        raise _blob_error(heading[n])
                unique_rows = list(
                    dict.fromkeys(tuple(_bind(r[n], b, query) for n, b in zip(names, binders)) for r in rows)
                )
                return KeySet(list(names), [b[0] for b in binders], unique_rows, backend)
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
        from .expression import check_lineage

        check_lineage(query, other, shared)
    if not shared:
        return Exists(other)
    nullable = any(query.heading[n].nullable or other.heading[n].nullable for n in shared)
    return SemiJoin(shared, other, nullable)


_NOT_COMPARABLE = object()


def _binders(heading, backend):
    """{name: (attribute, driver encoder or None, integer range for the fast path or None)} for the
    visible attributes of a heading, blobs marked: computed once per heading and backend."""
    key = ("binders", backend.name)
    found = heading.cache.get(key)
    if found is None:
        found = heading.cache[key] = {}
        for name, attr in heading.attributes.items():
            if attr.is_blob or attr.codec:
                found[name] = _NOT_COMPARABLE
                continue
            encode = backend.encoder(attr.attr_type)
            found[name] = (attr, encode, INTEGER_RANGES.get(attr.attr_type.core) if encode is None else None)
    return found


def _blob_error(attr):
    return DataJointError(
        f"Cannot restrict by blob attribute `{attr.name}` ({attr.type}): its stored form is not comparable in SQL. "
        "Restrict by key or other plain attributes instead."
    )


def _first(item):
    return item[0]


def _bind(value, binder, query):
    """A restriction value checked, normalized and encoded for the driver when the condition is built."""
    attr, encode, bounds = binder
    if type(value) is int and bounds is not None and bounds[0] <= value <= bounds[1]:
        return value  # the common key value: no normalizer, no encoder
    if type(value) is not str:
        value = _plain(value)
    try:
        value = normalize(value, attr)
        return value if encode is None else encode(value)
    except (ValueError, OverflowError) as error:
        from .expression import query_name

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


__all__ = ["AndList", "Not", "Top", "make_condition", "decimal", "uuid_module"]
