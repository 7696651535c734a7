"""How the common operations grow with the data: 0.1, 0.3, 1 and 3 M rows on each backend (issue 20).

Usage: python benchmarks/scale.py [sqlite|postgresql|mysql ...] [--sizes 0.1,0.3,1,3]
       [--ops insert,fetch,iterate,join,aggr,populate,delete] [--populate-calls 1000]

Tables: Subject (one per 1,000 trials) -> Trial (N rows: subject_id, trial_id, x float64, b int32
with 100 values, s varchar(24)) -> Scored (Computed, one row per trial made). Operations:

- insert: Trial.insert(DataFrame of N rows);
- fetch numpy / pandas / dicts: every row of Trial;
- iterate: ``for row in Trial & "b < 5"`` (5 % of the rows, in key order);
- join: ``(Trial * Subject & "species = 'mouse'" & "b < 5").proj("x", "weight")`` as numpy (2.5 %);
- aggr: ``Subject.aggr(Trial, n="COUNT(*)", m="AVG(x)")`` as numpy;
- populate: Scored over the key source ``Trial & "trial_id < 100"`` (N / 10 keys: 100 k at 1 M
  rows) with reserve_jobs=True and max_calls=--populate-calls: the jobs table is filled with N / 10
  pending keys, then that many keys are made;
- delete: the 10 % of subjects with the lowest ids, cascading to their trials and scores.

Each operation runs once per size. Time is wall-clock; memory is the growth of the process's peak
resident set (VmHWM, reset before each operation through /proc/self/clear_refs) over its resident
set just before, after a garbage collection and malloc_trim: what the operation made the process
hold at its peak, including the driver's buffers. "raw" is the same SQL run on the driver's cursor
(fetchall), for the operations whose cost is mostly the server's. The growth per 10x rows is
t(1 M) / t(0.1 M) and t(3 M) / t(0.3 M).
"""

import ctypes
import gc
import os
import sys
import time

import numpy as np
import pandas as pd

import pipejoint as dj
from common import argument_parser, connect
from pipejoint.query.compiler import compile_query

OPERATIONS = ["insert", "fetch", "iterate", "join", "aggr", "populate", "delete"]


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current resident set
    except OSError:
        pass
    return _status("VmRSS")


def measure(fn):
    """(seconds, peak resident growth in bytes, result) of one call."""
    before = _reset_peak()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return seconds, max(0, _status("VmHWM") - before), result


def numpy_size(array):
    """A structured array's bytes plus the Python objects its object columns hold (the strings)."""
    size = array.nbytes
    for name in array.dtype.names:
        if array.dtype[name].kind == "O":
            size += sum(map(sys.getsizeof, array[name]))
    return size


