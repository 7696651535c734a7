"""Diagrams: the drawn graph and its algebra against real schemas, and the SVG/Mermaid output.

Layout quality (no overlapping boxes or labels, edges clear of nodes) is checked on the SVG's
own coordinates for generated pipelines of 5, 40 and 150 tables, and once on real schemas.
"""

import os
import random
import re
import subprocess
import sys
import textwrap
import types
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

import pipejoint as dj
from helpers import environment_for
from pipejoint.diagrams import mermaid, svg
from pipejoint.diagrams.layout import layered_layout
from pipejoint.diagrams.style import node_size, text_width
from pipejoint.errors import DataJointError

SVG_NS = "{http://www.w3.org/2000/svg}"


# --- geometry read back from the SVG ---
def svg_geometry(text):
    """Node boxes, node labels, cluster rects, cluster label boxes and edge paths from SVG text."""
    root = ET.fromstring(text)  # well-formed XML or it raises
    assert root.tag == SVG_NS + "svg"
    nodes, clusters, cluster_labels, paths = {}, [], [], []
    for group in root.iter(SVG_NS + "g"):
        kind = group.get("class", "").split()
        if kind[:1] == ["node"]:
            rects = [_rect(r) for r in group.findall(SVG_NS + "rect")]
            x0 = min(r[0] for r in rects)
            y0 = min(r[1] for r in rects)
            x1 = max(r[0] + r[2] for r in rects)
            y1 = max(r[1] + r[3] for r in rects)
            label = group.find(SVG_NS + "text")
            nodes[group.get("data-name")] = ((x0, y0, x1 - x0, y1 - y0), label.text, float(label.get("font-size")))
        elif kind[:1] == ["cluster"]:
            rect = _rect(group.find(SVG_NS + "rect"))
            clusters.append(rect)
            label = group.find(SVG_NS + "text")
            size = float(label.get("font-size"))
            cluster_labels.append(
                (float(label.get("x")), float(label.get("y")) - size, text_width(label.text, size), size * 1.3)
            )
        elif kind[:1] == ["edge"]:
            paths.append(group.find(SVG_NS + "path").get("d"))
    return nodes, clusters, cluster_labels, paths


def _rect(element):
    return tuple(float(element.get(k)) for k in ("x", "y", "width", "height"))


def _overlap(a, b, eps=0.01):
    x_overlap = a[0] < b[0] + b[2] - eps and b[0] < a[0] + a[2] - eps
    return x_overlap and a[1] < b[1] + b[3] - eps and b[1] < a[1] + a[3] - eps


def _segment_hits(p, q, box, eps=0.5):
    """Whether segment p-q enters the interior of box (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = box[0] + eps, box[1] + eps, box[0] + box[2] - eps, box[1] + box[3] - eps
    dx, dy = q[0] - p[0], q[1] - p[1]
    low, high = 0.0, 1.0
    for a, b in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if a == 0:
            if b < 0:
                return False
            continue
        t = b / a
        if a < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def edge_pieces(d):
    """(kind, points) for each piece of an SVG path: straight lines, and curves as their control points."""
    tokens = re.findall(r"[MLC]|-?[\d.]+(?:e-?\d+)?", d)
    pieces, current, i = [], None, 0
    while i < len(tokens):
        command = tokens[i]
        count = {"M": 1, "L": 1, "C": 3}[command]
        points = [(float(tokens[i + 1 + 2 * k]), float(tokens[i + 2 + 2 * k])) for k in range(count)]
        if command == "L":
            pieces.append(("line", [current, points[0]]))
        elif command == "C":
            pieces.append(("curve", [current] + points))
        current = points[-1]
        i += 1 + 2 * count
    return pieces


def assert_readable(text):
    """No overlapping node boxes or labels, labels fit their boxes, edges never cross a node's interior."""
    nodes, clusters, cluster_labels, paths = svg_geometry(text)
    boxes = [box for box, _, _ in nodes.values()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), f"node boxes overlap: {a} {b}"
    for box, label, size in nodes.values():
        assert text_width(label, size) <= box[2], f"label {label!r} is wider than its box"
    for i, a in enumerate(clusters):
        for b in clusters[i + 1 :]:
            assert not _overlap(a, b), f"schema frames overlap: {a} {b}"
    for label_box, frame in zip(cluster_labels, clusters):
        assert not any(_overlap(label_box, box) for box in boxes), "a schema label covers a node"
        assert label_box[0] + label_box[2] <= frame[0] + frame[2], "a schema label sticks out of its frame"
    for d in paths:
        pieces = edge_pieces(d)
        start, end = pieces[0][1][0], pieces[-1][1][-1]
        for kind, points in pieces:
            if kind == "line":
                hits = [b for b in boxes if _segment_hits(points[0], points[1], b)]
            else:  # a Bezier curve lies inside the bounding box of its control points
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                hull = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
                hits = [b for b in boxes if _overlap(hull, b, eps=0.5)]
            own = [b for b in hits if _touches(b, start) or _touches(b, end)]
            assert len(hits) == len(own), f"edge {d[:60]}... passes through a node"
    return nodes


