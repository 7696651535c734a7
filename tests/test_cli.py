"""The `pipejoint` command, run as a user runs it: a subprocess in the folder holding the pipeline.

The installed `pipejoint` script does not put the working directory on the import path (unlike
`python -m`), so the commands run here as `python -P -m pipejoint.cli`, which behaves the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import pipejoint as dj
from helpers import drop_schema, environment_for, unique_name

PIPELINE = """
import pipejoint as dj

schema = dj.Schema(SCHEMA_NAME)


@schema
class Probe(dj.Manual):
    definition = '''
    probe : int32
    '''


@schema
class SpikeDetection(dj.Computed):
    definition = '''
    -> Probe
    ---
    spikes : int32
    '''

    def make(self, key):
        if key["probe"] == BROKEN:
            raise ValueError(f"probe {key['probe']} is broken")
        self.insert1(dict(key, spikes=key["probe"] * 10))


@schema
class Waveform(dj.Computed):
    definition = '''
    -> Probe
    ---
    width : float64
    '''

    def make(self, key):
        self.insert1(dict(key, width=key["probe"] / 2))
"""


@pytest.fixture
def folder(tmp_path, settings, connection):
    """A folder holding ephys.py (six probes, none broken); yields (folder, the schema as a virtual module)."""
    name = unique_name("cli")
    write_pipeline(tmp_path, name, broken=-1)
    schema = dj.Schema(name, connection=connection)
    yield tmp_path, schema
    drop_schema(connection, name)


def write_pipeline(folder, schema_name, broken):
    text = f"SCHEMA_NAME = {schema_name!r}\nBROKEN = {broken}\n" + textwrap.dedent(PIPELINE)
    (folder / "ephys.py").write_text(text)


def run(folder, settings, *args):
    env = {**os.environ, **environment_for(settings)}
    return subprocess.run(
        [sys.executable, "-P", "-m", "pipejoint.cli", *args],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
    )


def tables(schema):
    return dj.VirtualModule("ephys_check", schema.database, connection=schema.connection)


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def add_probes(folder, settings, ids):
    code = f"import ephys; ephys.Probe.insert([(i,) for i in {list(ids)!r}])"
    env = {**os.environ, **environment_for(settings)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_command_finds_the_module_in_the_working_directory(folder, settings):
    path, schema = folder
    add_probes(path, settings, range(4))
    drawn = ok(run(path, settings, "diagram", "ephys"))
    assert "Wrote pipeline.svg (3 tables)" in drawn.stdout and (path / "pipeline.svg").is_file()
    ok(run(path, settings, "diagram", "ephys", "--format", "mermaid"))
    assert "SpikeDetection" in (path / "pipeline.mmd").read_text()
    made = ok(run(path, settings, "populate", "ephys.SpikeDetection"))
    assert "SpikeDetection: 4 made, 0 failed" in made.stdout
    worked = ok(run(path, settings, "worker", "ephys"))
    assert "4 keys made, 0 failed" in worked.stdout  # the Waveforms
    m = tables(schema)
    assert len(m.SpikeDetection()) == 4 and len(m.Waveform()) == 4
    by_file = ok(run(path, settings, "populate", str(path / "ephys.py")))
    assert "nothing to populate" in by_file.stderr and "0key" not in by_file.stderr
    missing = run(path, settings, "worker", "no_such_module")
    assert missing.returncode == 1 and "Cannot import pipeline module `no_such_module`" in missing.stderr


def test_diagram_formats_in_help_and_errors_agree(folder, settings):
    path, _ = folder
    helped = ok(run(path, settings, "diagram", "--help"))
    flat = " ".join(helped.stdout.split())
    for ending in (".svg", ".png", ".mmd", ".dot"):
        assert ending in flat
    assert "{svg,png,mermaid,dot}" in flat
    wrong = run(path, settings, "diagram", "ephys", "-o", "pipeline.pdf")
    assert wrong.returncode == 1
    assert "name the output file .svg, .png, .mmd (Mermaid) or .dot, or give --format svg|png|mermaid|dot" in (
        wrong.stderr
    )
    assert "format='" not in wrong.stderr  # the Python API's spelling has no place on the command line
    ok(run(path, settings, "diagram", "ephys", "-o", "graph.txt", "--format", "dot"))
    assert "digraph" in (path / "graph.txt").read_text()


def test_table_selection_limit_and_max_calls(folder, settings):
    path, schema = folder
    add_probes(path, settings, range(6))
    limited = ok(run(path, settings, "populate", "ephys", "--table", "Waveform", "--limit", "2"))
    assert "Waveform: 2 made, 0 failed" in limited.stdout and "SpikeDetection" not in limited.stdout
    capped = ok(run(path, settings, "populate", "ephys", "--table", "Waveform", "--table", "SpikeDetection",
                    "--max-calls", "1"))  # fmt: skip
    assert "SpikeDetection: 1 made" in capped.stdout and "Waveform: 1 made" in capped.stdout
    m = tables(schema)
    assert len(m.Waveform()) == 3 and len(m.SpikeDetection()) == 1
    worker = ok(run(path, settings, "worker", "ephys", "--table", "SpikeDetection", "--max-calls", "2"))
    assert "2 keys made" in worker.stdout and len(m.SpikeDetection()) == 3 and len(m.Waveform()) == 3
    unknown = run(path, settings, "populate", "ephys", "--table", "Spikes")
    assert unknown.returncode == 1
    assert "has no Imported or Computed table Spikes: choose from SpikeDetection, Waveform" in unknown.stderr
    negative = run(path, settings, "populate", "ephys", "--limit", "-1")
    assert negative.returncode == 2 and "whole number" in negative.stderr


def test_processes_show_one_finished_bar(folder, settings):
    path, schema = folder
    add_probes(path, settings, range(6))
    done = ok(run(path, settings, "populate", "ephys", "--table", "SpikeDetection", "--processes", "2"))
    assert "SpikeDetection: 6 made, 0 failed" in done.stdout
    assert done.stderr.count("6/6") == 1, done.stderr
    again = ok(run(path, settings, "populate", "ephys", "--workers", "2", "--table", "SpikeDetection"))
    assert "SpikeDetection: nothing to populate, every key is made" in again.stderr
    assert "0key" not in again.stderr and "0 made, 0 failed" in again.stdout


def test_suppress_errors(folder, settings):
    path, schema = folder
    write_pipeline(path, schema.database, broken=2)
    add_probes(path, settings, range(5))
    stopped = run(path, settings, "populate", "ephys", "--table", "SpikeDetection")
    assert stopped.returncode != 0 and "probe 2 is broken" in stopped.stderr
    m = tables(schema)
    assert len(m.SpikeDetection()) == 2  # probes 0 and 1, then it stopped
    went_on = run(path, settings, "populate", "ephys", "--table", "SpikeDetection", "--suppress-errors")
    assert went_on.returncode == 1
    assert "SpikeDetection: 2 made, 1 failed" in went_on.stdout
    assert "ValueError: probe 2 is broken" in went_on.stdout
    assert len(m.SpikeDetection()) == 4
    worker = run(path, settings, "worker", "ephys", "--suppress-errors")
    assert worker.returncode == 1 and "5 keys made" in worker.stdout  # the Waveforms; probe 2 keeps failing
