"""MySQL-flavoured fragments on SQLite: calls to the Python functions registered on each connection.

SQLite lacks most of MySQL's date, string and statistics functions, and some it has mean
something else (its ROUND, SUBSTR with a negative start, CAST AS INTEGER truncating where MySQL
rounds, LIKE without a backslash escape). These rewrites call the functions in functions.py
instead, which compute MySQL's answer (dates are ISO text here, so they parse ISO text).
"""

from __future__ import annotations

from sqlglot import exp

from ...core.fragment_language import cast_target, interval_operands, interval_unit, json_path, mysql_json_path
from ..rewriting import (
    call,
    cast,
    literal_format,
    logical_xor,
    plain_regexp,
    refuse_json_extract,
    sha2_length,
    week_mode,
)

# sqlglot nodes that become a call of the registered function of that name, arguments unchanged
_CALLS = {
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
    exp.BitwiseAndAgg: "BIT_AND",
    exp.BitwiseOrAgg: "BIT_OR",
    exp.BitwiseXorAgg: "BIT_XOR",
    exp.CurrentTime: "CURTIME",
    exp.Ascii: "ASCII",
    exp.Cot: "COT",
    exp.MD5: "MD5",
    exp.BitLength: "BIT_LENGTH",
}


def _arguments(node):
    """A function node's arguments in call order."""
    args = [node.this] if isinstance(node.this, exp.Expression) else []
    args += list(node.expressions)
    args += [node.args[k] for k in ("expression", "decimals") if node.args.get(k) is not None]
    return args


def _registered_call(name):
    def rewrite(node):
        return call(name, *_arguments(node))

    return rewrite


def _by_name(node):
    """MySQL functions sqlglot keeps as plain calls."""
    name = node.name.upper()
    if name in ("NOW", "SYSDATE"):
        return call("NOW")
    if name == "MID":
        return call("PJ_SUBSTRING", *node.expressions)
    return node


def _like(node):
    """Backslash escapes % and _ in MySQL and PostgreSQL patterns; SQLite needs to be told."""
    if isinstance(node.parent, exp.Escape):
        return node
    return exp.Escape(this=node, expression=exp.Literal.string("\\"))


def _length(node):
    if node.args.get("binary"):  # MySQL's LENGTH counts bytes
        return exp.Length(this=cast(node.this, "BLOB"))
    return node


def _pad(node):
    return call(
        "LPAD" if node.args.get("is_left") else "RPAD",
        node.this,
        node.expression,
        node.args.get("fill_pattern") or exp.Literal.string(" "),
    )


def _substring(node):
    args = [node.this, node.args.get("start"), node.args.get("length")]
    return call("PJ_SUBSTRING", *[a for a in args if a is not None])


def _date_format(node):
    return call("DATE_FORMAT", node.this, exp.Literal.string(literal_format(node, "DATE_FORMAT")))


def _str_to_date(node):
    return call("STR_TO_DATE", node.this, exp.Literal.string(literal_format(node, "STR_TO_DATE")))


def _from_unixtime(node):
    seconds = call("FROM_UNIXTIME", node.this)
    if node.args.get("format") is None:
        return seconds
    return call("DATE_FORMAT", seconds, exp.Literal.string(literal_format(node, "FROM_UNIXTIME")))


def _cast(node):
    to, target = node.args["to"], cast_target(node)
    if target in ("BIGINT", "UBIGINT", "INT", "UINT"):  # SIGNED / UNSIGNED: MySQL rounds, SQLite truncates
        return call("PJ_INTEGER", node.this)
    if target in ("CHAR", "VARCHAR", "NCHAR", "NVARCHAR") and to.expressions:  # CHAR(n) cuts to n characters
        length = to.expressions[0].this
        return exp.Substring(this=cast(node.this, "TEXT"), start=exp.Literal.number(1), length=length)
    return node


def _group_concat(node):
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
    return call("PJ_GROUP_CONCAT", *args)


def _shift(node):
    """DATE_ADD, DATE_SUB and `value ± INTERVAL n unit` (plain + and - pass through)."""
    shift = interval_operands(node)
    if shift is None:
        return node
    value, amount, unit, sign = shift
    return call(
        "PJ_DATE_ADD", value, amount if sign > 0 else exp.Neg(this=exp.Paren(this=amount)), exp.Literal.string(unit)
    )


