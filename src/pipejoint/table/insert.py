"""insert, insert1 and update1.

Every value is checked against the heading before any SQL runs; a bad one raises an error that
names the table, the attribute and the row. One call is one transaction: if the last row fails,
no row is stored. Rows are sent in batches through one prepared statement (executemany).
"""

from __future__ import annotations

import collections.abc
import contextlib
import contextvars
import itertools
import math
import operator

from sqlglot import exp

from ..core.values import fast_checker, is_inf, is_nan, normalizer
from ..errors import (
    DataJointError,
    DuplicateError,
    IntegrityError,
    InvalidValueError,
    MissingAttributeError,
    UnknownAttributeError,
)
from ..query.compiler import Context, build_select, finish
from ..storage.codecs import stored_type

DEFAULT_CHUNK = 5000

# Tables whose make() is running in this context: they accept inserts without allow_direct_insert.
making = contextvars.ContextVar("pipejoint_making", default=frozenset())


def _check_direct_insert(table, allow_direct_insert):
    if table.tier in ("imported", "computed") and not allow_direct_insert:
        if table.node_name not in making.get():
            raise DataJointError(
                f"Inserts into auto-populated table {table.node_name} are done by its make() during populate(). "
                "To insert directly anyway, pass allow_direct_insert=True."
            )


class _Column:
    """How one attribute's values are checked and encoded."""

    __slots__ = ("attr", "encode", "fast", "keyed", "name", "normalize", "pack", "stored", "stores_inf", "stores_nan")

    def __init__(self, attr, backend):
        self.name = attr.name
        self.attr = attr
        self.stored = stored_type(attr.attr_type)
        self.normalize = normalizer(self.stored)
        self.encode = backend.encoder(self.stored)
        self.pack = _packer(attr)
        self.keyed = getattr(self.pack, "needs_key", False)  # packed row by row with the key (_pack_keyed)
        self.stores_nan = backend.stores_nan
        self.stores_inf = backend.stores_inf
        self.fast = None if self.pack is not None else fast_checker(attr)


def _packer(attr):
    """fn(value, key=None) running the attribute's codec chain (outermost codec first), or None.

    Codecs that need the row's key (stores, user codecs) are marked ``needs_key``.
    """
    if attr.codec is None:
        return None
    from ..storage.codecs import pipeline

    try:
        encode, needs_key = pipeline.encoder(attr)
    except DataJointError as error:
        message = str(error).rstrip(".")

        def encode(value, key=None):
            raise DataJointError(message)

        return encode
    if needs_key:
        encode.needs_key = True
    return encode


def _pack_keyed(table, columns, tuples, indices, key=None):
    """Run the codecs that need the row's key (schema, table, primary key), row by row."""
    keyed = [i for i, c in enumerate(columns) if c.keyed]
    if not keyed:
        return tuples
    key_positions = {c.name: i for i, c in enumerate(columns) if c.attr.in_key}
    base = {"_schema": table.database, "_table": table.table_name}
    out = []
    for row, index in zip(tuples, indices):
        row = list(row)
        row_key = (
            dict(base, **key)
            if key is not None
            else dict(base, **{n: row[key_positions[n]] for n in table.heading.primary_key if n in key_positions})
        )
        for i in keyed:
            if row[i] is None:
                continue
            column = columns[i]
            try:
                row[i] = column.pack(row[i], dict(row_key, _field=column.name))
            except Exception as error:
                cls = type(error) if isinstance(error, DataJointError) else InvalidValueError
                raise _row_error(cls, table, index, column.name, str(error).rstrip(".")) from None
        out.append(tuple(row))
    return out


def _uses_store(heading):
    """True when some attribute's codec chain writes to an object store."""
    from ..storage.codecs import pipeline

    for attr in heading.attributes.values():
        if attr.codec is not None:
            try:
                if pipeline.chain_of(attr).uses_store:
                    return True
            except DataJointError:
                pass
    return False


def _row_error(cls, table, row_index, attr_name, message, fix=""):
    where = f"row {row_index}" if row_index is not None else "the row"
    return cls(
        f"Cannot insert into {table.node_name}, {where}, attribute `{attr_name}`: {message}.{(' ' + fix) if fix else ''}"
    )


