"""insert, insert1 and update1.

Every value is checked against the heading before any SQL runs; a bad one raises an error that
names the table, the attribute and the row. One call is one transaction: if the last row fails,
no row is stored. Rows are sent in batches through one prepared statement (executemany).
"""

from __future__ import annotations

import collections.abc
import contextvars
import itertools

from sqlglot import exp

from .compiler import Context, build_select, finish
from .errors import DataJointError, InvalidValueError, MissingAttributeError, UnknownAttributeError
from .values import is_nan, normalizer

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

    __slots__ = ("name", "attr", "normalize", "encode", "pack", "stores_nan")

    def __init__(self, attr, backend):
        self.name = attr.name
        self.attr = attr
        self.normalize = normalizer(attr.attr_type)
        self.encode = backend.encoder(attr.attr_type)
        self.pack = _packer(attr)
        self.stores_nan = backend.stores_nan


def _packer(attr):
    """Serialization for blob attributes (DataJoint's blob format); codecs come later in the chain."""
    if attr.codec == "blob" and attr.store is None:
        from . import blob

        return blob.pack
    if attr.codec is not None and attr.store is not None:
        def refuse(value):
            raise ValueError(f"{attr.type} needs an object store, which this version cannot write yet")

        return refuse
    return None


def _row_error(cls, table, row_index, attr_name, message, fix=""):
    where = f"row {row_index}" if row_index is not None else "the row"
    return cls(f"Cannot insert into {table.node_name}, {where}, attribute `{attr_name}`: {message}.{(' ' + fix) if fix else ''}")


class _Plan:
    """The prepared statement and per-column handling for one set of field names."""

    def __init__(self, table, names, mode):
        connection = table._connection
        backend = connection.backend
        heading = table.heading
        self.table = table
        self.columns = [_Column(heading.all_attributes[n], backend) for n in names]
        self.sql = insert_statement(backend, table, names, heading.primary_key, mode)

    def encode(self, row, index):
        return encode_row(self.table, self.columns, row, index)


def encode_row(table, columns, row, index):
    """Check, serialize and encode one row's values for the driver."""
    out = []
    for column, value in zip(columns, row):
        attr = column.attr
        if value is None:
            if attr.nullable:
                out.append(None)
                continue
            raise _row_error(MissingAttributeError, table, index, attr.name, "the value is None but the attribute is required",
                             "Give a value, or declare the attribute with `= null`.")
        if column.pack is not None:
            try:
                value = column.pack(value)
            except Exception as error:
                raise _row_error(InvalidValueError, table, index, attr.name, str(error)) from None
        try:
            value = column.normalize(value, attr.attr_type)
        except ValueError as error:
            raise _row_error(InvalidValueError, table, index, attr.name, str(error)) from None
        if is_nan(value):
            if attr.in_key:
                raise _row_error(InvalidValueError, table, index, attr.name, "NaN cannot be part of a primary key")
            if not column.stores_nan:
                raise _row_error(InvalidValueError, table, index, attr.name,
                                 f"the {table._connection.backend.name} backend cannot store NaN",
                                 "Use None for a missing value (declare the attribute `= null`).")
        out.append(column.encode(value) if column.encode else value)
    return out


def insert_statement(backend, table, names, key_names, mode):
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
    """(names or None, iterator of rows) for every form insert accepts."""
    module = type(rows).__module__
    if _is_dataframe(rows):
        frame = rows
        if any(n is not None for n in frame.index.names) and all(n in heading for n in frame.index.names):
            frame = frame.reset_index()
        names = [str(c) for c in frame.columns]
        return names, (tuple(_from_pandas(v) for v in r) for r in frame.itertuples(index=False, name=None))
    if module.startswith("polars") and type(rows).__name__ == "DataFrame":
        return list(rows.columns), iter(rows.rows())
    if module.startswith("pyarrow") and type(rows).__name__ in ("Table", "RecordBatch"):
        names = list(rows.column_names)
        columns = [rows.column(n).to_pylist() for n in names]
        return names, iter(zip(*columns))
    if module == "numpy" and getattr(getattr(rows, "dtype", None), "names", None):
        names = list(rows.dtype.names)
        return names, (tuple(r) for r in rows.tolist()) if rows.ndim else iter([tuple(rows.tolist())])
    if isinstance(rows, (str, bytes)) or not isinstance(rows, collections.abc.Iterable):
        raise DataJointError(f"insert() takes an iterable of rows, not {type(rows).__name__}: use insert1() for one row.")
    return None, iter(rows)


def _from_pandas(value):
    """pandas missing markers -> None."""
    if value is None:
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    return value


