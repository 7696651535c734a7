"""Python values checked and normalized against an attribute's type, before any SQL runs.

`normalize` returns the canonical Python value for the type (int, float, Decimal, bool, str,
date/datetime/time, UUID, bytes, JSON-able object) or raises ValueError saying what is wrong;
insert turns that into an error naming the table, the attribute and the row.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import numbers
import struct
import uuid


def _integer(value, t):
    if (
        isinstance(value, (bool, numbers.Integral))
        or (isinstance(value, float) and value.is_integer())
        or (isinstance(value, str) and _ascii_digits(value.strip().lstrip("+-")))
    ):
        value = int(value)
    elif hasattr(value, "item") and type(value).__module__ == "numpy":
        return _integer(value.item(), t)
    else:
        raise ValueError(f"expected an integer, got {type(value).__name__} {value!r}")
    low, high = t.integer_range
    if not low <= value <= high:
        raise ValueError(f"{value} is outside the range {low}..{high} of {t.declared}")
    return value


def _ascii_digits(text):
    """'12' but not '١٢': int() reads every script's digits, the databases only ASCII ones."""
    return text.isascii() and text.isdigit()


def _float(value, t):
    if isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(value, bool):
        value = float(value)
    elif isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"expected a number written in ASCII digits, got {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        if math.isinf(number) and "inf" not in value.lower():  # '1e400': too large, not infinity
            raise ValueError(f"{value!r} is too large for a 64-bit float")
        value = number
    else:
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    if t.unsigned and value < 0:
        raise ValueError(f"{value} is negative but {t.declared} is unsigned")
    if t.storage_core == "float32":
        return to_float32(value, t)
    return value


FLOAT32_MAX = 3.4028234663852886e38


def to_float32(value, t=None):
    """The nearest float32, as a Python float: what every backend returns for a float32 attribute."""
    if math.isfinite(value) and abs(value) > FLOAT32_MAX:
        raise ValueError(f"{value} is outside the range of float32 (±3.4e38); declare the attribute float64")
    return struct.unpack("f", struct.pack("f", value))[0]


def float32_shortest(value):
    """The shortest decimal that is the same float32 (``15.3`` for the float32 nearest 15.3), as a
    Python float: what a float32 attribute fetches, as DataJoint returns it on PostgreSQL (``real``)."""
    exact = struct.unpack("f", struct.pack("f", value))[0]
    if not math.isfinite(exact):
        return exact
    for digits in range(6, 10):
        candidate = float(f"{exact:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == exact:
            return candidate
    return exact


def float32_shortest_column(values, fallback=None):
    """float32_shortest of a whole column at once, as a float64 numpy array (`values`: no None).

    Vectorized where the shortest decimal is found exactly in float64 (a d-digit integer divided
    or multiplied by an exact power of ten is correctly rounded); the rest (subnormals, very large
    magnitudes, values out of float32's range) go through ``fallback`` (default float32_shortest)
    one by one. Zero, NaN and infinities stay as they are.
    """
    import numpy as np

    given = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        exact = given.astype(np.float32).astype(np.float64)
        size = np.abs(exact)
        result = exact.copy()
        vector = (size >= 1e-12) & (size < 1e26)
        todo = np.flatnonzero(vector)
        exponent = np.floor(np.log10(size[todo])).astype(np.int64)
        exponent -= 10.0**exponent > size[todo]  # log10 may be one off next to a power of ten
        exponent += 10.0 ** (exponent + 1) <= size[todo]
        for digits in range(6, 10):
            x = exact[todo]
            k = digits - 1 - exponent
            up = k >= 0
            power = 10.0 ** np.abs(k)  # exact: |k| <= 20
            candidate = np.where(up, np.rint(x * power) / power, np.rint(x / power) * power)
            same = candidate.astype(np.float32).astype(np.float64) == x
            result[todo[same]] = candidate[same]
            todo, exponent = todo[~same], exponent[~same]
            if not len(todo):
                break
        result[todo] = exact[todo]
        rest = np.flatnonzero(~vector & np.isfinite(given) & (given != 0))
    for i in rest:
        result[i] = (fallback or float32_shortest)(float(given[i]))
    return result


_WIDE = decimal.Context(prec=100)  # decimal(65,30) and beyond, unlike the default 28 digits


def _decimal(value, t):
    if isinstance(value, bool) or not isinstance(value, (numbers.Number, decimal.Decimal, str)):
        raise ValueError(f"expected a decimal number, got {type(value).__name__} {value!r}")
    try:
        number = decimal.Decimal(str(value)) if not isinstance(value, decimal.Decimal) else value
    except decimal.InvalidOperation:
        raise ValueError(f"expected a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal")
    quantized = number.quantize(decimal.Decimal(1).scaleb(-t.scale), rounding=decimal.ROUND_HALF_UP, context=_WIDE)
    if abs(quantized) >= decimal.Decimal(10) ** (t.precision - t.scale):
        raise ValueError(f"{value} does not fit {t.declared}")
    if t.unsigned and quantized < 0:
        raise ValueError(f"{value} is negative but {t.declared} is unsigned")
    return quantized


def _bool(value, t):
    if isinstance(value, (bool, numbers.Integral)) or (hasattr(value, "item") and type(value).__module__ == "numpy"):
        number = value.item() if hasattr(value, "item") else value
        if number in (0, 1):
            return bool(number)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"expected a boolean, got {value!r}")


