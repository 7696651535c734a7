"""populate() against the same work done with the raw DBAPI driver, and scale-out with processes=2.

Usage: python benchmarks/populate.py [sqlite|postgresql|mysql ...] [--keys 2000] [--masters 500] [--repeat 3]

Cases (medians of --repeat runs; ratio = pipejoint / raw, lower is better):
  trivial      make() = one fetch1 + one insert1, over --keys keys
  parts        make() = one fetch1 + a master row + 20 part rows, over --masters keys
  ... +jobs    the same with reserve_jobs=True; the raw version runs the same protocol by hand
               (pending rows inserted in one batch, per key: conditional UPDATE to reserve,
               then a transaction that checks, fetches, inserts and deletes the job row)
  cpu          a CPU-bound three-part make: throughput of processes=2 over one process
               (worker start-up, about a second, is included: the default makes run ~10 s),
               next to what two bare processes gain on this machine at the same moment
The raw per-key transaction also checks that the key is not made yet, as populate() does.
"""

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import pipejoint as dj  # noqa: E402
from conftest import server_settings  # noqa: E402
from pipejoint import connection as connection_module  # noqa: E402
from pipejoint.workers import load_module  # noqa: E402

PIPELINE = '''
import pipejoint as dj

schema = dj.Schema(SCHEMA_NAME)


@schema
class Source(dj.Manual):
    definition = """
    source_id : int32
    ---
    value : float64
    """


@schema
class Trivial(dj.Computed):
    definition = """
    -> Source
    ---
    result : float64
    """

    def make(self, key):
        value = (Source & key).fetch1("value")
        self.insert1(dict(key, result=value * 2))


@schema
class Master(dj.Computed):
    definition = """
    -> Source
    ---
    total : float64
    """

    class Part(dj.Part):
        definition = """
        -> master
        item : int16
        ---
        value : float64
        """

    def make(self, key):
        value = (Source & key).fetch1("value")
        self.insert1(dict(key, total=value * 20))
        self.Part.insert([dict(key, item=i, value=value + i) for i in range(20)])


@schema
class Cpu(dj.Computed):
    definition = """
    -> Source
    ---
    total : int64
    """

    def make_fetch(self, key):
        return ((Source & key).fetch1("value"),)

    def make_compute(self, key, value):
        total = 0
        for i in range(WORK):
            total += (i * int(value)) % 7
        return (total,)

    def make_insert(self, key, total):
        self.insert1(dict(key, total=total))
'''

CONFIG_KEYS = {"backend": "database.backend", "host": "database.host", "port": "database.port",
               "user": "database.user", "password": "database.password", "database_name": "database.name"}


def load_pipeline(backend, work):
    settings = server_settings(backend, tempfile.mkdtemp())
    for key, value in settings.items():
        dj.config[CONFIG_KEYS[key]] = value
    connection_module._forget_connection()
    name = f"bench_populate_{os.getpid()}"
    connection = dj.conn(reset=True)
    if name in dj.list_schemas(connection):
        dj.Schema(name, connection=connection).drop(prompt=False)
    path = os.path.join(tempfile.mkdtemp(), f"{name}.py")
    with open(path, "w") as f:
        f.write(f"SCHEMA_NAME = {name!r}\nWORK = {work}\n" + textwrap.dedent(PIPELINE))
    return load_module(path)


class Raw:
    """The same work through the driver: hand-written SQL, one statement at a time."""

    def __init__(self, connection):
        self.backend = connection.backend
        self.raw = self.backend.connect()
        self.p = "?" if self.backend.paramstyle == "qmark" else "%s"

    def name(self, table):
        return table.full_table_name

    def run(self, sql, args=None):
        cursor = self.raw.cursor()
        cursor.execute(sql, args) if args is not None else cursor.execute(sql)
        return cursor

    def begin(self):
        self.run(self.backend.begin_sql())

    def commit(self):
        self.run("COMMIT")

    def todo(self, source, target):
        sql = (f"SELECT source_id FROM {self.name(source)} WHERE source_id NOT IN "
               f"(SELECT source_id FROM {self.name(target)}) ORDER BY source_id")
        return [r[0] for r in self.run(sql).fetchall()]

    def make_one(self, source, target, part, key, job_table=None):
        p = self.p
        self.begin()
        if self.run(f"SELECT 1 FROM {self.name(target)} WHERE source_id = {p}", (key,)).fetchone() is None:
            value = self.run(f"SELECT value FROM {self.name(source)} WHERE source_id = {p}", (key,)).fetchone()[0]
            if part is None:
                self.run(f"INSERT INTO {self.name(target)} (source_id, result) VALUES ({p}, {p})", (key, value * 2))
            else:
                self.run(f"INSERT INTO {self.name(target)} (source_id, total) VALUES ({p}, {p})", (key, value * 20))
                self.raw.cursor().executemany(
                    f"INSERT INTO {self.name(part)} (source_id, item, value) VALUES ({p}, {p}, {p})",
                    [(key, i, value + i) for i in range(20)])
        if job_table is not None:
            self.run(f"DELETE FROM {job_table} WHERE table_name = {p} AND key_hash = {p}", ("t", _hash(key)))
        self.commit()

    def populate(self, source, target, part=None):
        for key in self.todo(source, target):
            self.make_one(source, target, part, key)

    def populate_with_jobs(self, source, target, part, job_table):
        p = self.p
        keys = self.todo(source, target)
        self.raw.cursor().executemany(
            f"INSERT INTO {job_table} (table_name, key_hash, status) VALUES ({p}, {p}, 'pending')",
            [("t", _hash(k)) for k in keys])
        now = self.backend.epoch_now_sql
        reserve = (f"UPDATE {job_table} SET status = 'reserved', token = {p}, lease_expires = {now} + 300 "
                   f"WHERE table_name = {p} AND key_hash = {p} AND status = 'pending'")
        for key in keys:
            if self.run(reserve, (os.urandom(8).hex(), "t", _hash(key))).rowcount == 1:
                self.make_one(source, target, part, key, job_table)

    def create_job_table(self, schema):
        table = self.backend.full_table_name(schema, "raw_jobs")
        self.run(f"DROP TABLE IF EXISTS {table}")
        self.run(f"CREATE TABLE {table} (table_name VARCHAR(64) NOT NULL, key_hash CHAR(32) NOT NULL, "
                 "status VARCHAR(16) NOT NULL, token VARCHAR(32), lease_expires DOUBLE PRECISION, "
                 "PRIMARY KEY (table_name, key_hash))")
        return table


