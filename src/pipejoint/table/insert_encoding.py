"""Checking and encoding values for the driver, column by column.

Each attribute gets a ``Column``: its stored type, its normalizer, the backend's encoder and its
codec chain, built once per insert. A batch whose rows give the same fields is checked one column
at a time (one type check per column when values are plain); a value that fails is reported with
its row. ``encode_row`` does the same for one row (update1).
"""

from __future__ import annotations

import math

from ..core.types import parse_type
from ..core.values import fast_checker, is_inf, is_nan, normalizer
from ..errors import DataJointError, InvalidValueError, MissingAttributeError
from ..storage import legacy
from ..storage.codecs import stored_type
from .insert_diagnosis import row_error

_UUID = parse_type("uuid")  # the column of a DataJoint 0.14 store attribute holds its object's hash


class Column:
    """How one attribute's values are checked and encoded."""

    __slots__ = ("attr", "encode", "fast", "keyed", "name", "normalize", "pack", "stored")

    def __init__(self, attr, backend):
        self.name = attr.name
        self.attr = attr
        self.stored = _UUID if legacy.external_schema(attr.attr_type) else stored_type(attr.attr_type)
        self.normalize = normalizer(self.stored)
        self.encode = backend.encoder(self.stored)
        self.pack = _packer(attr)
        self.keyed = getattr(self.pack, "needs_key", False)  # packed row by row with the key (pack_keyed)
        self.fast = None if self.pack is not None else fast_checker(attr)


def _packer(attr):
    """fn(value, key=None) running the attribute's codec chain (outermost codec first), or None.

    Codecs that need the row's key (stores, user codecs) are marked ``needs_key``.
    """
    if attr.codec is None:
        return None
    from ..storage.codecs import pipeline

    try:
        if legacy.external_schema(attr.attr_type):  # DataJoint 0.14's blob@, attach@, filepath@: as 0.14 wrote them
            encode, needs_key = legacy.encoder(attr), False
        else:
            encode, needs_key = pipeline.encoder(attr)
    except DataJointError as error:
        message = str(error).rstrip(".")

        def encode(value, key=None):
            raise DataJointError(message)

        return encode
    if needs_key:
        encode.needs_key = True
    return encode


def pack_keyed(table, columns, tuples, indices, key=None):
    """Run the codecs that need the row's key (schema, table, primary key), row by row."""
    keyed = [i for i, c in enumerate(columns) if c.keyed]
    if not keyed:
        return tuples
    key_positions = {c.name: i for i, c in enumerate(columns) if c.attr.in_key}
    base = {"_schema": table.database, "_table": table.table_name, "_config": table._connection.config}
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
                raise row_error(cls, table, index, column.name, str(error).rstrip(".")) from None
        out.append(tuple(row))
    return out


def writes_014_objects(heading):
    """True when some attribute is a DataJoint 0.14 store attribute (its values need ~external rows);
    kept with the heading, as every insert asks."""
    found = heading.cache.get("writes 0.14 objects")
    if found is None:
        found = heading.cache["writes 0.14 objects"] = any(
            legacy.external_schema(a.attr_type) for a in heading.attributes.values()
        )
    return found


def uses_store(heading):
    """True when some attribute's codec chain writes to an object store; kept with the heading, as
    every insert asks (unless a codec could not be resolved yet: it may be registered later)."""
    found = heading.cache.get("uses store")
    if found is not None:
        return found
    from ..storage.codecs import pipeline

    found, resolved = False, True
    for attr in heading.attributes.values():
        if attr.codec is not None:
            try:
                if pipeline.chain_of(attr).uses_store:
                    found = True
                    break
            except DataJointError:
                resolved = False
    if resolved:
        heading.cache["uses store"] = found
    return found


