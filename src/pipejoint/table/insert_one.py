"""insert1's quick path: one dict of plain values, checked value by value and sent as one statement.

Most insert1 calls (and most make() inserts) give a dict of plain values for a table without
codecs or stores. For each table heading and set of field names, a ``RowPlan`` is built once: the
INSERT statement and one normalizer per column (core/values.py ``quick_normalizer``). A row then
costs its value checks and one statement. A single statement is atomic by itself, so outside a
transaction it runs on its own (no BEGIN/COMMIT); inside one, as a step of it (Session.run_step).

Anything else takes the general path (insert.py): other row forms and options, codecs, stores,
missing or unknown fields, None for a required attribute, and any value the quick check does not
accept. The general path checks everything again and raises the error naming the table, the
attribute and the row, so the quick path never words an error itself; when the database refuses
the row, the general path's diagnosis explains why.
"""

from __future__ import annotations

import contextvars

from ..core.values import quick_normalizer
from ..errors import DuplicateError, IntegrityError
from .insert_diagnosis import duplicate_error, integrity_error
from .insert_encoding import Column, uses_store, writes_014_objects
from .insert_sources import _known
from .insert_statements import Plan, insert_statement

_MAX_PLANS = 64  # field-name sets kept per heading

# Tables whose make() is running in this context: they accept inserts without allow_direct_insert.
making = contextvars.ContextVar("pipejoint_making", default=frozenset())


class RowPlan:
    """The statement and the per-column normalize-and-encode functions for one set of field names."""

    __slots__ = ("auto", "connection", "convert", "names", "node_name", "sql")

    def __init__(self, table, names, convert):
        self.connection = table._connection
        self.names = names
        self.sql = insert_statement(self.connection.backend, table, names, table.heading.primary_key, None)
        self.convert = convert
        self.auto = table.tier in ("imported", "computed")
        self.node_name = table.node_name


def row_plan(table, names):
    """The plan for inserting rows with these fields into `table`, or None when they need the general path."""
    heading = table._heading
    cache = heading.cache
    plan = cache.get(("insert1", names))
    if plan is not None and (plan is False or plan.connection is table._connection):
        return plan or None
    plan = _build(table, heading, names)
    if len(cache) < _MAX_PLANS:
        cache["insert1", names] = plan if plan is not None else False
    return plan


def _build(table, heading, names):
    if not names or uses_store(heading) or writes_014_objects(heading):
        return None
    attributes = heading.all_attributes
    if not all(_known(n, heading) for n in names):
        return None  # the general path names the unknown field
    present = set(names)
    if any(not a.has_default and a.name not in present for a in attributes.values()):
        return None  # ... and the missing one
    backend = table._connection.backend
    convert = []
    for name in names:
        column = Column(attributes[name], backend)
        if column.pack is not None or column.stored.storage_core in ("bytes", "blob"):
            return None  # codecs and size limits: the general path
        convert.append(_converter(column))
    return RowPlan(table, names, tuple(convert))


class _Full(Exception):
    """A value the quick check leaves to the general path."""


def _converter(column):
    """fn(value) -> the driver's value; raises _Full for what the general path must look at."""
    normalize = quick_normalizer(column.stored)
    encode = column.encode
    nullable = column.attr.nullable

    def convert(value):
        if value is None:
            if nullable:
                return None
            raise _Full  # a default to use, or the error to word
        try:
            value = normalize(value)
            return value if encode is None else encode(value)
        except (ValueError, TypeError, OverflowError):
            raise _Full from None

    return convert


def insert1_quick(table, row):
    """Insert a dict row by its plan; False when the general path has to take it (nothing was sent)."""
    if table._where:
        return False
    names = tuple(row)
    plan = row_plan(table, names)
    if plan is None:
        return False
    if plan.auto:
        if plan.node_name not in making.get():
            return False  # the general path says why not
    try:
        values = [f(v) for f, v in zip(plan.convert, row.values())]
    except _Full:
        return False
    connection = plan.connection
    try:
        connection.run_step(plan.sql, values)
    except DuplicateError as error:
        raise duplicate_error(connection, Plan(table, names, None), [values], [0], error, lookup=False) from None
    except IntegrityError as error:
        lookup = not connection.backend.error_aborts_transaction
        raise integrity_error(connection, Plan(table, names, None), [values], [0], error, lookup=lookup) from None
    return True
