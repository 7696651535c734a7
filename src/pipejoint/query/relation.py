"""The data of a query expression, without its operators.

A relation is a FROM list (base tables or subqueries, each with an alias ``t0``, ``t1``, …), a
mapping from each attribute to its column over those aliases, WHERE conditions, and optionally a
GROUP BY, DISTINCT and ORDER/LIMIT, or else a union of two relations. `QueryExpression`
(expression.py) extends it with the user-facing algebra; the modules below expression.py
(restrictions, aggregation, fetch, the compiler) see only this data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.heading import Heading
from ..core.hints import class_level_property
from ..errors import DataJointError
from ..settings import config as process_config
from .nodes import Column, Source

if TYPE_CHECKING:
    from .nodes import Computed, Join, Ordering


class Relation:
    """What a query expression holds. Subclasses: QueryExpression, and through it Table and U."""

    _connection: Any = None  # the Connection it runs on (catalog/connection.py, a layer above)
    _heading: Any = None  # its Heading, set on every expression (None only on the class)
    _sources: tuple[Source, ...] = ()
    _joins: tuple[Join, ...] = ()
    _columns: Any = None  # name -> Column | Computed
    _where: tuple[tuple[Any, dict[str, Column | Computed]], ...] = ()  # ((Condition, columns-at-that-time), ...)
    _group: tuple[Column | Computed, ...] | None = None  # the columns grouped by, when aggregated
    _distinct = False
    _top: Ordering | None = None
    _union: tuple[Relation, Relation] | None = None  # (left, right) for a union
    # attributes a projection dropped, still read from its FROM items: ORDER BY may name them, as DataJoint allows
    _dropped: dict[str, Column | Computed] = {}  # never mutated: proj replaces it
    _is_base_table = False  # a Table: a foreign key may refer to it
    _is_universe = False  # dj.U: a set of attribute names, not of rows

    _FIELDS = (
        "_connection",
        "_heading",
        "_sources",
        "_joins",
        "_columns",
        "_where",
        "_group",
        "_distinct",
        "_top",
        "_union",
        "_dropped",
    )

    @class_level_property
    def heading(self) -> Heading:
        return self._heading

    @class_level_property
    def primary_key(self) -> list[str]:
        return self.heading.primary_key

    # --- new relations ---
    def _plain(self):
        """A new, empty expression of the class operators return (QueryExpression defines it)."""
        raise NotImplementedError

    def _derived(self, **fields):
        """A new expression on the same connection with the given fields (the others empty)."""
        result = self._plain()
        result._connection = self._connection
        for key, value in fields.items():
            setattr(result, key, value)
        return result

    def _copy(self, **changes):
        """A modified copy, as a plain expression (restrictions use _with_condition)."""
        result = self._plain()
        for name in self._FIELDS:
            setattr(result, name, getattr(self, name))
        for key, value in changes.items():
            setattr(result, key, value)
        result._frame_shape = None
        return result

    def _with_condition(self, condition):
        """A copy with one more WHERE condition. A restricted table keeps its class (so that
        `(T & key).delete()` works), and the rest of its SQL cache key is shared, not rebuilt."""
        if self._frame_shape is None:
            self._frame()  # computed once on this expression, inherited by its restrictions
        result = object.__new__(type(self))
        result.__dict__.update(self.__dict__)
        result._where = self._where + ((condition, self._columns),)
        return result

    @property
    def _is_wrappable(self):
        return self._group is not None or self._distinct or self._top is not None or self._union is not None

    def _as_subquery(self):
        """This expression as the only FROM item of a new one, attributes passed through."""
        heading = self.heading
        return self._derived(
            _heading=heading,  # computed attributes stay marked: their values are decoded as computed ones
            _sources=(Source(query=self),),
            _columns={n: Column(0, n) for n in heading.names},
        )

    # --- shape and params: the SQL cache key and the values, in one fixed order ---
    _frame_shape = None  # (heading, shape of everything but WHERE), shared with restrictions of this expression

    def _frame(self):
        """(heading, the shape of everything but the WHERE conditions). The shape is kept as its
        repr text: a string caches its hash, so looking up the SQL of `(T & key)` in the cache does
        not walk the whole nested structure on every query."""
        heading = self._heading
        cached = self._frame_shape
        if cached is None or cached[0] is not heading:
            cached = self._frame_shape = (
                heading,
                repr(
                    (
                        tuple(s.shape() for s in self._sources),
                        tuple(j.shape() for j in self._joins),
                        tuple(heading.names),
                        tuple((n, c.shape()) for n, c in self._columns.items()),  # all of them: see _shape
                        None if self._group is None else tuple(c.shape() for c in self._group),
                        self._distinct,
                        self._top.shape() if self._top else None,
                        tuple(heading.primary_key),
                    )
                ),
            )
        return cached

    def _shape(self):
        if self._union is not None:
            return ("union", self._union[0]._shape(), self._union[1]._shape())
        # a condition reads its attributes through the columns it was built on: when those are the
        # expression's own columns, the frame already holds their shapes (None stands for them)
        columns = self._columns
        where = []
        for condition, cols in self._where:
            where.append(
                (condition.shape(), None if cols is columns else tuple([cols[n].shape() for n in condition.names()]))
            )
        return self._frame()[1], tuple(where)

    def _params(self, out):
        if self._union is not None:
            self._union[0]._params(out)
            self._union[1]._params(out)
            return out
        for source in self._sources:
            if source.query is not None:
                source.query._params(out)
        for condition, _ in self._where:
            condition.params(out)
        return out


def query_name(expression):
    """The tables an expression reads, for error messages: `lab.student * lab.enroll`."""
    if expression._union is not None:
        return " + ".join(query_name(e) for e in expression._union)
    names = []
    for source in expression._sources:
        names.append(
            f"`{source.schema}.{source.table_name}`" if source.query is None else f"({query_name(source.query)})"
        )
    return " * ".join(names)


def check_lineage(left, right, shared):
    """Same name must mean the same thing: attributes are matched by name *and* lineage."""
    for name in shared:
        a = left.heading[name].lineage
        b = right.heading[name].lineage
        if a != b or a is None:
            raise DataJointError(
                f"Cannot match {query_name(left)} and {query_name(right)} on attribute `{name}`: it comes from "
                f"{_origin(a)} on the left and from {_origin(b)} on the right (different lineages), so the two "
                f"sides mean different things by `{name}`. Rename it on one side with .proj(), e.g. `.proj(other_{name}='{name}')`, "
                "or pass semantic_check=False to match by name only."
            )


def _origin(lineage):
    return f"`{lineage}`" if lineage else "a computed expression (no lineage)"


def settings_of(relation: Relation) -> Any:
    """The settings read for work on `relation`: its connection's (a dj.Instance's own), or
    dj.config's for an expression on no connection (a bare dj.U)."""
    connection = relation._connection
    return process_config if connection is None else connection.config
