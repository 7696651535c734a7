"""delete (with cascade) and delete_quick.

The rows to delete in every dependent table are computed from the dependency graph, as
restrictions of each child by its parents' doomed rows, and deleted leaves-first in one
transaction. Nothing here reads the database's error messages to find dependents.
"""

from __future__ import annotations

import contextlib
import itertools
import logging

from sqlglot import exp

from ..core.naming import master_node, node_name
from ..errors import DataJointError, IntegrityError, TransactionError, UnknownAttributeError
from ..query.compiler import Context, build_select, condition_sql, finish
from ..query.nodes import UnknownKeys
from .prompt import ask_yes_no

logger = logging.getLogger("pipejoint")


def delete_statement(expression):
    """The compiled DELETE of a restricted table, cached like queries by the expression's shape."""
    cache = expression._connection.cache
    key = ("delete", expression._shape())
    compiled = cache.get(key)
    if compiled is None:
        compiled = cache.put(key, _delete_statement(expression))
    return compiled


def _delete_statement(expression):
    """The DELETE of the rows of a restricted table.

    Usually `DELETE FROM t WHERE <its conditions>`. When a condition reads the table itself
    (MySQL refuses that in a DELETE), the keys go through a derived table instead:
    `DELETE FROM t WHERE key IN (SELECT key FROM (<expression>) AS doomed)`, which works on every
    backend but costs the server about twice as much.
    """
    connection = expression._connection
    backend = connection.backend
    schema, table_name = expression.database, expression.table_name
    ctx = Context()
    condition = _direct_condition(expression, backend, ctx)
    if condition is None:
        keys = expression.heading.primary_key
        ctx = Context()
        inner = build_select(expression, ctx, only=keys)
        derived = exp.select(*[exp.column(k, quoted=True) for k in keys]).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("doomed")))
        )
        if len(keys) == 1:
            condition = exp.In(this=exp.column(keys[0], quoted=True), query=exp.Subquery(this=derived))
        else:
            condition = exp.In(
                this=exp.Tuple(expressions=[exp.column(k, quoted=True) for k in keys]), query=exp.Subquery(this=derived)
            )
    statement = exp.Delete(this=backend.table(schema, table_name))
    if condition is not True:
        statement.set("where", exp.Where(this=condition))
    return finish(backend, statement, ctx)


def _direct_condition(expression, backend, ctx):
    """The WHERE condition over the table's own columns (True: every row), or None when the
    derived-table form is needed."""
    from ..query.nodes import Column

    source = expression._sources[0]
    target = (source.schema, source.table_name)
    if len(expression._sources) != 1 or source.query is not None or expression._joins or expression._is_wrappable:
        return None
    for condition, columns in expression._where:
        tables = condition.tables()
        if tables is None or target in tables or not all(isinstance(c, Column) for c in columns.values()):
            return None
    table = backend.table(*target)

    def column(name, columns):  # qualified by the table's name: correlated subqueries stay unambiguous
        return exp.Column(
            this=exp.to_identifier(columns[name].name, quoted=True),
            table=table.args["this"].copy(),
            db=table.args["db"].copy() if table.args.get("db") else None,
        )

    parts = [
        condition_sql(c, lambda name, cols=cols: column(name, cols), backend, ctx) for c, cols in expression._where
    ]
    if not parts:
        return True
    return parts[0] if len(parts) == 1 else exp.and_(*[exp.Paren(this=p) for p in parts])


def _run_delete(expression):
    compiled = delete_statement(expression)
    cursor = expression._connection.execute(compiled.sql, compiled.arguments(expression))
    return cursor.rowcount


