"""Query expressions -> sqlglot trees -> SQL in the backend's dialect: the only place SQL is built.

`Compiler` visits an expression's data (nodes.py, relation.py) and builds its sqlglot tree for
one backend. Compiled SQL is cached per connection by the expression's *shape* (its structure
without values), so repeating a query with other values — ``(T & key).fetch1()`` inside
``make()`` — skips sqlglot entirely and only binds new parameters.

Values are never spliced into SQL text. The tree holds a marker per placeholder that carries
its index; after rendering, the markers become the driver's placeholders and their order is
recorded, whatever order the dialect renders clauses in. Conditions hold the user's values;
how they are sent to this connection's driver (each value encoded for its attribute, large key
sets as arrays) is recorded with the compiled SQL and applied by `Compiled.arguments`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from ..errors import DataJointError, InvalidValueError
from ..storage.codecs import stored_type
from .fragments import substitute_columns
from .nodes import Column
from .relation import query_name

_MARKER = "\x01{}\x01"
_MARKER_PATTERN = re.compile("\x01(\\d+)\x01")
ARRAYS_ABOVE = 10_000  # parameters: above this a key set goes as arrays where the backend limits them


# --- placeholders and binding ------------------------------------------------------------


class Context:
    """Hands out parameter markers while a tree is built, and records how values are bound.

    Markers are numbered in the order they are handed out, and stand for the expression's values
    (its `params`) in the same order: one value each, except a key set sent as arrays (one marker
    per column). `binding` records the runs of values that need work before the driver gets them:
    (first value, rows, width, encoders per column, attributes per column, sent as arrays)."""

    def __init__(self):
        self.count = 0  # markers handed out
        self.values = 0  # values they stand for
        self.binding = []

    def param(self, encode=None, attribute=None):
        """A marker for one value; `encode` turns it into the driver's value (for `attribute`)."""
        if encode is not None:
            self.binding.append((self.values, 1, 1, (encode,), (attribute,), False))
        self.values += 1
        return self._marker()

    def _marker(self):
        marker = exp.Var(this=_MARKER.format(self.count))
        self.count += 1
        return marker

    def param_list(self, rows, width, encoders=None, attributes=None):
        """One node holding `rows` groups of `width` markers, `(m, m), (m, m)`: large key sets stay
        one small tree instead of a node per value."""
        if encoders is not None and any(encoders):
            self.binding.append((self.values, rows, width, tuple(encoders), tuple(attributes), False))
        self.values += rows * width
        markers = [_MARKER.format(i) for i in range(self.count, self.count + rows * width)]
        self.count += rows * width
        if width == 1:
            return exp.Var(this=", ".join(markers))
        groups = ("(" + ", ".join(markers[i : i + width]) + ")" for i in range(0, len(markers), width))
        return exp.Var(this=", ".join(groups))

    def param_arrays(self, rows, encoders, attributes):
        """One marker per column of `rows` key values (given row by row), each bound to an array."""
        width = len(encoders)
        self.binding.append((self.values, rows, width, tuple(encoders), tuple(attributes), True))
        self.values += rows * width
        return [self._marker() for _ in range(width)]


@dataclass
class Compiled:
    sql: str
    order: tuple  # argument indices in the order the placeholders appear in `sql`
    binding: tuple = ()  # how values become arguments (see Context), empty when they go as they are

    def __post_init__(self):
        self.reordered = self.order != tuple(range(len(self.order)))

    def arguments(self, expression):
        """The expression's values, bound for this SQL's driver, in placeholder order."""
        if not self.order:
            return None
        values = expression._params([])
        if self.binding:
            values = _bind(self.binding, values, expression)
        return [values[i] for i in self.order] if self.reordered else values


