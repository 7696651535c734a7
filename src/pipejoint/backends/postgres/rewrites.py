"""MySQL-flavoured fragments on PostgreSQL: MySQL's answers in PostgreSQL's terms.

- NULL handling: PostgreSQL's CONCAT and GREATEST skip NULLs, MySQL's return NULL; division and
  modulo by zero and logarithms of non-positive numbers are NULL in MySQL and errors here.
- Functions PostgreSQL lacks or spells differently (HOUR, DAYOFWEEK, WEEK, DATE_FORMAT,
  STR_TO_DATE, TIMESTAMPDIFF, UNIX_TIMESTAMP, ...), built from EXTRACT, TO_CHAR and intervals.
- PostgreSQL's stricter typing: MySQL's string functions take numbers and dates, PostgreSQL's
  want text; a string literal used as a date must be cast; ROUND(double, d) does not exist.
- MySQL's edge cases: SUBSTRING with a negative or zero start, negative lengths counted as 0,
  CHAR(n) casts that do not pad.
"""

from __future__ import annotations

from sqlglot import exp

from ...core.fragment_language import (
    cast_target,
    format_kind,
    interval_operands,
    interval_unit,
    is_string_literal,
    split_format,
)
from ...errors import DataJointError
from ..rewriting import call, cast, literal_format, literal_int, temporal_literal, week_mode
from .functions import REWRITES as MORE_FUNCTIONS
from .functions import by_name as more_functions_by_name

_SECONDS = {"MICROSECOND": 0.000001, "SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}

# --- helpers -----------------------------------------------------------------------------------


def _timestamp(node):
    return exp.Cast(this=node, to=exp.DataType.build("timestamp"))


def _as_text(node):
    if is_string_literal(node) or node is None:
        return node
    return exp.Cast(this=node, to=exp.DataType.build("text"))


def _temporal(node):
    """A date/time operand for EXTRACT and TO_CHAR: string literals are cast (PostgreSQL cannot tell)."""
    if not is_string_literal(node):
        return node
    return cast(node, "timestamp" if "-" in node.this else "time")


def _extract(part, node):
    return exp.Extract(this=exp.var(part), expression=_temporal(node.copy()))


def _null_if_zero(node):
    return exp.Nullif(this=node, expression=exp.Literal.number(0))


def _when(condition, value):
    """CASE WHEN condition THEN value END: NULL where the condition does not hold."""
    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def _positive(value, strict=True):
    """The value where a logarithm (strict) or square root is defined, NULL elsewhere (as MySQL gives)."""
    test = (exp.GT if strict else exp.GTE)(this=value.copy(), expression=exp.Literal.number(0))
    return _when(test, value)


def _not_negative(count):
    """MySQL treats a negative length or count as 0; PostgreSQL counts from the end or fails."""
    n = literal_int(count)
    if n is not None:
        return exp.Literal.number(max(n, 0))
    return exp.Case(
        ifs=[exp.If(this=exp.LT(this=count.copy(), expression=exp.Literal.number(0)), true=exp.Literal.number(0))],
        default=count,
    )


# --- NULLs and arithmetic ----------------------------------------------------------------------


def _concat(node):
    """|| is NULL when any part is; PostgreSQL's CONCAT skips NULLs."""
    args = [_as_text(a) for a in node.expressions]
    result = args[0]
    for a in args[1:]:
        result = exp.DPipe(this=result, expression=a, safe=True)
    return exp.Paren(this=result)


def _null_propagating(node):
    """GREATEST and LEAST: CASE WHEN any argument IS NULL THEN NULL ELSE node END (MySQL's rule)."""
    args = [node.this] + list(node.expressions)
    tests = [exp.Is(this=a.copy(), expression=exp.Null()) for a in args]
    any_null = exp.or_(*tests) if len(tests) > 1 else tests[0]
    return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=node)


def _mod(node):
    return call("MOD", node.this, _null_if_zero(node.expression))


def _int_div(node):
    return exp.Cast(this=call("DIV", node.this, _null_if_zero(node.expression)), to=exp.DataType.build("bigint"))