def storable_string_problem(value):
    """Why a string cannot be stored the same way on every backend, or None.

    A lone surrogate (what Python makes of undecodable bytes, e.g. in a file name) is no UTF-8
    text, and PostgreSQL stores no NUL character in text: both are refused on every backend.
    """
    if value.isascii():
        return None if "\0" not in value else "contains a NUL character, which PostgreSQL text cannot hold"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        character = value[error.start]
        return (
            f"contains {character.encode('utf-8', 'backslashreplace').decode()!s} at position {error.start}, "
            "which is no text (undecodable bytes): decode the source with errors='replace', or store bytes"
        )
    if "\0" in value:
        return "contains a NUL character, which PostgreSQL text cannot hold"
    return None


def _string(value, t):
    if not isinstance(value, str):
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            value = value.item()
        if (
            t.core in ("char", "varchar")
            and isinstance(value, (int, float, decimal.Decimal))
            and not isinstance(value, bool)
        ):
            value = str(value)  # as MySQL stores a number given for a string column: its text
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {type(value).__name__} {value!r}")
    problem = storable_string_problem(value)
    if problem:
        raise ValueError(f"the string {problem}")
    if t.core in ("char", "varchar") and len(value) > t.length:
        raise ValueError(f"string of length {len(value)} is longer than {t.declared} allows")
    if t.core == "enum" and value not in t.values:
        raise ValueError(f"{value!r} is not one of the enum values {list(t.values)}")
    return value


