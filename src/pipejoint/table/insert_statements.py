"""The SQL an insert runs.

A ``Plan`` holds, for one set of field names, the INSERT statement (rendered once and kept in
the connection's cache, so the inserts of every make() reuse it), the COPY statement where the
backend has one, and the columns' encoders. ``insert_from_query`` builds INSERT ... SELECT, so
rows read from a query never leave the server.
"""

from __future__ import annotations

import operator

from sqlglot import exp

from ..errors import UnknownAttributeError
from ..query.compiler import Context, build_select, finish
from .insert_encoding import Column, check_value_sizes, encode_column, pack_keyed
from .insert_sources import check_required


def plan_for(table, names, mode, index):
    """The Plan for these field names, kept with the table's heading (every make() that inserts the
    same fields reuses it); the required attributes are checked when it is made (row `index` named)."""
    heading = table.heading
    key = ("plan", tuple(names), mode)
    plan = heading.cache.get(key)
    if plan is not None and plan.connection is table._connection:
        return plan
    check_required(names, heading, table, index)
    plan = Plan(table, names, mode)
    if plan.value_limit is None and len(heading.cache) < 64:  # (a server's size limit may change)
        heading.cache[key] = plan
    return plan


class Plan:
    """The prepared statement and per-column handling for one set of field names."""

    def __init__(self, table, names, mode):
        connection = table._connection
        backend = connection.backend
        heading = table.heading
        self.table = table
        self.connection = connection
        self.names = list(names)
        self.columns = [Column(heading.all_attributes[n], backend) for n in names]
        self.sql = insert_statement(backend, table, names, heading.primary_key, mode)
        self.rows_per_insert = _rows_per_insert(backend, self.sql, len(self.names), backend.rows_per_insert)
        self._multirow = {}
        self.copy = backend.copy_statement(table.database, table.table_name, names) if mode is None and names else None
        has_bytes = any(c.stored.storage_core in ("bytes", "blob") for c in self.columns)
        self.value_limit = backend.max_value_bytes(connection) if has_bytes else None
        if has_bytes:
            self.copy = None  # text COPY escapes every byte of a blob; bound binary parameters do not
        # A few plain rows in one INSERT: one round trip (COPY takes two). Not with bytes, which may be
        # large, nor with ON CONFLICT, where PostgreSQL refuses one statement updating a row twice.
        few = backend.few_rows_per_insert if mode is None and not has_bytes else 0
        self.few_rows = _rows_per_insert(backend, self.sql, len(self.names), few)

    def multirow_sql(self, count):
        """The INSERT of `count` rows in one statement (VALUES (...), (...)), kept per count."""
        sql = self._multirow.get(count)
        if sql is None:
            head, group, tail = self.sql.partition(_values_group(self.connection.backend, len(self.names)))
            group = group.removeprefix("VALUES ")
            head += "VALUES "
            sql = self._multirow[count] = head + ", ".join([group] * count) + tail
        return sql

    def encode_rows(self, tuples, indices):
        """Check and encode many rows column by column; the rows for the driver. When no value had
        to change (plain ints, floats, strings), those are the rows given: no transposing back."""
        if not tuples:
            return []
        tuples = pack_keyed(self.table, self.columns, tuples, indices)
        columns = [list(map(operator.itemgetter(i), tuples)) for i in range(len(self.columns))]
        encoded = [encode_column(self.table, c, values, indices) for c, values in zip(self.columns, columns)]
        if self.value_limit:
            check_value_sizes(self, encoded, indices)
        if all(e is v for e, v in zip(encoded, columns)):
            return tuples
        return list(zip(*encoded))


def _values_group(backend, width):
    return "VALUES (" + ", ".join([backend.placeholder] * width) + ")"


def _rows_per_insert(backend, sql, width, rows):
    """Rows one multi-row INSERT takes, up to `rows`, within the backend's parameter limit (0: none)."""
    if not rows or not width or sql.count(_values_group(backend, width)) != 1:
        return 0
    return min(rows, backend.max_parameters // width)


def insert_statement(backend, table, names, key_names, mode):
    """The rendered INSERT, kept in the connection's cache: make() inserts reuse it."""
    cache = table._connection.cache
    cache_key = ("insert", table.database, table.table_name, tuple(names), tuple(key_names), mode)
    sql = cache.get(cache_key)
    if sql is None:
        sql = cache.put(cache_key, _render_insert(backend, table, names, key_names, mode))
    return sql


def _render_insert(backend, table, names, key_names, mode):
    ctx = Context()
    if not names:  # a row of defaults only: `insert1({})`
        return finish(backend, backend.insert_defaults(backend.table(table.database, table.table_name)), ctx).sql
    target = exp.Schema(
        this=backend.table(table.database, table.table_name),
        expressions=[exp.to_identifier(n, quoted=True) for n in names],
    )
    values = exp.Values(expressions=[exp.Tuple(expressions=[ctx.param() for _ in names])])
    statement = exp.Insert(this=target, expression=values)
    conflict = backend.on_conflict(mode, key_names, [n for n in names if n not in key_names])
    if conflict is not None:
        statement.set("conflict", conflict)
    return finish(backend, statement, ctx).sql


def insert_from_query(table, query, mode, ignore_extra_fields):
    """Insert a query's rows with one INSERT ... SELECT; the query's fields must be the table's."""
    connection = table._connection
    backend = connection.backend
    heading = table.heading
    names = [n for n in query.heading.names if n in heading.attributes]
    extra = [n for n in query.heading.names if n not in heading.attributes]
    if extra and not ignore_extra_fields:
        raise UnknownAttributeError(
            f"Cannot insert into {table.node_name} from a query: {', '.join(extra)} are not attributes of the table. "
            "Project them away with .proj() or pass ignore_extra_fields=True."
        )
    check_required(names, heading, table, None)
    ctx = Context()
    select = build_select(query, ctx, only=names)
    target = exp.Schema(
        this=backend.table(table.database, table.table_name),
        expressions=[exp.to_identifier(n, quoted=True) for n in names],
    )
    statement = exp.Insert(this=target, expression=select)
    conflict = backend.on_conflict(
        mode,
        heading.primary_key,
        [n for n in names if n not in heading.primary_key],
        target=(table.database, table.table_name),
    )
    if conflict is not None:
        statement.set("conflict", conflict)
        if isinstance(select, exp.Select) and not select.args.get("where"):
            select.where(exp.true(), copy=False)  # SQLite reads `ON CONFLICT` after a bare SELECT as a join
    compiled = finish(backend, statement, ctx)
    with connection.atomic():
        connection.execute(compiled.sql, compiled.arguments(query))
