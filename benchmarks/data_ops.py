"""Data operations against the raw DBAPI driver: insert, fetch (numpy/dicts/pandas), fetch1 lookups, cascade delete.

Usage: python benchmarks/data_ops.py [sqlite|postgresql|mysql ...] [--rows N] [--repeat R]
Prints medians and the ratio pipejoint / raw driver for each operation (lower is better), with
the range of the ratios of single runs (pipejoint and raw run interleaved, taking turns going first).
"""

import os
import statistics

import numpy as np
import pandas as pd

import pipejoint as dj
from common import argument_parser, connect, timed


def run(backend, n, repeat):
    conn = connect(backend)
    schema = dj.Schema(f"bench_{os.getpid()}", connection=conn)
    try:

        @schema
        class Item(dj.Manual):
            definition = """
            id : int32
            ---
            a : int32
            x : float64
            name : varchar(32)
            """

        @schema
        class Child(dj.Manual):
            definition = """
            -> Item
            k : int8
            """

        raw = conn._raw
        q = conn.backend.quote
        item = conn.backend.full_table_name(schema.database, Item.table_name)
        child = conn.backend.full_table_name(schema.database, Child.table_name)
        p = conn.backend.placeholder
        rows = [{"id": i, "a": i % 1000, "x": i * 0.5, "name": f"name{i}"} for i in range(n)]
        tuples = [tuple(r.values()) for r in rows]
        insert_sql = f"INSERT INTO {item} ({', '.join(map(q, ['id', 'a', 'x', 'name']))}) VALUES ({', '.join([p] * 4)})"
        names = ["id", "a", "x", "name"]
        select_sql = f"SELECT {', '.join(map(q, names))} FROM {item}"
        results = {}

        def clear():
            Child.delete_quick()
            Item.delete_quick()

        def raw_insert():
            cur = raw.cursor()
            conn.query(conn.backend.begin_sql())
            cur.executemany(insert_sql, tuples)
            raw.commit()

        def raw_fetch():
            cur = raw.cursor()
            cur.execute(select_sql)
            return cur.fetchall()

        def measure(label, ours, theirs, setup=None):
            """Medians of `repeat` interleaved runs; pipejoint and raw take turns going first."""
            a, b = [], []
            for i in range(repeat):
                for run, times in ((theirs, b), (ours, a)) if i % 2 == 0 else ((ours, a), (theirs, b)):
                    if setup:
                        setup()
                    times.append(timed(run))
            ratios = sorted(x / y for x, y in zip(a, b))
            results[label] = (statistics.median(a), statistics.median(b), ratios[0], ratios[-1])

        measure("insert 100k" if n == 100_000 else f"insert {n}", lambda: Item.insert(rows), raw_insert, setup=clear)
        if not len(Item):
            Item.insert(rows)
        dtype = np.dtype([("id", "i4"), ("a", "i4"), ("x", "f8"), ("name", "O")])
        measure("fetch numpy", lambda: Item.to_arrays(), lambda: np.array(list(raw_fetch()), dtype=dtype))
        measure("fetch dicts", lambda: Item.to_dicts(), lambda: [dict(zip(names, r)) for r in raw_fetch()])
        measure(
            "fetch pandas",
            lambda: Item.to_pandas(),
            lambda: pd.DataFrame(list(raw_fetch()), columns=names).set_index("id"),
        )
        keys = list(range(0, n, max(1, n // 2000)))[:2000]
        one_sql = f"{select_sql} WHERE {q('id')} = {p}"

        def raw_lookups():
            cur = raw.cursor()
            for k in keys:
                cur.execute(one_sql, (k,))
                dict(zip(names, cur.fetchall()[0]))

        measure("2000 fetch1", lambda: [(Item & {"id": k}).fetch1() for k in keys], raw_lookups)
        m = min(10_000, len(rows) // 2)  # m items with two children each are deleted, m items stay
        children = [{"id": i, "k": 0} for i in range(m)]

        def setup_cascade():
            clear()
            Item.insert(rows[: 2 * m])
            Child.insert(children + [{"id": i, "k": 1} for i in range(m)])

        def raw_cascade():
            conn.query(conn.backend.begin_sql())
            cur = raw.cursor()
            cur.execute(f"DELETE FROM {child} WHERE {q('id')} < {p}", (m,))
            cur.execute(f"DELETE FROM {item} WHERE {q('id')} < {p}", (m,))
            raw.commit()

        measure(
            f"cascade delete {3 * m // 1000}k",
            lambda: (Item & f"id < {m}").delete(prompt=False),
            raw_cascade,
            setup=setup_cascade,
        )
        return results
    finally:
        schema.drop(prompt=False)
        conn.close()


def main():
    parser = argument_parser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for backend in args.backends:
        for label, (ours, theirs, low, high) in run(backend, args.rows, args.repeat).items():
            print(
                f"{backend:11s} {label:22s} pipejoint {ours * 1000:9.1f} ms   raw {theirs * 1000:9.1f} ms   "
                f"ratio {ours / theirs:5.2f}   (single runs {low:.2f}–{high:.2f})"
            )


if __name__ == "__main__":
    main()
