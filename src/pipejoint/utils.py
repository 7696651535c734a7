"""DataJoint's ``datajoint.utils`` helpers that user code calls: confirmation prompts and the
CamelCase <-> snake_case conversion of class and table names.

Every confirmation pipejoint asks (delete, drop) goes through ``user_choice``'s reading of this
module's ``input``, so code that answers DataJoint's prompts by patching ``dj.utils.input``
answers pipejoint's too.
"""

from __future__ import annotations

import builtins
import re

from .core.naming import class_name_to_table_name, table_name_to_class_name


def _read(prompt: str) -> str:
    reader = globals().get("input", builtins.input)  # `dj.utils.input` when patched
    return reader(prompt)


def user_choice(prompt: str, choices: tuple[str, ...] = ("yes", "no"), default: str | None = None) -> str:
    """Ask until one of `choices` is answered (the default, capitalized, answers an empty line)."""
    if default is not None and default not in choices:
        raise ValueError(f"user_choice: the default {default!r} is not one of {choices}.")
    shown = ", ".join(c.title() if c == default else c for c in choices)
    answer = None
    while answer not in choices:
        answer = _read(f"{prompt} [{shown}]: ").strip().lower() or default
    return answer


def is_camel_case(name: str) -> bool:
    """True for a table class name: a capital letter, then letters and digits."""
    return re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) is not None and any(c.islower() for c in name)


def from_camel_case(name: str) -> str:
    """`MyTable2B` -> `my_table2_b`."""
    return class_name_to_table_name(name)


def to_camel_case(name: str) -> str:
    """`my_table` -> `MyTable`."""
    return table_name_to_class_name(name)


__all__ = ["from_camel_case", "is_camel_case", "to_camel_case", "user_choice"]
