"""Restriction values are bound for the connection a query runs on, not when the restriction is built.

A condition holds the user's checked values; the compiler records how each is encoded for the
driver and, on PostgreSQL, sends a large key set as one array per attribute.
"""

from __future__ import annotations

import datetime
import uuid

import pytest

import pipejoint as dj
from pipejoint.backends import get_backend
from pipejoint.errors import InvalidValueError
from pipejoint.query.compiler import ARRAYS_ABOVE, Compiler, Context, finish

DAY = datetime.date(2024, 1, 1)


@pytest.fixture
def Visit(schema):
    @schema
    class Visit(dj.Manual):
        definition = """
        site : int32
        day : date
        ---
        token : uuid
        seen : bool
        code : char(4)
        big = null : uint64
        """

    return Visit


def _rows(count):
    return [
        {
            "site": i // 10,
            "day": DAY + datetime.timedelta(days=i % 10),
            "token": uuid.UUID(int=i),
            "seen": i % 2 == 0,
            "code": "ab",
        }
        for i in range(count)
    ]


def test_values_are_encoded_for_the_connection(Visit):
    Visit.insert(_rows(40))
    assert (Visit & {"token": uuid.UUID(int=7)}).fetch1("site", "day") == (0, DAY + datetime.timedelta(days=7))
    assert len(Visit & {"day": DAY}) == 4
    assert len(Visit & {"seen": True, "code": "ab"}) == 20
    assert len(Visit & [{"token": uuid.UUID(int=i)} for i in (1, 2, 3, 99)]) == 3
    assert len(Visit - [{"site": 1, "day": DAY}, {"site": 2, "day": DAY + datetime.timedelta(days=1)}]) == 38
    assert len(Visit & (Visit & {"day": DAY}).proj()) == 4  # a subquery's values are bound too


def test_large_key_sets(Visit, connection):
    """Above ARRAYS_ABOVE parameters PostgreSQL gets one array per attribute; others an IN list."""
    count = ARRAYS_ABOVE // 2 + 500
    rows = _rows(count + 100)
    Visit.insert(rows)
    keys = [{"site": r["site"], "day": r["day"]} for r in rows[:count]]
    restricted = Visit & keys
    assert ("UNNEST" in restricted.make_sql().upper()) == (connection.backend.key_array_condition is not None)
    assert len(restricted) == count
    assert len(Visit - keys) == 100
    tokens = [{"token": uuid.UUID(int=i)} for i in range(ARRAYS_ABOVE + 10)]  # some match no row
    assert len(Visit & tokens) == len(rows)
    (Visit & keys).delete()
    assert len(Visit) == 100


def test_bad_values_are_refused_when_the_restriction_is_built(Visit):
    with pytest.raises(
        InvalidValueError, match=r"Cannot restrict `[^`]+\.visit` by site='x'.*Give `site` a value of type int32"
    ):
        Visit & {"site": "x"}
    with pytest.raises(InvalidValueError, match=r"by day=.*Give `day` a value of type date"):
        Visit & [{"site": 1, "day": "not a date"}, {"site": 2, "day": DAY}]


def test_a_backend_limit_names_the_attribute(Visit, connection):
    Visit.insert(_rows(3))
    if connection.backend.name != "sqlite":
        assert len(Visit & {"big": 2**63}) == 0
        return
    with pytest.raises(InvalidValueError, match=r"by big=9223372036854775808: .*2\^63-1.*Give `big` a value"):
        len(Visit & {"big": 2**63})


def test_one_expression_compiles_for_every_backend(Visit):
    """Nothing in a condition belongs to the connection it was built on."""
    query = Visit & {"token": uuid.UUID(int=7)} & [{"site": 1, "day": DAY}, {"site": 2, "day": DAY}]
    for name in ("sqlite", "postgresql", "mysql"):
        backend = get_backend(name, {})
        ctx = Context()
        compiled = finish(backend, Compiler(backend, ctx).select(query), ctx)
        assert compiled.sql.count("?" if backend.paramstyle == "qmark" else "%s") == 5
        assert len(compiled.arguments(query)) == 5
