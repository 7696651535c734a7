"""DataJoint 0.14's ``dj.AttributeAdapter``: ``attribute_type``, ``put`` and ``get``, kept working as a codec,
and the declaration-time check of codec attributes, which finds such adapters in the declaration context."""

from __future__ import annotations

from typing import Any

from ...errors import CodecError, DeclarationError
from .registry import Codec, is_registered, register_codec, resolve


class AttributeAdapter(Codec, register=False):
    """Legacy adapter. Found under its variable name in the schema's context (``<graph>`` for
    ``graph = GraphAdapter()``), or registered like a codec when the class sets ``name``."""

    attribute_type: str | None = None

    def get_dtype(self, is_store: bool) -> str:
        if not self.attribute_type:
            raise CodecError(
                f"Adapter {type(self).__name__} has no attribute_type: set e.g. attribute_type = 'longblob'."
            )
        return self.attribute_type

    def put(self, obj: Any) -> Any:
        raise NotImplementedError(f"Adapter {type(self).__name__} does not implement put(obj).")

    def get(self, value: Any) -> Any:
        raise NotImplementedError(f"Adapter {type(self).__name__} does not implement get(value).")

    def encode(self, value: Any, *, key: dict[str, Any] | None = None) -> Any:  # type: ignore[override]  # (no store_name: Codec._encode passes it only to codecs that take it)
        return self.put(value)

    def decode(self, stored: Any, *, key: dict[str, Any] | None = None) -> Any:
        return self.get(stored)


def check_declared(attr_type, context=None):
    """Declaration-time check of a codec attribute: registered, store use valid, chain resolvable.

    A legacy ``dj.AttributeAdapter`` instance found in the declaration context under the codec's
    name is registered on the way (DataJoint 0.14 found adapters that way).
    """
    name = attr_type.codec
    if name is None:
        return None
    if context and not is_registered(name):
        candidate = context.get(name)
        if isinstance(candidate, AttributeAdapter):
            register_codec(candidate, name)
    try:
        return resolve(name, attr_type.store)
    except CodecError as error:
        raise DeclarationError(str(error)) from None


def register_adapters(objects):
    """Register the legacy adapters among ``objects`` under their names (``{'graph': GraphAdapter()}``),
    as DataJoint 0.14 found them in a virtual module's ``add_objects`` to read adapted attributes."""
    for name, candidate in (objects or {}).items():
        if isinstance(candidate, AttributeAdapter) and not is_registered(name):
            register_codec(candidate, name)
