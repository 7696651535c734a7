"""`pipejoint.builtin_codecs.hash`, where DataJoint code may import ``HashCodec`` from."""

from ..storage.codecs.builtin import HashCodec

__all__ = ["HashCodec"]