def cascade_plan(connection, roots, free_table):
    """[(node, restricted table)] for the roots and every dependent row, parents first.

    `roots` maps node names to restricted tables. A dependent table is restricted by the OR of
    its parents' doomed rows (renamed foreign keys followed), so each row is found once.
    `free_table(connection, node)` makes the table of a node (see delete()).
    """
    graph = connection.dependencies.load()
    nodes = set()
    for root in roots:
        nodes.update(graph.descendants(root))
    restricted, plan = {}, []
    # node -> an ancestor's doomed keys (a projection) that select the node's doomed rows by
    # themselves, because the node carries those key columns down unchanged (see _carried)
    carried = {}
    for node in graph.topo_sort(nodes):
        conditions = [roots[node].proj()] if node in roots else []
        table = direct = None
        for parent, edges in graph.parents(node).items():
            if parent not in restricted:
                continue
            for props in edges:
                if table is None:
                    table = free_table(connection, node)
                ancestor = _carried(table, carried.get(parent), props["attr_map"])
                if ancestor is not None:
                    conditions.append(ancestor[0])
                    direct = ancestor[1]
                    continue
                renames = {c: p for c, p in props["attr_map"].items() if c != p}
                conditions.append(restricted[parent].proj(**renames))
        if node in roots and len(conditions) == 1:
            restricted[node] = roots[node]
            direct = _key_conditions(roots[node])
        elif len(conditions) == 1 and direct is not None:  # the root's own key conditions, on this table
            restricted[node] = _restricted_by(table, direct)
        elif conditions:
            restricted[node] = (table or free_table(connection, node)) & conditions
            direct = None
        else:
            continue
        references = graph.self_references(node)
        if not references:
            carried[node] = (conditions[0], direct) if len(conditions) == 1 else (restricted[node].proj(), None)
            plan.append((node, restricted[node]))
            continue
        table = free_table(connection, node)
        layers = _self_reference_layers(table, restricted[node], references)
        restricted[node] = table & [key for layer in layers for key in layer]
        plan += [(node, table & layer) for layer in reversed(layers)]
    return plan


def _carried(table, ancestor, attr_map):
    """`ancestor` (doomed keys of a table higher up, and that table's own key conditions or None)
    when it selects the table's rows reached through this foreign key by itself, else None.

    A child row descends from a doomed parent row iff the parent row its foreign key names is
    doomed. When the parent's doomed rows are those whose columns K match the ancestor's keys, and
    the foreign key copies every column of K under the same name into non-null child columns, the
    child's rows are those whose K matches them: one semi-join instead of one per level, which
    MySQL runs row by row in a DELETE (a cascade four levels deep: ~4x faster). When the ancestor
    is a root restricted by key values only (`Root & {'r': 0}`), those conditions restrict the
    child directly, with no semi-join at all.
    """
    if ancestor is None:
        return None
    heading = table.heading
    for name in ancestor[0].heading.names:
        if attr_map.get(name) != name or name not in heading or heading[name].nullable:
            return None
    return ancestor


def _key_conditions(root):
    """The root's conditions when they are all key values on its own columns (Equals, KeySet), else None."""
    from ..query.nodes import Equals, KeySet

    if len(root._sources) != 1 or root._joins or root._is_wrappable or not root._where:
        return None
    key = set(root.heading.primary_key)
    conditions = tuple(condition for condition, _ in root._where)
    if all(isinstance(c, (Equals, KeySet)) and set(c.names()) <= key for c in conditions):
        return conditions
    return None


def _restricted_by(table, conditions):
    """The table restricted by conditions made on an ancestor, read through this table's columns
    of the same names (Equals and KeySet keep the ancestor's heading to encode their values)."""
    for condition in conditions:
        table = table._with_condition(condition)
    return table


def _self_reference_layers(table, doomed, references):
    """The rows of a table that refers to itself (an employee's manager), in the layers they can be
    deleted in: the doomed rows and, transitively, the rows that refer to them; each layer holds
    rows no later layer refers to, so the first layer goes first. As primary-key dicts."""
    key = table.primary_key
    maps = [props["attr_map"] for props in references]
    needed = list(dict.fromkeys(key + [c for m in maps for c in m] + [p for m in maps for p in m.values()]))

    def pk(row):
        return tuple(row[k] for k in key)

    rows = {pk(r): r for r in doomed.fetch(*needed, as_dict=True)}
    new = list(rows.values())
    while new:  # rows that refer to the rows found last
        wanted = [
            {child: row[parent] for child, parent in m.items()}
            for m in maps
            for row in new
            if all(row[parent] is not None for parent in m.values())
        ]
        found = (table & wanted).fetch(*needed, as_dict=True) if wanted else []
        new = [r for r in found if pk(r) not in rows]
        rows.update((pk(r), r) for r in new)
    # which doomed rows each row refers to
    index = [{tuple(r[p] for p in m.values()): k for k, r in rows.items()} for m in maps]
    refers = {
        k: {index[i].get(tuple(r[c] for c in m)) for i, m in enumerate(maps)} - {None, k} for k, r in rows.items()
    }
    referenced_by = dict.fromkeys(rows, 0)
    for targets in refers.values():
        for target in targets:
            referenced_by[target] += 1
    layers, remaining = [], set(rows)
    while remaining:
        layer = [k for k in remaining if referenced_by[k] == 0] or sorted(remaining, key=repr)  # a cycle: all at once
        for k in layer:
            remaining.discard(k)
            for target in refers[k]:
                referenced_by[target] -= 1
        layers.append([dict(zip(key, k)) for k in layer])
    return layers