class _Plan:
    """The prepared statement and per-column handling for one set of field names."""

    def __init__(self, table, names, mode):
        connection = table._connection
        backend = connection.backend
        heading = table.heading
        self.table = table
        self.names = list(names)
        self.columns = [_Column(heading.all_attributes[n], backend) for n in names]
        self.sql = insert_statement(backend, table, names, heading.primary_key, mode)
        self.copy = backend.copy_statement(table.database, table.table_name, names) if mode is None else None
        has_bytes = any(c.stored.storage_core in ("bytes", "blob") for c in self.columns)
        self.value_limit = backend.max_value_bytes(connection) if has_bytes else None
        if has_bytes:
            self.copy = None  # text COPY escapes every byte of a blob; bound binary parameters do not

    def encode(self, row, index):
        return encode_row(self.table, self.columns, row, index)

    def encode_rows(self, tuples, indices):
        """Check and encode many rows column by column; the rows for the driver. When no value had
        to change (plain ints, floats, strings), those are the rows given: no transposing back."""
        if not tuples:
            return []
        tuples = _pack_keyed(self.table, self.columns, tuples, indices)
        columns = [list(map(operator.itemgetter(i), tuples)) for i in range(len(self.columns))]
        encoded = [_encode_column(self.table, c, values, indices) for c, values in zip(self.columns, columns)]
        if self.value_limit:
            _check_value_sizes(self, encoded, indices)
        if all(e is v for e, v in zip(encoded, columns)):
            return tuples
        return list(zip(*encoded))


def _check_value_sizes(plan, encoded, indices):
    """A value larger than the server accepts is refused here, before the server drops the connection."""
    limit = plan.value_limit
    for column, values in zip(plan.columns, encoded):
        if column.stored.storage_core not in ("bytes", "blob"):
            continue
        for k, value in enumerate(values):
            if value is not None and len(value) > limit:
                backend = plan.table._connection.backend
                raise _row_error(
                    InvalidValueError,
                    plan.table,
                    indices[k],
                    column.name,
                    f"the value is {len(value) / 1e6:.1f} MB, more than the {limit / 1e6:.1f} MB "
                    f"the {backend.name} server accepts in one statement",
                    backend.value_limit_fix,
                )


_NONE = type(None)


def _encode_column(table, column, values, indices):
    """One column of a batch, normalized and encoded; errors name the row."""
    types = set(map(type, values))
    if _NONE not in types:
        return _encode_values(table, column, values, indices, types)
    attr = column.attr
    present = [i for i, v in enumerate(values) if v is not None]
    if not attr.nullable:
        first = next(i for i, v in enumerate(values) if v is None)
        raise _row_error(
            MissingAttributeError,
            table,
            indices[first],
            attr.name,
            "the value is None but the attribute is required",
            "Give a value, or declare the attribute with `= null`.",
        )
    encoded = _encode_values(
        table, column, [values[i] for i in present], [indices[i] for i in present], types - {_NONE}
    )
    out = [None] * len(values)
    for i, value in zip(present, encoded):
        out[i] = value
    return out


def _encode_values(table, column, values, indices, types):
    normalized = column.fast(values, types) if column.fast is not None else None
    if normalized is None:
        normalized = [_normalize_one(table, column, v, indices[k]) for k, v in enumerate(values)]
    if column.stored.storage_core in ("float32", "float64") and not all(map(math.isfinite, normalized)):
        for k, value in enumerate(normalized):
            _check_special_float(table, column, value, indices[k])
    if column.encode is None:
        return normalized
    try:
        return list(map(column.encode, normalized))
    except (ValueError, OverflowError):
        for k, value in enumerate(normalized):  # find the row
            try:
                column.encode(value)
            except (ValueError, OverflowError) as error:
                raise _row_error(InvalidValueError, table, indices[k], column.name, str(error)) from None
        raise


def _normalize_one(table, column, value, index):
    attr = column.attr
    if column.pack is not None and not column.keyed:
        try:
            value = column.pack(value)
        except Exception as error:
            cls = type(error) if isinstance(error, DataJointError) else InvalidValueError
            raise _row_error(cls, table, index, attr.name, str(error).rstrip(".")) from None
    try:
        return column.normalize(value, column.stored)
    except ValueError as error:
        raise _row_error(InvalidValueError, table, index, attr.name, str(error)) from None


