"""`pipejoint.builtin_codecs.schema`, where DataJoint code may import ``SchemaCodec`` from."""

from ..storage.codecs.stored import SchemaCodec

__all__ = ["SchemaCodec"]
