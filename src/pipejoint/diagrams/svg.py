"""SVG output of a laid-out diagram: plain SVG 1.1 that browsers, Jupyter and cairosvg render.

Nodes are `<g class="node ...">` groups holding their shape and label, edges are `<path>`s in
`<g class="edge ...">`, schemas are dashed `<g class="cluster">` rectangles. Each group has a
`<title>`, so hovering shows the table's full name or an edge's renamed attributes.
"""

from __future__ import annotations

import itertools
from xml.sax.saxutils import escape, quoteattr

from . import style


def render(layout, graph):
    """The SVG text of `layout`; node and edge attributes come from `graph` (see diagram.py)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:g}" height="{layout.height:g}" '
        f'viewBox="0 0 {layout.width:g} {layout.height:g}" font-family={quoteattr(style.FONT_FAMILY)}>',
        f'<rect class="background" x="0" y="0" width="{layout.width:g}" height="{layout.height:g}" fill="#FFFFFF"/>',
    ]
    for cluster in layout.clusters:
        out.append(_cluster(cluster, layout.direction))
    for route in layout.routes:
        out.append(_edge(route, layout.direction))
    for name, box in layout.boxes.items():
        out.append(_node(box, graph.nodes[name]))
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


def _edge(route, direction):
    data = route.data
    color = style.RENAMED_COLOR if data.get("aliased") else style.EDGE_COLOR
    width = 2.2 if data.get("one_to_one") else 1.1
    dash = "" if data.get("primary", True) else ' stroke-dasharray="5,4"'
    kinds = ["primary" if data.get("primary", True) else "secondary"]
    if data.get("aliased"):
        kinds.append("renamed")
    if data.get("one_to_one"):
        kinds.append("one-to-one")
    title = data.get("title") or f"{route.source} \u2192 {route.target}"
    parts = [
        f'<g class="edge {" ".join(kinds)}"><title>{escape(title)}</title>',
        f'<path d="{path_data(route.points, direction)}" fill="none" stroke="{color}" stroke-width="{width}"{dash}/>',
    ]
    if data.get("aliased"):
        x, y = _gap_midpoint(route.points)
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


def _gap_midpoint(points):
    """The middle of the first segment between layers (never inside a node)."""
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        if abs(x1 - x2) > 0.01 and abs(y1 - y2) > 0.01:
            return (x1 + x2) / 2, (y1 + y2) / 2
    (x1, y1), (x2, y2) = points[len(points) // 2 - 1], points[len(points) // 2]
    return (x1 + x2) / 2, (y1 + y2) / 2


def _node(box, data):
    tier = data.get("tier")
    look = style.tier_style(tier)
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
    label = escape(data.get("label", box.name))
    css_tier = tier or "unknown"
    return (
        f'<g class="node {css_tier}" data-name={quoteattr(box.name)}><title>{escape(title)}</title>'
        + "".join(shapes)
        + f'<text x="{cx:g}" y="{cy:g}" dy="0.35em" text-anchor="middle" font-size="{look.font_size:g}" '
        f'fill="{look.text}">{label}</text></g>'
    )


def _rect(x, y, w, h, radius, look, css):
    return (
        f'<rect class="{css}" x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="{radius:g}" '
        f'fill="{look.fill}" stroke="{look.stroke}" stroke-width="1.2"/>'
    )
