"""Fetching results: legacy fetch()/fetch1() and 2.x to_dicts/to_pandas/to_arrays/... .

Rows come from the driver as tuples. Each column has one decoder (or none when the driver's
value is already right), cached on the heading. Dicts are decoded row by row; numpy arrays and
DataFrames are built column by column: each column is pulled out of the rows once, decoded as
a whole, and converted to its native dtype in C; when no column needs a decoder value by value,
numpy builds the structured array from the rows in one call. float32 columns are decoded at once.
Arrow and polars results are typed by the heading (frames.py).
"""

from __future__ import annotations

import functools
import itertools
import operator
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from ..core.values import FLOAT32_MAX, float32_shortest, float32_shortest_column
from ..errors import DataJointError, UnknownAttributeError
from ..storage import legacy
from ..storage.codecs import stored_type
from .compiler import compile_query
from .frames import arrow_table, polars_frame
from .legacy import ExternalDecoder
from .nodes import KeyAfter
from .relation import query_name
from .restriction import Top

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator

    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from ..core.hints import OrderBy

# The functions below are QueryExpression's fetch methods (expression.py assigns them): their first
# parameter, `expression`, is the method's self, left unannotated as self is.

PAGE = 2000  # rows per query when iterating


def _with_order(expression, order_by=None, limit=None, offset=None):
    if order_by is None and limit is None and not offset:
        return expression
    return expression & Top(limit, order_by, offset or 0)  # no order_by: a Top's order before, else KEY


def _rows(expression):
    """All rows of the expression's query, as the driver returns them."""
    compiled = compile_query(expression)
    return expression._connection.execute(compiled.sql, compiled.arguments(expression)).fetchall()


# --- decoders ------------------------------------------------------------------------------


def column_decoders(expression, names=None, squeeze=False):
    """A tuple with one function (or None) per column turning driver values into Python values.

    `names` defaults to the whole heading. Decoders are never called with None.
    """
    return _decoders(expression, names, squeeze)[0]


def _decoders(expression, names, squeeze):
    """(decoders, [(column index, decoder)] of the columns that need one). Plain columns' decoders
    are cached on the heading (they depend on nothing else), so a repeated query such as
    `(T & key).fetch1()` does not rebuild them."""
    backend = expression._connection.backend
    heading = expression.heading
    key = (backend.name, names if names is None else tuple(names), squeeze)
    cached = heading.cache.get(key)
    if cached is None:
        names = heading.names if names is None else names
        decoders = tuple(_build_decoders(expression._connection, heading, names, squeeze))
        cached = decoders, [(i, d) for i, d in enumerate(decoders) if d is not None]
        if all(heading[n].codec is None for n in names):
            heading.cache[key] = cached
    return cached


def _build_decoders(connection, heading, names, squeeze):
    backend = connection.backend
    decoders = []
    for name in names:
        attr = heading[name]
        if attr.expression is None and legacy.external_schema(attr.attr_type):  # DataJoint 0.14's blob@store...
            decoders.append(ExternalDecoder(connection, attr, squeeze))
            continue
        stored = stored_type(attr.attr_type)
        decode = backend.decoder(stored)
        if stored.storage_core == "float32" and attr.codec is None:  # 15.3, not 15.300000190734863
            shortest = _fast_shortest_float32()
            decode = shortest if decode is None else (lambda v, d=decode, s=shortest: s(d(v)))
            decode.column = lambda values, d=decode: float32_shortest_column(values, d)  # 7x faster on many rows
        if attr.expression is not None:  # computed: coerce to the inferred type (MIN(date) decodes as a date)
            decode = _coercion(attr) or decode
        unpack = _unpacker(attr, squeeze, connection.config) if attr.expression is None else None
        if unpack and decode:
            combined = lambda v, d=decode, u=unpack: u(d(v))  # noqa: E731
            combined.parallel = getattr(unpack, "parallel", False)
        else:
            combined = unpack or decode
        decoders.append(combined)
    return decoders


def _fast_shortest_float32():
    """A new function computing float32_shortest through numpy's shortest float32 repr (3x faster),
    for normal float32 values (below them, float32_shortest keeps at least 6 digits; above, it
    reports the overflow)."""
    import numpy as np

    if np.get_printoptions().get("legacy") not in (None, False, sys.maxsize):  # legacy reprs are not shortest
        return lambda v: float32_shortest(v)
    f32 = np.float32

    def decode(value):
        if 1.1754943508222875e-38 <= abs(value) <= FLOAT32_MAX:
            return float(str(f32(value)))
        return float32_shortest(value)

    return decode