def check_value_sizes(plan, encoded, indices):
    """A value larger than the server accepts is refused here, before the server drops the connection."""
    limit = plan.value_limit
    for column, values in zip(plan.columns, encoded):
        if column.stored.storage_core not in ("bytes", "blob"):
            continue
        for k, value in enumerate(values):
            if value is not None and len(value) > limit:
                backend = plan.table._connection.backend
                raise row_error(
                    InvalidValueError,
                    plan.table,
                    indices[k],
                    column.name,
                    f"the value is {len(value) / 1e6:.1f} MB, more than the {limit / 1e6:.1f} MB "
                    f"the {backend.name} server accepts in one statement",
                    backend.value_limit_fix,
                )


_NONE = type(None)


def encode_column(table, column, values, indices):
    """One column of a batch, normalized and encoded; errors name the row."""
    types = set(map(type, values))
    if _NONE not in types:
        return _encode_values(table, column, values, indices, types)
    attr = column.attr
    present = [i for i, v in enumerate(values) if v is not None]
    if not attr.nullable:
        first = next(i for i, v in enumerate(values) if v is None)
        raise row_error(
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
        normalized = [_special_float(table, column, v, indices[k]) for k, v in enumerate(normalized)]
        if column.encode is not None:
            return [None if v is None else column.encode(v) for v in normalized]
    if column.encode is None:
        return normalized
    try:
        return list(map(column.encode, normalized))
    except (ValueError, OverflowError):
        for k, value in enumerate(normalized):  # find the row
            try:
                column.encode(value)
            except (ValueError, OverflowError) as error:
                raise row_error(InvalidValueError, table, indices[k], column.name, str(error)) from None
        raise


def _normalize_one(table, column, value, index):
    attr = column.attr
    if column.pack is not None and not column.keyed:
        try:
            value = column.pack(value)
        except Exception as error:
            cls = type(error) if isinstance(error, DataJointError) else InvalidValueError
            raise row_error(cls, table, index, attr.name, str(error).rstrip(".")) from None
    try:
        return column.normalize(value, column.stored)
    except ValueError as error:
        raise row_error(InvalidValueError, table, index, attr.name, str(error)) from None


def _special_float(table, column, value, index):
    """NaN and ±inf, the same on every backend: NaN is a missing value, stored as NULL (DataJoint's
    rule), so only where the attribute is nullable and never in a key; ±inf is refused (MySQL has no
    place for it). Returns the value to store."""
    attr = column.attr
    if is_nan(value):
        if attr.in_key:
            raise row_error(InvalidValueError, table, index, attr.name, "NaN cannot be part of a primary key")
        if not attr.nullable:
            raise row_error(
                InvalidValueError,
                table,
                index,
                attr.name,
                "NaN is a missing value, stored as NULL, but the attribute is required",
                "Give a number, or declare the attribute with `= null`.",
            )
        return None
    if is_inf(value):
        raise row_error(
            InvalidValueError,
            table,
            index,
            attr.name,
            f"{value} cannot be stored (MySQL has no infinity, so no backend stores it)",
            "Use None for a missing value, or a finite number.",
        )
    return value


def encode_row(table, columns, row, index, key=None):
    """Check, serialize and encode one row's values for the driver (``key``: the row's key, for codecs)."""
    out = []
    if key is not None or any(c.keyed for c in columns):
        row = pack_keyed(table, columns, [row], [index], key)[0]
    for column, value in zip(columns, row):
        attr = column.attr
        if value is None:
            if attr.nullable:
                out.append(None)
                continue
            raise row_error(
                MissingAttributeError,
                table,
                index,
                attr.name,
                "the value is None but the attribute is required",
                "Give a value, or declare the attribute with `= null`.",
            )
        value = _normalize_one(table, column, value, index)
        if isinstance(value, float) and not math.isfinite(value):
            value = _special_float(table, column, value, index)
            if value is None:
                out.append(None)
                continue
        if column.encode is not None:
            try:
                value = column.encode(value)
            except (ValueError, OverflowError) as error:
                raise row_error(InvalidValueError, table, index, attr.name, str(error)) from None
        out.append(value)
    return out
