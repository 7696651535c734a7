"""Fetching results: legacy fetch()/fetch1() and 2.x to_dicts/to_pandas/to_arrays/... .

Rows come from the driver as tuples; each column gets one decoder (or none when the driver's
value is already right), applied column by column, so the per-row Python work stays small.
"""

from __future__ import annotations

from .compiler import compile_query
from .condition import Top
from .errors import DataJointError

PAGE = 2000


def _with_order(expression, order_by=None, limit=None, offset=None):
    if order_by is None and limit is None and not offset:
        return expression
    return expression & Top(limit, order_by if order_by is not None else "KEY", offset or 0)


def column_decoders(expression, names, squeeze=False):
    """One function per column (or None) turning driver values into Python values.

    Plain columns' decoders are cached on the heading (they depend on nothing else), so a
    repeated query such as `(T & key).fetch1()` does not rebuild them.
    """
    backend = expression._connection.backend
    heading = expression.heading
    key = ("decoders", backend.name, tuple(names), squeeze)
    cached = heading.cache.get(key)
    if cached is not None:
        return list(cached)
    decoders = _build_decoders(backend, heading, names, squeeze)
    if all(heading[n].codec is None for n in names):
        heading.cache[key] = tuple(decoders)
    return decoders


def _build_decoders(backend, heading, names, squeeze):
    decoders = []
    for name in names:
        attr = heading[name]
        decode = backend.decoder(_stored_type(attr.attr_type))
        if attr.expression is not None:  # computed: coerce to the inferred type (MIN(date) decodes as a date)
            decode = _coercion(attr) or decode
        unpack = _unpacker(attr, squeeze) if attr.expression is None else None
        if unpack and decode:
            combined = lambda v, d=decode, u=unpack: None if v is None else u(d(v))  # noqa: E731
        elif unpack:
            combined = lambda v, u=unpack: None if v is None else u(v)  # noqa: E731
        else:
            combined = decode
        if unpack and getattr(unpack, "parallel", False):
            combined.parallel = True  # reads from a store: decode_rows runs these on the transfer pool
        decoders.append(combined)
    return decoders


def _stored_type(attr_type):
    """The type of the column itself: for a codec, the end of its chain."""
    if attr_type.codec is None:
        return attr_type
    from .codecs import stored_type

    return stored_type(attr_type) or attr_type


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


def _unpacker(attr, squeeze):
    """The attribute's codec chain run backwards (innermost codec first), or None."""
    if attr.codec is None:
        return None
    from .codecs import pipeline

    return pipeline.decoder(attr, squeeze)


def fetch_rows(expression, names=None):
    """(names, list of decoded row tuples)."""
    names = list(names) if names is not None else expression.heading.names
    if names != expression.heading.names:
        expression = expression.proj(*[n for n in names if n not in expression.heading.primary_key])
    compiled = compile_query(expression)
    cursor = expression._connection.query(compiled.sql, compiled.arguments(expression))
    rows = cursor.fetchall()
    return names, decode_rows(expression, names, rows)


def decode_rows(expression, names, rows, squeeze=False):
    decoders = column_decoders(expression, names, squeeze)
    if not any(decoders):
        return [tuple(r) for r in rows] if rows and not isinstance(rows[0], tuple) else rows
    remote = [i for i, d in enumerate(decoders) if d and getattr(d, "parallel", False)]
    if remote and len(rows) > 1:  # objects in a store: fetch them in parallel, column by column
        from .storage import parallel_map

        rows = [list(r) for r in rows]
        for i in remote:
            decode = decoders[i]
            for row, value in zip(rows, parallel_map(decode, [r[i] for r in rows])):
                row[i] = value
            decoders[i] = None
    active = [(i, d) for i, d in enumerate(decoders) if d]
    out = []
    for row in rows:
        row = list(row)
        for i, decode in active:
            value = row[i]
            if value is not None:
                row[i] = decode(value)
        out.append(tuple(row))
    return out


