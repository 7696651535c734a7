"""MySQL functions that DataJoint users write and SQLite lacks, registered on each connection.

Restriction strings and projections are written in the MySQL flavour; sqlglot transpiles what it
can, and these Python functions supply the rest so the same fragment gives the same answer here.
Dates are stored as ISO text on SQLite, so the date functions parse ISO text.
"""

from __future__ import annotations

import datetime as _dt
import math
import random
import statistics


def _parse(value):
    """An ISO date/datetime text (as SQLite stores them) as a datetime, or None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return None
    text = str(value).strip()
    try:
        if len(text) <= 10:
            return _dt.datetime.combine(_dt.date.fromisoformat(text), _dt.time())
        return _dt.datetime.fromisoformat(text.replace("T", " "))
    except ValueError:
        return None


def _part(attribute):
    def extract(value):
        parsed = _parse(value)
        return None if parsed is None else getattr(parsed, attribute)

    return extract


def _time_part(attribute):
    def extract(value):
        if value is None:
            return None
        parsed = _parse(value)
        if parsed is not None:
            return getattr(parsed, attribute)
        try:
            return getattr(_dt.time.fromisoformat(str(value)), attribute)
        except ValueError:
            return None

    return extract


def _now():
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _curdate():
    return _dt.date.today().isoformat()


def _datediff(a, b):
    first, second = _parse(a), _parse(b)
    if first is None or second is None:
        return None
    return (first.date() - second.date()).days


_UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}


def _timestampdiff(unit, a, b):
    start, end = _parse(a), _parse(b)
    if start is None or end is None:
        return None
    unit = str(unit).upper().strip("'\"")
    if unit in ("MONTH", "QUARTER", "YEAR"):
        months = (end.year - start.year) * 12 + end.month - start.month
        if months > 0 and (end.day, end.time()) < (start.day, start.time()):
            months -= 1
        elif months < 0 and (end.day, end.time()) > (start.day, start.time()):
            months += 1
        return int(months / {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit])
    if unit == "MICROSECOND":
        return int((end - start) / _dt.timedelta(microseconds=1))
    return int((end - start).total_seconds() / _UNIT_SECONDS[unit])


def _concat(*args):
    if any(a is None for a in args):
        return None
    return "".join(_text(a) for a in args)


def _concat_ws(separator, *args):
    if separator is None:
        return None
    return _text(separator).join(_text(a) for a in args if a is not None)


def _text(value):
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _if(condition, then, otherwise):
    return then if condition else otherwise


def _greatest(*args):
    return None if any(a is None for a in args) else max(args)


def _least(*args):
    return None if any(a is None for a in args) else min(args)


def _numeric(function):
    def apply(*args):
        if any(a is None for a in args):
            return None
        try:
            return function(*args)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None

    return apply


def _floor(x):
    return math.floor(x)


def _ceil(x):
    return math.ceil(x)


def _round(x, digits=0):
    # MySQL rounds half away from zero; Python's round() rounds half to even.
    factor = 10 ** int(digits)
    value = math.floor(abs(x) * factor + 0.5) / factor
    result = math.copysign(value, x)
    return int(result) if digits <= 0 else result


def _log(a, b=None):
    return math.log(a) if b is None else math.log(b) / math.log(a)


class _Aggregate:
    """Population standard deviation / variance, as MySQL's STD, STDDEV, VARIANCE."""

    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(float(value))


class _PopulationStd(_Aggregate):
    def finalize(self):
        return statistics.pstdev(self.values) if self.values else None


class _SampleStd(_Aggregate):
    def finalize(self):
        return statistics.stdev(self.values) if len(self.values) > 1 else None


class _PopulationVariance(_Aggregate):
    def finalize(self):
        return statistics.pvariance(self.values) if self.values else None


class _SampleVariance(_Aggregate):
    def finalize(self):
        return statistics.variance(self.values) if len(self.values) > 1 else None


