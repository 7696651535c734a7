"""The many forms of rows insert accepts, as batches of tuples grouped by the fields they give.

Dicts, sequences in heading order, numpy records and structured arrays, pandas and polars
DataFrames, arrow tables. Column-oriented inputs are read column by column as Python values. A
batch whose rows all give the same fields becomes one group without looking at each row;
otherwise rows are grouped one by one, and unknown or repeated fields are reported with the row.
"""

from __future__ import annotations

import collections.abc
import csv
import operator
import pathlib

from ..errors import DataJointError, MissingAttributeError, UnknownAttributeError
from .insert_diagnosis import row_error


def _is_dataframe(rows):
    return type(rows).__name__ == "DataFrame" and type(rows).__module__.startswith("pandas")


def row_source(rows, heading):
    """(names or None, iterator of rows) for every form insert accepts.

    Column-oriented inputs (pandas, polars, arrow, numpy) are read column by column as Python
    values, so no per-cell numpy scalars reach the checks.
    """
    module = type(rows).__module__
    if isinstance(rows, pathlib.PurePath):  # a CSV file with a header line, as DataJoint reads it
        with open(rows, newline="") as file:
            rows = list(csv.DictReader(file, delimiter=","))
        return None, iter(rows)
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


class UnknownFieldError(UnknownAttributeError, KeyError):
    """A row names a field the table does not have. Also a KeyError, which DataJoint raises here."""

    __str__ = UnknownAttributeError.__str__  # the message, without KeyError's quotes


def _unknown_error(table, index, name, heading):
    return UnknownFieldError(
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


def check_required(names, heading, table, index):
    present = set(names)
    if not present:
        required = [a.name for a in heading.all_attributes.values() if not a.has_default]
        if required:
            where = "" if index is None else f", row {index}"
            raise MissingAttributeError(
                f"Cannot insert empty row into {table.node_name}{where}: attributes {', '.join(required)} "
                "require values (they have no default). Include them in the row."
            )
    for attr in heading.all_attributes.values():
        if attr.name not in present and not attr.has_default:
            raise row_error(
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
        if not row_names:  # rows of defaults only
            return row_names, [() for _ in batch]
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


def fast_groups(batch, start, names, heading, table, ignore_extra_fields):
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


def slow_groups(batch, start, names, heading, table, ignore_extra_fields):
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