def _with_stable_roots(connection, roots, plan, free_table):
    """The plan, after reading out the keys of roots whose restriction reads a table the cascade
    deletes from: `(Subject & Session).delete()` deletes the sessions first, and a restriction
    evaluated after that would no longer find the subjects."""
    from ..query.nodes import query_tables

    nodes = {node for node, _ in plan}
    changed = False
    for node, root in list(roots.items()):
        tables = query_tables(root)
        if tables is None or any(node_name(*t) in nodes for t in tables if node_name(*t) != node):
            roots[node] = free_table(connection, node) & root.keys()
            changed = True
    return cascade_plan(connection, roots, free_table) if changed else plan


def delete(
    table,
    free_table,
    transaction=True,
    prompt=None,
    part_integrity="enforce",
    safemode=None,
    force_parts=None,
    force_masters=None,
    dry_run=False,
):
    """Delete the rows of a (restricted) table and all rows that depend on them.

    `free_table(connection, node)` makes the table of a node the cascade reaches: table.py passes
    FreeTable (it imports this module, so this one cannot import it back).
    """
    if safemode is not None:
        prompt = safemode
    if force_parts:
        part_integrity = "ignore"
    if force_masters:
        part_integrity = "cascade"
    if part_integrity not in ("enforce", "ignore", "cascade"):
        raise ValueError("part_integrity must be 'enforce', 'ignore' or 'cascade'")
    refuse_unknown_keys(table, "delete()")
    connection = table._connection
    prompt = connection.config["safemode"] if prompt is None else prompt
    if connection.in_transaction and prompt:
        raise TransactionError("delete() cannot ask for confirmation inside a transaction: pass prompt=False.")
    roots = {table.node_name: table}
    plan = _with_stable_roots(connection, roots, cascade_plan(connection, roots, free_table), free_table)
    if part_integrity == "cascade":
        plan = with_masters(connection, roots, plan, free_table)
    if dry_run or prompt:
        counts = {}
        for node, expr in plan:  # a table that refers to itself is deleted in several steps
            counts[node] = counts.get(node, 0) + len(expr)
        if dry_run:
            return dict(counts.items())
    else:
        counts = None
    if part_integrity == "enforce":
        _check_parts(plan, counts, table)
    if prompt:
        for node, n in counts.items():
            if n:
                print(f"{node} ({n} rows)")
        if not any(counts.values()):
            print("Nothing to delete.")
            return 0
    deleted = {}
    use_transaction = transaction and not connection.in_transaction
    # inside the caller's transaction, a savepoint keeps the cascade all or nothing
    use_savepoint = transaction and connection.in_transaction
    if use_transaction:
        connection.start_transaction()
    elif use_savepoint:
        connection.execute("SAVEPOINT pj_delete")
    try:
        for node, expression in reversed(plan):
            deleted[node] = deleted.get(node, 0) + _run_delete_of(node, expression, table)
        if part_integrity == "enforce":
            _check_parts_after(plan, deleted, table)
        if prompt and not _confirm():
            if use_transaction:
                connection.cancel_transaction()
            print("Delete cancelled.")
            return 0
    except BaseException:
        if use_transaction:
            connection.cancel_transaction()
        elif use_savepoint:
            with contextlib.suppress(Exception):
                connection.execute("ROLLBACK TO SAVEPOINT pj_delete", reconnect=False)
        raise
    if use_transaction:
        connection.commit_transaction()
    elif use_savepoint:
        connection.execute("RELEASE SAVEPOINT pj_delete")
    return deleted.get(table.node_name, 0)


def _run_delete_of(node, expression, table):
    """One DELETE of a cascade; a refusal by the database names the table and undoes the cascade."""
    try:
        return _run_delete(expression)
    except IntegrityError as error:
        raise IntegrityError(
            f"Deleting from {table.node_name} failed at {node}: {error}. The whole delete was undone. Rows of a "
            "table that pipejoint does not know (one created outside a schema's definitions) may still refer "
            f"to {node}: delete those rows first, or declare that table in a schema so the cascade includes it."
        ) from None


def _confirm():
    return ask_yes_no("Commit deletes?")


