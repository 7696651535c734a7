"""The table graph: foreign keys as edges, across every schema in the database.

Built from the table records (catalog/records.py), it answers parents, children, ancestors and
descendants, and orders cascades and drops. Node names are `` `schema`.`table` ``, as in
DataJoint. A foreign key of a table to itself (plain SQL: an employee's manager) is no edge: it is
kept with the node as ``self_references``, so the graph stays acyclic and the cascade follows it
within the table.
"""

from __future__ import annotations

import logging

from ..core.naming import master_node, node_name, split_full_name, split_node, without_tier_prefix
from .records import read_schemas

logger = logging.getLogger("pipejoint")


class Dependencies:
    """A lazily loaded networkx MultiDiGraph of the tables in the database."""

    def __init__(self, connection):
        self._connection = connection
        self._graph = None
        self._fingerprint = None  # the backend's catalog fingerprint when the graph was read

    def clear(self):
        self._graph = None
        self._fingerprint = None

    @property
    def graph(self):
        if self._graph is None:
            self.load()
        return self._graph

    def load(self, force=True):
        import networkx as nx

        if self._graph is not None and not force:
            return self
        connection = self._connection
        # taken before the read: a change made while reading shows as a new fingerprint next time
        fingerprint = connection.backend.catalog_fingerprint(connection)
        if self._graph is not None and fingerprint is not None and fingerprint == self._fingerprint:
            return self  # no client changed the catalog since it was read: the graph and records stand
        # read the catalogs afresh (other processes may have declared tables); this is no change of
        # the catalog, so compiled SQL and headings in use stay (catalog_cache_clear would drop them)
        connection.cache.clear("catalog")
        graph = nx.MultiDiGraph()
        records = read_schemas(connection, connection.backend.list_schemas(connection))
        for schema, tables in records.items():
            for table_name, record in tables.items():
                graph.add_node(
                    node_name(schema, table_name),
                    tier=record.tier,
                    schema=schema,
                    table_name=table_name,
                    class_name=record.class_name,
                    self_references=[],
                )
        for node in list(graph.nodes):
            schema, table_name = split_node(node)
            for fk in records[schema][table_name].foreign_keys:
                parent = node_name(fk.parent_schema, fk.parent_table)
                props = dict(
                    primary=fk.primary,
                    attr_map=dict(fk.attr_map),
                    aliased=fk.renamed,
                    nullable=fk.nullable,
                    unique=fk.unique,
                )
                if parent == node:
                    graph.nodes[node]["self_references"].append(props)
                    continue
                if parent not in graph:
                    graph.add_node(parent, tier=None, schema=fk.parent_schema, table_name=fk.parent_table)
                graph.add_edge(parent, node, key=tuple(fk.attr_map), **props)
        _break_cycles(graph)
        self._graph = graph
        self._fingerprint = fingerprint
        return self

    # --- queries ---
    def __contains__(self, name: object) -> bool:
        """Whether a table is in the graph, named `` `schema`.`table` `` or by its full table name."""
        if not isinstance(name, str) or "." not in name:
            return False
        return node_name(*split_full_name(name)) in self.graph

    def number_of_edges(self, u=None, v=None) -> int:
        """Foreign keys in the graph (between u and v when given), as DataJoint's graph counts them."""
        if u is None or v is None:
            return self.graph.number_of_edges()
        return self.graph.number_of_edges(node_name(*split_full_name(u)), node_name(*split_full_name(v)))

    def number_of_nodes(self) -> int:
        return self.graph.number_of_nodes()

    def parents(self, name, primary=None):
        """{parent: [edge properties, ...]} for the foreign keys of `name`."""
        return self._neighbors(self.graph.in_edges(name, data=True), 0, primary)

    def children(self, name, primary=None):
        return self._neighbors(self.graph.out_edges(name, data=True), 1, primary)

    def self_references(self, name):
        """Edge properties of the foreign keys by which a table refers to itself."""
        return list(self.graph.nodes[name].get("self_references", ())) if name in self.graph else []

    @staticmethod
    def _neighbors(edges, end, primary):
        result = {}
        for edge in edges:
            props = edge[2]
            if primary is None or props["primary"] == primary:
                result.setdefault(edge[end], []).append(props)
        return result

    def ancestors(self, name):
        import networkx as nx

        nodes = nx.ancestors(self.graph, name) | {name}
        return list(self.topo_sort(nodes))

    def descendants(self, name):
        import networkx as nx

        nodes = nx.descendants(self.graph, name) | {name}
        return self.topo_sort(nodes)

    def topo_sort(self, nodes=None):
        """Nodes parents-first; a part table right after its master where the graph allows."""
        import networkx as nx

        graph = self.graph if nodes is None else self.graph.subgraph(nodes)
        order = list(nx.lexicographical_topological_sort(graph, key=_master_first_key))
        # Move each part up to just after its master (and its own other parents).
        for node in list(order):
            master = master_node(node)
            if master is None or master not in order:
                continue
            order.remove(node)
            after = max([order.index(master)] + [order.index(p) for p in graph.predecessors(node)])
            position = after + 1
            while position < len(order) and master_node(order[position]) == master:
                position += 1  # keep sibling parts in their order
            order.insert(position, node)
        return order


def _break_cycles(graph):
    """Leave out foreign keys that close a cycle (plain SQL tables may refer to each other), with a
    warning: one such schema must not keep every other pipeline in the database from loading.
    Deleting along a left-out foreign key is refused by the database, which names the table."""
    import networkx as nx

    while not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        parent, child, key = cycle[-1]
        logger.warning(
            "The foreign keys between %s form a cycle; the dependency of %s on %s is left out of the "
            "table graph (cascading deletes do not follow it).",
            ", ".join(edge[0] for edge in cycle),
            child,
            parent,
        )
        graph.remove_edge(parent, child, key)


def _master_first_key(node):
    """Sort key that places parts next to their masters (`master__part` sorts after `master`)."""
    schema, table = split_node(node)
    return (schema, without_tier_prefix(table), table)
