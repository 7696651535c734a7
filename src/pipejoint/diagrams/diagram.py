"""`dj.Diagram`: the pipeline as a picture, and DataJoint's diagram algebra.

A Diagram is a set of tables (nodes of the connection's dependency graph) plus the schemas
drawn collapsed. The algebra builds new sets: `d + n` / `d - n` add n generations of
children / parents, `d1 + d2` union, `d1 * d2` intersection, `d1 - d2` difference.
Drawing needs no system package: the layout is our own (diagrams/layout.py) and the output
is SVG, Mermaid, PNG (with cairosvg) or a matplotlib figure. Graphviz is used only when asked.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.naming import master_node, node_name, split_full_name, split_node
from ..errors import DataJointError
from ..settings import config

if TYPE_CHECKING:
    import argparse
    import io
    import os
    from collections.abc import Iterable, Iterator, Mapping
    from typing import Literal, TypeAlias

    import networkx as nx
    import numpy as np
    from typing_extensions import TypeIs

    from ..catalog.connection import Connection
    from ..schemas.schema import Schema
    from ..table.table import FreeTable, Table
    from .layout import Layout

DiagramSource: TypeAlias = "Diagram | Schema | Table | type[Table] | types.ModuleType | list[DiagramSource] | tuple[DiagramSource, ...] | set[Any] | frozenset[Any]"
"""What a diagram is made of: a schema, a table (class or instance), a module holding a schema,
a diagram, or a list of them."""

FORMATS = {".svg": "svg", ".png": "png", ".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot"}
_DRAWN_TIERS = {"manual", "lookup", "imported", "computed", "part", None}


class SVG(str):
    """SVG text that Jupyter displays as a picture (and that is still a plain string)."""

    @property
    def data(self) -> str:
        return str(self)

    def _repr_svg_(self) -> str:
        return str(self)


class Diagram:
    """The tables of a schema, a table, a module or a sequence of them, with their dependencies."""

    def __init__(
        self,
        source: DiagramSource | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        connection: Connection | None = None,
    ) -> None:
        self.context = context
        self._connection: Any = connection  # a Connection, taken from the source when not given
        self._nodes: set[str] = set()
        self._expanded: set[str] = set()
        self._mode: str | None = None  # "cascade", "trace" or "restrict" once restricted by data
        self._conditions: dict[str, list[Any]] = {}  # node -> conditions on its rows (diagrams/data.py)
        if source is None:
            if connection is None:
                raise DataJointError(
                    "dj.Diagram() needs something to draw: a schema, a table class, a module or a list of them, "
                    "e.g. dj.Diagram(schema)."
                )
            return
        for connection_, nodes in _resolve(source):
            self._use_connection(connection_)
            self._nodes |= nodes
            self._expanded |= nodes
        if isinstance(source, Diagram):
            self._expanded = set(source._expanded)
            self.context = context if context is not None else source.context
            self._mode = source._mode
            self._conditions = {node: list(items) for node, items in source._conditions.items()}

    @classmethod
    def from_sequence(cls, sequence: Iterable[DiagramSource]) -> Diagram:
        """The union of the diagrams of each item."""
        return cls(list(sequence))

    # --- state ---
    def _use_connection(self, connection):
        if self._connection is None:
            self._connection = connection
        elif connection is not self._connection:
            raise DataJointError(
                "Cannot combine diagrams of tables on different connections: draw each database separately."
            )

    @property
    def _graph(self):
        """The connection's current table graph (reloaded after this process declares or drops)."""
        if self._connection is None:
            return None
        return self._connection.dependencies.graph

    def _copy(self, nodes=None, expanded=None):
        other = Diagram(context=self.context, connection=self._connection)
        other._nodes = set(self._nodes if nodes is None else nodes)
        other._expanded = set(self._expanded if expanded is None else expanded) & other._nodes
        other._mode = self._mode
        other._conditions = {node: list(items) for node, items in self._conditions.items()}
        return other

    @property
    def connection(self) -> Connection | None:
        return self._connection

    def number_of_edges(self, u: str | None = None, v: str | None = None) -> int:
        """Foreign keys between the tables shown (from u to v, named as in the graph or by full table
        name): two references to one parent are two edges, as in DataJoint's diagram."""
        shown = self._graph.subgraph(self._nodes)
        if u is None or v is None:
            return shown.number_of_edges()
        return shown.number_of_edges(node_name(*split_full_name(u)), node_name(*split_full_name(v)))

    @property
    def nodes_to_show(self) -> set[str]:
        return set(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, table: object) -> bool:
        return _node_name_of(table) in self._nodes

    def topo_sort(self) -> list[str]:
        """Node names of the diagram, parents first."""
        return self._connection.dependencies.topo_sort(self._nodes)

    def __iter__(self) -> Iterator[FreeTable]:
        """The tables, parents first; restricted to the diagram's rows after cascade/trace/restrict."""
        for name in self.topo_sort():
            yield self._restricted(name)

    def __reversed__(self) -> Iterator[FreeTable]:
        """The tables, leaves first (the order a delete or drop goes in)."""
        for name in reversed(self.topo_sort()):
            yield self._restricted(name)

    def __repr__(self) -> str:
        schemas = sorted({split_node(n)[0] for n in self._nodes})
        return f"Diagram of {len(self._nodes)} tables in {', '.join(schemas) or 'no schema'}"

    # --- algebra ---
    def _other(self, other: DiagramSource) -> Diagram:
        diagram = other if isinstance(other, Diagram) else Diagram(other)
        if self._connection is None:
            self._use_connection(diagram._connection)
        elif diagram._connection is not None and diagram._connection is not self._connection:
            self._use_connection(diagram._connection)  # raises with a clear message
        return diagram

    def __add__(self, other: DiagramSource | int) -> Diagram:
        if _is_count(other):
            return self._expand(other, downstream=True) if other >= 0 else self._expand(-other, downstream=False)
        other = self._other(other)
        return self._copy(self._nodes | other._nodes, self._expanded | other._expanded)

    def __sub__(self, other: DiagramSource | int) -> Diagram:
        if _is_count(other):
            return self._expand(other, downstream=False) if other >= 0 else self._expand(-other, downstream=True)
        other = self._other(other)
        return self._copy(self._nodes - other._nodes)

    def __mul__(self, other: DiagramSource) -> Diagram:
        if _is_count(other):
            raise DataJointError(
                f"Diagram * {other!r}: multiply a diagram by another diagram (intersection); "
                "use + n or - n to add generations."
            )
        other = self._other(other)
        return self._copy(self._nodes & other._nodes, self._expanded & other._expanded)

    def _expand(self, generations, downstream):
        graph = self._graph
        nodes = {n for n in self._nodes if n in graph}
        frontier = set(nodes)
        for _ in range(generations):
            step = graph.successors if downstream else graph.predecessors
            frontier = {n for node in frontier for n in step(node)} - nodes
            if not frontier:
                break
            nodes |= frontier
        return self._copy(nodes, self._expanded | (nodes - self._nodes))

    def add_parts(self) -> Diagram:
        """The diagram with the part tables of every master it shows."""
        parts = {n for n in self._graph.nodes if master_node(n) in self._nodes}
        return self._copy(self._nodes | parts, self._expanded | parts)

    def collapse(self, *schemas: str | Schema) -> Diagram:
        """Draw these schemas (all, when none is named) as one box each; expanded wins in unions."""
        names = {s if isinstance(s, str) else getattr(s, "database", None) for s in schemas}
        known = {split_node(n)[0] for n in self._nodes}
        unknown = sorted(str(n) for n in names - known)
        if unknown:
            raise DataJointError(
                f"Cannot collapse schema {', '.join(unknown)}: the diagram shows only {', '.join(sorted(known))}. "
                "Pass one of those names (or a Schema object)."
            )
        keep = {n for n in self._expanded if names and split_node(n)[0] not in names}
        return self._copy(expanded=keep)

    # --- data level: which rows a restriction reaches (diagrams/data.py) ---
    @classmethod
    def cascade(cls, table_expr: Table | type[Table], part_integrity: str = "enforce") -> Diagram:
        """The rows `table_expr.delete(part_integrity=...)` would delete, table by table, without
        deleting anything: the seed and every descendant (in every schema), each restricted to the
        rows that refer to a doomed row (OR over the foreign keys). `.counts()` previews a delete."""
        from . import data

        data.check_part_integrity(part_integrity)
        table, node = data.seed(table_expr, "cascade")
        return cls._data_diagram(table, "cascade", data.cascade(table, node, part_integrity))

    @classmethod
    def trace(cls, table_expr: Table | type[Table]) -> Diagram:
        """Where the rows of `table_expr` come from: the seed and every ancestor, each restricted to
        the rows the seed's rows refer to, directly or through other ancestors (OR over the foreign
        keys). `trace[Session]` is Session restricted that way; `trace.counts()` counts them."""
        from . import data

        table, node = data.seed(table_expr, "trace")
        return cls._data_diagram(table, "trace", data.trace(table, node))

    @classmethod
    def _data_diagram(cls, table, mode, conditions):
        diagram = cls(context={}, connection=table._connection)
        diagram._nodes = set(conditions)
        diagram._expanded = set(conditions)
        diagram._mode = mode
        diagram._conditions = conditions
        return diagram

    def restrict(self, table_expr: Table | type[Table]) -> Diagram:
        """A copy whose tables keep only the rows consistent with `table_expr`'s rows: the seed
        restricted, and every descendant restricted to rows whose parents all remain (AND over
        restricted parents). Chainable: each call narrows further."""
        from . import data

        if self._mode in data.OR_MODES:
            raise DataJointError(
                f"Cannot restrict() a diagram made by Diagram.{self._mode}(): restrict a diagram of the "
                "schema or tables instead, e.g. dj.Diagram(schema).restrict(Session & key)."
            )
        table, node = data.seed(table_expr, "restrict")
        if self._connection is None:
            self._use_connection(table._connection)
        result = self._copy()
        result._mode = "restrict"
        result._conditions = data.restrict(self._connection, self._conditions, table, node)
        return result

    def _restricted(self, node: str, base: Any = None) -> FreeTable:
        from . import data

        return data.restricted(self._connection, node, self._conditions, self._mode, base)

    def __getitem__(self, key: Any) -> Table:
        """The table `key` (a table class, a table, or a table's name) restricted as this diagram
        restricts it; a class gives an instance of that class, a name gives a FreeTable."""
        from . import data

        what = "trace" if self._mode == "trace" else "diagram"
        node = data.find_node({n: self._graph.nodes[n] for n in self._nodes if n in self._graph}, key, what)
        base = key() if isinstance(key, type) else None
        if base is not None and self._conditions.get(node):
            return self._restricted(node, base)
        return base if base is not None else self._restricted(node)

    def counts(self) -> dict[str, int]:
        """{full table name: rows} of every restricted table: a preview that changes nothing."""
        if self._mode is None:
            raise DataJointError(
                "counts() needs a restricted diagram: use Diagram.cascade(table & key), "
                "Diagram.trace(table & key) or diagram.restrict(table & key) first."
            )
        result = {}
        for table in self:
            if table.node_name in self._conditions:
                result[table.full_table_name] = len(table)
        return result

    def prune(self) -> Diagram:
        """A copy without the tables that have no rows (no rows left by the restriction, after
        restrict()). Not for cascades: a delete must visit every dependent table."""
        if self._mode in ("cascade", "trace"):
            raise DataJointError(
                f"prune() cannot be used on a diagram made by Diagram.{self._mode}(): such a diagram must keep "
                "every dependent table (rows may be inserted between the preview and the delete)."
            )
        result = self._copy()
        if self._mode == "restrict":
            empty = {node for node in self._conditions if node in self._nodes and not self._restricted(node)}
            for node in empty:
                del result._conditions[node]
        else:
            empty = {node for node in self._nodes if not self._restricted(node)}
        return result._copy(result._nodes - empty)

    # --- the drawn graph ---
    @property
    def graph(self) -> nx.DiGraph:
        """A networkx DiGraph of what is drawn: one node per table or collapsed schema."""
        from .model import drawn_graph

        return drawn_graph(self)

    def _direction(self, direction, graph=None):
        """'TB' or 'LR': as given, else as configured; 'auto' (the default) picks the one that
        suits a notebook cell (layout.auto_direction)."""
        settings = config if self._connection is None else self._connection.config
        direction = str(direction or settings["display.diagram_direction"] or "auto").upper()
        if direction not in ("TB", "LR", "AUTO"):
            raise DataJointError(
                f"Diagram direction {direction!r} is not valid: set dj.config['display.diagram_direction'] "
                "to 'auto' (the default: whichever suits a notebook cell), 'TB' (top to bottom) or "
                "'LR' (left to right)."
            )
        if direction == "AUTO":
            from .layout import auto_direction

            return auto_direction(self.graph if graph is None else graph)
        return direction

    def layout(self, direction: str | None = None) -> Layout:
        from .layout import layered_layout

        graph = self.graph
        return layered_layout(graph, self._direction(direction, graph))

    # --- output ---
    def svg_string(
        self,
        direction: str | None = None,
        layout: Literal["builtin", "graphviz"] = "builtin",
        legend: bool = True,
        marks: dict[Any, dict[str, str]] | None = None,
    ) -> str:
        """The SVG text; `legend=False` leaves out the legend of tiers and edge kinds. `marks` (builtin
        layout only) maps tables (classes or node names) to {"fill": colour, "badge": a short note shown over
        the node, "href": a link the node opens, "title": more hover text}."""
        if layout == "graphviz":
            from .dot import graphviz_svg

            graph = self.graph
            return graphviz_svg(graph, self._direction(direction, graph))
        if layout != "builtin":
            raise DataJointError(f"Unknown diagram layout {layout!r}: use 'builtin' (default) or 'graphviz'.")
        from . import svg
        from .layout import layered_layout

        graph = self.graph
        marks = {_node_name_of(table): mark for table, mark in (marks or {}).items()}
        return svg.render(layered_layout(graph, self._direction(direction, graph)), graph, legend=legend, marks=marks)

    def make_svg(
        self,
        direction: str | None = None,
        layout: Literal["builtin", "graphviz"] = "builtin",
        legend: bool = True,
        marks: dict[Any, dict[str, str]] | None = None,
    ) -> SVG:
        """The diagram as SVG (a string that Jupyter displays as a picture); `marks` as in svg_string."""
        return SVG(self.svg_string(direction, layout, legend, marks))

    def make_mermaid(self, direction: str | None = None) -> str:
        """Mermaid flowchart text (renders on GitHub, GitLab and in many Markdown tools)."""
        from .mermaid import render

        graph = self.graph
        return render(graph, self._direction(direction, graph))

    def make_dot(self, direction: str | None = None) -> Any:
        """A pydot graph in DataJoint's notation (needs pydot; Graphviz only to lay it out)."""
        from .dot import make_dot

        graph = self.graph
        return make_dot(graph, self._direction(direction, graph))

    def make_png(self, direction: str | None = None, scale: float = 1.0) -> io.BytesIO:
        """PNG bytes in a BytesIO (needs cairosvg)."""
        import io

        return io.BytesIO(_rasterize(self.svg_string(direction), scale))

    def make_image(self, direction: str | None = None) -> np.ndarray:
        """The diagram as an image array (needs cairosvg and matplotlib)."""
        plt = _matplotlib()
        return plt.imread(self.make_png(direction), format="png")

    def draw(self, direction: str | None = None, ax: Any = None) -> Any:
        """Draw with matplotlib (installed separately); returns the figure."""
        from .draw import draw

        _matplotlib()
        return draw(self.layout(direction), self.graph, ax=ax)

    def save(
        self,
        filename: str | os.PathLike[str],
        format: Literal["svg", "png", "mermaid", "dot"] | None = None,
        direction: str | None = None,
    ) -> Path:
        """Write .svg, .png (needs cairosvg), .mmd/.mermaid or .dot; returns the path."""
        path = Path(filename)
        kind = format or FORMATS.get(path.suffix.lower())
        if kind not in set(FORMATS.values()):
            raise DataJointError(
                f"Cannot save a diagram as {path.name!r}: use a file name ending in .svg, .png, .mmd "
                "(Mermaid) or .dot, or pass format='svg' | 'png' | 'mermaid' | 'dot'."
            )
        if not path.parent.is_dir():
            raise DataJointError(
                f"Cannot save the diagram as {str(path)!r}: the folder {str(path.parent)!r} does not exist."
            )
        if kind == "png":  # rasterize first, so a missing cairosvg leaves no empty file behind
            data = _rasterize(self.svg_string(direction))
        elif kind == "mermaid":
            data = self.make_mermaid(direction).encode()
        elif kind == "dot":
            data = self.make_dot(direction).to_string().encode()
        else:
            data = self.svg_string(direction).encode()
        path.write_bytes(data)
        return path

    # --- Jupyter ---
    def _repr_svg_(self) -> str:
        return self.svg_string()

    def _repr_html_(self) -> str:
        return f'<div style="max-width:100%;max-height:85vh;overflow:auto">{self.svg_string()}</div>'


