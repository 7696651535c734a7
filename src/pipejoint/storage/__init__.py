"""Values that are more than a column: DataJoint's blob format, codecs, object stores, object references and their garbage collection.

DataJoint code imports the object-path helpers from here (``from datajoint.storage import build_object_path``).
"""

from .paths import build_object_path, encode_pk_value, generate_token

__all__ = ["build_object_path", "encode_pk_value", "generate_token"]
