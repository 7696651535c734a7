"""The progress bar of populate(display_progress=True), in this process or watching workers."""

from __future__ import annotations


def progress_bar(total, description):
    """A tqdm bar of keys, without tqdm's monitor thread: a thread left running in this process
    would keep populate(processes=N) from forking its workers."""
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0

    return Bar(total=total, desc=description, unit="key")
