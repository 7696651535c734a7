"""What users see: table previews (text and HTML), job queues, and the diagram's hover text and legend.

Each database test runs on SQLite, PostgreSQL and MariaDB and reads what a user would read:
the comment of an attribute, a blob's type and shape, a rounded float, one title per queue.
"""

import math
import re
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pytest

import pipejoint as dj
from helpers import store_spec
from pipejoint.diagrams import svg
from pipejoint.diagrams.layout import auto_direction, layered_layout
from pipejoint.diagrams.style import node_size
from pipejoint.query import display
from test_diagram import generated_pipeline

SVG_NS = "{http://www.w3.org/2000/svg}"


def declare_recordings(schema):
    @schema
    class Animal(dj.Manual):
        definition = """
        # animals of the study
        animal_id : uint16        # tag number on the ear
        ---
        weight : float64          # grams at arrival
        nickname = "" : varchar(64)
        """

    @schema
    class Trace(dj.Manual):
        definition = """
        -> Animal
        trace_no : uint8          # order within the day
        ---
        signal : longblob         # volts, one row per electrode
        meta = null : <blob>      # acquisition settings
        rate : float32            # samples per second
        """

    Animal.insert([(7, 1.2770833333333333, "Pip"), (8, 23.25, "a" * 60)])
    Trace.insert(
        [
            (7, 1, np.arange(3000.0).reshape(3, 1000), {"gain": 2, "filter": "none"}, 30000.123),
            (8, 1, np.zeros((2, 5), dtype=np.int16), None, 250.0),
        ]
    )
    return Animal, Trace


def test_html_preview_shows_comments_shapes_and_rounded_floats(schema):
    Animal, Trace = declare_recordings(schema)
    animals = Animal()._repr_html_()
    assert "tag number on the ear" in animals and "grams at arrival" in animals  # under the names, and on hover
    assert 'title="uint16 \u2014 tag number on the ear"' in animals
    assert ">1.27708<" in animals and "1.2770833" not in animals
    assert "Total: 2" in animals
    traces = Trace()._repr_html_()
    assert "float64 (3, 1000)" in traces and "int16 (2, 5)" in traces
    assert "dict (2 keys)" in traces and "=BLOB=" not in traces
    assert ">30000.1<" in traces  # a float32 rounded like any float
    assert "volts, one row per electrode" in traces


def test_text_preview_sizes_columns_to_content(schema):
    Animal, Trace = declare_recordings(schema)
    text = repr(Trace())
    lines = text.splitlines()
    assert lines[0].split() == ["*animal_id", "*trace_no", "signal", "meta", "rate"]
    assert "float64 (3, 1000)" in text and "int16 (2, 5)" in text and "30000.1" in text and "NULL" in text
    # each column as wide as its widest cell or title, two spaces apart
    assert lines[1].split() == ["-" * len("*animal_id"), "-" * len("*trace_no"), "-" * 17, "-" * 13, "-" * 7]
    animals = repr(Animal())
    assert "1.27708" in animals and "\u2026" in animals  # the 60-character nickname is cut, floats never are
    assert max(len(line) for line in animals.splitlines()) <= display.LINE_WIDTH
    assert str(Animal & {"animal_id": 7}) == repr(Animal & {"animal_id": 7})  # print shows the preview
    assert "*animal_id" in Animal().preview(limit=1) and "...\n" in Animal().preview(limit=1)


def test_previews_fetch_no_attachment_and_nothing_from_stores(schema, tmp_path):
    with dj.config.override(
        stores={"default": "main", "main": store_spec("file", tmp_path)}, download_path=str(tmp_path / "downloads")
    ):

        @schema
        class Upload(dj.Manual):
            definition = """
            upload_id : int32
            ---
            doc : <attach>            # the uploaded file
            raw : <blob@main>         # kept in the store
            """

        path = tmp_path / "notes.txt"
        path.write_text("hello")
        Upload.insert1((1, str(path), np.ones(4)))
        text, page = repr(Upload()), Upload()._repr_html_()
        assert "<attach>" in text and "<blob@main>" in text
        assert "&lt;attach&gt;" in page and "&lt;blob@main&gt;" in page and "the uploaded file" in page
        assert not (tmp_path / "downloads").exists() or not any((tmp_path / "downloads").iterdir())


