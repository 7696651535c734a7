"""MySQL functions that DataJoint users write and SQLite lacks, registered on each connection.

Restriction strings and projections are written in the MySQL flavour; sqlglot transpiles what it
can, and these Python functions supply the rest so the same fragment gives the same answer here.
Dates are stored as ISO text on SQLite, so the date functions parse ISO text.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import math
import random
import re
import statistics
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from ...core.fragment_language import format_kind, split_format
from .text_functions import SCALARS as TEXT_FUNCTIONS
from .text_functions import as_text as _text


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


def _scaled(x, digits, approximate, exact):
    """ROUND / TRUNCATE as MySQL computes them. A float (an approximate value) is scaled by 10^digits
    in floating point, rounded (half to even, as C's rint) or truncated, and scaled back; an integer
    is exact, and rounds half away from zero. (SQLite keeps decimals as floats, so they round as floats.)"""
    digits = int(digits)
    if isinstance(x, str):  # MySQL reads a string as a double
        x = float(x)
    if isinstance(x, float):
        factor = 10.0 ** abs(digits)
        scaled = x * factor if digits >= 0 else x / factor
        if not math.isfinite(scaled):
            return x
        value = float(approximate(scaled))
        return value / factor if digits >= 0 else value * factor
    return int(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=exact))


def _round(x, digits=0):
    return _scaled(x, digits, round, ROUND_HALF_UP)


def _truncate(x, digits=0):
    return _scaled(x, digits, math.trunc, ROUND_DOWN)


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
    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


# --- strings (MySQL converts numbers to strings; a negative length or count means 0) ----------


def _left(s, n):
    if s is None or n is None:
        return None
    return _text(s)[: max(int(n), 0)]


def _right(s, n):
    if s is None or n is None:
        return None
    n = int(n)
    return _text(s)[-n:] if n > 0 else ""


def _reverse(s):
    return None if s is None else _text(s)[::-1]


def _pad(left):
    def pad(s, n, fill):
        if s is None or n is None or fill is None or int(n) < 0:
            return None
        text, n, fill = _text(s), int(n), _text(fill)
        if n <= len(text):
            return text[:n]
        if not fill:
            return None
        padding = (fill * n)[: n - len(text)]
        return padding + text if left else text + padding

    return pad


def _substring(s, start, length=-1):
    """MySQL's SUBSTRING: positions from 1, or from the end when negative; '' for position 0."""
    if s is None or start is None or length is None:
        return None
    text, start = _text(s), int(start)
    if start > 0:
        first = start - 1
    elif start < 0 and -start <= len(text):
        first = len(text) + start
    else:
        return ""
    return text[first:] if length == -1 else text[first : first + max(int(length), 0)]


def _integer(x):
    """CAST(x AS SIGNED): floats round half to even (as MySQL's rint), text reads its leading integer."""
    if x is None:
        return None
    if isinstance(x, float):
        return round(x) if math.isfinite(x) else None
    if isinstance(x, (bytes, str)):
        found = re.match(r"\s*[+-]?\d+", x.decode() if isinstance(x, bytes) else x)
        return int(found.group()) if found else 0
    return int(x)


# --- dates and times (ISO text, as SQLite stores them) --------------------------------------

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS_PER_UNIT = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}
_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _date_function(function):
    """A function of a date or datetime value; NULL for NULL or text that is not one."""

    def apply(value, *args):
        parsed = _parse(value)
        return None if parsed is None else function(parsed, *args)

    return apply


def _add_months(moment, months):
    """MySQL's month arithmetic: the day is clipped to the end of a shorter month."""
    years, month = divmod(moment.month - 1 + months, 12)
    year = moment.year + years
    return moment.replace(year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1]))


def _date_add(value, amount, unit):
    """DATE_ADD / DATE_SUB / ± INTERVAL: a date stays a date for day, week, month and year steps."""
    moment = _parse(value)
    if moment is None or amount is None:
        return None
    amount, unit = float(amount), str(unit).upper()
    try:
        if unit in _MONTHS_PER_UNIT:
            moment = _add_months(moment, int(amount) * _MONTHS_PER_UNIT[unit])
        elif unit == "MICROSECOND":
            moment += _dt.timedelta(microseconds=amount)
        else:
            moment += _dt.timedelta(seconds=amount * _UNIT_SECONDS[unit])
    except (OverflowError, ValueError):
        return None
    if len(str(value).strip()) <= 10 and unit in _DATE_UNITS:
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")


def _week(moment, mode):
    """WEEK(d) (mode 0: weeks start on Sunday, days before the first Sunday are week 0) or WEEK(d, 3) (ISO)."""
    return moment.isocalendar()[1] if int(mode) == 3 else int(moment.strftime("%U"))


