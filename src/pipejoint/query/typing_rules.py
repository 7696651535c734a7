"""The type of a computed attribute, inferred from its SQL expression.

The type decides how fetched values are decoded (a YEAR() is an int on every backend even when
the driver returns a Decimal), so the rules follow what the expression means in MySQL, not the
backend. Functions are recognised by their sqlglot node class, or by name when sqlglot keeps
them as plain calls.
"""

from __future__ import annotations

from ..core.types import AttributeType, parse_type

ANY = AttributeType("expression", "any")

_INTEGER_NODES = {
    "Year",
    "Month",
    "Day",
    "DayOfMonth",
    "DayOfWeek",
    "DayOfYear",
    "Quarter",
    "Week",
    "Hour",
    "Minute",
    "Second",
    "Floor",
    "Ceil",
    "Sign",
    "DateDiff",
    "TimestampDiff",
    "Length",
    "StrPosition",
    "Count",
    "IntDiv",
    "Ascii",
    "BitLength",
    "RegexpInstr",
    "BitwiseAndAgg",
    "BitwiseOrAgg",
    "BitwiseXorAgg",
}
_INTEGER_CALLS = {
    "DATEDIFF",
    "TIMESTAMPDIFF",
    "FLOOR",
    "CEIL",
    "CEILING",
    "SIGN",
    "LENGTH",
    "CHAR_LENGTH",
    "OCTET_LENGTH",
    "YEAR",
    "MONTH",
    "DAY",
    "DAYOFMONTH",
    "HOUR",
    "MINUTE",
    "SECOND",
    "WEEKDAY",
    "TIME_TO_SEC",
    "LOCATE",
    "INSTR",
    "FIND_IN_SET",
    "FIELD",
    "INET_ATON",
    "MICROSECOND",
}
_FLOAT_NODES = {
    "Pow",
    "Sqrt",
    "Exp",
    "Ln",
    "Log",
    "Rand",
    "Avg",
    "Stddev",
    "StddevPop",
    "StddevSamp",
    "Variance",
    "VariancePop",
    "Div",
    "Pi",
    "Cot",
    "Acos",
    "Asin",
    "Atan",
    "Atan2",
    "Cos",
    "Sin",
    "Tan",
    "Degrees",
    "Radians",
}
_FLOAT_CALLS = {
    "POW",
    "POWER",
    "SQRT",
    "EXP",
    "LN",
    "LOG",
    "LOG2",
    "LOG10",
    "RAND",
    "AVG",
    "STD",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "VARIANCE",
    "VAR_POP",
    "VAR_SAMP",
    "PI",
}
_TEXT_NODES = {
    "Concat",
    "ConcatWs",
    "Upper",
    "Lower",
    "Substring",
    "Trim",
    "GroupConcat",
    "Replace",
    "Left",
    "Right",
    "Reverse",
    "Pad",
    "TimeToStr",
    "Dayname",
    "Elt",
    "SubstringIndex",
    "SHA2",
    "MD5",
    "Repeat",
    "Space",
    "RegexpReplace",
    "JSONValue",
    "JSONExtractScalar",
}
_TEXT_CALLS = {
    "CONCAT",
    "CONCAT_WS",
    "UPPER",
    "LOWER",
    "SUBSTRING",
    "SUBSTR",
    "MID",
    "TRIM",
    "LTRIM",
    "RTRIM",
    "REPLACE",
    "LEFT",
    "RIGHT",
    "GROUP_CONCAT",
    "STRING_AGG",
    "LPAD",
    "RPAD",
    "DATE_FORMAT",
    "MONTHNAME",
    "DAYNAME",
    "INET_NTOA",
}
_SAME_AS_ARGUMENT = {"Greatest", "Least", "Coalesce", "Abs", "Round", "Trunc", "Nullif", "Min", "Max"}
_DATE_NODES = {"CurrentDate", "TsOrDsToDate", "LastDay", "StrToDate"}
_DATETIME_NODES = {"CurrentTimestamp", "UnixToTime"}
_DATETIME_CALLS = {"NOW", "SYSDATE"}
_TIME_NODES = {"Time", "CurrentTime"}
_TIME_CALLS = {"SEC_TO_TIME"}
_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def infer_type(node, heading):
    from sqlglot import exp

    kind = type(node).__name__
    name = node.name.upper() if isinstance(node, exp.Anonymous) else ""
    if isinstance(node, exp.Paren):
        return infer_type(node.this, heading)
    if isinstance(node, exp.Column) and not node.table and node.name in heading:
        return heading[node.name].attr_type
    if isinstance(node, (exp.Predicate, exp.Connector, exp.Not)) or kind in ("Is", "Like", "In", "Between"):
        return parse_type("bool")
    if isinstance(node, exp.Literal):
        if node.is_string:
            return parse_type("text")
        return parse_type("int64") if str(node.this).lstrip("-").isdigit() else parse_type("float64")
    if isinstance(node, exp.Boolean):
        return parse_type("bool")
    if kind == "Sum":
        inner = infer_type(node.this, heading)
        return parse_type("int64") if inner.is_integer or inner.core == "bool" else parse_type("float64")
    if kind == "Cast":
        return _cast_type(node)
    if kind in ("DateAdd", "DateSub", "TimestampAdd", "Add", "Sub") and _shifted(node):
        return _shifted_type(*_shifted(node), heading)
    if kind in ("Add", "Sub", "Mul", "Mod", "Neg"):
        parts = [infer_type(c, heading) for c in (node.this, node.args.get("expression")) if c is not None]
        if all(p.is_integer or p.core == "bool" for p in parts):
            return parse_type("int64")
        if all(p.is_numeric for p in parts):
            return parse_type("float64")
        return ANY
    if kind == "If":
        return infer_type(node.args.get("true"), heading)
    if kind == "Case":
        ifs = node.args.get("ifs") or []
        return infer_type(ifs[0].args.get("true") if ifs else node.args.get("default"), heading)
    if kind in ("StrToTime", "StrToDate"):
        return _parsed_type(node)
    if kind == "UnixToTime" and node.args.get("format") is not None:
        return parse_type("text")
    if name == "UNIX_TIMESTAMP":
        return _epoch_type(node.expressions, heading)
    if kind in _INTEGER_NODES or name in _INTEGER_CALLS:
        return parse_type("int64")
    if kind in _FLOAT_NODES or name in _FLOAT_CALLS:
        return parse_type("float64")
    if kind in _TEXT_NODES or name in _TEXT_CALLS:
        return parse_type("text")
    if kind in _DATE_NODES:
        return parse_type("date")
    if kind in _DATETIME_NODES or name in _DATETIME_CALLS:
        return parse_type("datetime")
    if kind in _TIME_NODES or name in _TIME_CALLS:
        return parse_type("time")
    if kind in _SAME_AS_ARGUMENT:
        return infer_type(node.this, heading)
    return ANY