def _row_values(row, names, heading, index, table, ignore_extra_fields):
    """A row (dict, record, sequence) as (names, values)."""
    if isinstance(row, collections.abc.Mapping):
        row_names = list(row)
        values = [row[n] for n in row_names]
    elif type(row).__module__ == "numpy" and getattr(getattr(row, "dtype", None), "names", None):
        row_names = list(row.dtype.names)
        values = [row[n] for n in row_names]
    elif isinstance(row, (collections.abc.Sequence,)) and not isinstance(row, (str, bytes)):
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
        raise DataJointError(f"Cannot insert into {table.node_name}, row {index}: a row is a dict, a record or a sequence, not {type(row).__name__}.")
    return row_names, values


def _select_fields(row_names, values, heading, table, index, ignore_extra_fields):
    """Keep the heading's fields; unknown ones are an error unless ignore_extra_fields."""
    kept_names, kept_values = [], []
    for name, value in zip(row_names, values):
        if name in heading.all_attributes and not (name.startswith("_") and name not in heading.attributes):
            kept_names.append(name)
            kept_values.append(value)
        elif not ignore_extra_fields:
            raise UnknownAttributeError(
                f"Cannot insert into {table.node_name}, row {index}: `{name}` is not an attribute of the table "
                f"(attributes: {', '.join(heading.names)}). Pass ignore_extra_fields=True to skip unknown fields."
            )
    return kept_names, kept_values


def _check_required(names, heading, table, index):
    present = set(names)
    for attr in heading.all_attributes.values():
        if attr.name not in present and not attr.has_default:
            raise _row_error(MissingAttributeError, table, index, attr.name, "no value given and the attribute has no default",
                             "Include it in the row.")


def insert(table, rows, replace=False, skip_duplicates=False, ignore_extra_fields=False,
           allow_direct_insert=None, chunk_size=None):
    """Insert rows into a table in one transaction."""
    from .expression import QueryExpression

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
    with connection.atomic():
        index = 0
        while True:
            batch = list(itertools.islice(source, chunk))
            if not batch:
                break
            groups = {}
            for row in batch:
                row_names, values = _row_values(row, names, heading, index, table, ignore_extra_fields)
                row_names, values = _select_fields(row_names, values, heading, table, index, ignore_extra_fields)
                # None for a required attribute with a default means "use the default": leave it out
                omit = [i for i, (n, v) in enumerate(zip(row_names, values))
                        if v is None and not heading.all_attributes[n].nullable and heading.all_attributes[n].has_default]
                if omit:
                    row_names = [n for i, n in enumerate(row_names) if i not in omit]
                    values = [v for i, v in enumerate(values) if i not in omit]
                key = tuple(row_names)
                plan = plans.get(key)
                if plan is None:
                    _check_required(row_names, heading, table, index)
                    plan = plans[key] = _Plan(table, row_names, mode)
                groups.setdefault(key, []).append(plan.encode(values, index))
                index += 1
            for key, params in groups.items():
                connection.executemany(plans[key].sql, params)


def insert1(table, row, **kwargs):
    """Insert one row (a dict, a record or a sequence in heading order)."""
    if isinstance(row, (str, bytes)) or not isinstance(row, (collections.abc.Mapping, collections.abc.Sequence)) and not (
        type(row).__module__ == "numpy"
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
    target = exp.Schema(this=backend.table(table.database, table.table_name),
                        expressions=[exp.to_identifier(n, quoted=True) for n in names])
    statement = exp.Insert(this=target, expression=select)
    conflict = backend.on_conflict(mode, heading.primary_key, [n for n in names if n not in heading.primary_key])
    if conflict is not None:
        statement.set("conflict", conflict)
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
        raise DataJointError(f"update1() on {table.node_name} needs the full primary key: {', '.join(missing)} missing.")
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
                raise _row_error(MissingAttributeError, table, None, name, "None for a required attribute without a default")
            continue
        plan_column = _Column(attr, backend)
        encoded = encode_row(table, [plan_column], [value], None)[0]
        assignments.append(exp.EQ(this=exp.column(name, quoted=True), expression=ctx.param()))
        values.append(encoded)
    where = []
    for name in key_names:
        where.append(exp.EQ(this=exp.column(name, quoted=True), expression=ctx.param()))
        values.append(backend.encode(key[name], heading[name]))
    statement = exp.Update(this=backend.table(table.database, table.table_name), expressions=assignments,
                           where=exp.Where(this=exp.and_(*where)))
    compiled = finish(backend, statement, ctx)
    with connection.atomic():
        if len(table & key) != 1:
            raise DataJointError(f"update1(): no row of {table.node_name} has the key {key}; insert it first.")
        connection.query(compiled.sql, [values[i] for i in compiled.order] if compiled.order else None)
