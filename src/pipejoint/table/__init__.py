"""Tables: Table, FreeTable and the tiers; declaring a class, insert, update1 and cascading delete.

``Table`` and ``FreeTable`` are importable from here, where DataJoint code imports them
(``from datajoint.table import FreeTable``); loaded on first use, like the package's own names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .table import FreeTable as FreeTable
    from .table import Table as Table

__all__ = ["Table", "FreeTable"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".table", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