def _select_names(expression, attrs):
    heading = expression.heading
    names = []
    for a in attrs:
        if a not in heading.attributes:
            raise DataJointError(f"Attribute `{a}` is not in the query. Available: {', '.join(heading.names)}.")
        names.append(a)
    return names


# --- 2.x API -----------------------------------------------------------------------------


def to_dicts(expression, order_by=None, limit=None, offset=None, squeeze=False):
    expression = _with_order(expression, order_by, limit, offset)
    names = expression.heading.names
    compiled = compile_query(expression)
    rows = expression._connection.query(compiled.sql, compiled.arguments(expression)).fetchall()
    return [dict(zip(names, r)) for r in decode_rows(expression, names, rows, squeeze)]


def numpy_dtype(attr):
    import numpy as np

    t = attr.attr_type
    if t.is_integer and not attr.nullable:
        return np.dtype(t.core if t.core not in ("int24", "uint24") else t.core[:-2] + "32")
    if t.core in ("float32", "float64"):
        return np.dtype(t.core)
    if t.core == "bool" and not attr.nullable:
        return np.dtype(bool)
    return np.dtype(object)


def to_arrays(expression, *attrs, include_key=False, order_by=None, limit=None, offset=None, squeeze=False):
    import numpy as np

    expression = _with_order(expression, order_by, limit, offset)
    heading = expression.heading
    names = heading.names
    compiled = compile_query(expression)
    rows = decode_rows(expression, names, expression._connection.query(compiled.sql, compiled.arguments(expression)).fetchall(), squeeze)
    columns = list(zip(*rows)) if rows else [()] * len(names)
    arrays = {}
    for name, values in zip(names, columns):
        arrays[name] = _column_array(heading[name], values)
    if not attrs:
        dtype = np.dtype([(n, numpy_dtype(heading[n])) for n in names])
        result = np.empty(len(rows), dtype=dtype)
        for n in names:
            result[n] = arrays[n]
        out = result
    else:
        selected = _select_names(expression, attrs)
        out = tuple(arrays[n] for n in selected)
        out = out[0] if len(out) == 1 else out
    if include_key:
        keys = [dict(zip(heading.primary_key, [r[names.index(k)] for k in heading.primary_key])) for r in rows]
        return (keys, out) if not isinstance(out, tuple) else (keys, *out)
    return out


def _column_array(attr, values):
    import numpy as np

    dtype = numpy_dtype(attr)
    if dtype == object:
        array = np.empty(len(values), dtype=object)
        array[:] = list(values) if values else []
        return array
    if attr.attr_type.core in ("float32", "float64"):
        return np.array([np.nan if v is None else v for v in values], dtype=dtype)
    return np.array(values, dtype=dtype)


def to_pandas(expression, order_by=None, limit=None, offset=None, squeeze=False):
    import pandas as pd

    expression = _with_order(expression, order_by, limit, offset)
    heading = expression.heading
    names = heading.names
    compiled = compile_query(expression)
    rows = decode_rows(expression, names, expression._connection.query(compiled.sql, compiled.arguments(expression)).fetchall(), squeeze)
    columns = list(zip(*rows)) if rows else [()] * len(names)
    frame = pd.DataFrame({n: _column_array(heading[n], c) for n, c in zip(names, columns)}, columns=names)
    if heading.primary_key and len(frame):
        frame = frame.set_index(heading.primary_key)
    return frame


def to_polars(expression, order_by=None, limit=None, offset=None):
    try:
        import polars as pl
    except ModuleNotFoundError as error:
        raise DataJointError("to_polars() needs polars: pip install polars") from error
    rows = to_dicts(expression, order_by=order_by, limit=limit, offset=offset)
    return pl.DataFrame(rows) if rows else pl.DataFrame({n: [] for n in expression.heading.names})


def to_arrow(expression, order_by=None, limit=None, offset=None):
    try:
        import pyarrow as pa
    except ModuleNotFoundError as error:
        raise DataJointError("to_arrow() needs pyarrow: pip install pyarrow") from error
    rows = to_dicts(expression, order_by=order_by, limit=limit, offset=offset)
    names = expression.heading.names
    return pa.table({n: [r[n] for r in rows] for n in names})


