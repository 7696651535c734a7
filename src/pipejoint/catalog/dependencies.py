"""The table graph: foreign keys as edges, across every schema in the database.

Built from the catalogs (not from the backend's information schema, which differs per engine),
it answers parents, children, ancestors and descendants, and orders cascades and drops.
Node names are `` `schema`.`table` ``, as in DataJoint.
"""

from __future__ import annotations

from ..core.naming import master_node, node_name, split_node, without_tier_prefix
from ..errors import DataJointError
from .records import read_schema


class Dependencies:
    """A lazily loaded networkx MultiDiGraph of the tables in the database."""

    def __init__(self, connection):
        self._connection = connection
        self._graph = None

    def clear(self):
        self._graph = None

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
        # read the catalogs afresh (other processes may have declared tables); this is no change of
        # the catalog, so compiled SQL and headings in use stay (catalog_cache_clear would drop them)
        connection.cache.clear("catalog")
        graph = nx.MultiDiGraph()
        for schema in connection.backend.list_schemas(connection):
            for table_name, record in read_schema(connection, schema).items():
                graph.add_node(
                    node_name(schema, table_name),
                    tier=record.tier,
                    schema=schema,
                    table_name=table_name,
                    class_name=record.class_name,
                )
        for node in list(graph.nodes):
            schema, table_name = split_node(node)
            record = read_schema(connection, schema)[table_name]
            for fk in record.foreign_keys:
                parent = node_name(fk.parent_schema, fk.parent_table)
                if parent not in graph:
                    graph.add_node(parent, tier=None, schema=fk.parent_schema, table_name=fk.parent_table)
                graph.add_edge(
                    parent,
                    node,
                    key=tuple(fk.attr_map),
                    primary=fk.primary,
                    attr_map=dict(fk.attr_map),
                    aliased=fk.renamed,
                    nullable=fk.nullable,
                    unique=fk.unique,
                )
        if not nx.is_directed_acyclic_graph(graph):
            raise DataJointError("The foreign keys between tables form a cycle; the database schema is inconsistent.")
        self._graph = graph
        return self

    # --- queries ---
    def parents(self, name, primary=None):
        """{parent: [edge properties, ...]} for the foreign keys of `name`."""
        return self._neighbors(self.graph.in_edges(name, data=True), 0, primary)

    def children(self, name, primary=None):
        return self._neighbors(self.graph.out_edges(name, data=True), 1, primary)

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


def _master_first_key(node):
    """Sort key that places parts next to their masters (`master__part` sorts after `master`)."""
    schema, table = split_node(node)
    return (schema, without_tier_prefix(table), table)