def _check_special_float(table, column, value, index):
    """NaN never in a key; NaN and ±inf only where the backend stores them."""
    attr = column.attr
    backend = table._connection.backend.name
    if is_nan(value):
        if attr.in_key:
            raise _row_error(InvalidValueError, table, index, attr.name, "NaN cannot be part of a primary key")
        if not column.stores_nan:
            raise _row_error(
                InvalidValueError,
                table,
                index,
                attr.name,
                f"the {backend} backend cannot store NaN",
                "Use None for a missing value (declare the attribute `= null`).",
            )
    elif is_inf(value) and not column.stores_inf:
        raise _row_error(
            InvalidValueError,
            table,
            index,
            attr.name,
            f"the {backend} backend cannot store {value}",
            "Use None, or a finite value.",
        )


def encode_row(table, columns, row, index, key=None):
    """Check, serialize and encode one row's values for the driver (``key``: the row's key, for codecs)."""
    out = []
    if key is not None or any(c.keyed for c in columns):
        row = _pack_keyed(table, columns, [row], [index], key)[0]
    for column, value in zip(columns, row):
        attr = column.attr
        if value is None:
            if attr.nullable:
                out.append(None)
                continue
            raise _row_error(
                MissingAttributeError,
                table,
                index,
                attr.name,
                "the value is None but the attribute is required",
                "Give a value, or declare the attribute with `= null`.",
            )
        value = _normalize_one(table, column, value, index)
        if isinstance(value, float) and not math.isfinite(value):
            _check_special_float(table, column, value, index)
        if column.encode is not None:
            try:
                value = column.encode(value)
            except (ValueError, OverflowError) as error:
                raise _row_error(InvalidValueError, table, index, attr.name, str(error)) from None
        out.append(value)
    return out


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


def _mode(replace, skip_duplicates):
    if replace:
        return "replace"
    return "skip" if skip_duplicates else None


# --- turning the many accepted row forms into (names, iterator of tuples) -----------------


def _is_dataframe(rows):
    return type(rows).__name__ == "DataFrame" and type(rows).__module__.startswith("pandas")


