"""`pipejoint.objectref` is DataJoint's objectref module, where DataJoint code imports
``ObjectRef`` from; the same module object as `pipejoint.storage.objectref`.
"""

import sys
from typing import TYPE_CHECKING

from .storage import objectref as _objectref

if TYPE_CHECKING:  # what this module is at run time, for type checkers
    from .storage.objectref import *  # noqa: F403

sys.modules[__name__] = _objectref