def _coercion(attr):
    """Computed values come back as whatever the backend's function returns; bring them to the inferred type."""
    core = attr.attr_type.core
    if attr.attr_type.is_integer:
        return lambda v: int(v) if not isinstance(v, int) else v
    if core in ("float32", "float64"):
        return float
    if core == "bool":
        return bool
    if core == "text":
        return lambda v: v if isinstance(v, str) else (v.decode() if isinstance(v, (bytes, bytearray)) else str(v))
    return None


def _unpacker(attr, squeeze, config):
    """The attribute's codec chain run backwards (innermost codec first), or None."""
    if attr.codec is None:
        return None
    from ..storage.codecs import pipeline

    return pipeline.decoder(attr, squeeze, config)


def _decode_column(decode, values, arrays=False):
    """One column's values decoded (None stays None); objects in a store are read in parallel.
    A decoder with ``prepare(values)`` (0.14 store columns) first looks up the whole column; one
    with ``column(values)`` (float32) decodes it at once into a numpy array, returned as it is
    when `arrays` and nothing is None."""
    present = [v for v in values if v is not None] if None in values else values
    parallel = getattr(decode, "parallel", False)
    prepare = getattr(decode, "prepare", None)
    column = getattr(decode, "column", None)
    if prepare is not None and present:
        decode = prepare(present)
    if column is not None and len(present) > 1:
        try:
            decoded = column(present)
        except (TypeError, ValueError):  # not all numbers: one by one, which says what is wrong
            decoded = None
        if decoded is not None:
            if len(present) == len(values):
                return decoded if arrays else decoded.tolist()
            decoded = iter(decoded.tolist())
            return [None if v is None else next(decoded) for v in values]
    if parallel and len(present) > 1:
        from ..storage.stores import parallel_map

        decoded = iter(parallel_map(decode, present))
    elif len(present) == len(values):
        return list(map(decode, values))
    else:
        decoded = map(decode, present)
    return [None if v is None else next(decoded) for v in values]


def decode_rows(expression, names, rows, squeeze=False):
    """Rows (tuples) with every value decoded; the driver's rows themselves when nothing needs it.
    `names`: the columns of the rows, None for the whole heading."""
    active = _decoders(expression, names, squeeze)[1]
    if not active:
        return rows
    if len(rows) > 1 and any(getattr(d, "parallel", False) or hasattr(d, "column") for _, d in active):
        columns = decode_columns(expression, names, rows, squeeze)
        return list(zip(*columns))
    out = []
    for row in rows:
        row = list(row)
        for i, decode in active:
            value = row[i]
            if value is not None:
                row[i] = decode(value)
        out.append(tuple(row))
    return out


def decode_columns(expression, names, rows, squeeze=False, arrays=False):
    """The rows as one list of decoded values per column (`names` as in decode_rows); with
    `arrays`, a column may come as a numpy array of its final dtype instead."""
    decoders = column_decoders(expression, names, squeeze)
    columns = []
    for i, decode in enumerate(decoders):
        values = list(map(operator.itemgetter(i), rows))
        columns.append(values if decode is None else _decode_column(decode, values, arrays))
    return columns


# --- numpy -----------------------------------------------------------------------------------


def numpy_dtype(attr, values=()):
    """The attribute's dtype; for a computed number or bool (nullable, as SQL may give NULL) its
    native dtype when `values` holds no None, as the heading's type says (COUNT(*) is int64)."""
    dtype = attr.dtype
    if dtype.kind == "O" and attr.expression is not None and (attr.attr_type.is_integer or attr.core == "bool"):
        if not any(v is None for v in values):
            return replace(attr, nullable=False).dtype
    return dtype


def _column_array(attr, values):
    """A column as a numpy array of the attribute's native dtype (object where there is none)."""
    import numpy as np

    dtype = numpy_dtype(attr, values)
    if isinstance(values, np.ndarray) and values.dtype == dtype:  # a column of a structured array
        return values
    if dtype == object:  # noqa: E721 (a numpy dtype compared with the object type)
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    if dtype.kind == "f":
        return np.asarray(values, dtype=dtype)  # None becomes NaN; a decoded column is kept as it is
    return np.fromiter(values, dtype=dtype, count=len(values))


