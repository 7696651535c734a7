"""DataJoint 0.14's ``dj.AttributeAdapter``: ``attribute_type``, ``put`` and ``get``, kept working as a codec."""

from __future__ import annotations

from .registry import Codec, CodecError


class AttributeAdapter(Codec, register=False):
    """Legacy adapter. Found under its variable name in the schema's context (``<graph>`` for
    ``graph = GraphAdapter()``), or registered like a codec when the class sets ``name``."""

    attribute_type = None

    def get_dtype(self, is_store):
        if not self.attribute_type:
            raise CodecError(
                f"Adapter {type(self).__name__} has no attribute_type: set e.g. attribute_type = 'longblob'."
            )
        return self.attribute_type

    def put(self, obj):
        raise NotImplementedError(f"Adapter {type(self).__name__} does not implement put(obj).")

    def get(self, value):
        raise NotImplementedError(f"Adapter {type(self).__name__} does not implement get(value).")

    def encode(self, value, *, key=None):
        return self.put(value)

    def decode(self, stored, *, key=None):
        return self.get(stored)
