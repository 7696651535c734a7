"""Inserts, updates and deletes in one transaction commit or roll back together; update1 errors."""

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, DuplicateError, UnknownAttributeError


def _table(schema):
    @schema
    class T(dj.Manual):
        definition = """
        id : int32
        ---
        value : float64
        label = null : varchar(8)
        """

    return T


def test_transaction_commits_or_rolls_back_together(schema, connection):
    T = _table(schema)
    T.insert([(i, float(i), None) for i in range(3)])
    with pytest.raises(DuplicateError):
        with connection.transaction:
            T.insert1((10, 1.0, "x"))
            T.update1({"id": 0, "value": 99.0})
            (T & {"id": 1}).delete(prompt=False)
            T.insert1((2, 0.0, None))
    assert sorted(T.fetch("id").tolist()) == [0, 1, 2] and (T & {"id": 0}).fetch1("value") == 0.0
    with connection.transaction:
        T.insert1((10, 1.0, "x"))
        T.update1({"id": 0, "value": 99.0})
        (T & {"id": 1}).delete(prompt=False)
    assert sorted(T.fetch("id").tolist()) == [0, 2, 10] and (T & {"id": 0}).fetch1("value") == 99.0


def test_update1(schema):
    T = _table(schema)
    T.insert1((1, 1.0, "a"))
    T.update1({"id": 1, "label": None})
    assert T.fetch1("label") is None
    with pytest.raises(DataJointError, match="no row"):
        T.update1({"id": 2, "value": 1.0})
    with pytest.raises(UnknownAttributeError, match="color"):
        T.update1({"id": 1, "color": "red"})
    with pytest.raises(DataJointError, match="full primary key"):
        T.update1({"value": 3.0})
    with pytest.raises(DataJointError, match="label.*longer"):
        T.update1({"id": 1, "label": "x" * 20})
    with pytest.raises(DataJointError, match="secondary"):
        T.update1({"id": 1})
    assert T.fetch1() == {"id": 1, "value": 1.0, "label": None}
