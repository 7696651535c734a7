"""`pipejoint.builtin_codecs.attach`, where DataJoint code may import ``AttachCodec`` from."""

from ..storage.codecs.builtin import AttachCodec

__all__ = ["AttachCodec"]
