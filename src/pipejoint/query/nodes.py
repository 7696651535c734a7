"""The parts a query expression is made of, as plain data: FROM items, attribute mappings,
orderings and restriction conditions.

Every node has a *shape*: its structure without values, the key under which its compiled SQL
is cached. A condition also has *params*: its values, in exactly the order the compiler asks
for their placeholders. Values are the user's, checked and normalized; compiler.py encodes them
for the driver of the connection a statement runs on. Only compiler.py turns nodes into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# --- attributes and FROM items -----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """An attribute read straight from a FROM item: alias index and column name."""

    source: int
    name: str

    def shape(self):
        shape = self.__dict__.get("_shape")
        if shape is None:
            shape = self.__dict__["_shape"] = ("c", self.source, self.name)  # built once: the hot path reads it
        return shape

    def shifted(self, offset):
        return Column(self.source + offset, self.name)


@dataclass(frozen=True)
class Computed:
    """An attribute computed by a SQL fragment; `inputs` maps the names it uses to their columns.

    `counts`: in an aggregation that keeps unmatched rows, the name of a group attribute that
    COUNT(*) counts instead, so a row without matches counts 0 (the compiler rewrites it)."""

    text: str
    fragment: object  # parsed sqlglot tree over attribute names
    inputs: tuple  # ((name, Column|Computed), ...)
    aggregate: bool = False
    counts: str | None = None

    def shape(self):
        return ("x", self.text, tuple((n, c.shape()) for n, c in self.inputs), self.counts)

    def shifted(self, offset):
        return replace(self, inputs=tuple((n, c.shifted(offset)) for n, c in self.inputs))


@dataclass(frozen=True)
class Source:
    """A FROM item: a base table (schema, table_name) or a subquery."""

    schema: str | None = None
    table_name: str | None = None
    query: object = None

    def shape(self):
        return ("t", self.schema, self.table_name) if self.query is None else ("q", self.query._shape())


@dataclass(frozen=True)
class Join:
    """How FROM item `source` joins: 'inner', 'left' or 'cross', on pairs of columns."""

    source: int
    kind: str
    pairs: tuple = ()  # ((left Column|Computed, right Column), ...)

    def shape(self):
        return (self.source, self.kind, tuple((a.shape(), b.shape()) for a, b in self.pairs))

    def shifted(self, offset):
        return Join(
            self.source + offset, self.kind, tuple((a.shifted(offset), b.shifted(offset)) for a, b in self.pairs)
        )


@dataclass(frozen=True)
class Ordering:
    """A dj.Top applied: (column, descending) items, the order as written, limit and offset."""

    items: tuple
    order_names: tuple
    limit: int | None
    offset: int

    def shape(self):
        return (tuple((c.shape(), desc) for c, desc in self.items), self.limit, self.offset)

    def shifted(self, offset):
        return replace(self, items=tuple((c.shifted(offset), desc) for c, desc in self.items))


# --- restriction conditions --------------------------------------------------------------


class Condition:
    """A restriction resolved against a heading. Its attribute names are read through the
    columns of the expression it was applied to."""

    __slots__ = ()

    def shape(self):
        raise NotImplementedError

    def params(self, out):
        """Append the values, in the order the compiler asks for their placeholders."""

    def names(self):
        """The attribute names this condition reads from the restricted expression."""
        return ()

    def tables(self):
        """The base tables its subqueries read, as (schema, table_name); None when a SQL fragment
        may read tables of its own."""
        return set()


class Always(Condition):
    """TRUE or FALSE."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = bool(value)

    def shape(self):
        return ("always", self.value)


class UnknownKeys(Always):
    """A dict restriction that names no attribute of the expression. It restricts nothing, as in
    DataJoint, but is remembered: delete refuses it, since a misspelled key would delete every row."""

    __slots__ = ("keys",)

    def __init__(self, keys):
        super().__init__(True)
        self.keys = tuple(keys)


class Equals(Condition):
    """attr = value for several attributes (a dict, a key, a record). None means IS NULL.

    `heading` is the one the condition was built on: the compiler reads each attribute's type
    there to encode its value for the driver."""

    __slots__ = ("_names", "_shape", "_values", "heading", "items")

    def __init__(self, items, heading):
        self.items = items  # [(name, checked value or None)], sorted by name
        self.heading = heading
        if len(items) == 1:  # one attribute, the most common restriction: no loops
            name, value = items[0]
            self._names = (name,)
            self._shape = ("eq", ((name, value is None),))
            self._values = [] if value is None else [value]
            return
        self._names = tuple([name for name, _ in items])
        self._shape = ("eq", tuple([(name, value is None) for name, value in items]))
        self._values = [value for _, value in items if value is not None]

    def shape(self):
        return self._shape

    def names(self):
        return self._names

    def params(self, out):
        out += self._values