def _structured(heading, names, columns, count):
    import numpy as np

    arrays = [_column_array(heading[n], values) for n, values in zip(names, columns)]
    result = np.empty(count, dtype=np.dtype([(n, a.dtype) for n, a in zip(names, arrays)]))
    for name, array in zip(names, arrays):
        result[name] = array
    return result


def _direct_structured(expression, rows, squeeze):
    """The structured array built by numpy from the driver's rows in one step, then its float32
    columns decoded at once; None when some column needs decoding value by value (or a computed
    column's dtype depends on its values, or numpy refuses a value): the column path does it."""
    import numpy as np

    heading = expression.heading
    names = heading.names
    active = _decoders(expression, None, squeeze)[1]
    if not rows or any(not hasattr(d, "column") for _, d in active):
        return None
    if any(heading[n].expression is not None for n in names):
        return None
    try:
        result = np.array(rows, dtype=np.dtype([(n, heading[n].dtype) for n in names]))
    except (TypeError, ValueError, OverflowError):
        return None
    for i, decode in active:
        result[names[i]] = decode.column(result[names[i]])
    return result


# --- 2.x API -----------------------------------------------------------------------------


def to_dicts(
    expression,
    order_by: OrderBy | None = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> list[dict[str, Any]]:
    expression = _with_order(expression, order_by, limit, offset)
    names = expression.heading.names
    rows = _rows(expression)
    dicts = list(map(dict, map(zip, itertools.repeat(names), rows)))  # the comprehension, without its bytecode
    # then only the columns that need it are decoded, as whole columns, and written into the dicts:
    # rebuilding every row from decoded columns costs more than the decoding itself
    for i, decode in _decoders(expression, None, squeeze)[1]:
        name = names[i]
        for row, value in zip(dicts, _decode_column(decode, list(map(operator.itemgetter(i), rows)))):
            row[name] = value
    return dicts


def to_arrays(
    expression,
    *attrs: str,
    include_key: bool = False,
    order_by: OrderBy | None = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> Any:
    """A structured array of all attributes, one array per named attribute (a tuple of them for
    several), and the keys as dicts first with include_key=True."""
    expression = _with_order(expression, order_by, limit, offset)
    heading = expression.heading
    if attrs:
        selected = _select_names(expression, attrs)
        # only the named attributes are read and decoded; naming a hidden one shows it
        expression = expression.proj(*[a for a in selected if a not in heading.primary_key])
        heading = expression.heading
    names = heading.names
    rows = _rows(expression)
    if attrs:
        wanted = list(dict.fromkeys(selected + (heading.primary_key if include_key else [])))
        picked = _pick(rows, names, wanted)
        columns = dict(zip(wanted, decode_columns(expression, wanted, picked, squeeze, arrays=not include_key)))
        out = tuple(_column_array(heading[n], columns[n]) for n in selected)
        out = out[0] if len(out) == 1 else out
    else:
        out = None if include_key else _direct_structured(expression, rows, squeeze)
        if out is None:
            columns = dict(zip(names, decode_columns(expression, None, rows, squeeze, arrays=not include_key)))
            out = _structured(heading, names, [columns[n] for n in names], len(rows))
    if include_key:
        key = heading.primary_key
        keys = [dict(zip(key, values)) for values in zip(*[columns[k] for k in key])] if key else [{} for _ in rows]
        return (keys, out) if not isinstance(out, tuple) else (keys, *out)
    return out


def _pick(rows, names, wanted):
    """Only the wanted columns of the rows, in the wanted order."""
    if wanted == names:
        return rows
    positions = [names.index(n) for n in wanted]
    if len(positions) == 1:
        return [(r[positions[0]],) for r in rows]
    return list(map(operator.itemgetter(*positions), rows))


def to_pandas(
    expression,
    order_by: OrderBy | None = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> pd.DataFrame:
    import pandas as pd

    expression = _with_order(expression, order_by, limit, offset)
    heading = expression.heading
    names = heading.names
    rows = _rows(expression)
    direct = _direct_structured(expression, rows, squeeze)
    columns = (
        [direct[n] for n in names]
        if direct is not None
        else decode_columns(expression, None, rows, squeeze, arrays=True)
    )
    frame = pd.DataFrame({n: _pandas_column(pd, heading[n], c) for n, c in zip(names, columns)}, columns=names)
    if heading.primary_key and len(frame):
        frame = frame.set_index(heading.primary_key)
    return frame


@functools.cache
def _infers_strings():
    import pandas as pd

    return pd.Series(["text"]).dtype.kind != "O"


def _pandas_column(pd, attr, values):
    """A column as pandas holds it, of the same dtype whether the result is empty or not: datetimes
    as datetime64[us] and, where pandas infers its string dtype (pandas 3), text as strings."""
    import numpy as np

    array = _column_array(attr, values)
    if array.dtype.kind != "O" or attr.codec is not None:
        return array
    core = attr.core
    if core in ("datetime", "timestamp") and not any(getattr(v, "tzinfo", None) for v in array):
        return array.astype("datetime64[us]")
    if core in ("char", "varchar", "enum", "text") and _infers_strings():
        return pd.array(array, dtype=pd.StringDtype(na_value=np.nan))
    return array


def to_polars(
    expression, order_by: OrderBy | None = None, limit: int | None = None, offset: int | None = None
) -> pl.DataFrame:
    """A polars DataFrame whose columns have the heading's types, empty or not."""
    try:
        import polars  # noqa: F401
        import pyarrow  # noqa: F401
    except ModuleNotFoundError as error:
        raise DataJointError(f"to_polars() needs polars and pyarrow: pip install {error.name}") from error
    expression = _with_order(expression, order_by, limit, offset)
    names = expression.heading.names
    columns = decode_columns(expression, None, _rows(expression))
    return polars_frame(expression.heading, names, columns, _name(expression))


def to_arrow(
    expression, order_by: OrderBy | None = None, limit: int | None = None, offset: int | None = None
) -> pa.Table:
    """An Arrow table whose columns have the heading's types, empty or not; n-D blobs as tensors."""
    try:
        import pyarrow  # noqa: F401
    except ModuleNotFoundError as error:
        raise DataJointError("to_arrow() needs pyarrow: pip install pyarrow") from error
    expression = _with_order(expression, order_by, limit, offset)
    names = expression.heading.names
    columns = decode_columns(expression, None, _rows(expression))
    return arrow_table(expression.heading, names, columns, _name(expression))


def _name(expression):
    try:
        return query_name(expression)
    except Exception:
        return "the query"


def _unknown(expression, name, available):
    return UnknownAttributeError(
        f"Attribute `{name}` is not in the query on {_name(expression)}. "
        f"Available: {', '.join(available)}. Check the spelling."
    )


def _select_names(expression, attrs):
    heading = expression.heading
    names = []
    for a in attrs:
        if a not in heading:  # hidden attributes (`_job_*`) too, when named
            raise _unknown(expression, a, heading.names)
        names.append(a)
    return names


# --- legacy API ---------------------------------------------------------------------------


def fetch(
    expression,
    *attrs: str,
    offset: int | None = None,
    limit: int | None = None,
    order_by: OrderBy | None = None,
    format: Literal["array", "frame"] | None = None,
    as_dict: bool | None = None,
    squeeze: bool = False,
    download_path: str | os.PathLike[str] | None = None,
) -> Any:
    """DataJoint's legacy fetch: a structured array, dicts, a DataFrame, or arrays per attribute
    (one, or a tuple of them for several; "KEY" gives the keys as dicts).

    ``download_path``: the folder ``<attach>`` files are written to (default: config['download_path']).
    """
    if download_path is not None:
        from ..storage.codecs.pipeline import downloading

        with downloading(download_path):
            return fetch(
                expression,
                *attrs,
                offset=offset,
                limit=limit,
                order_by=order_by,
                format=format,
                as_dict=as_dict,
                squeeze=squeeze,
            )
    if format not in (None, "array", "frame"):
        raise DataJointError(f"fetch(format={format!r}): use 'array' or 'frame'.")
    if format == "frame":
        if attrs or as_dict:
            raise DataJointError("fetch(format='frame') cannot be combined with attribute names or as_dict.")
        return to_pandas(expression, order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)
    expression = _with_order(expression, order_by, limit, offset)
    if not attrs:
        if as_dict:
            return to_dicts(expression, squeeze=squeeze)
        return to_arrays(expression, squeeze=squeeze)
    heading = expression.heading
    wanted: list[str] = []
    for a in attrs:
        if a == "KEY":
            wanted.extend(k for k in heading.primary_key if k not in wanted)
        else:
            if a not in heading:  # hidden attributes too, when named (the projection below shows them)
                raise _unknown(expression, a, heading.names)
            if a not in wanted:
                wanted.append(a)
    # only the named attributes are read and decoded (no object is downloaded for an unnamed one)
    selected = expression.proj(*[a for a in wanted if a not in heading.primary_key])
    names = selected.heading.names
    if as_dict:
        return [{n: r[n] for n in wanted} for r in to_dicts(selected, squeeze=squeeze)]
    columns = dict(zip(names, decode_columns(selected, None, _rows(selected), squeeze, arrays="KEY" not in attrs)))
    results = []
    for a in attrs:
        if a == "KEY":
            key = heading.primary_key
            results.append([dict(zip(key, values)) for values in zip(*[columns[k] for k in key])])
        else:
            results.append(_column_array(heading[a], columns[a]))
    return results[0] if len(results) == 1 else tuple(results)


def fetch1(expression, *attrs: str, squeeze: bool = False, download_path: str | os.PathLike[str] | None = None) -> Any:
    """Exactly one row: a dict, one value, or a tuple of values (``download_path`` as in fetch)."""
    if download_path is not None:
        from ..storage.codecs.pipeline import downloading

        with downloading(download_path):
            return fetch1(expression, *attrs, squeeze=squeeze)
    heading = expression.heading
    if attrs and _skips_codec_attributes(heading, attrs):  # read and decode only the named ones:
        named = [a for a in attrs if a != "KEY" and a not in heading.primary_key]  # no download for others
        return fetch1(expression.proj(*named), *attrs, squeeze=squeeze)
    compiled = compile_query(expression)
    rows = expression._connection.first_rows(compiled.sql, compiled.arguments(expression), 2)
    if len(rows) != 1:
        if not rows:
            raise DataJointError(
                f"fetch1 requires exactly one row, but the query on {_name(expression)} returned "
                "none. Check the restriction, or use fetch() when no row is possible."
            )
        total = len(expression)
        raise DataJointError(
            f"fetch1 requires exactly one row, but the query on {_name(expression)} returned "
            f"{total}. Restrict it further."
        )
    names = heading.names
    found = rows[0]
    active = _decoders(expression, None, squeeze)[1]
    if active:
        found = list(found)
        for i, decode in active:
            if found[i] is not None:
                found[i] = decode(found[i])
    row = dict(zip(names, found))
    if not attrs:
        return row
    values = []
    for a in attrs:
        if a == "KEY":
            values.append({k: row[k] for k in heading.primary_key})
        elif a in row:
            values.append(row[a])
        elif a in heading:  # a hidden attribute, named: fetch again with the named ones shown
            hidden = [n for n in attrs if n != "KEY" and n not in row]
            return fetch1(expression.proj(..., *hidden), *attrs, squeeze=squeeze)
        else:
            raise _unknown(expression, a, names)
    return values[0] if len(values) == 1 else tuple(values)


def _skips_codec_attributes(heading, attrs):
    """True when attrs are all known and leave out some codec attribute (a blob, attachment, object)."""
    if not all(a == "KEY" or a in heading for a in attrs):
        return False  # the unknown one is reported below
    return any(heading[n].codec is not None and n not in attrs for n in heading.names)


def iterate(expression) -> Iterator[dict[str, Any]]:
    """Rows as dicts, read one page at a time so memory stays flat.

    Pages follow the primary key: each page is the next `PAGE` rows after the last key seen
    (not an OFFSET), so rows deleted or inserted while the loop runs shift nothing, and every
    page costs the same. Other queries may run inside the loop. A query without a primary key
    (at most one row) or with its own order (dj.Top) is read in one query, in that order.
    """
    heading = expression.heading
    key = heading.primary_key
    if not key or expression._top is not None:
        yield from to_dicts(expression)
        return
    names = heading.names
    positions = [names.index(k) for k in key]
    page = expression & Top(PAGE, "KEY")
    while True:
        rows = _rows(page)
        yield from (dict(zip(names, r)) for r in decode_rows(page, None, rows))
        if len(rows) < PAGE:
            return
        last = rows[-1]  # the driver's own values, compared exactly as the database ordered them
        page = expression & KeyAfter(key, [last[p] for p in positions]) & Top(PAGE, "KEY")


def count(expression) -> int:
    compiled = compile_query(expression, count=True)
    return int(expression._connection.first_rows(compiled.sql, compiled.arguments(expression), 2)[0][0])


def exists(expression) -> bool:
    compiled = compile_query(expression, exists=True)
    return bool(expression._connection.first_rows(compiled.sql, compiled.arguments(expression), 2))
