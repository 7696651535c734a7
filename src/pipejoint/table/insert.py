"""insert, insert1 and update1: the entry points, and the transaction each call is.

Every value is checked against the heading before any SQL runs; a bad one raises an error that
names the table, the attribute and the row. One call is one transaction: if the last row fails,
no row is stored. Rows are sent in batches through one prepared statement (executemany, or COPY).

The parts, by job: insert_sources reads the row forms accepted, insert_encoding checks and
encodes values, insert_statements holds the SQL, insert_diagnosis explains a failure.
"""

from __future__ import annotations

import collections.abc
import contextlib
import itertools

from sqlglot import exp

from ..errors import DataJointError, DuplicateError, IntegrityError, MissingAttributeError, UnknownAttributeError
from ..query.compiler import Context, finish
from ..query.expression import QueryExpression
from .insert_diagnosis import duplicate_error, integrity_error
from .insert_encoding import Column, encode_row, uses_store
from .insert_external import tracking, write_tracked
from .insert_one import insert1_quick, making
from .insert_sources import fast_groups, row_source, slow_groups
from .insert_statements import insert_from_query, plan_for

DEFAULT_CHUNK = 5000


def _check_direct_insert(table, allow_direct_insert):
    if table.tier in ("imported", "computed") and not allow_direct_insert:
        if table.node_name not in making.get():
            raise DataJointError(
                f"Inserts into auto-populated table {table.node_name} are done by its make() during populate(). "
                "To insert directly anyway, pass allow_direct_insert=True."
            )


def _mode(replace, skip_duplicates):
    if replace:
        return "replace"
    return "skip" if skip_duplicates else None


def insert(
    table,
    rows,
    replace=False,
    skip_duplicates=False,
    ignore_extra_fields=False,
    allow_direct_insert=None,
    chunk_size=None,
):
    """Insert rows into a table in one transaction.

    Rows are read in chunks (memory stays flat for generators of millions of rows); a chunk whose
    rows all give the same fields is checked column by column, others row by row.
    """
    _check_direct_insert(table, allow_direct_insert)
    if table._where:
        raise DataJointError(f"Cannot insert into a restricted table: insert into {table.class_name} itself.")
    if isinstance(rows, type) and issubclass(rows, QueryExpression):
        rows = rows()
    if isinstance(rows, QueryExpression):
        if chunk_size is not None:
            raise DataJointError(
                f"Cannot insert into {table.class_name} from a query with chunk_size: chunk_size is not supported "
                "for inserts from a query, which run in the database in one statement. Leave chunk_size out."
            )
        return insert_from_query(table, rows, _mode(replace, skip_duplicates), ignore_extra_fields)
    connection = table._connection
    heading = table.heading
    mode = _mode(replace, skip_duplicates)
    names, source = row_source(rows, heading)
    chunk = chunk_size or DEFAULT_CHUNK
    plans = {}
    with_store = uses_store(heading)
    if with_store:  # uploads run in parallel, finish before the rows, and are removed if the insert fails
        from ..storage import stores as storage

        guard = storage.staging(owns_transaction=not connection.in_transaction)
    else:
        guard = contextlib.nullcontext()
    with guard, tracking(table), connection.atomic():
        index = 0
        while True:
            batch = list(itertools.islice(source, chunk))
            if not batch:
                break
            groups = fast_groups(batch, index, names, heading, table, ignore_extra_fields)
            if groups is None:
                groups = slow_groups(batch, index, names, heading, table, ignore_extra_fields)
            for row_names, indices, tuples in groups:
                key = tuple(row_names)
                plan = plans.get(key)
                if plan is None:
                    plan = plans[key] = plan_for(table, row_names, mode, indices[0])
                encoded = plan.encode_rows(tuples, indices)
                if with_store:
                    storage.flush()  # the objects exist before the rows that refer to them
                write_tracked(connection)  # and DataJoint 0.14's ~external rows that track them
                _send(connection, plan, encoded, indices)
            index += len(batch)


def _send(connection, plan, rows, indices):
    """Hand encoded rows to the driver: one multi-row INSERT where the backend takes them (SQLite,
    or a few rows on PostgreSQL), COPY where the backend has it, else executemany (one row: execute).

    Rows sent in more than one statement go under a savepoint, so that after a duplicate the rows
    already sent can be taken back and the table searched for the key that was there before; so do
    all rows where a failure aborts the transaction (PostgreSQL). One statement elsewhere undoes
    itself when it fails, and needs none.
    """
    several = len(rows) > 1
    backend = connection.backend
    step = plan.rows_per_insert or (plan.few_rows if len(rows) <= plan.few_rows else 0)
    savepoint = None
    if several:
        if step:
            one_statement = len(rows) <= step
        else:
            one_statement = plan.copy is not None or backend.executemany_is_one_statement(plan.sql, rows)
        if backend.error_aborts_transaction or not one_statement:
            savepoint = connection.write_savepoint()
    try:
        if step and several:
            for start in range(0, len(rows), step):
                part = rows[start : start + step]
                connection.execute(plan.multirow_sql(len(part)), list(itertools.chain.from_iterable(part)))
        elif plan.copy is not None and several:
            try:
                connection.backend.copy_rows(connection._raw, plan.copy, rows)
            except Exception as error:
                raise connection._translate(error, plan.copy) from None
        elif several or not rows[0]:  # (execute() without values would leave a %% in the SQL doubled)
            connection.executemany(plan.sql, rows)
        else:  # PyMySQL's executemany builds a one-row statement twice more (2 MB copies for a 1 MB blob)
            connection.execute(plan.sql, rows[0])
    except DuplicateError as error:
        lookup = several and _undo(connection, savepoint)
        raise duplicate_error(connection, plan, rows, indices, error, lookup=lookup) from None
    except IntegrityError as error:
        lookup = _undo(connection, savepoint) if several else not backend.error_aborts_transaction
        raise integrity_error(connection, plan, rows, indices, error, lookup=lookup) from None


