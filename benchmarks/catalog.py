"""How long a SQLite schema of many tables takes to declare and to open, and `import pipejoint`.

Each measurement runs in a fresh Python process (what a user's script or notebook pays):

* import: ``import pipejoint``;
* declare: the classes of a pipeline of N tables (Manual, Lookup, Computed with a Part, in
  chains of foreign keys; a mix of types and defaults) declared into a new SQLite file;
* open: the same classes run again against that file (they bind to the existing tables), and
  one row counted;
* virtual: ``dj.VirtualModule`` of the schema and every table's heading read.

`--src` runs another checkout's code (its ``src`` folder), to compare versions:
``python benchmarks/catalog.py --src /tmp/old/src``. Prints the median of `--repeat` runs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

PIPELINE = '''
import pipejoint as dj

schema = dj.Schema("bench")


@schema
class Subject(dj.Manual):
    definition = """
    # an animal
    subject_id : int32           # lab id
    ---
    sex : enum('F', 'M', 'U')
    dob = null : date
    note = "" : varchar(255)
    """

'''

GROUP = '''
@schema
class Kind{i}(dj.Lookup):
    definition = """
    kind{i} : varchar(16)
    ---
    weight = 1.0 : float64
    """
    contents = [("a", 1.0), ("b", 2.0)]


@schema
class Session{i}(dj.Manual):
    definition = """
    -> {parent}
    session{i} : uint16          # session number
    ---
    -> Kind{i}
    started = CURRENT_TIMESTAMP : datetime
    data = null : <blob>
    index (started)
    """


@schema
class Result{i}(dj.Computed):
    definition = """
    -> Session{i}
    ---
    value : float32
    label = "none" : varchar(32)
    """

    class Item(dj.Part):
        definition = """
        -> master
        item : uint8
        ---
        score : float64
        """

    def make(self, key):
        pass
'''


def pipeline_source(tables):
    """Python source of a pipeline with about `tables` tables (groups of four after Subject)."""
    parts = [PIPELINE]
    parent = "Subject"
    for i in range(max(1, (tables - 1) // 4)):
        parts.append(GROUP.format(i=i, parent=parent))
        parent = f"Session{i}"
    return "\n".join(parts)


def run(code, src, folder):
    """Seconds the timed part of `code` took in a fresh process (it prints them)."""
    env = dict(os.environ, PYTHONPATH=src, DJ_BACKEND="sqlite")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return float(result.stdout.strip().splitlines()[-1])


def timed(body):
    return textwrap.dedent(
        """
        import time
        start = time.perf_counter()
        {body}
        print(time.perf_counter() - start)
        """
    ).format(body=textwrap.indent(body, "").strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--src", default=os.path.join(os.path.dirname(__file__), "..", "src"))
    args = parser.parse_args()
    src = os.path.abspath(args.src)
    times = {"import": [], "declare": [], "open": [], "virtual": []}
    for _ in range(args.repeat):
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "pipeline.py"), "w") as f:
            f.write(pipeline_source(args.tables))
        times["import"].append(run(timed("import pipejoint"), src, folder))
        setup = "import pipejoint as dj; dj.config['database.name'] = 'bench.db'; import sys; sys.path.insert(0, '.')\n"
        times["declare"].append(run(setup + timed("import pipeline"), src, folder))
        times["open"].append(run(setup + timed("import pipeline\nlen(pipeline.Subject())"), src, folder))
        virtual = "m = dj.VirtualModule('m', 'bench')\nfor t in dj.Schema('bench').list_tables(): dj.FreeTable(dj.conn(), 'bench.' + t).heading"
        times["virtual"].append(run(setup + timed(virtual), src, folder))
    n = len(pipeline_source(args.tables).split("class ")) - 1
    print(f"{n} tables, {src}, median of {args.repeat} (range)")
    for name, values in times.items():
        print(
            f"  {name:8s} {statistics.median(values) * 1000:8.1f} ms  ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})"
        )


if __name__ == "__main__":
    main()
