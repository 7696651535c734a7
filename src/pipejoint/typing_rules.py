"""The type of a computed attribute, inferred from its SQL expression.

The type decides how fetched values are decoded (a YEAR() is an int on every backend even when
the driver returns a Decimal), so the rules follow what the expression means, not the backend.
"""

from __future__ import annotations

from .types import AttributeType, parse_type

ANY = AttributeType("expression", "any")
_INTEGER_FUNCTIONS = {"DATEDIFF", "TIMESTAMPDIFF", "FLOOR", "CEIL", "CEILING", "SIGN", "LENGTH", "CHAR_LENGTH",
                      "YEAR", "MONTH", "DAY", "DAYOFMONTH", "HOUR", "MINUTE", "SECOND"}
_FLOAT_FUNCTIONS = {"POW", "POWER", "SQRT", "EXP", "LN", "LOG", "LOG2", "LOG10", "RAND", "AVG", "STD", "STDDEV",
                    "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP"}
_TEXT_FUNCTIONS = {"CONCAT", "CONCAT_WS", "UPPER", "LOWER", "SUBSTRING", "SUBSTR", "TRIM", "LTRIM", "RTRIM",
                   "REPLACE", "LEFT", "RIGHT", "GROUP_CONCAT", "STRING_AGG", "LPAD", "RPAD", "DATE_FORMAT"}


def infer_type(node, heading):
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        return infer_type(node.this, heading)
    if isinstance(node, exp.Column) and not node.table and node.name in heading:
        return heading[node.name].attr_type
    if isinstance(node, (exp.Count,)):
        return parse_type("int64")
    if isinstance(node, (exp.Predicate, exp.Connector, exp.Not)) or type(node).__name__ in ("Is", "Like", "In", "Between"):
        return parse_type("bool")
    if isinstance(node, (exp.Min, exp.Max)):
        return infer_type(node.this, heading)
    if isinstance(node, exp.Sum):
        inner = infer_type(node.this, heading)
        return parse_type("int64") if inner.is_integer or inner.core == "bool" else parse_type("float64")
    if isinstance(node, exp.Literal):
        if node.is_string:
            return parse_type("text")
        return parse_type("int64") if node.this.lstrip("-").isdigit() else parse_type("float64")
    if isinstance(node, exp.Boolean):
        return parse_type("bool")
    if isinstance(node, exp.Div):
        return parse_type("float64")
    if isinstance(node, exp.IntDiv):
        return parse_type("int64")
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod, exp.Neg)):
        parts = [infer_type(c, heading) for c in (node.this, node.args.get("expression")) if c is not None]
        if all(p.is_integer or p.core == "bool" for p in parts):
            return parse_type("int64")
        if all(p.is_numeric for p in parts):
            return parse_type("float64")
        return ANY
    if isinstance(node, (exp.CurrentDate,)):
        return parse_type("date")
    if isinstance(node, (exp.CurrentTimestamp,)):
        return parse_type("datetime")
    if isinstance(node, (exp.Cast,)):
        return ANY
    if isinstance(node, exp.If):
        return infer_type(node.args.get("true"), heading)
    name = (node.sql_name() if isinstance(node, exp.Func) else "").upper()
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper()
    if name in _INTEGER_FUNCTIONS or type(node).__name__ in ("Year", "Month", "Day", "Hour", "Minute", "Second", "Floor", "Ceil", "DateDiff", "TimestampDiff", "Length"):
        return parse_type("int64")
    if name in _FLOAT_FUNCTIONS or type(node).__name__ in ("Pow", "Sqrt", "Exp", "Ln", "Log", "Rand", "Avg", "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop"):
        return parse_type("float64")
    if name in _TEXT_FUNCTIONS or type(node).__name__ in ("Concat", "ConcatWs", "Upper", "Lower", "Substring", "Trim", "GroupConcat", "Replace"):
        return parse_type("text")
    if type(node).__name__ in ("Greatest", "Least", "Coalesce", "Abs", "Round"):
        return infer_type(node.this, heading)
    return ANY