def _undo(connection, savepoint):
    """Take back the rows of a failed batch: whether the table is as before it, to be searched."""
    if savepoint is None:
        return True  # one statement, undone by its own failure
    try:
        connection.execute(f"ROLLBACK TO SAVEPOINT {savepoint}", reconnect=False)
    except Exception:
        return False
    return True


def insert1(table, row, **kwargs):
    """Insert one row (a dict, a record or a sequence in heading order)."""
    if type(row) is dict:
        if not kwargs and insert1_quick(table, row):
            return
    elif isinstance(row, (str, bytes)) or (
        not isinstance(row, (collections.abc.Mapping, collections.abc.Sequence)) and type(row).__module__ != "numpy"
    ):
        raise DataJointError(f"insert1() takes one row (a dict or a sequence), not {type(row).__name__}.")
    insert(table, [row], **kwargs)


def update1(table, row):
    """Change secondary attributes of one existing row, named by its full primary key."""
    if not isinstance(row, collections.abc.Mapping):
        raise DataJointError("update1() takes a dict with the primary key and the attributes to change.")
    if table._where:
        raise DataJointError("update1() works on the table itself, not on a restriction of it.")
    heading = table.heading
    key_names = heading.primary_key
    missing = [k for k in key_names if k not in row]
    if missing:
        raise DataJointError(
            f"update1() on {table.node_name} needs the full primary key: {', '.join(missing)} missing."
        )
    unknown = [n for n in row if n not in heading.attributes]
    if unknown:
        raise UnknownAttributeError(
            f"update1() on {table.node_name}: {', '.join(unknown)} not in the table (attributes: {', '.join(heading.names)})."
        )
    changes = [n for n in row if n not in key_names]
    if not changes:
        raise DataJointError(f"update1() on {table.node_name}: name at least one secondary attribute to change.")
    connection = table._connection
    if uses_store(heading):  # objects are uploaded, and removed again if the update fails
        from ..storage import stores as storage

        guard = storage.staging(owns_transaction=not connection.in_transaction)
    else:
        guard = contextlib.nullcontext()
    with guard, tracking(table):
        _update1(table, heading, key_names, changes, row)


def _update1(table, heading, key_names, changes, row):
    connection = table._connection
    backend = connection.backend
    key = {k: row[k] for k in key_names}
    ctx = Context()
    assignments = []
    values = []
    for name in changes:
        attr = heading[name]
        value = row[name]
        if value is None:
            if attr.nullable:
                assignments.append(exp.EQ(this=exp.column(name, quoted=True), expression=exp.Null()))
            elif attr.default is not None:
                assignments.append(exp.EQ(this=exp.column(name, quoted=True), expression=backend.default_value(attr)))
            else:
                raise MissingAttributeError(
                    f"update1() on {table.node_name}, key {key}, attribute `{name}`: None for a required attribute "
                    "without a default. Give a value, or declare the attribute with `= null`."
                )
            continue
        plan_column = Column(attr, backend)
        try:
            encoded = encode_row(table, [plan_column], [value], None, key=key if plan_column.keyed else None)[0]
        except DataJointError as error:
            message = str(error).replace(
                f"Cannot insert into {table.node_name}, the row,", f"update1() on {table.node_name}, key {key},", 1
            )
            raise type(error)(message) from None
        assignments.append(exp.EQ(this=exp.column(name, quoted=True), expression=ctx.param()))
        values.append(encoded)
    where = []
    for name in key_names:
        where.append(exp.EQ(this=exp.column(name, quoted=True), expression=ctx.param()))
        values.append(backend.encode(key[name], heading[name]))
    statement = exp.Update(
        this=backend.table(table.database, table.table_name),
        expressions=assignments,
        where=exp.Where(this=exp.and_(*where)),
    )
    compiled = finish(backend, statement, ctx)
    with connection.atomic():
        if len(table & key) != 1:
            raise DataJointError(f"update1(): no row of {table.node_name} has the key {key}; insert it first.")
        from ..storage import stores as storage

        storage.flush()  # the objects exist before the row refers to them
        write_tracked(connection)  # with DataJoint 0.14's ~external rows
        connection.execute(compiled.sql, [values[i] for i in compiled.order] if compiled.order else None)
