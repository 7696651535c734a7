"""Stopping a populate that holds jobs: SIGTERM and Ctrl-C.

A cluster scheduler stops a worker with SIGTERM. While populate(reserve_jobs=True) runs,
SIGTERM raises SystemExit("SIGTERM received") in the main thread, so that the make() under way
unwinds like a Ctrl-C (KeyboardInterrupt): its transaction rolls back, its job is recorded as
an error naming the interruption (as DataJoint does), and the exception propagates.
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback

logger = logging.getLogger("pipejoint")

SIGTERM_MESSAGE = "SIGTERM received"


def _raise_exit(signum, frame):
    logger.info("populate stopped by SIGTERM")
    raise SystemExit(SIGTERM_MESSAGE)


class sigterm_as_exit:
    """Context manager: SIGTERM raises SystemExit while active (main thread only; Python delivers
    signals there, and signal.signal refuses other threads). The previous handler comes back on exit.
    Entered once per populate() call, not per make()."""

    def __init__(self, active: bool = True) -> None:
        self.active = active
        self.previous = None
        self.installed = False

    def __enter__(self):
        if self.active and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, _raise_exit)
            self.installed = True
        return self

    def __exit__(self, *exc):
        if self.installed:
            # None: the previous handler was set outside Python; the default is the closest we can restore
            signal.signal(signal.SIGTERM, self.previous if self.previous is not None else signal.SIG_DFL)
            self.installed = False
        return False


def interruption_record(error: BaseException) -> tuple[str, str]:
    """(message, stack) recorded in the job of a make() stopped by KeyboardInterrupt or SystemExit:
    "KeyboardInterrupt", "SystemExit: SIGTERM received"."""
    text = str(error)
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return message, stack
