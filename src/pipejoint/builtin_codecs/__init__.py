"""`pipejoint.builtin_codecs`: the built-in codec classes, where DataJoint code imports them
from (``from datajoint.builtin_codecs import NpyCodec, NpyRef``)."""

from ..storage.codecs.builtin import AttachCodec, BlobCodec, HashCodec
from ..storage.codecs.stored import FilepathCodec, NpyCodec, ObjectCodec, SchemaCodec
from ..storage.objectref import NpyRef

__all__ = [
    "BlobCodec",
    "HashCodec",
    "SchemaCodec",
    "ObjectCodec",
    "AttachCodec",
    "FilepathCodec",
    "NpyCodec",
    "NpyRef",
]