ERD = Di = Diagram

diagram_active = True
"""Drawing needs no optional package here (DataJoint's flag for networkx and pydot)."""


def _is_count(value: object) -> TypeIs[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _node_name_of(table):
    name = getattr(table, "node_name", None)
    if isinstance(name, str):
        return name
    if isinstance(table, str):
        return table
    return None


def _resolve(source):
    """[(connection, {node names})] for a diagram source."""
    from ..schemas.schema import Schema
    from ..table.table import Table

    if isinstance(source, Diagram):
        return [(source._connection, set(source._nodes))] if source._connection is not None else []
    if isinstance(source, Schema):
        if source.database is None:
            raise DataJointError("Cannot draw a schema that is not activated: call schema.activate(name) first.")
        connection = source.connection
        graph = connection.dependencies.load().graph
        nodes = {
            n for n, d in graph.nodes(data=True) if d.get("schema") == source.database and d.get("tier") in _DRAWN_TIERS
        }
        return [(connection, nodes)]
    if (isinstance(source, type) and issubclass(source, Table)) or isinstance(source, Table):
        table = source() if isinstance(source, type) else source
        connection = table._connection
        graph = connection.dependencies.load(force=False).graph
        if table.node_name not in graph:
            graph = connection.dependencies.load().graph
        if table.node_name not in graph:
            raise DataJointError(
                f"Table {table.node_name} is not declared, so it has no place in a diagram: declare it first."
            )
        return [(connection, {table.node_name})]
    if isinstance(source, types.ModuleType):
        schemas = [v for v in vars(source).values() if isinstance(v, Schema) and v.database is not None]
        if not schemas:
            raise DataJointError(
                f"Module {source.__name__!r} holds no activated dj.Schema: a pipeline module needs "
                "e.g. `schema = dj.Schema('lab')` at module level."
            )
        return [pair for s in _unique(schemas) for pair in _resolve(s)]
    if isinstance(source, (list, tuple, set, frozenset)):
        return [pair for item in source for pair in _resolve(item)]
    raise DataJointError(
        f"dj.Diagram cannot draw {type(source).__name__!r}: pass a schema, a table class or instance, a module "
        "with a schema, a diagram, or a list of them."
    )


def _unique(schemas):
    seen, result = set(), []
    for schema in schemas:
        if id(schema) not in seen:
            seen.add(id(schema))
            result.append(schema)
    return result


def _matplotlib():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise DataJointError(
            "Diagram.draw() and make_image() need matplotlib: pip install matplotlib "
            "(or use make_svg(), save('pipeline.svg') or make_mermaid(), which need nothing)."
        ) from None
    return plt


def _rasterize(svg_text, scale=1.0):
    try:
        import cairosvg
    except (ImportError, OSError):  # OSError: the cairo library itself is missing
        raise DataJointError(
            "Saving a diagram as PNG needs cairosvg: pip install cairosvg (it uses the cairo library, e.g. "
            "apt-get install libcairo2 or brew install cairo). SVG (.svg) and Mermaid (.mmd) need nothing."
        ) from None
    return cairosvg.svg2png(bytestring=svg_text.encode(), scale=scale)


# --- the command line: `pipejoint diagram MODULE -o pipeline.svg` ---
def command(args: argparse.Namespace) -> int:
    """Import a pipeline module (a name or a .py file) and save its diagram."""
    module = import_pipeline(args.module)
    diagram = Diagram(module)
    path = diagram.save(args.output)
    print(f"Wrote {path} ({len(diagram)} tables)")
    return 0


def import_pipeline(target):
    """The module named `target`, or the module defined by the file `target`."""
    import importlib
    import importlib.util
    import sys

    path = Path(target)
    if target.endswith(".py") or path.is_file():
        if not path.is_file():
            raise DataJointError(f"Pipeline file {target!r} does not exist: check the path.")
        name = path.stem
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.resolve().parent))
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.pop(0)
        return module
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        raise DataJointError(
            f"Cannot import pipeline module {target!r} ({error}): give an importable module name "
            "or the path of a .py file."
        ) from None
