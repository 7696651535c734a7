"""`pipejoint.user_tables` is DataJoint's module of table tiers, where DataJoint code imports
``UserTable`` from; the same module object as `pipejoint.table.tiers`.
"""

import sys
from typing import TYPE_CHECKING

from .table import tiers as _tiers

if TYPE_CHECKING:  # what this module is at run time, for type checkers
    from .table.tiers import *  # noqa: F403

sys.modules[__name__] = _tiers
