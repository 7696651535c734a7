"""Where schema-addressed objects (``<object@>``, ``<npy@>``) go in a store, in DataJoint's layout.

``{schema_prefix}/[{partition}={value}/...]{schema}/{table}/{pk}={value}/.../{field}_{token}{ext}``

The random token keeps a replaced row from overwriting an object a reader may still use.
DataJoint code imports these three helpers from ``datajoint.storage``; the codecs and staged
inserts use the same functions, so there is one definition of the layout.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
import urllib.parse
from typing import Any

TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
MIN_TOKEN, MAX_TOKEN = 4, 16
_UNSAFE = '/\\:*?"<>|'
_LONG = 100  # longer key values are shortened to 50 characters and a hash


def generate_token(length: int = 8) -> str:
    """A random file-name-safe token of ``length`` characters, clamped to 4..16."""
    length = max(MIN_TOKEN, min(MAX_TOKEN, int(length)))
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


def encode_pk_value(value: Any) -> str:
    """A primary-key value as one path segment: numbers and dates as text, unsafe strings %-encoded."""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H-%M-%S")  # no ':' in a path
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if len(text) <= _LONG and not any(c in text for c in _UNSAFE):
        return text
    if len(text) > _LONG:  # unique and still readable
        text = text[:50] + "_" + hashlib.md5(text.encode()).hexdigest()[:8]
    return urllib.parse.quote(text, safe="")


def partition_attributes(pattern: str | None) -> list[str]:
    """The attribute names of a store's ``partition_pattern`` such as ``"{subject}/{session}"``, in order."""
    return re.findall(r"\{(\w+)\}", pattern or "")


def build_object_path(
    schema: str,
    table: str,
    field: str,
    primary_key: dict[str, Any],
    ext: str | None,
    partition_pattern: str | None = None,
    token_length: int = 8,
    *,
    schema_prefix: str,
) -> tuple[str, str]:
    """The store-relative path of a new object and the random token in its file name.

    Partition attributes (from ``partition_pattern``) come right after the prefix, before the
    schema, so that a store can be split by subject or session; the other key attributes follow
    the table name in key order. An empty ``schema_prefix`` gives the pre-2.3.1 layout.
    """
    token = generate_token(token_length)
    if ext and not ext.startswith("."):
        ext = "." + ext
    partition = [a for a in partition_attributes(partition_pattern) if a in primary_key]
    parts = [p for p in [schema_prefix.strip("/")] if p]
    parts += [f"{a}={encode_pk_value(primary_key[a])}" for a in partition]
    parts += [schema, table]
    parts += [f"{a}={encode_pk_value(v)}" for a, v in primary_key.items() if a not in partition]
    parts.append(f"{field}_{token}{ext or ''}")
    return "/".join(parts), token
