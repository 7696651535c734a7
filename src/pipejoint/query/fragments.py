"""SQL fragments as users write them: restriction strings and computed attributes, read into trees.

A fragment is one expression in the configured dialect (MySQL's by default, as DataJoint users
write them) naming the query's attributes. It is parsed once and checked here; the compiler
substitutes the attributes' SQL, and each backend's rewrites make it mean the same everywhere.
"""

from __future__ import annotations

import functools

from ..errors import QuerySyntaxError, UnknownAttributeError

# sqlglot is imported where it is used: loading the query layer (dj.Top, dj.AndList) stays cheap.


@functools.cache
def _fragment_mysql():
    from sqlglot.dialects.mysql import MySQL
    from sqlglot.tokens import TokenType

    class FragmentMySQL(MySQL):
        """MySQL as fragments are read. MySQL's tokenizer takes a leading REPLACE for the REPLACE
        statement and the rest as its text; a fragment is one expression, so REPLACE( is the function."""

        class Tokenizer(MySQL.Tokenizer):
            COMMANDS = MySQL.Tokenizer.COMMANDS - {TokenType.REPLACE}

    return FragmentMySQL()


def fragment_dialect(name):
    """The sqlglot dialect that reads fragments written in the configured dialect `name`."""
    return _fragment_mysql() if name == "mysql" else name


def parse_fragment(text, heading, dialect, owner=""):
    """Parse a SQL fragment and check that every column it names is an attribute."""
    import sqlglot
    from sqlglot import exp

    from ..core.fragment_language import check_portable, portable_spelling

    if not isinstance(text, str) or not text.strip():
        raise QuerySyntaxError(f"Cannot use {text!r} as a SQL expression{_where(owner)}: it is empty.")
    dialect = fragment_dialect(dialect)  # reads a leading REPLACE( as the function
    if dialect is _fragment_mysql():  # only functions every backend computes alike
        check_portable(_called_functions(text), text, _where(owner))
    try:
        tree = sqlglot.parse_one(text, read=dialect, into=exp.Condition)
    except sqlglot.errors.SqlglotError:
        raise QuerySyntaxError(
            f"Cannot parse the SQL expression {text!r}{_where(owner)}: {_parse_problem(text, dialect)}. "
            "Write one expression in MySQL syntax, e.g. \"age > 30 AND name LIKE 'A%'\"; quote attribute "
            "names that are SQL keywords with backticks, e.g. `key` = 3."
        ) from None
    if dialect is _fragment_mysql():  # MySQL's spellings of a function, as the backends' rewrites know it
        tree = portable_spelling(tree)
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
        if heading.attributes[column.name].attr_type.core == "enum":
            # compared and matched as text, as MySQL does with enums in expressions (backends whose
            # enum type orders by position, PostgreSQL's, cast it: see their rewrites)
            column.meta["enum"] = True
    return tree


@functools.lru_cache(maxsize=4096)
def _called_functions(text):
    """The functions a fragment calls (remembered: the same strings come back in make() loops)."""
    import sqlglot

    from ..core.fragment_language import called_functions

    try:
        return tuple(called_functions(_fragment_mysql().tokenize(text)))
    except sqlglot.errors.SqlglotError:  # the parser says what is wrong
        return ()


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
            resolved = resolve(node.name)
            if node.meta.get("enum"):
                resolved.meta["enum"] = True
            return resolved
        return node

    return tree.copy().transform(replace)
