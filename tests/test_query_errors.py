"""Bad queries get clear DataJointErrors when the expression is built; values are only ever values.

Restriction values from dicts, keys, record arrays and data frames are bound parameters on every
backend, so quotes, backslashes, SQL comments, percent signs and unicode are just data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, QuerySyntaxError, UnknownAttributeError

NASTY = [
    "x'); DROP TABLE student; --",
    "it's",
    'say "hi"',
    "back\\slash",
    "trailing\\",
    "50% off_",
    "%s and %(name)s and ?",
    "/* comment */ -- more",
    "日本語 ✓ café",
    "tab\there\nnewline",
    "",
]


@pytest.fixture
def tables(schema):
    @schema
    class Student(dj.Manual):
        definition = """
        student_id : int32
        ---
        name : varchar(60)
        score = null : float64
        """

    @schema
    class Club(dj.Manual):
        definition = """
        club : varchar(20)
        ---
        name : varchar(60)
        """

    @schema
    class Member(dj.Manual):
        definition = """
        -> Student
        -> Club
        """

    Student.insert([(i, name, float(i)) for i, name in enumerate(NASTY)])
    Club.insert([("chess", "Chess"), ("drama", "Drama")])
    Member.insert([(0, "chess"), (1, "chess"), (2, "drama")])
    return Student, Club, Member


# --- values are values ---------------------------------------------------------------------


def test_nasty_values_through_every_restriction_form(tables):
    Student, _, _ = tables
    for i, value in enumerate(NASTY):
        assert (Student & {"name": value}).fetch1("student_id") == i
        assert len(Student - {"name": value}) == len(NASTY) - 1
        assert (Student & dj.AndList([{"name": value}, {"student_id": i}])).fetch1("name") == value
        assert len(Student & dj.Not({"name": value})) == len(NASTY) - 1
    both = [{"name": NASTY[0]}, {"name": NASTY[3]}]
    assert sorted((Student & both).fetch("student_id")) == [0, 3]
    records = np.array([(v,) for v in NASTY[:4]], dtype=[("name", object)])
    assert sorted((Student & records).fetch("student_id")) == [0, 1, 2, 3]
    assert sorted((Student & records[1]).fetch("student_id")) == [1]
    frame = pd.DataFrame({"name": NASTY[4:8]})
    assert sorted((Student & frame).fetch("student_id")) == [4, 5, 6, 7]
    assert len(Student) == len(NASTY)  # still there, nothing dropped
    assert Student.to_dicts(order_by="student_id")[8]["name"] == NASTY[8]


def test_nasty_values_next_to_percent_in_strings(tables):
    Student, _, _ = tables
    # a literal % in a restriction string while values are bound as parameters
    q = Student & "name LIKE '50%'" & {"score": 5.0}
    assert q.fetch1("name") == "50% off_"
    assert sorted((Student & "name LIKE '%\\%%'").fetch("student_id")) == [5, 6]  # escaped % in LIKE
    assert sorted((Student & "name LIKE '%\\_'").fetch("student_id")) == [5]  # escaped _ in LIKE
    assert (Student & "name = 'it''s'").fetch1("student_id") == 1
    assert (Student & "name = 'back\\\\slash'").fetch1("student_id") == 3  # MySQL escapes, as users write them
    assert (Student & "name = '日本語 ✓ café'").fetch1("student_id") == 8
    assert len(Student & "name LIKE '%DROP TABLE%'") == 1


def test_semijoin_with_nasty_values(tables):
    Student, Club, Member = tables
    quoted = Student & {"name": "x'); DROP TABLE student; --"}
    assert (Member & quoted).fetch1("club") == "chess"
    assert len(Club & (Member & quoted)) == 1
    assert len(Student & (Member & {"club": "chess'; --"})) == 0


# --- errors when the expression is built ------------------------------------------------------


def test_semantic_mismatch_names_attribute_origins_and_fix(tables):
    Student, Club, Member = tables
    for build in (lambda: Student * Club, lambda: Student & Club, lambda: Club.aggr(Member * Student, n="COUNT(*)")):
        with pytest.raises(DataJointError) as info:
            build()
        message = str(info.value)
        assert "`name`" in message
        assert "student.name" in message and "club.name" in message
        assert ".proj(" in message
    assert len(Student.join(Club, semantic_check=False)) == 0  # opted out: matched by name only
    assert len(Student.restrict(Club, semantic_check=False)) == 0
    assert len(Student * Club.proj(club_name="name")) == len(NASTY) * 2
    # 0.14's operators for the same opt-out, A @ B and A ^ B, are removed in DataJoint 2.x: the error names the way
    for build in (lambda: Student @ Club, lambda: Student() @ Club(), lambda: Student ^ Club, lambda: Student() ^ Club):
        with pytest.raises(DataJointError, match=r"removed.*semantic_check=False"):
            build()


def test_computed_attribute_never_matches_by_accident(tables):
    Student, _, Member = tables
    with pytest.raises(DataJointError, match="computed"):
        Student.proj(club="CONCAT(name, '')") * Member


def test_union_errors(tables):
    Student, Club, _ = tables
    with pytest.raises(DataJointError, match="same primary key"):
        Student + Club
    with pytest.raises(DataJointError, match="must not share secondary attributes.*name"):
        (Student & "student_id < 2") + (Student & "student_id > 5")
    with pytest.raises(DataJointError, match="union"):
        Student + 5


def test_unknown_attributes(tables):
    Student, _, _ = tables
    with pytest.raises(UnknownAttributeError, match="`nmae`.*Available attributes: student_id, name, score"):
        Student & "nmae = 'x'"
    with pytest.raises(UnknownAttributeError, match="student"):
        Student & "nmae = 'x'"
    with pytest.raises(UnknownAttributeError, match="`nmae`"):
        Student.proj("nmae")
    with pytest.raises(UnknownAttributeError, match="`nmae`"):
        Student.proj(upper="UPPER(nmae)")
    with pytest.raises(UnknownAttributeError, match="`nmae`"):
        Student.proj("-nmae")
    with pytest.raises(UnknownAttributeError, match="`nmae`"):
        Student.proj(renamed="nmae + 1")
    with pytest.raises(UnknownAttributeError, match="`nmae`"):
        Student & dj.Top(2, "nmae")
    with pytest.raises(UnknownAttributeError, match="`total`"):
        dj.U().aggr(Student, n="SUM(total)")


def test_malformed_sql_is_a_clear_error(tables, connection):
    Student, _, _ = tables
    for text in (
        "score >",
        "score = = 1",
        "name = 'unterminated",
        "score > 1; DROP TABLE student",
        "",
        "   ",
        "(score > 1",
        "key = 3",
    ):
        with pytest.raises(QuerySyntaxError, match="Cannot (parse|use)"):
            Student & text
    with pytest.raises(QuerySyntaxError, match="Cannot parse"):
        Student.proj(bad="score +* 2")
    # parses, but the database has no such function: still a DataJointError, not a driver traceback
    with pytest.raises(DataJointError):
        (Student & "NO_SUCH_FUNCTION(score) > 1").to_dicts()
    assert len(Student) == len(NASTY)
    assert not connection.in_transaction


def test_aggregation_errors(tables):
    Student, Club, Member = tables
    with pytest.raises(DataJointError, match="grouping relation"):
        Student.aggr(n="COUNT(*)")
    with pytest.raises(DataJointError, match="grouping relation"):
        Student.aggr("Member", n="COUNT(*)")
    with pytest.raises(DataJointError, match="primary-key attribute.*student_id"):
        Student.aggr(Club, n="COUNT(*)")
    with pytest.raises(DataJointError, match="aggr"):
        Student.proj(n="COUNT(*)")
    with pytest.raises(DataJointError, match="aggr"):
        Student & "COUNT(*) > 1"
    with pytest.raises(DataJointError, match="already exists"):
        Student.aggr(Member, name="COUNT(*)", *["name"])


def test_universal_set_errors(tables):
    Student, _, _ = tables
    with pytest.raises(DataJointError, match="infinite"):
        dj.U("name") - Student
    with pytest.raises(DataJointError, match="dj.U is no longer supported"):
        dj.U("name") * Student
    with pytest.raises(DataJointError, match="dj.U is no longer supported"):
        Student * dj.U("name")
    with pytest.raises(DataJointError, match="query expression"):
        dj.U("name") & {"name": "x"}
    with pytest.raises(UnknownAttributeError, match="nmae"):
        dj.U("nmae") & Student
    with pytest.raises(DataJointError, match="nmae"):
        dj.U("nmae").aggr(Student, n="COUNT(*)")


def test_other_building_errors(tables):
    Student, Club, Member = tables
    with pytest.raises(DataJointError, match="Invalid restriction None"):
        Student & None
    with pytest.raises(DataJointError, match="primary key"):
        Student.proj("-student_id")
    with pytest.raises(DataJointError, match="already exists"):
        Student.proj("name", name="score")
    with pytest.raises(DataJointError, match="left operand to determine"):
        Club.join(Member, left=True)
    with pytest.raises(DataJointError, match="Top"):
        Student - dj.Top(2)
    with pytest.raises(DataJointError, match="Top"):
        Student & [dj.Top(2)]
    with pytest.raises(TypeError, match="limit"):
        dj.Top("2")
    with pytest.raises(TypeError, match="order_by"):
        dj.Top(2, order_by=[3])
    with pytest.raises(TypeError, match="offset"):
        dj.Top(2, offset=1.5)
    with pytest.raises(DataJointError, match="Cannot order by"):
        Student & dj.Top(2, "score SIDEWAYS")
    with pytest.raises(DataJointError, match="Invalid restriction"):
        Student & 3.5
    assert len(Student) == len(NASTY)


def test_huge_key_sets_beyond_the_parameter_limit(tables):
    Student, _, _ = tables
    # past 65,535 values drivers refuse parameters; such sets are sent as quoted literals instead
    names = [{"name": f"nobody {i}'; --"} for i in range(70_000)] + [{"name": v} for v in NASTY[:4]]
    assert sorted((Student & names).fetch("student_id")) == [0, 1, 2, 3]
    assert len(Student - names) == len(NASTY) - 4
    keys = [{"student_id": i, "name": NASTY[i % len(NASTY)]} for i in range(40_000)]
    assert len(Student & keys) == len(NASTY)
    assert len(Student) == len(NASTY)