def _truncate_fraction(value, fsp):
    digits = fsp or 0
    factor = 10 ** (6 - digits)
    return value.replace(microsecond=(value.microsecond // factor) * factor)


def _date(value, t):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date: write 'YYYY-MM-DD'") from None
    if type(value).__name__ == "datetime64":
        return _date(value.astype("datetime64[D]").item(), t)
    raise ValueError(f"expected a date, got {type(value).__name__} {value!r}")


def _datetime(value, t):
    if isinstance(value, datetime.datetime):
        result = value
    elif isinstance(value, datetime.date):
        result = datetime.datetime.combine(value, datetime.time())
    elif isinstance(value, str):
        try:
            result = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a datetime: write 'YYYY-MM-DD HH:MM:SS'") from None
    elif type(value).__name__ in ("datetime64", "Timestamp"):
        result = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value.astype("datetime64[us]").item()
    else:
        raise ValueError(f"expected a datetime, got {type(value).__name__} {value!r}")
    if result.tzinfo is not None:
        result = result.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return _truncate_fraction(result, t.fsp)


def _time(value, t):
    if isinstance(value, datetime.time):
        result = value
    elif isinstance(value, datetime.timedelta):
        if not datetime.timedelta(0) <= value < datetime.timedelta(days=1):
            raise ValueError(f"{value} is not a time of day")
        result = (datetime.datetime.min + value).time()
    elif isinstance(value, str):
        try:
            result = datetime.time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a time: write 'HH:MM:SS'") from None
    else:
        raise ValueError(f"expected a time, got {type(value).__name__} {value!r}")
    if result.tzinfo is not None:
        raise ValueError("times with a time zone are not supported")
    return _truncate_fraction(result, t.fsp)


def _uuid(value, t):
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a UUID") from None
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return uuid.UUID(bytes=bytes(value))
    raise ValueError(f"expected a UUID, got {type(value).__name__} {value!r}")


def _json(value, t):
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"value is not JSON-serializable: {error}") from None
    return value


def _bytes(value, t):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ValueError(f"expected bytes, got {type(value).__name__}")


_NORMALIZERS = {
    "float32": _float,
    "float64": _float,
    "decimal": _decimal,
    "bool": _bool,
    "char": _string,
    "varchar": _string,
    "enum": _string,
    "text": _string,
    "date": _date,
    "datetime": _datetime,
    "timestamp": _datetime,
    "time": _time,
    "uuid": _uuid,
    "json": _json,
    "bytes": _bytes,
    "blob": _bytes,
}


def normalizer(attr_type):
    """The normalizing function for a storage type."""
    if attr_type.is_integer:
        return _integer
    return _NORMALIZERS.get(attr_type.storage_core, lambda value, t: value)


def normalize(value, attr):
    """Check and normalize one value for an attribute (raises ValueError)."""
    t = attr.attr_type
    return normalizer(t)(value, t)


def is_nan(value):
    return isinstance(value, float) and math.isnan(value)


def is_inf(value):
    return isinstance(value, float) and math.isinf(value)


# --- column-at-a-time checks: the common cases at C speed, None when a value needs a closer look ---


def fast_checker(attr):
    """A function (values, their types) -> normalized values or None, for the common plain types.

    None means "check value by value": the slow path then normalizes or names the bad row.
    """
    t = attr.attr_type
    if t.codec is not None:
        return None
    if t.is_integer:
        return lambda values, types: _fast_integers(values, types, t)
    core = t.storage_core
    if core in ("float32", "float64"):
        return lambda values, types: _fast_floats(values, types, t)
    if core in ("char", "varchar", "enum", "text"):
        return lambda values, types: _fast_strings(values, types, t)
    if core == "bool":
        return lambda values, types: values if types <= {bool} else None
    if core in ("bytes", "blob"):
        return lambda values, types: values if types <= {bytes} else None
    if core == "date":  # dates as they are (a datetime, a subclass of date, takes the slow path)
        return lambda values, types: values if types <= {datetime.date} else None
    return None


def _fast_integers(values, types, t):
    if not types <= {int}:
        return None
    low, high = t.integer_range
    if values and (min(values) < low or max(values) > high):
        return None
    return values


def _fast_floats(values, types, t):
    if not types <= {float, int}:
        return None
    if int in types:
        values = list(map(float, values))
    if t.unsigned and not all(map((0.0).__le__, values)):
        return None
    if t.storage_core == "float32":
        import array

        rounded = array.array("f", values).tolist()
        if not all(map(math.isfinite, rounded)) and any(
            math.isinf(r) and math.isfinite(v) for r, v in zip(rounded, values)
        ):
            return None  # a finite value overflowed float32: let the slow path name it
        return rounded
    return values


def _fast_strings(values, types, t):
    if not types <= {str}:
        return None
    if not all(map(str.isascii, values)) or any("\0" in v for v in values):
        return None  # the slow path checks each value (lone surrogates, NULs) and names the row
    if t.core in ("char", "varchar") and values and max(map(len, values)) > t.length:
        return None
    if t.core == "enum" and not set(values) <= set(t.values):
        return None
    return values


# --- one value at a time (insert1): the plain cases in a few bytecodes ---


def quick_normalizer(t):
    """fn(value) -> what ``normalize`` returns for a value of storage type `t`, for insert1.

    A plain int, float or ASCII string is checked inline; any other value goes through the type's
    normalizer. A float that is not finite raises ValueError like a wrong value: insert's full check
    then decides (NaN is stored as NULL where allowed, infinity is refused) and words the error.
    """
    full = normalizer(t)
    core = t.storage_core
    if t.is_integer:
        low, high = t.integer_range

        def integer(value):
            if type(value) is int and low <= value <= high:
                return value
            return full(value, t)

        return integer
    if core in ("float32", "float64"):
        unsigned, single = t.unsigned, core == "float32"

        def real(value):
            if type(value) is not float:
                value = full(value, t)
            elif single:
                value = to_float32(value)
            if value - value != 0.0 or (unsigned and value < 0.0):  # NaN or ±inf; a negative unsigned
                raise ValueError("needs the full check")
            return value

        return real
    if core in ("char", "varchar", "enum", "text"):
        limit = t.length if core in ("char", "varchar") else None
        allowed = frozenset(t.values) if core == "enum" else None

        def string(value):
            if (
                type(value) is str
                and value.isascii()
                and "\0" not in value
                and (limit is None or len(value) <= limit)
                and (allowed is None or value in allowed)
            ):
                return value
            return full(value, t)

        return string
    return lambda value: full(value, t)
