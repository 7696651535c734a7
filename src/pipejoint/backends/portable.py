"""MySQL-flavoured SQL fragments made to mean the same on every backend.

Users write restriction strings and computed attributes as DataJoint users do, in MySQL syntax.
sqlglot transpiles most of it; these rewrites cover what it renders with different meaning:
NULL handling (PostgreSQL's CONCAT and GREATEST skip NULLs, MySQL's return NULL), division and
modulo by zero (NULL in MySQL, an error in PostgreSQL), functions SQLite lacks (rendered as calls
to the Python functions registered in sqlite_functions.py) and functions PostgreSQL spells
differently (HOUR, TIMESTAMPDIFF, GROUP_CONCAT over numbers).

Each backend's ``render`` applies its rewrite to the tree just before generating SQL.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.tokens import TokenType


class FragmentMySQL(MySQL):
    """MySQL as fragments are read. MySQL's tokenizer takes a leading REPLACE for the REPLACE
    statement and the rest as its text; a fragment is one expression, so REPLACE( is the function."""

    class Tokenizer(MySQL.Tokenizer):
        COMMANDS = MySQL.Tokenizer.COMMANDS - {TokenType.REPLACE}


_FRAGMENT_DIALECTS = {"mysql": FragmentMySQL()}


def fragment_dialect(name):
    """The sqlglot dialect that reads fragments written in the configured dialect `name`."""
    return _FRAGMENT_DIALECTS.get(name, name)


def _call(name, *args):
    return exp.Anonymous(this=name, expressions=list(args))


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


def _arguments(node):
    """A function node's arguments in call order."""
    args = [node.this] if isinstance(node.this, exp.Expression) else []
    args += list(node.expressions)
    args += [node.args[k] for k in ("expression", "decimals") if node.args.get(k) is not None]
    return args


# --- SQLite ------------------------------------------------------------------------------------

_SQLITE_CALLS = {
    exp.Year: "YEAR", exp.Month: "MONTH", exp.Day: "DAY", exp.Hour: "HOUR", exp.Minute: "MINUTE",
    exp.Second: "SECOND", exp.Rand: "RAND", exp.StddevPop: "STDDEV_POP", exp.StddevSamp: "STDDEV_SAMP",
    exp.Stddev: "STDDEV_POP", exp.VariancePop: "VAR_POP", exp.Variance: "VAR_SAMP", exp.Pow: "POWER",
    exp.Floor: "FLOOR", exp.Ceil: "CEIL", exp.Greatest: "GREATEST", exp.Least: "LEAST",
    exp.ConcatWs: "CONCAT_WS", exp.Trunc: "TRUNCATE",
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


# --- PostgreSQL --------------------------------------------------------------------------------

_SECONDS = {"MICROSECOND": 0.000001, "SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _timestamp(node):
    return exp.Cast(this=node, to=exp.DataType.build("timestamp"))


def _as_text(node):
    if isinstance(node, exp.Literal) and node.is_string:
        return node
    return exp.Cast(this=node, to=exp.DataType.build("text"))


def _time_part(node, part):
    value = node.this
    if isinstance(value, exp.Literal) and value.is_string:
        value = exp.Cast(this=value, to=exp.DataType.build("timestamp" if "-" in value.this else "time"))
    extracted = exp.Extract(this=exp.var(part), expression=value)
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
