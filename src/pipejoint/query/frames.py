"""Arrow and polars columns typed by the heading, not guessed from the values.

Guessing widens (uint32 becomes Int64, float32 Float64) and knows nothing of an empty result
(every column Null). Each attribute's type names its Arrow type; attributes whose values have no
fixed type (codecs such as <blob>, json, untyped computed values) are converted from their values.
n-D arrays in a blob become an Arrow tensor column when they share one shape and dtype, nested
lists otherwise; what Arrow cannot hold is refused naming the attribute and the alternative.
"""

from __future__ import annotations

from ..errors import DataJointError

_INTEGERS = {
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "uint16": "uint16",
    "int24": "int32",
    "uint24": "uint32",
    "int32": "int32",
    "uint32": "uint32",
    "int64": "int64",
    "uint64": "uint64",
    "year": "uint16",
}
_STRINGS = ("char", "varchar", "enum", "text")


def arrow_type(attr):
    """The Arrow type of an attribute's fetched values, or None when only the values can tell."""
    import pyarrow as pa

    t = attr.attr_type
    core = t.core
    if attr.codec is not None:
        return None
    if core in _INTEGERS:
        return getattr(pa, _INTEGERS[core])()
    if core == "float32":
        return pa.float32()
    if core == "float64":
        return pa.float64()
    if core == "bool":
        return pa.bool_()
    if core == "decimal":
        return (pa.decimal128 if t.precision <= 38 else pa.decimal256)(t.precision, t.scale)
    if core in _STRINGS:
        return pa.string()
    if core == "date":
        return pa.date32()
    if core in ("datetime", "timestamp"):
        return pa.timestamp("us")
    if core == "time":
        return pa.time64("us")
    if core == "uuid":
        return pa.uuid()
    if core in ("bytes", "blob"):
        return pa.binary()
    return None


def arrow_column(attr, values, owner, fmt, tensors=True):
    """One column as an Arrow array of the attribute's type."""
    import pyarrow as pa

    kind = arrow_type(attr)
    try:
        if kind is not None:
            if attr.attr_type.core == "uuid":
                values = [None if v is None else v.bytes for v in values]
            return pa.array(values, type=kind)
        return _untyped(pa, values, tensors)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as error:
        raise DataJointError(
            f"{fmt}(): attribute `{attr.name}` ({attr.type}) of {owner} cannot become an Arrow column: {error}. "
            f"Fetch it with to_arrays() or to_dicts() (or to_pandas()), or leave it out: "
            f"query.proj(..., '-{attr.name}').{fmt}()."
        ) from None


def _untyped(pa, values, tensors):
    """Values of no declared Arrow type: n-D arrays as a tensor (one shape) or nested lists."""
    import numpy as np

    present = [v for v in values if v is not None]
    arrays = present and all(isinstance(v, np.ndarray) for v in present)
    if not arrays or all(v.ndim <= 1 for v in present):
        return pa.array(values)
    same = len({(v.shape, v.dtype) for v in present}) == 1
    if tensors and same and len(present) == len(values) and present[0].dtype.kind in "biuf":
        return pa.FixedShapeTensorArray.from_numpy_ndarray(np.stack(present))
    if any(v.dtype.kind not in "biufcUSb" for v in present):
        raise ValueError("its arrays hold Python objects")
    return pa.array([None if v is None else v.tolist() for v in values])


def arrow_table(heading, names, columns, owner, fmt="to_arrow", tensors=True):
    import pyarrow as pa

    return pa.table({n: arrow_column(heading[n], c, owner, fmt, tensors) for n, c in zip(names, columns)})


def polars_frame(heading, names, columns, owner):
    """A polars DataFrame with the heading's types (through Arrow, where polars takes them from)."""
    import polars as pl

    return pl.from_arrow(arrow_table(heading, names, columns, owner, "to_polars", tensors=False), rechunk=False)
