"""MySQL-flavoured fragments on MySQL itself: the reference, computed in full precision.

MySQL's answer is what every other backend reproduces, but a few of its results are typed
float64 here and MySQL computes them as rounded decimals: `/` of integers and AVG carry 4
decimals and PI() 6. They are computed as doubles, so the float64 they are typed as is the same
everywhere. What other backends refuse as not portable (WEEK modes, DATE_FORMAT week specifiers,
compound INTERVAL units) is refused here too, so a fragment that runs on MySQL runs everywhere.
"""

from __future__ import annotations

from sqlglot import exp

from ...core.fragment_language import interval_operands, is_string_literal, json_path, mysql_json_path
from ..rewriting import (
    call,
    cast,
    literal_format,
    plain_regexp,
    refuse_json_extract,
    sha2_length,
    temporal_literal,
    week_mode,
)


def _double(node):
    return cast(node, "DOUBLE")


def _checked(check):
    """A rewrite that only refuses what is not portable and leaves the node as it is."""

    def rewrite(node):
        check(node)
        return node

    return rewrite


def _check_from_unixtime(node):
    if node.args.get("format") is not None:
        literal_format(node, "FROM_UNIXTIME")


def _pi(node):  # PI() carries 6 decimals into everything computed from it
    return _double(node)


def _div(node):  # integer division would be rounded to 4 decimals
    node.set("this", _double(node.this))
    return node


def _avg(node):
    inner = node.this
    if isinstance(inner, exp.Distinct):
        inner.set("expressions", [_double(e) for e in inner.expressions])
    else:
        node.set("this", _double(inner))
    return node


def _shift(node):
    """A date string plus an interval is a string in MySQL: the literal is made a date first."""
    shift = interval_operands(node)  # also refuses compound units
    if shift is not None and is_string_literal(shift[0]):
        literal = shift[0]
        literal.replace(temporal_literal(literal.copy()))
    return node


def _json_path(node):
    return exp.Literal.string(mysql_json_path(json_path(node)))


def _json_text(node):
    """j->>path is JSON_UNQUOTE(JSON_EXTRACT(j, path)) in MySQL; MariaDB has only the functions."""
    return call("JSON_UNQUOTE", call("JSON_EXTRACT", node.this, _json_path(node)))


def _json_value(node):
    """JSON_VALUE as MySQL 8 gives it (MariaDB's writes true as 1): NULL for an object, array or null."""
    kind = call("JSON_TYPE", call("JSON_EXTRACT", node.this.copy(), _json_path(node)))
    hidden = exp.In(this=kind, expressions=[exp.Literal.string(k) for k in ("OBJECT", "ARRAY", "NULL")])
    return exp.Case(ifs=[exp.If(this=hidden, true=exp.Null())], default=_json_text(node))


REWRITES = {
    exp.Week: _checked(week_mode),
    exp.TimeToStr: _checked(lambda node: literal_format(node, "DATE_FORMAT")),
    exp.StrToDate: _checked(lambda node: literal_format(node, "STR_TO_DATE")),
    exp.StrToTime: _checked(lambda node: literal_format(node, "STR_TO_DATE")),
    exp.UnixToTime: _checked(_check_from_unixtime),
    exp.SHA2: _checked(sha2_length),
    exp.RegexpInstr: _checked(lambda node: plain_regexp(node, "REGEXP_INSTR")),
    exp.RegexpReplace: _checked(lambda node: plain_regexp(node, "REGEXP_REPLACE")),
    exp.JSONValue: _json_value,
    exp.JSONExtractScalar: _json_text,
    exp.JSONExtract: refuse_json_extract,
    exp.Pi: _pi,
    exp.Div: _div,
    exp.Avg: _avg,
}
REWRITES.update(dict.fromkeys((exp.DateAdd, exp.DateSub, exp.TimestampAdd, exp.Add, exp.Sub), _shift))
