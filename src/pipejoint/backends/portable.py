"""MySQL-flavoured SQL fragments made to mean the same on every backend.

Users write restriction strings and computed attributes as DataJoint users do, in MySQL syntax,
and MySQL's answer is the reference. sqlglot parses the fragment and transpiles most of it; the
rewrites here cover what it renders with a different meaning or not at all:

- NULL handling (PostgreSQL's CONCAT and GREATEST skip NULLs, MySQL's return NULL), division and
  modulo by zero and logarithms of non-positive numbers (NULL in MySQL, errors in PostgreSQL);
- functions SQLite lacks, rendered as calls to the Python functions in sqlite_functions.py;
- functions PostgreSQL lacks or spells differently (HOUR, DAYOFWEEK, DATE_FORMAT, ...), and
  PostgreSQL's stricter typing (string functions of numbers, ROUND of a double);
- on MySQL itself: `/`, AVG and PI() in full double precision (MySQL rounds integer division and
  AVG to 4 decimals and PI() to 6), so the float64 they are typed as is the same everywhere.

Each backend's ``render`` applies its rewrite to the tree just before generating SQL.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.tokens import TokenType

from ..errors import DataJointError

# --- reading fragments -------------------------------------------------------------------------


class FragmentMySQL(MySQL):
    """MySQL as fragments are read. MySQL's tokenizer takes a leading REPLACE for the REPLACE
    statement and the rest as its text; a fragment is one expression, so REPLACE( is the function."""

    class Tokenizer(MySQL.Tokenizer):
        COMMANDS = MySQL.Tokenizer.COMMANDS - {TokenType.REPLACE}


_FRAGMENT_DIALECTS = {"mysql": FragmentMySQL()}


def fragment_dialect(name):
    """The sqlglot dialect that reads fragments written in the configured dialect `name`."""
    return _FRAGMENT_DIALECTS.get(name, name)


# --- helpers -----------------------------------------------------------------------------------


def _call(name, *args):
    return exp.Anonymous(this=name, expressions=list(args))


def _cast(node, type_name):
    return exp.Cast(this=node, to=exp.DataType.build(type_name))


def _unit(node):
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "DAY").upper()


def _null_if_zero(node):
    return exp.Nullif(this=node, expression=exp.Literal.number(0))


def _any_null(args):
    tests = [exp.Is(this=a.copy(), expression=exp.Null()) for a in args]
    return exp.or_(*tests) if len(tests) > 1 else tests[0]


def _null_propagating(node, args):
    """CASE WHEN any argument IS NULL THEN NULL ELSE node END (MySQL's rule for CONCAT, GREATEST, LEAST)."""
    return exp.Case(ifs=[exp.If(this=_any_null(args), true=exp.Null())], default=node)


def _when(condition, value):
    """CASE WHEN condition THEN value END: NULL where the condition does not hold."""
    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def _arguments(node):
    """A function node's arguments in call order."""
    args = [node.this] if isinstance(node.this, exp.Expression) else []
    args += list(node.expressions)
    args += [node.args[k] for k in ("expression", "decimals") if node.args.get(k) is not None]
    return args


def _literal_int(node):
    """The value of an integer literal such as 3, -1 or '2' (INTERVAL amounts), else None."""
    sign = 1
    if isinstance(node, exp.Neg):
        sign, node = -1, node.this
    if isinstance(node, exp.Literal):
        try:
            return sign * int(str(node.this))
        except ValueError:
            return None
    return None


def _is_string_literal(node):
    return isinstance(node, exp.Literal) and node.is_string


def _temporal_literal(node, date_type="DATE", datetime_type="DATETIME"):
    """A string literal used as a date ('2000-01-31') or datetime ('2000-01-31 10:00') made one."""
    if not _is_string_literal(node):
        return node
    return _cast(node, datetime_type if ":" in node.this else date_type)


_INTERVAL_UNITS = {"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _interval_operands(node):
    """(value, amount, unit, sign) of DATE_ADD, DATE_SUB, TIMESTAMPADD and `value ± INTERVAL n unit`."""
    kind = type(node)
    shift = None
    if kind in (exp.DateAdd, exp.DateSub, exp.TimestampAdd):
        shift = node.this, node.expression, _unit(node), -1 if kind is exp.DateSub else 1
    elif kind in (exp.Add, exp.Sub):
        value, interval = node.this, node.expression
        if isinstance(value, exp.Interval) and kind is exp.Add:
            value, interval = interval, value
        if isinstance(interval, exp.Interval) and not isinstance(value, exp.Interval):
            shift = value, interval.this, _unit(interval), -1 if kind is exp.Sub else 1
    if shift is not None and shift[2] not in _INTERVAL_UNITS:
        raise DataJointError(
            f"INTERVAL ... {shift[2]} is not portable: use one of {', '.join(sorted(_INTERVAL_UNITS))}, "
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
    if not _is_string_literal(fmt):
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


# --- SQLite ------------------------------------------------------------------------------------

_SQLITE_CALLS = {
    exp.Year: "YEAR",
    exp.Month: "MONTH",
    exp.Day: "DAY",
    exp.DayOfMonth: "DAY",
    exp.Hour: "HOUR",
    exp.Minute: "MINUTE",
    exp.Second: "SECOND",
    exp.Rand: "RAND",
    exp.StddevPop: "STDDEV_POP",
    exp.StddevSamp: "STDDEV_SAMP",
    exp.Stddev: "STDDEV_POP",
    exp.VariancePop: "VAR_POP",
    exp.Variance: "VAR_SAMP",
    exp.Pow: "POWER",
    exp.Floor: "FLOOR",
    exp.Ceil: "CEIL",
    exp.Greatest: "GREATEST",
    exp.Least: "LEAST",
    exp.ConcatWs: "CONCAT_WS",
    exp.Trunc: "TRUNCATE",
    exp.Round: "ROUND",
    exp.Left: "PJ_LEFT",
    exp.Right: "PJ_RIGHT",
    exp.Reverse: "REVERSE",
    exp.DayOfWeek: "DAYOFWEEK",
    exp.DayOfYear: "DAYOFYEAR",
    exp.Quarter: "QUARTER",
    exp.Dayname: "DAYNAME",
    exp.LastDay: "LAST_DAY",
}


def sqlite_rewrite(node):
    """Calls to the registered Python functions where SQLite's built-ins differ or are missing."""
    kind = type(node)
    if kind in _SQLITE_CALLS:
        return _call(_SQLITE_CALLS[kind], *_arguments(node))
    if kind is exp.CurrentDate:
        return _call("CURDATE")
    if kind is exp.CurrentTimestamp or (kind is exp.Anonymous and node.name.upper() in ("NOW", "SYSDATE")):
        return _call("NOW")
    if kind is exp.DateDiff:
        return _call("DATEDIFF", node.this, node.expression)
    if kind is exp.TimestampDiff:
        return _call("TIMESTAMPDIFF", exp.Literal.string(_unit(node)), node.expression, node.this)
    if kind is exp.RegexpLike:
        return _call("REGEXP_LIKE", node.this, node.expression)
    if kind is exp.GroupConcat:
        return _sqlite_group_concat(node)
    if kind is exp.Like and not isinstance(node.parent, exp.Escape):
        # backslash escapes % and _ in MySQL and PostgreSQL patterns; SQLite needs to be told
        return exp.Escape(this=node, expression=exp.Literal.string("\\"))
    if kind is exp.Length and node.args.get("binary"):  # MySQL's LENGTH counts bytes
        return exp.Length(this=_cast(node.this, "BLOB"))
    if kind is exp.Pad:
        return _call(
            "LPAD" if node.args.get("is_left") else "RPAD",
            node.this,
            node.expression,
            node.args.get("fill_pattern") or exp.Literal.string(" "),
        )
    if kind is exp.Substring or (kind is exp.Anonymous and node.name.upper() == "MID"):
        args = (
            [node.this, node.args.get("start"), node.args.get("length")] if kind is exp.Substring else node.expressions
        )
        return _call("PJ_SUBSTRING", *[a for a in args if a is not None])
    if kind is exp.Week:
        return _call("WEEK", node.this, _week_mode(node))
    if kind is exp.TimeToStr:
        return _call("DATE_FORMAT", node.this, exp.Literal.string(_literal_format(node, "DATE_FORMAT")))
    if kind in (exp.StrToDate, exp.StrToTime):
        return _call("STR_TO_DATE", node.this, exp.Literal.string(_literal_format(node, "STR_TO_DATE")))
    if kind is exp.UnixToTime:
        seconds = _call("FROM_UNIXTIME", node.this)
        if node.args.get("format") is None:
            return seconds
        return _call("DATE_FORMAT", seconds, exp.Literal.string(_literal_format(node, "FROM_UNIXTIME")))
    if kind is exp.Cast:
        return _sqlite_cast(node)
    shift = _interval_operands(node)
    if shift is not None:
        value, amount, unit, sign = shift
        return _call(
            "PJ_DATE_ADD", value, amount if sign > 0 else exp.Neg(this=exp.Paren(this=amount)), exp.Literal.string(unit)
        )
    return node


def cast_target(node):
    """The name of a CAST's target type as sqlglot reads MySQL's: 'BIGINT' for SIGNED, 'UBIGINT' for UNSIGNED, ..."""
    to = node.args["to"]
    return str(getattr(to.this, "value", to.this)).upper()


def _sqlite_cast(node):
    to, target = node.args["to"], cast_target(node)
    if target in ("BIGINT", "UBIGINT", "INT", "UINT"):  # SIGNED / UNSIGNED: MySQL rounds, SQLite truncates
        return _call("PJ_INTEGER", node.this)
    if target in ("CHAR", "VARCHAR", "NCHAR", "NVARCHAR") and to.expressions:  # CHAR(n) cuts to n characters
        length = to.expressions[0].this
        return exp.Substring(this=_cast(node.this, "TEXT"), start=exp.Literal.number(1), length=length)
    return node


def _sqlite_group_concat(node):
    value, order, distinct = node.this, [], False
    if isinstance(value, exp.Order):
        order = value.expressions
        value = value.this
    if isinstance(value, exp.Distinct):
        distinct = True
        value = value.expressions[0]
    separator = node.args.get("separator") or exp.Literal.string(",")
    args = [value, separator, exp.Literal.number(int(distinct))]
    for item in order:
        args += [item.this, exp.Literal.number(int(bool(item.args.get("desc"))))]
    return _call("PJ_GROUP_CONCAT", *args)


def _week_mode(node):
    """WEEK's mode: 0 (the default: weeks start on Sunday) or 3 (ISO weeks) are portable."""
    mode = node.args.get("mode")
    value = 0 if mode is None else _literal_int(mode)
    if value not in (0, 3):
        raise DataJointError(
            f"WEEK(date, {mode.sql() if mode is not None else ''}) is not portable: use WEEK(date) for weeks "
            "starting on Sunday (mode 0) or WEEK(date, 3) for ISO weeks."
        )
    return exp.Literal.number(value)


_UNPORTABLE_SPECIFIERS = {"DATE_FORMAT": "uVX", "FROM_UNIXTIME": "uVX", "STR_TO_DATE": "DUuVvwXx"}


def _literal_format(node, function):
    """The MySQL format of a DATE_FORMAT / STR_TO_DATE / FROM_UNIXTIME call, checked to be portable."""
    text = mysql_format(node)
    if text is None:
        raise DataJointError(f"{function} needs its format as a string literal, e.g. {function}(d, '%Y-%m-%d').")
    unportable = sorted(
        {f"%{part}" for marker, part in split_format(text) if marker and part in _UNPORTABLE_SPECIFIERS[function]}
    )
    if unportable:
        hint = (
            "STR_TO_DATE reads dates, times and month and day names, not week numbers."
            if function == "STR_TO_DATE"
            else "Portable week numbers are %U (weeks from Sunday) and %v with %x (ISO weeks)."
        )
        raise DataJointError(
            f"{function} format {text!r} uses {', '.join(unportable)}, which is not portable: not every backend "
            f"supports it. {hint}"
        )
    return text


# --- PostgreSQL --------------------------------------------------------------------------------

_SECONDS = {"MICROSECOND": 0.000001, "SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _timestamp(node):
    return exp.Cast(this=node, to=exp.DataType.build("timestamp"))


def _as_text(node):
    if _is_string_literal(node) or node is None:
        return node
    return exp.Cast(this=node, to=exp.DataType.build("text"))


def _temporal(node):
    """A date/time operand for EXTRACT and TO_CHAR: string literals are cast (PostgreSQL cannot tell)."""
    if not _is_string_literal(node):
        return node
    return _cast(node, "timestamp" if "-" in node.this else "time")


def _extract(part, node):
    return exp.Extract(this=exp.var(part), expression=_temporal(node.copy()))


def _time_part(node, part):
    extracted = _extract(part, node.this)
    return exp.Floor(this=extracted) if part == "SECOND" else extracted


def _pg_timestampdiff(node):
    unit = _unit(node)
    start, end = _timestamp(node.expression), _timestamp(node.this)
    if unit in _MONTHS:
        age = _call("AGE", end, start)
        months = exp.Add(
            this=exp.Mul(this=exp.Extract(this=exp.var("YEAR"), expression=age), expression=exp.Literal.number(12)),
            expression=exp.Extract(this=exp.var("MONTH"), expression=age.copy()),
        )
        value = exp.Div(this=months, expression=exp.Literal.number(_MONTHS[unit])) if _MONTHS[unit] > 1 else months
    else:
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=exp.Paren(this=exp.Sub(this=end, expression=start)))
        value = exp.Div(this=seconds, expression=exp.Literal.number(_SECONDS[unit]))
    return exp.Cast(this=_call("TRUNC", value), to=exp.DataType.build("bigint"))


def _pg_group_concat(node):
    """STRING_AGG needs text; with DISTINCT, PostgreSQL orders only by the argument itself, so
    ARRAY_AGG keeps the values' own order (numbers as numbers) and ARRAY_TO_STRING joins them."""
    separator = node.args.get("separator") or exp.Literal.string(",")
    holder = node.this if isinstance(node.this, exp.Order) else node
    value = holder.this
    if isinstance(value, exp.Distinct):
        return _call("ARRAY_TO_STRING", exp.ArrayAgg(this=node.this), separator)
    holder.set("this", _as_text(value))
    node.set("separator", separator)
    return node


def _pg_shift(value, amount, unit, sign):
    """value ± amount unit: a timestamp (PostgreSQL's date + interval); select_value casts a date result back."""
    if unit == "QUARTER":
        amount, unit = exp.Mul(this=exp.Paren(this=amount), expression=exp.Literal.number(3)), "MONTH"
    n = _literal_int(amount)
    if n is not None:
        interval = exp.Interval(this=exp.Literal.string(str(n)), unit=exp.var(unit))
    else:
        interval = exp.Mul(
            this=exp.Paren(this=amount), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var(unit))
        )
    value = _temporal_literal(value, "timestamp", "timestamp")
    return exp.Paren(this=(exp.Add if sign > 0 else exp.Sub)(this=value, expression=interval))


def _pg_scaled(function, node):
    """ROUND(x, d) / TRUNCATE(x, d) as MySQL computes them: x scaled by 10^d, rounded, scaled back.

    Scaling by a NUMERIC power of ten keeps PostgreSQL's own type dispatch: a double stays a double
    (ROUND rounds half to even, as MySQL does for approximate values) and an exact value stays
    NUMERIC (half away from zero, as MySQL does for exact values).
    """
    value, digits = node.this, node.args.get("decimals")
    d = 0 if digits is None else _literal_int(digits)
    if d == 0:
        return _call(function, value)
    if d is None:
        power = _call("POWER", exp.Literal.number("10.0"), digits)
        scaled, back = exp.Mul, exp.Div
    else:
        power = exp.Literal.number(f"1e{abs(d)}")
        scaled, back = (exp.Mul, exp.Div) if d > 0 else (exp.Div, exp.Mul)
    rounded = _call(function, scaled(this=exp.Paren(this=value), expression=power))
    return exp.Paren(this=back(this=rounded, expression=power.copy()))


def _pg_cast(node):
    to, target = node.args["to"], cast_target(node)
    if target in ("CHAR", "NCHAR"):  # CHAR is char(1) in PostgreSQL, and char(n) pads with spaces
        node.set("to", exp.DataType.build(f"varchar({to.expressions[0].this})" if to.expressions else "text"))
    elif target in ("UBIGINT", "UINT"):
        node.set("to", exp.DataType.build("bigint"))
    elif target == "DECIMAL" and not to.expressions:  # MySQL's DECIMAL is DECIMAL(10, 0)
        node.set("to", exp.DataType.build("decimal(10, 0)"))
    return node


def _pg_substring(node):
    text, start, length = _as_text(node.this), node.args.get("start"), node.args.get("length")
    first = _literal_int(start)
    if first is not None and first < 0:  # MySQL counts from the end; '' when the string is shorter
        tail = _call("RIGHT", text, exp.Literal.number(-first))
        short = exp.LT(this=exp.Length(this=text.copy()), expression=exp.Literal.number(-first))
        result = exp.Case(ifs=[exp.If(this=short, true=exp.Literal.string(""))], default=tail)
        return result if length is None else exp.Left(this=result, expression=_not_negative(length))
    if first == 0:  # MySQL: an empty string (NULL for NULL)
        return exp.Left(this=text, expression=exp.Literal.number(0))
    node.set("this", text)
    if length is not None:
        node.set("length", _not_negative(length))
    return node


def _not_negative(count):
    """MySQL treats a negative length or count as 0; PostgreSQL counts from the end or fails."""
    n = _literal_int(count)
    if n is not None:
        return exp.Literal.number(max(n, 0))
    return exp.Case(
        ifs=[exp.If(this=exp.LT(this=count.copy(), expression=exp.Literal.number(0)), true=exp.Literal.number(0))],
        default=count,
    )


_PG_FORMAT = {
    "a": "Dy",
    "b": "Mon",
    "c": "FMMM",
    "D": "FMDDth",
    "d": "DD",
    "e": "FMDD",
    "f": "US",
    "H": "HH24",
    "h": "HH12",
    "I": "HH12",
    "i": "MI",
    "j": "DDD",
    "k": "FMHH24",
    "l": "FMHH12",
    "M": "FMMonth",
    "m": "MM",
    "p": "AM",
    "r": "HH12:MI:SS AM",
    "S": "SS",
    "s": "SS",
    "T": "HH24:MI:SS",
    "v": "IW",
    "W": "FMDay",
    "x": "IYYY",
    "Y": "YYYY",
    "y": "YY",
}


def _pg_week0(value):
    """MySQL's WEEK(d) (mode 0): weeks start on Sunday; days before the year's first Sunday are week 0."""
    days = exp.Sub(
        this=exp.Add(this=_extract("DOY", value), expression=exp.Literal.number(6)), expression=_extract("DOW", value)
    )
    return exp.Floor(this=exp.Div(this=exp.Paren(this=days), expression=exp.Literal.number(7)))


def _pg_date_format(value, text):
    """MySQL's DATE_FORMAT as TO_CHAR templates (and expressions for %w and %U, which have none)."""
    value = _temporal(value)
    pieces, template = [], ""
    for marker, part in split_format(text):
        if not marker:
            template += '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif part in _PG_FORMAT:
            template += _PG_FORMAT[part]
        elif part in ("w", "U"):
            if template:
                pieces.append(_call("TO_CHAR", value.copy(), exp.Literal.string(template)))
                template = ""
            number = _cast(_extract("DOW", value), "int") if part == "w" else _cast(_pg_week0(value), "int")
            text_number = _as_text(number)
            pieces.append(
                text_number
                if part == "w"
                else exp.Pad(
                    this=text_number,
                    expression=exp.Literal.number(2),
                    fill_pattern=exp.Literal.string("0"),
                    is_left=True,
                )
            )
        else:
            raise DataJointError(
                f"DATE_FORMAT specifier %{part} is not portable; the week specifiers "
                "that are: %v and %x (ISO), %U (weeks from Sunday)."
            )
    if template or not pieces:
        pieces.append(_call("TO_CHAR", value.copy(), exp.Literal.string(template)))
    result = pieces[0]
    for piece in pieces[1:]:
        result = exp.DPipe(this=result, expression=piece, safe=True)
    return exp.Paren(this=result) if len(pieces) > 1 else result


def _pg_str_to_date(node):
    text = _literal_format(node, "STR_TO_DATE")
    template = "".join(_PG_FORMAT.get(p, "") if m else '"' + p.replace('"', '\\"') + '"' for m, p in split_format(text))
    kind = format_kind(text)
    if kind == "date":
        return _call("TO_DATE", node.this, exp.Literal.string(template))
    parsed = _call("TO_TIMESTAMP", node.this, exp.Literal.string(template))
    return _cast(parsed, "timestamp" if kind == "datetime" else "time")


def _pg_positive(value, strict=True):
    """The value where a logarithm (strict) or square root is defined, NULL elsewhere (as MySQL gives)."""
    test = (exp.GT if strict else exp.GTE)(this=value.copy(), expression=exp.Literal.number(0))
    return _when(test, value)


_PG_STRING_FUNCTIONS = (
    exp.Left,
    exp.Right,
    exp.Reverse,
    exp.Pad,
    exp.Replace,
    exp.Upper,
    exp.Lower,
    exp.Trim,
    exp.Length,
)


def postgres_rewrite(node):
    kind = type(node)
    if kind in (exp.Hour, exp.Minute, exp.Second):
        return _time_part(node, kind.__name__.upper())
    if kind is exp.Concat:
        args = [_as_text(a) for a in node.expressions]
        result = args[0]
        for a in args[1:]:
            result = exp.DPipe(this=result, expression=a, safe=True)
        return exp.Paren(this=result)
    if kind in (exp.Greatest, exp.Least):
        args = [node.this] + list(node.expressions)
        return _null_propagating(node, args)
    if kind is exp.GroupConcat:
        return _pg_group_concat(node)
    if kind is exp.Mod:
        return _call("MOD", node.this, _null_if_zero(node.expression))
    if kind is exp.IntDiv:
        return exp.Cast(this=_call("DIV", node.this, _null_if_zero(node.expression)), to=exp.DataType.build("bigint"))
    if kind is exp.TimestampDiff:
        return _pg_timestampdiff(node)
    if kind in _PG_STRING_FUNCTIONS:  # MySQL converts numbers and dates to strings; PostgreSQL wants text
        node.set("this", _as_text(node.this))
        if kind in (exp.Left, exp.Right):
            node.set("expression", _not_negative(node.expression))
        if kind is exp.Length and node.args.get("binary"):  # MySQL's LENGTH counts bytes
            return _call("OCTET_LENGTH", node.this)
        return node
    if kind is exp.StrPosition:
        node.set("this", _as_text(node.this))
        return node
    if kind is exp.Substring or (kind is exp.Anonymous and node.name.upper() == "MID"):
        if kind is exp.Anonymous:
            node = exp.Substring(
                this=node.expressions[0],
                start=node.expressions[1],
                length=node.expressions[2] if len(node.expressions) > 2 else None,
            )
        return _pg_substring(node)
    if kind is exp.DayOfMonth:
        return _extract("DAY", node.this)
    if kind is exp.DayOfWeek:  # 1 = Sunday
        return exp.Add(this=_extract("DOW", node.this), expression=exp.Literal.number(1))
    if kind is exp.Anonymous and node.name.upper() == "WEEKDAY" and len(node.expressions) == 1:  # 0 = Monday
        return exp.Paren(this=exp.Sub(this=_extract("ISODOW", node.expressions[0]), expression=exp.Literal.number(1)))
    if kind is exp.DayOfYear:
        return _extract("DOY", node.this)
    if kind is exp.Quarter:
        return _extract("QUARTER", node.this)
    if kind is exp.Week:
        return _pg_week0(node.this) if _week_mode(node).this in (0, "0") else _extract("WEEK", node.this)
    if kind is exp.Dayname:
        return _call("TO_CHAR", _temporal(node.this), exp.Literal.string("FMDay"))
    if kind is exp.Time:  # TIME(dt): the time of day
        return _cast(node.this, "time")
    if kind is exp.TimeToStr:
        return _pg_date_format(node.this, _literal_format(node, "DATE_FORMAT"))
    if kind in (exp.StrToDate, exp.StrToTime):
        return _pg_str_to_date(node)
    if kind is exp.UnixToTime:  # seconds since 1970-01-01 UTC, as a UTC date and time
        utc = exp.Paren(this=exp.AtTimeZone(this=_call("TO_TIMESTAMP", node.this), zone=exp.Literal.string("UTC")))
        fmt = node.args.get("format")
        return utc if fmt is None else _pg_date_format(utc, _literal_format(node, "FROM_UNIXTIME"))
    if kind is exp.Anonymous:
        return _pg_call(node)
    if kind is exp.Round:
        return _pg_scaled("ROUND", node)
    if kind is exp.Trunc:
        return _pg_scaled("TRUNC", node)
    if kind is exp.Cast:
        return _pg_cast(node)
    if kind is exp.Ln:
        return exp.Ln(this=_pg_positive(node.this))
    if kind is exp.Log:  # LOG(b, x), LOG2(x) = LOG(2, x), LOG10(x) = LOG(10, x); NULL where undefined
        base, value = node.this, node.expression
        if value is None:
            return exp.Ln(this=_pg_positive(base))
        base_ok = exp.and_(
            exp.GT(this=base.copy(), expression=exp.Literal.number(0)),
            exp.NEQ(this=base.copy(), expression=exp.Literal.number(1)),
        )
        return exp.Paren(
            this=exp.Div(this=exp.Ln(this=_pg_positive(value)), expression=exp.Ln(this=_when(base_ok, base)))
        )
    if kind is exp.Sqrt:
        return exp.Sqrt(this=_pg_positive(node.this, strict=False))
    shift = _interval_operands(node)
    if shift is not None:
        return _pg_shift(*shift)
    return node


def _pg_call(node):
    """MySQL functions sqlglot does not know, by name."""
    name, args = node.name.upper(), node.expressions
    if name == "UNIX_TIMESTAMP" and len(args) <= 1:  # seconds since 1970-01-01, reading the value as UTC
        value = _timestamp(args[0]) if args else exp.CurrentTimestamp()
        return exp.Extract(this=exp.var("EPOCH"), expression=value)
    if name == "TIME_TO_SEC" and len(args) == 1:  # text as a duration ('-01:00:00', '25:00:00'), else a time of day
        return exp.Extract(
            this=exp.var("EPOCH"), expression=_cast(args[0], "interval" if _is_string_literal(args[0]) else "time")
        )
    if name == "SEC_TO_TIME" and len(args) == 1:
        interval = exp.Mul(
            this=exp.Paren(this=args[0]), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("SECOND"))
        )
        return _cast(interval, "time")
    return node


# --- MySQL -------------------------------------------------------------------------------------


def _double(node):
    return _cast(node, "DOUBLE")


def mysql_rewrite(node):
    """MySQL is the reference, but its decimals are typed float64 here: compute them as doubles.
    What other backends refuse as not portable (WEEK modes, DATE_FORMAT week specifiers, compound
    INTERVAL units) is refused here too, so a fragment that runs on MySQL runs everywhere."""
    kind = type(node)
    if kind is exp.Week:
        _week_mode(node)
    elif kind is exp.TimeToStr:
        _literal_format(node, "DATE_FORMAT")
    elif kind in (exp.StrToDate, exp.StrToTime):
        _literal_format(node, "STR_TO_DATE")
    elif kind is exp.UnixToTime and node.args.get("format") is not None:
        _literal_format(node, "FROM_UNIXTIME")
    if kind is exp.Pi:  # PI() carries 6 decimals into everything computed from it
        return _double(node)
    if kind is exp.Div:  # integer division would be rounded to 4 decimals
        node.set("this", _double(node.this))
        return node
    if kind is exp.Avg:
        inner = node.this
        if isinstance(inner, exp.Distinct):
            inner.set("expressions", [_double(e) for e in inner.expressions])
        else:
            node.set("this", _double(inner))
        return node
    shift = _interval_operands(node)
    if shift is not None and _is_string_literal(shift[0]):  # a date string plus an interval is a string
        literal = shift[0]
        literal.replace(_temporal_literal(literal.copy()))
    return node


def rewrite(tree, function):
    """Apply a per-node rewrite to a copy of the tree (the cached parse stays untouched).

    Children are rewritten before their parents, so a rewrite sees (and may rearrange) arguments
    that are already in the backend's terms, and nested calls such as CONCAT(HOUR(dt), 'h') are
    rewritten at every level.
    """
    root = tree.copy()
    for node in reversed(list(root.dfs())):
        parent, arg_key, index = node.parent, node.arg_key, node.index  # before the rewrite may re-parent it
        new = function(node)
        if new is node:
            continue
        if parent is None:
            root = new
        else:
            parent.set(arg_key, new, index)
    return root
