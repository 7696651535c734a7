"""`pipejoint.builtin_codecs.filepath`, where DataJoint code may import ``FilepathCodec`` from."""

from ..storage.codecs.stored import FilepathCodec

__all__ = ["FilepathCodec"]
