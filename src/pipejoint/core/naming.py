"""DataJoint's naming conventions: how a table class maps to its stored name, and back.

They are part of the storage format, so DataJoint clients recognise pipejoint's tables and the
other way round. The stored name is the class name in snake_case behind the tier's prefix:
`#` lookup, `_` imported, `__` computed, none for manual (`Session` -> `session`,
`Stimulus` lookup -> `#stimulus`); a part table is `master__part` (`__scan__field`). Across
schemas a table is known by its node name `` `schema`.`table` ``, as in DataJoint's dependency
graph. Hidden tables (`~jobs`, `~catalog`) start with `~`.
"""

from __future__ import annotations

import re

from ..errors import DataJointError, DeclarationError

TIER_PREFIXES = {"manual": "", "lookup": "#", "imported": "_", "computed": "__"}
PART_SEPARATOR = "__"

_CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def class_name_to_table_name(class_name):
    """`MyTable2B` -> `my_table2_b` (no tier prefix). Class names must be CamelCase."""
    if not _CLASS_NAME.match(class_name):
        raise DeclarationError(
            f"Table class name `{class_name}` is not CamelCase: start with a capital letter and use only "
            f"letters and digits, e.g. `{_suggest_camel(class_name)}`."
        )
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def _suggest_camel(name):
    parts = re.split(r"[^A-Za-z0-9]+", name)
    suggestion = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return suggestion if suggestion and suggestion[0].isalpha() else "MyTable"


def table_name_to_class_name(table_name):
    """`#my_table` -> `MyTable`, `__comp__part` -> `Part` (the last segment)."""
    base = table_name.lstrip("#_~").split(PART_SEPARATOR)[-1]
    return "".join(part.capitalize() for part in base.split("_"))


def part_table_name(master_table_name, part_class_name):
    """`__scan` and `Field` -> `__scan__field`."""
    return master_table_name + PART_SEPARATOR + class_name_to_table_name(part_class_name)


def without_tier_prefix(table_name):
    """`__scan__field` -> `scan__field`."""
    return table_name.lstrip("#_")


def master_of(table_name):
    """The master's table name of a part table (`__scan__field` -> `__scan`), or None."""
    if PART_SEPARATOR not in without_tier_prefix(table_name):
        return None
    return table_name[: table_name.rfind(PART_SEPARATOR)]


def node_name(schema, table_name):
    """`` `schema`.`table` ``: a table's name in the dependency graph."""
    return f"`{schema}`.`{table_name}`"


def split_node(name):
    """`` `schema`.`table` `` -> (schema, table)."""
    schema, table = name.split("`.`")
    return schema.strip("`"), table.strip("`")


def master_node(name):
    """The node name of a part table's master, or None."""
    schema, table = split_node(name)
    master = master_of(table)
    return None if master is None else node_name(schema, master)


def split_full_name(name):
    """(schema, table) of a full name written `` `schema`.`table` ``, `"schema"."table"` or `schema.table`."""
    cleaned = name.replace('"', "`")
    if "`.`" in cleaned:
        schema, table = cleaned.split("`.`")
        return schema.strip("`"), table.strip("`")
    if "." in cleaned:
        schema, table = cleaned.split(".", 1)
        return schema.strip("`"), table.strip("`")
    raise DataJointError(f"`{name}` is not a full table name: write `schema.table`.")


# --- reading names made by others (DataJoint, plain SQL) -------------------------------------

_BASE = r"[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*"
_TIER_NAME = re.compile(rf"^(?P<prefix>#|_|__)?{_BASE}$")
_PART_NAME = re.compile(rf"^(?P<master>(?:#|_|__)?{_BASE})__{_BASE}$")
_PREFIX_TIERS = {prefix: tier for tier, prefix in TIER_PREFIXES.items()}


def tier_of(table_name, table_names=()):
    """The tier DataJoint's naming gives a stored table name, or None when the name follows no
    DataJoint convention (a plain SQL table). A part's master must be among `table_names`."""
    if m := _TIER_NAME.match(table_name):
        return _PREFIX_TIERS[m.group("prefix") or ""]
    if (m := _PART_NAME.match(table_name)) and m.group("master") in table_names:
        return "part"
    return None


def plain_class_name(table_name):
    """A CamelCase class name for a table named outside DataJoint's conventions:
    `Employee_Records` -> `EmployeeRecords`, `order-items` -> `OrderItems`, `2024data` -> `T2024data`."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", table_name) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Table"
    return name if name[0].isalpha() else "T" + name