def _scaled(function):
    """ROUND(x, d) / TRUNCATE(x, d) as MySQL computes them: x scaled by 10^d, rounded, scaled back.

    Scaling by a NUMERIC power of ten keeps PostgreSQL's own type dispatch: a double stays a double
    (ROUND rounds half to even, as MySQL does for approximate values) and an exact value stays
    NUMERIC (half away from zero, as MySQL does for exact values).
    """

    def rewrite(node):
        value, digits = node.this, node.args.get("decimals")
        d = 0 if digits is None else literal_int(digits)
        if d == 0:
            return call(function, value)
        if d is None:
            power = call("POWER", exp.Literal.number("10.0"), digits)
            scaled, back = exp.Mul, exp.Div
        else:
            power = exp.Literal.number(f"1e{abs(d)}")
            scaled, back = (exp.Mul, exp.Div) if d > 0 else (exp.Div, exp.Mul)
        rounded = call(function, scaled(this=exp.Paren(this=value), expression=power))
        return exp.Paren(this=back(this=rounded, expression=power.copy()))

    return rewrite


def _ln(node):
    return exp.Ln(this=_positive(node.this))


def _log(node):
    """LOG(b, x), LOG2(x) = LOG(2, x), LOG10(x) = LOG(10, x); NULL where undefined."""
    base, value = node.this, node.expression
    if value is None:
        return exp.Ln(this=_positive(base))
    base_ok = exp.and_(
        exp.GT(this=base.copy(), expression=exp.Literal.number(0)),
        exp.NEQ(this=base.copy(), expression=exp.Literal.number(1)),
    )
    return exp.Paren(this=exp.Div(this=exp.Ln(this=_positive(value)), expression=exp.Ln(this=_when(base_ok, base))))


def _sqrt(node):
    return exp.Sqrt(this=_positive(node.this, strict=False))


def _cast(node):
    to, target = node.args["to"], cast_target(node)
    if target in ("CHAR", "NCHAR"):  # CHAR is char(1) in PostgreSQL, and char(n) pads with spaces
        node.set("to", exp.DataType.build(f"varchar({to.expressions[0].this})" if to.expressions else "text"))
    elif target in ("UBIGINT", "UINT"):
        node.set("to", exp.DataType.build("bigint"))
    elif target == "DECIMAL" and not to.expressions:  # MySQL's DECIMAL is DECIMAL(10, 0)
        node.set("to", exp.DataType.build("decimal(10, 0)"))
    return node


# --- strings -----------------------------------------------------------------------------------


def _string_function(node):
    """MySQL converts numbers and dates to strings; PostgreSQL wants text."""
    node.set("this", _as_text(node.this))
    kind = type(node)
    if kind in (exp.Left, exp.Right):
        node.set("expression", _not_negative(node.expression))
    if kind is exp.Length and node.args.get("binary"):  # MySQL's LENGTH counts bytes
        return call("OCTET_LENGTH", node.this)
    return node


def _str_position(node):
    node.set("this", _as_text(node.this))
    return node


def _substring(node):
    text, start, length = _as_text(node.this), node.args.get("start"), node.args.get("length")
    first = literal_int(start)
    if first is not None and first < 0:  # MySQL counts from the end; '' when the string is shorter
        tail = call("RIGHT", text, exp.Literal.number(-first))
        short = exp.LT(this=exp.Length(this=text.copy()), expression=exp.Literal.number(-first))
        result = exp.Case(ifs=[exp.If(this=short, true=exp.Literal.string(""))], default=tail)
        return result if length is None else exp.Left(this=result, expression=_not_negative(length))
    if first == 0:  # MySQL: an empty string (NULL for NULL)
        return exp.Left(this=text, expression=exp.Literal.number(0))
    node.set("this", text)
    if length is not None:
        node.set("length", _not_negative(length))
    return node


def _group_concat(node):
    """STRING_AGG needs text; with DISTINCT, PostgreSQL orders only by the argument itself, so
    ARRAY_AGG keeps the values' own order (numbers as numbers) and ARRAY_TO_STRING joins them."""
    separator = node.args.get("separator") or exp.Literal.string(",")
    holder = node.this if isinstance(node.this, exp.Order) else node
    value = holder.this
    if isinstance(value, exp.Distinct):
        return call("ARRAY_TO_STRING", exp.ArrayAgg(this=node.this), separator)
    holder.set("this", _as_text(value))
    node.set("separator", separator)
    return node


