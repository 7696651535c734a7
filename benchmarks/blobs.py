"""Blob attributes against raw bytes through the same driver: insert and fetch of 100 arrays of 1 MB
and of one 200 MB array.

Usage: python benchmarks/blobs.py [sqlite|postgresql|mysql ...] [--repeat R] [--big-mb 200]

pipejoint inserts numpy arrays into a `<blob>` attribute (DataJoint's blob format) and fetches
them back as arrays; "raw" sends each array's bytes (`array.tobytes()`) through the driver into a
column of the same SQL type (executemany in one transaction) and fetches the bytes. MB/s counts
array data (10**6 bytes), from the median times of R runs. ratio = pipejoint time / raw time
(lower is better), taken within each run, where the two ran back to back (which goes first
alternates), and reported as the median over runs with its range: on a busy machine the load
changes between runs more than within one. Each side fetches right after its own insert, so both
read a table the server has just written: MariaDB's default 128 MB buffer pool holds only the
table written last (repeated scans of the other one keep going to disk), which would otherwise
decide the fetch ratio. On PostgreSQL both tables store the column with STORAGE EXTERNAL, as
pipejoint declares blob columns (see backends/postgres.py).

MariaDB refuses statements larger than max_allowed_packet (16 MB by default), and pipejoint
refuses such values with a clear error before sending them. This script raises the server's
limit to 1 GB (SET GLOBAL, needs the privilege) for its own run, says so, and restores it.
"""

import os
import statistics

import numpy as np

import pipejoint as dj
from common import argument_parser, connect, timed
from pipejoint.core.types import parse_type


def set_mysql_packet_limit(value=None):
    """Set the server's max_allowed_packet (default: 1 GB); returns the previous value."""
    conn = connect("mysql")
    limit = int(conn.query("SELECT @@global.max_allowed_packet").fetchone()[0])
    target = value or 2**30
    if limit != target:
        conn.query(f"SET GLOBAL max_allowed_packet = {int(target)}")
        print(f"mysql: max_allowed_packet {limit / 1e6:.0f} MB -> {target / 1e6:.0f} MB", flush=True)
    conn.close()
    return limit


def run(backend, repeat, big_mb):
    previous = set_mysql_packet_limit() if backend == "mysql" else None
    try:
        measure(backend, repeat, big_mb)
    finally:
        if previous is not None:
            set_mysql_packet_limit(previous)  # leave the server as we found it


def measure(backend, repeat, big_mb):
    conn = connect(backend)
    schema = dj.Schema(f"bench_blobs_{os.getpid()}", connection=conn)
    rng = np.random.default_rng(0)
    cases = {
        "100 x 1 MB": [rng.standard_normal(125_000) for _ in range(100)],
        f"1 x {big_mb:.0f} MB": [rng.standard_normal(int(big_mb * 1e6 / 8))],
    }
    try:

        @schema
        class Signal(dj.Manual):
            definition = """
            signal_id : int32
            ---
            data : <blob>
            """

        backend_obj = conn.backend
        table = backend_obj.full_table_name(schema.database, Signal.table_name)
        raw_table = backend_obj.full_table_name(schema.database, "raw_bytes")
        column_type = backend_obj.column_type(parse_type("bytes"))
        q = backend_obj.quote
        conn.query(
            f"CREATE TABLE {raw_table} ({q('signal_id')} int NOT NULL PRIMARY KEY, {q('data')} {column_type} NOT NULL)"
        )
        for statement in backend_obj.serialized_column_statements(schema.database, "raw_bytes", ["data"]):
            conn.query(statement)  # the same column storage as pipejoint's blob column
        p = backend_obj.placeholder
        raw = conn._raw
        insert_sql = f"INSERT INTO {raw_table} ({q('signal_id')}, {q('data')}) VALUES ({p}, {p})"
        select_sql = f"SELECT {q('signal_id')}, {q('data')} FROM {raw_table}"
        del table

        for label, arrays in cases.items():
            mb = sum(a.nbytes for a in arrays) / 1e6
            rows = [{"signal_id": i, "data": a} for i, a in enumerate(arrays)]

            def raw_insert():
                payload = [(i, a.tobytes()) for i, a in enumerate(arrays)]
                conn.query(backend_obj.begin_sql())
                raw.cursor().executemany(insert_sql, payload)
                raw.commit()

            def raw_fetch():
                cur = raw.cursor()
                cur.execute(select_sql)
                out = [bytes(r[1]) if not isinstance(r[1], bytes) else r[1] for r in cur.fetchall()]
                assert len(out) == len(arrays)

            def pj_insert():
                Signal.insert(rows)

            def pj_fetch():
                out = Signal.fetch("data")
                assert len(out) == len(arrays)

            times = {k: [] for k in ("pj_insert", "raw_insert", "pj_fetch", "raw_fetch")}
            steps = {"raw_insert": raw_insert, "pj_insert": pj_insert, "raw_fetch": raw_fetch, "pj_fetch": pj_fetch}
            for r in range(repeat):
                conn.query(f"DELETE FROM {raw_table}")
                Signal.delete_quick()
                first, second = ("raw", "pj") if r % 2 == 0 else ("pj", "raw")  # alternate who goes first
                for who in (first, second):
                    for op in ("insert", "fetch"):
                        times[f"{who}_{op}"].append(timed(steps[f"{who}_{op}"]))
            fetched = Signal.fetch("data", order_by="signal_id")
            assert all(np.array_equal(a, b) for a, b in zip(arrays, fetched))
            med = {k: statistics.median(v) for k, v in times.items()}
            for op in ("insert", "fetch"):
                pj, rw = med[f"pj_{op}"], med[f"raw_{op}"]
                ratios = [p / r for p, r in zip(times[f"pj_{op}"], times[f"raw_{op}"])]
                print(
                    f"{backend:<10} {label:<12} {op:<6}  pipejoint {mb / pj:7.0f} MB/s ({pj:6.3f} s)"
                    f"  raw bytes {mb / rw:7.0f} MB/s ({rw:6.3f} s)  ratio {statistics.median(ratios):5.2f}"
                    f" ({min(ratios):.2f}-{max(ratios):.2f})",
                    flush=True,
                )
            conn.query(f"DELETE FROM {raw_table}")
            Signal.delete_quick()
    finally:
        schema.drop(force=True)
        conn.close()


def main():
    parser = argument_parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-mb", type=float, default=200.0)
    args = parser.parse_args()
    for backend in args.backends:
        run(backend, args.repeat, args.big_mb)


if __name__ == "__main__":
    main()
