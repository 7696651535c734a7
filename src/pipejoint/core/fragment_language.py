"""The language of SQL fragments: MySQL's, as sqlglot reads it.

Restriction strings and computed attributes are written in MySQL syntax. What they mean is
needed on both sides of the compiler: the query layer infers a computed attribute's type from it
(STR_TO_DATE's format says date, time or datetime; DATE_ADD of a date by days stays a date), and
each backend rewrites it into its own SQL (DATE_FORMAT's specifiers, the units of an INTERVAL).
Both read those facts here, so the two never disagree.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from ..errors import DataJointError


def is_string_literal(node):
    return isinstance(node, exp.Literal) and node.is_string


def interval_unit(node):
    """The unit of an INTERVAL, DATE_ADD or TIMESTAMPDIFF node, upper case; DAY when none is written."""
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "DAY").upper()


def cast_target(node):
    """The name of a CAST's target type as sqlglot reads MySQL's: 'BIGINT' for SIGNED, 'UBIGINT' for UNSIGNED, ..."""
    to = node.args["to"]
    return str(getattr(to.this, "value", to.this)).upper()


# --- date arithmetic ---------------------------------------------------------------------------

INTERVAL_UNITS = {"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def interval_operands(node):
    """(value, amount, unit, sign) of DATE_ADD, DATE_SUB, TIMESTAMPADD and `value ± INTERVAL n unit`, else None.

    Compound units (DAY_HOUR, ...) are refused: not every backend has them.
    """
    kind = type(node)
    shift = None
    if kind in (exp.DateAdd, exp.DateSub, exp.TimestampAdd):
        shift = node.this, node.expression, interval_unit(node), -1 if kind is exp.DateSub else 1
    elif kind in (exp.Add, exp.Sub):
        value, interval = node.this, node.expression
        if isinstance(value, exp.Interval) and kind is exp.Add:
            value, interval = interval, value
        if isinstance(interval, exp.Interval) and not isinstance(value, exp.Interval):
            shift = value, interval.this, interval_unit(interval), -1 if kind is exp.Sub else 1
    if shift is not None and shift[2] not in INTERVAL_UNITS:
        raise DataJointError(
            f"INTERVAL ... {shift[2]} is not portable: use one of {', '.join(sorted(INTERVAL_UNITS))}, "
            "e.g. DATE_ADD(d, INTERVAL 90 MINUTE)."
        )
    return shift


# --- MySQL date formats (DATE_FORMAT, STR_TO_DATE) ------------------------------------------------

DATE_SPECIFIERS = set("abcDdejMmUuVvWwXxYy")
TIME_SPECIFIERS = set("fHhIiklprSsT")

# sqlglot reads MySQL's format specifiers into its own strftime-like ones (%i -> %M, %M -> %B, ...)
_FROM_SQLGLOT_FORMAT = {ours: mysql for mysql, ours in MySQL.TIME_MAPPING.items() if len(ours) <= 3}


def mysql_format(node):
    """The MySQL format string of a DATE_FORMAT / STR_TO_DATE node, or None when it is not a literal."""
    fmt = node.args.get("format")
    if not is_string_literal(fmt):
        return None
    return re.sub(r"%-?.", lambda m: _FROM_SQLGLOT_FORMAT.get(m.group(), m.group()), fmt.this, flags=re.DOTALL)


def split_format(text):
    """A MySQL format as a list of ('%', letter) specifiers and ('', text) literal pieces."""
    parts, literal, i = [], "", 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            letter = text[i + 1]
            if letter in DATE_SPECIFIERS or letter in TIME_SPECIFIERS:
                if literal:
                    parts.append(("", literal))
                    literal = ""
                parts.append(("%", letter))
            else:
                literal += letter  # %% is a percent sign; MySQL prints any other %x as x
            i += 2
        else:
            literal += text[i]
            i += 1
    if literal:
        parts.append(("", literal))
    return parts


def format_kind(text):
    """What STR_TO_DATE returns for a format: 'date', 'time' or 'datetime'."""
    letters = {letter for marker, letter in split_format(text) if marker}
    has_date, has_time = bool(letters & DATE_SPECIFIERS), bool(letters & TIME_SPECIFIERS)
    if has_date and has_time:
        return "datetime"
    return "time" if has_time else "date"