# --- legacy API ---------------------------------------------------------------------------


def fetch(expression, *attrs, offset=None, limit=None, order_by=None, format=None, as_dict=None,
          squeeze=False, download_path=None):
    """DataJoint's legacy fetch: a structured array, dicts, a DataFrame, or arrays per attribute.

    ``download_path``: the folder ``<attach>`` files are written to (default: config['download_path']).
    """
    if download_path is not None:
        from .codecs.pipeline import downloading

        with downloading(download_path):
            return fetch(expression, *attrs, offset=offset, limit=limit, order_by=order_by, format=format,
                         as_dict=as_dict, squeeze=squeeze)
    if format not in (None, "array", "frame"):
        raise DataJointError(f"fetch(format={format!r}): use 'array' or 'frame'.")
    if format == "frame":
        if attrs or as_dict:
            raise DataJointError("fetch(format='frame') cannot be combined with attribute names or as_dict.")
        return to_pandas(expression, order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)
    if limit is not None and order_by is None:
        order_by = "KEY"
    expression = _with_order(expression, order_by, limit, offset)
    if not attrs:
        if as_dict:
            return to_dicts(expression, squeeze=squeeze)
        return to_arrays(expression, squeeze=squeeze)
    heading = expression.heading
    wanted = []
    for a in attrs:
        if a == "KEY":
            wanted.extend(k for k in heading.primary_key if k not in wanted)
        else:
            if a not in heading.attributes:
                raise DataJointError(f"Attribute `{a}` is not in the query. Available: {', '.join(heading.names)}.")
            if a not in wanted:
                wanted.append(a)
    # only the named attributes are read and decoded (no object is downloaded for an unnamed one)
    rows = to_dicts(expression.proj(*[a for a in wanted if a not in heading.primary_key]), squeeze=squeeze)
    if as_dict:
        return [{n: r[n] for n in wanted} for r in rows]
    results = []
    for a in attrs:
        if a == "KEY":
            results.append([{k: r[k] for k in heading.primary_key} for r in rows])
        else:
            results.append(_column_array(heading[a], [r[a] for r in rows]))
    return results[0] if len(results) == 1 else tuple(results)


def fetch1(expression, *attrs, squeeze=False, download_path=None):
    """Exactly one row: a dict, one value, or a tuple of values (``download_path`` as in fetch)."""
    if download_path is not None:
        from .codecs.pipeline import downloading

        with downloading(download_path):
            return fetch1(expression, *attrs, squeeze=squeeze)
    names = expression.heading.names
    compiled = compile_query(expression)
    cursor = expression._connection.query(compiled.sql, compiled.arguments(expression))
    rows = cursor.fetchmany(2)
    if len(rows) != 1:
        if not rows:
            raise DataJointError("fetch1 requires exactly one row, but the query returned none.")
        total = len(expression)
        raise DataJointError(f"fetch1 requires exactly one row, but the query returned {total}. Restrict it further.")
    row = dict(zip(names, decode_rows(expression, names, rows, squeeze)[0]))
    if not attrs:
        return row
    values = []
    for a in attrs:
        if a == "KEY":
            values.append({k: row[k] for k in expression.heading.primary_key})
        elif a in row:
            values.append(row[a])
        else:
            raise DataJointError(f"Attribute `{a}` is not in the query. Available: {', '.join(names)}.")
    return values[0] if len(values) == 1 else tuple(values)


def iterate(expression):
    """Rows as dicts, one page at a time in primary-key order, so memory stays flat."""
    names = expression.heading.names
    offset = 0
    while True:
        page = to_dicts(expression, order_by="KEY", limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def count(expression):
    compiled = compile_query(expression, count=True)
    return int(expression._connection.query(compiled.sql, compiled.arguments(expression)).fetchone()[0])


def exists(expression):
    compiled = compile_query(expression, exists=True)
    return expression._connection.query(compiled.sql, compiled.arguments(expression)).fetchone() is not None
