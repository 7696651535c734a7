"""`pipejoint.builtin_codecs.npy`, where DataJoint code may import ``NpyCodec`` from."""

from ..storage.codecs.stored import NpyCodec
from ..storage.objectref import NpyRef

__all__ = ["NpyCodec", "NpyRef"]
