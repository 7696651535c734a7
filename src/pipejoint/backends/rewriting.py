"""MySQL-flavoured SQL fragments made to mean the same on every backend: the shared machinery.

Users write restriction strings and computed attributes as DataJoint users do, in MySQL syntax,
and MySQL's answer is the reference. sqlglot parses the fragment and transpiles most of it; each
backend's ``rewrites.py`` covers what it renders with a different meaning or not at all, as a
table from sqlglot node class to a function that rewrites such a node (sqlglot's own dialects
keep their TRANSFORMS the same way). ``Backend.render`` applies the table with ``rewrite`` just
before generating SQL.

This module holds the walker and the helpers more than one backend's rewrites use, including
the portability checks every backend makes (MySQL too), so a fragment refused on one backend is
refused on all of them with the same message.
"""

from __future__ import annotations

from sqlglot import exp

from ..core.fragment_language import is_string_literal, mysql_format, split_format
from ..errors import DataJointError


def rewrite(tree, rewrites):
    """Apply a table of per-node rewrites ({node class: function}) to a copy of the tree.

    The cached parse stays untouched. Children are rewritten before their parents, so a rewrite
    sees (and may rearrange) arguments that are already in the backend's terms, and nested calls
    such as CONCAT(HOUR(dt), 'h') are rewritten at every level.
    """
    root = tree.copy()
    for node in reversed(list(root.dfs())):
        function = rewrites.get(type(node))
        if function is None:
            continue
        parent, arg_key, index = node.parent, node.arg_key, node.index  # before the rewrite may re-parent it
        new = function(node)
        if new is node:
            continue
        if parent is None:
            root = new
        else:
            parent.set(arg_key, new, index)
    return root


# --- building nodes ----------------------------------------------------------------------------


def call(name, *args):
    """A call of a function by name (sqlglot renders it as written)."""
    return exp.Anonymous(this=name, expressions=list(args))


def cast(node, type_name):
    return exp.Cast(this=node, to=exp.DataType.build(type_name))


def logical_xor(truth):
    """MySQL's `a XOR b`: true when exactly one side is true, NULL when either is NULL; `truth(x)`
    says how the dialect reads a value as true or false."""

    def rewrite(node):
        left, right = exp.Paren(this=truth(node.this)), exp.Paren(this=truth(node.expression))
        return exp.Paren(this=exp.NEQ(this=left, expression=right))

    return rewrite


def literal_int(node):
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


def temporal_literal(node, date_type="DATE", datetime_type="DATETIME"):
    """A string literal used as a date ('2000-01-31') or datetime ('2000-01-31 10:00') made one."""
    if not is_string_literal(node):
        return node
    return cast(node, datetime_type if ":" in node.this else date_type)


# --- what is portable --------------------------------------------------------------------------


def week_mode(node):
    """WEEK's mode: 0 (the default: weeks start on Sunday) or 3 (ISO weeks) are portable."""
    mode = node.args.get("mode")
    value = 0 if mode is None else literal_int(mode)
    if value not in (0, 3):
        raise DataJointError(
            f"WEEK(date, {mode.sql() if mode is not None else ''}) is not portable: use WEEK(date) for weeks "
            "starting on Sunday (mode 0) or WEEK(date, 3) for ISO weeks."
        )
    return exp.Literal.number(value)


_UNPORTABLE_SPECIFIERS = {"DATE_FORMAT": "uVX", "FROM_UNIXTIME": "uVX", "STR_TO_DATE": "DUuVvwXx"}


def literal_format(node, function):
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


_SHA2_LENGTHS = (0, 224, 256, 384, 512)


def sha2_length(node):
    """SHA2's length in bits: a literal 224, 256 (0 means 256), 384 or 512, as every backend needs it."""
    length = node.args.get("length")
    bits = 256 if length is None else literal_int(length)
    if bits not in _SHA2_LENGTHS:
        raise DataJointError(
            f"SHA2(s, {length.sql() if length is not None else ''}) is not portable: give the length as one of "
            "224, 256, 384 or 512, e.g. SHA2(s, 256)."
        )
    return bits or 256


def plain_regexp(node, function):
    """REGEXP_INSTR(s, pattern) and REGEXP_REPLACE(s, pattern, replacement): MySQL's optional position,
    occurrence and match-type arguments mean different things on other backends."""
    extra = [k for k in ("position", "occurrence", "option", "parameters", "group", "modifiers") if node.args.get(k)]
    if extra:
        shape = "(s, pattern)" if function == "REGEXP_INSTR" else "(s, pattern, replacement)"
        raise DataJointError(
            f"{function} with more than {shape} is not portable: write {function}{shape}, e.g. with SUBSTRING "
            "to start later."
        )
    return node


def refuse_json_extract(node):
    """j->'$.key' and JSON_EXTRACT give JSON, whose text each backend spaces its own way."""
    path = node.expression.sql(dialect="mysql") if node.expression is not None else "'$.key'"
    raise DataJointError(
        f"j->{path} (JSON_EXTRACT) is not portable: it gives JSON, whose text each backend writes its own "
        f"way. Use j->>{path} or JSON_VALUE(j, {path}) for the value's text."
    )