def _spin(n):
    total = 0
    for i in range(n):
        total += (i * 3) % 7
    return total


def machine_speedup(n):
    """What two processes give over one on this machine right now, for a bare Python loop."""
    import multiprocessing

    one = timed(lambda: _spin(n))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        two = timed(lambda: pool.map(_spin, [n // 2, n // 2]))
    return one / two


def _hash(key):
    return hashlib.md5(str(key).encode()).hexdigest()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def clear(m, *tables):
    for table in tables:
        for part in table.parts(as_objects=True):
            part.delete_quick()
        table.delete_quick()
    m.schema.jobs.delete_quick()


def measure(m, raw, n, target, part, repeat, job_table):
    """Median seconds per variant; the variants take turns so that load drifting on a shared
    machine affects them alike."""
    variants = {
        "pipejoint": lambda: target.populate(),
        "raw": lambda: raw.populate(m.Source, target(), part and part()),
        "pipejoint+jobs": lambda: target.populate(reserve_jobs=True),
        "raw+jobs": lambda: raw.populate_with_jobs(m.Source, target(), part and part(), job_table),
    }
    times = {label: [] for label in variants}
    for _ in range(repeat):
        for label, work in variants.items():
            clear(m, target)
            raw.run(f"DELETE FROM {job_table}")
            times[label].append(timed(work))
            assert len(target) == n, (label, len(target))
    return {label: statistics.median(t) for label, t in times.items()}


def report(backend, case, n, r):
    print(f"{backend:<11} {case:<8} {n:>5} keys  pipejoint {r['pipejoint']:.3f}s  raw {r['raw']:.3f}s  "
          f"ratio {r['pipejoint'] / r['raw']:.2f}   |  with jobs {r['pipejoint+jobs']:.3f}s  raw {r['raw+jobs']:.3f}s  "
          f"ratio {r['pipejoint+jobs'] / r['raw+jobs']:.2f}", flush=True)


def run(backend, keys, masters, repeat, cpu_keys, work, cases):
    m = load_pipeline(backend, work)
    connection = m.schema.connection
    raw = Raw(connection)
    job_table = raw.create_job_table(m.schema.database)
    try:
        m.Source.insert([dict(source_id=i, value=float(i)) for i in range(keys)])
        if "trivial" in cases:
            report(backend, "trivial", keys, measure(m, raw, keys, m.Trivial, None, repeat, job_table))
            clear(m, m.Trivial)
        (m.Source & f"source_id >= {masters}").delete_quick()
        if "parts" in cases:
            report(backend, "parts", masters, measure(m, raw, masters, m.Master, m.Master.Part, repeat, job_table))
            clear(m, m.Master)
        (m.Source & f"source_id >= {cpu_keys}").delete_quick()
        if "cpu" not in cases:
            return
        single, double, ceiling = [], [], []
        for _ in range(max(2, repeat - 1)):
            clear(m, m.Cpu)
            single.append(timed(lambda: m.Cpu.populate()))
            clear(m, m.Cpu)
            double.append(timed(lambda: m.Cpu.populate(processes=2)))
            assert len(m.Cpu) == cpu_keys
            ceiling.append(machine_speedup(cpu_keys * work // 4))
        one, two = statistics.median(single), statistics.median(double)
        print(f"{backend:<11} cpu      {cpu_keys:>5} keys  1 process {one:.2f}s  processes=2 {two:.2f}s  "
              f"throughput x{one / two:.2f}  (this machine now: x{statistics.median(ceiling):.2f} for the "
              "same loop in 2 bare processes)", flush=True)
    finally:
        raw.raw.close()
        m.schema.drop(prompt=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql", "mysql"])
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--masters", type=int, default=500)
    parser.add_argument("--cpu-keys", type=int, default=150)
    parser.add_argument("--work", type=int, default=1_000_000, help="loop iterations per CPU-bound make")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="trivial,parts,cpu", help="comma-separated: trivial, parts, cpu")
    args = parser.parse_args()
    dj.config["safemode"] = False
    for backend in args.backends:
        run(backend, args.keys, args.masters, args.repeat, args.cpu_keys, args.work, args.cases.split(","))


if __name__ == "__main__":
    main()