def _check_parts(plan, counts, table):
    """Before deleting (when counts are known): refuse parts whose master keeps its rows."""
    if counts is None:
        return
    for node, n in counts.items():
        master = master_node(node)
        if n and master is not None and master != node and (master not in counts or counts[master] == 0):
            raise DataJointError(
                f"Cannot delete rows of part table {node} before its master {master}: delete from the master instead, "
                "or pass part_integrity='ignore' (or 'cascade' to delete the masters too)."
            )


def _check_parts_after(plan, deleted, table):
    for node, n in deleted.items():
        master = master_node(node)
        if n and master is not None and deleted.get(master, 0) == 0:
            raise DataJointError(
                f"Cannot delete rows of part table {node} before its master {master}: delete from the master instead, "
                "or pass part_integrity='ignore' (or 'cascade' to delete the masters too)."
            )


def with_masters(connection, roots, plan, free_table):
    """part_integrity='cascade': add the masters of deleted parts as roots, until none is missing.

    Each planned part lifts its rows up to its master along the foreign keys between them (a part
    of a part, renamed keys), and every part contributes, not only the first one found. Master keys
    are read out before anything is deleted: once the parts are gone, a restriction by them would
    find nothing. A master reached by no row still joins the plan, with no rows.
    """
    graph = connection.dependencies
    while True:
        added = False
        for node, expression in plan:
            master = master_node(node)
            if master is None or master == node or master not in graph.graph:
                continue
            lifted = _lift_to_master(connection, graph, master, node, expression, free_table)
            if lifted is None:
                continue
            known = roots.get(master)
            keys = (lifted - known.proj() if known is not None else lifted).keys()
            if keys or known is None:
                master_table = free_table(connection, master)
                roots[master] = master_table & ([known.proj()] if known is not None else []) + keys
                added = True
        if not added:
            return plan
        plan = cascade_plan(connection, roots, free_table)


def _lift_to_master(connection, graph, master, part, rows, free_table):
    """The master's rows that the part's `rows` belong to, following the foreign keys from the
    master down to the part (in reverse); None when the part has no such path."""
    import networkx as nx

    try:
        path = nx.shortest_path(graph.graph, master, part)
    except nx.NetworkXNoPath:
        return None
    for parent, child in reversed(list(itertools.pairwise(path))):
        attr_map = graph.parents(child)[parent][0]["attr_map"]
        rows = free_table(connection, parent) & upward(rows, attr_map)
    return rows


def upward(child_rows, attr_map):
    """A child's rows as a condition on a parent: the foreign key's columns under the parent's
    names (`attr_map`: child column -> parent column). A child column that already carries such a
    name (`-> Animal` and `-> Animal.proj(partner='animal')`) is first renamed out of the way."""
    same = [c for c, p in attr_map.items() if c == p]
    renamed = {p: c for c, p in attr_map.items() if c != p}
    names = set(child_rows.heading.names)
    clashes = {f"pj_{name}_{i}": name for i, name in enumerate(sorted(set(renamed) & names))}
    if clashes:
        child_rows = child_rows.proj(..., **clashes)
    return child_rows.proj(*same, **renamed)


def delete_quick(table, get_count=False):
    """DELETE without cascade: fails when other tables still reference the rows."""
    refuse_unknown_keys(table, "delete_quick()")
    connection = table._connection
    try:
        with connection.atomic():
            count = _run_delete(table)
    except IntegrityError as error:
        children = table.children()
        raise IntegrityError(
            f"Cannot delete from {table.node_name}: rows in {', '.join(children) or 'other tables'} still refer to "
            f"these rows. Use delete() to delete them together. ({error})"
        ) from None
    return count if get_count else None


__all__ = ["delete", "delete_quick", "cascade_plan", "with_masters", "upward"]


def refuse_unknown_keys(table, action):
    """A delete restricted by a dict that names no attribute of the table would delete every row
    (DataJoint's rule for queries): refuse it, naming the keys and the table's attributes."""
    unknown = [k for condition, _ in table._where if isinstance(condition, UnknownKeys) for k in condition.keys]
    if unknown:
        raise UnknownAttributeError(
            f"{action} on {table.node_name} is restricted by {', '.join(map(repr, unknown))}, which "
            f"{'is not an attribute' if len(unknown) == 1 else 'are not attributes'} of the table, so it would "
            f"delete every row. Attributes: {', '.join(table.heading.names)}. Check the spelling; to delete "
            f"every row, call delete() on the table itself."
        )