def declare(schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int32
        ---
        species : varchar(16)
        weight : float64
        """

    @schema
    class Trial(dj.Manual):
        definition = """
        -> Subject
        trial_id : int32
        ---
        x : float64
        b : int32
        s : varchar(24)
        """

    @schema
    class Scored(dj.Computed):
        definition = """
        -> Trial
        ---
        score : float64
        """

        @property
        def key_source(self):
            return Trial & "trial_id < 100"

        def make(self, key):
            self.insert1(dict(key, score=(Trial & key).fetch1("x") * 2))

    return Subject, Trial, Scored


def raw_seconds(connection, expression):
    """Seconds the compiled SQL of `expression` takes on the driver's own cursor (fetchall)."""
    if isinstance(expression, type):  # a table class
        expression = expression()
    compiled = compile_query(expression)
    cursor = connection._raw.cursor()
    start = time.perf_counter()
    cursor.execute(compiled.sql, compiled.arguments(expression)) if compiled.order else cursor.execute(compiled.sql)
    cursor.fetchall()
    seconds = time.perf_counter() - start
    cursor.close()
    return seconds


def run_size(backend, n, ops, populate_calls, report):
    connection = connect(backend)
    schema = dj.Schema(f"scale_{os.getpid()}_{n}", connection=connection)
    try:
        Subject, Trial, Scored = declare(schema)
        subjects = max(10, n // 1000)
        per_subject = n // subjects
        Subject.insert(
            pd.DataFrame(
                {
                    "subject_id": np.arange(subjects, dtype=np.int32),
                    "species": np.where(np.arange(subjects) % 2 == 0, "mouse", "rat"),
                    "weight": np.linspace(10, 30, subjects),
                }
            )
        )
        rng = np.random.default_rng(0)
        ids = np.arange(subjects * per_subject)
        frame = pd.DataFrame(
            {
                "subject_id": (ids // per_subject).astype(np.int32),
                "trial_id": (ids % per_subject).astype(np.int32),
                "x": rng.random(len(ids)),
                "b": rng.integers(0, 100, len(ids), dtype=np.int32),
                "s": [f"trial{i}" for i in ids],
            }
        )
        rows = len(frame)

        def line(op, seconds, memory, raw=None, note=""):
            report.append((backend, rows, op, seconds, memory, raw, note))
            raw_text = f"  raw {raw:8.3f} s" if raw is not None else ""
            print(
                f"{backend:11s} {rows:>9,d} {op:14s} {seconds:8.3f} s  +{memory / 2**20:7.1f} MB{raw_text}  {note}",
                flush=True,
            )

        seconds, memory, _ = measure(lambda: Trial.insert(frame))
        if "insert" in ops:
            line("insert", seconds, memory)
        del frame
        if "fetch" in ops:
            seconds, memory, array = measure(Trial.fetch)
            size = numpy_size(array)
            raw = raw_seconds(connection, Trial)
            line("fetch numpy", seconds, memory, raw, f"result {size / 2**20:.0f} MB, x{memory / size:.2f}")
            del array
            seconds, memory, frame = measure(Trial.to_pandas)
            line("fetch pandas", seconds, memory, None, f"x{memory / size:.2f} of the numpy result")
            del frame
            seconds, memory, dicts = measure(Trial.to_dicts)
            line("fetch dicts", seconds, memory, None, f"x{memory / size:.2f} of the numpy result")
            del dicts
        if "iterate" in ops:
            query = Trial & "b < 5"
            seconds, memory, count = measure(lambda: sum(1 for _ in query))
            line("iterate 5%", seconds, memory, raw_seconds(connection, query), f"{count:,d} rows")
        if "join" in ops:
            query = (Trial * Subject & "species = 'mouse'" & "b < 5").proj("x", "weight")
            seconds, memory, array = measure(query.fetch)
            line("join-restrict", seconds, memory, raw_seconds(connection, query), f"{len(array):,d} rows")
        if "aggr" in ops:
            query = Subject.aggr(Trial, n="COUNT(*)", m="AVG(x)")
            seconds, memory, array = measure(query.fetch)
            line("aggregation", seconds, memory, raw_seconds(connection, query), f"{len(array):,d} groups")
        if "populate" in ops:
            seconds, memory, result = measure(
                lambda: Scored.populate(reserve_jobs=True, max_calls=populate_calls, display_progress=False)
            )
            keys = len(Scored.key_source)
            line("populate", seconds, memory, None, f"{result['success_count']} made of {keys:,d} keys")
        if "delete" in ops:
            doomed = Subject & f"subject_id < {subjects // 10}"
            seconds, memory, _ = measure(lambda: doomed.delete(prompt=False))
            line("cascade delete", seconds, memory, None, f"{subjects // 10} subjects, {rows // 10:,d} trials")
    finally:
        schema.drop(prompt=False)
        connection.close()


def growth(report):
    """Lines of growth per 10x rows: t(1M)/t(0.1M) and t(3M)/t(0.3M), where both were measured."""
    table = {}
    for backend, rows, op, seconds, _, raw, _ in report:
        table[(backend, op, rows)] = (seconds, raw)
    out = []
    for backend, op in dict.fromkeys((b, o) for b, _, o, *_ in report):
        sizes = sorted(r for b, o, r in table if (b, o) == (backend, op))
        factors, raws = [], []
        for small in sizes:
            big = next((r for r in sizes if abs(r / small - 10) < 0.5), None)
            if big is None:
                continue
            factors.append(f"{table[(backend, op, big)][0] / table[(backend, op, small)][0]:.1f}")
            if table[(backend, op, small)][1]:
                raws.append(f"{table[(backend, op, big)][1] / table[(backend, op, small)][1]:.1f}")
        if factors:
            raw = f"  (raw SQL {' / '.join(raws)})" if raws else ""
            out.append(f"{backend:11s} {op:14s} x{' / '.join(factors)} per 10x rows{raw}")
    return out


def main():
    parser = argument_parser(description=__doc__)
    parser.add_argument("--sizes", default="0.1,0.3,1,3", help="millions of rows, comma-separated")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help=",".join(OPERATIONS))
    parser.add_argument("--populate-calls", type=int, default=1000)
    args = parser.parse_args()
    ops = set(args.ops.split(","))
    report = []
    for backend in args.backends:
        for size in args.sizes.split(","):
            run_size(backend, int(float(size) * 1_000_000), ops, args.populate_calls, report)
    for text in growth(report):
        print(text)


if __name__ == "__main__":
    main()
