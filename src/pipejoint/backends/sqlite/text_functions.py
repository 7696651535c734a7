"""MySQL's string, hash, network-address and regular-expression functions for SQLite.

Registered on each connection beside functions.py's. Each computes MySQL's answer: numbers are
read as their text, positions count from 1, NULL in gives NULL out (except where MySQL says
otherwise, as FIELD's 0).
"""

from __future__ import annotations

import hashlib
import re


def as_text(value):
    """A value as MySQL's string functions read it."""
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _nullable(function):
    """NULL when any argument is NULL."""

    def apply(*args):
        return None if any(a is None for a in args) else function(*args)

    return apply


def _bytes(value):
    return value if isinstance(value, bytes) else as_text(value).encode()


def _ascii(s):
    data = _bytes(s)
    return data[0] if data else 0


def _elt(n, *strings):
    if n is None:
        return None
    n = int(n)
    return strings[n - 1] if 1 <= n <= len(strings) else None


def _same(a, b):
    """MySQL's comparison of FIELD: as strings when both are strings, as numbers otherwise."""
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _field(s, *candidates):
    if s is None:
        return 0
    return next((i for i, c in enumerate(candidates, 1) if c is not None and _same(s, c)), 0)


def _find_in_set(s, items):
    if not items:
        return 0
    s = as_text(s)
    return next((i for i, item in enumerate(as_text(items).split(","), 1) if item == s), 0)


_SHA2 = {0: hashlib.sha256, 224: hashlib.sha224, 256: hashlib.sha256, 384: hashlib.sha384, 512: hashlib.sha512}


def _sha2(s, bits):
    digest = _SHA2.get(int(bits))
    return None if digest is None else digest(_bytes(s)).hexdigest()


def _repeat(s, n):
    return as_text(s) * max(int(n), 0)


def _substring_index(s, delimiter, count):
    """Everything before the count-th delimiter (after it, counting from the end, when negative)."""
    text, delimiter, count = as_text(s), as_text(delimiter), int(count)
    if not delimiter or count == 0:
        return ""
    parts = text.split(delimiter)
    return delimiter.join(parts[:count] if count > 0 else parts[count:])


_QUAD = re.compile(r"(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}")


def _inet_aton(s):
    text = as_text(s)
    if not _QUAD.fullmatch(text):
        return None
    a, b, c, d = (int(p) for p in text.split("."))
    return ((a * 256 + b) * 256 + c) * 256 + d


def _inet_ntoa(n):
    n = int(n)
    if not 0 <= n < 2**32:
        return None
    return ".".join(str((n >> shift) & 255) for shift in (24, 16, 8, 0))


def _regexp_instr(s, pattern):
    found = re.search(as_text(pattern), as_text(s))
    return 0 if found is None else found.start() + 1


def _regexp_replace(s, pattern, replacement):
    return re.sub(as_text(pattern), as_text(replacement), as_text(s))


SCALARS = {
    "ASCII": (1, _nullable(_ascii)),
    "BIT_LENGTH": (1, _nullable(lambda s: 8 * len(_bytes(s)))),
    "OCTET_LENGTH": (1, _nullable(lambda s: len(_bytes(s)))),
    "ELT": (-1, _elt),
    "FIELD": (-1, _field),
    "FIND_IN_SET": (2, _nullable(_find_in_set)),
    "MD5": (1, _nullable(lambda s: hashlib.md5(_bytes(s)).hexdigest())),
    "SHA2": (2, _nullable(_sha2)),
    "REPEAT": (2, _nullable(_repeat)),
    "SUBSTRING_INDEX": (3, _nullable(_substring_index)),
    "INET_ATON": (1, _nullable(_inet_aton)),
    "INET_NTOA": (1, _nullable(_inet_ntoa)),
    "REGEXP_INSTR": (2, _nullable(_regexp_instr)),
    "REGEXP_REPLACE": (3, _nullable(_regexp_replace)),
}
