"""MySQL's string, hash, network-address and bit functions in PostgreSQL's terms (rewrites.py
holds the rest). Each rewrite builds PostgreSQL SQL from a template whose _1, _2, ... stand for
the call's arguments, so what it computes reads as SQL.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from ...core.fragment_language import json_path
from ..rewriting import call, cast, logical_xor, plain_regexp, refuse_json_extract, sha2_length


@functools.cache
def _parsed(template):
    return sqlglot.parse_one(template, read="postgres")


def _template(template, *args):
    """The template with _1, _2, ... replaced by copies of the arguments."""

    def fill(node):
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("_") and node.name[1:].isdigit():
            return args[int(node.name[1:]) - 1].copy()
        return node

    return exp.Paren(this=_parsed(template).copy().transform(fill))


def _text(node):
    """MySQL's string functions take numbers too; PostgreSQL's want text."""
    if isinstance(node, exp.Literal) and node.is_string:
        return node
    return cast(node, "text")


def _field(value, candidates):
    """FIELD(s, a, b, ...): the position of s among a, b, ...; 0 when absent or NULL."""
    ifs = [
        exp.If(this=exp.EQ(this=value.copy(), expression=c), true=exp.Literal.number(i))
        for i, c in enumerate(candidates, 1)
    ]
    return exp.Case(ifs=ifs, default=exp.Literal.number(0))


def _elt(node):
    """ELT(n, a, b, ...): the n-th string, NULL out of range."""
    ifs = [exp.If(this=exp.Literal.number(i), true=s) for i, s in enumerate(node.expressions, 1)]
    return exp.Case(this=node.this, ifs=ifs)


# one part of a dotted quad; digits only, so that PostgreSQL's planner folding a literal cannot fail
_OCTET = "CAST(REGEXP_REPLACE(SPLIT_PART(_1, '.', {part}), '[^0-9]', '', 'g') AS BIGINT) * {scale}"


def by_name(node):
    """MySQL functions sqlglot keeps as plain calls."""
    name = node.name.upper()
    args = node.expressions
    if name == "FIELD" and len(args) >= 2:
        return _field(args[0], args[1:])
    if name == "FIND_IN_SET" and len(args) == 2:
        return _template(
            "CASE WHEN _1 IS NULL OR _2 IS NULL THEN NULL "
            "ELSE COALESCE(ARRAY_POSITION(STRING_TO_ARRAY(_2, ','), _1), 0) END",
            _text(args[0]),
            _text(args[1]),
        )
    if name == "INET_ATON" and len(args) == 1:
        return _template(
            "CASE WHEN _1 ~ '^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$' "
            f"THEN {' + '.join(_OCTET.format(part=i, scale=256 ** (4 - i)) for i in range(1, 5))} END",
            _text(args[0]),
        )
    if name == "INET_NTOA" and len(args) == 1:
        return _template(
            "CASE WHEN _1 >= 0 AND _1 < 4294967296 THEN HOST(CAST('0.0.0.0' AS INET) + CAST(_1 AS BIGINT)) END",
            args[0],
        )
    if name == "MICROSECOND" and len(args) == 1:
        value = args[0]
        if isinstance(value, exp.Literal) and value.is_string:
            value = cast(value, "timestamp" if "-" in value.this else "time")
        return _template("CAST(EXTRACT(MICROSECONDS FROM _1) AS BIGINT) % 1000000", value)
    if name == "SYSDATE" and not args:
        return call("NOW")
    if name == "OCTET_LENGTH" and len(args) == 1:
        return call("OCTET_LENGTH", _text(args[0]))
    return node


def _substring_index(node):
    """SUBSTRING_INDEX(s, delim, n): the parts before the n-th delimiter (after it from the end when n < 0)."""
    return _template(
        "CASE WHEN _3 = 0 OR _2 = '' THEN CASE WHEN _1 IS NOT NULL THEN '' END "
        "WHEN _3 > 0 THEN ARRAY_TO_STRING((STRING_TO_ARRAY(_1, _2))[1:_3], _2) "
        "ELSE ARRAY_TO_STRING((STRING_TO_ARRAY(_1, _2))[CARDINALITY(STRING_TO_ARRAY(_1, _2)) + _3 + 1:], _2) END",
        _text(node.this),
        _text(node.args["delimiter"]),
        node.args["count"],
    )


def _sha2(node):
    bits = sha2_length(node)
    return call(
        "ENCODE",
        call(f"SHA{bits}", call("CONVERT_TO", _text(node.this), exp.Literal.string("UTF8"))),
        exp.Literal.string("hex"),
    )


def _ascii(node):
    """MySQL's ASCII is the first byte (PostgreSQL's the first character's code)."""
    return _template("CASE WHEN _1 = '' THEN 0 ELSE GET_BYTE(CONVERT_TO(_1, 'UTF8'), 0) END", _text(node.this))


def _bounded(name):
    """ACOS and ASIN are NULL outside [-1, 1] in MySQL, errors here."""

    def rewrite(node):
        return _template(f"CASE WHEN _1 BETWEEN -1 AND 1 THEN {name}(_1) END", node.this)

    return rewrite


def _regexp(function):
    def rewrite(node):
        plain_regexp(node, function)
        node.set("this", _text(node.this))
        return node

    return rewrite


def _or_zero(node):
    """BIT_OR and BIT_XOR of no values: 0 in MySQL, NULL here."""
    return exp.Coalesce(this=node, expressions=[exp.Literal.number(0)])


def _repeat(node):
    node.set("this", _text(node.this))
    return node


def _json(value_only):
    """JSON_VALUE(j, path) (NULL for an object, an array or null) and j->>path (null as 'null')."""
    template = (
        "CASE WHEN JSONB_TYPEOF(CAST(_1 AS JSONB) #> _2) IN ('object', 'array', 'null') THEN NULL "
        if value_only
        else "CASE WHEN JSONB_TYPEOF(CAST(_1 AS JSONB) #> _2) = 'null' THEN 'null' "
    ) + "ELSE CAST(_1 AS JSONB) #>> _2 END"

    def rewrite(node):
        keys = ",".join('"' + str(p).replace("\\", "\\\\").replace('"', '\\"') + '"' for p in json_path(node))
        return _template(template, node.this, exp.Literal.string("{" + keys + "}"))

    return rewrite


REWRITES = {
    exp.Xor: logical_xor(lambda value: cast(value, "BOOLEAN")),
    exp.Elt: _elt,
    exp.SubstringIndex: _substring_index,
    exp.SHA2: _sha2,
    exp.Ascii: _ascii,
    exp.MD5: lambda node: call("MD5", _text(node.this)),
    exp.BitLength: lambda node: call("BIT_LENGTH", _text(node.this)),
    exp.Acos: _bounded("ACOS"),
    exp.Asin: _bounded("ASIN"),
    exp.Cot: lambda node: call("COT", exp.Nullif(this=node.this, expression=exp.Literal.number(0))),
    exp.RegexpInstr: _regexp("REGEXP_INSTR"),
    exp.RegexpReplace: _regexp("REGEXP_REPLACE"),
    exp.Repeat: _repeat,
    exp.BitwiseOrAgg: _or_zero,
    exp.BitwiseXorAgg: _or_zero,
    exp.JSONValue: _json(value_only=True),
    exp.JSONExtractScalar: _json(value_only=False),
    exp.JSONExtract: refuse_json_extract,
    exp.CurrentTime: lambda node: cast(exp.Localtime(), "time(0)"),
}
