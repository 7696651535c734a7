"""populate() against the same work done with the raw DBAPI driver, and scale-out with processes=2.

Usage: python benchmarks/populate.py [sqlite|postgresql|mysql ...] [--keys 2000] [--masters 500] [--repeat 3]

Cases (medians of --repeat runs; ratio = pipejoint / raw, lower is better):
  trivial      make() = one fetch1 + one insert1, over --keys keys
  parts        make() = one fetch1 + a master row + 20 part rows, over --masters keys
  ... +jobs    the same with reserve_jobs=True; the raw version runs the same protocol by hand
               (pending rows inserted in one batch, per key: conditional UPDATE to reserve,
               then a transaction that checks, fetches, inserts and deletes the job row)
  cpu          a CPU-bound plain make (~0.3 s of pure Python per key, 64 keys): throughput
               of populate(processes=2) over populate() in one process, worker start-up
               included, next to the ceiling: the same per-key computation in 1 process and in
               2 bare worker processes that are already running, each measured right next to
               its pipejoint counterpart
The raw per-key transaction also checks that the key is not made yet, as populate() does.
"""

import argparse
import os
import statistics
import tempfile
import textwrap
import time

import pipejoint as dj
from common import argument_parser, server_settings, timed
from helpers import CONFIG_KEYS
from pipejoint.catalog import connection as connection_module
from pipejoint.populate.workers import load_module

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


dj.config["jobs.add_job_metadata"] = True  # Cpu records when each make started and how long it took


@schema
class Cpu(dj.Computed):
    definition = """
    -> Source
    ---
    total : int64
    """

    def make(self, key):  # a plain make, as the book writes it; the same loop as the ceiling's (spin)
        value = (Source & key).fetch1("value")
        total = 0
        for i in range(WORK):
            total += (i * int(value)) % 7
        self.insert1(dict(key, total=total))
