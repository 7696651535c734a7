"""Graphviz output: a pydot graph in DataJoint's notation, and Graphviz's own layout as SVG.

Neither is needed for diagrams (the built-in layout draws SVG with no system package); they
are for users who prefer Graphviz's layout or want a .dot file.
"""

from __future__ import annotations

import shutil

from ..errors import DataJointError
from . import style

_DOT_SHAPES = {
    "box": ("box", "rounded,filled"),
    "stadium": ("ellipse", "filled"),
    "small": ("box", "rounded,filled"),
    "stack": ("box3d", "filled"),
    "dot": ("circle", "filled"),
}


def make_dot(graph, direction="TB"):
    try:
        import pydot
    except ImportError:
        raise DataJointError(
            "Diagram.make_dot() needs pydot: pip install pydot (and Graphviz to lay it out). "
            "make_svg() and make_mermaid() need neither."
        ) from None
    dot = pydot.Dot(graph_type="digraph", rankdir=direction, nodesep="0.3", ranksep="0.5")
    clusters = {}
    for name, data in graph.nodes(data=True):
        look = style.tier_style(data.get("tier"))
        shape, fill_style = _DOT_SHAPES[look.shape]
        node = pydot.Node(
            _quote(name),
            label=_quote(data.get("label", name)),
            shape=shape,
            style=fill_style,
            fillcolor=look.fill,
            color=look.stroke,
            fontcolor=look.text,
            fontsize=str(look.font_size),
            tooltip=_quote(data.get("title", name).replace("\n", "&#10;")),  # an entity: one line in DOT
            fontname="Helvetica",
        )
        dot.add_node(node)  # every node in the graph itself (get_nodes() lists them); clusters name them again
        cluster = data.get("cluster")
        if cluster is None or data.get("cluster_label") == "":
            continue
        if cluster not in clusters:
            clusters[cluster] = pydot.Cluster(
                f"c{len(clusters)}",
                label=_quote(data.get("cluster_label") or cluster),
                style="dashed",
                color=style.CLUSTER_STROKE,
                fontsize="12",
            )
            dot.add_subgraph(clusters[cluster])
        clusters[cluster].add_node(pydot.Node(_quote(name)))
    for parent, child, data in graph.edges(data=True):
        dot.add_edge(
            pydot.Edge(
                _quote(parent),
                _quote(child),
                arrowhead="none",
                style="solid" if data.get("primary", True) else "dashed",
                penwidth="2" if data.get("one_to_one") else "1",
                color=style.RENAMED_COLOR if data.get("aliased") else style.EDGE_COLOR,
                tooltip=_quote(data.get("title", "")),
            )
        )
    return dot


def graphviz_svg(graph, direction="TB"):
    """SVG laid out by Graphviz's `dot` program."""
    if shutil.which("dot") is None:
        raise DataJointError(
            "layout='graphviz' needs Graphviz's `dot` program, which is not installed (apt-get install graphviz, "
            "brew install graphviz or conda install graphviz). The default layout needs nothing."
        )
    return make_dot(graph, direction).create_svg().decode()


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