class _GroupConcat:
    """MySQL's GROUP_CONCAT with DISTINCT, ORDER BY and SEPARATOR, which SQLite 3.40 lacks.

    Called as PJ_GROUP_CONCAT(value, separator, distinct, key1, descending1, key2, ...).
    """

    def __init__(self):
        self.rows = []
        self.separator = ","
        self.distinct = False
        self.keys = 0

    def step(self, value, separator, distinct, *order):
        self.separator, self.distinct = separator, bool(distinct)
        if value is not None:
            self.rows.append((value, order))

    def finalize(self):
        rows = self.rows
        if not rows:
            return None
        n_keys = len(rows[0][1]) // 2
        for k in reversed(range(n_keys)):  # stable sorts, last key first; NULLs first as MySQL does
            descending = bool(rows[0][1][2 * k + 1])
            rows = sorted(rows, key=lambda r, k=k: (r[1][2 * k] is not None, r[1][2 * k]), reverse=descending)
        values = [_text(v) for v, _ in rows]
        if self.distinct:
            values = list(dict.fromkeys(values))
        return self.separator.join(values)


def _regexp(pattern, value):
    import re

    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


def _truncate(x, digits=0):
    factor = 10 ** int(digits)
    value = math.trunc(x * factor) / factor
    return int(value) if digits <= 0 else value


SCALARS = {
    "YEAR": (1, _part("year")),
    "MONTH": (1, _part("month")),
    "DAY": (1, _part("day")),
    "DAYOFMONTH": (1, _part("day")),
    "HOUR": (1, _time_part("hour")),
    "MINUTE": (1, _time_part("minute")),
    "SECOND": (1, _time_part("second")),
    "DATEDIFF": (2, _datediff),
    "TIMESTAMPDIFF": (3, _timestampdiff),
    "CONCAT": (-1, _concat),
    "CONCAT_WS": (-1, _concat_ws),
    "IF": (3, _if),
    "GREATEST": (-1, _greatest),
    "LEAST": (-1, _least),
    "FLOOR": (1, _numeric(_floor)),
    "CEIL": (1, _numeric(_ceil)),
    "CEILING": (1, _numeric(_ceil)),
    "ROUND": (-1, _numeric(_round)),
    "POW": (2, _numeric(math.pow)),
    "POWER": (2, _numeric(math.pow)),
    "SQRT": (1, _numeric(math.sqrt)),
    "EXP": (1, _numeric(math.exp)),
    "LN": (1, _numeric(math.log)),
    "LOG": (-1, _numeric(_log)),
    "LOG2": (1, _numeric(math.log2)),
    "LOG10": (1, _numeric(math.log10)),
    "MOD": (2, _numeric(math.fmod)),
    "SIGN": (1, _numeric(lambda x: (x > 0) - (x < 0))),
    "TRUNCATE": (-1, _numeric(_truncate)),
    # SQLite's own UPPER/LOWER change ASCII letters only; MySQL and PostgreSQL change all of Unicode
    "UPPER": (1, lambda v: None if v is None else _text(v).upper()),
    "LOWER": (1, lambda v: None if v is None else _text(v).lower()),
    "REGEXP": (2, _regexp),
    "REGEXP_LIKE": (2, lambda value, pattern: _regexp(pattern, value)),
}
VOLATILE = {"NOW": (0, _now), "CURDATE": (0, _curdate), "RAND": (0, random.random)}
AGGREGATES = {
    "STD": _PopulationStd,
    "STDDEV": _PopulationStd,
    "STDDEV_POP": _PopulationStd,
    "STDDEV_SAMP": _SampleStd,
    "VARIANCE": _PopulationVariance,
    "VAR_POP": _PopulationVariance,
    "VAR_SAMP": _SampleVariance,
}


def register_functions(raw):
    """Register the functions on a sqlite3 connection."""
    for name, (nargs, function) in SCALARS.items():
        raw.create_function(name, nargs, function, deterministic=True)
    for name, (nargs, function) in VOLATILE.items():
        raw.create_function(name, nargs, function)
    for name, cls in AGGREGATES.items():
        raw.create_aggregate(name, 1, cls)
    raw.create_aggregate("PJ_GROUP_CONCAT", -1, _GroupConcat)
    # LIKE is case-sensitive on PostgreSQL and on MySQL tables (utf8mb4_bin); make SQLite agree
    raw.execute("PRAGMA case_sensitive_like = ON")
