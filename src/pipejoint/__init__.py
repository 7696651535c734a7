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
    "conn": ("connection", "conn"),
    "Connection": ("connection", "Connection"),
    "Schema": ("schemas", "Schema"),
    "schema": ("schemas", "Schema"),
    "list_schemas": ("schemas", "list_schemas"),
    "Table": ("table", "Table"),
    "FreeTable": ("table", "FreeTable"),
    "Manual": ("user_tables", "Manual"),
    "Lookup": ("user_tables", "Lookup"),
    "Imported": ("user_tables", "Imported"),
    "Computed": ("user_tables", "Computed"),
    "Part": ("user_tables", "Part"),
    "Entry": ("user_tables", "Entry"),
    "Ingest": ("user_tables", "Ingest"),
    "Compute": ("user_tables", "Compute"),
    "AutoPopulate": ("autopopulate", "AutoPopulate"),
    "QueryExpression": ("expression", "QueryExpression"),
    "U": ("expression", "U"),
    "AndList": ("condition", "AndList"),
    "Not": ("condition", "Not"),
    "Top": ("condition", "Top"),
    "VirtualModule": ("virtual", "VirtualModule"),
    "virtual_schema": ("virtual", "virtual_schema"),
    "create_virtual_module": ("virtual", "create_virtual_module"),
    "Heading": ("heading", "Heading"),
    "Attribute": ("heading", "Attribute"),
    "blob": ("blob", None),
    "MatCell": ("blob", "MatCell"),
    "MatStruct": ("blob", "MatStruct"),
    "Codec": ("codecs", "Codec"),
    "SchemaCodec": ("codecs", "SchemaCodec"),
    "AttributeAdapter": ("codecs", "AttributeAdapter"),
    "list_codecs": ("codecs", "list_codecs"),
    "get_codec": ("codecs", "get_codec"),
    "codecs": ("codecs", None),
    "gc": ("gc", None),
    "ObjectRef": ("objectref", "ObjectRef"),
    "NpyRef": ("objectref", "NpyRef"),
    "Diagram": ("diagram", "Diagram"),
    "ERD": ("diagram", "Diagram"),
    "Di": ("diagram", "Diagram"),
    "diagram": ("diagram", None),
    "cli": ("cli", None),
}

__all__ = sorted(
    list(_LAZY)
    + [
        "config", "errors", "logger", "key", "key_hash", "DataJointError", "DuplicateError", "IntegrityError", "UnknownAttributeError",
        "MissingAttributeError", "MissingTableError", "LostConnectionError", "QueryError", "QuerySyntaxError",
        "AccessError", "DeclarationError", "InvalidValueError", "TransactionError", "MissingExternalFile",
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