def _bind(binding, values, expression):
    """The driver's arguments for the values: encoded, key columns grouped into arrays."""
    out = []
    position = 0
    for first, rows, width, encoders, attributes, as_arrays in binding:
        out += values[position:first]
        position = first + rows * width
        run = values[first:position]
        if width == 1:
            columns = [run]
        else:
            columns = [run[i::width] for i in range(width)]
        columns = [
            column if encode is None else _encoded(encode, column, attribute, expression)
            for column, encode, attribute in zip(columns, encoders, attributes)
        ]
        if as_arrays:
            out += columns
        elif width == 1:
            out += columns[0]
        else:
            out += [value for row in zip(*columns) for value in row]
    out += values[position:]
    return out


def _encoded(encode, values, attribute, expression):
    try:
        return [encode(v) for v in values]
    except (ValueError, OverflowError):
        for value in values:
            try:
                encode(value)
            except (ValueError, OverflowError) as error:
                raise InvalidValueError(
                    f"Cannot restrict {query_name(expression)} by {attribute.name}={value!r}: {error}. "
                    f"Give `{attribute.name}` a value of type {attribute.type}."
                ) from None
        raise


# --- compiling and caching ---------------------------------------------------------------


def compile_query(expression, *, count=False, exists=False):
    """The SQL of an expression (or of its COUNT / EXISTS), compiled once per shape and connection.

    This is the one place the compiler reads and fills the connection's SQL cache."""
    connection = expression._connection
    key = expression._shape()
    if count or exists:
        key = ("count" if count else "exists", key)
    compiled = connection.cache.get(key)
    if compiled is None:
        compiled = _compile(connection.backend, expression, count, exists)
        connection.cache.put(key, compiled)
    return compiled


def _compile(backend, expression, count, exists):
    ctx = Context()
    compiler = Compiler(backend, ctx)
    if count:
        tree = compiler.count(expression)
    elif exists:
        tree = compiler.exists(expression)
    else:
        tree = compiler.select(expression)
    return finish(backend, tree, ctx)


def finish(backend, tree, ctx):
    """Render a tree and turn its markers into the driver's placeholders."""
    sql = backend.render(tree, has_params=ctx.count > 0)
    order = tuple(int(i) for i in _MARKER_PATTERN.findall(sql))
    if len(set(order)) != ctx.count:  # (a marker may appear more than once)
        raise DataJointError("Internal error: a query parameter was lost while rendering SQL.")
    return Compiled(_MARKER_PATTERN.sub(backend.placeholder, sql), order, tuple(ctx.binding))


def build_select(expression, ctx, only=None):
    """The SELECT for an expression; `only` limits the selected attributes (for IN subqueries)."""
    return Compiler(expression._connection.backend, ctx).select(expression, only)


def condition_sql(condition, resolve, backend, ctx):
    """A condition's SQL; `resolve` turns each attribute name it reads into a column."""
    return Compiler(backend, ctx).condition(condition, resolve)


# --- attributes ----------------------------------------------------------------------------


def alias(i):
    return f"t{i}"


def column_sql(column):
    """SQL for a Column or Computed attribute mapping."""
    if type(column) is Column:
        return exp.Column(
            this=exp.to_identifier(column.name, quoted=True), table=exp.to_identifier(alias(column.source))
        )
    inputs = dict(column.inputs)
    fragment = column.fragment
    if column.counts is not None:
        fragment = _count_matches(fragment, column.counts)
    return exp.Paren(this=substitute_columns(fragment, lambda name: column_sql(inputs[name])))


def _count_matches(fragment, marker_column):
    """COUNT(*) -> COUNT(<a key column of the group>): unmatched rows of a left join count 0."""

    def rewrite(node):
        if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
            return exp.Count(this=exp.column(marker_column))
        return node

    return fragment.transform(rewrite)


def resolver(columns):
    def resolve(name):
        return column_sql(columns[name])

    return resolve


# --- the visitor ---------------------------------------------------------------------------


