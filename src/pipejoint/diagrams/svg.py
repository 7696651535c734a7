"""SVG output of a laid-out diagram: plain SVG 1.1 that browsers, Jupyter and cairosvg render.

Nodes are `<g class="node ...">` groups holding their shape and label, edges are `<path>`s in
`<g class="edge ...">`, schemas are dashed `<g class="cluster">` rectangles. Each group has a
`<title>`, so hovering shows a table's definition (as describe() prints it) or an edge's
foreign keys and renamed attributes. A legend (`<g class="legend">`) explains the tiers and edge
kinds the diagram uses: beside a top-to-bottom diagram, under a left-to-right one.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from xml.sax.saxutils import escape, quoteattr

from . import style
from .legend import legend as legend_for


def render(layout, graph, legend=True, marks=None):
    """The SVG text of `layout`; node and edge attributes come from `graph` (see diagram.py).
    `marks` {node name: {"fill", "badge", "href", "title"}} recolours nodes, adds a small note over
    them, makes them links and extends their hover text (the dashboard shows progress this way)."""
    marks = marks or {}
    key = legend_for(graph, layout) if legend and layout.boxes else None
    width, height = layout.width, layout.height
    if key is not None:
        width, height = max(width, key.right), max(height, key.bottom)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family={quoteattr(style.FONT_FAMILY)}>',
        f'<rect class="background" x="0" y="0" width="{width:g}" height="{height:g}" fill="#FFFFFF"/>',
    ]
    for cluster in layout.clusters:
        out.append(_cluster(cluster, layout.direction))
    for route in layout.routes:
        out.append(_edge(route, layout.direction, layout))
    for name, box in layout.boxes.items():
        out.append(_node(box, graph.nodes[name], marks.get(name)))
    if key is not None:
        out.append(key.svg)
    out.append("</svg>")
    return "\n".join(out)


def _cluster(cluster, direction):
    label_x = cluster.x + 8
    label_y = cluster.y + style.CLUSTER_LABEL_HEIGHT - 4
    label = _fit(cluster.label, cluster.width - 12, style.CLUSTER_FONT_SIZE)
    return (
        f'<g class="cluster"><title>{escape(cluster.name)}</title>'
        f'<rect x="{cluster.x:g}" y="{cluster.y:g}" width="{cluster.width:g}" height="{cluster.height:g}" rx="6" '
        f'fill="{style.CLUSTER_FILL}" stroke="{style.CLUSTER_STROKE}" stroke-dasharray="5,3"/>'
        f'<text class="cluster-label" x="{label_x:g}" y="{label_y:g}" font-size="{style.CLUSTER_FONT_SIZE}" '
        f'font-style="italic" fill="#555555">{escape(label)}</text></g>'
    )


def _fit(text, width, font_size):
    """The text, shortened with an ellipsis when it is wider than `width` (the title keeps it whole)."""
    if style.text_width(text, font_size) <= width:
        return text
    while text and style.text_width(text + "\u2026", font_size) > width:
        text = text[:-1]
    return text + "\u2026"


PARALLEL_GAP = 5  # px between the lines of two kinds of foreign key joining the same tables


def _edge(route, direction, layout):
    """One line per kind of foreign key between the two tables (a plain and a renamed one side by side)."""
    data = dict(route.data)
    data["title"] = data.get("title") or f"{route.source} \u2192 {route.target}"
    kinds = data.get("kinds") or [(data.get("aliased", False), data.get("primary", True))]
    if len(kinds) == 1:
        return _one_edge(route.points, data, direction, layout)
    drawn = []
    for index, (aliased, primary) in enumerate(kinds):
        shift = (index - (len(kinds) - 1) / 2) * PARALLEL_GAP
        points = [(x, y + shift) if direction == "LR" else (x + shift, y) for x, y in route.points]
        drawn.append(_one_edge(points, dict(data, aliased=aliased, primary=primary), direction, layout))
    return "".join(drawn)


def _one_edge(points, data, direction, layout):
    color = style.RENAMED_COLOR if data.get("aliased") else style.EDGE_COLOR
    width = 2.2 if data.get("one_to_one") else 1.1
    dash = "" if data.get("primary", True) else ' stroke-dasharray="5,4"'
    kinds = ["primary" if data.get("primary", True) else "secondary"]
    if data.get("aliased"):
        kinds.append("renamed")
    if data.get("one_to_one"):
        kinds.append("one-to-one")
    title = data["title"]
    parts = [
        f'<g class="edge {" ".join(kinds)}"><title>{escape(title)}</title>',
        f'<path d="{path_data(points, direction)}" fill="none" stroke="{color}" stroke-width="{width}"{dash}/>',
    ]
    if data.get("aliased"):
        x, y = mark_point(points, direction, layout)
        parts.append(f'<circle class="rename-mark" cx="{x:g}" cy="{y:g}" r="3.5" fill="{color}"/>')
    parts.append("</g>")
    return "".join(parts)


def path_data(points, direction):
    """Straight runs through layers, smooth S-curves across the gaps between layers."""
    (x0, y0), rest = points[0], points[1:]
    commands = [f"M{x0:g},{y0:g}"]
    previous = points[0]
    for x, y in rest:
        px, py = previous
        if abs(px - x) < 0.01 or abs(py - y) < 0.01:
            commands.append(f"L{x:g},{y:g}")
        elif direction == "LR":
            mid = (px + x) / 2
            commands.append(f"C{mid:g},{py:g} {mid:g},{y:g} {x:g},{y:g}")
        else:
            mid = (py + y) / 2
            commands.append(f"C{px:g},{mid:g} {x:g},{mid:g} {x:g},{y:g}")
        previous = (x, y)
    return " ".join(commands)


MARK_CLEARANCE = 7  # the least distance between a rename mark's center and a frame's border


def mark_point(points, direction, layout):
    """Where a renamed foreign key's mark sits: on the edge's path, in the middle of a stretch
    between layers when that is clear of every schema frame's border and every node, else the
    nearest clear point along the path (a frame's border may cross the middle of a gap)."""
    segments = list(itertools.pairwise(points))
    between = [seg for seg in segments if abs(seg[0][0] - seg[1][0]) > 0.01 and abs(seg[0][1] - seg[1][1]) > 0.01]
    ordered = between + sorted(segments, key=lambda seg: -math.dist(*seg))
    candidates = [curve_point(a, b, t, direction) for a, b in ordered for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)]
    for point in candidates:
        if _clear(point, layout):
            return point
    return candidates[0]


