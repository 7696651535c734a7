"""``self.upstream`` inside make(): every ancestor of the table, restricted to the rows the key reaches.

``self.upstream[Session]`` is Session restricted to the session the key refers to, through any
chain of foreign keys (an OR over the chains), as DataJoint 2.x's ``Diagram.trace(self & key)``
gives it. The rows of the table itself do not exist yet inside make(), so the trace starts from
the key: each parent the table references is restricted by the key's values of that foreign key,
and from there every ancestor by the rows of its children, as semi-joins the database evaluates.
It is built on first use in a make() call and kept for that call (make_fetch, make_compute and
make_insert share it); make() calls that never read it pay nothing.
"""

from __future__ import annotations

from typing import Any

from ..core.naming import node_name, split_full_name
from ..errors import DataJointError
from ..table.delete import upward
from ..table.table import FreeTable


class Upstream:
    """The ancestors of `table`, restricted to what `key` reaches: ``upstream[T]`` (a class, table or name)."""

    def __init__(self, table: Any, key: dict) -> None:
        self._table = table
        self._key = key
        self._conditions: dict[str, list] = {}
        self._trace()

    def _trace(self) -> None:
        import networkx as nx

        table, key = self._table, self._key
        connection = table._connection
        graph = connection.dependencies.load()
        seed = table.node_name
        conditions = self._conditions
        conditions[seed] = [key]
        for parent, edges in graph.parents(seed).items():
            for props in edges:
                known = {p: key[c] for c, p in props["attr_map"].items() if c in key}
                conditions.setdefault(parent, []).append(known)  # {}: the key does not say (all rows)
        ancestors = nx.ancestors(graph.graph, seed)
        for child in reversed(graph.topo_sort(ancestors)):
            if child not in conditions:
                continue
            rows = self._restricted(child)
            for parent, edges in graph.parents(child).items():
                for props in edges:
                    conditions.setdefault(parent, []).append(upward(rows, props["attr_map"]))

    def _restricted(self, node: str, base: Any = None) -> Any:
        table = FreeTable(self._table._connection, node) if base is None else base
        return table & list(self._conditions[node])

    def __getitem__(self, what: Any) -> Any:
        """The ancestor `what` restricted: an instance of a table class, or a FreeTable for a name."""
        name = getattr(what, "node_name", None)
        if not isinstance(name, str):
            if not isinstance(what, str):
                raise DataJointError(
                    f"self.upstream[...] takes a table class, a table or a full table name, not {what!r}."
                )
            name = node_name(*split_full_name(what))
        if name not in self._conditions:
            raise DataJointError(
                f"Table {name} is not in this trace: it is not an ancestor of {self._table.node_name}. "
                "self.upstream[...] gives the tables make() reads through foreign keys."
            )
        base = what() if isinstance(what, type) else None
        return self._restricted(name, base)

    def __repr__(self) -> str:
        return f"upstream of {self._table.node_name} for {self._key}: {', '.join(sorted(self._conditions))}"