def _count(node):
    """COUNT(DISTINCT a, b): SQLite's DISTINCT takes one value, so the values go in one JSON array;
    rows with a NULL among them are not counted, as MySQL does."""
    distinct = node.this
    if not isinstance(distinct, exp.Distinct) or len(distinct.expressions) < 2:
        return node
    values = distinct.expressions
    any_null = exp.or_(*[exp.Is(this=v.copy(), expression=exp.Null()) for v in values])
    row = exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=call("JSON_ARRAY", *values))
    return exp.Count(this=exp.Distinct(expressions=[row]))


def _concat(node):
    """CONCAT becomes ||, which binds tighter than + in SQLite: CONCAT(b + 1, 'x') needs (b + 1)."""
    node.set("expressions", [exp.Paren(this=a) if isinstance(a, exp.Binary) else a for a in node.expressions])
    return node


def _json(value_only):
    """JSON_VALUE(j, path) (value_only: NULL for an object, an array or null) and j->>path, as MySQL
    gives them: text, true and false as words; j->>path gives an object's JSON and null as 'null'."""

    def rewrite(node):
        path = exp.Literal.string(mysql_json_path(json_path(node)))
        kind, value = call("JSON_TYPE", node.this, path), call("JSON_EXTRACT", node.this.copy(), path.copy())
        words = [(w, exp.Literal.string(w)) for w in ("true", "false")]
        other = [("null", exp.Null() if value_only else exp.Literal.string("null"))]
        other += [(k, exp.Null() if value_only else value.copy()) for k in ("object", "array")]
        ifs = [exp.If(this=exp.Literal.string(k), true=v) for k, v in words + other]
        return exp.Case(this=kind, ifs=ifs, default=cast(value, "TEXT"))

    return rewrite


def _bitwise_xor(node):
    """SQLite has no `^`: a ^ b is (a | b) & ~(a & b), bit for bit."""
    left, right = exp.Paren(this=node.this), exp.Paren(this=node.expression)
    either = exp.Paren(this=exp.BitwiseOr(this=left, expression=right))
    both = exp.Paren(this=exp.BitwiseAnd(this=left.copy(), expression=right.copy()))
    return exp.Paren(this=exp.BitwiseAnd(this=either, expression=exp.BitwiseNot(this=both)))


def _regexp(function, *keys):
    def rewrite(node):
        plain_regexp(node, function)
        return call(function, node.this, *[node.args[k] for k in keys])

    return rewrite


REWRITES = {kind: _registered_call(name) for kind, name in _CALLS.items()}
REWRITES.update(
    {
        exp.CurrentDate: lambda node: call("CURDATE"),
        exp.CurrentTimestamp: lambda node: call("NOW"),
        exp.Anonymous: _by_name,
        exp.DateDiff: lambda node: call("DATEDIFF", node.this, node.expression),
        exp.TimestampDiff: lambda node: call(
            "TIMESTAMPDIFF", exp.Literal.string(interval_unit(node)), node.expression, node.this
        ),
        exp.RegexpLike: lambda node: call("REGEXP_LIKE", node.this, node.expression),
        exp.GroupConcat: _group_concat,
        exp.Like: _like,
        exp.Length: _length,
        exp.Pad: _pad,
        exp.Substring: _substring,
        exp.Week: lambda node: call("WEEK", node.this, week_mode(node)),
        exp.TimeToStr: _date_format,
        exp.StrToDate: _str_to_date,
        exp.StrToTime: _str_to_date,
        exp.UnixToTime: _from_unixtime,
        exp.Cast: _cast,
        exp.Count: _count,
        exp.Concat: _concat,
        exp.JSONValue: _json(value_only=True),
        exp.JSONExtractScalar: _json(value_only=False),
        exp.JSONExtract: refuse_json_extract,
        exp.SHA2: lambda node: call("SHA2", node.this, exp.Literal.number(sha2_length(node))),
        exp.RegexpInstr: _regexp("REGEXP_INSTR", "expression"),
        exp.RegexpReplace: _regexp("REGEXP_REPLACE", "expression", "replacement"),
        exp.SubstringIndex: lambda node: call("SUBSTRING_INDEX", node.this, node.args["delimiter"], node.args["count"]),
        exp.Elt: lambda node: call("ELT", node.this, *node.expressions),
        exp.Repeat: lambda node: call("REPEAT", node.this, node.args["times"]),
        exp.Space: lambda node: call("REPEAT", exp.Literal.string(" "), node.this),
        exp.Xor: logical_xor(lambda value: exp.NEQ(this=exp.Paren(this=value), expression=exp.Literal.number(0))),
        exp.BitwiseXor: _bitwise_xor,
    }
)
REWRITES.update(dict.fromkeys((exp.DateAdd, exp.DateSub, exp.TimestampAdd, exp.Add, exp.Sub), _shift))