def test_values_are_described_briefly():
    assert display.describe_object(np.zeros((3, 1000))) == "float64 (3, 1000)"
    assert display.describe_object(np.float32(2.5)) == "2.5"
    assert display.describe_object(np.array(3.0)) == "float64 3"
    assert display.describe_object(b"abc") == "bytes (3)"
    assert display.describe_object({"a": 1}) == "dict (1 key)"
    assert display.describe_object([1, 2]) == "list (2)"
    assert display.describe_object("x" * 100).endswith("\u2026")
    assert display.format_float(1e-7) == "1e-07" and display.format_float(1234.5678) == "1234.57"


def declare_failing(schema):
    @schema
    class Source(dj.Lookup):
        definition = """
        source_id : int32
        """
        contents = [(1,), (2,), (3,)]

    @schema
    class Score(dj.Computed):
        definition = """
        -> Source
        ---
        score : float64
        """

        def make(self, key):
            if key["source_id"] > 1:
                raise ValueError(f"source {key['source_id']} has no readable file\nsecond line of the message")
            self.insert1(dict(key, score=1 / 3))

    Score.populate(reserve_jobs=True, suppress_errors=True)
    return Source, Score


def test_jobs_view_is_short_with_one_title(schema):
    _, Score = declare_failing(schema)
    text = repr(Score.jobs)
    assert text.count("Jobs of") == 1 and text.startswith("Jobs of Score (")
    header = text.splitlines()[1].split()
    assert header[:3] == ["*source_id", "status", "priority"] and "connection_id" not in header
    assert "=BLOB=" not in text and "Traceback" not in text and "second line" not in text
    assert "ValueError: source 2 has no readable" in text
    assert max(len(line) for line in text.splitlines()) <= display.LINE_WIDTH
    assert repr(Score.jobs.errors).count("Jobs of") == 1
    page = Score.jobs._repr_html_()
    assert page.count("Jobs of Score") == 1 and "<caption" not in page  # no second title
    assert page.count("<details>") == 2 and "Traceback" in page  # the traceback is folded under the message
    summary = re.findall(r"<summary>(.*?)</summary>", page)
    assert summary[0].startswith("ValueError: source 2") and "second line" not in summary[0]
    assert len(re.findall(r"<th[ >]", page)) <= 9  # key, status, priority, time, duration, host, pid, error


def test_schema_jobs_lists_counts(schema):
    declare_failing(schema)
    text = repr(schema.jobs)
    assert text.startswith("Job queues") and "Score" in text
    row = next(line for line in text.splitlines() if line.startswith("Score")).split()
    assert row == ["Score", "0", "0", "2", "0", "0", "2"]  # pending reserved error ignore success total
    assert "<td>Score</td>" in schema.jobs._repr_html_().replace('<td class="">', "<td>")


# --- diagrams ---
def declare_pipeline(schema):
    @schema
    class Lab(dj.Lookup):
        definition = """
        lab : varchar(16)        # lab name
        """

    @schema
    class Mouse(dj.Manual):
        definition = """
        mouse_id : int32
        ---
        -> Lab
        """

    @schema
    class Pairing(dj.Manual):
        definition = """
        -> Mouse
        ---
        -> Mouse.proj(partner_id='mouse_id')
        started : date           # when they met
        """

    return Lab, Mouse, Pairing


