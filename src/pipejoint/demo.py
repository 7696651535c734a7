"""`pipejoint demo`: the README's complete small pipeline, on the embedded SQLite default.

The tables, `load_traces` and the make() methods are the README's, word for word (a test checks
it): subjects and sessions are entered by hand (a session may name a partner animal, a renamed
foreign key, and is indexed by date), recordings are "imported" from synthetic traces so the demo
needs no data files, and spike statistics are computed per recording and per channel.
It shows declaration, insert, populate, queries and a cascading delete in a few seconds.
"""

from __future__ import annotations

import numpy as np

import pipejoint as dj

schema = dj.Schema()


def load_traces(key):
    """Stands in for reading your acquisition files: 4 channels of noise with a few spikes."""
    rng = np.random.default_rng(key["subject_id"] * 100 + key["session"])
    traces = rng.normal(size=(4, 3000))
    traces[rng.random(traces.shape) < 0.004] += 6.0
    return traces


@schema
class Species(dj.Lookup):
    definition = """
    # kinds of animals
    species : varchar(24)
    """
    contents = [("mouse",), ("rat",)]


@schema
class Subject(dj.Manual):
    definition = """
    # an animal in an experiment
    subject_id : uint16            # lab-wide id
    ---
    -> Species
    sex : enum('F', 'M', 'U')
    date_of_birth = null : date
    """


@schema
class Session(dj.Manual):
    definition = """
    -> Subject
    session : uint8
    ---
    session_date : date
    -> [nullable] Subject.proj(partner_id='subject_id')   # a renamed foreign key
    index (session_date)
    """


@schema
class Recording(dj.Imported):
    definition = """
    -> Session
    ---
    sampling_rate : float64        # Hz
    traces : <blob>                # any numpy array
    """

    def make(self, key):
        traces = load_traces(key)  # your code
        self.insert1(dict(key, sampling_rate=30000.0, traces=traces))


@schema
class SpikeStats(dj.Computed):
    definition = """
    -> Recording
    ---
    total_spikes : uint32
    """

    class Channel(dj.Part):
        definition = """
        -> master
        channel : uint16
        ---
        spike_count : uint32
        """

    def make(self, key):
        traces = (Recording & key).fetch1("traces")
        counts = (traces > 4).sum(axis=1)
        self.insert1(dict(key, total_spikes=int(counts.sum())))
        self.Channel.insert(dict(key, channel=c, spike_count=int(n)) for c, n in enumerate(counts))


SUBJECTS = [
    dict(subject_id=1, species="mouse", sex="F", date_of_birth="2025-03-01"),
    dict(subject_id=2, species="mouse", sex="M", date_of_birth="2025-04-12"),
    dict(subject_id=3, species="rat", sex="F", date_of_birth=None),
]
SESSIONS = [
    dict(subject_id=1, session=1, session_date="2026-01-10", partner_id=None),
    dict(subject_id=1, session=2, session_date="2026-01-12", partner_id=2),
    dict(subject_id=2, session=1, session_date="2026-01-12", partner_id=1),
    dict(subject_id=3, session=1, session_date="2026-01-15", partner_id=None),
]


def run(database="pipejoint_demo.db", schema_name="demo", out=print):
    """Build the pipeline in `database` (SQLite), populate it and show a few queries."""
    dj.config["database.backend"] = "sqlite"
    dj.config["database.name"] = database
    dj.config["safemode"] = False
    connection = dj.conn(reset=True)
    if schema_name in dj.list_schemas(connection):
        dj.Schema(schema_name, connection=connection).drop(prompt=False)
    schema.activate(schema_name, connection=connection)
    out(f"pipejoint {dj.__version__} demo: schema `{schema_name}` in {database}\n")
    Subject.insert(SUBJECTS)
    Session.insert(SESSIONS)
    out("Subjects:")
    out(repr(Subject()))
    for name, result in schema.populate(display_progress=True).items():  # every table, parents first
        out(f"{name}.populate(): {result['success_count']} keys made")
    remaining, total = SpikeStats.progress()
    out(f"SpikeStats progress: {total - remaining}/{total} complete\n")
    out("Spike counts per subject (aggregation):")
    out(repr(Subject.aggr(SpikeStats, sessions="COUNT(*)", spikes="SUM(total_spikes)")))
    out("Sessions recorded with a partner (the renamed foreign key partner_id):")
    out(repr(Session & "partner_id IS NOT NULL"))
    out("Channels with more than 12 spikes in sessions of mice (restriction by a join):")
    out(repr(SpikeStats.Channel & "spike_count > 12" & (Subject & {"species": "mouse"})))
    out("Deleting subject 3 removes its sessions, recordings and statistics in one transaction:")
    tables = (Session, Recording, SpikeStats, SpikeStats.Channel)
    before = {t.__name__: len(t()) for t in tables}
    (Subject & {"subject_id": 3}).delete(prompt=False)
    after = {t.__name__: len(t()) for t in tables}
    for name in before:
        out(f"  {name:<18} {before[name]:>3} -> {after[name]:>3} rows")
    out("\nTable definitions, as the catalog describes them:")
    out(Session.describe())
    out(SpikeStats.Channel.describe())
    diagram_path = write_diagram(database)
    out(f"\nThe pipeline's diagram: {diagram_path} (dj.Diagram(schema) draws it in Jupyter)")
    return connection


def write_diagram(database, path=None):
    """Save the demo pipeline's diagram as SVG next to the database file."""
    import os

    if path is None:
        folder = os.path.dirname(os.path.abspath(database)) if database != ":memory:" else os.getcwd()
        path = os.path.join(folder, "demo_pipeline.svg")
    return dj.Diagram(schema).save(path)