def _last_day(moment):
    return moment.date().replace(day=calendar.monthrange(moment.year, moment.month)[1]).isoformat()


def _twelve_hour(moment):
    return moment.hour % 12 or 12


def _ordinal(day):
    suffix = "th" if day in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_FORMATS = {  # MySQL's DATE_FORMAT specifiers (English names, as MySQL's default lc_time_names)
    "a": lambda t: _DAY_NAMES[t.weekday()][:3],
    "b": lambda t: _MONTH_NAMES[t.month - 1][:3],
    "c": lambda t: str(t.month),
    "D": lambda t: _ordinal(t.day),
    "d": lambda t: f"{t.day:02d}",
    "e": lambda t: str(t.day),
    "f": lambda t: f"{t.microsecond:06d}",
    "H": lambda t: f"{t.hour:02d}",
    "h": lambda t: f"{_twelve_hour(t):02d}",
    "I": lambda t: f"{_twelve_hour(t):02d}",
    "i": lambda t: f"{t.minute:02d}",
    "j": lambda t: f"{t.timetuple().tm_yday:03d}",
    "k": lambda t: str(t.hour),
    "l": lambda t: str(_twelve_hour(t)),
    "M": lambda t: _MONTH_NAMES[t.month - 1],
    "m": lambda t: f"{t.month:02d}",
    "p": lambda t: "AM" if t.hour < 12 else "PM",
    "r": lambda t: f"{_twelve_hour(t):02d}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}",
    "S": lambda t: f"{t.second:02d}",
    "s": lambda t: f"{t.second:02d}",
    "T": lambda t: f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}",
    "U": lambda t: t.strftime("%U"),
    "v": lambda t: f"{t.isocalendar()[1]:02d}",
    "W": lambda t: _DAY_NAMES[t.weekday()],
    "w": lambda t: str((t.weekday() + 1) % 7),
    "x": lambda t: f"{t.isocalendar()[0]:04d}",
    "Y": lambda t: f"{t.year:04d}",
    "y": lambda t: f"{t.year % 100:02d}",
}


def _date_format(moment, fmt):
    if fmt is None:
        return None
    return "".join(_FORMATS[part](moment) if marker else part for marker, part in split_format(fmt))


_PARSE_FORMATS = {  # MySQL's STR_TO_DATE specifiers as strptime directives
    "a": "%a",
    "b": "%b",
    "c": "%m",
    "d": "%d",
    "e": "%d",
    "f": "%f",
    "H": "%H",
    "h": "%I",
    "I": "%I",
    "i": "%M",
    "j": "%j",
    "k": "%H",
    "l": "%I",
    "M": "%B",
    "m": "%m",
    "p": "%p",
    "r": "%I:%M:%S %p",
    "S": "%S",
    "s": "%S",
    "T": "%H:%M:%S",
    "W": "%A",
    "Y": "%Y",
    "y": "%y",
}


def _str_to_date(text, fmt):
    """STR_TO_DATE: a date, time or datetime by the format's specifiers; NULL when the text does not match."""
    if text is None or fmt is None:
        return None
    pattern = "".join(_PARSE_FORMATS[part] if marker else part.replace("%", "%%") for marker, part in split_format(fmt))
    try:
        parsed = _dt.datetime.strptime(_text(text), pattern)
    except ValueError:
        return None
    kind = format_kind(fmt)
    if kind == "date":
        return parsed.date().isoformat()
    return parsed.time().isoformat() if kind == "time" else parsed.isoformat(sep=" ")


_EPOCH = _dt.datetime(1970, 1, 1)


def _unix_timestamp(value):
    """Seconds since 1970-01-01, reading the value as UTC (as MySQL does in a UTC session)."""
    moment = _parse(value)
    if moment is None:
        return None
    seconds = (moment - _EPOCH) / _dt.timedelta(seconds=1)
    return int(seconds) if seconds.is_integer() else seconds


def _from_unixtime(seconds):
    if seconds is None or float(seconds) < 0:
        return None
    return (_EPOCH + _dt.timedelta(seconds=float(seconds))).isoformat(sep=" ")


def _time_to_sec(value):
    """TIME_TO_SEC of 'hh:mm[:ss[.ffffff]]' (or the time of a datetime)."""
    if value is None:
        return None
    moment = _parse(value)
    if moment is not None:
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    else:
        text = str(value).strip()
        sign = -1 if text.startswith("-") else 1
        try:
            parts = [float(p) for p in text.lstrip("+-").split(":")]
        except ValueError:
            return None
        if len(parts) not in (2, 3):
            return None
        seconds = sign * (parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0))
    return int(seconds) if float(seconds).is_integer() else seconds