def test_diagram_hover_shows_the_definition_and_a_legend_explains(schema):
    declare_pipeline(schema)
    root = ET.fromstring(dj.Diagram(schema).make_svg())
    titles = {
        g.get("data-name"): g.find(SVG_NS + "title").text
        for g in root.iter(SVG_NS + "g")
        if g.get("class", "").startswith("node")
    }
    pairing = next(t for t in titles.values() if t.startswith("Pairing"))
    assert "(manual)" in pairing and "-> Mouse\n" in pairing and "started : date  # when they met" in pairing
    assert "-> Mouse.proj(partner_id='mouse_id')" in pairing
    legend = next(g for g in root.iter(SVG_NS + "g") if g.get("class") == "legend")
    shown = {(g.get("data-kind"), g.get("data-key")) for g in legend.iter(SVG_NS + "g") if g.get("data-kind")}
    assert shown == {
        ("tier", "lookup"),
        ("tier", "manual"),
        ("edge", "secondary"),
        ("edge", "renamed"),
        ("edge", "one_to_one"),
    }
    plain = ET.fromstring(dj.Diagram(schema).make_svg(legend=False))
    assert not [g for g in plain.iter(SVG_NS + "g") if g.get("class") == "legend"]


def chain(n, schemas=1, rename_every=2):
    graph = nx.DiGraph()
    names = []
    for i in range(n):
        label = f"Table{i}"
        width, height = node_size(label, "manual")
        schema = f"s{i * schemas // n}"
        graph.add_node(label, width=width, height=height, tier="manual", label=label, cluster=schema)
        graph.nodes[label]["cluster_label"] = schema
        if names:
            graph.add_edge(names[-1], label, primary=True, aliased=i % rename_every == 0)
        names.append(label)
    return graph


@pytest.mark.parametrize("direction", ["TB", "LR"])
@pytest.mark.parametrize("seed", [None, 0, 3])
def test_rename_marks_stay_off_schema_frames(direction, seed):
    """A chain across schemas (the mark used to sit 3 px from the next frame), and generated pipelines."""
    graph = chain(12, schemas=4, rename_every=1) if seed is None else generated_pipeline(150, 6, seed)
    layout = layered_layout(graph, direction)
    root = ET.fromstring(svg.render(layout, graph))
    marks = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(SVG_NS + "circle")]
    marks = [m for m in marks if m[0] < layout.width and m[1] < layout.height]  # not the legend's sample
    assert len(marks) == sum(1 for _, _, data in graph.edges(data=True) if data.get("aliased"))
    for x, y in marks:
        for c in layout.clusters:
            inside = c.x <= x <= c.x + c.width and c.y <= y <= c.y + c.height
            if inside:
                border = min(x - c.x, c.x + c.width - x, y - c.y, c.y + c.height - y)
            else:
                border = math.hypot(max(c.x - x, 0, x - c.x - c.width), max(c.y - y, 0, y - c.y - c.height))
            assert border >= svg.MARK_CLEARANCE, f"a rename mark at {(x, y)} sits on the frame of {c.name}"


def test_default_direction_suits_a_notebook_cell(connection):
    assert auto_direction(chain(6)) == "LR"  # a short chain reads left to right, as in DataJoint
    wide = nx.DiGraph()
    for i in range(14):
        width, height = node_size(f"Lookup{i}", "lookup")
        wide.add_node(f"Lookup{i}", width=width, height=height, tier="lookup", label=f"Lookup{i}")
    assert auto_direction(wide) == "TB"  # side by side beats a tall column
    with dj.config.override(display__diagram_direction="TB"):
        assert dj.Diagram(connection=connection)._direction(None, chain(6)) == "TB"


def test_text_preview_width_options(schema):
    Animal, _ = declare_recordings(schema)
    assert "a" * 60 in Animal().preview(width=80)  # an explicit width is kept, however long the line
    assert "a" * 60 not in repr(Animal())
    with dj.config.override(display__width=70):
        assert "a" * 60 in repr(Animal())  # a display.width above 40 widens text columns