# --- dates and times ---------------------------------------------------------------------------


def _time_part(part):
    def rewrite(node):
        extracted = _extract(part, node.this)
        return exp.Floor(this=extracted) if part == "SECOND" else extracted

    return rewrite


def _week0(value):
    """MySQL's WEEK(d) (mode 0): weeks start on Sunday; days before the year's first Sunday are week 0."""
    days = exp.Sub(
        this=exp.Add(this=_extract("DOY", value), expression=exp.Literal.number(6)), expression=_extract("DOW", value)
    )
    return exp.Floor(this=exp.Div(this=exp.Paren(this=days), expression=exp.Literal.number(7)))


def _week(node):
    return _week0(node.this) if week_mode(node).this in (0, "0") else _extract("WEEK", node.this)


def _timestampdiff(node):
    unit = interval_unit(node)
    start, end = _timestamp(node.expression), _timestamp(node.this)
    if unit in _MONTHS:
        age = call("AGE", end, start)
        months = exp.Add(
            this=exp.Mul(this=exp.Extract(this=exp.var("YEAR"), expression=age), expression=exp.Literal.number(12)),
            expression=exp.Extract(this=exp.var("MONTH"), expression=age.copy()),
        )
        value = exp.Div(this=months, expression=exp.Literal.number(_MONTHS[unit])) if _MONTHS[unit] > 1 else months
    else:
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=exp.Paren(this=exp.Sub(this=end, expression=start)))
        value = exp.Div(this=seconds, expression=exp.Literal.number(_SECONDS[unit]))
    return exp.Cast(this=call("TRUNC", value), to=exp.DataType.build("bigint"))


def _shift(node):
    """value ± amount unit: a timestamp (PostgreSQL's date + interval); select_value casts a date result back."""
    shift = interval_operands(node)
    if shift is None:
        return node
    value, amount, unit, sign = shift
    if unit == "QUARTER":
        amount, unit = exp.Mul(this=exp.Paren(this=amount), expression=exp.Literal.number(3)), "MONTH"
    n = literal_int(amount)
    if n is not None:
        interval = exp.Interval(this=exp.Literal.string(str(n)), unit=exp.var(unit))
    else:
        interval = exp.Mul(
            this=exp.Paren(this=amount), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var(unit))
        )
    value = temporal_literal(value, "timestamp", "timestamp")
    return exp.Paren(this=(exp.Add if sign > 0 else exp.Sub)(this=value, expression=interval))


_FORMAT = {
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
}  # MySQL's DATE_FORMAT specifiers as TO_CHAR template patterns


def _formatted(value, text):
    """MySQL's DATE_FORMAT as TO_CHAR templates (and expressions for %w and %U, which have none)."""
    value = _temporal(value)
    pieces, template = [], ""
    for marker, part in split_format(text):
        if not marker:
            template += '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif part in _FORMAT:
            template += _FORMAT[part]
        elif part in ("w", "U"):
            if template:
                pieces.append(call("TO_CHAR", value.copy(), exp.Literal.string(template)))
                template = ""
            number = cast(_extract("DOW", value), "int") if part == "w" else cast(_week0(value), "int")
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
        pieces.append(call("TO_CHAR", value.copy(), exp.Literal.string(template)))
    result = pieces[0]
    for piece in pieces[1:]:
        result = exp.DPipe(this=result, expression=piece, safe=True)
    return exp.Paren(this=result) if len(pieces) > 1 else result


def _date_format(node):
    return _formatted(node.this, literal_format(node, "DATE_FORMAT"))


def _str_to_date(node):
    text = literal_format(node, "STR_TO_DATE")
    template = "".join(_FORMAT.get(p, "") if m else '"' + p.replace('"', '\\"') + '"' for m, p in split_format(text))
    kind = format_kind(text)
    if kind == "date":
        return call("TO_DATE", node.this, exp.Literal.string(template))
    parsed = call("TO_TIMESTAMP", node.this, exp.Literal.string(template))
    return cast(parsed, "timestamp" if kind == "datetime" else "time")


def _from_unixtime(node):
    """Seconds since 1970-01-01 UTC, as a UTC date and time."""
    utc = exp.Paren(this=exp.AtTimeZone(this=call("TO_TIMESTAMP", node.this), zone=exp.Literal.string("UTC")))
    fmt = node.args.get("format")
    return utc if fmt is None else _formatted(utc, literal_format(node, "FROM_UNIXTIME"))