def _cast_type(node):
    """The type of CAST(x AS type) for MySQL's cast targets."""
    from ..core.fragment_language import cast_target

    target = cast_target(node)
    if target in ("CHAR", "VARCHAR", "NCHAR", "NVARCHAR", "TEXT"):
        return parse_type("text")
    if target in ("BIGINT", "INT", "UBIGINT", "UINT"):
        return parse_type("int64")
    if target in ("DOUBLE", "FLOAT", "REAL"):
        return parse_type("float64")
    if target == "DECIMAL":
        params = [int(str(p.this)) for p in node.args["to"].expressions]
        precision, scale = (params + [10, 0][len(params) :])[:2]
        return parse_type(f"decimal({precision},{scale})")
    if target == "DATE":
        return parse_type("date")
    if target in ("DATETIME", "TIMESTAMP"):
        return parse_type("datetime")
    if target == "TIME":
        return parse_type("time")
    return ANY


def _shifted(node):
    from ..core.fragment_language import interval_operands

    shift = interval_operands(node)
    return None if shift is None else shift[:3]


def _shifted_type(value, _amount, unit, heading):
    """DATE_ADD and ± INTERVAL: a date stays a date for day, week, month and year steps (MySQL's rule)."""
    from sqlglot import exp

    if isinstance(value, exp.Literal) and value.is_string:
        is_date = ":" not in value.this
    else:
        base = infer_type(value, heading)
        if base.core not in ("date", "datetime", "timestamp"):
            return ANY
        is_date = base.core == "date"
    return parse_type("date" if is_date and unit in _DATE_UNITS else "datetime")


def _parsed_type(node):
    """STR_TO_DATE: a date, time or datetime by the specifiers in its format."""
    from ..core.fragment_language import format_kind, mysql_format

    text = mysql_format(node)
    return ANY if text is None else parse_type(format_kind(text))


def _epoch_type(args, heading):
    """UNIX_TIMESTAMP: whole seconds, or fractional ones for a datetime with fractional seconds."""
    from sqlglot import exp

    if args and isinstance(args[0], exp.Column) and args[0].name in heading and heading[args[0].name].attr_type.fsp:
        return parse_type("float64")
    return parse_type("int64")