class Compiler:
    """Builds the sqlglot tree of an expression for one backend, asking `ctx` for a placeholder
    for each value in the order of the expression's params."""

    def __init__(self, backend, ctx):
        self.backend = backend
        self.ctx = ctx

    # --- relations ---
    def select(self, expression, only=None):
        """The SELECT of an expression; `only` limits the selected attributes."""
        backend = self.backend
        if expression._union is not None:
            left, right = expression._union
            names = only or expression.heading.names
            return exp.union(self.select(left, names), self.select(right, names), distinct=True)
        names = list(only) if only is not None else expression.heading.names
        resolve = resolver(expression._columns)
        heading = expression.heading
        select = exp.Select(
            expressions=[
                exp.alias_(backend.select_value(resolve(n), stored_type(heading[n].attr_type)), n, quoted=True)
                for n in names
            ]
        )
        if not names:
            select = exp.Select(expressions=[exp.Literal.number(1)])
        joins_by_source = {j.source: j for j in expression._joins}
        for i, source in enumerate(expression._sources):
            item = self.from_item(source, i)
            if i == 0:
                select = select.from_(item, copy=False)
                continue
            join = joins_by_source[i]
            if join.kind == "cross" or not join.pairs:
                select = select.join(item, join_type="CROSS", copy=False)
            else:
                on = exp.and_(*[exp.EQ(this=column_sql(a), expression=column_sql(b)) for a, b in join.pairs])
                select = select.join(item, on=on, join_type="LEFT" if join.kind == "left" else "INNER", copy=False)
        conditions = [self.condition(cond, resolver(cols)) for cond, cols in expression._where]
        if conditions:
            select = select.where(
                exp.and_(*[exp.Paren(this=c) for c in conditions]) if len(conditions) > 1 else conditions[0],
                copy=False,
            )
        if expression._group is not None:
            group = [column_sql(c) for c in expression._group]
            if group:
                select = select.group_by(*group, copy=False)
        if expression._distinct:
            select = select.distinct(copy=False)
        top = expression._top
        if top is not None:
            order = [
                backend.order_item(column_sql(c), desc, _nullable(heading, name, c))
                for (c, desc), name in zip(top.items, top.order_names)
            ]
            if order:
                select = select.order_by(*order, copy=False)
            if top.limit is not None:
                select = select.limit(top.limit, copy=False)
            elif top.offset:
                select = select.limit(2**62, copy=False)
            if top.offset:
                select = select.offset(top.offset, copy=False)
        return select

    def from_item(self, source, index):
        if source.query is None:
            table = self.backend.table(source.schema, source.table_name)
            table.set("alias", exp.TableAlias(this=exp.to_identifier(alias(index))))
            return table
        return exp.Subquery(this=self.select(source.query), alias=exp.TableAlias(this=exp.to_identifier(alias(index))))

    def count(self, expression):
        """SELECT COUNT(*) over the distinct primary keys of an expression."""
        keys = expression.heading.primary_key
        inner = self.select(expression, only=keys or None)
        if not expression._distinct and expression._union is None:
            inner = inner.distinct(copy=False) if keys and _may_repeat(expression) else inner
        return exp.select(exp.Count(this=exp.Star())).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("r")))
        )

    def exists(self, expression):
        """SELECT 1 when the expression has a row."""
        return (
            exp.select(exp.Literal.number(1))
            .from_(exp.Subquery(this=self.select(expression), alias=exp.TableAlias(this=exp.to_identifier("r"))))
            .limit(1)
        )

    # --- conditions: one visit_<class name> per condition node ---
    def condition(self, condition, resolve):
        visit = getattr(self, "visit_" + type(condition).__name__, None)
        if visit is None:
            raise DataJointError(f"Internal error: no SQL for the condition {type(condition).__name__}.")
        return visit(condition, resolve)

    def visit_Always(self, condition, resolve):
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1 if condition.value else 0))

    visit_UnknownKeys = visit_Always  # TRUE: it restricts nothing

    def visit_Equals(self, condition, resolve):
        heading = condition.heading
        parts = []
        for name, value in condition.items:
            column = resolve(name)
            if value is None:
                parts.append(exp.Is(this=column, expression=exp.Null()))
            else:
                attribute = heading[name]
                marker = self.ctx.param(self.backend.encoder(attribute.attr_type), attribute)
                parts.append(exp.EQ(this=column, expression=marker))
        return _and(parts)

    def visit_KeySet(self, condition, resolve):
        """An IN list; where the backend limits parameters, a large set as one array per attribute."""
        names = condition.key_names
        attributes = [condition.heading[n] for n in names]
        encoders = [self.backend.encoder(a.attr_type) for a in attributes]
        columns = [resolve(n) for n in names]
        rows = len(condition.rows)
        if self.backend.key_array_condition is not None and rows * len(names) > ARRAYS_ABOVE:
            markers = self.ctx.param_arrays(rows, encoders, attributes)
            return self.backend.key_array_condition(columns, markers, attributes)
        values = self.ctx.param_list(rows, len(names), encoders, attributes)
        left = columns[0] if len(names) == 1 else exp.Tuple(expressions=columns)
        return exp.In(this=left, expressions=[values])

    def visit_KeyAfter(self, condition, resolve):
        """(a, b) > (x, y) in the form the backend runs as a range of its primary-key index (a row
        value, or an OR of ranges on MySQL). The values are the driver's own: sent as they are; a
        form may repeat a marker."""
        markers = [self.ctx.param() for _ in condition.key_names]
        return self.backend.key_after([resolve(n) for n in condition.key_names], markers)

    def visit_SQLFragment(self, condition, resolve):
        return substitute_columns(condition.fragment, resolve)

    def visit_Negation(self, condition, resolve):
        return exp.Not(this=exp.Paren(this=self.condition(condition.condition, resolve)))

    def visit_Combination(self, condition, resolve):
        parts = [self.condition(c, resolve) for c in condition.conditions]
        return _and(parts) if condition.operator == "and" else _or(parts)

    def visit_SemiJoin(self, condition, resolve):
        """``(a, b) IN (SELECT a, b FROM other)``, which every engine runs as a semijoin. When an
        attribute can be NULL, IN turns into unknown (and NOT IN drops every row once the other
        side holds a NULL), so a correlated EXISTS keeps the meaning "has a match", which stays
        true or false under negation."""
        names = condition.key_names
        sub = self.select(condition.query, only=names)
        if condition.nullable:
            matched = exp.TableAlias(this=exp.to_identifier("m"))
            on = [exp.EQ(this=exp.column(n, table="m", quoted=True), expression=resolve(n)) for n in names]
            inner = exp.select(exp.Literal.number(1)).from_(exp.Subquery(this=sub, alias=matched))
            return exp.Exists(this=inner.where(exp.and_(*on)))
        if sub.args.get("limit") is not None:
            # MariaDB refuses LIMIT inside IN (...); a derived table around it means the same everywhere
            sub = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(
                exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier("limited")))
            )
        if len(names) == 1:
            return exp.In(this=resolve(names[0]), query=exp.Subquery(this=sub))
        left = exp.Tuple(expressions=[resolve(n) for n in names])
        return exp.In(this=left, query=exp.Subquery(this=sub))

    def visit_Exists(self, condition, resolve):
        return exp.Exists(this=self.select(condition.query))


def _nullable(heading, name, column):
    """Whether an ORDER BY item may be NULL: a plain attribute declared NOT NULL (every key
    attribute) cannot; an attribute a projection dropped, or a computed one, may."""
    name = name.split()[0]
    if type(column) is not Column or name not in heading.names:
        return True
    return heading[name].nullable


def _may_repeat(expression):
    """A base table or a restriction of one never repeats a primary key."""
    return len(expression._sources) > 1 or any(s.query is not None for s in expression._sources)


def _and(parts):
    if not parts:
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1))
    return parts[0] if len(parts) == 1 else exp.and_(*[exp.Paren(this=p) for p in parts])


def _or(parts):
    if not parts:
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))
    return parts[0] if len(parts) == 1 else exp.or_(*[exp.Paren(this=p) for p in parts])