def _sec_to_time(seconds):
    """The time of day `seconds` after midnight (wrapping at 24 hours, as PostgreSQL's time)."""
    if seconds is None:
        return None
    return (_dt.datetime.min + _dt.timedelta(seconds=float(seconds) % 86400)).time().isoformat()


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
    "ROUND": ((1, 2), _numeric(_round)),  # overrides SQLite's ROUND (half away from zero for floats too)
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
    "PI": (0, lambda: math.pi),
    "PJ_LEFT": (2, _left),
    "PJ_RIGHT": (2, _right),
    "REVERSE": (1, _reverse),
    "LPAD": (3, _pad(left=True)),
    "RPAD": (3, _pad(left=False)),
    "PJ_SUBSTRING": ((2, 3), _substring),
    "PJ_INTEGER": (1, _integer),
    "PJ_DATE_ADD": (3, _date_add),
    "DAYOFWEEK": (1, _date_function(lambda t: t.isoweekday() % 7 + 1)),
    "WEEKDAY": (1, _date_function(lambda t: t.weekday())),
    "DAYOFYEAR": (1, _date_function(lambda t: t.timetuple().tm_yday)),
    "QUARTER": (1, _date_function(lambda t: (t.month - 1) // 3 + 1)),
    "WEEK": (2, _date_function(_week)),
    "DAYNAME": (1, _date_function(lambda t: _DAY_NAMES[t.weekday()])),
    "LAST_DAY": (1, _date_function(_last_day)),
    "DATE_FORMAT": (2, _date_function(_date_format)),
    "STR_TO_DATE": (2, _str_to_date),
    "UNIX_TIMESTAMP": (1, _unix_timestamp),
    "FROM_UNIXTIME": (1, _from_unixtime),
    "TIME_TO_SEC": (1, _time_to_sec),
    "SEC_TO_TIME": (1, _sec_to_time),
}
VOLATILE = {
    "NOW": (0, _now),
    "CURDATE": (0, _curdate),
    "RAND": (0, random.random),
    "UNIX_TIMESTAMP": (0, lambda: int(time.time())),
}
AGGREGATES = {
    "STD": _PopulationStd,
    "STDDEV": _PopulationStd,
    "STDDEV_POP": _PopulationStd,
    "STDDEV_SAMP": _SampleStd,
    "VARIANCE": _PopulationVariance,
    "VAR_POP": _PopulationVariance,
    "VAR_SAMP": _SampleVariance,
}


class _Bits:
    """BIT_AND, BIT_OR, BIT_XOR; with no values, MySQL's identity (0 for OR and XOR)."""

    def __init__(self):
        self.value = None

    def step(self, value):
        if value is not None:
            self.value = int(value) if self.value is None else self.combine(self.value, int(value))

    def finalize(self):
        return self.empty if self.value is None else self.value


class _BitAnd(_Bits):
    combine, empty = staticmethod(lambda a, b: a & b), None  # MySQL: 2**64 - 1, which SQLite cannot hold


class _BitOr(_Bits):
    combine, empty = staticmethod(lambda a, b: a | b), 0


class _BitXor(_Bits):
    combine, empty = staticmethod(lambda a, b: a ^ b), 0


def _cot(x):
    tangent = math.tan(x)
    return None if tangent == 0 else 1 / tangent  # MySQL: an error for COT(0)


SCALARS.update(
    {
        "MICROSECOND": (1, _time_part("microsecond")),
        "COT": (1, _numeric(_cot)),
    }
)
VOLATILE["CURTIME"] = (0, lambda: _dt.datetime.now().strftime("%H:%M:%S"))
AGGREGATES.update({"BIT_AND": _BitAnd, "BIT_OR": _BitOr, "BIT_XOR": _BitXor})


def register_functions(raw):
    """Register the functions on a sqlite3 connection."""
    for name, (nargs, function) in {**SCALARS, **TEXT_FUNCTIONS}.items():
        for n in nargs if isinstance(nargs, tuple) else (nargs,):
            raw.create_function(name, n, function, deterministic=True)
    for name, (nargs, function) in VOLATILE.items():
        raw.create_function(name, nargs, function)
    for name, cls in AGGREGATES.items():
        raw.create_aggregate(name, 1, cls)
    raw.create_aggregate("PJ_GROUP_CONCAT", -1, _GroupConcat)
    # LIKE is case-sensitive on PostgreSQL and on MySQL tables (utf8mb4_bin); make SQLite agree
    raw.execute("PRAGMA case_sensitive_like = ON")
