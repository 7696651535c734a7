"""`pipejoint.jobs` is DataJoint's jobs module, where DataJoint code imports the job table's
constants (``ERROR_MESSAGE_LENGTH``, ``TRUNCATION_APPENDIX``) from; the same module object
as `pipejoint.populate.jobs`.
"""

import sys
from typing import TYPE_CHECKING

from .populate import jobs as _jobs

if TYPE_CHECKING:  # what this module is at run time, for type checkers
    from .populate.jobs import *  # noqa: F403

sys.modules[__name__] = _jobs
