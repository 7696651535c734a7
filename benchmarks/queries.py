"""The query algebra against hand-written SQL through the raw DBAPI driver.

Usage: python benchmarks/queries.py [sqlite|postgresql|mysql ...] [--rows N] [--repeat R]

Tables: 1,000 subjects and N (default 100,000) trials, 100 per subject. Measured, each with a
freshly built expression every time (so building, the SQL cache lookup and parameter binding are
all inside the timing), against the same SQL written by hand and run with the driver's cursor:

* join-restrict-project: (Trial * Subject & "species = 'mouse'" & "score > 0.5").proj("score",
  "weight"), all ~25k rows fetched (pipejoint: to_arrays(), raw: fetchall + the same numpy arrays;
  and as dicts, raw: fetchall + dict(zip(...))).
* aggregation over all N trials: Subject.aggr(Trial, n="COUNT(*)", mean="AVG(score)"), 1,000 rows.
* 2,000 lookups (Trial & key).fetch1(), raw: one parameterized SELECT per key.

Prints medians of --repeat runs and the ratio pipejoint / raw (lower is better).
"""

import os
import random

import numpy as np

import pipejoint as dj
from common import argument_parser, connect, median_time


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
        trial : int32
        ---
        score : float64
        condition : varchar(8)
        """

    return Subject, Trial


def run(backend, n_rows, repeat):
    conn = connect(backend)
    schema = dj.Schema(f"bench_q_{os.getpid()}", connection=conn)
    try:
        Subject, Trial = declare(schema)
        rng = random.Random(1)
        per = max(1, n_rows // 1000)
        Subject.insert([(s, rng.choice(["mouse", "rat", "fly", "fish"]), rng.uniform(10, 40)) for s in range(1000)])
        Trial.insert([(s, t, rng.random(), rng.choice(["a", "b"])) for s in range(1000) for t in range(per)])

        raw = conn._raw
        q = conn.backend.quote
        p = conn.backend.placeholder
        subject = conn.backend.full_table_name(schema.database, Subject.table_name)
        trial = conn.backend.full_table_name(schema.database, Trial.table_name)

        def raw_rows(sql, args=None):
            cursor = raw.cursor()
            cursor.execute(sql, args) if args is not None else cursor.execute(sql)
            rows = cursor.fetchall()
            cursor.close()
            return rows

        # join - restrict - project
        join_sql = (
            f"SELECT t.{q('subject_id')}, t.{q('trial')}, t.{q('score')}, s.{q('weight')} "
            f"FROM {trial} t JOIN {subject} s ON t.{q('subject_id')} = s.{q('subject_id')} "
            f"WHERE s.{q('species')} = 'mouse' AND t.{q('score')} > 0.5"
        )

        def pj_join():
            return (Trial * Subject & "species = 'mouse'" & "score > 0.5").proj("score", "weight")

        def raw_arrays():
            rows = raw_rows(join_sql)
            columns = list(zip(*rows))
            dtype = [("subject_id", "i4"), ("trial", "i4"), ("score", "f8"), ("weight", "f8")]
            out = np.empty(len(rows), dtype=dtype)
            for (name, _), column in zip(dtype, columns):
                out[name] = column
            return out

        def raw_dicts():
            names = ("subject_id", "trial", "score", "weight")
            return [dict(zip(names, r)) for r in raw_rows(join_sql)]

        assert len(pj_join().to_arrays()) == len(raw_arrays())
        # aggregation over all trials
        aggr_sql = (
            f"SELECT s.{q('subject_id')}, COUNT(t.{q('subject_id')}), AVG(t.{q('score')}) "
            f"FROM {subject} s LEFT JOIN {trial} t ON s.{q('subject_id')} = t.{q('subject_id')} "
            f"GROUP BY s.{q('subject_id')}"
        )

        def pj_aggr():
            return Subject.aggr(Trial, n="COUNT(*)", mean="AVG(score)").to_dicts()

        def raw_aggr():
            return [dict(zip(("subject_id", "n", "mean"), (r[0], int(r[1]), float(r[2])))) for r in raw_rows(aggr_sql)]

        assert len(pj_aggr()) == len(raw_aggr()) == 1000
        # lookups
        keys = [{"subject_id": rng.randrange(1000), "trial": rng.randrange(per)} for _ in range(2000)]
        lookup_sql = (
            f"SELECT {q('subject_id')}, {q('trial')}, {q('score')}, {q('condition')} FROM {trial} "
            f"WHERE {q('subject_id')} = {p} AND {q('trial')} = {p}"
        )

        def pj_lookups():
            t = Trial()
            for key in keys:
                (t & key).fetch1()

        def raw_lookups():
            cursor = raw.cursor()
            for key in keys:
                cursor.execute(lookup_sql, (key["subject_id"], key["trial"]))
                row = cursor.fetchall()[0]
                dict(zip(("subject_id", "trial", "score", "condition"), row))
            cursor.close()

        measurements = [
            ("join-restrict-project, arrays", lambda: pj_join().to_arrays(), raw_arrays),
            ("join-restrict-project, dicts", lambda: pj_join().to_dicts(), raw_dicts),
            (f"aggregation over {1000 * per} rows", pj_aggr, raw_aggr),
            ("2000 (T & key).fetch1()", pj_lookups, raw_lookups),
        ]
        for label, ours, theirs in measurements:
            ours(), theirs()  # warm caches on both sides
            t_ours, t_raw = median_time(ours, repeat), median_time(theirs, repeat)
            print(
                f"{backend:<10} {label:<34} pipejoint {t_ours * 1e3:8.1f} ms   raw {t_raw * 1e3:8.1f} ms"
                f"   ratio {t_ours / t_raw:5.2f}",
                flush=True,
            )
        print(f"{backend:<10} SQL: {pj_join().make_sql()}")
    finally:
        schema.drop(prompt=False)
        conn.close()


def main():
    parser = argument_parser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for backend in args.backends:
        run(backend, args.rows, args.repeat)


if __name__ == "__main__":
    main()
