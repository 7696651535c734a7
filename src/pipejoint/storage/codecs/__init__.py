"""Codecs: how attribute values are turned into column values and back (``dj.Codec``, ``<name>``).

Built-ins: ``<blob>`` (DataJoint's blob format), ``<hash@>``, ``<attach>``, ``<object@>``,
``<npy@>``, ``<filepath@>``. User codecs register by subclassing ``dj.Codec``; legacy
``dj.AttributeAdapter`` subclasses still work.
"""

from . import builtin  # noqa: F401  (registers the built-in codecs)
from .adapter import AttributeAdapter
from .registry import (
    Codec,
    CodecError,
    check_declared,
    get_codec,
    list_codecs,
    register_codec,
    resolve,
    stored_type,
    unregister_codec,
)
from .stored import SchemaCodec

__all__ = [
    "AttributeAdapter",
    "Codec",
    "CodecError",
    "SchemaCodec",
    "check_declared",
    "get_codec",
    "list_codecs",
    "register_codec",
    "resolve",
    "stored_type",
    "unregister_codec",
]
