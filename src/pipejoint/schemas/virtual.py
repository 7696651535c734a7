"""Virtual modules: a module whose attributes are the table classes of a schema, made from its
catalog (classes.py), for a process that has no Python source for the pipeline.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

from ..storage.codecs import register_adapters
from .classes import make_classes
from .schema import Schema

if TYPE_CHECKING:
    from ..catalog.connection import Connection


class VirtualModule(types.ModuleType):
    """A module whose attributes are the tables of a schema: `lab = dj.VirtualModule('lab', 'lab_schema')`."""

    def __init__(
        self,
        module_name: str,
        schema_name: str,
        *,
        create_schema: bool = False,
        create_tables: bool = False,
        connection: Connection | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(module_name)
        schema = Schema(schema_name, connection=connection, create_schema=create_schema, create_tables=create_tables)
        self.schema = schema
        if add_objects:
            self.__dict__.update(add_objects)
            register_adapters(add_objects)  # 0.14's way to name the adapters of adapted attributes
        make_classes(schema, self.__dict__)


def virtual_schema(
    schema_name: str,
    *,
    connection: Connection | None = None,
    create_schema: bool = False,
    create_tables: bool = False,
    add_objects: dict[str, Any] | None = None,
) -> VirtualModule:
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
    module_name: str,
    schema_name: str,
    create_schema: bool = False,
    create_tables: bool = False,
    connection: Connection | None = None,
    add_objects: dict[str, Any] | None = None,
) -> VirtualModule:
    """The legacy name of VirtualModule."""
    return VirtualModule(
        module_name,
        schema_name,
        create_schema=create_schema,
        create_tables=create_tables,
        connection=connection,
        add_objects=add_objects,
    )
