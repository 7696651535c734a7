"""Mermaid flowchart text: renders on GitHub, GitLab, in Jupyter with mermaid support, and in docs.

Schemas become subgraphs, tiers become classes (DataJoint's colors), primary foreign keys
solid links (thick when one-to-one), secondary ones dotted, renamed ones amber.
"""

from __future__ import annotations

from . import style

_SHAPES = {
    "box": ('("', '")'),
    "stadium": ('(["', '"])'),
    "small": ('["', '"]'),
    "stack": ('[["', '"]]'),
    "dot": ('(("', '"))'),
}


def render(graph, direction="TB"):
    ids = {name: f"n{index}" for index, name in enumerate(sorted(graph.nodes))}
    lines = [f"flowchart {direction}"]
    for tier, look in style.TIERS.items():
        name = tier or "unknown"
        size = ",font-size:11px" if look.shape in ("small", "dot") else ""
        lines.append(f"    classDef {name} fill:{look.fill},stroke:{look.stroke},color:{look.text}{size}")
    groups = {}
    for name, data in graph.nodes(data=True):
        groups.setdefault(data.get("schema"), []).append(name)
    for index, (schema, names) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        indent = "    "
        if schema is not None:
            lines.append(f'    subgraph s{index}["{_text(schema)}"]')
            indent = "        "
        for name in sorted(names):
            data = graph.nodes[name]
            tier = data.get("tier")
            opening, closing = _SHAPES[style.tier_style(tier).shape]
            label = _text(data.get("label", name))
            lines.append(f"{indent}{ids[name]}{opening}{label}{closing}:::{tier or 'unknown'}")
        if schema is not None:
            lines.append("    end")
    renamed = []
    for number, (parent, child, data) in enumerate(sorted(graph.edges(data=True), key=lambda e: (e[0], e[1]))):
        if not data.get("primary", True):
            link = "-.-"
        else:
            link = "===" if data.get("one_to_one") else "---"
        lines.append(f"    {ids[parent]} {link} {ids[child]}")
        if data.get("aliased"):
            renamed.append(str(number))
    if renamed:
        lines.append(f"    linkStyle {','.join(renamed)} stroke:{style.RENAMED_COLOR},stroke-width:2px")
    return "\n".join(lines) + "\n"


def _text(text):
    """Mermaid-safe label text (quotes and angle brackets as entity codes)."""
    return str(text).replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
