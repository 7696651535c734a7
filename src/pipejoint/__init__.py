"""pipejoint: the DataJoint model for scientific data pipelines, on SQLite, PostgreSQL and MySQL.

    import pipejoint as dj

Code written for DataJoint runs after changing that one line. Heavy modules (the SQL compiler,
numpy, pandas, the server drivers) load on first use, so importing pipejoint stays fast.
"""

from __future__ import annotations

import hashlib
import importlib
import logging

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
    TransactionError,
    UnknownAttributeError,
)
from .settings import config

__version__ = "0.1.0"

logger = logging.getLogger("pipejoint")

# Legacy (DataJoint 0.14) names that book code still uses.
key = "KEY"  # `T.fetch(dj.key)` is `T.fetch("KEY")`


def key_hash(mapping):
    """DataJoint 0.14's hash of a key: md5 of its values in the order of their sorted names."""
    digest = hashlib.md5()
    for _, value in sorted(mapping.items()):
        digest.update(str(value).encode())
    return digest.hexdigest()


# public name -> (module, attribute); resolved on first access
_LAZY = {
    "conn": ("catalog.connection", "conn"),
    "Connection": ("catalog.connection", "Connection"),
    "Schema": ("schemas.schema", "Schema"),
    "schema": ("schemas.schema", "Schema"),
    "list_schemas": ("schemas.schema", "list_schemas"),
    "Table": ("table.table", "Table"),
    "FreeTable": ("table.table", "FreeTable"),
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
        "TransactionError",
        "MissingExternalFile",
    ]
)


def __getattr__(name):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'pipejoint' has no attribute {name!r}") from None
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return __all__
