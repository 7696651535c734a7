"""`pipejoint demo`: a small neuroscience pipeline on the embedded SQLite default.

Subjects and sessions are entered by hand, recordings are "imported" (synthesized here so the
demo needs no data files), and spike statistics are computed per recording and per channel.
It shows declaration, insert, populate, queries and a cascading delete in a few seconds.
"""

from __future__ import annotations

import datetime

import numpy as np

import pipejoint as dj

schema = dj.Schema()


@schema
class Species(dj.Lookup):
    definition = """
    # kinds of animals in the lab
    species : varchar(24)
    """
    contents = [("mouse",), ("rat",)]


@schema
class Subject(dj.Manual):
    definition = """
    # an animal in an experiment
    subject_id : uint16
    ---
    -> Species
    sex : enum('F', 'M', 'U')
    date_of_birth : date
    """


@schema
class Session(dj.Manual):
    definition = """
    # one experimental session with a subject
    -> Subject
    session : uint8
    ---
    session_date : date
    experimenter : varchar(32)
    """


@schema
class Recording(dj.Imported):
    definition = """
    # a multichannel recording made during a session
    -> Session
    ---
    sampling_rate : float64   # Hz
    n_channels : uint8
    traces : <blob>           # channels x samples
    """

    def make(self, key):
        rng = np.random.default_rng(key["subject_id"] * 100 + key["session"])
        n_channels, n_samples = 4, 3000
        traces = rng.normal(size=(n_channels, n_samples))
        spikes = rng.random((n_channels, n_samples)) < 0.004
        traces[spikes] += 6.0
        self.insert1(dict(key, sampling_rate=1000.0, n_channels=n_channels, traces=traces))


@schema
class SpikeStats(dj.Computed):
    definition = """
    # spikes detected with a threshold, per recording
    -> Recording
    ---
    threshold : float64
    total_spikes : uint32
    """

    class Channel(dj.Part):
        definition = """
        -> master
        channel : uint8
        ---
        spike_count : uint32
        firing_rate : float64   # spikes per second
        """

    def make(self, key):
        traces, rate = (Recording & key).fetch1("traces", "sampling_rate")
        threshold = 4.0
        counts = (traces > threshold).sum(axis=1)
        duration = traces.shape[1] / rate
        self.insert1(dict(key, threshold=threshold, total_spikes=int(counts.sum())))
        self.Channel.insert(
            dict(key, channel=c, spike_count=int(n), firing_rate=float(n / duration)) for c, n in enumerate(counts)
        )


def _subjects():
    return [
        dict(subject_id=1, species="mouse", sex="F", date_of_birth=datetime.date(2025, 3, 1)),
        dict(subject_id=2, species="mouse", sex="M", date_of_birth=datetime.date(2025, 4, 12)),
        dict(subject_id=3, species="rat", sex="F", date_of_birth=datetime.date(2024, 11, 30)),
    ]


def _sessions():
    return [
        dict(subject_id=s, session=n, session_date=datetime.date(2026, 1, 10 + 3 * s + n), experimenter=who)
        for s, who in ((1, "ada"), (2, "ada"), (3, "grace"))
        for n in (1, 2)
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
    Subject.insert(_subjects())
    Session.insert(_sessions())
    out("Subjects:")
    out(repr(Subject()))
    for name, result in schema.populate(display_progress=True).items():  # every table, parents first
        out(f"{name}.populate(): {result['success_count']} keys made")
    remaining, total = SpikeStats.progress()
    out(f"SpikeStats progress: {total - remaining}/{total} complete\n")
    out("Spike counts per subject (aggregation over a join):")
    per_subject = Subject.aggr(SpikeStats * Session, sessions="COUNT(*)", spikes="SUM(total_spikes)")
    out(repr(per_subject))
    out("Channels firing above 1 Hz in sessions run by ada (restriction by a join):")
    busy = SpikeStats.Channel & "firing_rate > 1" & (Session & {"experimenter": "ada"})
    out(repr(busy.proj("firing_rate")))
    out("Deleting subject 3 removes its sessions, recordings and statistics in one transaction:")
    before = {t.__name__: len(t()) for t in (Session, Recording, SpikeStats, SpikeStats.Channel)}
    (Subject & {"subject_id": 3}).delete(prompt=False)
    after = {t.__name__: len(t()) for t in (Session, Recording, SpikeStats, SpikeStats.Channel)}
    for name in before:
        out(f"  {name:<18} {before[name]:>3} -> {after[name]:>3} rows")
    out("\nTable definitions, as the catalog describes them:")
    out(SpikeStats.describe())
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
