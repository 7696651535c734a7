"""`pipejoint.blob` is DataJoint's blob module, where DataJoint code imports it from.

It is the same module object as `pipejoint.storage.blob`, so settings such as
`dj.blob.use_32bit_dims = True` reach the serializer.
"""

import sys
from typing import TYPE_CHECKING

from .storage import blob as _blob

if TYPE_CHECKING:  # what this module is at run time, for type checkers
    from .storage.blob import *  # noqa: F403

sys.modules[__name__] = _blob
