"""Finding a table's class in a namespace, as ``describe(context=...)`` names the tables it references.

DataJoint 0.14 searches the namespace breadth-first, into the modules it holds (three levels deep),
and into the part tables of each class, so that a definition written by ``describe`` declares the
same table again where that namespace is the context: ``-> acquisition.Session``, ``-> Scan.Field``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

SKIPPED_MODULES = ("pipejoint", "datajoint")


def class_name_in(
    context: Mapping[str, Any], database: str, table_name: str, table_class: type, depth: int = 3
) -> str | None:
    """The dotted name under which `context` holds the class (a `table_class`) of `database`.`table_name`,
    or None."""
    queue = [(context, "", depth)]
    seen = set()
    while queue:
        namespace, prefix, levels = queue.pop(0)
        for name, member in list(namespace.items()):
            if name.startswith("_"):
                continue
            if inspect.isclass(member) and issubclass(member, table_class):
                if _is_table(member, database, table_name):
                    return prefix + name
                for part_name, part in vars(member).items():
                    if (
                        part_name[:1].isupper()
                        and inspect.isclass(part)
                        and issubclass(part, table_class)
                        and _is_table(part, database, table_name)
                    ):
                        return f"{prefix}{name}.{part_name}"
            elif (
                levels > 0
                and inspect.ismodule(member)
                and member.__name__.split(".")[0] not in SKIPPED_MODULES
                and id(member) not in seen
            ):
                seen.add(id(member))
                queue.append((vars(member), f"{prefix}{name}.", levels - 1))
    return None


def _is_table(cls: type, database: str, table_name: str) -> bool:
    """Whether a class is bound to that table (classes not bound to a schema are not)."""
    try:
        return cls.table_name == table_name and cls.database == database
    except Exception:  # a tier's base class, or a class not yet decorated with a schema
        return False
