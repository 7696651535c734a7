"""Built-in hash-addressed codecs: ``<blob>``, ``<hash@>`` and ``<attach>``.

In a table, ``<blob>`` and ``<attach>`` are bytes in the row. With a store (``<blob@s>``,
``<attach@s>``) they chain to ``<hash@s>``: the bytes go to ``_hash/{schema}/{md5 base32}`` in
the store, written once however many rows refer to them, and the row keeps a small JSON.
"""

from __future__ import annotations

import contextlib
import os
import secrets

from ...errors import ObjectChangedError
from .. import stores as storage
from .registry import Codec, store_required


class BlobCodec(Codec):
    """Any supported Python/numpy value in DataJoint's blob format."""

    name = "blob"

    def get_dtype(self, is_store):
        return "<hash>" if is_store else "bytes"

    def encode(self, value, *, key=None):
        from .. import blob
        from .pipeline import PROBE_BYTES

        return blob.pack(value, probe_bytes=PROBE_BYTES)

    def decode(self, stored, *, key=None):
        from .. import blob

        return blob.unpack(
            stored if isinstance(stored, bytes) else bytes(stored), squeeze=bool(key and key.get("_squeeze"))
        )


class HashCodec(Codec):
    """Bytes kept once per content in a store; the row holds their address."""

    name = "hash"
    store_only = True

    def get_dtype(self, is_store):
        if not is_store:
            raise store_required(self.name)
        return "json"

    def validate(self, value):
        if not isinstance(value, (bytes, bytearray, memoryview, storage.FilePayload)):
            raise TypeError(f"<hash@> stores bytes, not {type(value).__name__}")

    def encode(self, value, *, key=None, store_name=None):
        self.validate(value)
        store = storage.store_for(store_name, key)
        schema = (key or {}).get("_schema", "")
        if isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        digest = storage.content_hash(storage.payload_chunks(value))
        path = store.hash_path(schema, digest)

        def write():
            if store.exists(path):  # the same content is already stored: share it, and keep dj.gc
                marker = store.mark_in_use(path)  # from deleting it until the rows are committed
                if store.exists(path):  # (gc may have deleted it before the marker appeared)
                    return [(store, marker, False)]
                store.delete(marker)
            store.put_chunks(path, storage.payload_chunks(value))
            return [(store, path, False)]

        storage.upload((store.name, path), write)
        return {
            "hash": digest,
            "path": path,
            "schema": schema,
            "store": store.name,
            "size": storage.payload_size(value),
        }

    def decode(self, stored, *, key=None):
        store = storage.store_for(stored["store"], key)
        data = store.get_bytes(stored["path"])
        if storage.content_hash([data]) != stored["hash"]:
            raise ObjectChangedError(
                f"Hash mismatch for {stored['path']} in store '{store.name}': the object was changed after it was "
                "stored. Restore the original or re-insert the row."
            )
        return data


class AttachCodec(Codec):
    """A file's name and content; fetch writes the file to ``download_path`` and returns its path."""

    name = "attach"

    def get_dtype(self, is_store):
        return "<hash>" if is_store else "bytes"

    def validate(self, value):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"<attach> takes the path of a file, not {type(value).__name__}")
        if not os.path.isfile(value):
            raise ValueError(f"{os.fspath(value)} is not a file: give the path of an existing file")

    def encode(self, value, *, key=None, store_name=None):
        self.validate(value)
        header = os.path.basename(os.fspath(value)).encode() + b"\0"
        if store_name is not None:  # streamed to the store in chunks, never read whole
            return storage.FilePayload(os.fspath(value), header)
        with open(value, "rb") as f:
            return header + f.read()

    def decode(self, stored, *, key=None):
        from ...settings import config

        stored = stored if isinstance(stored, bytes) else bytes(stored)
        name, _, content = stored.partition(b"\0")
        folder = (key or {}).get("_download_path") or ((key or {}).get("_config") or config)["download_path"]
        os.makedirs(folder, exist_ok=True)
        return write_attachment(folder, name.decode(), content)


def write_attachment(folder, name, content):
    """Write content as folder/name and return the path, as DataJoint does.

    A file already there with the same content is reused; one with other content is kept, and
    the attachment goes to name_1, name_2, ... instead. The file is written under a temporary
    name and linked into place, which never replaces an existing file, so fetches running at
    the same time (threads or processes) never overwrite each other's attachments and nobody
    sees a half-written file.
    """
    name = os.path.basename(name.replace("\\", "/")) or "attachment"  # never outside the folder
    stem, ext = os.path.splitext(name)
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.part")
    with open(temporary, "wb") as f:
        f.write(content)
    try:
        n = 0
        while True:
            candidate = os.path.join(folder, f"{stem}_{n}{ext}" if n else name)
            if _holds(candidate, content):
                return candidate
            try:
                os.link(temporary, candidate)
                return candidate
            except FileExistsError:
                n += 1
            except OSError:  # a file system without hard links (FAT, some network mounts)
                if os.path.exists(candidate):
                    n += 1
                    continue
                os.replace(temporary, candidate)
                return candidate
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _holds(path, content):
    """True when path is a file with exactly this content."""
    try:
        if os.path.getsize(path) != len(content):
            return False
        with open(path, "rb") as f:
            return f.read() == content
    except OSError:
        return False
