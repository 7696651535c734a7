"""Drawing a laid-out diagram on a matplotlib figure (matplotlib is an optional install)."""

from __future__ import annotations

from . import style


def draw(layout, graph, ax=None):
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Rectangle

    scale = 1 / 72  # points to inches
    if ax is None:
        figure, ax = plt.subplots(figsize=(max(layout.width * scale, 2), max(layout.height * scale, 2)))
    else:
        figure = ax.figure
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)  # SVG coordinates: y grows downwards
    ax.set_axis_off()
    for cluster in layout.clusters:
        ax.add_patch(
            Rectangle(
                (cluster.x, cluster.y),
                cluster.width,
                cluster.height,
                fill=True,
                facecolor=style.CLUSTER_FILL,
                edgecolor=style.CLUSTER_STROKE,
                linestyle="--",
            )
        )
        ax.text(cluster.x + 8, cluster.y + 12, cluster.label, fontsize=9, style="italic", color="#555555")
    for route in layout.routes:
        data = route.data
        xs, ys = zip(*route.points)
        ax.plot(
            xs,
            ys,
            color=style.RENAMED_COLOR if data.get("aliased") else style.EDGE_COLOR,
            linestyle="-" if data.get("primary", True) else "--",
            linewidth=2 if data.get("one_to_one") else 1,
        )
    for name, box in layout.boxes.items():
        data = graph.nodes[name]
        look = style.tier_style(data.get("tier"))
        radius = box.height / 2 if look.shape in ("stadium", "dot") else 4
        ax.add_patch(
            FancyBboxPatch(
                (box.x, box.y),
                box.width,
                box.height,
                boxstyle=f"round,pad=0,rounding_size={radius}",
                facecolor=look.fill,
                edgecolor=look.stroke,
            )
        )
        cx, cy = box.center
        ax.text(
            cx, cy, data.get("label", name), ha="center", va="center", fontsize=look.font_size * 0.75, color=look.text
        )
    return figure
