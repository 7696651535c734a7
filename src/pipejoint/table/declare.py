"""Foreign key references of a definition (`-> Parent`), resolved to tables.

The definition parser sits below the tables and queries it would have to know, so it receives
resolve_reference from the table being declared (table.py) and calls it for each `->` line.
"""

from __future__ import annotations

from ..definition.parser import line_error
from ..query.expression import QueryExpression, renamed_base


def resolve_reference(ref, context, table, line):
    """Evaluate `Parent`, `module.Parent` or `Parent.proj(new='old')` in the declaration context.

    Returns (parent table, {new name: parent attribute}).
    """
    try:
        target = eval(ref, {"__builtins__": {}}, dict(context))
    except Exception as error:
        names = sorted(k for k, v in context.items() if _is_table_or_module(v))[:40]
        raise line_error(
            table,
            line,
            f"the foreign key reference `{ref}` could not be resolved ({type(error).__name__}: {error}).",
            f"Name a table class defined before this one, or pass it in the schema context. Tables and modules in scope: {', '.join(names) or 'none'}.",
        ) from error
    if isinstance(target, type):
        try:
            target = target()
        except Exception as error:
            raise line_error(
                table, line, f"`{ref}` is not a table class ({error}).", "Refer to a table class such as `-> Subject`."
            ) from error
    if not isinstance(target, QueryExpression):
        raise line_error(
            table,
            line,
            f"`{ref}` is a {type(target).__name__}, not a table.",
            "Refer to a table class such as `-> Subject`.",
        )
    base, renames = renamed_base(target)
    if base is None:
        raise line_error(
            table,
            line,
            f"`{ref}` is a query, not a table or a renamed table.",
            "A foreign key refers to a table, optionally renamed: `-> Parent.proj(new_name='parent_attr')`.",
        )
    return base, renames


def _is_table_or_module(value):
    return (isinstance(value, type) and issubclass(value, QueryExpression)) or type(value).__name__ == "module"
