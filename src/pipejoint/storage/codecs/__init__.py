"""Codecs: how attribute values are turned into column values and back (``dj.Codec``, ``<name>``).

Built-ins: ``<blob>`` (DataJoint's blob format), ``<hash@>``, ``<attach>``, ``<object@>``,
``<npy@>``, ``<filepath@>``. User codecs register by subclassing ``dj.Codec``; legacy
``dj.AttributeAdapter`` subclasses still work.

The registry is the bottom of the package: the codec modules import it and register their
codecs when this package is imported (importing any of its modules imports it first), so the
registry never imports them back.
"""

from . import builtin, stored  # noqa: F401  (the built-in codecs register themselves in the registry)
from .adapter import AttributeAdapter, check_declared, register_adapters
from .registry import (
    Codec,
    CodecError,
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
    "register_adapters",
    "register_codec",
    "resolve",
    "stored_type",
    "unregister_codec",
]