# --- MySQL functions sqlglot keeps as plain calls, by name -------------------------------------


def _mid(node):
    args = node.expressions
    return _substring(exp.Substring(this=args[0], start=args[1], length=args[2] if len(args) > 2 else None))


def _weekday(node):  # 0 = Monday
    if len(node.expressions) != 1:
        return node
    return exp.Paren(this=exp.Sub(this=_extract("ISODOW", node.expressions[0]), expression=exp.Literal.number(1)))


def _unix_timestamp(node):
    """Seconds since 1970-01-01, reading the value as UTC."""
    args = node.expressions
    if len(args) > 1:
        return node
    value = _timestamp(args[0]) if args else exp.CurrentTimestamp()
    return exp.Extract(this=exp.var("EPOCH"), expression=value)


def _time_to_sec(node):
    """Text as a duration ('-01:00:00', '25:00:00'), else a time of day."""
    args = node.expressions
    if len(args) != 1:
        return node
    return exp.Extract(
        this=exp.var("EPOCH"), expression=cast(args[0], "interval" if is_string_literal(args[0]) else "time")
    )


def _sec_to_time(node):
    args = node.expressions
    if len(args) != 1:
        return node
    interval = exp.Mul(
        this=exp.Paren(this=args[0]), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("SECOND"))
    )
    return cast(interval, "time")


_BY_NAME = {
    "MID": _mid,
    "WEEKDAY": _weekday,
    "UNIX_TIMESTAMP": _unix_timestamp,
    "TIME_TO_SEC": _time_to_sec,
    "SEC_TO_TIME": _sec_to_time,
}


def _by_name(node):
    function = _BY_NAME.get(node.name.upper(), more_functions_by_name)
    return function(node)


def _enum_as_text(node):
    """An enum attribute in a fragment: PostgreSQL's enum type compares by position and has no LIKE;
    MySQL compares and matches an enum as its text."""
    return cast(node, "text") if node.meta.get("enum") else node


REWRITES = {
    exp.Column: _enum_as_text,
    exp.Paren: _enum_as_text,
    exp.Hour: _time_part("HOUR"),
    exp.Minute: _time_part("MINUTE"),
    exp.Second: _time_part("SECOND"),
    exp.Concat: _concat,
    exp.Greatest: _null_propagating,
    exp.Least: _null_propagating,
    exp.GroupConcat: _group_concat,
    exp.Mod: _mod,
    exp.IntDiv: _int_div,
    exp.TimestampDiff: _timestampdiff,
    exp.StrPosition: _str_position,
    exp.Substring: _substring,
    exp.Anonymous: _by_name,
    exp.DayOfMonth: lambda node: _extract("DAY", node.this),
    exp.DayOfWeek: lambda node: exp.Add(
        this=_extract("DOW", node.this), expression=exp.Literal.number(1)
    ),  # 1 = Sunday
    exp.DayOfYear: lambda node: _extract("DOY", node.this),
    exp.Quarter: lambda node: _extract("QUARTER", node.this),
    exp.Week: _week,
    exp.Dayname: lambda node: call("TO_CHAR", _temporal(node.this), exp.Literal.string("FMDay")),
    exp.Time: lambda node: cast(node.this, "time"),  # TIME(dt): the time of day
    exp.TimeToStr: _date_format,
    exp.StrToDate: _str_to_date,
    exp.StrToTime: _str_to_date,
    exp.UnixToTime: _from_unixtime,
    exp.Round: _scaled("ROUND"),
    exp.Trunc: _scaled("TRUNC"),
    exp.Cast: _cast,
    exp.Ln: _ln,
    exp.Log: _log,
    exp.Sqrt: _sqrt,
}
REWRITES.update(
    dict.fromkeys(
        (exp.Left, exp.Right, exp.Reverse, exp.Pad, exp.Replace, exp.Upper, exp.Lower, exp.Trim, exp.Length),
        _string_function,
    )
)
REWRITES.update(dict.fromkeys((exp.DateAdd, exp.DateSub, exp.TimestampAdd, exp.Add, exp.Sub), _shift))
REWRITES.update(MORE_FUNCTIONS)
