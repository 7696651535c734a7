"""SQL fragments written by users (restriction strings, computed attributes): parsed, checked
against a heading, and their attribute names replaced by column SQL when compiled."""

from __future__ import annotations

from ..errors import QuerySyntaxError, UnknownAttributeError


def parse_fragment(text, heading, dialect, owner=""):
    """Parse a SQL fragment and check that every column it names is an attribute."""
    import sqlglot
    from sqlglot import exp

    from ..backends.portable import fragment_dialect

    if not isinstance(text, str) or not text.strip():
        raise QuerySyntaxError(f"Cannot use {text!r} as a SQL expression{_where(owner)}: it is empty.")
    dialect = fragment_dialect(dialect)  # reads a leading REPLACE( as the function
    try:
        tree = sqlglot.parse_one(text, read=dialect, into=exp.Condition)
    except sqlglot.errors.SqlglotError:
        raise QuerySyntaxError(
            f"Cannot parse the SQL expression {text!r}{_where(owner)}: {_parse_problem(text, dialect)}. "
            "Write one expression in MySQL syntax, e.g. \"age > 30 AND name LIKE 'A%'\"; quote attribute "
            "names that are SQL keywords with backticks, e.g. `key` = 3."
        ) from None
    names = heading.names
    for column in tree.find_all(exp.Column):
        if column.table:
            continue
        if column.name not in heading.attributes:
            raise UnknownAttributeError(
                f"Attribute `{column.name}` in {text!r} is not in the query{_where(owner)}. "
                f"Available attributes: {', '.join(names)}. Check the spelling, or write SQL keywords in "
                "upper case and string values in quotes."
            )
    return tree


def _where(owner):
    return f" on {owner}" if owner else ""


def _parse_problem(text, dialect):
    """The parser's own words about what is wrong with a fragment (first line)."""
    import sqlglot

    try:
        sqlglot.parse(text, read=dialect)
    except sqlglot.errors.SqlglotError as error:
        return str(error).splitlines()[0]
    return "it is not a single SQL expression"


def substitute_columns(tree, resolve):
    """Replace attribute references in a parsed fragment by their SQL expressions."""
    from sqlglot import exp

    def replace(node):
        if isinstance(node, exp.Column) and not node.table:
            return resolve(node.name)
        return node

    return tree.copy().transform(replace)
