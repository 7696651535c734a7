"""What the benchmark scripts share: the backends they run on, a connection to the test servers
(the settings tests/helpers.py defines), and the clock."""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from helpers import connect as connect_with
from helpers import server_settings

BACKENDS = ["sqlite", "postgresql", "mysql"]


def argument_parser(**kwargs):
    """An ArgumentParser whose positional arguments name the backends to run on (default: all)."""
    parser = argparse.ArgumentParser(**kwargs)
    parser.add_argument("backends", nargs="*", default=list(BACKENDS))
    return parser


def connect(backend):
    """A Connection to `backend` as the tests configure it (SQLite: a file in a new temp folder)."""
    return connect_with(server_settings(backend, tempfile.mkdtemp()))


def timed(fn):
    """Seconds that one call of fn() takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn, repeat):
    """Median seconds of `repeat` calls of fn()."""
    return statistics.median([timed(fn) for _ in range(repeat)])