'''


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
        self.p = self.backend.placeholder

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
        sql = (
            f"SELECT source_id FROM {self.name(source)} WHERE source_id NOT IN "
            f"(SELECT source_id FROM {self.name(target)}) ORDER BY source_id"
        )
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
                    [(key, i, value + i) for i in range(20)],
                )
        if job_table is not None:
            self.run(f"DELETE FROM {job_table} WHERE source_id = {p}", (key,))
        self.commit()

    def populate(self, source, target, part=None):
        for key in self.todo(source, target):
            self.make_one(source, target, part, key)

    def populate_with_jobs(self, source, target, part, job_table):
        p = self.p
        keys = self.todo(source, target)
        self.raw.cursor().executemany(
            f"INSERT INTO {job_table} (source_id, status) VALUES ({p}, 'pending')", [(k,) for k in keys]
        )
        reserve = (  # DataJoint 2.x's protocol, which pipejoint follows
            f"UPDATE {job_table} SET status = 'reserved', connection_id = {p}, pid = {p}, "
            f"reserved_time = {self.backend.now_sql} WHERE source_id = {p} AND status = 'pending'"
        )
        for key in keys:
            if self.run(reserve, (1, os.getpid(), key)).rowcount == 1:
                self.make_one(source, target, part, key, job_table)

    def create_job_table(self, schema):
        table = self.backend.full_table_name(schema, "raw_jobs")
        self.run(f"DROP TABLE IF EXISTS {table}")
        self.run(
            f"CREATE TABLE {table} (source_id INTEGER NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL, "
            "connection_id BIGINT, pid INTEGER, reserved_time TIMESTAMP(3) NULL)"
        )
        return table


def spin(work, value):
    """One key's computation in the cpu case (the same loop as Cpu.make)."""
    total = 0
    for i in range(work):
        total += (i * int(value)) % 7
    return total


class BareProcesses:
    """The ceiling for processes=2 on this machine: the same per-key computation, handed out one
    key at a time, in 1 process and in 2 bare worker processes that are already running (their
    start-up is not timed). The pool lives only while it is measured: its threads would make
    populate() spawn its workers instead of forking them."""

    def __init__(self, keys, work):
        self.tasks = [(work, float(k)) for k in range(keys)]

    def one(self):
        return timed(lambda: [spin(*t) for t in self.tasks])

    def two(self):
        import multiprocessing

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with multiprocessing.get_context(method).Pool(2) as pool:
            pool.map(abs, [1, 2], chunksize=1)  # both workers are up before the clock starts
            return timed(lambda: pool.starmap(spin, self.tasks, chunksize=1))


def cpu_seconds():
    """CPU time of this process and of its ended child processes (user + system)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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
    print(
        f"{backend:<11} {case:<8} {n:>5} keys  pipejoint {r['pipejoint']:.3f}s  raw {r['raw']:.3f}s  "
        f"ratio {r['pipejoint'] / r['raw']:.2f}   |  with jobs {r['pipejoint+jobs']:.3f}s  raw {r['raw+jobs']:.3f}s  "
        f"ratio {r['pipejoint+jobs'] / r['raw+jobs']:.2f}",
        flush=True,
    )


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
        raw.raw.close()  # no connection of this process stays open across the workers' fork
        raw.raw = None
        print(
            f"{backend:<11} cpu      {cpu_keys:>5} keys, one make ~{timed(lambda: spin(work, 1)):.2f}s of Python",
            flush=True,
        )

        def populate(processes):
            clear(m, m.Cpu)
            before = cpu_seconds()
            seconds = timed(lambda: m.Cpu.populate(processes=processes))
            cpu[processes] = cpu_seconds() - before
            assert len(m.Cpu) == cpu_keys
            return seconds

        def overhead(seconds):
            """From the run metadata of the last populate(processes=2): the time until the first make
            started (worker start-up included), after the last one ended, and the share of the two
            workers' time spent in make()."""
            starts, durations = m.Cpu.fetch("_job_start_time", "_job_duration")
            begin = min(s.timestamp() for s in starts)
            end = max(s.timestamp() + d for s, d in zip(starts, durations))
            return begin - started[0], started[0] + seconds - end, sum(durations) / (2 * seconds)

        # each pipejoint measurement is paired with the bare one of the same kind, taken right
        # before or after it (alternating), so that both see the same load on a shared machine
        ratios, ceilings, started, cpu = [], [], [0.0], {}
        for i in range(repeat):
            bare = BareProcesses(cpu_keys, work)
            pairs = []
            for processes, measure_bare in ((1, bare.one), (2, bare.two)):
                if i % 2:
                    b = measure_bare()
                    started[0] = time.time()
                    p = populate(processes)
                else:
                    started[0] = time.time()
                    p, b = populate(processes), measure_bare()
                pairs.append((p, b))
            (one, bare_one), (two, bare_two) = pairs
            first, last, busy = overhead(two)
            ratios.append(one / two)
            ceilings.append(bare_one / bare_two)
            print(
                f"{'':<11} run {i + 1}: populate() {one:.2f}s  processes=2 {two:.2f}s  throughput x{one / two:.2f}"
                f"   |  bare 1 process {bare_one:.2f}s  2 processes {bare_two:.2f}s  x{bare_one / bare_two:.2f}"
                f"   |  pipejoint/ceiling {one / two / (bare_one / bare_two):.2f}"
                f"   |  processes=2: first make after {first:.2f}s, last ended {last:.2f}s before the end, "
                f"workers in make() {100 * busy:.0f}% of the time   |  CPU seconds: 1 process {cpu[1]:.2f}, "
                f"processes=2 {cpu[2]:.2f} (parent and workers)",
                flush=True,
            )
        efficiency = [r / c for r, c in zip(ratios, ceilings)]
        print(
            f"{backend:<11} cpu      median throughput x{statistics.median(ratios):.2f}, ceiling "
            f"x{statistics.median(ceilings):.2f}, pipejoint/ceiling {statistics.median(efficiency):.2f}",
            flush=True,
        )
    finally:
        if raw.raw is not None:
            raw.raw.close()
        m.schema.drop(prompt=False)


def main():
    parser = argument_parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--masters", type=int, default=500)
    parser.add_argument("--cpu-keys", type=int, default=64)
    parser.add_argument("--work", type=int, default=3_500_000, help="loop iterations per CPU-bound make")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="trivial,parts,cpu", help="comma-separated: trivial, parts, cpu")
    args = parser.parse_args()
    dj.config["safemode"] = False
    for backend in args.backends:
        run(backend, args.keys, args.masters, args.repeat, args.cpu_keys, args.work, args.cases.split(","))


if __name__ == "__main__":
    main()
