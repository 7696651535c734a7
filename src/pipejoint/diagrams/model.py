"""What a Diagram draws: a networkx DiGraph of tables (or collapsed schemas) and foreign keys.

Node attributes: label, title, tier, schema, width, height, cluster, cluster_label.
Edge attributes: primary (a foreign key in the child's primary key), aliased (a renamed
foreign key), one_to_one (the foreign key is the child's whole primary key), title.
Parallel foreign keys between two tables are drawn as one edge that lists them all.
"""

from __future__ import annotations

from ..catalog.records import read_schema
from ..core.naming import master_node, split_node
from .style import node_size


def drawn_graph(diagram):
    import networkx as nx

    full = diagram._graph
    connection = diagram._connection
    graph = nx.DiGraph()
    if full is None:
        return graph
    shown = {n for n in diagram._nodes if n in full}  # a table dropped since is left out
    expanded = diagram._expanded
    by_schema = {}
    for node in shown:
        by_schema.setdefault(split_node(node)[0], set()).add(node)
    drawn = {}  # table node -> drawn node
    labels = _context_labels(diagram.context)
    for schema, nodes in sorted(by_schema.items()):
        collapsed = nodes - expanded
        for node in sorted(nodes & expanded):
            data = full.nodes[node]
            label = labels.get(node) or _label(full, node)
            tier = data.get("tier")
            width, height = node_size(label, tier)
            graph.add_node(
                node,
                label=label,
                tier=tier,
                schema=schema,
                width=width,
                height=height,
                cluster=schema,
                cluster_label=schema,
                title=_node_title(connection, node, label, tier),
            )
            drawn[node] = node
        if collapsed:
            partial = bool(nodes & expanded)
            count = len(collapsed)
            noun = "table" if count == 1 else "tables"
            label = f"{count} more {noun}" if partial else f"{schema} ({count} {noun})"
            name = f"`{schema}`.*"
            width, height = node_size(label, "collapsed")
            graph.add_node(
                name,
                label=label,
                tier="collapsed",
                schema=schema,
                width=width,
                height=height,
                cluster=schema if partial else f"`{schema}`.*",
                cluster_label=schema if partial else "",
                title=f"schema {schema}: " + ", ".join(sorted(split_node(n)[1] for n in collapsed)),
            )
            for node in collapsed:
                drawn[node] = name
    for parent, child, data in full.edges(data=True):
        if parent not in drawn or child not in drawn or drawn[parent] == drawn[child]:
            continue
        _add_edge(graph, drawn[parent], drawn[child], data, _one_to_one(connection, child, data))
    return graph


def _add_edge(graph, parent, child, data, one_to_one):
    renames = [
        f"{child_attr} \u2190 {parent_attr}"
        for child_attr, parent_attr in data.get("attr_map", {}).items()
        if child_attr != parent_attr
    ]
    if graph.has_edge(parent, child):
        edge = graph.edges[parent, child]
        edge["primary"] = edge["primary"] or data.get("primary", False)
        edge["aliased"] = edge["aliased"] or data.get("aliased", False)
        edge["one_to_one"] = edge["one_to_one"] or one_to_one
        edge["renames"] += renames
        edge["count"] += 1
        edge["kinds"] = sorted({*edge["kinds"], _kind(data)})
    else:
        graph.add_edge(
            parent,
            child,
            primary=bool(data.get("primary", False)),
            aliased=bool(data.get("aliased", False)),
            one_to_one=one_to_one,
            renames=renames,
            count=1,
            kinds=[_kind(data)],
        )
        edge = graph.edges[parent, child]
    title = f"{parent} \u2192 {child}"
    if edge["count"] > 1:
        title += f" ({edge['count']} foreign keys)"
    if edge["renames"]:
        title += "; renamed: " + ", ".join(edge["renames"])
    edge["title"] = title


def _kind(data):
    """(renamed, primary): foreign keys of different kinds between two tables are drawn side by side."""
    return (bool(data.get("aliased", False)), bool(data.get("primary", False)))


def _node_title(connection, node, label, tier):
    """The hover text: the table's name and tier, then its definition as describe() gives it."""
    head = f"{label} ({tier or 'no catalog'}) — {node}"
    if connection is None or tier is None:
        return head
    from ..errors import DataJointError
    from ..table.table import FreeTable

    try:
        definition = FreeTable(connection, node).describe()
    except DataJointError:  # a table dropped by another client since the graph was read
        return head
    return head + "\n" + definition.rstrip("\n")


def _label(full, node):
    """Class name, `Master.Part` for parts, the raw table name when no class is recorded."""
    data = full.nodes[node]
    name = data.get("class_name") or split_node(node)[1]
    master = master_node(node)
    if data.get("tier") == "part" and master in full:
        master_name = full.nodes[master].get("class_name") or split_node(master)[1]
        return f"{master_name}.{name}"
    return name


def _context_labels(context):
    """Names that tables have in a namespace: `Session`, `ephys.Probe`, `Session.Trial`."""
    if not context:
        return {}
    import types

    from ..table.table import Table

    labels = {}

    def add(prefix, cls):
        node = getattr(cls, "_schema", None) and _safe_node(cls)
        if node:
            labels.setdefault(node, prefix + cls.__name__)
            for member in vars(cls).values():
                if isinstance(member, type) and issubclass(member, Table) and member is not cls:
                    part = _safe_node(member)
                    if part:
                        labels.setdefault(part, f"{prefix}{cls.__name__}.{member.__name__}")

    for name, value in context.items():
        if isinstance(value, type) and issubclass(value, Table):
            add("", value)
        elif isinstance(value, types.ModuleType):
            for member in vars(value).values():
                if isinstance(member, type) and issubclass(member, Table):
                    add(f"{name}.", member)
    return labels


def _safe_node(cls):
    try:
        return cls().node_name
    except Exception:  # an undeclared or unbound class has no node: leave it unnamed
        return None


def _one_to_one(connection, child, data):
    """Whether the foreign key's attributes are the child's whole primary key."""
    if connection is None or not data.get("primary"):
        return False
    schema, table = split_node(child)
    record = read_schema(connection, schema).get(table)
    if record is None:
        return False
    return set(data.get("attr_map", {})) == set(record.heading.primary_key)
