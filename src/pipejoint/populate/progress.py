"""The progress bar of populate(display_progress=True), in this process or watching workers."""

from __future__ import annotations

import sys


def progress_bar(total, description):
    """A tqdm bar of keys, without tqdm's monitor thread: a thread left running in this process
    would keep populate(processes=N) from forking its workers.

    With nothing to do it prints one plain line instead of an empty bar (`0key [00:00, ?key/s]`).
    Written to a file or a pipe (a log, a batch job), each state of the bar is printed once:
    tqdm would repeat the finished bar when it closes, which only a terminal overwrites."""
    if not total:
        print(f"{description}: nothing to populate, every key is made", file=sys.stderr, flush=True)
        return _NoBar()
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0
        _shown = None

        def display(self, msg=None, pos=None):
            if msg is None:
                if self._shown == self.n and not _is_terminal(self.fp):
                    return True
                self._shown = self.n
            return super().display(msg, pos)

    return Bar(total=total, desc=description, unit="key")


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _NoBar:
    """Stands in for the bar when there is nothing to count."""

    n = 0

    def update(self, n=1):
        self.n += n

    def close(self):
        pass
