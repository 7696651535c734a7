"""`pipejoint.builtin_codecs.object`, where DataJoint code may import ``ObjectCodec`` from."""

from ..storage.codecs.stored import ObjectCodec

__all__ = ["ObjectCodec"]
