"""Query expressions -> sqlglot trees -> SQL in the backend's dialect.

Compiled SQL is cached per connection by the expression's *shape* (its structure without
values), so repeating a query with other values — ``(T & key).fetch1()`` inside ``make()`` —
skips sqlglot entirely and only binds new parameters.

Values are never spliced into SQL text. The tree holds a marker per value that carries the
value's index; after rendering, the markers become the driver's placeholders and their order
is recorded, whatever order the dialect renders clauses in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from ..errors import DataJointError
from ..storage.codecs import stored_type

_MARKER = "\x01{}\x01"
_MARKER_PATTERN = re.compile("\x01(\\d+)\x01")
_CACHE_LIMIT = 4096


class Context:
    """Hands out parameter markers while a tree is built."""

    def __init__(self):
        self.count = 0

    def param(self):
        marker = exp.Var(this=_MARKER.format(self.count))
        self.count += 1
        return marker

    def param_list(self, rows, width):
        """One node holding `rows` groups of `width` markers, `(m, m), (m, m)`: large key sets stay
        one small tree instead of a node per value."""
        markers = [_MARKER.format(i) for i in range(self.count, self.count + rows * width)]
        self.count += rows * width
        if width == 1:
            return exp.Var(this=", ".join(markers))
        groups = ("(" + ", ".join(markers[i : i + width]) + ")" for i in range(0, len(markers), width))
        return exp.Var(this=", ".join(groups))


@dataclass
class Compiled:
    sql: str
    order: tuple  # parameter indices in the order the placeholders appear in `sql`

    def __post_init__(self):
        self.reordered = self.order != tuple(range(len(self.order)))

    def arguments(self, expression):
        """The expression's parameter values (encoded when its conditions were built), in placeholder order."""
        if not self.order:
            return None
        values = expression._params([])
        return [values[i] for i in self.order] if self.reordered else values


def compile_query(expression, *, count=False, exists=False):
    """The cached SQL of an expression (or of its COUNT / EXISTS)."""
    connection = expression._connection
    key = expression._shape()
    if count or exists:
        key = ("count" if count else "exists", key)
    cached = connection.sql_cache.get(key)
    if cached is not None:
        return cached
    ctx = Context()
    if count:
        tree = count_query(expression, ctx)
    elif exists:
        tree = (
            exp.select(exp.Literal.number(1))
            .from_(exp.Subquery(this=build_select(expression, ctx), alias=exp.TableAlias(this=exp.to_identifier("r"))))
            .limit(1)
        )
    else:
        tree = build_select(expression, ctx)
    compiled = finish(connection.backend, tree, ctx)
    if len(connection.sql_cache) >= _CACHE_LIMIT:
        connection.sql_cache.clear()
    connection.sql_cache[key] = compiled
    return compiled


def finish(backend, tree, ctx):
    """Render a tree and turn its markers into the driver's placeholders."""
    sql = backend.render(tree, has_params=ctx.count > 0)
    order = tuple(int(i) for i in _MARKER_PATTERN.findall(sql))
    if len(order) != ctx.count:
        raise DataJointError("Internal error: a query parameter was lost while rendering SQL.")
    placeholder = "?" if backend.paramstyle == "qmark" else "%s"
    return Compiled(_MARKER_PATTERN.sub(placeholder, sql), order)


def alias(i):
    return f"t{i}"


def column_sql(column):
    """SQL for a Column or Computed attribute mapping."""
    from .condition import substitute_columns
    from .expression import Column

    if isinstance(column, Column):
        return exp.Column(
            this=exp.to_identifier(column.name, quoted=True), table=exp.to_identifier(alias(column.source))
        )
    inputs = dict(column.inputs)
    return exp.Paren(this=substitute_columns(column.fragment, lambda name: column_sql(inputs[name])))


def resolver(columns):
    def resolve(name):
        return column_sql(columns[name])

    return resolve


def from_item(backend, source, index, ctx):
    if source.query is None:
        table = backend.table(source.schema, source.table_name)
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias(index))))
        return table
    return exp.Subquery(
        this=build_select(source.query, ctx), alias=exp.TableAlias(this=exp.to_identifier(alias(index)))
    )


def build_select(expression, ctx, only=None):
    """The SELECT for an expression; `only` limits the selected attributes (for IN subqueries)."""
    backend = expression._connection.backend
    if expression._union is not None:
        left, right = expression._union
        names = only or expression.heading.names
        return exp.union(build_select(left, ctx, names), build_select(right, ctx, names), distinct=True)
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
        item = from_item(backend, source, i, ctx)
        if i == 0:
            select = select.from_(item, copy=False)
            continue
        join = joins_by_source[i]
        if join.kind == "cross" or not join.pairs:
            select = select.join(item, join_type="CROSS", copy=False)
        else:
            on = exp.and_(*[exp.EQ(this=column_sql(a), expression=column_sql(b)) for a, b in join.pairs])
            select = select.join(item, on=on, join_type="LEFT" if join.kind == "left" else "INNER", copy=False)
    conditions = [cond.to_ast(resolver(cols), ctx) for cond, cols in expression._where]
    if conditions:
        select = select.where(
            exp.and_(*[exp.Paren(this=c) for c in conditions]) if len(conditions) > 1 else conditions[0], copy=False
        )
    if expression._group is not None:
        group = [column_sql(c) for c in expression._group]
        if group:
            select = select.group_by(*group, copy=False)
    if expression._distinct:
        select = select.distinct(copy=False)
    top = expression._top
    if top is not None:
        order = [exp.Ordered(this=column_sql(c), desc=desc, nulls_first=not desc) for c, desc in top.items]
        if order:
            select = select.order_by(*order, copy=False)
        if top.limit is not None:
            select = select.limit(top.limit, copy=False)
        elif top.offset:
            select = select.limit(2**62, copy=False)
        if top.offset:
            select = select.offset(top.offset, copy=False)
    return select


def count_query(expression, ctx):
    """SELECT COUNT(*) over the distinct primary keys of an expression."""
    keys = expression.heading.primary_key
    inner = build_select(expression, ctx, only=keys or None)
    if not expression._distinct and expression._union is None:
        inner = inner.distinct(copy=False) if keys and _may_repeat(expression) else inner
    return exp.select(exp.Count(this=exp.Star())).from_(
        exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("r")))
    )


def _may_repeat(expression):
    """A base table or a restriction of one never repeats a primary key."""
    return len(expression._sources) > 1 or any(s.query is not None for s in expression._sources)


def ordered_select(expression, ctx, order_by):
    return build_select(expression, ctx)
