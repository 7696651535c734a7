"""DataJoint 0.14's objects in stores: ``blob@store``, ``attach@store``, ``filepath@store``.

0.14 keeps an object's bytes in the store and one row per object in the schema's
``~external_<store>`` table (hash, size, attachment_name, filepath, contents_hash); a table's
attribute holds the object's hash, a uuid. The bytes lie under the store's location at

* blob: ``{schema}/{subfolders}/{hash}`` (hash: md5 of the serialized blob, as 32 hex digits);
* attach: ``{schema}/{subfolders}/{hash}.{attachment name}`` (hash: md5 of name + NUL + content);
* filepath: the row's ``filepath``, relative to the store's location (and to its ``stage``, the
  local folder 0.14 copied files from and back to); ``contents_hash`` is the md5 of the content.

Subfolders are the hash's leading characters, by the store's ``subfolding`` (0.14's default
(2, 2): ``0123abcd…`` lies in ``01/23/``). This module reads those objects given the
``~external`` row; the query layer looks the rows up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import secrets
import uuid

from ..errors import DataJointError, MissingExternalFile, StoreError
from . import blob
from .codecs.builtin import write_attachment
from .stores import CHUNK, get_store

DEFAULT_SUBFOLDING = (2, 2)
EXTERNAL_PREFIX = "~external_"
EXTERNAL_KINDS = ("blob", "attach", "filepath")
EXTERNAL_COLUMNS = ("hash", "size", "attachment_name", "filepath", "contents_hash")
EXTERNAL_SCHEMA = "external_schema"  # AttributeType.extra key: the schema of the ~external tables


def external_schema(attr_type):
    """The schema whose ``~external_<store>`` tables track this attribute's objects (0.14), or None."""
    return attr_type.extra.get(EXTERNAL_SCHEMA)


def subfold(name, folds):
    """``subfold('aBCdefg', (2, 3))`` -> ``['ab', 'cde']``, as 0.14 names its folders."""
    out, pos = [], 0
    for width in folds:
        out.append(name[pos : pos + width].lower())
        pos += width
    return out


def subfolding(store):
    configured = store.spec.get("subfolding")
    return DEFAULT_SUBFOLDING if configured is None else tuple(int(w) for w in configured)


def object_path(store, schema, hash_uuid, suffix=""):
    """Where 0.14 put a blob (suffix '') or an attachment (suffix '.' + its name), relative to the location."""
    hex_hash = hash_uuid.hex
    return posixpath.join(schema, *subfold(hex_hash, subfolding(store)), hex_hash + suffix)


def md5_uuid(data):
    return uuid.UUID(bytes=hashlib.md5(data).digest())


def read_object(kind, store_name, schema, hash_uuid, row, *, squeeze=False, download_path=None):
    """The value of one 0.14 store attribute: an unpacked blob, or the path of a local file."""
    if row is None:
        raise MissingExternalFile(
            f"Object {hash_uuid} is not in `{schema}`.`~external_{store_name}`: the row that refers to it "
            "was written without its tracking entry. Restore the entry, or delete the row."
        )
    store = get_store(store_name)
    if kind == "blob":
        return blob.unpack(read_blob_bytes(store, schema, hash_uuid, row), squeeze=squeeze)
    if kind == "attach":
        return read_attachment(store, schema, hash_uuid, row, download_path)
    if kind == "filepath":
        return read_filepath(store, row)
    raise DataJointError(f"Unknown DataJoint 0.14 store type {kind}@{store_name}.")


def read_blob_bytes(store, schema, hash_uuid, row):
    try:
        return store.get_bytes(object_path(store, schema, hash_uuid))
    except MissingExternalFile:
        if not row.get("filepath"):  # blobs migrated from DataJoint 0.11 name their path
            raise
        return store.get_bytes(row["filepath"])


def read_attachment(store, schema, hash_uuid, row, folder):
    """Write the attachment into ``folder`` (config['download_path'] by default) and return its path."""
    from ..settings import config

    name = row["attachment_name"]
    data = store.get_bytes(object_path(store, schema, hash_uuid, "." + name))
    folder = folder or config["download_path"]
    os.makedirs(folder, exist_ok=True)
    return write_attachment(folder, name, data)


def read_filepath(store, row):
    """The file's path in the store's stage, copied there from the store when missing or changed
    (as 0.14 did), its content checked against ``contents_hash``. Without a stage, a file store's
    own path."""
    relative = row["filepath"]
    expected = row.get("contents_hash")
    stage = store.spec.get("stage")
    if not stage:
        if store.is_local:
            return os.path.join(store.root, *relative.split("/"))
        raise StoreError(
            f"Store '{store.name}' has no 'stage': DataJoint 0.14 filepaths are copied to a local folder. "
            f"Add dj.config['stores']['{store.name}']['stage'] = '/local/folder'."
        )
    local = os.path.join(os.path.abspath(os.path.expanduser(stage)), *relative.split("/"))
    if os.path.isfile(local) and (expected is None or _file_md5(local) == expected):
        return local
    os.makedirs(os.path.dirname(local), exist_ok=True)
    temporary = f"{local}.{secrets.token_hex(6)}.part"
    digest = hashlib.md5()
    try:
        with store.open(relative) as source, open(temporary, "wb") as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                target.write(chunk)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise MissingExternalFile(
            f"The file {relative} is missing from store '{store.name}' ({store.full_path(relative)})."
        ) from None
    if expected is not None and uuid.UUID(bytes=digest.digest()) != expected:
        os.remove(temporary)
        raise DataJointError(
            f"The file {relative} in store '{store.name}' does not match its checksum in ~external_{store.name}: "
            "it was changed after it was recorded. Restore the original."
        )
    os.replace(temporary, local)
    return local


def _file_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return uuid.UUID(bytes=digest.digest())