def _touches(box, point, eps=0.6):
    return box[0] - eps <= point[0] <= box[0] + box[2] + eps and box[1] - eps <= point[1] <= box[1] + box[3] + eps


# --- generated pipelines (no database) ---
def generated_pipeline(n_tables, n_schemas, seed):
    """A pipeline-shaped DAG: tiers, parts next to masters, cross-schema and renamed references."""
    rng = random.Random(seed)
    graph = nx.DiGraph()
    names = []
    for i in range(n_tables):
        schema = f"schema_{i * n_schemas // n_tables}"
        tier = ["lookup", "manual", "manual"][i] if i < 3 else rng.choice(["lookup", "manual", "imported", "computed"])
        master = (
            names[-1]
            if names and rng.random() < 0.25 and graph.nodes[names[-1]]["tier"] in ("imported", "computed")
            else None
        )
        label = f"{'Master' if master else 'Table'}{i}{'.Part' if master else ''}" + "x" * rng.randint(0, 14)
        tier = "part" if master else tier
        name = f"`{schema}`.`t{i}`"
        width, height = node_size(label, tier)
        graph.add_node(
            name,
            width=width,
            height=height,
            cluster=schema,
            cluster_label=schema,
            tier=tier,
            label=label,
            schema=schema,
        )
        if master:
            graph.add_edge(master, name, primary=True, one_to_one=False)
        elif names and tier != "lookup":
            recent = names[-10:]
            for parent in rng.sample(recent, min(len(recent), rng.randint(1, 3))):
                graph.add_edge(parent, name, primary=rng.random() < 0.7, aliased=rng.random() < 0.1)
            if rng.random() < 0.3:
                graph.add_edge(rng.choice(names), name, primary=False)
        names.append(name)
    return graph


@pytest.mark.parametrize("n_tables,n_schemas", [(5, 1), (40, 3), (150, 6)])
@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_generated_pipelines_render_readably(n_tables, n_schemas, direction):
    graph = generated_pipeline(n_tables, n_schemas, seed=n_tables)
    text = svg.render(layered_layout(graph, direction), graph)
    nodes = assert_readable(text)
    assert set(nodes) == set(graph.nodes)
    assert text.count('class="edge') == graph.number_of_edges()
    frames = ET.fromstring(text).findall(f"{SVG_NS}g[@class='cluster']")
    assert sorted(f.find(SVG_NS + "title").text for f in frames) == sorted({f"schema_{k}" for k in range(n_schemas)})


def test_layout_flows_in_the_configured_direction():
    graph = generated_pipeline(40, 3, seed=7)
    for direction, axis in (("TB", 1), ("LR", 0)):
        layout = layered_layout(graph, direction)
        for parent, child in graph.edges:
            assert layout.boxes[parent].center[axis] < layout.boxes[child].center[axis]


