"""An attribute's codec chain as two functions: encode on insert (outermost codec first) and
decode on fetch (innermost first). Used by insert.py and fetch.py."""

from __future__ import annotations

import contextlib
import contextvars
import sys

from .registry import Chain, resolve

PROBE_BYTES = 1 << 16  # blob attributes check compressibility from 64 kB on: incompressible arrays skip zlib
SERIALIZED_014 = "serialized_014"  # AttributeType.extra key: a native blob column of a DataJoint 0.14 schema
_BYTES = (bytes, bytearray, memoryview)

# The folder a fetch(download_path=...) call writes attachments to; None: config['download_path'].
_download_path = contextvars.ContextVar("pipejoint_download_path", default=None)


@contextlib.contextmanager
def downloading(folder):
    """Within the block, decoders see ``key['_download_path'] = folder`` (nothing changes for None)."""
    if folder is None:
        yield
        return
    token = _download_path.set(str(folder))
    try:
        yield
    finally:
        _download_path.reset(token)


def download_folder():
    """The folder set by the enclosing ``downloading()`` block, or None (config['download_path'])."""
    return _download_path.get()


def chain_of(attr):
    """The Chain of a codec attribute, or None for plain attributes."""
    if attr.codec is None:
        return None
    return resolve(attr.codec, attr.store)


def pack_014(value):
    """``value`` serialized exactly as DataJoint 0.14's ``blob.pack(value)``: zlib is tried on every
    blob over 1000 bytes (no probe), so the bytes, and a stored blob's hash, are 0.14's."""
    from .. import blob

    return blob.pack(value, compress=True, probe_bytes=sys.maxsize)


def _native_blob_encoder(attr_type):
    """A native blob column (``longblob`` & co., no codec marker) is written as its schema holds it:
    in a DataJoint 0.14 schema every value serialized as 0.14 did, bytes too; elsewhere bytes raw,
    as DataJoint 2.x keeps them, and other values serialized (bytes cannot hold them otherwise)."""
    from .. import blob

    if attr_type.extra.get(SERIALIZED_014):
        return lambda value, key=None: pack_014(value)

    def encode(value, key=None):
        if isinstance(value, _BYTES):
            return bytes(value)
        return blob.pack(value, probe_bytes=PROBE_BYTES)

    return encode


def encoder(attr):
    """fn(value, key) -> column value, and whether it needs the row's key; (None, False) for plain attributes."""
    if attr.codec is None:
        return None, False
    if attr.attr_type.extra.get("external_schema"):
        from ...errors import DataJointError

        raise DataJointError(  # written by storage/legacy.py's encoder, which the insert calls for these
            f"`{attr.name}` ({attr.type}) is a DataJoint 0.14 store attribute: its values are written by "
            "pipejoint.storage.legacy.encoder (the object in the store, its row in ~external_<store>)."
        )
    if attr.attr_type.core == "blob":  # a native longblob/blob column
        return _native_blob_encoder(attr.attr_type), False
    chain = chain_of(attr)
    if len(chain.links) == 1 and chain.links[0][0].name == "blob" and chain.links[0][1] is None:
        from .. import blob

        return (lambda value, key=None: blob.pack(value, probe_bytes=PROBE_BYTES)), False  # the common case
    links = [(codec, store) for codec, store in chain.links]
    outer = links[0][0]

    def encode(value, key=None):
        outer.validate(value)
        for codec, store in links:
            value = codec._encode(value, key, store)
        return value

    return encode, True


def decoder(attr, squeeze=False, config=None):
    """fn(stored) -> Python value, or None for plain attributes. ``fn.parallel`` marks store reads.
    `config`: the settings of the connection read from (stores, download_path); None: dj.config."""
    if attr.codec is None:
        return None
    try:
        chain = chain_of(attr)
    except Exception as error:  # an unregistered codec fails on first use, not when the table loads

        def refuse(stored, error=error):
            raise type(error)(f"Cannot decode `{attr.name}`: {error}") from None

        return refuse
    if len(chain.links) == 1 and chain.links[0][0].name == "blob" and chain.links[0][1] is None:
        from .. import blob

        if attr.attr_type.core == "blob":  # a native longblob/blob column: serialized (0.14) or raw (2.x) bytes
            return lambda v: blob.unpack_or_bytes(v, squeeze=squeeze)
        if squeeze:
            return lambda v: blob.unpack(v if isinstance(v, bytes) else bytes(v), squeeze=True)
        return lambda v: blob.unpack(v if isinstance(v, bytes) else bytes(v))
    links = list(reversed(chain.links))

    def decode(stored):
        key = {"_field": attr.name, "_squeeze": squeeze, "_download_path": _download_path.get(), "_config": config}
        for codec, _ in links:
            stored = codec.decode(stored, key=key)
        return stored

    decode.parallel = chain.uses_store
    return decode


__all__ = ["Chain", "chain_of", "encoder", "decoder", "downloading", "download_folder", "pack_014", "SERIALIZED_014"]
