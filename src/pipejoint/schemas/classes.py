"""Table classes made from the catalog alone, for schemas whose Python source is elsewhere.

A process with no Python source for a pipeline (a notebook, a dashboard, another lab) gets
working table classes, parts attached to their masters, from what the catalog records:
``schema.make_classes()`` and virtual modules (virtual.py).
"""

from __future__ import annotations

from ..catalog.records import read_schema
from ..core.naming import master_of


def _tier_class(tier):
    from ..populate.autopopulate import Computed, Imported
    from ..table.tiers import Lookup, Manual

    return {"manual": Manual, "lookup": Lookup, "imported": Imported, "computed": Computed}[tier]


def build_classes(schema):
    """{class name: class} for every table of a schema, parts attached to their masters."""
    from ..table.tiers import Part

    records = read_schema(schema.connection, schema.database)
    by_table = {}
    for table_name in schema.list_tables():
        record = records.get(table_name)
        if record is None or record.tier == "part":
            continue
        cls = type(
            record.class_name,
            (_tier_class(record.tier),),
            {
                "definition": record.definition,
                "__module__": f"pipejoint.schemas.virtual.{schema.database}",
                "__doc__": record.definition,
            },
        )
        cls._schema = schema
        cls._table_name = table_name
        by_table[table_name] = cls
    for table_name, record in records.items():
        if record.tier != "part":
            continue
        master = by_table.get(master_of(table_name))
        if master is None:
            continue
        part = type(record.class_name, (Part,), {"definition": record.definition, "__module__": master.__module__})
        part._schema = schema
        part._table_name = table_name
        part._master = master
        setattr(master, record.class_name, part)
    return {cls.__name__: cls for cls in by_table.values()}


def make_classes(schema, into):
    """Put classes for the schema's tables into the dict `into`, leaving existing names alone."""
    for name, cls in build_classes(schema).items():
        into.setdefault(name, cls)
