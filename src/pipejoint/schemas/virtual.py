"""Classes made from the catalog alone: virtual modules and make_classes().

A process with no Python source for a pipeline (a notebook, a dashboard, another lab) gets
working table classes, parts attached to their masters, from what the catalog records.
"""

from __future__ import annotations

import types

from ..catalog.records import read_schema
from ..core.naming import master_of

_TIER_CLASSES = {}


def _tier_class(tier):
    from ..table.tiers import Computed, Imported, Lookup, Manual

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


class VirtualModule(types.ModuleType):
    """A module whose attributes are the tables of a schema: `lab = dj.VirtualModule('lab', 'lab_schema')`."""

    def __init__(
        self, module_name, schema_name, *, create_schema=False, create_tables=False, connection=None, add_objects=None
    ):
        from .schema import Schema

        super().__init__(module_name)
        schema = Schema(schema_name, connection=connection, create_schema=create_schema, create_tables=create_tables)
        self.schema = schema
        if add_objects:
            self.__dict__.update(add_objects)
        make_classes(schema, self.__dict__)


def virtual_schema(schema_name, *, connection=None, create_schema=False, create_tables=False, add_objects=None):
    """The 2.x name: a virtual module named after the schema."""
    return VirtualModule(
        schema_name,
        schema_name,
        connection=connection,
        create_schema=create_schema,
        create_tables=create_tables,
        add_objects=add_objects,
    )


def create_virtual_module(
    module_name, schema_name, create_schema=False, create_tables=False, connection=None, add_objects=None
):
    """The legacy name of VirtualModule."""
    return VirtualModule(
        module_name,
        schema_name,
        create_schema=create_schema,
        create_tables=create_tables,
        connection=connection,
        add_objects=add_objects,
    )
