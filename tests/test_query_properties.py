"""Random compositions of query operators over small random tables, checked against a Python oracle.

Hypothesis draws the rows of three small tables (one a child of another, one unrelated) and a
random expression tree of restrictions (strings, dicts, semijoins, antijoins), projections
(keep, rename, compute), joins, aggregations, unions, dj.Top and dj.U. Each node is evaluated by
the database and, independently, in plain Python with SQL's three-valued logic; the rows must be
equal. Combinations that semantic matching forbids must raise the DataJointError instead.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import pipejoint as dj
from helpers import drop_schema, unique_name
from pipejoint.errors import DataJointError

VALUES = st.one_of(st.none(), st.integers(-2, 2))
WORDS = ["ab", "b'c", "a%", "zz", "é"]


@pytest.fixture(scope="module")
def tables(backend_connection):
    connection, _ = backend_connection
    schema = dj.Schema(unique_name("prop"), connection=connection)

    @schema
    class A(dj.Manual):
        definition = """
        a : int32
        ---
        x = null : int32
        s : varchar(8)
        """

    @schema
    class B(dj.Manual):
        definition = """
        -> A
        b : int32
        ---
        y = null : int32
        """

    @schema
    class C(dj.Manual):
        definition = """
        c : int32
        ---
        x = null : int32
        """

    try:
        yield A(), B(), C()
    finally:
        drop_schema(connection, schema.database)


@dataclass
class Rel:
    """A query expression and the same relation computed in Python."""

    expr: object
    rows: list
    names: list
    key: list
    lineage: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)  # name -> "int" | "str"

    def __post_init__(self):
        self.lineage = {n: self.lineage[n] for n in self.names}
        self.types = {n: self.types[n] for n in self.names}


# --- three-valued logic for the oracle -----------------------------------------------------------


def compare(value, op, k):
    if value is None:
        return None
    return {">": value > k, "<": value < k, "=": value == k}[op]


def tri_or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def tri_not(a):
    return None if a is None else not a


def matches(row, others, names):
    """Whether some row of `others` equals `row` on `names` (NULL matches nothing)."""
    if any(row[n] is None for n in names):
        return False
    return any(all(o[n] == row[n] for n in names) for o in others)


# --- building random expressions ---------------------------------------------------------------


class Builder:
    def __init__(self, data, tables, base):
        self.data = data
        self.tables = tables
        self.base = base
        self.counter = itertools.count()

    def draw(self, strategy):
        return self.data.draw(strategy)

    def fresh(self, prefix):
        return f"{prefix}{next(self.counter)}"

    def leaf(self):
        A, B, C = self.tables
        choice = self.draw(st.sampled_from("ABC"))
        if choice == "A":
            return Rel(
                A,
                self.base["A"],
                ["a", "x", "s"],
                ["a"],
                {"a": "A.a", "x": "A.x", "s": "A.s"},
                {"a": "int", "x": "int", "s": "str"},
            )
        if choice == "B":
            return Rel(
                B,
                self.base["B"],
                ["a", "b", "y"],
                ["a", "b"],
                {"a": "A.a", "b": "B.b", "y": "B.y"},
                {"a": "int", "b": "int", "y": "int"},
            )
        return Rel(C, self.base["C"], ["c", "x"], ["c"], {"c": "C.c", "x": "C.x"}, {"c": "int", "x": "int"})

    def build(self, depth):
        if depth == 0 or self.draw(st.integers(0, 4)) == 0:
            return self.leaf()
        op = self.draw(
            st.sampled_from(
                [
                    "restrict",
                    "restrict",
                    "dict",
                    "semijoin",
                    "semijoin",
                    "proj",
                    "join",
                    "aggr",
                    "aggr",
                    "union",
                    "top",
                    "universal",
                ]
            )
        )
        event(op)
        rel = self.build(depth - 1)
        return getattr(self, op)(rel, depth)

    # each operator returns a Rel, or raises Expected when the operands may not be combined
    def restrict(self, rel, depth):
        ints = [n for n in rel.names if rel.types[n] == "int"]
        negate = self.draw(st.booleans())
        if not ints:
            text, test = "1 = 1", lambda r: True
        else:
            n, m = self.draw(st.sampled_from(ints)), self.draw(st.sampled_from(ints))
            op, k, k2 = self.draw(st.sampled_from("<>=")), self.draw(st.integers(-2, 2)), self.draw(st.integers(-2, 2))
            form = self.draw(st.integers(0, 2))
            if form == 0:
                text, test = f"{n} {op} {k}", lambda r: compare(r[n], op, k)
            elif form == 1:
                text, test = f"{n} IS NULL", lambda r: r[n] is None
            else:
                text = f"{n} {op} {k} OR {m} = {k2}"
                test = lambda r: tri_or(compare(r[n], op, k), compare(r[m], "=", k2))  # noqa: E731
        if negate:
            return Rel(
                rel.expr - text,
                [r for r in rel.rows if tri_not(test(r)) is True],
                rel.names,
                rel.key,
                rel.lineage,
                rel.types,
            )
        return Rel(
            rel.expr & text, [r for r in rel.rows if test(r) is True], rel.names, rel.key, rel.lineage, rel.types
        )

    def dict(self, rel, depth):
        n = self.draw(st.sampled_from(rel.names))
        value = self.draw(VALUES) if rel.types[n] == "int" else self.draw(st.sampled_from(WORDS))
        condition = {n: value, "not_an_attribute": 1}
        if value is None:
            keep = [r for r in rel.rows if r[n] is None]
        else:
            keep = [r for r in rel.rows if r[n] == value]
        if self.draw(st.booleans()):
            gone = {id(r) for r in keep}
            if value is not None:  # NOT (x = v) is unknown, not true, where x is NULL
                gone |= {id(r) for r in rel.rows if r[n] is None}
            return Rel(
                rel.expr - condition,
                [r for r in rel.rows if id(r) not in gone],
                rel.names,
                rel.key,
                rel.lineage,
                rel.types,
            )
        return Rel(rel.expr & condition, keep, rel.names, rel.key, rel.lineage, rel.types)

    def semijoin(self, rel, depth):
        if self.draw(st.booleans()):
            other = self.build(depth - 1)
        else:  # a relation derived from the same one: matching on secondary attributes that may be NULL
            other = self.universal(self.restrict(rel, depth), depth)
        shared = [n for n in rel.names if n in other.names]
        self.check_lineage(rel, other, shared, lambda: rel.expr & other.expr)
        anti = self.draw(st.booleans())
        if shared:
            found = [matches(r, other.rows, shared) for r in rel.rows]
        else:
            found = [bool(other.rows)] * len(rel.rows)
        rows = [r for r, f in zip(rel.rows, found) if f != anti]
        if anti and any(o[n] is None for o in other.rows for n in shared):
            event("antijoin with NULL on the other side")
        expr = rel.expr - other.expr if anti else rel.expr & other.expr
        return Rel(expr, rows, rel.names, rel.key, rel.lineage, rel.types)

    def proj(self, rel, depth):
        secondary = [n for n in rel.names if n not in rel.key]
        keep = [n for n in secondary if self.draw(st.booleans())]
        named = {}
        lineage = {n: rel.lineage[n] for n in rel.key + keep}
        types = {n: rel.types[n] for n in rel.key + keep}
        renames = {}
        if self.draw(st.booleans()):
            old = self.draw(st.sampled_from(rel.names))
            new = self.fresh("r")
            named[new] = old
            renames[old] = new
            lineage[new], types[new] = rel.lineage[old], rel.types[old]
            keep = [n for n in keep if n != old]
            lineage.pop(old, None), types.pop(old, None)
        computed = None
        ints = [n for n in rel.names if rel.types[n] == "int"]
        if ints and self.draw(st.booleans()):
            source = self.draw(st.sampled_from(ints))
            computed = (self.fresh("e"), source)
            named[computed[0]] = f"{source} * 2 + 1"
            lineage[computed[0]], types[computed[0]] = None, "int"
        key = [renames.get(k, k) for k in rel.key]
        names = key + keep + [n for n in named if n not in key]
        rows = []
        for r in rel.rows:
            row = {renames.get(k, k): r[k] for k in rel.key}
            row.update({n: r[n] for n in keep})
            for old, new in renames.items():
                row[new] = r[old]
            if computed:
                row[computed[0]] = None if r[computed[1]] is None else r[computed[1]] * 2 + 1
            rows.append(row)
        return Rel(rel.expr.proj(*keep, **named), rows, names, key, lineage, types)

    def join(self, rel, depth):
        other = self.build(depth - 1)
        shared = [n for n in rel.names if n in other.names]
        self.check_lineage(rel, other, shared, lambda: rel.expr * other.expr)
        rows = [
            {**a, **b} for a in rel.rows for b in other.rows if all(a[n] is not None and a[n] == b[n] for n in shared)
        ]
        names = rel.names + [n for n in other.names if n not in rel.names]
        if set(other.key) <= set(rel.names):
            key = rel.key
        elif set(rel.key) <= set(other.names):
            key = other.key
        else:
            key = rel.key + [k for k in other.key if k not in rel.key]
        return Rel(
            rel.expr * other.expr, rows, names, key, {**other.lineage, **rel.lineage}, {**other.types, **rel.types}
        )

    def aggr(self, rel, depth):
        other = self.build(depth - 1)
        if not set(rel.key) <= set(other.names):
            with pytest.raises(DataJointError, match="primary-key attribute"):
                rel.expr.aggr(other.expr, n="COUNT(*)")
            raise Expected()
        shared = [n for n in rel.names if n in other.names]
        self.check_lineage(rel, other, shared, lambda: rel.expr.aggr(other.expr, n="COUNT(*)"))
        ints = [n for n in other.names if other.types[n] == "int"]
        target = self.draw(st.sampled_from(ints)) if ints else None
        exclude = self.draw(st.booleans())
        n_name, m_name = self.fresh("n"), self.fresh("m")
        named = {n_name: "COUNT(*)"}
        if target:
            named[m_name] = f"MAX({target})"
        rows = []
        for r in rel.rows:
            group = [o for o in other.rows if all(r[n] is not None and o[n] == r[n] for n in shared)]
            if exclude and not group:
                continue
            row = {k: r[k] for k in rel.key}
            row[n_name] = len(group)
            if target:
                values = [o[target] for o in group if o[target] is not None]
                row[m_name] = max(values) if values else None
            rows.append(row)
        names = list(rel.key) + list(named)
        lineage = {**{k: rel.lineage[k] for k in rel.key}, **dict.fromkeys(named)}
        types = {**{k: rel.types[k] for k in rel.key}, **dict.fromkeys(named, "int")}
        return Rel(
            rel.expr.aggr(other.expr, exclude_nonmatching=exclude, **named), rows, names, rel.key, lineage, types
        )

    def union(self, rel, depth):
        first, second = self.restrict(rel, depth), self.restrict(rel, depth)
        secondary = [n for n in rel.names if n not in rel.key]
        if len(secondary) >= 2 and self.draw(st.booleans()):  # outer union of disjoint secondary attributes
            left_attr, right_attr = secondary[:2]
        else:
            left_attr = right_attr = None
        left = first.expr.proj(*([left_attr] if left_attr else []))
        right = second.expr.proj(*([right_attr] if right_attr else []))
        by_key = {}
        for r in first.rows:
            row = {k: r[k] for k in rel.key}
            if left_attr:
                row[left_attr], row[right_attr] = r[left_attr], None
            by_key[tuple(r[k] for k in rel.key)] = row
        for r in second.rows:
            key = tuple(r[k] for k in rel.key)
            if key in by_key:
                if right_attr:
                    by_key[key][right_attr] = r[right_attr]
            else:
                row = {k: r[k] for k in rel.key}
                if left_attr:
                    row[left_attr], row[right_attr] = None, r[right_attr]
                by_key[key] = row
        names = rel.key + ([left_attr, right_attr] if left_attr else [])
        return Rel(left + right, list(by_key.values()), names, rel.key, rel.lineage, rel.types)

    def top(self, rel, depth):
        limit, offset = self.draw(st.integers(0, 4)), self.draw(st.integers(0, 2))
        ordered = sorted(rel.rows, key=lambda r: _sort_key([r[k] for k in rel.key]))  # NULLs first
        return Rel(
            rel.expr & dj.Top(limit, "KEY", offset=offset),
            ordered[offset : offset + limit],
            rel.names,
            rel.key,
            rel.lineage,
            rel.types,
        )

    def universal(self, rel, depth):
        names = self.draw(st.lists(st.sampled_from(rel.names), min_size=1, max_size=2, unique=True))
        distinct = {tuple(r[n] for n in names) for r in rel.rows}
        return Rel(
            dj.U(*names) & rel.expr,
            [dict(zip(names, v)) for v in distinct],
            names,
            names,
            {n: rel.lineage[n] for n in names},
            {n: rel.types[n] for n in names},
        )

    @staticmethod
    def check_lineage(rel, other, shared, build):
        if any(rel.lineage[n] is None or rel.lineage[n] != other.lineage[n] for n in shared):
            with pytest.raises(DataJointError, match="different lineages"):
                build()
            raise Expected()


class Expected(Exception):
    """The drawn combination is one that must be (and was) refused."""


def _sort_key(row):
    return tuple((v is not None, v) for v in row)


def fill(tables, data):
    """Replace the rows of the three tables with freshly drawn ones."""
    A, B, C = tables
    a_keys = data.draw(st.lists(st.integers(0, 5), min_size=2, max_size=6, unique=True))
    a_rows = [dict(a=k, x=data.draw(VALUES), s=data.draw(st.sampled_from(WORDS))) for k in a_keys]
    b_rows = [
        dict(a=k, b=b, y=data.draw(VALUES))
        for k in a_keys
        for b in data.draw(st.lists(st.integers(0, 2), max_size=3, unique=True))
    ]
    c_rows = [
        dict(c=k, x=data.draw(VALUES))
        for k in data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=4, unique=True))
    ]
    B.delete_quick(), A.delete_quick(), C.delete_quick()
    A.insert(a_rows), B.insert(b_rows), C.insert(c_rows)
    return {"A": a_rows, "B": b_rows, "C": c_rows}


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_random_compositions_match_the_oracle(tables, data):
    base = fill(tables, data)
    builder = Builder(data, tables, base)
    try:
        rel = builder.build(depth=3)
    except Expected:
        event("refused by semantic matching or aggregation rules")
        return
    event(f"compared {min(len(rel.rows), 3)}+ rows" if len(rel.rows) >= 3 else f"compared {len(rel.rows)} rows")
    expr = rel.expr
    assert sorted(expr.heading.names) == sorted(rel.names)
    assert sorted(expr.primary_key) == sorted(rel.key)
    got = sorted((tuple(r[n] for n in rel.names) for r in expr.to_dicts()), key=_sort_key)
    expected = sorted((tuple(r[n] for n in rel.names) for r in rel.rows), key=_sort_key)
    assert got == expected, expr.make_sql()
    assert len(expr) == len(expected)
    assert bool(expr) == bool(expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_semijoins_on_attributes_that_may_be_null(tables, data):
    """`A - other` keeps the rows of A with no match in other, whatever NULLs either side holds."""
    base = fill(tables, data)
    A = tables[0]
    names = data.draw(st.sampled_from([["x"], ["x", "s"]]))
    k = data.draw(st.integers(-2, 2))
    other = dj.U(*names) & (A & f"a <= {k + 2}")
    others = [r for r in base["A"] if r["a"] <= k + 2]
    found = {r["a"]: matches(r, others, names) for r in base["A"]}
    assert sorted((A & other).fetch("a")) == sorted(a for a, f in found.items() if f)
    assert sorted((A - other).fetch("a")) == sorted(a for a, f in found.items() if not f)
    assert sorted((A - [other, {"a": 0}]).fetch("a")) == sorted(a for a, f in found.items() if not f and a != 0)
