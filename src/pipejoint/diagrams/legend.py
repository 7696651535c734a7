"""The diagram's legend: the tiers and the kinds of edges a diagram shows, and only those.

Beside a top-to-bottom diagram (which is tall, so a column adds little) and under a
left-to-right one (which is wide). Each entry is a small sample drawn in the diagram's own
style and a label.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from . import style
from .layout import MARGIN

TIER_LABELS = {
    "lookup": "Lookup",
    "manual": "Manual",
    "imported": "Imported",
    "computed": "Computed",
    "part": "Part",
    "collapsed": "schema, collapsed",
    None: "table without catalog",
}
EDGE_LABELS = {
    "primary": "foreign key in the primary key",
    "secondary": "secondary foreign key",
    "renamed": "renamed foreign key",
    "one_to_one": "one-to-one (the whole primary key)",
}
SAMPLE = 34  # width of a sample
ROW = 20  # height of an entry
FONT = 11
PAD = 8
GAP = 18  # between entries of a row


@dataclass
class Legend:
    svg: str
    right: float
    bottom: float


def entries(graph):
    """[(kind, key, label)] of what the graph shows: tiers first, then edge kinds."""
    tiers = {data.get("tier") if data.get("tier") in TIER_LABELS else None for _, data in graph.nodes(data=True)}
    result = [("tier", t, TIER_LABELS[t]) for t in TIER_LABELS if t in tiers]
    edges = [data for _, _, data in graph.edges(data=True)]
    present = {
        "primary": any(e.get("primary", True) and not e.get("one_to_one") for e in edges),
        "secondary": any(not e.get("primary", True) for e in edges),
        "renamed": any(e.get("aliased") for e in edges),
        "one_to_one": any(e.get("one_to_one") for e in edges),
    }
    result += [("edge", k, label) for k, label in EDGE_LABELS.items() if present[k]]
    return result


def legend(graph, layout):
    """The legend placed for the layout's direction (a Legend), or None when there is nothing to explain."""
    items = entries(graph)
    if not items:
        return None
    sizes = [SAMPLE + 6 + style.text_width(label, FONT) for _, _, label in items]
    if layout.direction == "TB":  # a column at the right
        x0, y0 = layout.width, MARGIN
        positions = [(x0 + PAD, y0 + PAD + i * ROW) for i in range(len(items))]
        width, height = 2 * PAD + max(sizes), 2 * PAD + len(items) * ROW
    else:  # under the diagram: a row of tiers, then a row of edge kinds, each wrapped at the diagram's width
        x0, y0 = MARGIN, layout.height
        limit = max(layout.width - 2 * MARGIN, 480)
        positions, x, y, widest = [], PAD, PAD, 0.0
        for index, size in enumerate(sizes):
            new_kind = index and items[index][0] != items[index - 1][0]
            if x > PAD and (new_kind or x + size > limit - PAD):
                x, y = PAD, y + ROW
            positions.append((x0 + x, y0 + y))
            x += size + GAP
            widest = max(widest, x - GAP)
        width, height = widest + PAD, y + ROW + PAD
    out = [
        '<g class="legend"><title>Legend</title>',
        f'<rect x="{x0:g}" y="{y0:g}" width="{width:g}" height="{height:g}" rx="4" fill="#FFFFFF" stroke="#D0D0D0"/>',
    ]
    for (kind, key, label), (x, y) in zip(items, positions):
        sample = _tier_sample(key, x, y) if kind == "tier" else _edge_sample(key, x, y)
        out.append(
            f'<g class="legend-item" data-kind="{kind}" data-key="{key or "unknown"}">{sample}'
            f'<text x="{x + SAMPLE + 6:g}" y="{y + ROW / 2:g}" dy="0.35em" font-size="{FONT}" '
            f'fill="#333333">{escape(label)}</text></g>'
        )
    out.append("</g>")
    return Legend("".join(out), x0 + width + MARGIN, y0 + height + MARGIN)


def _tier_sample(tier, x, y):
    look = style.tier_style(tier)
    h = 14
    radius = {"stadium": h / 2, "dot": h / 2, "small": 2}.get(look.shape, 4)
    return (
        f'<rect x="{x:g}" y="{y + (ROW - h) / 2:g}" width="{SAMPLE}" height="{h}" rx="{radius:g}" '
        f'fill="{look.fill}" stroke="{look.stroke}" stroke-width="1.2"/>'
    )


def _edge_sample(kind, x, y):
    mid = y + ROW / 2
    color = style.RENAMED_COLOR if kind == "renamed" else style.EDGE_COLOR
    width = 2.2 if kind == "one_to_one" else 1.1
    dash = ' stroke-dasharray="5,4"' if kind == "secondary" else ""
    line = f'<path d="M{x:g},{mid:g} L{x + SAMPLE:g},{mid:g}" stroke="{color}" stroke-width="{width}"{dash}/>'
    if kind == "renamed":
        line += f'<circle cx="{x + SAMPLE / 2:g}" cy="{mid:g}" r="3.5" fill="{color}"/>'
    return line
