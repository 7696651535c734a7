"""Restriction conditions: every form DataJoint accepts, reduced to a few condition classes.

Each condition has a *shape* (its structure without values, used as the SQL cache key), its
*params* (the values, in a fixed order), and ``to_ast`` which builds the sqlglot condition and
asks the compile context for a placeholder for each value in exactly the ``params`` order.
"""

from __future__ import annotations

import collections.abc
import decimal
import uuid as uuid_module

from .errors import DataJointError, UnknownAttributeError


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

    def shape(self):
        raise NotImplementedError

    def params(self, out):
        """Append the values, in the order to_ast asks for placeholders."""

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

    def __init__(self, items):
        self.items = items  # list of (name, value, attribute)

    def shape(self):
        return ("eq", tuple((name, value is None) for name, value, _ in self.items))

    def params(self, out):
        out.extend(ctx_value(value, attr) for _, value, attr in self.items if value is not None)

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        parts = []
        for name, value, _attr in self.items:
            column = resolve(name)
            if value is None:
                parts.append(exp.Is(this=column, expression=exp.Null()))
            else:
                parts.append(exp.EQ(this=column, expression=ctx.param()))
        return _and(parts)


class KeySet(Condition):
    """(a, b) IN ((v1, v2), ...) for many keys, e.g. a DataFrame or a list of dicts with the same keys."""

    def __init__(self, names, attributes, rows):
        self.names = names
        self.attributes = attributes
        self.rows = rows

    def shape(self):
        return ("keyset", tuple(self.names), len(self.rows))

    def params(self, out):
        for row in self.rows:
            out.extend(ctx_value(v, a) for v, a in zip(row, self.attributes))

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        if len(self.names) == 1:
            return exp.In(this=resolve(self.names[0]), expressions=[ctx.param() for _ in self.rows])
        left = exp.Tuple(expressions=[resolve(n) for n in self.names])
        tuples = [exp.Tuple(expressions=[ctx.param() for _ in self.names]) for _ in self.rows]
        return exp.In(this=left, expressions=tuples)


class SQLFragment(Condition):
    """A restriction string, parsed as the configured dialect (MySQL by default)."""

    def __init__(self, text, fragment):
        self.text = text
        self.fragment = fragment  # parsed, validated sqlglot expression over attribute names

    def shape(self):
        return ("sql", self.text)

    def to_ast(self, resolve, ctx):
        return substitute_columns(self.fragment, resolve)


class Negation(Condition):
    def __init__(self, condition):
        self.condition = condition

    def shape(self):
        return ("not", self.condition.shape())

    def params(self, out):
        self.condition.params(out)

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

    def params(self, out):
        for c in self.conditions:
            c.params(out)

    def to_ast(self, resolve, ctx):
        parts = [c.to_ast(resolve, ctx) for c in self.conditions]
        return _and(parts) if self.operator == "and" else _or(parts)


class SemiJoin(Condition):
    """(a, b) [NOT] IN (SELECT a, b FROM other): restriction by another query expression."""

    def __init__(self, names, query):
        self.names = names
        self.query = query

    def shape(self):
        return ("in", tuple(self.names), self.query._shape())

    def params(self, out):
        self.query._params(out)

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        from .compiler import build_select

        sub = build_select(self.query, ctx, only=self.names)
        if len(self.names) == 1:
            return exp.In(this=resolve(self.names[0]), query=exp.Subquery(this=sub))
        left = exp.Tuple(expressions=[resolve(n) for n in self.names])
        return exp.In(this=left, query=exp.Subquery(this=sub))


class Exists(Condition):
    """Restriction by an expression that shares no attributes: all rows if it is non-empty."""

    def __init__(self, query):
        self.query = query

    def shape(self):
        return ("exists", self.query._shape())

    def params(self, out):
        self.query._params(out)

    def to_ast(self, resolve, ctx):
        from sqlglot import exp

        from .compiler import build_select

        return exp.Exists(this=build_select(self.query, ctx))


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


def ctx_value(value, attr):
    """A Python value from a restriction, as the value compared in SQL (encoding happens later)."""
    return (value, attr)


# --- building conditions from user input ---------------------------------------------------


def parse_fragment(text, heading, dialect):
    """Parse a SQL fragment and check that every column it names is an attribute."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError as error:
        raise DataJointError(
            f"Cannot parse the SQL condition {text!r}: {str(error).splitlines()[0]}. "
            "Write it in MySQL syntax, e.g. \"age > 30 AND name LIKE 'A%'\"."
        ) from None
    names = heading.names
    for column in tree.find_all(exp.Column):
        if column.table:
            continue
        if column.name not in heading:
            raise UnknownAttributeError(
                f"Attribute `{column.name}` in {text!r} is not in the query. Available attributes: "
                f"{', '.join(names)}."
            )
    return tree


def substitute_columns(tree, resolve):
    """Replace attribute references in a parsed fragment by their SQL expressions."""
    from sqlglot import exp

    def replace(node):
        if isinstance(node, exp.Column) and not node.table:
            return resolve(node.name)
        return node

    return tree.copy().transform(replace)


def make_condition(restriction, query, semantic_check=True):
    """Turn any restriction form into a Condition over `query`'s heading. None means 'no-op'."""
    from .expression import QueryExpression, U

    heading = query.heading
    if isinstance(restriction, Condition):
        return restriction
    if isinstance(restriction, bool):
        return None if restriction else Always(False)
    if restriction is None:
        raise DataJointError("Invalid restriction None: use True for no restriction or [] for none of the rows.")
    if isinstance(restriction, str):
        from .settings import config

        fragment = parse_fragment(restriction, heading, config["query.dialect"])
        return SQLFragment(restriction, fragment)
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
        return dict_condition(restriction, heading)
    if _is_numpy_record(restriction):
        return dict_condition({n: restriction[n] for n in restriction.dtype.names}, heading)
    if _is_dataframe(restriction):
        return rows_condition(restriction.reset_index().to_dict("records") if _has_named_index(restriction) else restriction.to_dict("records"), query, semantic_check)
    if _is_record_array(restriction):
        names = restriction.dtype.names
        return rows_condition([{n: r[n] for n in names} for r in restriction], query, semantic_check)
    if isinstance(restriction, Top):
        raise DataJointError("dj.Top cannot be combined inside a list or AndList: apply it with & on its own.")
    if isinstance(restriction, collections.abc.Iterable):
        return rows_condition(list(restriction), query, semantic_check)
    raise DataJointError(f"Invalid restriction of type {type(restriction).__name__}: {restriction!r}")


def dict_condition(mapping, heading):
    """AND of attr = value for the keys that are attributes (others are ignored, as in DataJoint)."""
    items = []
    for name, value in mapping.items():
        if name in heading.attributes:
            attr = heading[name]
            if attr.is_blob or (attr.codec and attr.store):
                raise DataJointError(
                    f"Cannot restrict by blob attribute `{name}`: blobs are not comparable in SQL. "
                    "Restrict by key attributes instead."
                )
            items.append((name, _plain(value), attr))
    if not items:
        return None
    return Equals(sorted(items, key=lambda item: item[0]))


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
                attrs = [heading[n] for n in names]
                for a in attrs:
                    if a.is_blob:
                        raise DataJointError(f"Cannot restrict by blob attribute `{a.name}`.")
                unique_rows = list(dict.fromkeys(tuple(_plain(r[n]) for n in names) for r in rows))
                return KeySet(list(names), attrs, unique_rows)
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
    return SemiJoin(shared, other)


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