class KeySet(Condition):
    """(a, b) IN ((v1, v2), ...) for many keys, e.g. a DataFrame or a list of dicts with the same keys.

    `rows` are distinct tuples of checked values, one per key; params lists them row by row. The
    compiler decides how they are sent (an IN list, or one array per attribute where a backend
    limits the number of parameters)."""

    __slots__ = ("heading", "key_names", "rows")

    def __init__(self, names, rows, heading):
        self.key_names = names
        self.rows = rows
        self.heading = heading

    def shape(self):
        return ("keyset", tuple(self.key_names), len(self.rows))

    def names(self):
        return self.key_names

    def params(self, out):
        for row in self.rows:
            out += row


class KeyAfter(Condition):
    """The rows after a key in primary-key order (iteration pages by it): (a, b) > (x, y).

    The values are the driver's own values of the last row read, so they compare exactly as
    the database ordered them, and are sent as they are.
    """

    __slots__ = ("key_names", "values")

    def __init__(self, names, values):
        self.key_names = list(names)
        self.values = list(values)

    def shape(self):
        return ("after", tuple(self.key_names))

    def names(self):
        return self.key_names

    def params(self, out):
        out += self.values


class SQLFragment(Condition):
    """A restriction string, parsed as the configured dialect (MySQL by default).

    `used`: the attribute names it reads; `reads_tables`: whether it holds a subquery of its own."""

    __slots__ = ("dialect", "fragment", "reads_tables", "text", "used")

    def __init__(self, text, fragment, dialect, used, reads_tables):
        self.text = text
        self.dialect = dialect
        self.fragment = fragment  # parsed, validated sqlglot expression over attribute names
        self.used = used
        self.reads_tables = reads_tables

    def names(self):
        return self.used

    def shape(self):
        return ("sql", self.dialect, self.text)

    def tables(self):
        return None if self.reads_tables else set()


class Negation(Condition):
    __slots__ = ("condition",)

    def __init__(self, condition):
        self.condition = condition

    def shape(self):
        return ("not", self.condition.shape())

    def names(self):
        return self.condition.names()

    def params(self, out):
        self.condition.params(out)

    def tables(self):
        return self.condition.tables()


class Combination(Condition):
    """AND or OR of conditions."""

    __slots__ = ("conditions", "operator")

    def __init__(self, operator, conditions):
        self.operator = operator
        self.conditions = conditions

    def shape(self):
        return (self.operator, tuple(c.shape() for c in self.conditions))

    def names(self):
        return sorted({n for c in self.conditions for n in c.names()})

    def params(self, out):
        for c in self.conditions:
            c.params(out)

    def tables(self):
        found = set()
        for c in self.conditions:
            tables = c.tables()
            if tables is None:
                return None
            found |= tables
        return found


class SemiJoin(Condition):
    """Restriction by another query expression on the attributes both have; `nullable` when one
    of them can be NULL (the compiler then tests for a match with EXISTS instead of IN)."""

    __slots__ = ("key_names", "nullable", "query")

    def __init__(self, names, query, nullable=False):
        self.key_names = names
        self.query = query
        self.nullable = nullable

    def shape(self):
        return ("in", tuple(self.key_names), self.nullable, self.query._shape())

    def names(self):
        return self.key_names

    def params(self, out):
        self.query._params(out)

    def tables(self):
        return query_tables(self.query)


class Exists(Condition):
    """Restriction by an expression that shares no attributes: all rows if it is non-empty."""

    __slots__ = ("query",)

    def __init__(self, query):
        self.query = query

    def shape(self):
        return ("exists", self.query._shape())

    def params(self, out):
        self.query._params(out)

    def tables(self):
        return query_tables(self.query)


def query_tables(query):
    """(schema, table_name) of every base table a query expression reads; None when unknown."""
    if query._union is not None:
        left, right = (query_tables(q) for q in query._union)
        return None if left is None or right is None else left | right
    found = set()
    for source in query._sources:
        tables = {(source.schema, source.table_name)} if source.query is None else query_tables(source.query)
        if tables is None:
            return None
        found |= tables
    for condition, _ in query._where:
        tables = condition.tables()
        if tables is None:
            return None
        found |= tables
    return found