def _row_source(rows, heading):
    """(names or None, iterator of rows) for every form insert accepts.

    Column-oriented inputs (pandas, polars, arrow, numpy) are read column by column as Python
    values, so no per-cell numpy scalars reach the checks.
    """
    module = type(rows).__module__
    if _is_dataframe(rows):
        frame = rows
        if any(n is not None for n in frame.index.names) and all(n in heading for n in frame.index.names):
            frame = frame.reset_index()
        names = [str(c) for c in frame.columns]
        columns = [_pandas_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
        return names, zip(*columns)
    if module.startswith("polars") and type(rows).__name__ == "DataFrame":
        return list(rows.columns), zip(*[rows.get_column(n).to_list() for n in rows.columns])
    if module.startswith("pyarrow") and type(rows).__name__ in ("Table", "RecordBatch"):
        names = list(rows.column_names)
        return names, zip(*[rows.column(n).to_pylist() for n in names])
    if module == "numpy" and getattr(getattr(rows, "dtype", None), "names", None):
        names = list(rows.dtype.names)
        if not rows.ndim:
            return names, iter([tuple(rows.tolist())])
        return names, zip(*[_numpy_column(rows[n]) for n in names])
    if isinstance(rows, (str, bytes)) or not isinstance(rows, collections.abc.Iterable):
        raise DataJointError(
            f"insert() takes an iterable of rows, not {type(rows).__name__}: use insert1() for one row."
        )
    return None, iter(rows)


def _numpy_column(array):
    """Python values; object columns (blobs) keep their elements as they are."""
    return list(array) if array.dtype == object else array.tolist()


def _pandas_column(series):
    """A DataFrame column as Python values; pandas' missing markers (NaT, NA) become None."""
    if series.dtype == object or str(series.dtype) in ("string", "category") or series.dtype.kind in "Mm":
        values = series.astype(object).tolist()
        return [_from_pandas(v) for v in values]
    if series.dtype.kind in "iufb":
        return series.tolist()
    return [_from_pandas(v) for v in series.astype(object).tolist()]


def _from_pandas(value):
    """pandas missing markers -> None; Timestamps -> datetime."""
    if value is None:
        return None
    name = type(value).__name__
    if name in ("NaTType", "NAType"):
        return None
    if name == "Timestamp":
        return value.to_pydatetime()
    return value


def _row_values(row, names, heading, index, table):
    """A row (dict, record, sequence) as (names, values)."""
    if isinstance(row, collections.abc.Mapping):
        row_names = list(row)
        values = [row[n] for n in row_names]
    elif type(row).__module__ == "numpy" and getattr(getattr(row, "dtype", None), "names", None):
        row_names = list(row.dtype.names)
        values = [row[n] for n in row_names]
    elif isinstance(row, collections.abc.Sequence) and not isinstance(row, (str, bytes)):
        if names is not None:
            row_names = names
        else:
            row_names = heading.names
        if len(row) != len(row_names):
            raise DataJointError(
                f"Cannot insert into {table.node_name}, row {index}: it has {len(row)} values but the table has "
                f"{len(row_names)} attributes ({', '.join(row_names)}). Use a dict to name the values."
            )
        values = list(row)
    else:
        raise DataJointError(
            f"Cannot insert into {table.node_name}, row {index}: a row is a dict, a record or a sequence, not {type(row).__name__}."
        )
    return row_names, values


def _known(name, heading):
    return name in heading.all_attributes and not (name.startswith("_") and name not in heading.attributes)


def _unknown_error(table, index, name, heading):
    return UnknownAttributeError(
        f"Cannot insert into {table.node_name}, row {index}: `{name}` is not an attribute of the table "
        f"(attributes: {', '.join(heading.names)}). Pass ignore_extra_fields=True to skip unknown fields."
    )


def _select_fields(row_names, values, heading, table, index, ignore_extra_fields):
    """Keep the heading's fields; unknown ones are an error unless ignore_extra_fields."""
    kept_names, kept_values = [], []
    for name, value in zip(row_names, values):
        if _known(name, heading):
            kept_names.append(name)
            kept_values.append(value)
        elif not ignore_extra_fields:
            raise _unknown_error(table, index, name, heading)
    return kept_names, kept_values


def _check_required(names, heading, table, index):
    present = set(names)
    for attr in heading.all_attributes.values():
        if attr.name not in present and not attr.has_default:
            raise _row_error(
                MissingAttributeError,
                table,
                index,
                attr.name,
                "no value given and the attribute has no default",
                "Include it in the row.",
            )


def _uniform(batch, names, heading):
    """(names, tuples) when every row of a batch has the same fields; None otherwise."""
    first = batch[0]
    if names is not None:
        return names, batch
    if type(first) is dict:
        row_names = list(first)
        if set(map(len, batch)) != {len(row_names)}:
            return None
        getter = operator.itemgetter(*row_names)
        try:
            tuples = list(map(getter, batch)) if len(row_names) > 1 else [(v,) for v in map(getter, batch)]
        except (KeyError, TypeError, IndexError):
            return None
        return row_names, tuples
    if type(first) in (tuple, list) and all(type(r) in (tuple, list) for r in batch):
        if set(map(len, batch)) == {len(heading.names)}:
            return heading.names, batch
    return None


def _fast_groups(batch, start, names, heading, table, ignore_extra_fields):
    """[(names, indices, tuples)] for a uniform batch, or None."""
    uniform = _uniform(batch, names, heading)
    if uniform is None:
        return None
    row_names, tuples = uniform
    keep = [i for i, n in enumerate(row_names) if _known(n, heading)]
    if len(keep) < len(row_names):
        if not ignore_extra_fields:
            unknown = next(n for n in row_names if not _known(n, heading))
            raise _unknown_error(table, start, unknown, heading)
        if not keep:
            return None
        getter = operator.itemgetter(*keep)
        tuples = list(map(getter, tuples)) if len(keep) > 1 else [(r[keep[0]],) for r in tuples]
        row_names = [row_names[i] for i in keep]
    if len(set(row_names)) != len(row_names):
        return None
    for position, name in enumerate(row_names):
        attr = heading.all_attributes[name]
        if not attr.nullable and attr.has_default and any(r[position] is None for r in tuples):
            return None  # None means "use the default" in those rows: row by row
    return [(list(row_names), range(start, start + len(tuples)), tuples)]


def _slow_groups(batch, start, names, heading, table, ignore_extra_fields):
    """Row by row: rows grouped by the fields they give."""
    groups = {}
    for offset, row in enumerate(batch):
        index = start + offset
        row_names, values = _row_values(row, names, heading, index, table)
        row_names, values = _select_fields(row_names, values, heading, table, index, ignore_extra_fields)
        # None for a required attribute with a default means "use the default": leave it out
        omit = [
            i
            for i, (n, v) in enumerate(zip(row_names, values))
            if v is None and not heading.all_attributes[n].nullable and heading.all_attributes[n].has_default
        ]
        if omit:
            row_names = [n for i, n in enumerate(row_names) if i not in omit]
            values = [v for i, v in enumerate(values) if i not in omit]
        if len(set(row_names)) != len(row_names):
            raise DataJointError(f"Cannot insert into {table.node_name}, row {index}: an attribute is given twice.")
        group = groups.setdefault(tuple(row_names), ([], []))
        group[0].append(index)
        group[1].append(tuple(values))
    return [(list(k), indices, tuples) for k, (indices, tuples) in groups.items()]


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
    from ..query.expression import QueryExpression

    _check_direct_insert(table, allow_direct_insert)
    if table._where:
        raise DataJointError(f"Cannot insert into a restricted table: insert into {table.class_name} itself.")
    if isinstance(rows, type) and issubclass(rows, QueryExpression):
        rows = rows()
    if isinstance(rows, QueryExpression):
        return _insert_from_query(table, rows, _mode(replace, skip_duplicates), ignore_extra_fields)
    connection = table._connection
    heading = table.heading
    mode = _mode(replace, skip_duplicates)
    names, source = _row_source(rows, heading)
    chunk = chunk_size or DEFAULT_CHUNK
    plans = {}
    uses_store = _uses_store(heading)
    if uses_store:  # uploads run in parallel, finish before the rows, and are removed if the insert fails
        from ..storage import stores as storage

        guard = storage.staging(owns_transaction=not connection.in_transaction)
    else:
        guard = contextlib.nullcontext()
    with guard, connection.atomic():
        index = 0
        while True:
            batch = list(itertools.islice(source, chunk))
            if not batch:
                break
            groups = _fast_groups(batch, index, names, heading, table, ignore_extra_fields)
            if groups is None:
                groups = _slow_groups(batch, index, names, heading, table, ignore_extra_fields)
            for row_names, indices, tuples in groups:
                key = tuple(row_names)
                plan = plans.get(key)
                if plan is None:
                    _check_required(row_names, heading, table, indices[0])
                    plan = plans[key] = _Plan(table, row_names, mode)
                encoded = plan.encode_rows(tuples, indices)
                if uses_store:
                    storage.flush()  # the objects exist before the rows that refer to them
                _send(connection, plan, encoded, indices)
            index += len(batch)


def _send(connection, plan, rows, indices):
    """Hand encoded rows to the driver: COPY where the backend has it, else executemany.

    Several rows go under a savepoint, so that after a duplicate the rows already sent can be
    taken back and the table searched for the key that was there before.
    """
    several = len(rows) > 1
    if several:
        connection.query("SAVEPOINT pj_insert")
    try:
        if plan.copy is not None and len(rows) > 1:
            try:
                connection.backend.copy_rows(connection._raw, plan.copy, rows)
            except Exception as error:
                raise connection._translate(error, plan.copy) from None
        else:
            connection.executemany(plan.sql, rows)
    except DuplicateError as error:
        if several:
            try:
                connection.query("ROLLBACK TO SAVEPOINT pj_insert", reconnect=False)
            except Exception:
                several = False
        raise _duplicate_error(connection, plan, rows, indices, error, lookup=several) from None
    except IntegrityError as error:
        if several:
            try:
                connection.query("ROLLBACK TO SAVEPOINT pj_insert", reconnect=False)
            except Exception:
                several = False
        raise _integrity_error(
            connection, plan, rows, indices, error, lookup=several or not connection.backend.error_aborts_transaction
        ) from None


def _integrity_error(connection, plan, rows, indices, error, lookup):
    """An IntegrityError that names the row, the foreign key attributes and the parent missing.

    The parents are looked up where the connection can still run a query (PostgreSQL aborts the
    transaction on a single failed row); otherwise every foreign key the row could violate is named.
    """
    table = plan.table
    try:
        foreign_keys = list(table._record.foreign_keys)
    except Exception:
        foreign_keys = []
    fix = "Insert the parent rows first, or correct the values of these attributes."
    candidates = []  # (row index, fk, values)
    for fk in foreign_keys:
        if not all(c in plan.names for c in fk.attr_map):
            continue
        positions = [plan.names.index(c) for c in fk.attr_map]
        for index, row in zip(indices, rows):
            values = [row[p] for p in positions]
            if any(v is None for v in values):
                continue
            candidates.append((index, fk, values))
    missing = []
    if lookup and candidates:
        try:
            for index, fk, values in candidates:
                condition = " AND ".join(
                    f"{connection.backend.quote(p)} = {_placeholder(connection)}" for p in fk.attr_map.values()
                )
                sql = (
                    f"SELECT 1 FROM {connection.backend.full_table_name(fk.parent_schema, fk.parent_table)} "
                    f"WHERE {condition}"
                )
                if connection.query(sql, values, reconnect=False).fetchone() is None:
                    missing.append((index, fk, values))
                    break
        except Exception:
            missing = []
    if not missing and len(rows) == 1:
        missing = candidates
    if not missing:
        return IntegrityError(
            f"Cannot insert into {table.node_name}: {error}. Check the foreign key attributes "
            f"({', '.join(c for fk in foreign_keys for c in fk.attr_map) or 'none'}): {fix}"
        )
    parts = [
        f"no row of `{fk.parent_schema}`.`{fk.parent_table}` has {_key_text(list(fk.attr_map.values()), values)}"
        f" (attribute{'s' if len(fk.attr_map) > 1 else ''} {', '.join(f'`{c}`' for c in fk.attr_map)})"
        for _, fk, values in missing
    ]
    return IntegrityError(f"Cannot insert into {table.node_name}, row {missing[0][0]}: {' or '.join(parts)}. {fix}")


def _duplicate_error(connection, plan, rows, indices, error, lookup):
    """A DuplicateError that names the key: found among the rows sent, else in the table."""
    table = plan.table
    key_names = table.heading.primary_key
    fix = "Pass skip_duplicates=True to keep the existing rows, or replace=True to overwrite them."
    if not all(k in plan.names for k in key_names):
        return DuplicateError(f"Cannot insert into {table.node_name}: {error}. {fix}")
    positions = [plan.names.index(k) for k in key_names]
    seen = {}
    for index, row in zip(indices, rows):
        key = tuple(row[p] for p in positions)
        if key in seen:
            return DuplicateError(
                f"Cannot insert into {table.node_name}: rows {seen[key]} and {index} have the same primary key "
                f"{_key_text(key_names, key)}. {fix}"
            )
        seen[key] = index
    if len(rows) == 1:
        key = tuple(rows[0][p] for p in positions)
        return DuplicateError(
            f"Cannot insert into {table.node_name}, row {indices[0]}: the primary key "
            f"{_key_text(key_names, key)} is already in the table. {fix}"
        )
    try:  # a key already in the table
        if not lookup:
            raise LookupError
        for index, row in zip(indices, rows):
            key = tuple(row[p] for p in positions)
            condition = " AND ".join(f"{connection.backend.quote(k)} = {_placeholder(connection)}" for k in key_names)
            sql = f"SELECT 1 FROM {connection.backend.full_table_name(table.database, table.table_name)} WHERE {condition}"
            if connection.query(sql, list(key), reconnect=False).fetchone() is not None:
                return DuplicateError(
                    f"Cannot insert into {table.node_name}, row {index}: the primary key {_key_text(key_names, key)} "
                    f"is already in the table. {fix}"
                )
    except Exception:
        pass
    return DuplicateError(f"Cannot insert into {table.node_name}: {error}. {fix}")


def _placeholder(connection):
    return "?" if connection.backend.paramstyle == "qmark" else "%s"


def _key_text(names, values):
    return "{" + ", ".join(f"{n!r}: {v!r}" for n, v in zip(names, values)) + "}"


def insert1(table, row, **kwargs):
    """Insert one row (a dict, a record or a sequence in heading order)."""
    if isinstance(row, (str, bytes)) or (
        not isinstance(row, (collections.abc.Mapping, collections.abc.Sequence))
        and not (type(row).__module__ == "numpy")
    ):
        raise DataJointError(f"insert1() takes one row (a dict or a sequence), not {type(row).__name__}.")
    insert(table, [row], **kwargs)


def _insert_from_query(table, query, mode, ignore_extra_fields):
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
    _check_required(names, heading, table, None)
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
        connection.query(compiled.sql, compiled.arguments(query))


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
        plan_column = _Column(attr, backend)
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
        connection.query(compiled.sql, [values[i] for i in compiled.order] if compiled.order else None)