def curve_point(start, end, t, direction):
    """The point at parameter t of the path piece from start to end, as path_data draws it."""
    (px, py), (x, y) = start, end
    if abs(px - x) < 0.01 or abs(py - y) < 0.01:
        return px + (x - px) * t, py + (y - py) * t
    if direction == "LR":
        mid = (px + x) / 2
        controls = ((px, py), (mid, py), (mid, y), (x, y))
    else:
        mid = (py + y) / 2
        controls = ((px, py), (px, mid), (x, mid), (x, y))
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    return (
        round(sum(w * c[0] for w, c in zip(weights, controls)), 2),
        round(sum(w * c[1] for w, c in zip(weights, controls)), 2),
    )


def _clear(point, layout):
    x, y = point
    for c in layout.clusters:
        inside = c.x <= x <= c.x + c.width and c.y <= y <= c.y + c.height
        if inside:
            border = min(x - c.x, c.x + c.width - x, y - c.y, c.y + c.height - y)
        else:
            border = math.hypot(max(c.x - x, 0, x - c.x - c.width), max(c.y - y, 0, y - c.y - c.height))
        if border < MARK_CLEARANCE:
            return False
    return not any(
        b.x - 4 <= x <= b.x + b.width + 4 and b.y - 4 <= y <= b.y + b.height + 4 for b in layout.boxes.values()
    )


def _node(box, data, mark=None):
    tier = data.get("tier")
    look = style.tier_style(tier)
    mark = mark or {}
    if mark.get("fill"):
        look = dataclasses.replace(look, fill=mark["fill"])
    x, y, w, h = box.x, box.y, box.width, box.height
    radius = {"stadium": h / 2, "dot": h / 2, "small": 3}.get(look.shape, 5)
    shapes = []
    if look.shape == "stack":  # a collapsed schema: a small stack of boxes
        shapes.append(_rect(x + 4, y + 4, w - 4, h - 4, 4, look, "shape-back"))
        shapes.append(_rect(x, y, w - 4, h - 4, 4, look, "shape"))
        cx, cy = x + (w - 4) / 2, y + (h - 4) / 2
    else:
        shapes.append(_rect(x, y, w, h, radius, look, "shape"))
        cx, cy = x + w / 2, y + h / 2
    title = data.get("title") or data.get("label", box.name)
    if mark.get("title"):
        title = f"{title}\n{mark['title']}"
    label = escape(data.get("label", box.name))
    css_tier = tier or "unknown"
    if mark.get("badge"):
        shapes.append(
            f'<text class="badge" x="{x + w:g}" y="{y - 3:g}" text-anchor="end" font-size="9" '
            f'fill="#333333">{escape(mark["badge"])}</text>'
        )
    node = (
        f'<g class="node {css_tier}" data-name={quoteattr(box.name)}><title>{escape(title)}</title>'
        + "".join(shapes)
        + f'<text x="{cx:g}" y="{cy:g}" dy="0.35em" text-anchor="middle" font-size="{look.font_size:g}" '
        f'fill="{look.text}">{label}</text></g>'
    )
    return f"<a href={quoteattr(mark['href'])}>{node}</a>" if mark.get("href") else node


def _rect(x, y, w, h, radius, look, css):
    return (
        f'<rect class="{css}" x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="{radius:g}" '
        f'fill="{look.fill}" stroke="{look.stroke}" stroke-width="1.2"/>'
    )