def test_barycenter_ordering_removes_avoidable_crossings():
    # two independent chains given in an interleaved, crossing order
    graph = nx.DiGraph()
    for a, b in (("a1", "b2"), ("a2", "b1"), ("b1", "c2"), ("b2", "c1")):
        graph.add_edge(a, b)
    for node in graph.nodes:
        graph.nodes[node].update(width=60, height=30)
    layout = layered_layout(graph)
    x = {n: b.center[0] for n, b in layout.boxes.items()}
    for (p, c), (q, d) in ((("a1", "b2"), ("a2", "b1")), (("b1", "c2"), ("b2", "c1"))):
        assert (x[p] - x[q]) * (x[c] - x[d]) > 0, "edges cross although they need not"


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_long_schema_names_fit_their_frames(direction):
    graph = nx.DiGraph()
    long_name = "a_schema_with_a_rather_long_descriptive_name"
    graph.add_node("x", width=40, height=30, cluster=long_name, label="X", tier="manual")
    graph.add_node("y", width=40, height=30, cluster="short", label="Y", tier="manual")
    graph.add_edge("x", "y")
    text = svg.render(layered_layout(graph, direction), graph)
    assert_readable(text)
    shown = [t.text for t in ET.fromstring(text).iter(SVG_NS + "text") if t.get("class") == "cluster-label"]
    assert (long_name in shown) == (direction == "TB")  # LR shortens it with an ellipsis; the title keeps it


def test_layout_survives_cycles_from_collapsed_schemas():
    graph = nx.DiGraph([("A", "B"), ("B", "A"), ("B", "C")])
    for node in graph.nodes:
        graph.nodes[node].update(width=50, height=30, tier="collapsed", label=node)
    assert_readable(svg.render(layered_layout(graph), graph))


def test_mermaid_structure_of_generated_pipeline():
    graph = generated_pipeline(40, 3, seed=3)
    check_mermaid(mermaid.render(graph, "LR"), graph, "LR")


def check_mermaid(text, graph, direction="TB"):
    """A structural parse of the flowchart: header, balanced subgraphs, declared nodes, valid links."""
    lines = [line.strip() for line in text.strip().splitlines()]
    assert lines[0] == f"flowchart {direction}"
    depth, declared, links, classes, renamed = 0, {}, [], set(), set()
    node = re.compile(r'^(n\d+)(\("|\(\["|\["|\[\["|\(\(")([^"]*)("\)|"\]\)|"\]|"\]\]|"\)\)):::(\w+)$')
    for line in lines[1:]:
        if line.startswith("classDef "):
            classes.add(line.split()[1])
        elif line.startswith("subgraph "):
            assert re.match(r'^subgraph s\d+\["[^"]+"\]$', line)
            depth += 1
        elif line == "end":
            depth -= 1
            assert depth >= 0
        elif line.startswith("linkStyle "):
            renamed = {int(i) for i in line.split()[1].split(",")}
        elif node.match(line):
            name, _, label, _, tier = node.match(line).groups()
            assert tier in classes and name not in declared
            declared[name] = label
        else:
            match = re.match(r"^(n\d+) (---|===|-\.-) (n\d+)$", line)
            assert match, f"not a Mermaid statement: {line!r}"
            links.append(match.groups())
    assert depth == 0
    assert all(a in declared and b in declared for a, _, b in links)
    assert sorted(declared.values()) == sorted(graph.nodes[n].get("label", n).replace('"', "#quot;") for n in graph)
    assert len(links) == graph.number_of_edges()
    assert len(renamed) == sum(1 for *_, d in graph.edges(data=True) if d.get("aliased"))
    assert all(i < len(links) for i in renamed)
    return declared, links


