"""A layered (Sugiyama-style) layout in pure Python, so diagrams need no Graphviz.

Steps: break cycles (only collapsed graphs can have them), assign layers by topological
depth, split long edges with dummy nodes, order each layer by barycenter sweeps (keeping
every schema's nodes together), place nodes inside their schema's band, pack the bands
like a skyline, and route edges through the gaps between layers. Coordinates are computed
along two axes, `u` (within a layer) and `v` (across layers), then mapped to x/y for the
direction: "TB" (top to bottom) or "LR" (left to right).

Edges never pass through nodes: a segment between two layers stays in the gap between
them, and an edge crosses a layer only through a dummy node's reserved slot.

Input: a networkx DiGraph whose nodes have `width`, `height` and optional `cluster` and
`cluster_label` attributes. Output: a Layout of boxes, clusters and edge routes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

NODE_GAP = 22  # between neighbours in a layer
DUMMY_BREADTH = 8  # the slot an edge takes where it crosses a layer
LAYER_GAP = 62  # between layers (room for a cluster's padding and label)
PART_GAP = 26  # above a layer of part tables only: parts sit close to their masters
CLUSTER_PAD = 10
CLUSTER_GAP = 26  # between two schema bands
MARGIN = 16
SWEEPS = 10


@dataclass
class Box:
    name: str
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self):
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass
class Cluster:
    name: str
    label: str
    x: float
    y: float
    width: float
    height: float


@dataclass
class Route:
    source: str
    target: str
    points: list  # [(x, y), ...] from source to target; consecutive points are joined
    data: dict = field(default_factory=dict)


@dataclass
class Layout:
    width: float
    height: float
    direction: str
    boxes: dict
    clusters: list
    routes: list
    label_height: float = 0


class _Item:
    """A node of the layered graph: a real node or a dummy on a long edge."""

    __slots__ = ("breadth", "cluster", "depth", "dummy", "layer", "name", "order", "part", "u")

    def __init__(self, name, layer, breadth, depth, cluster, dummy=False):
        self.name, self.layer, self.breadth, self.depth = name, layer, breadth, depth
        self.cluster, self.dummy = cluster, dummy
        self.u = 0.0
        self.order = 0.0
        self.part = False


def layered_layout(graph, direction="TB", label_height=18):
    """Lay out `graph` (networkx DiGraph); see the module docstring."""
    direction = direction.upper()
    if direction not in ("TB", "LR"):
        raise ValueError(f"direction must be 'TB' or 'LR', not {direction!r}")
    horizontal = direction == "LR"
    if not graph.number_of_nodes():
        return Layout(2 * MARGIN, 2 * MARGIN, direction, {}, [], [], label_height)
    edges = _acyclic_edges(graph)
    layer_of = _assign_layers(graph, edges)
    items = {}
    for name, data in graph.nodes(data=True):
        width, height = data.get("width", 80), data.get("height", 30)
        breadth, depth = (height, width) if horizontal else (width, height)
        items[name] = _Item(name, layer_of[name], breadth, depth, data.get("cluster"))
        items[name].part = data.get("tier") == "part"
    chains, adjacency = _split_long_edges(edges, items)
    layers = _order_layers(items, adjacency)
    _place_in_bands(layers, items, adjacency)
    # label room: above a band (TB) or at its top (LR)
    cluster_labels = {}
    for _name, data in graph.nodes(data=True):
        if data.get("cluster") is not None:
            label = data.get("cluster_label")
            cluster_labels[data["cluster"]] = str(data["cluster"]) if label is None else label
    rects = _pack_clusters(items, cluster_labels, label_height, horizontal)
    v_start, v_end = _layer_positions(layers, rects, horizontal)
    _place_free_dummies(layers, items, rects, chains)
    routes = [
        _route(chain, items, v_start, v_end, flipped, graph.edges[s, t]) for (s, t, flipped), chain in chains.items()
    ]
    return _to_xy(items, rects, cluster_labels, routes, v_start, v_end, horizontal, label_height)


# --- layering ---
def _acyclic_edges(graph):
    """Edges as (source, target, flipped): back edges of a DFS are reversed to break cycles."""
    import networkx as nx

    if nx.is_directed_acyclic_graph(graph):
        return [(s, t, False) for s, t in graph.edges]
    position, state = {}, {}
    result = []
    for root in graph.nodes:
        if root in state:
            continue
        stack = [(root, iter(graph.successors(root)))]
        state[root] = "open"
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "done"
                position[node] = len(position)
                stack.pop()
            elif child not in state:
                state[child] = "open"
                stack.append((child, iter(graph.successors(child))))
    for s, t in graph.edges:
        if s == t:
            continue
        result.append((t, s, True) if position[s] < position[t] else (s, t, False))
    return result


def _assign_layers(graph, edges):
    """Longest-path depth, then sources pulled down next to their nearest child."""
    import networkx as nx

    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes)
    dag.add_edges_from((s, t) for s, t, _ in edges)
    layer = {}
    for node in nx.topological_sort(dag):
        layer[node] = max((layer[p] + 1 for p in dag.predecessors(node)), default=0)
    for node in dag.nodes:
        children = list(dag.successors(node))
        if dag.in_degree(node) == 0 and children:
            layer[node] = min(layer[c] for c in children) - 1
    # a table with no foreign keys at all sits in the top layer of its own schema
    tops = {}
    for node in dag.nodes:
        if dag.degree(node):
            cluster = graph.nodes[node].get("cluster")
            tops[cluster] = min(tops.get(cluster, layer[node]), layer[node])
    for node in dag.nodes:
        if not dag.degree(node):
            layer[node] = tops.get(graph.nodes[node].get("cluster"), 0)
    return layer


def _split_long_edges(edges, items):
    """Replace edges spanning several layers by chains through dummy items."""
    chains, adjacency = {}, {name: ([], []) for name in items}  # name -> (predecessors, successors)
    spans = _cluster_spans(items)
    for source, target, flipped in edges:
        top, bottom = items[source], items[target]
        chain = [source]
        for layer in range(top.layer + 1, bottom.layer):
            name = f"\0{source}\0{target}\0{layer}"
            cluster = _dummy_cluster(top, bottom, layer, spans)
            items[name] = _Item(name, layer, DUMMY_BREADTH, 0, cluster, dummy=True)
            adjacency[name] = ([], [])
            chain.append(name)
        chain.append(target)
        for upper, lower in itertools.pairwise(chain):
            adjacency[upper][1].append(lower)
            adjacency[lower][0].append(upper)
        chains[(target, source, True) if flipped else (source, target, False)] = chain
    return chains, adjacency


def _dummy_cluster(top, bottom, layer, spans):
    """A dummy runs inside its source's schema band, then its target's, else outside all bands."""
    if top.cluster == bottom.cluster:
        return top.cluster
    if top.cluster in spans and layer <= spans[top.cluster][1]:
        return top.cluster
    if bottom.cluster in spans and layer >= spans[bottom.cluster][0]:
        return bottom.cluster
    return _FREE


_FREE = ("free",)  # marks dummies placed in the space between bands


def _cluster_spans(items):
    spans = {}
    for item in items.values():
        if item.dummy:
            continue
        lo, hi = spans.get(item.cluster, (item.layer, item.layer))
        spans[item.cluster] = (min(lo, item.layer), max(hi, item.layer))
    return spans


# --- ordering ---
def _order_layers(items, adjacency):
    """Order every layer by barycenter sweeps; each schema stays contiguous in every layer."""
    lowest = min(item.layer for item in items.values())
    for item in items.values():
        item.layer -= lowest
    count = max(item.layer for item in items.values()) + 1
    layers = [[] for _ in range(count)]
    for name in sorted(items, key=lambda n: (items[n].dummy, n)):
        layers[items[name].layer].append(items[name])
    _number(layers)
    rank = _cluster_ranks(items)
    best, best_crossings = [list(layer) for layer in layers], _crossings(layers, adjacency, items)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        sequence = range(1, count) if downward else range(count - 2, -1, -1)
        for index in sequence:
            side = 0 if downward else 1
            for item in layers[index]:
                neighbours = [items[n].order for n in adjacency[item.name][side]]
                if neighbours:
                    item.order = sum(neighbours) / len(neighbours)
            layers[index].sort(key=lambda it: (_rank_of(it, rank, adjacency, items), it.order))
            _number([layers[index]])
        rank = _cluster_ranks(items)
        crossings = _crossings(layers, adjacency, items)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    _number(best)
    return best


def _number(layers):
    for layer in layers:
        size = max(len(layer) - 1, 1)
        for position, item in enumerate(layer):
            item.order = position / size


def _cluster_ranks(items):
    totals = {}
    for item in items.values():
        if item.cluster is not _FREE:
            total, n = totals.get(item.cluster, (0.0, 0))
            totals[item.cluster] = (total + item.order, n + 1)
    ordered = sorted(totals, key=lambda c: (totals[c][0] / totals[c][1], str(c)))
    return {cluster: position for position, cluster in enumerate(ordered)}


def _rank_of(item, rank, adjacency, items):
    if item.cluster is not _FREE:
        return rank[item.cluster]
    ends = [items[n] for side in adjacency[item.name] for n in side]
    known = [rank[e.cluster] for e in ends if e.cluster is not _FREE]
    return sum(known) / len(known) if known else 0


def _crossings(layers, adjacency, items):
    total = 0
    for layer in layers[:-1]:
        segments = [(item.order, items[n].order) for item in layer for n in adjacency[item.name][1]]
        for i, (a1, b1) in enumerate(segments):
            for a2, b2 in segments[i + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


# --- coordinates ---
def _place_in_bands(layers, items, adjacency):
    """u-coordinates of the items of each schema band, starting at 0 in every band."""
    rows = {}  # (cluster, layer) -> items in order
    for layer in layers:
        for item in layer:
            if item.cluster is not _FREE:
                rows.setdefault((item.cluster, item.layer), []).append(item)
    for row in rows.values():
        _pack(row, [sum(it.breadth for it in row[:i]) + NODE_GAP * i + row[i].breadth / 2 for i in range(len(row))])
    for sweep in range(6):
        side = sweep % 2 if sweep < 4 else None
        keys = sorted(rows, key=lambda k: k[1], reverse=side == 1)
        for key in keys:
            row = rows[key]
            desired = []
            for item in row:
                sides = (0, 1) if side is None else (side,)
                near = [items[n].u for s in sides for n in adjacency[item.name][s] if items[n].cluster == item.cluster]
                desired.append(sum(near) / len(near) if near else item.u)
            _pack(row, desired)
    lefts = {}
    for (cluster, _), row in rows.items():
        lefts[cluster] = min(lefts.get(cluster, float("inf")), row[0].u - row[0].breadth / 2)
    for (cluster, _), row in rows.items():
        for item in row:
            item.u -= lefts[cluster]


def _pack(row, desired):
    """Closest positions to `desired` that keep the row's order and gaps (isotonic regression)."""
    offsets, offset = [], 0.0
    for i, item in enumerate(row):
        if i:
            offset += (row[i - 1].breadth + item.breadth) / 2 + NODE_GAP
        offsets.append(offset)
    blocks = []  # [value, weight, count]
    for target, off in zip(desired, offsets):
        blocks.append([target - off, 1.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    i = 0
    for value, _, n in blocks:
        for _ in range(n):
            row[i].u = value + offsets[i]
            i += 1


def _pack_clusters(items, labels, label_height, horizontal):
    """Place schema bands left to right; a band may sit under another whose layers it does not share."""
    members = {}
    for item in items.values():
        if item.cluster is not _FREE:
            members.setdefault(item.cluster, []).append(item)
    from .style import CLUSTER_FONT_SIZE, text_width

    order = sorted(members, key=lambda c: (sum(i.order for i in members[c]) / len(members[c]), str(c)))
    skyline = {}  # layer -> right edge used so far
    rects = {}
    for cluster in order:
        group = members[cluster]
        lo, hi = min(i.layer for i in group), max(i.layer for i in group)
        inner = max(i.u + i.breadth / 2 for i in group)
        label = labels.get(cluster)
        before = CLUSTER_PAD + (label_height if (label and horizontal) else 0)
        if label and not horizontal:
            needed = text_width(label, CLUSTER_FONT_SIZE) + 4
            if needed > inner:
                for item in group:
                    item.u += (needed - inner) / 2
                inner = needed
        framed = cluster is not None and label != ""
        width = (before + inner + CLUSTER_PAD) if framed else inner
        start = max((skyline[band] + CLUSTER_GAP for band in range(lo, hi + 1) if band in skyline), default=0.0)
        for item in group:
            item.u += start + (before if framed else 0)
        for band in range(lo, hi + 1):
            skyline[band] = start + width
        rects[cluster] = (start, start + width, lo, hi)
    return rects


def _layer_positions(layers, rects, horizontal):
    """Start and end of every layer along v."""
    v_start, v_end, v = [], [], 0.0
    gap = LAYER_GAP if not horizontal else LAYER_GAP + 8
    starts = {lo for _, _, lo, _ in rects.values()}
    for index, layer in enumerate(layers):
        real = [i for i in layer if not i.dummy]
        if index and index not in starts and real and all(i.part for i in real):
            v += PART_GAP - gap
        depth = max((i.depth for i in real), default=0.0)
        v_start.append(v)
        v_end.append(v + depth)
        v += depth + gap
    return v_start, v_end


def _place_free_dummies(layers, items, rects, chains):
    """Dummies outside every band: nearest free slot to the straight line between the edge's ends."""
    placed = {}
    for chain in chains.values():
        top, bottom = items[chain[0]], items[chain[-1]]
        for name in chain[1:-1]:
            item = items[name]
            if item.cluster is not _FREE:
                continue
            fraction = (item.layer - top.layer) / max(bottom.layer - top.layer, 1)
            ideal = top.u + (bottom.u - top.u) * fraction
            blocked = [(a - 6, b + 6) for a, b, lo, hi in rects.values() if lo <= item.layer <= hi]
            blocked += [(u - DUMMY_BREADTH, u + DUMMY_BREADTH) for u in placed.get(item.layer, [])]
            item.u = _nearest_free(ideal, blocked)
            placed.setdefault(item.layer, []).append(item.u)


def _nearest_free(ideal, blocked):
    candidates = [ideal] + [edge for a, b in blocked for edge in (a - 0.5, b + 0.5)]
    free = [c for c in candidates if all(not (a < c < b) for a, b in blocked)]
    return min(free, key=lambda c: (abs(c - ideal), c))


def _route(chain, items, v_start, v_end, flipped, data):
    """Points along an edge: straight through its own layer slots, diagonal only between layers."""
    points = []
    for index, name in enumerate(chain):
        item = items[name]
        center_start = v_start[item.layer] + (v_end[item.layer] - v_start[item.layer] - item.depth) / 2
        if index > 0:
            points.append((item.u, v_start[item.layer]))
            if not item.dummy:
                points.append((item.u, center_start))
        if index < len(chain) - 1:
            if not item.dummy:
                points.append((item.u, center_start + item.depth))
            points.append((item.u, v_end[item.layer]))
    source, target = chain[0], chain[-1]
    if flipped:
        points.reverse()
        source, target = target, source
    return Route(source, target, _dedupe(points), dict(data))


def _dedupe(points):
    result = []
    for point in points:
        if not result or (abs(point[0] - result[-1][0]) > 1e-6 or abs(point[1] - result[-1][1]) > 1e-6):
            result.append(point)
    return result


def _to_xy(items, rects, labels, routes, v_start, v_end, horizontal, label_height):
    """Map (u, v) to (x, y) for the direction, shifted so everything starts at the margin."""
    top_room = label_height + CLUSTER_PAD if not horizontal else CLUSTER_PAD
    boxes, clusters = {}, []
    us = [r[0] for r in rects.values()] + [i.u - i.breadth / 2 for i in items.values()]
    us += [u for route in routes for u, _ in route.points]
    u0 = min(us) - MARGIN
    v0 = -top_room - MARGIN

    def xy(u, v):
        return ((v - v0), (u - u0)) if horizontal else ((u - u0), (v - v0))

    for item in items.values():
        if item.dummy:
            continue
        mid = (v_start[item.layer] + v_end[item.layer]) / 2
        x, y = xy(item.u - item.breadth / 2, mid - item.depth / 2)
        width, height = (item.depth, item.breadth) if horizontal else (item.breadth, item.depth)
        boxes[item.name] = Box(item.name, round(x, 2), round(y, 2), width, height)
    for cluster, (a, b, lo, hi) in rects.items():
        if cluster is None or labels.get(cluster) == "":  # no frame (e.g. a collapsed schema)
            continue
        before = CLUSTER_PAD + (label_height if not horizontal else 0)
        x, y = xy(a, v_start[lo] - before)
        extent = v_end[hi] + CLUSTER_PAD - (v_start[lo] - before)
        width, height = (extent, b - a) if horizontal else (b - a, extent)
        clusters.append(
            Cluster(
                str(cluster),
                labels.get(cluster) or str(cluster),
                round(x, 2),
                round(y, 2),
                round(width, 2),
                round(height, 2),
            )
        )
    for route in routes:
        route.points = [tuple(round(c, 2) for c in xy(u, v)) for u, v in route.points]
    corners = [(b.x + b.width, b.y + b.height) for b in boxes.values()]
    corners += [(c.x + c.width, c.y + c.height) for c in clusters]
    corners += [p for r in routes for p in r.points]
    width = max((c[0] for c in corners), default=0) + MARGIN
    height = max((c[1] for c in corners), default=0) + MARGIN
    return Layout(
        round(width, 2), round(height, 2), "LR" if horizontal else "TB", boxes, clusters, routes, label_height
    )


# --- the default direction ---
CELL_WIDTH, CELL_HEIGHT = 1200, 800  # a notebook cell's room, in px
READABLE_SCALE = 0.8  # the least a diagram may be shrunk to fit the cell and stay readable


def fit_scale(layout):
    """How much the layout must shrink to fit a notebook cell (1: it fits as it is)."""
    return min(1.0, CELL_WIDTH / layout.width, CELL_HEIGHT / layout.height)


def auto_direction(graph):
    """The direction that suits a notebook cell: of the layouts that fit it readably, the one that
    takes the least height (cells scroll vertically); when neither does, the one that shrinks
    least. Left to right (DataJoint 2.x's default) when they are equal."""
    layouts = {d: layered_layout(graph, d) for d in ("LR", "TB")}
    readable = [d for d, lay in layouts.items() if fit_scale(lay) >= READABLE_SCALE]
    if readable:
        return min(readable, key=lambda d: fit_scale(layouts[d]) * layouts[d].height)
    return max(layouts, key=lambda d: fit_scale(layouts[d]))
