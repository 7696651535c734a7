"""pipejoint: the DataJoint model for scientific data pipelines, on SQLite, PostgreSQL and MySQL.

    import pipejoint as dj

Code written for DataJoint runs after changing that one line. Heavy modules (the SQL compiler,
numpy, pandas, the server drivers) load on first use, so importing pipejoint stays fast.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from typing import TYPE_CHECKING, Any

from . import errors
from .errors import (
    AccessError,
    DataJointError,
    DeclarationError,
    DuplicateError,
    IntegrityError,
    InvalidValueError,
    LostConnectionError,
    MissingAttributeError,
    MissingExternalFile,
    MissingTableError,
    QueryError,
    QuerySyntaxError,
    ThreadSafetyError,
    TransactionError,
    UnknownAttributeError,
)
from .settings import public_config as config

if TYPE_CHECKING:  # what __getattr__ below loads on first use, for type checkers and editors
    from collections.abc import Mapping

    from . import cli as cli
    from .catalog.connection import Connection as Connection
    from .catalog.connection import conn as conn
    from .core.heading import Attribute as Attribute
    from .core.heading import Heading as Heading
    from .diagrams import diagram as diagram
    from .diagrams.diagram import Diagram as Di
    from .diagrams.diagram import Diagram as Diagram
    from .diagrams.diagram import Diagram as ERD
    from .instance import Instance as Instance
    from .populate.autopopulate import AutoPopulate as AutoPopulate
    from .populate.autopopulate import Compute as Compute
    from .populate.autopopulate import Computed as Computed
    from .populate.autopopulate import Imported as Imported
    from .populate.autopopulate import Ingest as Ingest
    from .query.expression import QueryExpression as QueryExpression
    from .query.expression import U as U
    from .query.restriction import AndList as AndList
    from .query.restriction import Not as Not
    from .query.restriction import Top as Top
    from .schemas.schema import Schema as Schema
    from .schemas.schema import Schema as schema
    from .schemas.schema import list_schemas as list_schemas
    from .schemas.virtual import VirtualModule as VirtualModule
    from .schemas.virtual import create_virtual_module as create_virtual_module
    from .schemas.virtual import virtual_schema as virtual_schema
    from .storage import blob as blob
    from .storage import codecs as codecs
    from .storage import gc as gc
    from .storage.blob import MatCell as MatCell
    from .storage.blob import MatStruct as MatStruct
    from .storage.codecs import AttributeAdapter as AttributeAdapter
    from .storage.codecs import Codec as Codec
    from .storage.codecs import SchemaCodec as SchemaCodec
    from .storage.codecs import get_codec as get_codec
    from .storage.codecs import list_codecs as list_codecs
    from .storage.objectref import NpyRef as NpyRef
    from .storage.objectref import ObjectRef as ObjectRef
    from .table.table import FreeTable as FreeTable
    from .table.table import Table as Table
    from .table.tiers import Entry as Entry
    from .table.tiers import Lookup as Lookup
    from .table.tiers import Manual as Manual
    from .table.tiers import Part as Part

__version__ = "0.1.0"

logger = logging.getLogger("pipejoint")

# Legacy (DataJoint 0.14) names that book code still uses.
key = "KEY"  # `T.fetch(dj.key)` is `T.fetch("KEY")`


# public name -> (module, attribute); resolved on first access
_LAZY = {
    "key_hash": ("populate.schema_jobs", "key_hash"),  # DataJoint 0.14's, which its ~jobs uses
    "conn": ("catalog.connection", "conn"),
    "Connection": ("catalog.connection", "Connection"),
    "Schema": ("schemas.schema", "Schema"),
    "schema": ("schemas.schema", "Schema"),
    "list_schemas": ("schemas.schema", "list_schemas"),
    "Table": ("table.table", "Table"),
    "FreeTable": ("table.table", "FreeTable"),
    "Instance": ("instance", "Instance"),
    "ValidationResult": ("table.insert_validate", "ValidationResult"),
    "Manual": ("table.tiers", "Manual"),
    "Lookup": ("table.tiers", "Lookup"),
    "Imported": ("populate.autopopulate", "Imported"),
    "Computed": ("populate.autopopulate", "Computed"),
    "Part": ("table.tiers", "Part"),
    "Entry": ("table.tiers", "Entry"),
    "Ingest": ("populate.autopopulate", "Ingest"),
    "Compute": ("populate.autopopulate", "Compute"),
    "AutoPopulate": ("populate.autopopulate", "AutoPopulate"),
    "QueryExpression": ("query.expression", "QueryExpression"),
    "U": ("query.expression", "U"),
    "AndList": ("query.restriction", "AndList"),
    "Not": ("query.restriction", "Not"),
    "Top": ("query.restriction", "Top"),
    "VirtualModule": ("schemas.virtual", "VirtualModule"),
    "virtual_schema": ("schemas.virtual", "virtual_schema"),
    "create_virtual_module": ("schemas.virtual", "create_virtual_module"),
    "Heading": ("core.heading", "Heading"),
    "Attribute": ("core.heading", "Attribute"),
    "blob": ("blob", None),
    "MatCell": ("storage.blob", "MatCell"),
    "MatStruct": ("storage.blob", "MatStruct"),
    "Codec": ("storage.codecs", "Codec"),
    "SchemaCodec": ("storage.codecs", "SchemaCodec"),
    "AttributeAdapter": ("storage.codecs", "AttributeAdapter"),
    "list_codecs": ("storage.codecs", "list_codecs"),
    "get_codec": ("storage.codecs", "get_codec"),
    "codecs": ("storage.codecs", None),
    "gc": ("storage.gc", None),
    "ObjectRef": ("storage.objectref", "ObjectRef"),
    "NpyRef": ("storage.objectref", "NpyRef"),
    "Diagram": ("diagrams.diagram", "Diagram"),
    "ERD": ("diagrams.diagram", "Diagram"),
    "Di": ("diagrams.diagram", "Diagram"),
    "diagram": ("diagrams.diagram", None),
    "cli": ("cli", None),
    "utils": ("utils", None),
}

__all__ = sorted(
    list(_LAZY)
    + [
        "config",
        "errors",
        "logger",
        "key",
        "key_hash",
        "DataJointError",
        "DuplicateError",
        "IntegrityError",
        "UnknownAttributeError",
        "MissingAttributeError",
        "MissingTableError",
        "LostConnectionError",
        "QueryError",
        "QuerySyntaxError",
        "AccessError",
        "DeclarationError",
        "InvalidValueError",
        "ThreadSafetyError",
        "TransactionError",
        "MissingExternalFile",
    ]
)


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'pipejoint' has no attribute {name!r}") from None
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