# --- real schemas ---
def declare_pipeline(schema):
    """Lookup, Manual (with a renamed, secondary FK), Imported, Computed with a Part."""

    @schema
    class Species(dj.Lookup):
        definition = """
        species : varchar(24)
        """
        contents = [("mouse",)]

    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : uint16
        ---
        -> Species
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : uint8
        ---
        -> [nullable] Subject.proj(partner_id='subject_id')
        """

    @schema
    class Recording(dj.Imported):
        definition = """
        -> Session
        ---
        rate : float64
        """

    @schema
    class Stats(dj.Computed):
        definition = """
        -> Recording
        ---
        total : uint32
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : uint8
            """

    return types.SimpleNamespace(Species=Species, Subject=Subject, Session=Session, Recording=Recording, Stats=Stats)


def test_diagram_graph_matches_schema(schema):
    t = declare_pipeline(schema)
    graph = dj.Diagram(schema).graph
    names = {cls: cls().node_name for cls in (t.Species, t.Subject, t.Session, t.Recording, t.Stats, t.Stats.Channel)}
    assert set(graph.nodes) == set(names.values())
    tiers = {graph.nodes[names[c]]["tier"] for c in (t.Species, t.Subject, t.Recording, t.Stats, t.Stats.Channel)}
    assert tiers == {"lookup", "manual", "imported", "computed", "part"}
    assert graph.nodes[names[t.Stats.Channel]]["label"] == "Stats.Channel"
    edges = {(a, b): d for a, b, d in graph.edges(data=True)}
    assert set(edges) == {
        (names[t.Species], names[t.Subject]),
        (names[t.Subject], names[t.Session]),
        (names[t.Session], names[t.Recording]),
        (names[t.Recording], names[t.Stats]),
        (names[t.Stats], names[t.Stats.Channel]),
    }
    assert not edges[names[t.Species], names[t.Subject]]["primary"]
    session_fk = edges[names[t.Subject], names[t.Session]]
    assert session_fk["primary"] and session_fk["aliased"] and "partner_id \u2190 subject_id" in session_fk["title"]
    assert edges[names[t.Session], names[t.Recording]]["one_to_one"]
    assert not edges[names[t.Stats], names[t.Stats.Channel]]["one_to_one"]

    text = dj.Diagram(schema).make_svg()
    assert text._repr_svg_() == str(text)
    nodes = assert_readable(text)
    assert {label for _, label, _ in nodes.values()} >= {"Species", "Stats.Channel"}
    svg_root = ET.fromstring(text)
    renamed = [g for g in svg_root.iter(SVG_NS + "g") if "renamed" in g.get("class", "").split()]
    assert len(renamed) == 1 and renamed[0].find(SVG_NS + "circle") is not None
    dashed = [g for g in svg_root.iter(SVG_NS + "g") if "secondary" in g.get("class", "").split()]
    # Species -> Subject, and the renamed partner_id beside Session's own reference to Subject
    assert len(dashed) == 2 and all(g.find(SVG_NS + "path").get("stroke-dasharray") for g in dashed)
    check_mermaid(dj.Diagram(schema).make_mermaid(direction="TB"), graph)


def test_diagram_algebra(schema):
    t = declare_pipeline(schema)
    node = {cls: cls().node_name for cls in (t.Species, t.Subject, t.Session, t.Recording, t.Stats, t.Stats.Channel)}
    session = dj.Diagram(t.Session)
    assert session.nodes_to_show == {node[t.Session]}
    assert (session + 1).nodes_to_show == {node[t.Session], node[t.Recording]}
    assert (session + 2).nodes_to_show == {node[t.Session], node[t.Recording], node[t.Stats]}
    assert (session - 1).nodes_to_show == {node[t.Session], node[t.Subject]}
    assert (session - 5).nodes_to_show == {node[t.Session], node[t.Subject], node[t.Species]}
    # + n then - n is not - n then + n
    assert (dj.Diagram(t.Subject) + 1 - 1).nodes_to_show == {node[t.Subject], node[t.Session], node[t.Species]}
    assert (dj.Diagram(t.Subject) - 1 + 1).nodes_to_show == {node[t.Subject], node[t.Session], node[t.Species]}
    assert (dj.Diagram(t.Species) + 1 - 1).nodes_to_show == {node[t.Species], node[t.Subject]}
    assert (dj.Diagram(t.Species) - 1 + 1).nodes_to_show == {node[t.Species], node[t.Subject]}
    whole = dj.Diagram(schema)
    assert (dj.Diagram(t.Subject) + dj.Diagram(t.Stats)).nodes_to_show == {node[t.Subject], node[t.Stats]}
    assert (dj.Diagram(t.Subject) + t.Stats).nodes_to_show == {node[t.Subject], node[t.Stats]}
    assert ((session - 2) * (session + 2)).nodes_to_show == {node[t.Session]}
    assert (whole - dj.Diagram(t.Recording)).nodes_to_show == set(node.values()) - {node[t.Recording]}
    assert (whole - t.Recording - t.Stats).nodes_to_show == set(node.values()) - {node[t.Recording], node[t.Stats]}
    assert dj.Diagram(t.Stats).add_parts().nodes_to_show == {node[t.Stats], node[t.Stats.Channel]}
    assert dj.ERD is dj.Diagram and dj.Di is dj.Diagram
    pair = dj.Diagram([t.Subject, t.Session])
    assert (
        pair.nodes_to_show
        == dj.Diagram.from_sequence([t.Subject, t.Session]).nodes_to_show
        == {node[t.Subject], node[t.Session]}
    )
    assert [table.table_name for table in (session - 5)] == ["#species", "subject", "session"]
    assert t.Session in session and t.Stats not in session
    # the drawn graph follows the algebra
    assert set((session + 1).graph.edges) == {(node[t.Session], node[t.Recording])}

    @schema
    class Note(dj.Manual):
        definition = """
        -> t.Session
        note_id : uint8
        """

    # tables declared after a diagram was made are found by its algebra
    assert Note().node_name in (session + 1).nodes_to_show


def test_collapse_and_cross_schema(make_schema):
    upstream = make_schema()
    t = declare_pipeline(upstream)  # noqa: F841 (the definition below refers to it by name)
    downstream = make_schema()

    @downstream
    class Analysis(dj.Computed):
        definition = """
        -> t.Recording
        ---
        score : float64
        """

    both = dj.Diagram(upstream) + dj.Diagram(downstream)
    assert len(both) == 7 and Analysis().node_name in both.graph
    text = both.make_svg()
    assert_readable(text)
    frames = [
        g.find(SVG_NS + "title").text for g in ET.fromstring(text).iter(SVG_NS + "g") if g.get("class") == "cluster"
    ]
    assert sorted(frames) == sorted([upstream.database, downstream.database])

    collapsed = dj.Diagram(upstream).collapse() + dj.Diagram(downstream)
    graph = collapsed.graph
    group = f"`{upstream.database}`.*"
    assert set(graph.nodes) == {group, Analysis().node_name}
    assert graph.nodes[group]["tier"] == "collapsed"
    assert graph.nodes[group]["label"] == f"{upstream.database} (6 tables)"
    assert set(graph.edges) == {(group, Analysis().node_name)}
    assert_readable(collapsed.make_svg())
    # expanded wins in a union; collapsing one named schema leaves the other
    assert set((collapsed + dj.Diagram(upstream)).graph.nodes) == set(both.graph.nodes)
    assert set(both.collapse(downstream).graph.nodes) == set(dj.Diagram(upstream).graph.nodes) | {
        f"`{downstream.database}`.*"
    }
    with pytest.raises(DataJointError, match="Cannot collapse schema nowhere"):
        both.collapse("nowhere")


def test_diagram_of_module_and_saving(schema, tmp_path):
    t = declare_pipeline(schema)
    module = types.ModuleType("lab_pipeline")
    module.schema = schema
    module.Subject = t.Subject
    diagram = dj.Diagram(module)
    assert len(diagram) == 6
    assert "<svg" in diagram._repr_svg_() and diagram._repr_html_().startswith("<div")
    nodes, *_ = svg_geometry(diagram.save(tmp_path / "p.svg").read_text())
    assert len(nodes) == 6
    mermaid_text = diagram.save(tmp_path / "p.mmd").read_text()
    check_mermaid(mermaid_text, diagram.graph, mermaid_text.split()[1])
    with dj.config.override(display__diagram_direction="TB"):
        assert diagram.make_mermaid().startswith("flowchart TB")
    with dj.config.override(display__diagram_direction="LR"):
        assert diagram.make_mermaid().startswith("flowchart LR")
        assert_readable(diagram.make_svg())
    labelled = dj.Diagram(schema, context={"lab": module})
    assert labelled.graph.nodes[t.Subject().node_name]["label"] == "lab.Subject"
    virtual = dj.VirtualModule("virtual_lab", schema.database, connection=schema.connection)
    assert dj.Diagram(virtual).nodes_to_show == diagram.nodes_to_show


def test_png_output_or_clear_error(schema, tmp_path):
    declare_pipeline(schema)
    diagram = dj.Diagram(schema)
    target = tmp_path / "p.png"
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):
        with pytest.raises(DataJointError, match="pip install cairosvg"):
            diagram.save(target)
        assert not target.exists()
        return
    assert diagram.save(target).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_matplotlib_and_graphviz_or_clear_errors(schema):
    import shutil

    declare_pipeline(schema)
    diagram = dj.Diagram(schema)
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        with pytest.raises(DataJointError, match="pip install matplotlib"):
            diagram.draw()
    else:
        figure = diagram.draw()
        assert len(figure.axes[0].patches) >= 6
    try:
        import pydot  # noqa: F401
    except ImportError:
        with pytest.raises(DataJointError, match="pip install pydot"):
            diagram.make_dot()
        return
    graph = diagram.make_dot()
    dot = graph.to_string()
    assert "Stats.Channel" in dot and "dashed" in dot
    labels = {n.get("label") for n in graph.get_nodes()}  # every table is a node of the graph itself
    assert '"Stats.Channel"' in labels and len(labels) >= 6
    assert graph.get_subgraphs() and all(not n.get("label") for c in graph.get_subgraphs() for n in c.get_nodes())
    if shutil.which("dot") is None:
        with pytest.raises(DataJointError, match="install graphviz"):
            diagram.make_svg(layout="graphviz")
    else:
        assert ET.fromstring(diagram.make_svg(layout="graphviz").encode()).tag == SVG_NS + "svg"


def test_diagram_errors(schema, tmp_path, connection):
    declare_pipeline(schema)
    with pytest.raises(DataJointError, match="cannot draw 'str'"):
        dj.Diagram("lab")
    with pytest.raises(DataJointError, match="needs something to draw"):
        dj.Diagram()
    with pytest.raises(DataJointError, match="not activated"):
        dj.Diagram(dj.Schema())
    with pytest.raises(DataJointError, match="holds no activated dj.Schema"):
        dj.Diagram(types.ModuleType("empty"))
    diagram = dj.Diagram(schema)
    with pytest.raises(DataJointError, match=r"'p\.txt'.*\.svg, \.png, \.mmd"):
        diagram.save(tmp_path / "p.txt")
    assert not (tmp_path / "p.txt").exists()
    with pytest.raises(DataJointError, match="does not exist"):
        diagram.save(tmp_path / "missing" / "p.svg")
    with pytest.raises(DataJointError, match="intersection"):
        diagram * 2
    with dj.config.override(display__diagram_direction="sideways"):
        with pytest.raises(DataJointError, match="display.diagram_direction"):
            diagram.make_svg()

    class Loose(dj.Manual):
        definition = "x : int32"

    with pytest.raises(DataJointError, match="not associated with a schema"):
        dj.Diagram(Loose)


def test_command_line_diagram(schema, settings, tmp_path):
    pipeline = tmp_path / "my_pipeline.py"
    pipeline.write_text(
        textwrap.dedent(f"""
        import pipejoint as dj
        schema = dj.Schema({schema.database!r})

        @schema
        class Animal(dj.Manual):
            definition = "animal : int32"

        @schema
        class Weighing(dj.Imported):
            definition = '''
            -> Animal
            ---
            grams : float64
            '''
    """)
    )
    env = {**os.environ, **environment_for(settings)}
    output = tmp_path / "pipeline.svg"
    run = subprocess.run(
        [sys.executable, "-m", "pipejoint.cli", "diagram", str(pipeline), "-o", str(output)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    nodes, *_ = svg_geometry(output.read_text())
    assert sorted(label for _, label, _ in nodes.values()) == ["Animal", "Weighing"]
    missing = subprocess.run(
        [sys.executable, "-m", "pipejoint.cli", "diagram", "no_such_pipeline_module"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert missing.returncode == 1 and "Cannot import pipeline module `no_such_pipeline_module`" in missing.stderr


def test_demo_writes_its_diagram(tmp_path):
    """`pipejoint demo` (SQLite by design) leaves demo_pipeline.svg next to its database."""
    env = {**os.environ, "DJ_DIAGRAM_DIRECTION": "LR"}
    run = subprocess.run(
        [sys.executable, "-m", "pipejoint.cli", "demo", "--db", str(tmp_path / "demo.db")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    nodes = assert_readable((tmp_path / "demo_pipeline.svg").read_text())
    labels = {label for _, label, _ in nodes.values()}
    assert labels == {"Species", "Subject", "Session", "Recording", "SpikeStats", "SpikeStats.Channel"}
    boxes = {label: box for box, label, _ in nodes.values()}
    assert boxes["Subject"][0] < boxes["Session"][0] < boxes["Recording"][0]  # left to right, from DJ_DIAGRAM_DIRECTION


def test_two_foreign_keys_to_one_parent_are_two_edges(schema):
    """A table that refers to one parent twice (renamed) has two edges to it, in the dependency graph
    and in the diagram, counted by full table names as DataJoint counts them."""

    @schema
    class Cell(dj.Manual):
        definition = """
        cell : int32
        """

    @schema
    class Synapse(dj.Manual):
        definition = """
        -> Cell.proj(pre='cell')
        -> Cell.proj(post='cell')
        """

    dependencies = schema.connection.dependencies
    dependencies.load()
    assert dependencies.number_of_edges(Cell.full_table_name, Synapse.full_table_name) == 2
    assert dj.Diagram(schema).number_of_edges(Cell.full_table_name, Synapse.full_table_name) == 2
    assert dependencies.number_of_edges(Synapse.full_table_name, Cell.full_table_name) == 0


def test_a_plain_and_a_renamed_foreign_key_to_one_parent_are_drawn_side_by_side(schema):
    """Two kinds of reference between the same tables (the key's own, and a renamed secondary one)
    are two lines, not one drawn over the other."""

    @schema
    class Animal(dj.Manual):
        definition = """
        animal : int32
        """

    @schema
    class Mating(dj.Manual):
        definition = """
        -> Animal
        mating : int16
        ---
        -> [nullable] Animal.proj(partner='animal')
        """

    root = ET.fromstring((dj.Diagram(Animal) + dj.Diagram(Mating)).svg_string(legend=False))
    edges = [g for g in root.iter(SVG_NS + "g") if g.get("class", "").split()[:1] == ["edge"]]
    kinds = sorted(tuple(g.get("class").split()[1:]) for g in edges)
    assert kinds == [("primary",), ("secondary", "renamed")]
    paths = [g.find(SVG_NS + "path").get("d") for g in edges]
    assert paths[0] != paths[1]  # apart, not on top of each other


def test_marks_colour_note_and_link_nodes(schema):
    """make_svg(marks=...): a node recoloured, with a note over it, extra hover text, opening a link
    (the dashboard shows populate progress this way); unmarked nodes stay as they were."""

    @schema
    class Mouse(dj.Manual):
        definition = """
        mouse : int32
        """

    @schema
    class Weight(dj.Manual):
        definition = """
        -> Mouse
        ---
        grams : float64
        """

    plain = dj.Diagram(schema).make_svg()
    marked = dj.Diagram(schema).make_svg(
        marks={Weight: {"fill": "#ABCDEF", "badge": "3/4", "href": "/w", "title": "3 made"}}
    )
    root = ET.fromstring(marked)
    ns = {"s": "http://www.w3.org/2000/svg"}
    links = root.findall(".//s:a", ns)
    assert [a.get("href") for a in links] == ["/w"]
    node = links[0].find("s:g", ns)
    assert node.find("s:rect", ns).get("fill") == "#ABCDEF"
    assert node.find("s:text[@class='badge']", ns).text == "3/4"
    assert node.find("s:title", ns).text.endswith("\n3 made")
    assert len(root.findall(".//s:text[@class='badge']", ns)) == 1  # Mouse has none
    assert marked.count('<g class="node') == plain.count('<g class="node')
