"""Data-level diagrams: which rows of each table a restriction reaches.

A restricted diagram keeps, per table (node), a list of conditions; the table's rows are the
table restricted by them, OR-combined for `Diagram.cascade` (a row goes if any doomed parent row
refers to it) and `Diagram.trace` (a row counts if any traced child row refers to it), and
AND-combined for `Diagram.restrict` (a row stays only if every restricted parent keeps it).
Every condition is a query expression (a projected, restricted table): the database evaluates the
whole chain as semi-joins, set-at-a-time; nothing here loops over rows. The only rows read into
Python are the master keys of `part_integrity="cascade"` (read by the delete's own planner,
before anything is deleted, so preview and delete agree).
"""

from __future__ import annotations

from typing import Any

from ..core.naming import split_node
from ..errors import DataJointError

PART_INTEGRITY = ("enforce", "ignore", "cascade")
OR_MODES = ("cascade", "trace")


def check_part_integrity(part_integrity: str) -> None:
    if part_integrity not in PART_INTEGRITY:
        raise ValueError(f"part_integrity must be 'enforce', 'ignore' or 'cascade', not {part_integrity!r}")


def seed(table_expr: Any, method: str):
    """(table instance, node name) of what a data-level diagram starts from."""
    from ..table.table import Table

    table = table_expr() if isinstance(table_expr, type) and issubclass(table_expr, Table) else table_expr
    node = getattr(table, "node_name", None)
    if not isinstance(table, Table) or not isinstance(node, str):
        raise DataJointError(
            f"Diagram.{method}() needs a table or a restricted table, e.g. Session & key; got "
            f"{type(table_expr).__name__}. Restrict the table itself rather than a join or projection."
        )
    if not table.is_declared:
        raise DataJointError(f"Diagram.{method}(): table {node} is not declared; declare it first.")
    return table, node


def seed_conditions(table) -> list:
    """The seed's rows as a condition on its own table (by primary key; no condition: all rows)."""
    return [table.proj()] if table._where or getattr(table, "_top", None) is not None else []


def free_table(connection, node):
    from ..table.table import FreeTable

    return FreeTable(connection, node)


def restricted(connection, node, conditions, mode, base=None):
    """The table of `node` (or `base`, e.g. an instance of its class) restricted by `conditions`."""
    table = free_table(connection, node) if base is None else base
    if node not in conditions or not conditions[node]:
        return table
    if mode in OR_MODES:
        return table & list(conditions[node])
    for condition in conditions[node]:
        table = table & condition
    return table


def cascade(table, node, part_integrity):
    """{node: [conditions]} of the rows a delete of `table` would remove, as the delete plans it."""
    from ..table.delete import cascade_plan, with_masters

    connection = table._connection
    roots = {node: table}
    plan = cascade_plan(connection, roots, free_table)
    if part_integrity == "cascade":
        plan = with_masters(connection, roots, plan, free_table)
    conditions: dict[str, list] = {}
    for name, expression in plan:  # a table that refers to itself is planned in several layers
        conditions.setdefault(name, []).append(expression.proj())
    if node in conditions and not seed_conditions(table) and len(conditions[node]) == 1:
        conditions[node] = []  # the whole seed table: no condition needed
    return conditions


def trace(table, node):
    """{node: [conditions]} of the seed's rows and, in every ancestor, the rows they refer to.

    Children come before parents (reverse topological order), so a parent's list is complete
    (one condition per foreign key that reaches it) before it passes its rows further up.
    """
    import networkx as nx

    from ..table.delete import upward

    connection = table._connection
    graph = connection.dependencies.load()
    nodes = nx.ancestors(graph.graph, node) | {node}
    conditions: dict[str, list] = {node: seed_conditions(table)}
    for child in reversed(graph.topo_sort(nodes)):
        if child not in conditions:
            continue
        rows = restricted(connection, child, conditions, "trace")
        for parent, edges in graph.parents(child).items():
            for props in edges:
                conditions.setdefault(parent, []).append(upward(rows, props["attr_map"]))
    return conditions


def restrict(connection, conditions, table, node):
    """A copy of `conditions` with `table`'s rows ANDed in and passed down to every descendant.

    A child row stays when, for every foreign key to a restricted parent, the parent row it refers
    to stays; a nullable foreign key left NULL refers to no row and keeps the child row (DataJoint
    2.3.5 drops such rows)."""
    import networkx as nx

    graph = connection.dependencies.load()
    if node not in graph.graph:
        raise DataJointError(f"Cannot restrict the diagram by {node}: that table is not declared.")
    conditions = {name: list(items) for name, items in conditions.items()}
    conditions.setdefault(node, []).extend(seed_conditions(table))
    reached = nx.descendants(graph.graph, node) | {node}
    for child in graph.topo_sort(reached):
        if child == node:
            continue
        for parent, edges in graph.parents(child).items():
            if parent not in reached or parent not in conditions:
                continue
            rows = restricted(connection, parent, conditions, "restrict")
            for props in edges:
                attr_map = props["attr_map"]
                kept = rows.proj(**{c: p for c, p in attr_map.items() if c != p})
                if props.get("nullable"):  # a NULL reference refers to no row, so no restriction removes it
                    kept = [kept, {next(iter(attr_map)): None}]  # IS NULL
                conditions.setdefault(child, []).append(kept)
    return conditions


def find_node(nodes, key, what):
    """The node a `diagram[...]` key names: a table class or instance, a full table name
    (quoted either way, or `schema.table`), or a class or table name when it is unique."""
    from ..core.naming import node_name, split_full_name

    name = getattr(key, "node_name", None)
    if not isinstance(name, str):
        if not isinstance(key, str):
            raise DataJointError(
                f"{what}[...] takes a table class, a table or a table's name; got {type(key).__name__}."
            )
        if "." in key:
            name = node_name(*split_full_name(key))
        else:
            matches = [n for n in nodes if key.lower() in _short_names(n, nodes[n])]
            if len(matches) > 1:
                raise DataJointError(
                    f"{key!r} names several tables in this {what}: {', '.join(sorted(matches))}. "
                    "Use the full table name."
                )
            name = matches[0] if matches else key
    if name not in nodes:
        raise DataJointError(
            f"Table {name} is not in this {what}"
            + (" (it is not an ancestor of the seed)." if what == "trace" else ".")
        )
    return name


def _short_names(node, data):
    from ..core.naming import without_tier_prefix

    table = split_node(node)[1]
    names = {table.lower(), without_tier_prefix(table).lower()}
    if data.get("class_name"):
        names.add(data["class_name"].lower())
    return names
