"""Foreign key references of a definition (`-> Parent`), resolved to tables.

The definition parser sits below the tables and queries it would have to know, so it receives
resolve_reference from the table being declared (table.py) and calls it for each `->` line.
"""

from __future__ import annotations

from ..definition.parser import line_error
from ..errors import DataJointError
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


def _describe_reference(ref):
    schema, table, pairs = ref
    columns = ", ".join(child if child == parent else f"{child}->{parent}" for child, parent in pairs)
    return f"({columns}) -> `{schema}`.`{table}`"


def _type_signature(attr_type, backend):
    """Types match when they make the same column on this backend and read it the same way:
    `int` and `int32`, `double` and `float64`; `longblob` and `<blob>` (both serialized); not
    `bytes` and `longblob` (raw and serialized), nor enums with other values."""
    from ..storage.codecs import stored_type

    codec = attr_type.codec
    store = attr_type.store
    if store == "":
        from ..storage.stores import resolve_store_name

        try:
            store = resolve_store_name(store, filepath=codec == "filepath")
        except DataJointError:
            pass
    column = stored_type(attr_type)
    try:
        column_type = backend.column_type(column).replace(" AUTO_INCREMENT", "")
    except (KeyError, NotImplementedError):
        column_type = column.core
    return codec, store, column_type.split(" GENERATED")[0], attr_type.values
