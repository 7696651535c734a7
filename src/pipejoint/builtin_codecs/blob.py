"""`pipejoint.builtin_codecs.blob`, where DataJoint code may import ``BlobCodec`` from."""

from ..storage.codecs.builtin import BlobCodec

__all__ = ["BlobCodec"]
